package ingest

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// isoRecord builds an ISO 2709 record by hand with leader/09 'a'.
func isoRecord(id, title string) []byte {
	fields := [][2]string{{"001", id}, {"245", "10\x1fa" + title}}
	var dir, data []byte
	for _, f := range fields {
		dir = append(dir, fmt.Sprintf("%s%04d%05d", f[0], len(f[1])+1, len(data))...)
		data = append(append(data, f[1]...), 0x1e)
	}
	base := 24 + len(dir) + 1
	n := base + len(data) + 1
	out := fmt.Appendf(nil, "%05dnam a22%05d a 4500", n, base)
	out = append(append(append(out, dir...), 0x1e), data...)
	return append(out, 0x1d)
}

func double(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		r := charmap.Windows1252.DecodeByte(c)
		if r == '\uFFFD' {
			r = rune(c)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func title(t *testing.T, st *store.Store, id string) (string, *store.SourceRecord) {
	t.Helper()
	var sr *store.SourceRecord
	if err := st.View(func(tx *store.Tx) (err error) { sr, err = tx.Record("xa", id); return }); err != nil {
		t.Fatal(err)
	}
	rec, err := sr.Record()
	if err != nil {
		t.Fatal(err)
	}
	return rec.First("245").Sub('a'), sr
}

// TestRederive: records imported with a wrong charset setting (leader/09
// alone) are repaired from what was received once the setting is gone,
// without importing again; a clean record is left alone.
func TestRederive(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "unicat.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutSource(store.SourceInfo{ID: "xa", Name: "Phòng đọc xã", LibraryCode: "XA", Level: "commune", Kind: "file"}); err != nil {
		t.Fatal(err)
	}
	var file []byte
	file = append(file, isoRecord("1", "Truy\xd6n Ki\xd2u")...) // TCVN3
	file = append(file, isoRecord("2", double("Số đỏ"))...)     // double-encoded: valid UTF-8 NFC
	file = append(file, isoRecord("3", "Tắt đèn")...)           // clean
	sum, err := ImportReader(context.Background(), st, bytes.NewReader(file), "xa.mrc", Options{Source: "xa", Charset: marc.CharsetLabel})
	if err != nil || sum.Added != 3 {
		t.Fatalf("import: %+v %v", sum, err)
	}
	if got, sr := title(t, st, "1"); got != "Truy\uFFFDn Ki\uFFFDu" || sr.Encoding != "utf-8-invalid" || sr.Received == nil {
		t.Fatalf("record 1 imported as %q (%s)", got, sr.Encoding)
	}
	if got, sr := title(t, st, "2"); got != double("Số đỏ") || sr.Received != nil {
		t.Fatalf("record 2 imported as %q", got)
	}

	var changed []string
	rs, err := Rederive(context.Background(), st, RederiveOptions{Source: "xa", BatchSize: 1,
		Changed: func(id, was, now string) { changed = append(changed, id+":"+was+">"+now) }})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Read != 3 || rs.Updated != 2 || rs.Failed != 0 || len(changed) != 2 ||
		changed[0] != "1:utf-8-invalid>tcvn3" || changed[1] != "2:utf-8>utf-8-double" {
		t.Errorf("re-derived: %+v, changed %v", rs, changed)
	}
	for id, want := range map[string]string{"1": "Truyện Kiều", "2": "Số đỏ", "3": "Tắt đèn"} {
		if got, _ := title(t, st, id); got != want {
			t.Errorf("record %s: %q, want %q", id, got, want)
		}
	}
	// What was received is still what the file held.
	if _, sr := title(t, st, "1"); !bytes.Equal(sr.Received, isoRecord("1", "Truy\xd6n Ki\xd2u")) {
		t.Errorf("record 1 received bytes changed: %q", sr.Received)
	}
	// Again: nothing left to change.
	rs, err = Rederive(context.Background(), st, RederiveOptions{Source: "xa"})
	if err != nil || rs.Updated != 0 {
		t.Errorf("second pass: %+v %v", rs, err)
	}
	// A setting decides again: the TCVN3 record read as VNI is mojibake,
	// but undone by the next pass without it.
	if rs, err = Rederive(context.Background(), st, RederiveOptions{Source: "xa", Charset: marc.CharsetVNI}); err != nil || rs.Updated == 0 {
		t.Errorf("with vni: %+v %v", rs, err)
	}
	if rs, err = Rederive(context.Background(), st, RederiveOptions{Source: "xa"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := title(t, st, "1"); got != "Truyện Kiều" {
		t.Errorf("after undoing: %q", got)
	}
}

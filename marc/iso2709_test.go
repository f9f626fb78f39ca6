package marc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/internal/testpeer"
)

func rwTestdata(elem ...string) string {
	return filepath.Join(append([]string{"..", "testdata"}, elem...)...)
}

// rwISOFiles lists the real ISO 2709 files in testdata/marc.
func rwISOFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"zebra/*.mrc", "yaz/*.marc", "openlibrary/*.mrc"} {
		m, err := filepath.Glob(rwTestdata("marc", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 70 {
		t.Fatalf("only %d ISO 2709 test files found", len(files))
	}
	return files
}

// rwReadAll reads r to the end, collecting records, their warnings and the
// record errors; any other error fails the test.
func rwReadAll(t testing.TB, r WarningReader) (recs []*Record, warns [][]Warning, errs []*RecordError) {
	t.Helper()
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("reader does not stop")
		}
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		var re *RecordError
		if errors.As(err, &re) {
			errs = append(errs, re)
			continue
		}
		if err != nil {
			t.Fatalf("fatal error: %v", err)
		}
		recs = append(recs, rec)
		warns = append(warns, r.Warnings())
	}
}

func rwReadFile(t testing.TB, path string, f Format) ([]*Record, [][]Warning, []*RecordError) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// No size limit: the files are compared with yaz, which has none
	// (TestXMLBroken checks the limit on the one record that passes it).
	return rwReadAll(t, NewReader(bytes.NewReader(data), f, ReaderOptions{Source: path, MaxRecordBytes: -1}))
}

// rwYazCount returns the number of records yaz-marcdump -p finds.
func rwYazCount(t testing.TB, path string) int {
	t.Helper()
	testpeer.Need(t, "yaz-marcdump")
	out, err := exec.Command("yaz-marcdump", "-p", path).Output()
	if err != nil {
		t.Fatalf("yaz-marcdump -p %s: %v", path, err)
	}
	return bytes.Count(out, []byte("<!-- Record "))
}

// rwYazJSON runs yaz-marcdump with args (which must include -o json) and
// parses its MARC-in-JSON output with encoding/json, independently of our
// readers. JSON rather than MARCXML because yaz's MARCXML is not always
// well-formed for damaged records. Values are put in NFC: yaz leaves MARC-8
// diacritics decomposed.
func rwYazJSON(t testing.TB, args ...string) []*Record {
	t.Helper()
	testpeer.Need(t, "yaz-marcdump")
	out, err := exec.Command("yaz-marcdump", args...).Output()
	if err != nil {
		t.Fatalf("yaz-marcdump %v: %v", args, err)
	}
	d := json.NewDecoder(bytes.NewReader(out))
	var recs []*Record
	for {
		var jr struct {
			Leader string
			Fields []map[string]json.RawMessage
		}
		if err := d.Decode(&jr); err == io.EOF {
			return recs
		} else if err != nil {
			t.Fatalf("yaz-marcdump %v: record %d: %v", args, len(recs)+1, err)
		}
		rec := &Record{Leader: jr.Leader}
		for _, m := range jr.Fields {
			for tag, raw := range m {
				f := Field{Tag: tag}
				var df struct {
					Subfields []map[string]string
					Ind1      string
					Ind2      string
				}
				if err := json.Unmarshal(raw, &f.Value); err == nil {
					f.Value = norm.NFC.String(f.Value)
				} else if err := json.Unmarshal(raw, &df); err == nil {
					f.Ind1, f.Ind2 = (df.Ind1 + " ")[0], (df.Ind2 + " ")[0]
					for _, sm := range df.Subfields {
						for code, v := range sm {
							f.Subfields = append(f.Subfields, Subfield{Code: (code + "?")[0], Value: norm.NFC.String(v)})
						}
					}
				} else {
					t.Fatalf("yaz-marcdump %v: field %s: %v", args, tag, err)
				}
				rec.Fields = append(rec.Fields, f)
			}
		}
		recs = append(recs, rec)
	}
}

// rwDiff describes the first difference between two records, or "".
// Leader positions that yaz rewrites (lengths, 09-11, 20-23) are skipped.
func rwDiff(got, want *Record, values bool) string {
	if len(got.Leader) != LeaderLen {
		return fmt.Sprintf("leader %q is not %d bytes", got.Leader, LeaderLen)
	}
	if got.Leader[9] != 'a' {
		return fmt.Sprintf("leader/09 is %q, want 'a'", got.Leader[9])
	}
	if len(want.Leader) == LeaderLen && got.Leader[5:9] != want.Leader[5:9] {
		return fmt.Sprintf("leader %q, want %q", got.Leader, want.Leader)
	}
	if len(got.Fields) != len(want.Fields) {
		return fmt.Sprintf("%d fields, want %d:\n got %s\nwant %s", len(got.Fields), len(want.Fields), rwTags(got), rwTags(want))
	}
	for i := range got.Fields {
		g, w := &got.Fields[i], &want.Fields[i]
		if g.Tag != w.Tag {
			return fmt.Sprintf("field %d: tag %q, want %q", i+1, g.Tag, w.Tag)
		}
		if len(g.Subfields) == 0 && len(w.Subfields) == 0 {
			if values && g.Value != w.Value {
				return fmt.Sprintf("field %d (%s): value %q, want %q", i+1, g.Tag, g.Value, w.Value)
			}
			continue
		}
		if g.Ind1 != w.Ind1 || g.Ind2 != w.Ind2 {
			return fmt.Sprintf("field %d (%s): indicators %q%q, want %q%q", i+1, g.Tag, g.Ind1, g.Ind2, w.Ind1, w.Ind2)
		}
		if len(g.Subfields) != len(w.Subfields) {
			return fmt.Sprintf("field %d (%s): %d subfields, want %d: got %q want %q", i+1, g.Tag, len(g.Subfields), len(w.Subfields), g.Subfields, w.Subfields)
		}
		for j := range g.Subfields {
			gs, ws := g.Subfields[j], w.Subfields[j]
			if gs.Code != ws.Code {
				return fmt.Sprintf("field %d (%s) subfield %d: code %q, want %q", i+1, g.Tag, j+1, gs.Code, ws.Code)
			}
			if values && gs.Value != ws.Value {
				return fmt.Sprintf("field %d (%s) $%c: %q, want %q", i+1, g.Tag, gs.Code, gs.Value, ws.Value)
			}
		}
	}
	return ""
}

func rwTags(r *Record) string {
	var b strings.Builder
	for _, f := range r.Fields {
		b.WriteString(f.Tag)
		b.WriteByte(' ')
	}
	return b.String()
}

func rwHasWarning(ws []Warning, substr string) bool {
	for _, w := range ws {
		if strings.Contains(w.Msg, substr) {
			return true
		}
	}
	return false
}

// rwStructuralWarnings are the reader's warnings about a field whose
// structure it repaired differently from yaz (which, for instance, takes
// the character after a stray delimiter as a subfield code). Such fields
// are compared by tag only; the repairs have their own tests.
var rwStructuralWarnings = []string{"indicator", "subfield delimiter", "text before the first subfield"}

// rwCleanValue undoes what yaz's JSON output cannot show: C0 controls are
// dropped by yaz, and characters yaz cannot map it drops where we put
// U+FFFD.
func rwCleanValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0xFFFD {
			return -1
		}
		return r
	}, s)
}

func rwCleanRecord(rec *Record, warns []Warning) *Record {
	loose := map[string]bool{}
	for _, w := range warns {
		for _, sw := range rwStructuralWarnings {
			if w.Tag != "" && strings.Contains(w.Msg, sw) {
				loose[w.Tag] = true
			}
		}
	}
	out := &Record{Leader: rec.Leader}
	for _, f := range rec.Fields {
		g := Field{Tag: f.Tag, Ind1: f.Ind1, Ind2: f.Ind2, Value: rwCleanValue(f.Value)}
		for _, sf := range f.Subfields {
			g.Subfields = append(g.Subfields, Subfield{Code: sf.Code, Value: rwCleanValue(sf.Value)})
		}
		if loose[f.Tag] {
			g = Field{Tag: f.Tag}
		}
		out.Fields = append(out.Fields, g)
	}
	return out
}

// rwLoosen blanks the fields of want whose tags are loose in got.
func rwLoosen(got, want *Record) {
	for i := range got.Fields {
		g := &got.Fields[i]
		if i < len(want.Fields) && g.Value == "" && len(g.Subfields) == 0 && g.Ind1 == 0 {
			want.Fields[i] = Field{Tag: want.Fields[i].Tag}
		}
	}
}

// rwRepairDirectory rebuilds a record's directory from its field
// terminators: the independent counterpart of the reader's repair of
// directories whose lengths were counted in characters.
func rwRepairDirectory(t testing.TB, raw []byte) []byte {
	t.Helper()
	base := bytes.IndexByte(raw[LeaderLen:], fieldTerminator) + LeaderLen + 1
	data := bytes.TrimSuffix(raw[base:], []byte{recordTerminator})
	pieces := bytes.SplitAfter(data, []byte{fieldTerminator})
	if len(pieces[len(pieces)-1]) == 0 {
		pieces = pieces[:len(pieces)-1]
	}
	n := (base - 1 - LeaderLen) / 12
	if len(pieces) != n {
		t.Fatalf("repair: %d fields for %d directory entries", len(pieces), n)
	}
	out := append([]byte{}, raw[:LeaderLen]...)
	pos := 0
	for i, p := range pieces {
		out = append(out, raw[LeaderLen+12*i:LeaderLen+12*i+3]...)
		out = append(out, fmt.Sprintf("%04d%05d", len(p), pos)...)
		pos += len(p)
	}
	out = append(out, fieldTerminator)
	out = append(out, bytes.Join(pieces, nil)...)
	out = append(out, recordTerminator)
	copy(out, fmt.Sprintf("%05d", len(out)))
	copy(out[12:], fmt.Sprintf("%05d", base))
	return out
}

// TestISO2709MatchesYaz reads every real ISO 2709 file and compares
// records, fields, indicators, subfield codes and values with what
// yaz-marcdump makes of the same bytes (MARC-8 records decoded by both).
// Where our reader repaired something yaz reads differently, the oracle is
// yaz on the repaired bytes, or the field is compared by tag only.
func TestISO2709MatchesYaz(t *testing.T) {
	testpeer.Need(t, "yaz-marcdump")
	dir := t.TempDir()
	compared, fields, loose := 0, 0, 0
	defer func() {
		t.Logf("%d records compared with yaz: %d fields in full, %d by tag only", compared, fields, loose)
		if compared < 120 || loose > fields/20 {
			t.Errorf("too little compared")
		}
	}()
	for _, path := range rwISOFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// The decoders are compared: the label is trusted as yaz trusts it.
		r := NewISO2709Reader(bytes.NewReader(data), ReaderOptions{Source: path, Charset: CharsetLabel})
		type got struct {
			rec   *Record
			warns []Warning
			off   int64
		}
		var recs []got
		var junk [][2]int64 // byte ranges our reader skipped
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *RecordError
			if errors.As(err, &re) {
				if !strings.Contains(re.Error(), "before the next record") {
					t.Errorf("%s: %v", path, err)
				}
				junk = append(junk, [2]int64{re.Offset, -1})
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if len(junk) > 0 && junk[len(junk)-1][1] < 0 {
				junk[len(junk)-1][1] = r.Offset()
			}
			recs = append(recs, got{rec, r.Warnings(), r.Offset()})
		}
		if n := rwYazCount(t, path); len(recs) != n {
			t.Errorf("%s: %d records, yaz-marcdump -p finds %d", path, len(recs), n)
			continue
		}
		// yaz's view of the file, without the stretches we skipped as junk.
		clean := path
		if len(junk) > 0 {
			var b []byte
			prev := int64(0)
			for _, j := range junk {
				if j[1] < 0 {
					j[1] = int64(len(data))
				}
				b = append(b, data[prev:j[0]]...)
				prev = j[1]
			}
			b = append(b, data[prev:]...)
			clean = filepath.Join(dir, "clean.mrc")
			if err := os.WriteFile(clean, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want := rwYazJSON(t, "-f", "marc8", "-t", "utf8", "-o", "json", clean)
		if len(want) != len(recs) {
			t.Fatalf("%s: yaz gives %d records, we %d", path, len(want), len(recs))
		}
		for i, g := range recs {
			w := want[i]
			if rwHasWarning(g.warns, "fields taken in order") {
				l := bytes.IndexByte(data[g.off:], recordTerminator) + 1
				fixed := rwRepairDirectory(t, data[g.off:g.off+int64(l)])
				p := filepath.Join(dir, "fixed.mrc")
				if err := os.WriteFile(p, fixed, 0o644); err != nil {
					t.Fatal(err)
				}
				w = rwYazJSON(t, "-f", "marc8", "-t", "utf8", "-o", "json", p)[0]
			}
			cg := rwCleanRecord(g.rec, g.warns)
			rwLoosen(cg, w)
			for fi := range w.Fields {
				f := &w.Fields[fi]
				if f.Ind1 >= 0x80 { // yaz keeps a non-ASCII indicator; we blank it
					f.Ind1 = ' '
				}
				if f.Ind2 >= 0x80 {
					f.Ind2 = ' '
				}
			}
			if d := rwDiff(cg, w, true); d != "" {
				t.Errorf("%s record %d: %s\n warnings: %v", path, i+1, d, g.warns)
			}
			compared++
			for _, f := range cg.Fields {
				if f.Ind1 == 0 && len(f.Subfields) == 0 && f.Value == "" {
					loose++
				} else {
					fields++
				}
			}
		}
	}
}

// rwRawField is one field for rwBuildISO: its tag and its data without the
// field terminator (indicators and delimiters included).
type rwRawField struct{ tag, data string }

// rwBuildISO assembles an ISO 2709 record by hand, independently of our
// writer, so that tests can also damage it.
func rwBuildISO(leader string, fields ...rwRawField) []byte {
	var dir, data []byte
	for _, f := range fields {
		dir = append(dir, fmt.Sprintf("%s%04d%05d", f.tag, len(f.data)+1, len(data))...)
		data = append(data, f.data...)
		data = append(data, fieldTerminator)
	}
	base := LeaderLen + len(dir) + 1
	n := base + len(data) + 1
	l := []byte(leader)
	copy(l, fmt.Sprintf("%05d", n))
	copy(l[12:], fmt.Sprintf("%05d", base))
	out := append(l, dir...)
	out = append(out, fieldTerminator)
	out = append(out, data...)
	return append(out, recordTerminator)
}

func rwSampleRecord(id string) []byte {
	return rwBuildISO("00000nam a2200000 a 4500",
		rwRawField{"001", id},
		rwRawField{"008", "250101s2024    vm            000 0 vie d"},
		rwRawField{"100", "1 \x1faNguyễn Du,\x1fd1765-1820."},
		rwRawField{"245", "10\x1faTruyện Kiều /\x1fcNguyễn Du."},
		rwRawField{"260", "  \x1faVinh :\x1fbNxb. Nghệ An,\x1fc2024."},
	)
}

func rwReadBytes(t testing.TB, data []byte) ([]*Record, [][]Warning, []*RecordError) {
	t.Helper()
	return rwReadAll(t, NewISO2709Reader(bytes.NewReader(data), ReaderOptions{Source: "test"}))
}

func TestISO2709Basic(t *testing.T) {
	raw := rwSampleRecord("NA001")
	recs, warns, errs := rwReadBytes(t, raw)
	if len(recs) != 1 || len(errs) != 0 || len(warns[0]) != 0 {
		t.Fatalf("%d records, %v, warnings %v", len(recs), errs, warns)
	}
	rec := recs[0]
	if rec.Leader != string(raw[:LeaderLen]) || rec.ControlNumber() != "NA001" {
		t.Errorf("leader %q, 001 %q", rec.Leader, rec.ControlNumber())
	}
	f := rec.First("245")
	if f == nil || f.Ind1 != '1' || f.Ind2 != '0' || f.Sub('a') != "Truyện Kiều /" || f.Sub('c') != "Nguyễn Du." {
		t.Errorf("245 = %+v", f)
	}
	if got := len(rec.Fields); got != 5 {
		t.Errorf("%d fields", got)
	}
	out, err := EncodeISO2709(rec)
	if err != nil || !bytes.Equal(out, raw) {
		t.Errorf("round trip differs (%v):\n got %q\nwant %q", err, out, raw)
	}
}

// TestISO2709NFD: decomposed UTF-8 (as some Vietnamese systems export) is
// delivered in NFC; MARC-8 and a forced charset are converted too.
func TestISO2709Charsets(t *testing.T) {
	nfd := rwBuildISO("00000nam a2200000 a 4500", rwRawField{"245", "10\x1fa" + "Nghe\u0323\u0302 An"})
	recs, warns, _ := rwReadBytes(t, nfd)
	if len(recs) != 1 || recs[0].First("245").Sub('a') != "Nghệ An" {
		t.Fatalf("NFD: %+v %v", recs, warns)
	}
	bad := rwBuildISO("00000nam a2200000 a 4500", rwRawField{"245", "10\x1faabc\xffdef"})
	recs, warns, _ = rwReadBytes(t, bad)
	if len(recs) != 1 || recs[0].First("245").Sub('a') != "abc\uFFFDdef" || !rwHasWarning(warns[0], "invalid UTF-8") || warns[0][0].Tag != "245" {
		t.Fatalf("bad UTF-8: %+v %v", recs, warns)
	}
	// MARC-8 (leader/09 blank): ANSEL combining acute (0xE2) before 'e'.
	m8 := rwBuildISO("00000nam  2200000 a 4500", rwRawField{"245", "10\x1faCaf\xe2e"})
	recs, _, _ = rwReadBytes(t, m8)
	if len(recs) != 1 || recs[0].First("245").Sub('a') != "Café" || recs[0].Leader[9] != 'a' {
		t.Fatalf("MARC-8: %+v", recs)
	}
	// Windows-1258 forced by the caller.
	w := rwBuildISO("00000nam  2200000 a 4500", rwRawField{"245", "10\x1faTi\xeang Vi\xeat"})
	r := NewISO2709Reader(bytes.NewReader(w), ReaderOptions{Charset: CharsetWindows1258})
	rec, err := r.Next()
	if err != nil || rec.First("245").Sub('a') != "Tiêng Viêt" {
		t.Fatalf("windows-1258: %v %+v", err, rec)
	}
}

// TestISO2709Streaming reads through a reader that returns one byte at a
// time and through one that fails part way.
func TestISO2709Streaming(t *testing.T) {
	data, err := os.ReadFile(rwTestdata("marc", "yaz", "marccol1.u8.marc"))
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := rwReadBytes(t, data)
	got, _, errs := rwReadAll(t, NewISO2709Reader(iotest.OneByteReader(bytes.NewReader(data)), ReaderOptions{}))
	if len(got) != len(want) || len(errs) > 0 || len(got) != 19 {
		t.Fatalf("%d records one byte at a time, %d at once, %v", len(got), len(want), errs)
	}
	for i := range got {
		if d := rwSameRecord(got[i], want[i]); d != "" {
			t.Fatalf("record %d: %s", i+1, d)
		}
	}

	boom := errors.New("disk on fire")
	cut := len(data) / 2
	r := NewISO2709Reader(io.MultiReader(bytes.NewReader(data[:cut]), iotest.ErrReader(boom)), ReaderOptions{Source: "x.mrc"})
	n := 0
	for i := 0; i < 100; i++ {
		_, err := r.Next()
		if err == nil {
			n++
			continue
		}
		var re *RecordError
		if errors.As(err, &re) {
			continue // the record cut in half
		}
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "x.mrc") {
			t.Fatalf("error %v, want the read error", err)
		}
		break
	}
	if n == 0 || n >= 19 {
		t.Errorf("%d records before the read error", n)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after the read error: %v", err)
	}
}

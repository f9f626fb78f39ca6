package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "unicat.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutSource(store.SourceInfo{ID: "vinh", Name: "Vinh", LibraryCode: "NA-VINH", Level: "district", Kind: "file"}); err != nil {
		t.Fatal(err)
	}
	return st
}

// export writes 10,000 good records and, after records 4,321 and 7,000,
// the bad ones, in ISO 2709 or MARCXML; it returns the file and the
// record number and offset of each bad record.
func export(t *testing.T, format marc.Format, bad ...*marc.Record) (string, map[int]int64) {
	t.Helper()
	var buf []byte
	if format == marc.FormatMARCXML {
		buf = append(buf, `<collection xmlns="http://www.loc.gov/MARC21/slim">`...)
	}
	at := map[int]int64{}
	n := 0
	add := func(r *marc.Record, isBad bool) {
		n++
		if isBad {
			at[n] = int64(len(buf))
		}
		var err error
		if format == marc.FormatMARCXML {
			buf, _ = marc.AppendMARCXML(buf, r, false)
		} else if buf, err = marc.AppendISO2709(buf, r); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 10000; i++ {
		add(record(fmt.Sprintf("vn%05d", i), fmt.Sprintf("Sách số %d", i)), false)
		if (i == 4321 || i == 7000) && len(bad) > 0 {
			add(bad[0], true)
			bad = bad[1:]
		}
	}
	if format == marc.FormatMARCXML {
		buf = append(buf, `</collection>`...)
	}
	path := filepath.Join(t.TempDir(), "export."+string(format))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, at
}

// A record whose 001 holds a NUL byte, or is 40 KB long, cost its whole
// batch and the import (4,000 of 10,000 kept, every import again stopping
// there, the error naming no record). Each is now rejected with its file,
// record number, offset and reason; the 10,000 others go in, and
// importing the file again moves on.
func TestBadControlNumbersCostOnlyTheirRecords(t *testing.T) {
	for _, c := range []struct {
		format marc.Format
		bad    []*marc.Record
		why    []string
	}{
		{marc.FormatISO2709, []*marc.Record{record("vn\x00bad", "NUL in 001"), record(strings.Repeat("9", 9000), "long 001")},
			[]string{"contains 0x00", "9000 bytes long, more than the 4096 allowed"}},
		{marc.FormatMARCXML, []*marc.Record{record(strings.Repeat("8", 40<<10), "40 KB 001")},
			[]string{"40960 bytes long"}},
	} {
		st := openStore(t)
		path, at := export(t, c.format, c.bad...)
		sum, err := Import(context.Background(), st, []string{path}, Options{Source: "vinh"})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Added != 10000 || sum.Rejected != len(c.bad) || sum.Read != 10000+len(c.bad) {
			t.Errorf("%s: summary %+v", c.format, sum)
		}
		for i, r := range sum.Rejects {
			if r.File != path || r.Offset != at[r.Index] || !strings.Contains(r.Reason, c.why[i]) {
				t.Errorf("%s: reject %v; bad records at %v, want %q", c.format, r, at, c.why[i])
			}
		}
		again, err := Import(context.Background(), st, []string{path}, Options{Source: "vinh"})
		if err != nil || again.Unchanged != 10000 || again.Rejected != len(c.bad) {
			t.Errorf("%s: again: %+v %v", c.format, again, err)
		}
	}
}

// What the store refuses (here every record, its datestamp out of range)
// is rejected with where it was read, not the whole import.
func TestStoreRejectsAreNamed(t *testing.T) {
	st := openStore(t)
	path, _ := export(t, marc.FormatISO2709)
	future := func() time.Time { return time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }
	sum, err := Import(context.Background(), st, []string{path}, Options{Source: "vinh", Now: future})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rejected != 10000 || sum.Added != 0 || len(sum.Rejects) != MaxRejects {
		t.Fatalf("summary: %d rejected, %d added, %d listed", sum.Rejected, sum.Added, len(sum.Rejects))
	}
	r := sum.Rejects[0]
	if r.File != path || r.Index != 1 || r.Offset != 0 || !strings.Contains(r.Reason, "outside years 1-9999") {
		t.Errorf("first reject %v", r)
	}
	if r := sum.Rejects[MaxRejects-1]; r.Index != MaxRejects || r.Offset <= 0 {
		t.Errorf("last reject listed %v", r)
	}
}

// A batch is full at its record count or its records' size, whichever
// comes first.
func TestBatchFull(t *testing.T) {
	for _, c := range []struct {
		records, bytes, size, maxBytes int
		full                           bool
	}{
		{0, 0, 4000, 16 << 20, false},
		{3999, 15 << 20, 4000, 16 << 20, false},
		{4000, 1 << 20, 4000, 16 << 20, true},
		{200, 16 << 20, 4000, 16 << 20, true},
		{1, 100000, 4000, 50000, true},
	} {
		if got := BatchFull(c.records, c.bytes, c.size, c.maxBytes); got != c.full {
			t.Errorf("BatchFull(%d, %d, %d, %d) = %v", c.records, c.bytes, c.size, c.maxBytes, got)
		}
	}
}

// Records of 50 KB go in batches bounded by BatchBytes, not 4,000 of
// them at once.
func TestBatchBytes(t *testing.T) {
	st := openStore(t)
	var buf []byte
	for i := range 100 {
		r := record(fmt.Sprint(i), "big")
		r.Fields = append(r.Fields, marc.Field{Tag: "520", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: strings.Repeat("x", 9000)}}})
		for range 4 {
			r.Fields = append(r.Fields, r.Fields[len(r.Fields)-1])
		}
		buf, _ = marc.AppendISO2709(buf, r)
	}
	path := filepath.Join(t.TempDir(), "big.mrc")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	batches := 0
	sum, err := Import(context.Background(), st, []string{path}, Options{Source: "vinh", BatchBytes: 1 << 20,
		Progress: func(int64, int64) { batches++ }})
	if err != nil || sum.Added != 100 {
		t.Fatalf("%+v %v", sum, err)
	}
	// 100 records of 45 KB in batches of at most 1 MB: 5 batches, and
	// the final progress call.
	if batches != 6 {
		t.Errorf("%d progress calls, want 5 batches and the last", batches)
	}
}

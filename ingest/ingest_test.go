package ingest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

func record(id, title string) *marc.Record {
	return &marc.Record{Leader: "00000nam a2200000 a 4500", Fields: []marc.Field{
		{Tag: "001", Value: id},
		{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{{Code: 'a', Value: title}}},
	}}
}

func writeFile(t *testing.T, path string, recs ...*marc.Record) {
	t.Helper()
	var buf []byte
	for _, r := range recs {
		var err error
		if buf, err = marc.AppendISO2709(buf, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDuplicates imports an export that repeats control numbers, in one
// batch and across batches (batches of 2) and across its two files: every
// record read is counted once, the repeats as duplicates with their file
// and position, the first copy of each is what the store keeps, and
// importing it again changes nothing.
func TestDuplicates(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "unicat.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutSource(store.SourceInfo{ID: "vinh", Name: "Vinh", LibraryCode: "NA-VINH", Level: "district", Kind: "file"}); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.mrc"), filepath.Join(dir, "b.mrc")
	writeFile(t, a, record("1", "one"), record("1", "one again"), // one batch
		record("2", "two"), record("3", "three"), record("2", "two again")) // the next batch
	writeFile(t, b, record("3", "three again"), record("4", "four"))
	sum, err := Import(context.Background(), st, []string{a, b}, Options{Source: "vinh", BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Read != 7 || sum.Added != 4 || sum.Duplicates != 3 || sum.Updated+sum.Unchanged+sum.Deleted+sum.Rejected != 0 {
		t.Errorf("summary: %+v", sum)
	}
	var where []string
	for _, d := range sum.DuplicateRecords {
		where = append(where, filepath.Base(d.File)+":"+string(rune('0'+d.Index)))
	}
	if len(where) != 3 || where[0] != "a.mrc:2" || where[1] != "a.mrc:5" || where[2] != "b.mrc:1" {
		t.Errorf("duplicates at %q", where)
	}
	err = st.View(func(tx *store.Tx) error {
		for id, want := range map[string]string{"1": "one", "2": "two", "3": "three", "4": "four"} {
			sr, err := tx.Record("vinh", id)
			if err != nil {
				return err
			}
			rec, err := sr.Record()
			if err != nil {
				return err
			}
			if got := rec.Title(); got != want {
				t.Errorf("record %s: %q, want the first copy %q", id, got, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Importing it again: the same duplicates, the rest unchanged.
	sum, err = Import(context.Background(), st, []string{a, b}, Options{Source: "vinh", BatchSize: 2})
	if err != nil || sum.Read != 7 || sum.Unchanged != 4 || sum.Duplicates != 3 || sum.Added+sum.Updated+sum.Deleted != 0 {
		t.Errorf("again: %+v %v", sum, err)
	}
}

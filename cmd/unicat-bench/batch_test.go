package main

import (
	"path/filepath"
	"testing"

	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/marc"
)

// TestMakeBatches: each batch of a round is 500 of the provincial
// library's records updated, 400 new ones and 100 deleted, no id twice;
// no batch deletes a record that is deleted then (not updated since it
// was), also across rounds; the next round's new ids are new again.
func TestMakeBatches(t *testing.T) {
	dir := t.TempDir()
	const libs = 10
	if _, err := corpus.WriteDir(dir, corpus.Options{Records: 20000, Libraries: libs, Seed: 1}, marc.FormatISO2709, nil); err != nil {
		t.Fatal(err)
	}
	ls := corpus.Libraries(libs)
	files := make([]string, libs)
	for i, l := range ls {
		files[i] = filepath.Join(dir, corpus.FileName(l, marc.FormatISO2709))
	}
	deleted := map[string]bool{} // and not updated since
	added := map[string]bool{}
	for round := range 3 {
		bs, err := makeBatches(ls, files, round)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != batches {
			t.Fatalf("round %d: %d batches, want %d", round, len(bs), batches)
		}
		for k, b := range bs {
			if b.Source != ls[0].ID || len(b.Records) != batchUpdates+batchNew || len(b.Deletions) != batchDeletions {
				t.Fatalf("round %d batch %d: source %s, %d records, %d deletions", round, k, b.Source, len(b.Records), len(b.Deletions))
			}
			ids := map[string]bool{}
			for i, r := range b.Records {
				if ids[r.LocalID] || marcID(r.Record) != r.LocalID {
					t.Fatalf("round %d batch %d: record %q twice or with 001 %q", round, k, r.LocalID, marcID(r.Record))
				}
				ids[r.LocalID] = true
				delete(deleted, r.LocalID)
				if i >= batchUpdates {
					if added[r.LocalID] {
						t.Errorf("round %d batch %d: new record %q of an earlier batch", round, k, r.LocalID)
					}
					added[r.LocalID] = true
				}
			}
			for _, d := range b.Deletions {
				if ids[d.LocalID] || deleted[d.LocalID] {
					t.Errorf("round %d batch %d: %q deleted already, or updated too", round, k, d.LocalID)
				}
				deleted[d.LocalID] = true
			}
		}
	}
}

func marcID(r *marc.Record) string {
	if f := r.First("001"); f != nil {
		return f.Value
	}
	return ""
}

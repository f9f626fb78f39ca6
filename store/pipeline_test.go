package store

import (
	"errors"
	"fmt"
	"testing"
)

// TestPipelineCommitsInOrder submits batches that rewrite the same ids:
// the last submitted must win, every batch's result must be reported,
// and Close must wait for all of them.
func TestPipelineCommitsInOrder(t *testing.T) {
	s := openTest(t, "dc")
	pl := s.NewPipeline()
	var results []Result
	for i := 0; i < 20; i++ {
		var in []Incoming
		for id := 0; id < 5; id++ {
			in = append(in, Incoming{LocalID: fmt.Sprint(id), Record: testRecord(fmt.Sprint(id), fmt.Sprintf("title %d", i))})
		}
		if err := pl.Submit(Batch{Source: "dc", Records: in}, func(r Result) { results = append(results, r) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	if len(results) != 20 {
		t.Fatalf("%d results, want 20", len(results))
	}
	wantResult(t, "first batch", results[0], Result{Added: 5})
	for i, r := range results[1:] {
		wantResult(t, fmt.Sprintf("batch %d", i+1), r, Result{Updated: 5})
	}
	rec, err := getRecord(t, s, "dc", "3").Record()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Title() != "title 19" {
		t.Errorf("record 3 has title %q, want the last batch's", rec.Title())
	}
	if err := pl.Submit(Batch{Source: "dc"}, nil); !errors.Is(err, ErrPipelineClosed) {
		t.Errorf("submit after close: %v", err)
	}
}

// TestPipelineStopsAtFirstError checks that a batch failing at commit
// stops the batches behind it and that the error reaches Close.
func TestPipelineStopsAtFirstError(t *testing.T) {
	s := openTest(t, "dc")
	h := &failingHook{}
	if err := s.AddHook(h); err != nil {
		t.Fatal(err)
	}
	pl := s.NewPipeline()
	committed := 0
	batch := func(id string) Batch {
		return Batch{Source: "dc", Records: []Incoming{{LocalID: id, Record: testRecord(id, "t "+id)}}}
	}
	if err := pl.Submit(batch("1"), func(Result) { committed++ }); err != nil {
		t.Fatal(err)
	}
	if err := pl.Close(); err != nil { // wait, then fail the next ones
		t.Fatal(err)
	}
	h.fail = true
	pl = s.NewPipeline()
	var err error
	for i := 2; i < 6 && err == nil; i++ {
		err = pl.Submit(batch(fmt.Sprint(i)), func(Result) { committed++ })
	}
	if cerr := pl.Close(); cerr == nil {
		t.Fatal("close: no error after a failed commit")
	}
	if committed != 1 {
		t.Errorf("%d batches reported committed, want 1", committed)
	}
	err = s.View(func(tx *Tx) error { _, err := tx.Record("dc", "2"); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("record of the failed batch: %v, want ErrNotFound", err)
	}
	// A prepare error is the caller's: the pipeline goes on.
	h.fail = false
	pl = s.NewPipeline()
	if err := pl.Submit(Batch{Source: "d\x00c"}, nil); err == nil {
		t.Error("submit of a batch of a bad source id: no error")
	}
	if err := pl.Submit(batch("7"), func(Result) { committed++ }); err != nil {
		t.Fatal(err)
	}
	if err := pl.Close(); err != nil {
		t.Fatal(err)
	}
	if committed != 2 {
		t.Errorf("%d batches committed, want 2", committed)
	}
}

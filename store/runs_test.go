package store

import (
	"testing"
	"time"
)

// A run begun and never ended stays in the history unfinished; EndRun
// replaces it in place.
func TestBeginEndRun(t *testing.T) {
	s := openTest(t, "dc")
	start := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	k, err := s.BeginRun("dc", start)
	if err != nil {
		t.Fatal(err)
	}
	runs, _ := s.Runs("dc", 0)
	if len(runs) != 1 || !runs[0].Unfinished() || !runs[0].Start.Equal(start) {
		t.Fatalf("after BeginRun: %+v", runs)
	}
	if err := s.EndRun("dc", k, Run{Start: start, End: start.Add(time.Minute), Added: 7}); err != nil {
		t.Fatal(err)
	}
	runs, _ = s.Runs("dc", 0)
	if len(runs) != 1 || runs[0].Unfinished() || runs[0].Added != 7 {
		t.Fatalf("after EndRun: %+v", runs)
	}
	// A killed run, then the next: the history holds both.
	if _, err := s.BeginRun("dc", start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	k2, _ := s.BeginRun("dc", start.Add(2*time.Hour))
	s.EndRun("dc", k2, Run{Start: start.Add(2 * time.Hour), End: start.Add(3 * time.Hour)})
	runs, _ = s.Runs("dc", 0)
	if len(runs) != 3 || runs[0].Unfinished() || !runs[1].Unfinished() {
		t.Fatalf("history %+v", runs)
	}
}

package parallel

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestForVisitsEachOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 7} {
		for _, n := range []int{0, 1, 5, 1000} {
			seen := make([]atomic.Int32, n)
			var badWorker atomic.Bool
			if err := For(n, workers, func(w, i int) error {
				if w < 0 || w >= workers {
					badWorker.Store(true)
				}
				seen[i].Add(1)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if badWorker.Load() {
				t.Fatalf("workers=%d n=%d: a worker number outside [0, %d)", workers, n, workers)
			}
			for i := range seen {
				if c := seen[i].Load(); c != 1 {
					t.Fatalf("workers=%d n=%d: item %d visited %d times", workers, n, i, c)
				}
			}
		}
	}
}

func TestForReturnsError(t *testing.T) {
	bad := errors.New("bad item")
	for _, workers := range []int{1, 4} {
		err := For(100, workers, func(_, i int) error {
			if i == 37 {
				return bad
			}
			return nil
		})
		if !errors.Is(err, bad) {
			t.Fatalf("workers=%d: got %v", workers, err)
		}
	}
}

// TestOrdered: every item is consumed once, in order, after its work; an
// error of consume stops it and is returned.
func TestOrdered(t *testing.T) {
	for _, workers := range []int{1, 2, 4} {
		for _, n := range []int{0, 1, 31, 1000} {
			done := make([]atomic.Bool, n)
			var got []int
			err := Ordered(n, workers, func(i int) { done[i].Store(true) }, func(i int) error {
				if !done[i].Load() {
					t.Fatalf("workers=%d n=%d: item %d consumed before its work", workers, n, i)
				}
				got = append(got, i)
				return nil
			})
			if err != nil || len(got) != n {
				t.Fatalf("workers=%d n=%d: %d consumed, error %v", workers, n, len(got), err)
			}
			for i, v := range got {
				if v != i {
					t.Fatalf("workers=%d n=%d: consumed %v, not in order", workers, n, got[:i+1])
				}
			}
		}
		stopErr := errors.New("disk full")
		calls := 0
		err := Ordered(1000, workers, func(int) {}, func(i int) error {
			calls++
			if i == 10 {
				return stopErr
			}
			return nil
		})
		if err != stopErr || calls != 11 {
			t.Fatalf("workers=%d: error at item 10: got %v after %d calls", workers, err, calls)
		}
	}
}

func TestWorkers(t *testing.T) {
	if w := Workers(10, 64); w != 1 {
		t.Fatalf("Workers(10, 64) = %d, want 1", w)
	}
	if w := Workers(3, 1); w > 3 || w < 1 {
		t.Fatalf("Workers(3, 1) = %d", w)
	}
}

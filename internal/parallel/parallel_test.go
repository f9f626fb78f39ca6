package parallel

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
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

// TestBackgroundGivesWay: once an urgent loop begins, a Background loop
// that was running starts no item until it has finished.
func TestBackgroundGivesWay(t *testing.T) {
	var urgentRunning atomic.Bool
	bgRunning, urgentStarted, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var during atomic.Int32
	bgDone := make(chan error)
	go func() {
		bgDone <- Background(100, 1, func(_, i int) error {
			if i == 0 {
				close(bgRunning)
				<-urgentStarted
				return nil
			}
			if urgentRunning.Load() {
				during.Add(1)
			}
			return nil
		})
	}()
	<-bgRunning
	urgentDone := make(chan error)
	go func() {
		urgentDone <- For(2, 2, func(_, i int) error {
			if i == 0 {
				urgentRunning.Store(true)
				close(urgentStarted)
				<-release
				urgentRunning.Store(false)
			}
			return nil
		})
	}()
	select {
	case <-bgDone:
		t.Fatal("a Background loop finished while an urgent loop ran")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-urgentDone; err != nil {
		t.Fatal(err)
	}
	if err := <-bgDone; err != nil {
		t.Fatal(err)
	}
	if n := during.Load(); n != 0 {
		t.Errorf("%d Background items ran during the urgent loop", n)
	}
}

// TestBackgroundAlone: with nothing urgent, Background is For.
func TestBackgroundAlone(t *testing.T) {
	for _, workers := range []int{1, 3} {
		var sum atomic.Int64
		if err := Background(1000, workers, func(_, i int) error { sum.Add(int64(i)); return nil }); err != nil {
			t.Fatal(err)
		}
		if sum.Load() != 999*1000/2 {
			t.Fatalf("workers=%d: sum %d", workers, sum.Load())
		}
	}
}

// A Background loop started inside an urgent one does not wait for it
// (which waits for it): it ends.
func TestBackgroundInsideUrgent(t *testing.T) {
	done := make(chan error, 1)
	go func() {
		done <- For(2, 2, func(_, _ int) error {
			return Background(4, 2, func(_, _ int) error { return nil })
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a Background loop inside For waits for it forever")
	}
}

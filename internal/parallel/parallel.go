// Package parallel runs the CPU-bound loops of a batch (encoding,
// profiling, comparing, keying documents) on several cores. The store,
// deduplication and search packages all need the same two shapes, and
// the standard library has neither: a loop over independent items, and a
// loop whose results a serial stage must take in order (writes to a bbolt
// transaction, which is for one goroutine) while later items are still
// being computed.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Max is the most goroutines a loop uses: GOMAXPROCS, at most 8, beyond
// which a batch's loops gain little.
func Max() int { return min(runtime.GOMAXPROCS(0), 8) }

// Workers is how many goroutines a loop over n items should use: Max, one
// when n is below minItems, where starting goroutines costs more than it
// saves.
func Workers(n, minItems int) int {
	w := Max()
	if n < minItems || w < 2 {
		return 1
	}
	return min(w, n)
}

// For calls fn(w, i) for every i in [0, n) on workers goroutines (this
// one when workers <= 1); w in [0, workers) names the goroutine, for
// state of its own. Items are handed out in order as goroutines become
// free. A goroutine stops at its first error; For returns one of the
// errors once every goroutine has stopped. On several goroutines it is
// urgent: Background loops wait for it (see gate.go).
func For(n, workers int, fn func(w, i int) error) error {
	return loop(n, workers, true, fn)
}

// loop is For, urgent or not.
func loop(n, workers int, urgent bool, fn func(w, i int) error) error {
	workers = min(workers, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			if err := fn(0, i); err != nil {
				return err
			}
		}
		return nil
	}
	if urgent {
		defer endUrgent(beginUrgent())
	}
	var next atomic.Int64
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if errs[w] = fn(w, i); errs[w] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Ordered calls work(i) for every i in [0, n) on workers goroutines and
// consume(i) on this one as soon as work(i) is done, in order of i, so
// that a serial stage overlaps the parallel one. The first error of
// consume stops it: work not yet started is skipped, and Ordered returns
// the error once no goroutine runs work.
func Ordered(n, workers int, work func(i int), consume func(i int) error) error {
	if min(workers, n) <= 1 {
		for i := 0; i < n; i++ {
			work(i)
			if err := consume(i); err != nil {
				return err
			}
		}
		return nil
	}
	ready := make([]chan struct{}, n)
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	var stop atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- For(n, workers, func(_, i int) error {
			if !stop.Load() {
				work(i)
			}
			close(ready[i])
			return nil
		})
	}()
	var err error
	for i := 0; i < n && err == nil; i++ {
		<-ready[i]
		err = consume(i)
	}
	stop.Store(true)
	<-done
	return err
}

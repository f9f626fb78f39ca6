// Package heapwatch measures how much heap a piece of work takes at its
// peak, for the tests that hold readers and harvests to a memory bound
// whatever their input's size.
package heapwatch

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"
)

// heapObjects is the heap memory in objects, live or not yet swept: what
// a large allocation holds until the collector has freed it.
const heapObjects = "/memory/classes/heap/objects:bytes"

// Peak runs fn and returns the largest heap seen while it ran, above the
// heap before it (after a collection), sampled every millisecond. The
// figure includes garbage not yet collected, so a bound asserted on it
// holds with the collector's usual slack.
func Peak(fn func()) uint64 {
	runtime.GC()
	base := sample()
	var peak uint64
	var mu sync.Mutex
	note := func(v uint64) {
		mu.Lock()
		peak = max(peak, v)
		mu.Unlock()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				note(sample())
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	note(sample())
	if peak < base {
		return 0
	}
	return peak - base
}

func sample() uint64 {
	s := []metrics.Sample{{Name: heapObjects}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

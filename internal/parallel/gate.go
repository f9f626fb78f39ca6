package parallel

import "sync"

// Work off the critical path gives way to work on it. An import prepares
// batch N+1 (decoding, profiling) while batch N commits, and the commit
// is what the import waits for: when the commit spreads a step over
// every core (comparing candidates, building union records, keying
// search documents), a preparing goroutine competing for those cores
// only makes the commit later, and the Go scheduler has no priorities to
// say so. So the loops of For and Ordered that run on several goroutines
// are urgent, and Background loops wait between items while one runs.
// The cores are the process's, so the gate is too.
//
// A Background loop waits only for the urgent loops that began after it:
// one started inside an urgent loop (from its fn) must not wait for the
// loop that waits for it.
var gate = struct {
	mu      sync.Mutex
	free    *sync.Cond          // broadcast when an urgent loop ends
	last    uint64              // the sequence number of the last urgent loop begun
	running map[uint64]struct{} // the urgent loops running, by sequence number
}{running: map[uint64]struct{}{}}

func init() { gate.free = sync.NewCond(&gate.mu) }

// beginUrgent registers an urgent loop and returns its sequence number.
func beginUrgent() uint64 {
	gate.mu.Lock()
	defer gate.mu.Unlock()
	gate.last++
	gate.running[gate.last] = struct{}{}
	return gate.last
}

func endUrgent(seq uint64) {
	gate.mu.Lock()
	delete(gate.running, seq)
	gate.free.Broadcast()
	gate.mu.Unlock()
}

// urgentSince returns the sequence number of the last urgent loop begun,
// for giveWay.
func urgentSince() uint64 {
	gate.mu.Lock()
	defer gate.mu.Unlock()
	return gate.last
}

// giveWay returns once no urgent loop begun after since runs.
func giveWay(since uint64) {
	gate.mu.Lock()
	defer gate.mu.Unlock()
	for {
		waiting := false
		for seq := range gate.running {
			if seq > since {
				waiting = true
				break
			}
		}
		if !waiting {
			return
		}
		gate.free.Wait()
	}
}

// Background is For for work that others wait for less than they wait
// for the urgent loops: before each item it waits while a loop of For or
// Ordered begun after it runs on several goroutines.
func Background(n, workers int, fn func(w, i int) error) error {
	since := urgentSince()
	return loop(n, workers, false, func(w, i int) error {
		giveWay(since)
		return fn(w, i)
	})
}

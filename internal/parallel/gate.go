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
var gate = struct {
	mu     sync.Mutex
	free   *sync.Cond // broadcast when urgent drops to zero
	urgent int        // urgent loops running
}{}

func init() { gate.free = sync.NewCond(&gate.mu) }

func beginUrgent() {
	gate.mu.Lock()
	gate.urgent++
	gate.mu.Unlock()
}

func endUrgent() {
	gate.mu.Lock()
	gate.urgent--
	if gate.urgent == 0 {
		gate.free.Broadcast()
	}
	gate.mu.Unlock()
}

// giveWay returns once no urgent loop runs.
func giveWay() {
	gate.mu.Lock()
	for gate.urgent > 0 {
		gate.free.Wait()
	}
	gate.mu.Unlock()
}

// Background is For for work that others wait for less than they wait
// for the urgent loops: before each item it waits while a loop of For or
// Ordered runs on several goroutines. It must not be called from inside
// such a loop, which would then wait for itself.
func Background(n, workers int, fn func(w, i int) error) error {
	return loop(n, workers, false, func(w, i int) error {
		giveWay()
		return fn(w, i)
	})
}

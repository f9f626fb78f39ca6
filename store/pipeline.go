package store

import (
	"errors"
	"sync"

	"github.com/unicat/unicat/internal/parallel"
)

// A Pipeline applies batches with one batch's Prepare overlapping the
// previous batch's Commit: the caller prepares (reads, encodes, lets the
// Preparer work) while a goroutine of the Pipeline commits, in the order
// the batches were submitted. An import then keeps two cores busy where
// Apply, one batch after the other, keeps one.
//
// Submit and Close must be called from one goroutine. The first error
// stops the Pipeline: later batches are not committed, and Submit and
// Close return that error.
type Pipeline struct {
	s     *Store
	queue chan pipelined
	done  chan struct{}

	mu  sync.Mutex
	err error
}

type pipelined struct {
	p     *Prepared
	after func(Result)
}

// ErrPipelineClosed is returned by Submit after Close.
var ErrPipelineClosed = errors.New("store: pipeline closed")

// NewPipeline starts a Pipeline that holds at most one prepared batch
// waiting behind the one committing.
func (s *Store) NewPipeline() *Pipeline {
	pl := &Pipeline{s: s, queue: make(chan pipelined, 1), done: make(chan struct{})}
	go pl.run(pl.queue)
	return pl
}

func (pl *Pipeline) run(queue <-chan pipelined) {
	defer close(pl.done)
	for item := range queue {
		if pl.failed() != nil {
			continue // drain: nothing after a failure commits
		}
		res, err := pl.s.Commit(item.p)
		if err != nil {
			pl.fail(err)
			continue
		}
		if item.after != nil {
			item.after(res)
		}
	}
}

func (pl *Pipeline) fail(err error) {
	pl.mu.Lock()
	if pl.err == nil {
		pl.err = err
	}
	pl.mu.Unlock()
}

func (pl *Pipeline) failed() error {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	return pl.err
}

// Submit prepares b and queues it for committing; after, when not nil,
// is called on the Pipeline's goroutine with the batch's result once it
// committed. Submit blocks while a prepared batch is already waiting. It
// returns b's Prepare error, or the error that stopped the Pipeline.
func (pl *Pipeline) Submit(b Batch, after func(Result)) error {
	if pl.queue == nil {
		return ErrPipelineClosed
	}
	if err := pl.failed(); err != nil {
		return err
	}
	// The committing goroutine is an import's critical path: preparing on
	// every core would make it take turns with the preparing ones (the Go
	// scheduler has no priorities), so one core is left to it.
	p, err := pl.s.prepare(b, max(1, parallel.Max()-1))
	if err != nil {
		return err
	}
	pl.queue <- pipelined{p, after}
	return nil
}

// Close waits for the queued batches to commit and returns the first
// error, if any.
func (pl *Pipeline) Close() error {
	if pl.queue != nil {
		close(pl.queue)
		pl.queue = nil
	}
	<-pl.done
	return pl.failed()
}

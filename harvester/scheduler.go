package harvester

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/unicat/unicat/config"
)

// Scheduler runs the enabled sources of a Harvester on their cron
// schedules (config schedule, e.g. "0 2 * * *", "@daily", "@every 6h").
// A source whose previous run is still waiting or running is skipped,
// at most harvest.max_concurrent harvests run at once, and each waits a
// random delay of up to harvest.jitter (and at most a quarter of the
// source's interval) first, so that hundreds of sources sharing "@daily"
// do not all start in the same second.
type Scheduler struct {
	h       *Harvester
	cron    *cron.Cron
	entries map[string]cron.EntryID
	slots   chan struct{}
	jitter  map[string]time.Duration

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	busy   map[string]string // source → waiting or running
	closed bool
}

// NewScheduler schedules the enabled sources of h's configuration that
// have a schedule and a driver. Nothing runs before Start.
func NewScheduler(h *Harvester) (*Scheduler, error) {
	cfg := h.cfg
	n := max(cfg.Harvest.MaxConcurrent, 1)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		h:       h,
		cron:    cron.New(),
		entries: map[string]cron.EntryID{},
		slots:   make(chan struct{}, n),
		jitter:  map[string]time.Duration{},
		ctx:     ctx,
		cancel:  cancel,
		busy:    map[string]string{},
	}
	for i := range cfg.Sources {
		src := &cfg.Sources[i]
		if src.Disabled || src.Schedule == "" || !h.CanHarvest(src.Kind) {
			continue
		}
		sched, err := config.ParseSchedule(src.Schedule)
		if err != nil {
			cancel()
			return nil, err
		}
		id := src.ID
		// At most a quarter of the interval, so that a frequent
		// schedule still runs on time.
		now := time.Now()
		next := sched.Next(now)
		s.jitter[id] = min(cfg.Harvest.Jitter, sched.Next(next).Sub(next)/4)
		s.entries[id] = s.cron.Schedule(sched, cron.FuncJob(func() { s.Trigger(id, true) }))
	}
	return s, nil
}

// Start starts the schedule. It also shows every source in the metrics,
// with its last success as stored.
func (s *Scheduler) Start() {
	if m := s.h.opts.Metrics; m != nil {
		for _, src := range s.h.cfg.Sources {
			var last time.Time
			failed := false
			if runs, err := s.h.st.Runs(src.ID, 0); err == nil {
				failed = len(runs) > 0 && runs[0].Err != ""
				for _, r := range runs {
					if r.Err == "" {
						last = r.End
						break
					}
				}
			}
			m.initSource(src.ID, last, failed)
		}
	}
	s.cron.Start()
}

// Trigger starts a run of source id in the background, after the jitter
// delay if jitter is set, unless one is already waiting or running (then
// it returns false).
func (s *Scheduler) Trigger(id string, jitter bool) bool {
	s.mu.Lock()
	if s.closed || s.busy[id] != "" {
		busy := s.busy[id]
		s.mu.Unlock()
		if busy != "" {
			s.h.log.Info("harvest skipped: the previous one is still "+busy, "source", id)
			s.h.opts.Metrics.guard(id, "overlap")
		}
		return false
	}
	s.busy[id] = stateWaiting
	s.wg.Add(1)
	s.mu.Unlock()
	s.h.opts.Metrics.setState(id, stateWaiting)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.busy, id)
			s.mu.Unlock()
		}()
		if d := s.jitter[id]; jitter && d > 0 {
			if s.h.sleep(s.ctx, rand.N(d)) != nil {
				s.h.opts.Metrics.setState(id, stateIdle)
				return
			}
		}
		select {
		case s.slots <- struct{}{}:
		case <-s.ctx.Done():
			s.h.opts.Metrics.setState(id, stateIdle)
			return
		}
		defer func() { <-s.slots }()
		s.mu.Lock()
		s.busy[id] = stateRunning
		s.mu.Unlock()
		// Errors are stored with the run, logged and counted by Run.
		s.h.Run(s.ctx, id, nil)
	}()
	return true
}

// Stop stops scheduling, interrupts the harvests in flight (each keeps
// what it committed and resumes from there next time) and waits for them
// to return, or for ctx to be done.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cron.Stop()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Next returns the next scheduled run of source id, zero if none (or
// paused).
func (s *Scheduler) Next(id string) time.Time {
	s.mu.Lock()
	e, ok := s.entries[id]
	s.mu.Unlock()
	if !ok || e == pausedEntry {
		return time.Time{}
	}
	return s.cron.Entry(e).Next
}

// Status returns the status of every configured source as the scheduler
// knows it: state and next run from the schedule, the rest from the store.
func (s *Scheduler) Status() ([]SourceStatus, error) {
	ss, err := ReadStatus(s.h.st, s.h.cfg)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range ss {
		st := &ss[i]
		st.State = stateIdle
		if st.Last != nil && st.Last.Err != "" {
			st.State = stateFailed
		}
		if b := s.busy[st.ID]; b != "" {
			st.State = b
		}
		st.Next, st.NextEstimated = time.Time{}, false
		if e, ok := s.entries[st.ID]; ok && e != pausedEntry {
			st.Next = s.cron.Entry(e).Next
		}
	}
	return ss, nil
}

// ServeHTTP answers with the Status as JSON (for `unicat status` while the
// service holds the store).
func (s *Scheduler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ss, err := s.Status()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(ss)
}

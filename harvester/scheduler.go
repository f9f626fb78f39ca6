package harvester

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
// do not all start in the same second. Reload swaps the configuration
// while it runs.
type Scheduler struct {
	h     *Harvester
	cron  *cron.Cron
	slots *limiter

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	entries map[string]*entry // the scheduled sources, paused ones included
	busy    map[string]string // source → waiting or running
	closed  bool
}

// entry is a scheduled source.
type entry struct {
	expr   string // the schedule as configured
	sched  cron.Schedule
	jitter time.Duration // the longest delay before a scheduled run
	id     cron.EntryID  // pausedEntry while paused
}

// NewScheduler schedules the enabled sources of h's configuration that
// have a schedule and a driver. Nothing runs before Start.
func NewScheduler(h *Harvester) (*Scheduler, error) {
	cfg := h.Config()
	planned, err := plan(h, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		h:       h,
		cron:    cron.New(),
		slots:   newLimiter(max(cfg.Harvest.MaxConcurrent, 1)),
		ctx:     ctx,
		cancel:  cancel,
		entries: map[string]*entry{},
		busy:    map[string]string{},
	}
	for _, src := range cfg.Sources {
		if e := planned[src.ID]; e != nil {
			e.id = s.schedule(src.ID, e)
			s.entries[src.ID] = e
		}
	}
	return s, nil
}

// plan returns the entries cfg asks for: its enabled sources with a
// schedule and a driver.
func plan(h *Harvester, cfg *config.Config) (map[string]*entry, error) {
	out := map[string]*entry{}
	now := time.Now()
	for i := range cfg.Sources {
		src := &cfg.Sources[i]
		if src.Disabled || src.Schedule == "" || !h.CanHarvest(src.Kind) {
			continue
		}
		sched, err := config.ParseSchedule(src.Schedule)
		if err != nil {
			return nil, fmt.Errorf("harvester: source %q: schedule %q: %w", src.ID, src.Schedule, err)
		}
		// At most a quarter of the interval, so that a frequent
		// schedule still runs on time.
		next := sched.Next(now)
		out[src.ID] = &entry{expr: src.Schedule, sched: sched, jitter: min(cfg.Harvest.Jitter, sched.Next(next).Sub(next)/4)}
	}
	return out, nil
}

// schedule puts e on the cron schedule (s.mu held, or s not shared yet).
func (s *Scheduler) schedule(id string, e *entry) cron.EntryID {
	return s.cron.Schedule(e.sched, cron.FuncJob(func() { s.Trigger(id, true) }))
}

// Start starts the schedule. It also shows every source in the metrics,
// with its last success as stored.
func (s *Scheduler) Start() {
	var ids []string
	for _, src := range s.h.Config().Sources {
		ids = append(ids, src.ID)
	}
	s.initMetrics(ids)
	s.cron.Start()
}

// initMetrics shows sources in the metrics, with their last success and
// whether their last run failed, as stored.
func (s *Scheduler) initMetrics(ids []string) {
	m := s.h.opts.Metrics
	if m == nil {
		return
	}
	for _, id := range ids {
		var last time.Time
		failed := false
		if runs, err := s.h.st.Runs(id, 0); err == nil {
			failed = len(runs) > 0 && runs[0].Err != ""
			for _, r := range runs {
				if r.Err == "" {
					last = r.End
					break
				}
			}
		}
		m.initSource(id, last, failed)
	}
}

// Reloaded says what Reload changed in the schedule.
type Reloaded struct {
	Scheduled   []string // sources put on the schedule: new, enabled or given a schedule
	Unscheduled []string // sources taken off it: removed, disabled or left without a schedule
	Rescheduled []string // sources whose schedule changed
}

// Reload makes cfg the configuration in force, while the schedule runs.
// Sources it adds (or enables, or gives a schedule) are scheduled; those
// it removes (or disables, or leaves without a schedule) lose their cron
// entry; those whose schedule changed get the new one, their next run
// computed afresh; the others keep their next run. A paused source stays
// paused (Resume puts it on its new schedule); harvest.max_concurrent and
// harvest.jitter apply to the runs that start from now on.
//
// Runs in flight go on with the configuration they started with (see
// Harvester.Run) and finish normally, whether their source was changed
// or removed: nothing is interrupted. Runs still waiting (for their
// jitter delay or a slot) start with cfg, or not at all if their source
// is gone. A source is still never run twice at once: a new schedule
// firing while the old run goes on is skipped as an overlap. On error
// nothing has changed.
func (s *Scheduler) Reload(cfg *config.Config) (Reloaded, error) {
	var r Reloaded
	planned, err := plan(s.h, cfg)
	if err != nil {
		return r, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return r, errors.New("harvester: the scheduler is stopped")
	}
	prev := s.h.Config()
	s.h.cfg.Store(cfg)
	s.slots.setLimit(max(cfg.Harvest.MaxConcurrent, 1))
	for _, src := range prev.Sources {
		id := src.ID
		old := s.entries[id]
		if old == nil {
			continue
		}
		e := planned[id]
		switch {
		case e == nil:
			if old.id != pausedEntry {
				s.cron.Remove(old.id)
			}
			delete(s.entries, id)
			r.Unscheduled = append(r.Unscheduled, id)
		case e.expr == old.expr:
			old.jitter = e.jitter
		default:
			e.id = pausedEntry
			if old.id != pausedEntry {
				s.cron.Remove(old.id)
				e.id = s.schedule(id, e)
			}
			s.entries[id] = e
			r.Rescheduled = append(r.Rescheduled, id)
		}
	}
	for _, src := range cfg.Sources {
		if e := planned[src.ID]; e != nil && s.entries[src.ID] == nil {
			e.id = s.schedule(src.ID, e)
			s.entries[src.ID] = e
			r.Scheduled = append(r.Scheduled, src.ID)
		}
	}
	// The metrics show the new sources, and no longer the removed ones
	// (a run of one still going shows its end again). Under s.mu, so that
	// a new source triggered at once is not shown idle after.
	var added []string
	for _, src := range cfg.Sources {
		if _, ok := prev.Source(src.ID); !ok {
			added = append(added, src.ID)
		}
	}
	s.initMetrics(added)
	for _, src := range prev.Sources {
		if _, ok := cfg.Source(src.ID); !ok {
			s.h.opts.Metrics.forget(src.ID)
		}
	}
	s.mu.Unlock()
	return r, nil
}

// Trigger starts a run of source id in the background, after the jitter
// delay if jitter is set, unless one is already waiting or running, or
// the source is not in the configuration (then it returns false).
func (s *Scheduler) Trigger(id string, jitter bool) bool {
	s.mu.Lock()
	busy := s.busy[id]
	_, known := s.h.Config().Source(id)
	if s.closed || busy != "" || !known {
		s.mu.Unlock()
		switch {
		case busy != "":
			s.h.log.Info("harvest skipped: the previous one is still "+busy, "source", id)
			s.h.opts.Metrics.guard(id, "overlap")
		case !known:
			s.h.log.Info("harvest skipped: the source is no longer configured", "source", id)
		}
		return false
	}
	var delay time.Duration
	if e := s.entries[id]; jitter && e != nil {
		delay = e.jitter
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
		if delay > 0 {
			if s.h.sleep(s.ctx, rand.N(delay)) != nil {
				s.h.opts.Metrics.setState(id, stateIdle)
				return
			}
		}
		if s.slots.acquire(s.ctx) != nil {
			s.h.opts.Metrics.setState(id, stateIdle)
			return
		}
		defer s.slots.release()
		s.mu.Lock()
		src, known := s.h.Config().Source(id)
		s.busy[id] = stateRunning
		s.mu.Unlock()
		if !known {
			s.h.log.Info("harvest not started: the source was removed from the configuration", "source", id)
			return
		}
		if jitter && src.Disabled {
			// Scheduled before a reload disabled it (an operator's
			// trigger of a disabled source still runs).
			s.h.log.Info("harvest not started: the source was disabled", "source", id)
			return
		}
		// Errors are stored with the run, logged and counted by Run. The
		// run gives its slot back while it waits to retry.
		s.h.Run(withSlot(s.ctx, s.slots), id, nil)
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
	var entry cron.EntryID
	e, ok := s.entries[id]
	if ok {
		entry = e.id // Pause and Resume change it under the lock
	}
	s.mu.Unlock()
	if !ok || entry == pausedEntry {
		return time.Time{}
	}
	return s.cron.Entry(entry).Next
}

// Status returns the status of every configured source as the scheduler
// knows it: state and next run from the schedule, the rest from the store.
func (s *Scheduler) Status() ([]SourceStatus, error) {
	ss, err := ReadStatus(s.h.st, s.h.Config())
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
		if e, ok := s.entries[st.ID]; ok && e.id != pausedEntry {
			st.Next = s.cron.Entry(e.id).Next
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

// limiter bounds how many harvests run at once. Its limit may change
// (Reload): raised, waiting runs start at once; lowered, the runs beyond
// it finish and no new one starts until the count is under it.
type limiter struct {
	mu       sync.Mutex
	n, limit int
	wake     chan struct{} // closed (and replaced) when a slot may be free
}

func newLimiter(limit int) *limiter {
	return &limiter{limit: limit, wake: make(chan struct{})}
}

// acquire takes a slot, waiting for one, or returns ctx's error.
func (l *limiter) acquire(ctx context.Context) error {
	for {
		l.mu.Lock()
		if l.n < l.limit {
			l.n++
			l.mu.Unlock()
			return nil
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// slotKey is the context key of the limiter slot a run holds.
type slotKey struct{}

// withSlot returns ctx carrying the slot of l its run holds.
func withSlot(ctx context.Context, l *limiter) context.Context {
	return context.WithValue(ctx, slotKey{}, l)
}

// wait waits d, or until ctx is done, without holding a slot of
// max_concurrent meanwhile (a peer asking to retry much later must not
// stall every other source): the slot ctx's run holds is given back and
// taken again, waiting for one if the others are busy, before it goes on.
func (j *Job) wait(ctx context.Context, d time.Duration) error {
	l, _ := ctx.Value(slotKey{}).(*limiter)
	if l == nil || d <= 0 {
		return j.h.sleep(ctx, d)
	}
	l.release()
	err := j.h.sleep(ctx, d)
	if aerr := l.acquire(context.WithoutCancel(ctx)); aerr != nil && err == nil {
		err = aerr
	}
	return err
}

func (l *limiter) release() {
	l.mu.Lock()
	l.n--
	l.broadcast()
	l.mu.Unlock()
}

func (l *limiter) setLimit(n int) {
	l.mu.Lock()
	l.limit = n
	l.broadcast()
	l.mu.Unlock()
}

func (l *limiter) broadcast() {
	close(l.wake)
	l.wake = make(chan struct{})
}

package harvester

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// Driver harvests one kind of source.
type Driver interface {
	// Harvest runs one harvest of j.Source, committing what it receives
	// through j.Commit as it goes, each commit carrying the checkpoint to
	// resume from. It returns when the source is exhausted, ctx is done
	// or the harvest failed.
	Harvest(ctx context.Context, j *Job) error
}

// Options configure a Harvester. The zero value is ready to use.
type Options struct {
	Metrics *Metrics     // nil: no metrics
	Logger  *slog.Logger // nil: no logging
	// Transport makes the HTTP requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Sleep waits for d or until ctx is done (backoff, Retry-After,
	// jitter); nil means a timer. Tests replace it to see the waits
	// without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ErrRunning is returned by Run when the source is already being
// harvested.
var ErrRunning = errors.New("a harvest of this source is already running")

// Harvester runs harvests of the configured sources into a store. Its
// methods are safe for concurrent use; it never runs two harvests of one
// source at the same time.
type Harvester struct {
	st *store.Store
	// cfg is the configuration in force; Scheduler.Reload replaces it.
	// Each run takes the one in force when it starts.
	cfg     atomic.Pointer[config.Config]
	opts    Options
	log     *slog.Logger
	client  *http.Client
	drivers map[string]Driver

	mu      sync.Mutex
	running map[string]bool
}

// New returns a Harvester for the sources of cfg, with the oai, sru and
// file drivers registered. The sources must be registered in st.
func New(st *store.Store, cfg *config.Config, opts Options) *Harvester {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	tr := opts.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	h := &Harvester{
		st: st, opts: opts, log: log,
		// No client timeout: each request gets its source's timeout
		// through its context.
		client:  &http.Client{Transport: tr, CheckRedirect: checkRedirect},
		drivers: map[string]Driver{},
		running: map[string]bool{},
	}
	h.cfg.Store(cfg)
	h.Register(config.KindOAI, oaiDriver{})
	h.Register(config.KindSRU, sruDriver{})
	h.Register(config.KindFile, fileDriver{})
	h.Register(config.KindZ3950, Z3950Driver())
	return h
}

// Register sets the driver for sources of the given kind (config.KindZ3950
// has none until the Z39.50 client registers one). It must be called
// before the Harvester is used.
func (h *Harvester) Register(kind string, d Driver) { h.drivers[kind] = d }

// CanHarvest reports whether a driver is registered for the kind.
func (h *Harvester) CanHarvest(kind string) bool { return h.drivers[kind] != nil }

// Config returns the configuration in force: the one the Harvester was
// made with, or the last one its Scheduler was reloaded with.
func (h *Harvester) Config() *config.Config { return h.cfg.Load() }

// Store returns the store the Harvester writes to.
func (h *Harvester) Store() *store.Store { return h.st }

// Running reports whether source id is being harvested now.
func (h *Harvester) Running(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.running[id]
}

func (h *Harvester) now() time.Time {
	if h.opts.Now != nil {
		return h.opts.Now()
	}
	return time.Now()
}

func (h *Harvester) sleep(ctx context.Context, d time.Duration) error {
	if h.opts.Sleep != nil {
		return h.opts.Sleep(ctx, d)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Progress is how far a harvest has got.
type Progress struct {
	Source  string
	Pages   int   // pages (responses, files) committed
	Records int64 // records, deletions and rejects received
	Bytes   int64 // bytes received
	// Done and Total measure the work in the driver's unit (records for
	// OAI-PMH and SRU, bytes for files); Total is 0 while unknown.
	Done, Total int64
}

// Run harvests source id once, now, and stores the run's outcome
// (store.PutRun). progress, if not nil, is called after every page. The
// returned Run is what was stored; the error says why the run failed.
// The run keeps the configuration in force when it started to its end,
// whatever a reload changes meanwhile.
func (h *Harvester) Run(ctx context.Context, id string, progress func(Progress)) (store.Run, error) {
	cfg := h.cfg.Load()
	src, ok := cfg.Source(id)
	if !ok {
		return store.Run{}, fmt.Errorf("harvester: no source %q in the configuration", id)
	}
	drv := h.drivers[src.Kind]
	if drv == nil {
		return store.Run{}, fmt.Errorf("harvester: source %q: no driver for kind %s yet", id, src.Kind)
	}
	h.mu.Lock()
	if h.running[id] {
		h.mu.Unlock()
		return store.Run{}, fmt.Errorf("harvester: source %q: %w", id, ErrRunning)
	}
	h.running[id] = true
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.running, id)
		h.mu.Unlock()
	}()

	m := h.opts.Metrics
	m.setState(id, stateRunning)
	log := newRedactLogger(h.log.With("source", id), src.Redact)
	j := &Job{Source: src, Config: cfg, Store: h.st, Log: log, h: h, progress: progress}
	j.prog.Source = id
	start := h.now()
	runKey, err := h.st.BeginRun(id, start)
	if err != nil {
		return store.Run{}, fmt.Errorf("harvester: source %q: %w", id, err)
	}
	j.Log.Info("harvest started", "kind", src.Kind)
	err = j.harvest(ctx, drv)
	run := j.run
	run.Start, run.End = start, h.now()
	if c := ingest.ConvertedLine(j.converted); c != "" {
		j.notes.add("converted to UTF-8 NFC: " + c)
	}
	run.Notes = src.Redact(j.notes.String())
	if err != nil {
		err = redactErr(err, src.Redact)
		run.Err = err.Error()
	}
	if perr := h.st.EndRun(id, runKey, run); perr != nil {
		err = errors.Join(err, perr)
	}
	m.observeRun(id, run, err == nil)
	if err != nil {
		j.Log.Warn("harvest failed", "error", err, "added", run.Added, "updated", run.Updated, "deleted", run.Deleted,
			"rejected", run.Rejected, "pages", run.Pages, "duration", run.End.Sub(run.Start))
		return run, fmt.Errorf("harvester: source %q: %w", id, err)
	}
	j.Log.Info("harvest done", "added", run.Added, "updated", run.Updated, "unchanged", run.Unchanged,
		"deleted", run.Deleted, "rejected", run.Rejected, "duplicates", run.Duplicates, "pages", run.Pages,
		"duration", run.End.Sub(run.Start))
	return run, nil
}

// errRunLimit ends a run that reached max_pages or max_run_time.
var errRunLimit = errors.New("run limit")

// harvest runs the driver within the source's run limits: a run stops,
// failed, at max_run_time or when its pages reach max_pages (a peer
// serving pages without end); what it committed stays, and the next run
// resumes from there.
func (j *Job) harvest(ctx context.Context, drv Driver) error {
	src := j.Source
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	j.stop = stop
	if src.MaxRunTime > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, src.MaxRunTime,
			fmt.Errorf("%w: the run took longer than max_run_time (%v)", errRunLimit, src.MaxRunTime))
		defer cancel()
	}
	err := drv.Harvest(ctx, j)
	if err == nil || ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(ctx); errors.Is(cause, errRunLimit) {
		j.Guard("run-limit", "%v", cause)
		return fmt.Errorf("%v; the next run resumes from the last page committed", cause)
	}
	if errors.Is(err, ctx.Err()) {
		return fmt.Errorf("interrupted (%w); the next run resumes from the last page committed", err)
	}
	return err
}

// Job is one run of one source, handed to its Driver. Drivers commit
// through it so that the run's counters, metrics and progress stay right.
type Job struct {
	// Source and Config are the configuration in force when the run
	// started; a reload during the run does not change them.
	Source *config.Source
	Config *config.Config
	Store  *store.Store
	Log    *slog.Logger

	h         *Harvester
	stop      context.CancelCauseFunc // ends the run (max_pages)
	run       store.Run
	notes     notes
	prog      Progress
	progress  func(Progress)
	converted map[string]int // records converted on reading, by encoding
}

// Now returns the harvester's clock.
func (j *Job) Now() time.Time { return j.h.now() }

// Checkpoint returns the source's checkpoint, nil if none.
func (j *Job) Checkpoint() ([]byte, error) { return j.Store.Checkpoint(j.Source.ID) }

// Commit applies b (its Source is set to the job's) and counts the
// outcome. A batch with a Checkpoint commits the checkpoint with the
// records, atomically.
func (j *Job) Commit(b store.Batch) (store.Result, error) {
	b.Source = j.Source.ID
	if b.Now.IsZero() {
		b.Now = j.h.now()
	}
	res, err := j.Store.Apply(b)
	if err != nil {
		return res, err
	}
	j.count(res)
	for _, r := range res.Rejected {
		j.Reject(r.LocalID, "store", r.Err.Error())
	}
	for _, in := range b.Records {
		if in.Record != nil && in.Record.Origin != nil {
			j.Converted(in.LocalID, in.Record.Origin)
		}
	}
	return res, nil
}

// Converted counts a record whose text was converted on reading, for the
// run's notes, and logs it (at Info: `unicat harvest -v`).
func (j *Job) Converted(localID string, o *marc.Origin) {
	if j.converted == nil {
		j.converted = map[string]int{}
	}
	j.converted[o.Encoding()]++
	j.Log.Info("record converted", "id", localID, "from", o.String())
}

func (j *Job) count(res store.Result) {
	j.run.Added += res.Added
	j.run.Updated += res.Updated
	j.run.Unchanged += res.Unchanged
	j.run.Deleted += res.Deleted
	j.run.Duplicates += res.Duplicates
	j.h.opts.Metrics.records(j.Source.ID, res)
}

// Page records that a page (a response, a file) of n bytes was received
// and holding records records (deletions and rejects included), and
// reports progress.
func (j *Job) Page(n int64, records int) {
	j.run.Pages++
	if max := j.Source.MaxPages; max > 0 && j.run.Pages >= max && j.stop != nil {
		j.stop(fmt.Errorf("%w: %d pages, max_pages", errRunLimit, j.run.Pages))
	}
	j.run.Bytes += n
	j.prog.Pages++
	j.prog.Bytes += n
	j.prog.Records += int64(records)
	j.h.opts.Metrics.page(j.Source.ID, n)
	j.report()
}

// SetProgress sets the work done and the total in the driver's unit
// (total 0: unknown).
func (j *Job) SetProgress(done, total int64) {
	j.prog.Done, j.prog.Total = done, total
}

func (j *Job) report() {
	if j.progress != nil {
		j.progress(j.prog)
	}
}

// Reject counts a record that could not be stored. reason is a short
// label for metrics (xml, marc, no-id, diagnostic, ...); detail says what
// was wrong, for the run's notes.
func (j *Job) Reject(id, reason, detail string) {
	j.run.Rejected++
	j.h.opts.Metrics.reject(j.Source.ID, reason)
	if id == "" {
		id = "(no id)"
	}
	j.notes.add(fmt.Sprintf("rejected %s (%s): %s", id, reason, detail))
	j.Log.Debug("record rejected", "id", id, "reason", reason, "detail", detail)
}

// Note adds a line to the run's notes (repairs and the like).
func (j *Job) Note(format string, args ...any) {
	j.notes.add(fmt.Sprintf(format, args...))
}

// Guard counts a guard that tripped (in metrics and the run's notes).
func (j *Job) Guard(guard, format string, args ...any) {
	j.h.opts.Metrics.guard(j.Source.ID, guard)
	msg := fmt.Sprintf(format, args...)
	j.notes.add("guard " + guard + ": " + msg)
	j.Log.Warn("guard tripped", "guard", guard, "detail", msg)
}

// notes collects a run's notes: repeated lines are counted, not repeated,
// and at most maxNotes distinct lines are kept.
type notes struct {
	order []string
	count map[string]int
	more  int
}

const maxNotes = 40

func (n *notes) add(s string) {
	if n.count == nil {
		n.count = map[string]int{}
	}
	if _, ok := n.count[s]; !ok {
		if len(n.order) >= maxNotes {
			n.more++
			return
		}
		n.order = append(n.order, s)
	}
	n.count[s]++
}

func (n *notes) String() string {
	var b strings.Builder
	for _, s := range n.order {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(s)
		if c := n.count[s]; c > 1 {
			fmt.Fprintf(&b, " (×%d)", c)
		}
	}
	if n.more > 0 {
		fmt.Fprintf(&b, "\n... and %d more", n.more)
	}
	return b.String()
}

// deleteBatch bounds the deletions applied in one transaction by
// commitWithDeletions.
const deleteBatch = 5000

// commitWithDeletions commits b together with deletions of every live
// record of the source whose local id is not in seen: the records that
// disappeared from a full listing. b's checkpoint goes with the last
// deletions, so the listing counts as done only when they are all
// committed. An empty listing while records are stored is refused: a
// server that lost its catalog for an hour must not empty ours.
func (j *Job) commitWithDeletions(ctx context.Context, b store.Batch, seen map[string]bool) error {
	for _, r := range b.Records {
		seen[r.LocalID] = true
	}
	var gone []string
	live := 0
	err := j.Store.View(func(tx *store.Tx) error {
		return tx.ForEachRecord(j.Source.ID, func(sr *store.SourceRecord) error {
			if sr.Deleted {
				return nil
			}
			live++
			if !seen[sr.LocalID] {
				gone = append(gone, sr.LocalID)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	if len(seen) == 0 && live > 0 {
		j.Guard("empty-listing", "the full listing held no records; %d stored records not deleted", live)
		return fmt.Errorf("the full listing held no records while %d are stored: refusing to delete them all", live)
	}
	if len(gone) > 0 {
		j.Note("%d records missing from the full listing marked deleted", len(gone))
	}
	now := j.h.now()
	for len(gone) > deleteBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		part := store.Batch{}
		for _, id := range gone[:deleteBatch] {
			part.Deletions = append(part.Deletions, store.Deletion{LocalID: id, Datestamp: now})
		}
		if _, err := j.Commit(part); err != nil {
			return err
		}
		gone = gone[deleteBatch:]
	}
	for _, id := range gone {
		b.Deletions = append(b.Deletions, store.Deletion{LocalID: id, Datestamp: now})
	}
	_, err = j.Commit(b)
	return err
}

// rejectReason labels a record the marc reader refused, for metrics.
func rejectReason(err error) string {
	if errors.Is(err, marc.ErrRecordTooLarge) {
		return "too-large"
	}
	return "marc"
}

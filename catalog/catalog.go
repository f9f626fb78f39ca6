package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
)

// Options configure Open.
type Options struct {
	Path   string // the bbolt file
	NoSync bool   // skip fsync on commit (tests, throwaway imports)

	// Sources and Libraries are registered in the store before anything
	// else: batches are only accepted for registered sources.
	Sources   []store.SourceInfo
	Libraries []store.LibraryInfo

	// Dedup configures deduplication. Deduper, when set, is used instead
	// of dedup.New(Dedup) (a caller that wants to watch its progress or
	// change its options later keeps it).
	Dedup   dedup.Options
	Deduper *dedup.Deduper

	// Now is the clock that positions changes in the OAI-PMH lists; nil
	// means time.Now.
	Now func() time.Time
	// IndexProgress, when set, hears how far a rebuild of the search index
	// Open finds necessary has come (phases "search read" and "search
	// write", see RebuildIndex), or the build of a bulk load it completes
	// (see FinishBulk).
	IndexProgress func(phase string, done, total int)
	// BuildLater leaves those builds to FinishOpen, for a service that
	// answers its health check meanwhile (a build at a million records
	// takes a minute or more): until FinishOpen returns, Building says a
	// build is pending or running, and the catalog must not be served,
	// written to or checked.
	BuildLater bool
}

// Catalog is an open union catalog. Its methods are safe for concurrent
// use; Close it when done.
type Catalog struct {
	st     *store.Store
	dedup  *dedup.Deduper
	search *search.Index
	oai    *oaiindex.Index
	pipe   *pipeline
	build  buildState

	// The check of the OAI-PMH index Open or FinishOpen starts
	// (checkOAI); nil until then.
	stopCheck context.CancelFunc
	checked   chan struct{} // closed when it is over
	checkErr  error
}

// Open opens (creating it if need be) the catalog at opts.Path, registers
// the sources and libraries, and brings the derived data up to date: the
// deduplication rebuilds what its rules changed, the search index is
// rebuilt if it is missing or disagrees with the union records, and the
// OAI-PMH index catches up with changes made while it was not kept. What
// takes a pass over every record is left out, so that a large catalog
// serves at once: the check of the OAI-PMH index's items runs beside the
// service (Checked), and deduplication builds its candidate index for its
// first batch. With opts.BuildLater the builds are left to FinishOpen.
func Open(opts Options) (*Catalog, error) { return OpenContext(context.Background(), opts) }

// OpenContext is Open with a context for the builds Open may run (the
// build of a bulk load a kill interrupted, of new matching rules, of a
// missing search index): once ctx is done they stop soon and OpenContext
// returns ctx's error, leaving them for the next Open to run again. (A
// signal during a build at start otherwise waited for it: minutes at a
// million records.)
func OpenContext(ctx context.Context, opts Options) (*Catalog, error) {
	st, err := store.Open(opts.Path, store.Options{NoSync: opts.NoSync})
	if err != nil {
		return nil, err
	}
	c := &Catalog{st: st, dedup: opts.Deduper, search: search.New()}
	if c.dedup == nil {
		c.dedup = dedup.New(opts.Dedup)
	}
	if err := c.open(ctx, opts); err != nil {
		st.Close()
		return nil, err
	}
	if !c.build.opening {
		c.startCheck()
	}
	return c, nil
}

// startCheck starts the check of the OAI-PMH index, which runs as long as
// the catalog is open.
func (c *Catalog) startCheck() {
	checkCtx, cancel := context.WithCancel(context.Background())
	c.stopCheck, c.checked = cancel, make(chan struct{})
	go func() { defer close(c.checked); c.checkErr = c.checkOAI(checkCtx) }()
}

// FinishOpen runs the builds an Open with BuildLater left (none if it
// left none), with progress as Options.IndexProgress, and then starts the
// check of the OAI-PMH index. Once ctx is done the builds stop soon, with
// ctx's error, leaving them for the next Open; the catalog must then be
// closed unserved.
func (c *Catalog) FinishOpen(ctx context.Context, progress func(phase string, done, total int)) error {
	c.build.mu.Lock()
	opening := c.build.opening
	c.build.mu.Unlock()
	if !opening {
		return nil
	}
	if err := c.buildAtOpen(ctx, progress); err != nil {
		return err
	}
	c.startCheck()
	c.build.mu.Lock()
	c.build.opening = false
	c.build.mu.Unlock()
	return nil
}

func (c *Catalog) open(ctx context.Context, opts Options) error {
	for _, s := range opts.Sources {
		if err := c.st.PutSource(s); err != nil {
			return err
		}
	}
	if err := c.st.PutLibraries(opts.Libraries); err != nil {
		return err
	}
	c.oai = oaiindex.New(opts.Now)
	c.pipe = newPipeline(c.dedup, c.search, c.oai)
	pending, err := c.pendingBuild()
	if err != nil {
		return err
	}
	c.pipe.deferred.Store(pending)
	if err := c.st.AddHook(c.pipe); err != nil {
		return err
	}
	if opts.BuildLater {
		indexNeeded, err := c.indexNeeded()
		if err != nil {
			return err
		}
		if pending || indexNeeded {
			c.build.opening = true
			return nil
		}
	}
	return c.buildAtOpen(ctx, opts.IndexProgress)
}

// buildAtOpen is the end of an Open: it completes a pending bulk build
// or rebuilds the search index if either is needed, and brings the
// OAI-PMH index up to date.
func (c *Catalog) buildAtOpen(ctx context.Context, progress func(phase string, done, total int)) error {
	completed, err := c.completePendingBuild(ctx, progress)
	if err != nil {
		return err
	}
	if completed {
		slog.Warn("catalog: built the union catalog from the stored records")
	} else if err := c.ensureIndex(ctx, progress); err != nil {
		return err
	}
	return c.st.Update(c.oai.Sync)
}

// checkOAI reads every item of the OAI-PMH index, in short read
// transactions that hold up nothing, and rebuilds the index if they
// disagree with its counts (oaiindex.Check). It runs beside the service:
// reading them at start kept a large catalog from answering for as long
// as it took.
func (c *Catalog) checkOAI(ctx context.Context) error {
	ok, err := oaiindex.Check(ctx, func(fn func(*bbolt.Tx) error) error {
		return c.st.View(func(tx *store.Tx) error { return fn(tx.Bolt()) })
	})
	if err != nil || ok {
		if err != nil && ctx.Err() == nil {
			slog.Error("catalog: check of the OAI-PMH index failed", "err", err)
		}
		return err
	}
	slog.Warn("catalog: the OAI-PMH index lacks items it counts: rebuilding it (resumption tokens issued before are refused)")
	if err := c.st.Update(c.oai.Repair); err != nil {
		slog.Error("catalog: rebuild of the OAI-PMH index failed", "err", err)
		return err
	}
	return nil
}

// Checked waits until the check of the OAI-PMH index Open (or
// FinishOpen) started is over (and the index rebuilt, if it had to be),
// or ctx is done, and returns the check's error.
func (c *Catalog) Checked(ctx context.Context) error {
	select {
	case <-c.checked:
		return c.checkErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the check of the OAI-PMH index if it is still running and
// closes the store file. Nothing may use the catalog afterwards.
func (c *Catalog) Close() error {
	if c.stopCheck != nil {
		c.stopCheck()
		<-c.checked
	}
	return c.st.Close()
}

// Store is the catalog's store: the write side. A batch applied to it
// (Apply, Prepare and Commit, NewPipeline) runs the whole pipeline.
func (c *Catalog) Store() *store.Store { return c.st }

// Deduper is the catalog's deduplication, for a configuration reload
// (SetOptions).
func (c *Catalog) Deduper() *dedup.Deduper { return c.dedup }

// Path is the store file's path.
func (c *Catalog) Path() string { return c.st.Path() }

// View calls fn with a snapshot of the catalog as the last committed
// batch left it. The snapshot and everything read through it are valid
// until fn returns. ctx is the caller's: View refuses to start once it is
// done, and the snapshot's searches and walks stop when it is.
func (c *Catalog) View(ctx context.Context, fn func(Snapshot) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.st.View(func(tx *store.Tx) error {
		return fn(&snapshot{tx: tx, search: c.search})
	})
}

// errSettled ends the empty write transaction of Settle.
var errSettled = errors.New("settled")

// Settle returns once the batch being committed when it was called, if
// any, has committed: a snapshot taken afterwards holds every change
// stamped before the call (an OAI-PMH list cut at that moment misses none).
func (c *Catalog) Settle(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := c.st.Update(func(*bbolt.Tx) error { return errSettled })
	if errors.Is(err, errSettled) {
		return nil
	}
	return err
}

// Size is the store file's size in bytes.
func (c *Catalog) Size() (int64, error) { return c.st.Size() }

// Backup writes a consistent copy of the store file to w (one read
// transaction: batches go on meanwhile) and returns its size.
func (c *Catalog) Backup(w io.Writer) (int64, error) { return c.st.Backup(w) }

// ensureIndex rebuilds the search index when it is missing, was built by
// another version or does not hold every union record, so that searches
// and incremental updates start from a complete index.
func (c *Catalog) ensureIndex(ctx context.Context, progress func(phase string, done, total int)) error {
	needed, err := c.indexNeeded()
	if err != nil || !needed {
		return err
	}
	c.setPhase("search")
	defer c.setPhase("")
	if progress != nil {
		p := progress
		progress = func(phase string, done, total int) { p("search "+phase, done, total) }
	}
	_, err = RebuildIndex(ctx, c.st, progress)
	return err
}

// indexNeeded reports whether the search index must be rebuilt.
func (c *Catalog) indexNeeded() (needed bool, err error) {
	err = c.st.View(func(tx *store.Tx) error {
		needed, err = c.search.NeedsRebuild(tx.Bolt())
		return err
	})
	return needed, err
}

// RebuildIndex rebuilds the search index of st from its union records and
// returns how many it indexed. progress, when set, hears the phase ("read",
// then "write"), the records done and the live union records in all.
// Nothing else may write to st meanwhile. Once ctx is done it stops
// soon, leaving the index marked as needing a rebuild.
func RebuildIndex(ctx context.Context, st *store.Store, progress func(phase string, done, total int)) (int, error) {
	return rebuildIndex(ctx, st, progress, nil)
}

// rebuildIndex is RebuildIndex with work of the caller's run beside its
// last writes (search.RebuildOptions.Beside).
func rebuildIndex(ctx context.Context, st *store.Store, progress func(phase string, done, total int), beside func() error) (int, error) {
	var total int
	err := st.View(func(tx *store.Tx) error {
		live, _, err := dedup.Count(tx.Bolt())
		total = live
		return err
	})
	if err != nil {
		return 0, err
	}
	opts := search.RebuildOptions{TempDir: filepath.Dir(st.Path()), Beside: beside}
	if progress != nil {
		opts.Progress = func(phase string, done int) { progress(phase, done, total) }
	}
	n, err := search.New().Rebuild(ctx, st, opts)
	if err != nil {
		return n, fmt.Errorf("catalog: rebuild the search index: %w", err)
	}
	return n, nil
}

// OptionsFromConfig is the catalog a configuration describes: its store
// file, every configured source and library, and deduplication as
// configured.
func OptionsFromConfig(cfg *config.Config) Options {
	opts := Options{Path: cfg.StorePath(), Dedup: dedup.OptionsFromConfig(cfg), Libraries: LibraryInfos(cfg)}
	for i := range cfg.Sources {
		opts.Sources = append(opts.Sources, SourceInfo(&cfg.Sources[i]))
	}
	return opts
}

// SourceInfo is a configured source's registration in the store.
func SourceInfo(s *config.Source) store.SourceInfo {
	return store.SourceInfo{ID: s.ID, Name: s.Name, LibraryCode: s.LibraryCode, Level: s.Level, Kind: s.Kind}
}

// LibraryInfos are a configuration's libraries as the store registers
// them.
func LibraryInfos(cfg *config.Config) []store.LibraryInfo {
	var out []store.LibraryInfo
	for _, l := range cfg.LibraryList() {
		out = append(out, store.LibraryInfo{Code: l.Code, Name: l.Name, Level: l.Level, OrgCode: l.OrgCode, Address: l.Address})
	}
	return out
}

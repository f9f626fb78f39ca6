package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/internal/progress"
	"github.com/unicat/unicat/store"
)

// runHarvest runs the named sources (all enabled ones by default) once,
// now, in the foreground.
func runHarvest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("harvest", stderr)
	parallel := fs.Int("parallel", 0, "sources harvested at once (default: harvest.max_concurrent)")
	verbose := fs.Bool("v", false, "log each request retried and each guard tripped")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	ids, err := harvestIDs(cfg, fs.Args())
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return fmt.Errorf("no enabled sources to harvest")
	}
	n := *parallel
	if n <= 0 {
		n = cfg.Harvest.MaxConcurrent
	}
	n = max(1, min(n, len(ids)))

	cat, err := openCatalog(ctx, cfg)
	if err != nil {
		return err
	}
	defer cat.Close()
	level := slog.LevelError
	if *verbose {
		level = slog.LevelInfo
	}
	h := harvester.New(cat.Store(), cfg, harvester.Options{Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))})

	results := harvestAll(ctx, h, ids, n, stderr)

	failed := 0
	for i, id := range ids {
		r, err := results[i].run, results[i].err
		fmt.Fprintf(stdout, "%s: added %d, updated %d, unchanged %d, deleted %d, rejected %d, duplicate %d; %d pages, %d bytes in %v\n",
			id, r.Added, r.Updated, r.Unchanged, r.Deleted, r.Rejected, r.Duplicates, r.Pages, r.Bytes,
			r.End.Sub(r.Start).Round(time.Millisecond))
		for _, l := range strings.Split(r.Notes, "\n") {
			if l != "" {
				fmt.Fprintf(stdout, "  %s\n", l)
			}
		}
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "  error: %v\n", err)
		}
	}
	if unknown, err := unknownHolders(ctx, cat, cfg); err == nil {
		printUnknownHolders(stdout, unknown)
	}
	if failed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d sources failed", failed, len(ids))}
	}
	return nil
}

// harvestIDs are the sources named, or every enabled one when none is.
func harvestIDs(cfg *config.Config, named []string) ([]string, error) {
	var ids []string
	if len(named) == 0 {
		for _, s := range cfg.Sources {
			if !s.Disabled {
				ids = append(ids, s.ID)
			}
		}
	}
	for _, id := range named {
		s, ok := cfg.Source(id)
		switch {
		case !ok:
			return nil, fmt.Errorf("no source %q in the configuration", id)
		case s.Disabled:
			return nil, fmt.Errorf("source %q is disabled", id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// harvestResult is one source's run.
type harvestResult struct {
	run store.Run
	err error
}

// harvestAll runs the sources ids, n at a time, each with a progress bar
// on stderr.
func harvestAll(ctx context.Context, h *harvester.Harvester, ids []string, n int, stderr io.Writer) []harvestResult {
	// Bars redraw in place on a terminal; with several sources at once
	// they would overwrite each other, so those print lines instead.
	var out io.Writer = stderr
	if n > 1 {
		out = &lineWriter{w: stderr}
	}
	width := 0
	for _, id := range ids {
		width = max(width, len(id))
	}
	results := make([]harvestResult, len(ids))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			bar := progress.New(out, fmt.Sprintf("harvest %-*s", width, id), 0)
			run, err := h.Run(ctx, id, func(p harvester.Progress) {
				if p.Total > 0 {
					bar.SetTotal(p.Total)
				}
				done := p.Done
				if done == 0 {
					done = p.Records
				}
				bar.Set(done, p.Records)
			})
			bar.Finish()
			results[i] = harvestResult{run, err}
		}()
	}
	wg.Wait()
	return results
}

// lineWriter hides the terminal from progress bars (so they print lines)
// and keeps lines from concurrent bars whole.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// startHarvesting schedules the enabled sources (unicat serve), with the
// harvester's metrics on reg. stop interrupts the harvests in flight,
// which resume from their last page next time, and waits for them.
func startHarvesting(st *store.Store, cfg *config.Config, reg prometheus.Registerer, log *slog.Logger) (*harvester.Scheduler, func(), error) {
	m, err := harvester.NewMetrics(reg)
	if err != nil {
		return nil, nil, err
	}
	sched, err := harvester.NewScheduler(harvester.New(st, cfg, harvester.Options{Metrics: m, Logger: log}))
	if err != nil {
		return nil, nil, err
	}
	sched.Start()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sched.Stop(ctx); err != nil {
			log.Warn("harvests did not stop in time", "error", err)
		}
	}
	return sched, stop, nil
}

// harvestStatusPath serves the sources' harvest status as JSON, which
// `unicat status` reads while the service holds the store.
const harvestStatusPath = "/harvest/status"

func mountHarvestStatus(r *gin.Engine, s *harvester.Scheduler) {
	r.GET(harvestStatusPath, gin.WrapH(s))
}

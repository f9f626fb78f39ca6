package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/store"
	"github.com/unicat/unicat/web"
)

// reloader reads the configuration file again when `unicat serve` gets
// SIGHUP, and applies what a running service can change: the sources
// (added ones registered in the store, removed ones off the schedule,
// changed ones as changed), harvest and dedup. The restart-only sections
// (config.RestartOnly: data_dir, http, z3950, sru, oai, admin) keep their
// running values, and each setting the file changes in them is logged as
// needing a restart. A file with problems changes nothing: every problem
// is logged with its line, and the old configuration stays in force.
//
// Nothing in flight is interrupted: HTTP and Z39.50 connections stay
// open, and a harvest running when its source is changed or removed
// finishes with the configuration it started with (harvester.Scheduler.Reload).
type reloader struct {
	path     string                              // "" is the embedded demo
	override func(*config.Config) *config.Config // the command line's --http, --z3950
	st       *store.Store
	dd       *dedup.Deduper
	sched    *harvester.Scheduler
	web      *web.Server // nil when the web pages are not mounted
	log      *slog.Logger

	reloads *prometheus.CounterVec
	lastOK  prometheus.Gauge

	mu   sync.Mutex     // one reload at a time
	base *config.Config // in force, as the file said (before override)
	cur  atomic.Pointer[config.Config]
}

// newReloader starts with cfg, as loaded from path, in force, and
// registers the reload metrics on reg.
func newReloader(path string, cfg *config.Config, override func(*config.Config) *config.Config, reg prometheus.Registerer, log *slog.Logger) (*reloader, error) {
	r := &reloader{path: path, override: override, base: cfg, log: log,
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "unicat_config_reloads_total",
			Help: "Configuration reloads (SIGHUP), by result: ok, or error (the file was rejected and the running configuration kept).",
		}, []string{"result"}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "unicat_config_last_reload_success_timestamp_seconds",
			Help: "When the configuration in force was loaded: at start, or by the last successful reload.",
		}),
	}
	for _, c := range []prometheus.Collector{r.reloads, r.lastOK} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	r.reloads.WithLabelValues("ok")
	r.reloads.WithLabelValues("error")
	r.lastOK.SetToCurrentTime()
	r.cur.Store(override(cfg))
	return r, nil
}

// config returns the configuration in force, the command line's
// overrides applied.
func (r *reloader) config() *config.Config { return r.cur.Load() }

// run reloads on every signal from hup until ctx is done.
func (r *reloader) run(ctx context.Context, hup <-chan os.Signal) {
	for {
		select {
		case s := <-hup:
			r.log.Info("SIGHUP: reloading the configuration", "signal", s.String())
			r.reload()
		case <-ctx.Done():
			return
		}
	}
}

// reload reads the file and applies it, or logs why not, and counts the
// outcome.
func (r *reloader) reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.apply(); err != nil {
		r.reloads.WithLabelValues("error").Inc()
		return err
	}
	r.reloads.WithLabelValues("ok").Inc()
	r.lastOK.SetToCurrentTime()
	return nil
}

func (r *reloader) apply() error {
	file := r.path
	if file == "" {
		file = "(embedded demo)"
	}
	log := r.log.With("file", file)
	next, err := loadConfig(r.path)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				log.Error("config reload: problem", "line", p.Line, "field", p.Field, "problem", p.Msg)
			}
			log.Error("config reload rejected: the running configuration stays in force", "problems", len(ce.Problems))
		} else {
			log.Error("config reload rejected: the running configuration stays in force", "error", err)
		}
		return err
	}
	prev := r.base
	eff, restart := config.ForReload(prev, next)
	for _, setting := range restart {
		log.Warn("config reload: setting needs a restart; the running value stays in force", "setting", setting)
	}
	added, removed, changed := config.SourceChanges(prev, eff)
	// Registered before anything may run them; a registration left by a
	// reload that fails later is harmless (like a removed source's).
	for _, ids := range [][]string{added, changed} {
		for _, id := range ids {
			s, _ := eff.Source(id)
			if err := r.st.PutSource(catalog.SourceInfo(s)); err != nil {
				log.Error("config reload failed: the running configuration stays in force", "source", id, "error", err)
				return err
			}
		}
	}
	if err := r.st.PutLibraries(catalog.LibraryInfos(eff)); err != nil {
		log.Error("config reload failed: the running configuration stays in force", "error", err)
		return err
	}
	// Deduplication first, so the first batch of a new source has its
	// options; undone if the schedule cannot take the configuration.
	r.dd.SetOptions(dedup.OptionsFromConfig(eff))
	sched, err := r.sched.Reload(eff)
	if err != nil {
		r.dd.SetOptions(dedup.OptionsFromConfig(prev))
		_ = r.st.PutLibraries(catalog.LibraryInfos(prev)) // what the running configuration says
		log.Error("config reload failed: the running configuration stays in force", "error", err)
		return err
	}
	running := r.override(eff)
	if r.web != nil {
		r.web.SetConfig(running)
	}
	r.cur.Store(running)
	r.base = eff
	log.Info("config reloaded", "sources", len(eff.Sources), "added", added, "removed", removed, "changed", changed,
		"scheduled", sched.Scheduled, "unscheduled", sched.Unscheduled, "rescheduled", sched.Rescheduled,
		"needs_restart", restart)
	return nil
}

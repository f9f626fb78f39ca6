package harvester

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/store"
)

// reloadConfig returns a copy of cfg whose sources edit may change.
func reloadConfig(cfg *config.Config, edit func(c *config.Config)) *config.Config {
	c := *cfg
	c.Sources = slices.Clone(cfg.Sources)
	edit(&c)
	return &c
}

func sourceIndex(c *config.Config, id string) int {
	return slices.IndexFunc(c.Sources, func(s config.Source) bool { return s.ID == id })
}

// cronIDs returns the cron entries scheduled.
func cronIDs(s *Scheduler) []cron.EntryID {
	var ids []cron.EntryID
	for _, e := range s.cron.Entries() {
		ids = append(ids, e.ID)
	}
	return ids
}

// stateSeries counts the unicat_harvest_state series of a source.
func stateSeries(t *testing.T, e *env, id string) int {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		if mf.GetName() != "unicat_harvest_state" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == id {
					n++
				}
			}
		}
	}
	return n
}

// Reload adds, removes and reschedules sources in a running schedule:
// the removed source's cron entry is gone, an unchanged one keeps its
// entry and next run, a paused one stays paused on its new schedule.
func TestSchedulerReloadSwapsSchedule(t *testing.T) {
	drv := driverFunc(func(ctx context.Context, j *Job) error { return nil })
	e := schedEnv(t, 4, "@every 1h", 2, drv) // src, srcb, srcc, srcd
	s := startScheduler(t, e)
	if !s.Pause("srcd") {
		t.Fatal("pause srcd")
	}
	removedEntry := s.entries["srcb"].id
	keptEntry, keptNext := s.entries["srcc"].id, s.Next("srcc")
	oldNext := s.Next("src")
	if len(cronIDs(s)) != 3 || keptNext.IsZero() || oldNext.IsZero() {
		t.Fatalf("before: cron entries %v, next %v %v", cronIDs(s), keptNext, oldNext)
	}

	next := reloadConfig(e.cfg, func(c *config.Config) {
		c.Sources[sourceIndex(c, "src")].Schedule = "@every 5h"
		c.Sources[sourceIndex(c, "srcd")].Schedule = "@every 7h"
		nu := c.Sources[0]
		nu.ID, nu.Schedule = "srce", "@every 30m"
		c.Sources = slices.Delete(c.Sources, sourceIndex(c, "srcb"), sourceIndex(c, "srcb")+1)
		c.Sources = append(c.Sources, nu)
		c.Harvest.MaxConcurrent = 3
	})
	if err := e.st.PutSource(store.SourceInfo{ID: "srce", Name: "New", LibraryCode: "NEW", Level: "commune", Kind: config.KindZ3950}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Reload(next)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Scheduled, []string{"srce"}) || !slices.Equal(got.Unscheduled, []string{"srcb"}) ||
		!slices.Equal(got.Rescheduled, []string{"src", "srcd"}) {
		t.Errorf("reload: %+v", got)
	}
	if e.h.Config() != next {
		t.Error("the harvester does not have the new configuration")
	}
	// src, srcc and srce are on the schedule; srcb's entry is gone, srcd
	// is paused.
	ids := cronIDs(s)
	if len(ids) != 3 || slices.Contains(ids, removedEntry) || s.entries["srcb"] != nil {
		t.Errorf("cron entries %v (srcb's was %d)", ids, removedEntry)
	}
	if s.entries["srcc"].id != keptEntry || !s.Next("srcc").Equal(keptNext) {
		t.Errorf("unchanged srcc: entry %d next %v, was %d %v", s.entries["srcc"].id, s.Next("srcc"), keptEntry, keptNext)
	}
	if n := s.Next("src"); n.Sub(oldNext) < 3*time.Hour {
		t.Errorf("src rescheduled @every 1h → @every 5h: next %v, was %v", n, oldNext)
	}
	if n := s.Next("srce"); n.IsZero() || time.Until(n) > 30*time.Minute {
		t.Errorf("new source srce: next %v", n)
	}
	if !s.Paused("srcd") || !s.Resume("srcd") {
		t.Error("srcd not paused after the reload")
	} else if n := time.Until(s.Next("srcd")); n < 6*time.Hour || n > 7*time.Hour {
		t.Errorf("srcd resumed on its new schedule @every 7h: next in %v", n)
	}
	s.slots.mu.Lock()
	if s.slots.limit != 3 {
		t.Errorf("max_concurrent %d after reload, want 3", s.slots.limit)
	}
	s.slots.mu.Unlock()

	ss, err := s.Status()
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, st := range ss {
		listed = append(listed, st.ID)
	}
	if !slices.Equal(listed, []string{"src", "srcc", "srcd", "srce"}) {
		t.Errorf("status lists %q", listed)
	}
	if stateSeries(t, e, "srce") != len(states) || stateSeries(t, e, "srcb") != 0 {
		t.Errorf("state series: srce %d, srcb %d", stateSeries(t, e, "srce"), stateSeries(t, e, "srcb"))
	}
	if s.Trigger("srcb", false) {
		t.Error("removed source srcb triggered")
	}
	if !s.Trigger("srce", false) {
		t.Error("new source srce not triggered")
	}
	waitFor(t, func() bool { runs, _ := e.st.Runs("srce", 0); return len(runs) == 1 && !runs[0].Unfinished() })

	// A configuration whose schedule does not parse changes nothing.
	bad := reloadConfig(next, func(c *config.Config) { c.Sources[0].Schedule = "every day" })
	if _, err := s.Reload(bad); err == nil || e.h.Config() != next || len(cronIDs(s)) != 4 {
		t.Errorf("bad schedule: err %v, config swapped %v, entries %v", err, e.h.Config() != next, cronIDs(s))
	}
}

// A harvest in flight when its source is changed or removed finishes with
// the configuration it started with, and is never run twice at once; a
// raised max_concurrent starts a waiting harvest, and one waiting when
// its source is removed does not start.
func TestSchedulerReloadWhileRunning(t *testing.T) {
	var mu sync.Mutex
	release := map[string]chan struct{}{"src": make(chan struct{}), "srcb": make(chan struct{}), "srcc": make(chan struct{}), "srcd": make(chan struct{})}
	running := map[string]int{}
	peak := map[string]int{}
	urls := map[string][]string{}
	drv := driverFunc(func(ctx context.Context, j *Job) error {
		id := j.Source.ID
		mu.Lock()
		running[id]++
		peak[id] = max(peak[id], running[id])
		ch := release[id]
		mu.Unlock()
		defer func() { mu.Lock(); running[id]--; mu.Unlock() }()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		// What the run sees at its end, after the reload.
		mu.Lock()
		urls[id] = append(urls[id], j.Source.URL)
		mu.Unlock()
		_, err := j.Commit(store.Batch{Checkpoint: []byte("done")})
		return err
	})
	isRunning := func(id string) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return running[id] == 1 }
	}
	e := schedEnv(t, 4, "@every 1h", 2, drv) // src, srcb, srcc, srcd
	s := startScheduler(t, e)
	for _, id := range []string{"src", "srcb"} {
		if !s.Trigger(id, false) {
			t.Fatalf("trigger %s", id)
		}
	}
	waitFor(t, isRunning("src"))
	waitFor(t, isRunning("srcb"))
	// srcc and srcd wait for a slot (max_concurrent 2).
	if !s.Trigger("srcc", false) || !s.Trigger("srcd", false) {
		t.Fatal("trigger srcc, srcd")
	}
	if ss, _ := s.Status(); ss[2].State != stateWaiting || ss[3].State != stateWaiting {
		t.Fatalf("srcc %s, srcd %s, want waiting", ss[2].State, ss[3].State)
	}

	oldURL := e.cfg.Sources[0].URL
	next := reloadConfig(e.cfg, func(c *config.Config) {
		c.Sources[sourceIndex(c, "src")].Schedule = "@every 2h"
		c.Sources[sourceIndex(c, "src")].URL = "127.0.0.1:2100/other"
		c.Sources = slices.Delete(c.Sources, sourceIndex(c, "srcb"), sourceIndex(c, "srcb")+1)
		c.Sources = slices.Delete(c.Sources, sourceIndex(c, "srcd"), sourceIndex(c, "srcd")+1)
		c.Harvest.MaxConcurrent = 3
	})
	if _, err := s.Reload(next); err != nil {
		t.Fatal(err)
	}
	// The raised limit lets srcc start; the runs in flight go on.
	waitFor(t, isRunning("srcc"))
	if !e.h.Running("src") || !e.h.Running("srcb") {
		t.Fatal("a run in flight was stopped by the reload")
	}
	// The new schedule firing while the old run goes on is an overlap.
	if s.Trigger("src", true) || s.Trigger("srcb", false) {
		t.Error("a source was started a second time during its run")
	}
	for _, ch := range release {
		close(ch)
	}
	for _, id := range []string{"src", "srcb", "srcc"} {
		waitFor(t, func() bool { runs, _ := e.st.Runs(id, 0); return len(runs) == 1 && !runs[0].Unfinished() })
		runs, _ := e.st.Runs(id, 0)
		if runs[0].Err != "" {
			t.Errorf("%s: run after the reload failed: %s", id, runs[0].Err)
		}
		if cp, _ := e.st.Checkpoint(id); string(cp) != "done" {
			t.Errorf("%s: checkpoint %q, want the run's last commit", id, cp)
		}
	}
	waitFor(t, func() bool { return !e.h.Running("src") })
	// The next run of src uses the new settings.
	waitFor(t, func() bool { return s.Trigger("src", false) })
	waitFor(t, func() bool { runs, _ := e.st.Runs("src", 0); return len(runs) == 2 && !runs[0].Unfinished() })
	// srcd, removed while it waited, never started.
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return len(s.busy) == 0 })
	if runs, _ := e.st.Runs("srcd", 0); len(runs) != 0 {
		t.Errorf("srcd, removed while waiting, ran: %+v", runs)
	}
	mu.Lock()
	defer mu.Unlock()
	if urls["srcd"] != nil {
		t.Errorf("srcd, removed while waiting, was harvested")
	}
	if !slices.Equal(urls["src"], []string{oldURL, "127.0.0.1:2100/other"}) {
		t.Errorf("src harvested from %q, want the old URL, then the new one", urls["src"])
	}
	for id, n := range peak {
		if n != 1 {
			t.Errorf("%s ran %d times at once", id, n)
		}
	}
}

// startScheduler starts a scheduler on e, stopped when the test ends.
func startScheduler(t *testing.T, e *env) *Scheduler {
	t.Helper()
	s, err := NewScheduler(e.h)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

// A run the schedule fired just before a reload disabled its source does
// not harvest; an operator's trigger of the disabled source still does.
func TestSchedulerDisabledByReloadDoesNotRun(t *testing.T) {
	var runs atomic.Int32
	drv := driverFunc(func(ctx context.Context, j *Job) error { runs.Add(1); return nil })
	e := schedEnv(t, 1, "@every 1h", 1, drv)
	s := startScheduler(t, e)
	next := reloadConfig(e.cfg, func(c *config.Config) { c.Sources[0].Disabled = true })
	if _, err := s.Reload(next); err != nil {
		t.Fatal(err)
	}
	if !s.Trigger("src", true) { // as the cron job does
		t.Fatal("trigger refused")
	}
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.busy["src"] == "" })
	if n := runs.Load(); n != 0 {
		t.Errorf("a scheduled run of a disabled source harvested (%d runs)", n)
	}
	if !s.Trigger("src", false) {
		t.Fatal("operator trigger refused")
	}
	waitFor(t, func() bool { return runs.Load() == 1 })
}

package harvester

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/store"
)

// schedEnv configures n z3950 sources driven by drv, which stands in for
// the Z39.50 client to come (and shows its slot works).
func schedEnv(t *testing.T, n int, schedule string, maxConcurrent int, drv Driver) *env {
	t.Helper()
	e := newEnv(t, "kind: z3950\nurl: 127.0.0.1:210/db\nschedule: \""+schedule+"\"")
	for i := 1; i < n; i++ {
		s := *e.src
		s.ID = "src" + string(rune('a'+i))
		e.cfg.Sources = append(e.cfg.Sources, s)
		if err := e.st.PutSource(store.SourceInfo{ID: s.ID, Name: s.Name, LibraryCode: s.LibraryCode, Level: s.Level, Kind: s.Kind}); err != nil {
			t.Fatal(err)
		}
	}
	e.src = &e.cfg.Sources[0]
	e.cfg.Harvest.MaxConcurrent = maxConcurrent
	e.h = New(e.st, e.cfg, Options{Metrics: e.m})
	e.h.Register(config.KindZ3950, drv)
	return e
}

func TestSchedulerConcurrencyAndOverlap(t *testing.T) {
	var cur, peak, runs atomic.Int32
	release := make(chan struct{})
	drv := driverFunc(func(ctx context.Context, j *Job) error {
		n := cur.Add(1)
		defer cur.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		runs.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		_, err := j.Commit(store.Batch{Checkpoint: []byte("x")})
		return err
	})
	e := schedEnv(t, 4, "@daily", 2, drv)
	s, err := NewScheduler(e.h)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	for _, src := range e.cfg.Sources {
		if !s.Trigger(src.ID, true) {
			t.Fatalf("trigger %s refused", src.ID)
		}
	}
	// A source already waiting or running is not started twice.
	if s.Trigger("src", false) {
		t.Error("second trigger of a busy source accepted")
	}
	if metricValue(e.m.guards.WithLabelValues("src", "overlap")) != 1 {
		t.Error("overlap not counted")
	}
	waitFor(t, func() bool { return runs.Load() == 2 })
	time.Sleep(50 * time.Millisecond)
	if runs.Load() != 2 {
		t.Errorf("%d runs started with max_concurrent 2", runs.Load())
	}
	ss, err := s.Status()
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, st := range ss {
		states[st.State]++
		if st.Next.IsZero() || st.NextEstimated {
			t.Errorf("%s: next %v estimated %v", st.ID, st.Next, st.NextEstimated)
		}
	}
	if states[stateRunning] != 2 || states[stateWaiting] != 2 {
		t.Errorf("states %v", states)
	}
	close(release)
	waitFor(t, func() bool { return runs.Load() == 4 && cur.Load() == 0 })
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if peak.Load() != 2 {
		t.Errorf("peak concurrency %d, want 2", peak.Load())
	}
	for _, src := range e.cfg.Sources {
		runs, _ := e.st.Runs(src.ID, 0)
		if len(runs) != 1 || runs[0].Err != "" {
			t.Errorf("%s runs %+v", src.ID, runs)
		}
		if metricValue(e.m.state.WithLabelValues(src.ID, stateIdle)) != 1 {
			t.Errorf("%s not idle in metrics", src.ID)
		}
	}
}

// waitFor polls cond until it holds; the deadline is generous because a
// busy CI machine can hold a goroutine back for seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The cron schedule fires by itself, and Stop interrupts a run in flight,
// which is stored as interrupted.
func TestSchedulerCronAndStop(t *testing.T) {
	var mu sync.Mutex
	started := 0
	drv := driverFunc(func(ctx context.Context, j *Job) error {
		mu.Lock()
		started++
		mu.Unlock()
		<-ctx.Done()
		return ctx.Err()
	})
	e := schedEnv(t, 1, "@every 1s", 1, drv)
	s, err := NewScheduler(e.h)
	if err != nil {
		t.Fatal(err)
	}
	// Paused, the schedule does not fire; resumed, it does.
	if !s.Pause("src") || !s.Paused("src") || s.Pause("nope") {
		t.Fatal("pause")
	}
	s.Start()
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	if started != 0 {
		t.Errorf("paused source ran %d times", started)
	}
	mu.Unlock()
	if !s.Resume("src") || s.Paused("src") {
		t.Fatal("resume")
	}
	if next := s.Next("src"); next.IsZero() || time.Until(next) > time.Second {
		t.Errorf("next run %v", next)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return started == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	runs, _ := e.st.Runs("src", 0)
	if len(runs) != 1 || !strings.Contains(runs[0].Err, "interrupted") {
		t.Errorf("runs %+v", runs)
	}
	if s.Trigger("src", false) {
		t.Error("trigger after Stop accepted")
	}
	if metricValue(e.m.state.WithLabelValues("src", stateFailed)) != 1 {
		t.Error("interrupted run not shown as failed")
	}
}

func TestStatusTableAndJSON(t *testing.T) {
	e := newEnv(t, "kind: file\npath: na-tinh.xml\nschedule: \"@every 1h\"")
	copyFile(t, "../testdata/vietnamese/na-tinh.xml", e.cfg.Resolve("na-tinh.xml"))
	e.mustRun()
	if err := e.st.PutRun("src", store.Run{Start: time.Now().Add(-time.Minute), End: time.Now(), Err: "GET http://x: HTTP 500", Notes: "guard retry-after: 2 times"}); err != nil {
		t.Fatal(err)
	}
	ss, err := ReadStatus(e.st, e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || ss[0].Live != 13 || ss[0].Last.Err == "" || ss[0].LastSuccess.IsZero() || !ss[0].NextEstimated {
		t.Fatalf("status %+v", ss)
	}
	var out bytes.Buffer
	if err := WriteStatus(&out, ss, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SOURCE", "src", "failed", "HTTP 500", "~in ", "guard retry-after"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	s, err := NewScheduler(e.h)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/harvest/status", nil))
	var got []SourceStatus
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got) != 1 || got[0].State != stateFailed || got[0].Live != 13 {
		t.Errorf("JSON status %s: %v", rec.Body.String(), err)
	}
}

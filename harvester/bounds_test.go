package harvester

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicat/unicat/harvester/harvesttest"
)

func TestRedirectAllowed(t *testing.T) {
	for _, tt := range []struct {
		from, to string
		allowed  []string
		want     bool
	}{
		{"http://koha.example.vn/oai", "http://koha.example.vn/cgi-bin/oai", nil, true},
		{"http://koha.example.vn/oai", "https://koha.example.vn/oai", nil, true},
		{"http://KOHA.example.vn:80/oai", "https://koha.example.vn:443/oai", nil, true},
		{"http://koha.example.vn:8080/oai", "https://koha.example.vn/oai", nil, false},
		{"https://koha.example.vn/oai", "http://koha.example.vn/oai", nil, false}, // no downgrade
		{"http://koha.example.vn/oai", "http://koha.example.vn:8080/oai", nil, false},
		{"http://koha.example.vn/oai", "http://evil.example.org/oai", nil, false},
		{"http://koha.example.vn/oai", "http://mirror.example.vn/oai", []string{"mirror.example.vn"}, true},
		{"http://koha.example.vn/oai", "http://mirror.example.vn:81/oai", []string{"mirror.example.vn:81"}, true},
		{"http://koha.example.vn/oai", "http://mirror.example.vn:82/oai", []string{"mirror.example.vn:81"}, false},
	} {
		from, _ := url.Parse(tt.from)
		to, _ := url.Parse(tt.to)
		if got := redirectAllowed(from, to, tt.allowed); got != tt.want {
			t.Errorf("redirect %s → %s (allowed %v) = %v, want %v", tt.from, tt.to, tt.allowed, got, tt.want)
		}
	}
}

// A redirect to another server is not followed (the other server sees
// no request), unless follow_redirects lists it; a redirect on the same
// server is followed and logged.
func TestRedirectToAnotherHost(t *testing.T) {
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10}, items(t, 5))
	defer srv.Close()
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		http.Redirect(w, r, srv.URL+"?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer other.Close()
	// The source's URL redirects to the other server (127.0.0.1, but
	// another port).
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/oai?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer front.Close()
	e := newEnv(t, "kind: oai\nurl: "+front.URL+"/oai\nmax_retries: 3\nretry_wait: 1s")
	r, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "not followed") || elsewhere.Load() != 0 {
		t.Fatalf("redirect to another port: %v (the other server saw %d requests)", err, elsewhere.Load())
	}
	if len(e.slept()) != 0 || r.Err == "" {
		t.Errorf("a refused redirect was retried (slept %v) or not recorded (%q)", e.slept(), r.Err)
	}
	// Listed, it is followed (and the other server's redirect back, to
	// yet another port, must be listed too).
	ou, _ := url.Parse(other.URL)
	su, _ := url.Parse(srv.URL)
	e2 := newEnv(t, "kind: oai\nurl: "+front.URL+"/oai\nfollow_redirects: ["+ou.Host+", "+su.Host+"]")
	if r := e2.mustRun(); r.Added != 5 || elsewhere.Load() == 0 {
		t.Errorf("listed redirect: %+v, %d requests elsewhere", r, elsewhere.Load())
	}
}

// A peer serving page after page without end stops at max_pages, failed,
// keeping what it committed.
func TestMaxPages(t *testing.T) {
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 2}, items(t, 100))
	defer srv.Close()
	e := newEnv(t, "kind: oai\nurl: "+srv.URL+"\nmax_pages: 5")
	r, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "max_pages") {
		t.Fatalf("run of 50 pages with max_pages 5: %v", err)
	}
	if r.Pages != 5 || len(e.live()) != 10 {
		t.Errorf("stopped after %d pages with %d records, want 5 and 10", r.Pages, len(e.live()))
	}
	// The next run resumes where it stopped.
	r, _ = e.run()
	if len(e.live()) != 20 {
		t.Errorf("the next run: %d records, want 20 (%+v)", len(e.live()), r)
	}
}

// A peer so slow that a run would never end stops at max_run_time.
func TestMaxRunTime(t *testing.T) {
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 2, Delay: 200 * time.Millisecond}, items(t, 100))
	defer srv.Close()
	e := newEnv(t, "kind: oai\nurl: "+srv.URL+"\nmax_run_time: 1s")
	start := time.Now()
	r, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "max_run_time") || time.Since(start) > 3*time.Second {
		t.Fatalf("a 10 s harvest with max_run_time 1s: %v after %v", err, time.Since(start))
	}
	if len(e.live()) == 0 || len(e.live()) == 100 || r.Pages == 0 {
		t.Errorf("stopped with %d records over %d pages: want some, not all", len(e.live()), r.Pages)
	}
}

// A Retry-After of days is cut to harvest.max_retry_after, and
// max_retries: 0 means one request and no retry.
func TestRetryAfterCapAndNoRetries(t *testing.T) {
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10}, items(t, 5))
	defer srv.Close()
	e := newEnv(t, "kind: oai\nurl: "+srv.URL+"\nmax_retries: 2")
	srv.Fail(1, 503, "999999")
	e.mustRun()
	if got := e.slept(); !slices.Equal(got, []time.Duration{5 * time.Minute}) {
		t.Errorf("slept %v, want the 5m cap", got)
	}
	e0 := newEnv(t, "kind: oai\nurl: "+srv.URL+"\nmax_retries: 0")
	before := len(srv.Requests())
	srv.Fail(5, 503, "1")
	if _, err := e0.run(); err == nil || len(e0.slept()) != 0 || len(srv.Requests())-before != 1 {
		t.Errorf("max_retries 0: %v, slept %v, %d requests", err, e0.slept(), len(srv.Requests())-before)
	}
}

// A harvest waiting to retry gives its slot of max_concurrent back: with
// one slot, another source's harvest runs meanwhile.
func TestWaitingKeepsNoSlot(t *testing.T) {
	release := make(chan struct{})
	waiting := make(chan struct{})
	var others atomic.Int32
	drv := driverFunc(func(ctx context.Context, j *Job) error {
		if j.Source.ID == "src" {
			close(waiting)
			return j.wait(ctx, time.Hour) // as Fetch waits for a Retry-After
		}
		others.Add(1)
		return nil
	})
	e := schedEnv(t, 2, "@daily", 1, drv)
	e.h.opts.Sleep = func(ctx context.Context, d time.Duration) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s, err := NewScheduler(e.h)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	s.Trigger("src", false)
	<-waiting
	s.Trigger("srcb", false)
	waitFor(t, func() bool { return others.Load() == 1 })
	close(release)
}

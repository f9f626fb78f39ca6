package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unicat/unicat/internal/zebrapeer"
)

// Starting `unicat serve` on a loaded store: how long until it answers.

// server is a running `unicat serve`.
type server struct {
	cmd *exec.Cmd
	log *bytes.Buffer
}

// stop ends the server (SIGTERM, then SIGKILL after 20 s).
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
	}
}

// startTimes is how long a `unicat serve` took, from its start, to answer
// /healthz with 200 and to answer its first SRU search.
type startTimes struct {
	healthz, search time.Duration
}

func (t startTimes) String() string {
	return fmt.Sprintf("%v/%v", t.healthz.Round(time.Millisecond), t.search.Round(time.Millisecond))
}

// startQuery is the first search: a title word every corpus has, so the
// answer reads postings and records.
const startQuery = `dc.title = "lịch sử"`

// startServe starts `unicat serve` and measures startTimes; the caller
// stops the server.
func startServe(unicat, config, base string) (*server, startTimes, error) {
	var t startTimes
	s := &server{cmd: exec.Command(unicat, "serve", "--config", config), log: &bytes.Buffer{}}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	// If the bench is killed, the server goes with it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	client := &http.Client{Timeout: 5 * time.Minute}
	t0 := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, t, fmt.Errorf("unicat serve: %w", err)
	}
	// Polled often: the figure is a few hundred milliseconds.
	if err := pollHTTP(client, base+"/healthz", 10*time.Millisecond, 5*time.Minute); err != nil {
		s.stop()
		return nil, t, fmt.Errorf("unicat serve: %v: %s", err, tail(s.log.String(), 2000))
	}
	t.healthz = time.Since(t0)
	params := url.Values{"version": {"1.2"}, "operation": {"searchRetrieve"}, "query": {startQuery}, "maximumRecords": {"10"}}
	resp, err := client.Get(base + "/sru?" + params.Encode())
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !countRe.Match(body) {
			err = fmt.Errorf("status %d: %.300s", resp.StatusCode, body)
		}
	}
	if err != nil {
		s.stop()
		return nil, t, fmt.Errorf("unicat serve: first search: %v", err)
	}
	t.search = time.Since(t0)
	return s, t, nil
}

// pollHTTP gets u every interval until it answers 200 or limit passes.
func pollHTTP(client *http.Client, u string, every, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := client.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(every)
	}
	return fmt.Errorf("%s did not answer 200 within %s", u, limit)
}

// evict drops the pages of a file from the page cache, so that the next
// start reads it from disk as after a reboot.
func evict(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Fdatasync(int(f.Fd())); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// startRepeats is how many times each start is measured; the rows give
// the median.
const startRepeats = 3

// startRows measures `unicat serve`'s start with the store file evicted
// from the page cache (as after a reboot), then with it cached (a
// restart), startRepeats times each, and zebrasrv's restart (zs; nil
// without Zebra) alike. The last unicat server is left running for the
// caller.
func (b *bench) startRows(unicat, config, base string, zs *zebrapeer.Server) (*server, error) {
	storePath := filepath.Join(filepath.Dir(config), "data", "unicat.db")
	var srv *server
	for _, cold := range []bool{true, false} {
		var us, zebra []startTimes
		for i := 0; i < startRepeats; i++ {
			if srv != nil {
				srv.stop()
			}
			if cold {
				if err := evict(storePath); err != nil {
					return nil, err
				}
			}
			var t startTimes
			var err error
			if srv, t, err = startServe(unicat, config, base); err != nil {
				return nil, err
			}
			us = append(us, t)
			if zs != nil {
				if t, err = restartZebra(zs, cold); err != nil {
					srv.stop()
					return nil, err
				}
				zebra = append(zebra, t)
			}
		}
		b.addStartRows(cold, us, zebra)
	}
	return srv, nil
}

// addStartRows adds the rows of one kind of start: the medians of the
// times measured, zebrasrv's (none without Zebra) beside unicat's.
func (b *bench) addStartRows(cold bool, us, zebra []startTimes) {
	what := "store in the page cache"
	if cold {
		what = "store out of the page cache"
	}
	b.logf("start, %s (to listening/to the first search): unicat serve %v; zebrasrv %v", what, us, zebra)
	hz := row{what: fmt.Sprintf("`unicat serve` start to /healthz 200, %s (median of %d)", what, startRepeats),
		unit: "ms", us: ms(median(us, func(t startTimes) time.Duration { return t.healthz })), lowerBetter: true, peerName: "zebrasrv start to listening"}
	sr := row{what: fmt.Sprintf("`unicat serve` start to the first SRU answer, %s (median of %d)", what, startRepeats),
		unit: "ms", us: ms(median(us, func(t startTimes) time.Duration { return t.search })), lowerBetter: true, peerName: "zebrasrv start to the first SRU answer"}
	if len(zebra) > 0 {
		hz.peer, hz.hasPeer = ms(median(zebra, func(t startTimes) time.Duration { return t.healthz })), true
		sr.peer, sr.hasPeer = ms(median(zebra, func(t startTimes) time.Duration { return t.search })), true
	} else {
		hz.peerNA, sr.peerNA = "no Zebra in this run", "no Zebra in this run"
	}
	b.rows = append(b.rows, hz, sr)
}

// restartZebra restarts zebrasrv, its register evicted from the page
// cache first when cold, and measures how long it took to listen (the
// healthz of startTimes) and to answer startQuery.
func restartZebra(zs *zebrapeer.Server, cold bool) (startTimes, error) {
	var t startTimes
	if cold {
		for _, dir := range []string{"reg", "shadow"} {
			files, _ := filepath.Glob(filepath.Join(zs.Dir(), dir, "*"))
			for _, f := range files {
				if err := evict(f); err != nil {
					return t, err
				}
			}
		}
	}
	t0 := time.Now()
	if err := zs.Restart(); err != nil {
		return t, err
	}
	t.healthz = time.Since(t0)
	params := url.Values{"version": {"1.2"}, "operation": {"searchRetrieve"}, "query": {startQuery}, "maximumRecords": {"10"}}
	body, err := zs.SRU(context.Background(), &http.Client{Timeout: time.Minute}, params)
	if err == nil && !countRe.Match(body) {
		err = fmt.Errorf("%.300s", body)
	}
	if err != nil {
		return t, fmt.Errorf("zebrasrv: first search: %v", err)
	}
	t.search = time.Since(t0)
	return t, nil
}

func median[T any](v []T, d func(T) time.Duration) time.Duration {
	s := make([]time.Duration, len(v))
	for i, x := range v {
		s[i] = d(x)
	}
	slices.Sort(s)
	return s[len(s)/2]
}

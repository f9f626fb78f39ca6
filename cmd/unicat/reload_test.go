package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/z3950"
)

const reloadToken = "reload-test-token-0123456789"

// replaceOnce replaces the first old in s, failing the test when s has
// none (the demo configuration changed under the test).
func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("configuration lacks %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

// keepAlive is an HTTP client holding one connection to the service,
// which reports whether each request went over the connection it opened
// first.
type keepAlive struct {
	t     *testing.T
	base  string
	c     *http.Client
	first string // local address of the first connection
}

func newKeepAlive(t *testing.T, addr string) *keepAlive {
	return &keepAlive{t: t, base: "http://" + addr,
		c: &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}}
}

// get answers the status and body of GET path (with the admin token when
// admin is set), failing the test unless it went over the first
// connection.
func (k *keepAlive) get(path string, admin bool) (int, string) {
	k.t.Helper()
	var local string
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { local = ci.Conn.LocalAddr().String() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", k.base+path, nil)
	if err != nil {
		k.t.Fatal(err)
	}
	if admin {
		req.Header.Set("Authorization", "Bearer "+reloadToken)
	}
	resp, err := k.c.Do(req)
	if err != nil {
		k.t.Fatalf("GET %s: %v", path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		k.t.Fatalf("GET %s: %v", path, err)
	}
	if k.first == "" {
		k.first = local
	} else if local != k.first {
		k.t.Fatalf("GET %s went over a new connection (%s, the first was %s): the old one was dropped", path, local, k.first)
	}
	return resp.StatusCode, string(body)
}

// schedules returns each source's schedule and next run from
// /harvest/status (what `unicat status` shows while the service runs).
func (k *keepAlive) schedules() map[string]harvester.SourceStatus {
	k.t.Helper()
	code, body := k.get(harvestStatusPath, false)
	var ss []harvester.SourceStatus
	if err := json.Unmarshal([]byte(body), &ss); code != http.StatusOK || err != nil {
		k.t.Fatalf("status %d %v: %s", code, err, body)
	}
	out := map[string]harvester.SourceStatus{}
	for _, s := range ss {
		out[s.ID] = s
	}
	return out
}

// metric returns the line of /metrics starting with name.
func (k *keepAlive) metric(name string) string {
	k.t.Helper()
	_, body := k.get("/metrics", false)
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	k.t.Fatalf("/metrics lacks %s", name)
	return ""
}

// TestServeReloadOnSIGHUP rewrites the running service's configuration
// (a source added, one removed, one rescheduled, http.addr changed) and
// sends SIGHUP: the service takes the sources and schedules, leaves
// http.addr for a restart, and keeps the HTTP keep-alive and Z39.50
// connections opened before. Then an invalid file: rejected with its
// line, counted, and the previous configuration goes on.
func TestServeReloadOnSIGHUP(t *testing.T) {
	cfgPath := demoConfig(t)
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := replaceOnce(t, string(raw), "\nsources:\n", "\nadmin: {token: \""+reloadToken+"\"}\nsources:\n")
	if err := os.WriteFile(cfgPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, e, code := runUnicat(t, "import", "--config", cfgPath, "--all"); code != 0 {
		t.Fatal(e)
	}
	cmd, addrs, log := startServeLog(t, cfgPath, z3950AddrRe, httpAddrRe)
	zaddr, haddr := addrs[0], addrs[1]

	// The connections that must survive the reloads.
	web := newKeepAlive(t, haddr)
	before := web.schedules()
	if before["na-tinh"].Schedule != "@every 1h" || before["cua-lo"].ID == "" || before["nghi-loc-2"].ID != "" {
		t.Fatalf("sources before the reload: %+v", before)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	zc, err := z3950.Dial(ctx, zaddr+"/unicat", z3950.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	hits, err := zc.Search(ctx, `@attr 1=1003 "nguyen du"`, "default")
	if err != nil || hits == 0 {
		t.Fatalf("Z39.50 search before the reload: %d hits, %v", hits, err)
	}

	// A source added (nghi-loc-2), one removed (cua-lo), one rescheduled
	// (na-tinh), and http.addr changed, which needs a restart.
	abs, _ := filepath.Abs("../../testdata")
	doc = replaceOnce(t, doc, `schedule: "@every 1h"`, `schedule: "@every 3h"`)
	doc = replaceOnce(t, doc, `http:  {addr: "127.0.0.1:0"}`, `http:  {addr: "127.0.0.1:1"}`)
	cut := strings.Index(doc, "  - id: cua-lo")
	if cut < 0 {
		t.Fatal("no cua-lo source in the demo configuration")
	}
	doc = doc[:cut] + `  - id: nghi-loc-2
    name: "Phòng đọc xã Nghi Lộc (2)"
    library_code: NA-NGHILOC2
    level: commune
    kind: file
    path: ` + abs + `/vietnamese/xa-nghi-loc.mrc
    charset: windows-1258
    schedule: "@every 30m"
`
	if err := os.WriteFile(cfgPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	mark := log.len()
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	log.wait(t, mark, regexp.MustCompile(`msg="config reloaded".* added=\[nghi-loc-2\] removed=\[cua-lo\] changed=\[na-tinh\]`), 30*time.Second)
	log.wait(t, mark, regexp.MustCompile(`msg="config reload: setting needs a restart.*" .*setting=http\.addr`), time.Second)

	after := web.schedules()
	if s := after["na-tinh"]; s.Schedule != "@every 3h" || time.Until(s.Next) < 2*time.Hour {
		t.Errorf("na-tinh after the reload: schedule %q, next run %v (in %v)", s.Schedule, s.Next, time.Until(s.Next))
	}
	if s := after["nghi-loc-2"]; s.ID == "" || s.Schedule != "@every 30m" || s.Next.IsZero() || time.Until(s.Next) > 30*time.Minute {
		t.Errorf("new source nghi-loc-2 after the reload: %+v", s)
	}
	if _, ok := after["cua-lo"]; ok || len(after) != 8 {
		t.Errorf("sources after the reload: %d, cua-lo still listed: %v", len(after), ok)
	}
	if code, body := web.get("/admin/sources/nghi-loc-2", true); code != http.StatusOK || !strings.Contains(body, `"schedule":"@every 30m"`) {
		t.Errorf("admin status of the new source: %d %s", code, body)
	}
	if code, _ := web.get("/admin/sources/cua-lo", true); code != http.StatusNotFound {
		t.Errorf("admin status of the removed source: %d, want 404", code)
	}
	// The request log names the route pattern beside the path.
	log.wait(t, mark, regexp.MustCompile(`msg=http .*route=/admin/sources/:source path=/admin/sources/nghi-loc-2 status=200`), 10*time.Second)
	if code, body := web.get("/healthz", false); code != http.StatusOK {
		t.Errorf("healthz after the reload: %d %s", code, body)
	}
	if n, err := zc.Search(ctx, `@attr 1=1003 "nguyen du"`, "default"); err != nil || n != hits {
		t.Errorf("Z39.50 search on the connection opened before the reload: %d hits, %v (want %d)", n, err, hits)
	}
	if got := web.metric(`unicat_config_reloads_total{result="ok"}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("after one good reload: %s", got)
	}
	lastOK := web.metric("unicat_config_last_reload_success_timestamp_seconds")

	// An invalid file: rejected, with the problem's line, and the
	// sources of the last good one go on.
	bad := replaceOnce(t, doc, "    level: commune\n    kind: file\n    path: "+abs+"/vietnamese/xa-nghi-loc.mrc\n    charset: windows-1258\n    schedule: \"@every 30m\"",
		"    level: county\n    kind: file\n    path: "+abs+"/vietnamese/xa-nghi-loc.mrc\n    charset: windows-1258\n    schedule: \"@every 30m\"")
	badLine := strings.Count(bad[:strings.Index(bad, "level: county")], "\n") + 1
	if err := os.WriteFile(cfgPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	mark = log.len()
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	log.wait(t, mark, regexp.MustCompile(fmt.Sprintf(`level=ERROR msg="config reload: problem" .*line=%d field=sources\[7\]\.level problem=.*county.* is not one of`, badLine)), 30*time.Second)
	log.wait(t, mark, regexp.MustCompile(`level=ERROR msg="config reload rejected: the running configuration stays in force" .*problems=1`), time.Second)
	if l := log.since(mark); strings.Contains(l, `msg="config reloaded"`) {
		t.Errorf("the invalid file was applied:\n%s", l)
	}
	still := web.schedules()
	if s := still["nghi-loc-2"]; s.ID == "" || s.Schedule != "@every 30m" || still["na-tinh"].Schedule != "@every 3h" || len(still) != 8 {
		t.Errorf("sources after the rejected reload: %+v", still)
	}
	if got := web.metric(`unicat_config_reloads_total{result="error"}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("after a rejected reload: %s", got)
	}
	if got := web.metric(`unicat_config_reloads_total{result="ok"}`); !strings.HasSuffix(got, " 1") {
		t.Errorf("after a rejected reload: %s", got)
	}
	if got := web.metric("unicat_config_last_reload_success_timestamp_seconds"); got != lastOK {
		t.Errorf("a rejected reload moved %s (was %s)", got, lastOK)
	}
	if n, err := zc.Search(ctx, `@attr 1=4 kieu`, "default"); err != nil || n == 0 {
		t.Errorf("Z39.50 search after the rejected reload: %d hits, %v", n, err)
	}
	stopServe(t, cmd)
}

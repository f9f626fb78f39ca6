package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
)

// demoConfig copies the demo configuration next to a fresh data directory
// and the repository's testdata, so a test can import the demo libraries
// without touching ./data.
func demoConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	doc, err := os.ReadFile("../../config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(doc), "../testdata", abs)
	s = strings.Replace(s, "data_dir: ../data", "data_dir: "+filepath.Join(dir, "data"), 1)
	// Free ports only: a developer's running unicat (or a parallel test)
	// must not make serve fail to listen.
	s = strings.Replace(s, `addr: "127.0.0.1:2100"`, `addr: "127.0.0.1:0"`, 1)
	s = strings.Replace(s, `addr: "127.0.0.1:8080"`, `addr: "127.0.0.1:0"`, 1)
	p := filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runUnicat(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := unicatCmd(args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestImportDemoAndReimport(t *testing.T) {
	cfg := demoConfig(t)
	out, errOut, code := runUnicat(t, "import", "--config", cfg, "--all")
	if code != 0 {
		t.Fatalf("import --all exited %d\n%s\n%s", code, out, errOut)
	}
	// Exact counts of the demo files: see testdata/README.md.
	for _, want := range []string{
		"na-tinh: 1 file(s), 31683 bytes: read 13, added 13, updated 0, unchanged 0, deleted 0, rejected 0",
		"dien-chau: 1 file(s), 3227 bytes: read 5, added 5,",
		"nghi-loc: 1 file(s), 1889 bytes: read 4, added 4,",
		// TCVN3 and VNI exports, neither labelled right nor configured.
		"kim-lien: 1 file(s), 2250 bytes: read 4, added 4,",
		"quynh-doi: 1 file(s), 2303 bytes: read 4, added 4,",
		"  converted to UTF-8 NFC: 4 tcvn3\n",
		"  converted to UTF-8 NFC: 4 vni\n",
		"  converted to UTF-8 NFC: 5 marc-8\n",
		// One Zebra sample record has neither 001 nor 035: rejected with its position.
		"sample-marc.mrc: record 24 at byte 22980: no control number (001) or system number (035 $a)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runUnicat(t, "import", "--config", cfg, "--all")
	if code != 0 || !strings.Contains(out, "na-tinh: 1 file(s), 31683 bytes: read 13, added 0, updated 0, unchanged 13") ||
		!strings.Contains(out, "kim-lien: 1 file(s), 2250 bytes: read 4, added 0, updated 0, unchanged 4") {
		t.Errorf("re-import is not idempotent (exit %d):\n%s", code, out)
	}
	// -v: a line per converted record.
	out, _, _ = runUnicat(t, "import", "--config", cfg, "--source", "quynh-doi", "-v", "../../testdata/vietnamese/xa-quynh-doi.mrc")
	if !strings.Contains(out, "quynh-doi: ../../testdata/vietnamese/xa-quynh-doi.mrc: record 1 (QD0001): vni, labelled marc-8, 7 field(s) converted") {
		t.Errorf("import -v:\n%s", out)
	}
	out, _, _ = runUnicat(t, "status", "--config", cfg)
	if !strings.Contains(out, "kim-lien, live records by the encoding they arrived in (all stored as UTF-8 NFC): 4 tcvn3") {
		t.Errorf("status lacks the encodings:\n%s", out)
	}
	out, _, _ = runUnicat(t, "dedup", "--config", cfg, "--explain", "kim-lien:KL0001")
	for _, want := range []string{"na-tinh:NAT00010231", "kim-lien:KL0001", "received as tcvn3, labelled utf-8, converted to UTF-8 NFC"} {
		if !strings.Contains(out, want) {
			t.Errorf("--explain lacks %q:\n%s", want, out)
		}
	}
	// Derived again from what was received, nothing changes.
	out, errOut, code = runUnicat(t, "reindex", "--config", cfg, "--records")
	if code != 0 || !strings.Contains(out, "kim-lien: 4 records read, 0 updated, 0 not decodable (kept)") {
		t.Errorf("reindex --records (exit %d):\n%s\n%s", code, out, errOut)
	}
}

func TestImportErrors(t *testing.T) {
	cfg := demoConfig(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mrc")
	os.WriteFile(junk, []byte("this is not MARC at all\n"), 0o644)
	out, errOut, code := runUnicat(t, "import", "--config", cfg, "--source", "vinh", junk)
	if code == 0 || !strings.Contains(out, "neither ISO 2709 nor MARCXML") {
		t.Errorf("importing junk: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runUnicat(t, "import", "--config", cfg, "--source", "vinh", filepath.Join(dir, "missing.mrc"))
	if code == 0 || !strings.Contains(out+errOut, "no such file") {
		t.Errorf("missing file: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = runUnicat(t, "import", "--config", cfg, "--source", "nope", junk)
	if code == 0 || !strings.Contains(errOut, `no source "nope"`) {
		t.Errorf("unknown source: exit %d\n%s", code, errOut)
	}
	// A file with one good record and one broken one: the good one goes in,
	// the broken one is reported with its offset, and the exit status is 0.
	good, err := os.ReadFile("../../testdata/vietnamese/vinh.mrc")
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.IndexByte(good, 0x1D) + 1
	mixed := append([]byte("00099xx broken record\x1d"), good[:end]...)
	p := filepath.Join(dir, "mixed.mrc")
	os.WriteFile(p, mixed, 0o644)
	out, errOut, code = runUnicat(t, "import", "--config", cfg, "--source", "vinh", "--format", "iso2709", p)
	if code != 0 || !strings.Contains(out, "read 2, added 1") || !strings.Contains(out, "record 1 at byte 0") {
		t.Errorf("mixed file: exit %d\n%s%s", code, out, errOut)
	}
}

func TestExportMARCXMLValidates(t *testing.T) {
	xmllint := testpeer.Need(t, "xmllint")
	cfg := demoConfig(t)
	if _, e, code := runUnicat(t, "import", "--config", cfg, "--all"); code != 0 {
		t.Fatal(e)
	}
	dir := t.TempDir()
	xmlOut := filepath.Join(dir, "all.xml")
	_, errOut, code := runUnicat(t, "export", "--config", cfg, "--format", "marcxml", "-o", xmlOut)
	if code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	if !strings.Contains(errOut, "exported 161 record(s)") {
		t.Errorf("export count: %s", errOut)
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", "../../testdata/schemas/MARC21slim.xsd", xmlOut).CombinedOutput(); err != nil {
		t.Fatalf("exported MARCXML does not validate: %v\n%s", err, out)
	}
	// The same records as ISO 2709, read back by yaz-marcdump when present.
	isoOut := filepath.Join(dir, "na-tinh.mrc")
	if _, errOut, code = runUnicat(t, "export", "--config", cfg, "--source", "na-tinh", "-o", isoOut); code != 0 {
		t.Fatal(errOut)
	}
	{
		out, err := exec.Command(testpeer.Need(t, "yaz-marcdump"), "-p", isoOut).CombinedOutput()
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(out), "<!-- Record"); n != 13 {
			t.Errorf("yaz-marcdump reads %d records from the export, want 13", n)
		}
		if !strings.Contains(string(out), "Nguyễn Du") {
			t.Errorf("exported records lost their Vietnamese text")
		}
	}
}

// TestServeMetrics starts `unicat serve` on a free port and reads the
// record counts from /metrics, then stops it with SIGTERM.
func TestServeMetrics(t *testing.T) {
	cfg := demoConfig(t)
	if _, e, code := runUnicat(t, "import", "--config", cfg, "--all"); code != 0 {
		t.Fatal(e)
	}
	cmd, addrs := startServe(t, cfg, httpAddrRe)
	addr := addrs[0]
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`unicat_source_records{source="na-tinh",state="live"} 13`,
		`unicat_source_records{source="vinh",state="live"} 8`,
		`unicat_source_last_run_records{outcome="added",source="dien-chau"} 5`,
		`unicat_source_last_run_records{outcome="rejected",source="quynh-luu"} 1`,
		// What the demo libraries' records arrived in.
		`unicat_source_records_received{encoding="utf-8",source="na-tinh"} 13`,
		`unicat_source_records_received{encoding="utf-8-nfd",source="vinh"} 8`,
		`unicat_source_records_received{encoding="marc-8",source="dien-chau"} 5`,
		`unicat_source_records_received{encoding="windows-1258",source="nghi-loc"} 4`,
		`unicat_source_records_received{encoding="tcvn3",source="kim-lien"} 4`,
		`unicat_source_records_received{encoding="vni",source="quynh-doi"} 4`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	stopServe(t, cmd)
}

var (
	httpAddrRe  = regexp.MustCompile(`http=http://(127\.0\.0\.1:\d+)`)
	z3950AddrRe = regexp.MustCompile(`z3950 serving"? addr=(127\.0\.0\.1:\d+)`)
)

// startServe runs `unicat serve` on free ports over cfg and returns once
// its log has named every address asked for (the first submatch of each
// pattern, in order) and, when one is the HTTP address (httpAddrRe), its
// /readyz answers 200. The process is killed when the test ends.
func startServe(t *testing.T, cfg string, patterns ...*regexp.Regexp) (*exec.Cmd, []string) {
	t.Helper()
	cmd, addrs, _ := startServeLog(t, cfg, patterns...)
	return cmd, addrs
}

// startServeLog is startServe that also returns the service's log.
func startServeLog(t *testing.T, cfg string, patterns ...*regexp.Regexp) (*exec.Cmd, []string, *serveLog) {
	t.Helper()
	cmd, addrs, log := launchServe(t, cfg, patterns...)
	for i, re := range patterns {
		if re == httpAddrRe {
			waitReady(t, addrs[i], log)
		}
	}
	return cmd, addrs, log
}

// waitReady waits, at most a minute, until the service at addr says it is
// ready (a start may build the catalog first).
func waitReady(t *testing.T, addr string, log *serveLog) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var last any
		resp, err := http.Get("http://" + addr + "/readyz")
		if last = err; err == nil {
			resp.Body.Close()
			if last = resp.Status; resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve at %s not ready within a minute (/readyz: %v):\n%s", addr, last, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// launchServe is startServeLog without waiting for /readyz.
func launchServe(t *testing.T, cfg string, patterns ...*regexp.Regexp) (*exec.Cmd, []string, *serveLog) {
	t.Helper()
	cmd := unicatCmd("serve", "--config", cfg, "--http", "127.0.0.1:0", "--z3950", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	log := &serveLog{changed: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.add(sc.Text())
		}
		log.end()
	}()
	addrs := make([]string, len(patterns))
	for i, re := range patterns {
		_, m := log.wait(t, 0, re, 60*time.Second)
		addrs[i] = m[1]
	}
	return cmd, addrs, log
}

// serveLog collects the lines a `unicat serve` child logs.
type serveLog struct {
	mu      sync.Mutex
	lines   []string
	ended   bool
	changed chan struct{} // closed and replaced on every line
}

func (l *serveLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *serveLog) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended = true
	close(l.changed)
	l.changed = make(chan struct{})
}

// len returns the number of lines logged so far.
func (l *serveLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

func (l *serveLog) String() string { return l.since(0) }

// since returns the lines logged from line from on.
func (l *serveLog) since(from int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[min(from, len(l.lines)):], "\n")
}

// wait returns the index and submatches of the first line from line from
// on that matches re, failing the test when none comes within timeout
// or the log ends without one.
func (l *serveLog) wait(t *testing.T, from int, re *regexp.Regexp, timeout time.Duration) (int, []string) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		for i := from; i < len(l.lines); i++ {
			if m := re.FindStringSubmatch(l.lines[i]); m != nil {
				l.mu.Unlock()
				return i, m
			}
		}
		from = max(from, len(l.lines))
		ended, changed := l.ended, l.changed
		l.mu.Unlock()
		if ended {
			t.Fatalf("serve ended without logging %s:\n%s", re, l)
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("serve did not log %s within %v:\n%s", re, timeout, l)
		}
	}
}

// stopServe sends SIGTERM and expects a clean exit within 20 seconds.
func stopServe(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop on SIGTERM")
	}
}

package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
)

// TestServeAnswersWhileBuilding: a start that must build the union
// catalog again (new matching rules over 30,000 records, a build of two
// seconds or more) listens first. While it builds: /healthz 200, /readyz
// 503 naming the build, `unicat status` saying so, OAI-PMH 503 with a
// Retry-After, SRU diagnostic 2 naming the build (to yaz-client too),
// yaz-client over Z39.50 a Close naming the build,
// unicat_catalog_building 1. Once built: /readyz 200, SRU finds the
// records, the metric 0.
func TestServeAnswersWhileBuilding(t *testing.T) {
	dir := t.TempDir()
	cfg := genCatalog(t, dir, 30000, 4)
	if out, e, code := runUnicat(t, "import", "--config", cfg, "--all"); code != 0 {
		t.Fatalf("import exited %d: %s %s", code, out, e)
	}
	// New matching rules: every cluster is made again at the next start.
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("dedup: {bad_isbns: [\"9786040000002\"]}\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()

	cmd, addrs, log := launchServe(t, cfg, httpAddrRe, z3950AddrRe)
	base := "http://" + addrs[0]
	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	// First what takes longest: status waits a second for the store's
	// lock before it asks the service (at the address of a copy of the
	// configuration).
	doc, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	statusCfg := filepath.Join(dir, "status.yaml")
	if err := os.WriteFile(statusCfg, append(doc, "http: {addr: \""+addrs[0]+"\"}\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, e, code := runUnicat(t, "status", "--config", statusCfg); code != 0 || !strings.Contains(out, "the service is building it") {
		t.Errorf("status while building: exit %d: %s %s", code, out, e)
	}
	yaz := exec.Command(testpeer.Need(t, "yaz-client"))
	yaz.Stdin = strings.NewReader("open tcp:" + addrs[1] + "/unicat\nquit\n")
	if out, _ := yaz.CombinedOutput(); !strings.Contains(string(out), "building the union catalog") {
		t.Errorf("yaz-client while building: no Close naming the build:\n%s", out)
	}
	if code, body, _ := get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz while building: %d %s", code, body)
	}
	if code, body, _ := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "building") {
		t.Errorf("/readyz while building: %d %q, want 503 naming the build", code, body)
	}
	if code, body, h := get("/oai?verb=Identify"); code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Errorf("OAI-PMH while building: %d, Retry-After %q: %s; want 503 with a Retry-After", code, h.Get("Retry-After"), body)
	}
	if code, body, _ := get("/sru?version=1.2&operation=searchRetrieve&query=truyen"); code != http.StatusOK ||
		!strings.Contains(body, "info:srw/diagnostic/1/2<") || !strings.Contains(body, "building the union catalog") {
		t.Errorf("SRU while building: %d %s; want diagnostic 2 naming the build", code, body)
	}
	sruClient := exec.Command(testpeer.Need(t, "yaz-client"))
	sruClient.Stdin = strings.NewReader("open " + base + "/sru\nsru get 1.2\nfind truyen\nquit\n")
	if out, _ := sruClient.CombinedOutput(); !strings.Contains(string(out), "building the union catalog") {
		t.Errorf("yaz-client over SRU while building: no diagnostic naming the build:\n%s", out)
	}
	if _, body, _ := get("/metrics"); !strings.Contains(body, "\nunicat_catalog_building 1\n") {
		t.Error("/metrics while building: no unicat_catalog_building 1")
	}
	served, _ := log.wait(t, 0, regexp.MustCompile(`unicat serving`), time.Second)
	built, _ := log.wait(t, 0, regexp.MustCompile(`built the union catalog`), 60*time.Second)
	if built < served {
		t.Errorf("the build ended (log line %d) before the service listened (line %d):\n%s", built, served, log)
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body, _ := get("/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz after the build: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, body, _ := get("/sru?version=1.2&operation=searchRetrieve&query=cql.anywhere%3D%22a%22&maximumRecords=0")
	if n := regexp.MustCompile(`numberOfRecords>(\d+)<`).FindStringSubmatch(body); code != http.StatusOK || n == nil || n[1] == "0" {
		t.Errorf("SRU after the build: %d %.300s", code, body)
	}
	if _, body, _ := get("/metrics"); !strings.Contains(body, "\nunicat_catalog_building 0\n") {
		t.Error("/metrics after the build: no unicat_catalog_building 0")
	}
	stopServe(t, cmd)
}

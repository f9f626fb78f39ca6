package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/store"
)

const token = "admin-test-token-0123456789"

// fakeScheduler records what the API asked of it.
type fakeScheduler struct {
	mu        sync.Mutex
	triggered []string
	paused    map[string]bool
	busy      bool
}

func (f *fakeScheduler) Trigger(id string, _ bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.triggered = append(f.triggered, id)
	return !f.busy
}
func (f *fakeScheduler) Status() ([]harvester.SourceStatus, error) {
	return []harvester.SourceStatus{{ID: "lib", Name: "Lib", Kind: "file", Live: 3}, {ID: "oai", Kind: "oai"}}, nil
}
func (f *fakeScheduler) Pause(id string) bool  { f.paused[id] = true; return true }
func (f *fakeScheduler) Resume(id string) bool { f.paused[id] = false; return true }
func (f *fakeScheduler) Paused(id string) bool { return f.paused[id] }

func setup(t *testing.T) (http.Handler, *fakeScheduler, *store.Store, *config.Config) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte("data_dir: "+dir+"\nsources:\n"+
		"  - {id: lib, name: Lib, library_code: LIB, level: district, kind: file, path: x.mrc}\n"+
		"  - {id: oai, name: O, library_code: O, level: commune, kind: oai, url: 'http://example.org/oai'}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	opts := catalog.OptionsFromConfig(cfg)
	opts.NoSync = true
	cat, err := catalog.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	st := cat.Store()
	st.PutRun("lib", store.Run{Added: 1, Err: "connection refused"})
	f := &fakeScheduler{paused: map[string]bool{}}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	New(Options{Token: token, Catalog: cat, Config: func() *config.Config { return cfg }, Scheduler: f,
		MaxBody: 1024, MaxUpload: 64 << 10}).Mount(r)
	return r, f, st, cfg
}

func do(h http.Handler, method, url, tok string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, url, bytes.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestAuth(t *testing.T) {
	h, f, _, _ := setup(t)
	for _, tok := range []string{"", "wrong", token + "x", token[:len(token)-1]} {
		for _, u := range []string{"/admin/harvest/lib", "/admin/backup", "/admin/sources/lib/pause"} {
			if w := do(h, "POST", u, tok, nil); w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("POST %s with token %q: %d", u, tok, w.Code)
			}
		}
	}
	if len(f.triggered) != 0 {
		t.Errorf("unauthorised requests triggered %v", f.triggered)
	}
	// No token configured: everything is refused, even an empty bearer.
	r := gin.New()
	New(Options{Config: func() *config.Config { return nil }}).Mount(r)
	req := httptest.NewRequest("GET", "/admin/sources/lib", nil)
	req.Header.Set("Authorization", "Bearer ")
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	if w.Code != 401 {
		t.Errorf("API without a token: %d", w.Code)
	}
}

func TestHarvestPauseStatus(t *testing.T) {
	h, f, _, _ := setup(t)
	if w := do(h, "POST", "/admin/harvest/lib", token, nil); w.Code != 202 || len(f.triggered) != 1 || f.triggered[0] != "lib" {
		t.Errorf("harvest: %d %s, triggered %v", w.Code, w.Body, f.triggered)
	}
	f.busy = true
	if w := do(h, "POST", "/admin/harvest/lib", token, nil); w.Code != 409 {
		t.Errorf("harvest while running: %d", w.Code)
	}
	if w := do(h, "POST", "/admin/harvest/nope", token, nil); w.Code != 404 {
		t.Errorf("harvest of an unknown source: %d", w.Code)
	}
	if w := do(h, "POST", "/admin/sources/lib/pause", token, nil); w.Code != 200 || !f.paused["lib"] || !strings.Contains(w.Body.String(), `"paused":true`) {
		t.Errorf("pause: %d %s", w.Code, w.Body)
	}
	w := do(h, "GET", "/admin/sources/lib", token, nil)
	var got struct {
		ID     string      `json:"id"`
		Live   int         `json:"live"`
		Paused bool        `json:"paused"`
		Runs   []store.Run `json:"runs"`
		Errors []string    `json:"errors"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
		t.Fatalf("status: %d %s %v", w.Code, w.Body, err)
	}
	if got.ID != "lib" || got.Live != 3 || !got.Paused || len(got.Runs) != 1 || len(got.Errors) != 1 || !strings.Contains(got.Errors[0], "connection refused") {
		t.Errorf("status %+v", got)
	}
	if w := do(h, "GET", "/admin/sources/oai", token, nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"runs":[]`) {
		t.Errorf("a source never run: %d %s (want \"runs\":[])", w.Code, w.Body)
	}
	if w := do(h, "POST", "/admin/sources/lib/resume", token, nil); w.Code != 200 || f.paused["lib"] {
		t.Errorf("resume: %d", w.Code)
	}
	if w := do(h, "POST", "/admin/sources/lib/pause", token, bytes.Repeat([]byte("x"), 2000)); w.Code != 413 {
		t.Errorf("body over max_body_bytes: %d", w.Code)
	}
}

func TestUpload(t *testing.T) {
	h, _, st, cfg := setup(t)
	data, err := os.ReadFile("../testdata/vietnamese/vinh.mrc")
	if err != nil {
		t.Fatal(err)
	}
	w := do(h, "POST", "/admin/upload/lib", token, data)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"added":`) {
		t.Fatalf("upload: %d %s", w.Code, w.Body)
	}
	stats, _ := st.Stats()
	if stats["lib"].Live == 0 {
		t.Errorf("upload imported nothing: %+v", stats)
	}
	runs, _ := st.Runs("lib", 1)
	if len(runs) != 1 || runs[0].Added != stats["lib"].Live {
		t.Errorf("upload run %+v", runs)
	}
	left, _ := filepath.Glob(filepath.Join(cfg.DataDir, "uploads", "*"))
	if len(left) != 0 {
		t.Errorf("upload files left behind: %v", left)
	}
	if w := do(h, "POST", "/admin/upload/oai", token, data); w.Code != 409 {
		t.Errorf("upload to an oai source: %d", w.Code)
	}
	if w := do(h, "POST", "/admin/upload/lib", token, bytes.Repeat([]byte("x"), 65<<10)); w.Code != 413 {
		t.Errorf("upload over the cap: %d", w.Code)
	}
	if w := do(h, "POST", "/admin/upload/lib", token, []byte("not marc at all")); w.Code != 422 {
		t.Errorf("garbage upload: %d %s", w.Code, w.Body)
	}
	if w := do(h, "POST", "/admin/upload/lib", token, nil); w.Code != 400 {
		t.Errorf("empty upload: %d", w.Code)
	}
}

// An upload a killed process left behind is removed when the API starts.
func TestStaleUploadRemoved(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "lib-20261206T101010-1.upload")
	keep := filepath.Join(dir, "notes.txt")
	for _, f := range []string{stale, keep} {
		if err := os.WriteFile(f, []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	New(Options{UploadDir: dir})
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale upload still there: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a file not an upload was removed: %v", err)
	}
}

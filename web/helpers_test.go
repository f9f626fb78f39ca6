package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
)

// demoStore imports the demo libraries (config/demo.yaml) into a store in
// a temporary directory, with deduplication and the search index, as
// `make run` does.
func demoStore(t testing.TB) (*store.Store, *config.Config) {
	t.Helper()
	cfg, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Path = "../" + config.DemoPath // tests run in web/
	cfg.DataDir = t.TempDir()
	st, err := store.Open(cfg.StorePath(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, s := range cfg.Sources {
		if err := st.PutSource(store.SourceInfo{ID: s.ID, Name: s.Name, LibraryCode: s.LibraryCode, Level: s.Level, Kind: s.Kind}); err != nil {
			t.Fatal(err)
		}
	}
	var libs []store.LibraryInfo
	for _, l := range cfg.LibraryList() {
		libs = append(libs, store.LibraryInfo{Code: l.Code, Name: l.Name, Level: l.Level, OrgCode: l.OrgCode, Address: l.Address})
	}
	if err := st.PutLibraries(libs); err != nil {
		t.Fatal(err)
	}
	d := dedup.New(dedup.OptionsFromConfig(cfg))
	d.AddListener(search.New())
	if err := st.AddHook(d); err != nil {
		t.Fatal(err)
	}
	for _, s := range cfg.Sources {
		files, err := ingest.Files([]string{cfg.Resolve(s.Path)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ingest.Import(context.Background(), st, files, ingest.Options{Source: s.ID, Charset: marc.Charset(s.Charset)})
		if err != nil {
			t.Fatalf("import %s: %v", s.ID, err)
		}
		if err := st.PutRun(s.ID, store.Run{Added: 1}); err != nil {
			t.Fatal(err)
		}
	}
	return st, cfg
}

// newTestServer mounts a web Server over st on a gin engine.
func newTestServer(t testing.TB, st *store.Store, cfg *config.Config) http.Handler {
	t.Helper()
	s, err := New(Options{Store: st, Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	s.Mount(r)
	return r
}

func get(t testing.TB, h http.Handler, url string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// demoStore imports the demo libraries (config/demo.yaml) into a catalog
// in a temporary directory, as `make run` does.
func demoStore(t testing.TB) (*catalog.Catalog, *config.Config) {
	t.Helper()
	cfg, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Path = "../" + config.DemoPath // tests run in web/
	cfg.DataDir = t.TempDir()
	opts := catalog.OptionsFromConfig(cfg)
	opts.NoSync = true
	cat, err := catalog.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	st := cat.Store()
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
	return cat, cfg
}

// newTestServer mounts a web Server over cat on a gin engine.
func newTestServer(t testing.TB, cat *catalog.Catalog, cfg *config.Config) http.Handler {
	t.Helper()
	status := func() ([]harvester.SourceStatus, error) { return harvester.ReadStatus(cat.Store(), cfg) }
	s, err := New(Options{Catalog: cat, Status: status, Config: cfg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
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

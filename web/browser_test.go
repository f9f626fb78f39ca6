package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/marc"
)

// chromium runs headless Chromium once in one of its command-line modes
// (--dump-dom, --screenshot=FILE) and returns what it printed.
func chromium(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

// TestBrowser loads the demo service in headless Chromium: it searches
// "nguyen du", opens the first record, checks its holdings and MARCXML
// download, and saves screenshots (in the test's artifact directory, and a
// copy of the record page at /tmp/unicat-web.png).
func TestBrowser(t *testing.T) {
	bin := testpeer.Need(t, "chromium")
	st, cfg := demoStore(t)
	srv := httptest.NewServer(newTestServer(t, st, cfg))
	defer srv.Close()

	dom := chromium(t, bin, "--dump-dom", srv.URL+"/search?q=nguyen+du&lang=vi")
	ids, titles := hitsOf(dom)
	if len(ids) == 0 || titles[0] != "Truyện Kiều" || !strings.Contains(dom, `<html lang="vi">`) {
		t.Fatalf("search page in Chromium: hits %v %v\n%s", ids, titles, dom)
	}

	rec := chromium(t, bin, "--dump-dom", srv.URL+"/record/"+ids[0]+"?lang=vi")
	hold := rec[strings.Index(rec, `id="holdings"`):]
	hold = hold[:strings.Index(hold, "</table>")]
	for _, want := range []string{"Thư viện tỉnh Nghệ An", "NA-TINH", "Tỉnh"} {
		if !strings.Contains(hold, want) {
			t.Errorf("holdings in Chromium lack %q:\n%s", want, hold)
		}
	}
	if !strings.Contains(rec, `href="/record/`+ids[0]+`/marcxml"`) {
		t.Fatalf("no MARCXML download link")
	}

	// The download the button points at.
	resp, err := http.Get(srv.URL + "/record/" + ids[0] + "/marcxml")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); resp.StatusCode != 200 || !strings.Contains(cd, ids[0]+".xml") {
		t.Fatalf("MARCXML download: %d %q", resp.StatusCode, cd)
	}
	r, err := marc.NewXMLReader(bytes.NewReader(body), marc.ReaderOptions{}).Next()
	if err != nil || r.Title() != "Truyện Kiều" || len(r.FieldsByTag("852")) < 2 {
		t.Fatalf("downloaded MARCXML: %v", err)
	}

	dir := t.ArtifactDir()
	for name, u := range map[string]string{"search.png": "/search?q=nguyen+du&lang=vi", "record.png": "/record/" + ids[0] + "?lang=vi"} {
		shot := filepath.Join(dir, name)
		chromium(t, bin, "--hide-scrollbars", "--window-size=1280,1100", "--screenshot="+shot, srv.URL+u)
		png, err := os.ReadFile(shot)
		if err != nil || len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatalf("screenshot %s: %d bytes, %v", shot, len(png), err)
		}
		if name == "record.png" {
			os.WriteFile("/tmp/unicat-web.png", png, 0o644)
		} else {
			os.WriteFile("/tmp/unicat-web-search.png", png, 0o644)
		}
		t.Logf("screenshot %s (%d bytes)", shot, len(png))
	}
}

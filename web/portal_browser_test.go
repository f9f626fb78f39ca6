package web

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/unicat/unicat/internal/testpeer"
)

// TestBrowserPortal reads the portal in headless Chromium as a reader
// does, on a phone 390 CSS pixels wide and on a desktop: a record with
// digital copies in Vietnamese with its codes in words, the online-copy
// facet, a library page reached from the record's holdings; no page
// scrolls sideways on the phone, where the holdings are a list. It saves
// screenshots of the record page at both widths (in the test's artifact
// directory, and copies at /tmp/unicat-record-390.png and -1280.png).
func TestBrowserPortal(t *testing.T) {
	bin := testpeer.Need(t, "chromium")
	st, cfg := demoStore(t)
	srv := httptest.NewServer(newTestServer(t, st, cfg))
	defer srv.Close()
	b := startBrowser(t, bin)
	ids, _ := hitsOf(get(t, newTestServer(t, st, cfg), "/search?q=nguyen+du&sort=year").Body.String())
	if len(ids) == 0 {
		t.Fatal("no hit")
	}
	record := srv.URL + "/record/" + ids[0] + "?lang=vi"
	pages := []string{srv.URL + "/search?q=nguyen+du&lang=vi", record, srv.URL + "/libraries?lang=vi",
		srv.URL + "/library/NA-TINH?lang=vi", srv.URL + "/status?lang=vi", srv.URL + "/search?q=cql.allRecords%3D1&cql=1&lang=vi"}

	for _, vp := range []struct {
		width, height int
		mobile        bool
		holdings      string // the display of a holdings row
	}{{390, 844, true, "block"}, {1280, 900, false, "table-row"}} {
		for _, u := range pages {
			b.open(u, vp.width, vp.height, vp.mobile)
			if over := b.overflow(); over > 0 && vp.mobile {
				t.Errorf("%s at %d px scrolls sideways by %d px", u, vp.width, over)
			}
		}
		b.open(record, vp.width, vp.height, vp.mobile)
		var display string
		b.eval(`getComputedStyle(document.querySelector('table.holdings tbody tr')).display`, &display)
		if display != vp.holdings {
			t.Errorf("at %d px a holdings row is displayed %q, want %q", vp.width, display, vp.holdings)
		}
		png := b.screenshot()
		if len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG")) {
			t.Fatalf("screenshot at %d px: %d bytes", vp.width, len(png))
		}
		name := "record-" + map[bool]string{true: "390", false: "1280"}[vp.mobile] + ".png"
		os.WriteFile(filepath.Join(t.ArtifactDir(), name), png, 0o644)
		os.WriteFile("/tmp/unicat-"+name, png, 0o644)
	}

	// The record page as laid out: words for codes, both libraries'
	// digital copies, the 008 position for position.
	b.open(record, 390, 844, true)
	var rec struct {
		Text   string
		Links  int
		Fixed  []string
		Holder string
	}
	b.eval(`({Text: document.querySelector('dl.fields').innerText,
		Links: document.querySelectorAll('#links a[href^="https://"]').length,
		Fixed: Array.from(document.querySelectorAll('code.fixed'), e => e.innerText),
		Holder: document.querySelector('table.holdings tbody th a').getAttribute('href')})`, &rec)
	for _, want := range []string{"Tiếng Việt", "Sách", "Việt Nam"} {
		if !strings.Contains(rec.Text, want) {
			t.Errorf("record page does not read %q:\n%s", want, rec.Text)
		}
	}
	if rec.Links != 2 {
		t.Errorf("%d digital copies linked, want 2", rec.Links)
	}
	if !containsWith(rec.Fixed, "s2015    vm            000 p vie d") {
		t.Errorf("the 008 as laid out loses its blanks: %q", rec.Fixed)
	}
	// The holding library's page, from its holdings row.
	b.open(srv.URL+rec.Holder+"?lang=vi", 390, 844, true)
	var lib struct{ H1, Union string }
	b.eval(`({H1: document.querySelector('h1').innerText, Union: document.querySelector('#lib-union').innerText})`, &lib)
	if lib.H1 != "Thư viện tỉnh Nghệ An" || lib.Union == "" || lib.Union == "0" {
		t.Errorf("library page from the holdings: %+v", lib)
	}
	// The online-copy facet, followed as a reader follows it.
	b.open(pages[5], 1280, 900, false)
	var facet struct {
		Href  string
		Count string
	}
	b.eval(`(() => { const a = Array.from(document.querySelectorAll('.facet a')).find(a => a.innerText === 'Có bản số');
		return a ? {Href: a.getAttribute('href'), Count: a.nextElementSibling.innerText} : {}; })()`, &facet)
	if facet.Href == "" {
		t.Fatal("no online-copy facet on the results page")
	}
	b.open(srv.URL+facet.Href, 1280, 900, false)
	var hits struct{ Hits, Marks int }
	b.eval(`({Hits: document.querySelectorAll('a.hit').length, Marks: document.querySelectorAll('td .online').length})`, &hits)
	if "("+strconv.Itoa(hits.Hits)+")" != facet.Count || hits.Marks != hits.Hits {
		t.Errorf("the facet counts %s; following it lists %d hits, %d marked online", facet.Count, hits.Hits, hits.Marks)
	}
}

func containsWith(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

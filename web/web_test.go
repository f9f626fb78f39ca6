package web

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

var hitRe = regexp.MustCompile(`<a class="hit" href="/record/(u[0-9a-z]+)">([^<]*)</a>`)

func hitsOf(body string) (ids, titles []string) {
	for _, m := range hitRe.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
		titles = append(titles, m[2])
	}
	return ids, titles
}

func TestSearchPages(t *testing.T) {
	st, cfg := demoStore(t)
	h := newTestServer(t, st, cfg)

	t.Run("landing", func(t *testing.T) {
		w := get(t, h, "/")
		if w.Code != 200 || !strings.Contains(w.Body.String(), `<html lang="vi">`) || !strings.Contains(w.Body.String(), `<label for="q">`) {
			t.Fatalf("GET / = %d\n%s", w.Code, w.Body)
		}
		if ids, _ := hitsOf(w.Body.String()); len(ids) != 0 {
			t.Errorf("landing page lists hits %v", ids)
		}
	})

	t.Run("nguyen du", func(t *testing.T) {
		w := get(t, h, "/search?q=nguyen+du")
		body := w.Body.String()
		ids, titles := hitsOf(body)
		if w.Code != 200 || len(ids) == 0 {
			t.Fatalf("GET /search?q=nguyen+du = %d, hits %v\n%s", w.Code, ids, body)
		}
		for _, ti := range titles {
			if ti != "Truyện Kiều" {
				t.Errorf("hit %q for nguyen du", ti)
			}
		}
		for _, want := range []string{"Nguyễn Du", `<th scope="col">Năm</th>`, "Thư viện", "NA-TINH", "Cấp thư viện"} {
			if !strings.Contains(body, want) {
				t.Errorf("results lack %q", want)
			}
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("Content-Type %q", ct)
		}
	})

	t.Run("facet filter", func(t *testing.T) {
		all, _ := hitsOf(get(t, h, "/search?q=nguyen+du").Body.String())
		one, _ := hitsOf(get(t, h, "/search?q=nguyen+du&library=NA-VINH").Body.String())
		if len(one) == 0 || len(one) >= len(all) {
			t.Errorf("library=NA-VINH: %d hits of %d", len(one), len(all))
		}
		y, _ := hitsOf(get(t, h, "/search?q=nguyen+du&year=2011").Body.String())
		if len(y) != 1 {
			t.Errorf("year=2011: hits %v", y)
		}
		// A facet alone, without words, searches too.
		lv := get(t, h, "/search?level=commune")
		if ids, _ := hitsOf(lv.Body.String()); lv.Code != 200 || len(ids) == 0 {
			t.Errorf("level=commune: %d, %v", lv.Code, ids)
		}
		if w := get(t, h, "/search?q=x&year=abc"); w.Code != 400 {
			t.Errorf("year=abc: %d", w.Code)
		}
	})

	t.Run("sort", func(t *testing.T) {
		newest := get(t, h, "/search?q=nguyen+du&sort=year").Body.String()
		oldest := get(t, h, "/search?q=nguyen+du&sort=year-asc").Body.String()
		a, _ := hitsOf(newest)
		b, _ := hitsOf(oldest)
		if len(a) < 2 || len(a) != len(b) || a[0] != b[len(b)-1] {
			t.Errorf("year sort %v, ascending %v", a, b)
		}
		if strings.Index(newest, "<td>2015</td>") > strings.Index(newest, "<td>2011</td>") {
			t.Errorf("newest first does not put 2015 first")
		}
	})

	t.Run("paging", func(t *testing.T) {
		w := get(t, h, "/search?q=cql.allRecords%3D1&cql=1&sort=title")
		body := w.Body.String()
		ids, _ := hitsOf(body)
		if w.Code != 200 || len(ids) != PageSize || !strings.Contains(body, `rel="next"`) {
			t.Fatalf("all records page 1: %d, %d hits", w.Code, len(ids))
		}
		p2, _ := hitsOf(get(t, h, "/search?q=cql.allRecords%3D1&cql=1&sort=title&page=2").Body.String())
		if len(p2) == 0 || p2[0] == ids[0] {
			t.Errorf("page 2 %v", p2)
		}
	})

	t.Run("cql", func(t *testing.T) {
		w := get(t, h, "/search?q="+url.QueryEscape(`dc.title = "truyện kiều"`))
		if ids, _ := hitsOf(w.Body.String()); w.Code != 200 || len(ids) == 0 {
			t.Errorf("CQL title search: %d, %v", w.Code, ids)
		}
		w = get(t, h, "/search?cql=1&q="+url.QueryEscape(`dc.title = (`))
		if w.Code != 400 || !strings.Contains(w.Body.String(), `role="alert"`) {
			t.Errorf("broken CQL: %d", w.Code)
		}
		w = get(t, h, "/search?q="+strings.Repeat("a", MaxQueryLen+1))
		if w.Code != 400 {
			t.Errorf("long query: %d", w.Code)
		}
	})

	t.Run("english", func(t *testing.T) {
		w := get(t, h, "/search?q=nguyen+du&lang=en")
		if !strings.Contains(w.Body.String(), `<html lang="en">`) || !strings.Contains(w.Body.String(), "Holding libraries") {
			t.Errorf("?lang=en not English")
		}
		c := w.Result().Cookies()
		if len(c) != 1 || c[0].Name != langCookie || c[0].Value != "en" {
			t.Fatalf("cookies %v", c)
		}
		if !strings.Contains(get(t, h, "/search", "Cookie", langCookie+"=en").Body.String(), `lang="en"`) {
			t.Errorf("cookie ignored")
		}
		if !strings.Contains(get(t, h, "/", "Accept-Language", "en-GB,en;q=0.8").Body.String(), `<html lang="en">`) {
			t.Errorf("Accept-Language ignored")
		}
		if !strings.Contains(get(t, h, "/", "Accept-Language", "fr, vi;q=0.5, en;q=0.3").Body.String(), `<html lang="vi">`) {
			t.Errorf("Accept-Language order ignored")
		}
	})

	t.Run("escaping", func(t *testing.T) {
		evil := `"><script>alert(1)</script>`
		for _, u := range []string{
			"/search?q=" + url.QueryEscape(evil),
			"/search?cql=1&q=" + url.QueryEscape(evil),
			"/search?q=a&library=" + url.QueryEscape(evil),
			"/record/" + url.PathEscape(evil),
			"/search?q=a&lang=" + url.QueryEscape(evil),
		} {
			body := get(t, h, u).Body.String()
			if strings.Contains(body, "<script>") {
				t.Errorf("%s: unescaped input in page", u)
			}
		}
		body := get(t, h, "/search?q="+url.QueryEscape(evil)).Body.String()
		if !strings.Contains(body, `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
			t.Errorf("the query is not shown back escaped")
		}
	})
}

func TestRecordPage(t *testing.T) {
	st, cfg := demoStore(t)
	h := newTestServer(t, st, cfg)
	ids, _ := hitsOf(get(t, h, "/search?q=nguyen+du&sort=year").Body.String())
	if len(ids) == 0 {
		t.Fatal("no hit")
	}
	id := ids[0] // the 2015 edition, held by two libraries
	w := get(t, h, "/record/"+id)
	body := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("GET /record/%s = %d", id, w.Code)
	}
	for _, want := range []string{
		"<h1>Truyện Kiều</h1>", `id="holdings"`, "Thư viện tỉnh Nghệ An", "NA-TINH",
		`<th scope="row">245</th>`, `<b>$a</b>`, "/record/" + id + "/marcxml", "/record/" + id + "/iso2709",
		`<th scope="col">Ký hiệu xếp giá</th>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("record page lacks %q", want)
		}
	}
	// Every 852 of the union record shows as a holdings row.
	rows := strings.Count(body[strings.Index(body, `id="holdings"`):strings.Index(body, `id="marc"`)], `<th scope="row">`)
	if n := strings.Count(body, `<th scope="row">852</th>`); rows != n || n < 2 {
		t.Errorf("%d holdings rows for %d 852 fields", rows, n)
	}

	x := get(t, h, "/record/"+id+"/marcxml")
	if x.Code != 200 || x.Header().Get("Content-Type") != "application/marcxml+xml; charset=utf-8" ||
		x.Header().Get("Content-Disposition") != `attachment; filename="`+id+`.xml"` {
		t.Fatalf("marcxml: %d %v", x.Code, x.Header())
	}
	rec, err := marc.NewXMLReader(bytes.NewReader(x.Body.Bytes()), marc.ReaderOptions{}).Next()
	if err != nil || rec.Title() != "Truyện Kiều" {
		t.Fatalf("marcxml download: %v %v", rec, err)
	}
	m := get(t, h, "/record/"+id+"/iso2709")
	if m.Code != 200 || m.Header().Get("Content-Type") != "application/marc" ||
		m.Header().Get("Content-Disposition") != `attachment; filename="`+id+`.mrc"` {
		t.Fatalf("iso2709: %d %v", m.Code, m.Header())
	}
	rec2, err := marc.NewISO2709Reader(bytes.NewReader(m.Body.Bytes()), marc.ReaderOptions{}).Next()
	if err != nil || rec2.Title() != "Truyện Kiều" || len(rec2.FieldsByTag("852")) != len(rec.FieldsByTag("852")) {
		t.Fatalf("iso2709 download: %v %v", rec2, err)
	}

	for _, u := range []string{"/record/u99999999", "/record/u99999999/marcxml", "/record/u99999999/iso2709", "/record/a.b"} {
		if w := get(t, h, u); w.Code != 404 {
			t.Errorf("%s = %d, want 404", u, w.Code)
		}
	}
}

func TestStatusPage(t *testing.T) {
	st, cfg := demoStore(t)
	h := newTestServer(t, st, cfg)
	if err := st.Store().PutRun("vinh", store.Run{Added: 6, Duplicates: 2}); err != nil {
		t.Fatal(err)
	}
	w := get(t, h, "/status")
	body := w.Body.String()
	if w.Code != 200 {
		t.Fatalf("GET /status = %d", w.Code)
	}
	for _, s := range cfg.Sources {
		if !strings.Contains(body, "<code>"+s.ID+"</code>") || !strings.Contains(body, s.Name) {
			t.Errorf("status lacks source %s", s.ID)
		}
	}
	if !strings.Contains(body, "6 / 0 / 0 / 0 (2 trùng số kiểm soát)") {
		t.Errorf("status does not count the run's repeated control numbers")
	}
	if !strings.Contains(body, "biểu ghi liên hợp") || strings.Contains(body, "chưa chạy") {
		t.Errorf("status summary or last runs missing")
	}
	if w := get(t, h, "/static/style.css"); w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), "text/css") {
		t.Errorf("style.css: %d %q", w.Code, w.Header().Get("Content-Type"))
	}
}

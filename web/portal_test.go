package web

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/search"
)

// The record page reads as words in the page's language, lists every
// member's digital copies, and keeps the positions of fixed fields.
func TestRecordPageWordsAndLinks(t *testing.T) {
	st, cfg := demoStore(t)
	h := newTestServer(t, st, cfg)
	ids, _ := hitsOf(get(t, h, "/search?q=nguyen+du&sort=year").Body.String())
	if len(ids) == 0 {
		t.Fatal("no hit")
	}
	id := ids[0] // the 2015 edition, held by Tỉnh and Vinh, each with its own digital copy
	vi := get(t, h, "/record/"+id+"?lang=vi").Body.String()
	for _, want := range []string{
		"<dd>Tiếng Việt</dd>", "<dd>Sách</dd>", "<dd>Việt Nam</dd>", "khảo đính",
		`href="https://sach.thuviennghean.example/so/NAT00010231.pdf"`, "Bản số toàn văn (PDF)",
		`href="https://thuvienvinh.example/doc/000457"`, "Bản số trực tuyến (2)",
		`<code class="fixed">`,
	} {
		if !strings.Contains(vi, want) {
			t.Errorf("Vietnamese record page lacks %q", want)
		}
	}
	if strings.Contains(vi, "<dd>vie</dd>") || strings.Contains(vi, "<dd>book</dd>") {
		t.Error("codes shown raw on the Vietnamese page")
	}
	// 008 with every blank it has.
	if !regexp.MustCompile(`<code class="fixed">\d{6}s2015    vm            000 p vie d</code>`).MatchString(vi) {
		t.Error("008 not shown position for position")
	}
	en := get(t, h, "/record/"+id+"?lang=en").Body.String()
	for _, want := range []string{"<dd>Vietnamese</dd>", "<dd>Book</dd>", "<dd>Vietnam</dd>", "Digital copies online (2)"} {
		if !strings.Contains(en, want) {
			t.Errorf("English record page lacks %q", want)
		}
	}
}

// The results mark records with an online copy, and a facet filters by it.
func TestOnlineFacet(t *testing.T) {
	st, cfg := demoStore(t)
	h := newTestServer(t, st, cfg)
	// What the catalog holds with an online copy, read from the records.
	want := map[string]bool{}
	st.View(context.Background(), func(snap catalog.Snapshot) error {
		return snap.ForEachUnion(context.Background(), func(u *dedup.UnionRecord) error {
			if !u.Deleted && search.HasOnlineCopy(u.Record) {
				want[u.ID] = true
			}
			return nil
		})
	})
	all := get(t, h, "/search?q=cql.allRecords%3D1&cql=1&lang=vi").Body.String()
	if !strings.Contains(all, `<h3>Bản số</h3>`) ||
		!regexp.MustCompile(fmt.Sprintf(`>Có bản số</a> <span class="count">\(%d\)</span>`, len(want))).MatchString(all) {
		t.Errorf("no online-copy facet counting %d records", len(want))
	}
	w := get(t, h, "/search?online=1&lang=vi")
	body := w.Body.String()
	ids, titles := hitsOf(body)
	if w.Code != 200 || len(ids) != len(want) || strings.Count(body, `class="online"`) != len(want) {
		t.Fatalf("online=1: %d, hits %v %q, want %d", w.Code, ids, titles, len(want))
	}
	for _, id := range ids {
		if !want[id] {
			t.Errorf("online=1 finds %s, which has no online copy", id)
		}
	}
	for _, title := range []string{"Truyện Kiều", "Việt Nam sử lược"} {
		if !slices.Contains(titles, title) {
			t.Errorf("online=1 does not find %q: %q", title, titles)
		}
	}
	if !strings.Contains(body, "Bản số: <strong>Có bản số</strong>") {
		t.Error("the chosen filter does not read as words")
	}
}

// Every library has a page: what it holds, alone and with others, its
// sources, a search restricted to it and its OAI-PMH set.
func TestLibraryPages(t *testing.T) {
	st, cfg := demoStore(t)
	h := newTestServer(t, st, cfg)
	list := get(t, h, "/libraries?lang=vi")
	body := list.Body.String()
	if list.Code != 200 || strings.Count(body, `<a href="/library/`) != len(cfg.Sources) {
		t.Fatalf("/libraries: %d, %d libraries listed, want %d", list.Code, strings.Count(body, `<a href="/library/`), len(cfg.Sources))
	}
	w := get(t, h, "/library/NA-TINH?lang=vi")
	page := w.Body.String()
	for _, want := range []string{"<h1>Thư viện tỉnh Nghệ An</h1>", "<dd>Tỉnh</dd>", "<code>VN-NATINH</code>",
		`<dd id="lib-records">13</dd>`, `href="/search?library=NA-TINH"`, `<code>na-tinh</code>`} {
		if !strings.Contains(page, want) {
			t.Errorf("library page lacks %q", want)
		}
	}
	num := func(id string) string {
		m := regexp.MustCompile(`<dd id="` + id + `">(\d+)`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s", id)
		}
		return m[1]
	}
	if num("lib-union") == "0" || num("lib-alone") == "0" || num("lib-merged") == "0" {
		t.Errorf("counts: union %s, alone %s, merged %s%%", num("lib-union"), num("lib-alone"), num("lib-merged"))
	}
	// The search the page links to finds what it holds.
	found := get(t, h, "/search?library=NA-TINH").Body.String()
	if !strings.Contains(found, "Thư viện: <strong>Thư viện tỉnh Nghệ An</strong>") {
		t.Error("the library filter does not name the library")
	}
	if w := get(t, h, "/library/NA-NOWHERE"); w.Code != 404 {
		t.Errorf("/library/NA-NOWHERE = %d", w.Code)
	}
}

// A huge request gets an answer of bounded size: nothing of it is shown
// back more than once, and never whole.
func TestHugeInputNotEchoed(t *testing.T) {
	st, cfg := demoStore(t)
	h := newTestServer(t, st, cfg)
	big := url.QueryEscape(strings.Repeat(`"<`, 50000)) // 100 KB, which escaping would multiply
	for _, u := range []string{"/search?q=" + big, "/search?cql=1&q=" + big, "/search?library=" + big,
		"/search?q=a&type=" + big + "&lang=en", "/record/" + big, "/library/" + big} {
		w := get(t, h, u)
		if w.Code != 400 && w.Code != 404 {
			t.Errorf("%s…: %d", u[:20], w.Code)
		}
		if n := w.Body.Len(); n > 16<<10 {
			t.Errorf("%s…: a 100 KB input answered with %d bytes", u[:20], n)
		}
	}
}

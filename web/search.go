package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/search"
)

// MaxQueryLen bounds the query a search page accepts.
const MaxQueryLen = 1000

// FacetLimit is how many hits the facets are counted over: enough to be
// exact for the searches people make, bounded for "every record".
const FacetLimit = 2000

// maxPage keeps a crafted page number from asking the index for an
// offset beyond any catalog.
const maxPage = 100000

// facetDef names a facet: its URL parameter, the search index a chosen
// value filters on, and how it is counted from a hit.
type facetDef struct {
	Param string // URL parameter and translation key suffix
	Index string // search index
	count func(u *dedup.UnionRecord, add func(string))
}

var facetDefs = []facetDef{
	{"library", "library", func(u *dedup.UnionRecord, add func(string)) {
		for _, l := range u.Libraries {
			add(l)
		}
	}},
	{"level", "level", func(u *dedup.UnionRecord, add func(string)) {
		for _, l := range u.Levels {
			add(l)
		}
	}},
	{"year", "date", func(u *dedup.UnionRecord, add func(string)) {
		if y := u.Record.Year(); y > 0 {
			add(strconv.Itoa(y))
		}
	}},
	{"language", "language", func(u *dedup.UnionRecord, add func(string)) {
		for _, l := range u.Record.Languages() {
			add(l)
		}
	}},
	{"type", "type", func(u *dedup.UnionRecord, add func(string)) {
		if t := u.Record.MaterialType(); t != "" {
			add(t)
		}
	}},
	{"online", "online", func(u *dedup.UnionRecord, add func(string)) {
		if search.HasOnlineCopy(u.Record) {
			add("1")
		}
	}},
}

// filtersLen is the length of the chosen facet values together.
func filtersLen(filters map[string][]string) int {
	n := 0
	for _, vs := range filters {
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
}

// facetLabel is how a facet value reads on the page: a library by its
// name, codes in words, the rest as it is.
func facetLabel(param, value string, l tr, libraries map[string]string) string {
	switch param {
	case "library":
		if n := libraries[value]; n != "" {
			return n
		}
	case "level":
		return l.T("level." + value)
	case "language":
		return codeWords(languageNames, value, l.Lang)
	case "type":
		return codeWords(typeNames, value, l.Lang)
	case "online":
		return l.T("online.yes")
	}
	return value
}

// sortOptions are the orders offered, in the order shown.
var sortOptions = []string{"relevance", "title", "author", "year", "year-asc"}

var sortKeys = map[string][]search.SortKey{
	"title":    {{By: search.SortTitle}},
	"author":   {{By: search.SortCreator}, {By: search.SortTitle}},
	"year":     {{By: search.SortDate, Descending: true}, {By: search.SortTitle}},
	"year-asc": {{By: search.SortDate}, {By: search.SortTitle}},
}

type hit struct {
	ID        string
	Title     string
	Author    string
	Year      string
	Libraries int
	Online    bool // has a digital copy online
}

type facetValue struct {
	Param        string // the facet's URL parameter
	Value, Label string // the value, and how it reads
	Count        int
	Selected     bool
	URL          string // the search with this value chosen (or removed)
}

type facet struct {
	Param  string
	Values []facetValue
}

type searchData struct {
	Q        string
	CQL      bool
	Sort     string
	Sorts    []string
	Searched bool
	Error    string
	Total    int
	From, To int
	Page     int
	Pages    int
	PrevURL  string
	NextURL  string
	Hits     []hit
	Facets   []facet
	Partial  int // facets counted over this many hits only (0: all)
	Filters  []facetValue
}

// filtersOf returns the facet values a search asks for, by parameter.
func filtersOf(qv url.Values) map[string][]string {
	filters := map[string][]string{}
	for _, f := range facetDefs {
		for _, v := range qv[f.Param] {
			if v = strings.TrimSpace(v); v != "" {
				filters[f.Param] = append(filters[f.Param], v)
			}
		}
	}
	return filters
}

func (s *Server) search(c *gin.Context) {
	qv := c.Request.URL.Query()
	lang, _ := pickLang(c.Request)
	d := searchData{Q: strings.TrimSpace(qv.Get("q")), CQL: qv.Get("cql") != "", Sort: qv.Get("sort"), Sorts: sortOptions}
	if _, ok := sortKeys[d.Sort]; !ok {
		d.Sort = "relevance"
	}
	filters := filtersOf(qv)
	if d.Q == "" && len(filters) == 0 {
		s.render(c, http.StatusOK, "search.html", "", &d)
		return
	}
	d.Searched = true
	if n := len(d.Q) + filtersLen(filters); n > MaxQueryLen {
		// Not shown back: the page would repeat it several times over.
		d.Q, d.Error = "", "query and filters longer than "+strconv.Itoa(MaxQueryLen)+" bytes ("+strconv.Itoa(n)+")"
		s.render(c, http.StatusBadRequest, "search.html", "", &d)
		return
	}
	q, err := buildQuery(d.Q, d.CQL, d.Sort, filters)
	if err != nil {
		d.Error = err.Error()
		s.render(c, http.StatusBadRequest, "search.html", d.Q, &d)
		return
	}
	d.Page, _ = strconv.Atoi(qv.Get("page"))
	d.Page = min(max(d.Page, 1), maxPage)
	libraries := map[string]string{}
	ctx := c.Request.Context()
	err = s.opts.Catalog.View(ctx, func(snap catalog.Snapshot) error {
		if libs, err := snap.Libraries(); err == nil {
			for _, l := range libs {
				libraries[l.Code] = l.Name
			}
		}
		hits, err := snap.Search(ctx, q, (d.Page-1)*PageSize, PageSize)
		if err != nil {
			return err
		}
		d.Total = hits.Total
		for _, id := range hits.IDs {
			u, err := snap.Union(id)
			if err != nil {
				return err
			}
			if u == nil || u.Record == nil {
				continue
			}
			d.Hits = append(d.Hits, hitOf(u))
		}
		if d.Total > 0 {
			d.Facets, d.Partial, err = s.facets(ctx, snap, q, d.Total, filters, c.Request.URL, tr{Lang: lang}, libraries)
		}
		return err
	})
	var qe *search.Error
	if errors.As(err, &qe) {
		d.Error = qe.Error()
		s.render(c, http.StatusBadRequest, "search.html", d.Q, &d)
		return
	}
	if err != nil {
		s.opts.Log.Error("web search", "q", d.Q, "err", err)
		s.fail(c, http.StatusInternalServerError, err.Error())
		return
	}
	d.paginate(c.Request.URL)
	for _, f := range facetDefs {
		for _, v := range filters[f.Param] {
			d.Filters = append(d.Filters, facetValue{Param: f.Param, Value: v, Label: facetLabel(f.Param, v, tr{Lang: lang}, libraries),
				URL: withoutValue(c.Request.URL, f.Param, v)})
		}
	}
	s.render(c, http.StatusOK, "search.html", d.Q, &d)
}

// paginate sets the page count, the positions shown and the links to the
// pages before and after, from the page's URL u.
func (d *searchData) paginate(u *url.URL) {
	d.Pages = (d.Total + PageSize - 1) / PageSize
	if len(d.Hits) > 0 {
		d.From = (d.Page-1)*PageSize + 1
		d.To = d.From + len(d.Hits) - 1
	}
	if d.Page > 1 {
		d.PrevURL = withParam(u, "page", strconv.Itoa(d.Page-1))
	}
	if d.Page < d.Pages {
		d.NextURL = withParam(u, "page", strconv.Itoa(d.Page+1))
	}
}

func hitOf(u *dedup.UnionRecord) hit {
	r := u.Record
	h := hit{ID: u.ID, Title: r.Title(), Year: r.YearString(), Libraries: len(u.Libraries), Online: search.HasOnlineCopy(r)}
	if cs := r.Creators(); len(cs) > 0 {
		h.Author = cs[0].Name
	} else {
		h.Author = r.Responsibility()
	}
	return h
}

// facets counts the facet values over the first FacetLimit hits of q.
func (s *Server) facets(ctx context.Context, snap catalog.Snapshot, q *search.Query, total int, filters map[string][]string, u *url.URL,
	l tr, libraries map[string]string) ([]facet, int, error) {
	// Order does not matter for counting: the index order is the cheapest.
	unsorted := &search.Query{Root: q.Root, Sort: nil}
	hits, err := snap.Search(ctx, unsorted, 0, FacetLimit)
	if err != nil {
		return nil, 0, err
	}
	counts := make([]map[string]int, len(facetDefs))
	for i := range counts {
		counts[i] = map[string]int{}
	}
	for _, id := range hits.IDs {
		rec, err := snap.Union(id)
		if err != nil {
			return nil, 0, err
		}
		if rec == nil || rec.Record == nil {
			continue
		}
		for i, f := range facetDefs {
			seen := map[string]bool{}
			f.count(rec, func(v string) {
				if !seen[v] {
					seen[v] = true
					counts[i][v]++
				}
			})
		}
	}
	var out []facet
	for i, f := range facetDefs {
		fc := facet{Param: f.Param}
		for v, n := range counts[i] {
			sel := contains(filters[f.Param], v)
			link := withParam(u, f.Param, v, "add")
			if sel {
				link = withoutValue(u, f.Param, v)
			}
			fc.Values = append(fc.Values, facetValue{Param: f.Param, Value: v, Label: facetLabel(f.Param, v, l, libraries),
				Count: n, Selected: sel, URL: link})
		}
		sort.Slice(fc.Values, func(a, b int) bool {
			x, y := fc.Values[a], fc.Values[b]
			if f.Param == "year" {
				return x.Value > y.Value
			}
			if x.Count != y.Count {
				return x.Count > y.Count
			}
			return x.Value < y.Value
		})
		if len(fc.Values) > 15 {
			fc.Values = fc.Values[:15]
		}
		if len(fc.Values) > 0 {
			out = append(out, fc)
		}
	}
	partial := 0
	if total > len(hits.IDs) {
		partial = len(hits.IDs)
	}
	return out, partial, nil
}

// buildQuery turns the search form into a query: CQL when asked for (or
// when the text can only be CQL), else all the words anywhere; each
// chosen facet value is ANDed on as a whole-field match of its index.
func buildQuery(text string, asCQL bool, sortBy string, filters map[string][]string) (*search.Query, error) {
	var q *search.Query
	switch {
	case text == "":
		q = &search.Query{Root: search.AllRecords{}}
	case asCQL || looksLikeCQL(text):
		var err error
		if q, err = search.ParseCQL(text); err != nil {
			return nil, err
		}
	default:
		q = &search.Query{Root: &search.Term{Match: search.MatchAll, Value: search.EscapeMasking(text)}}
	}
	for _, f := range facetDefs {
		for _, v := range filters[f.Param] {
			t := &search.Term{Index: f.Index, Match: search.MatchField, Value: search.EscapeMasking(v)}
			if f.Param == "year" {
				if _, err := strconv.Atoi(v); err != nil {
					return nil, &search.Error{Code: search.DiagInvalidTerm, Detail: v, Message: "a year is a number"}
				}
				t = &search.Term{Index: f.Index, Relation: search.EQ, Match: search.MatchPhrase, Value: v}
			}
			if _, ok := q.Root.(search.AllRecords); ok {
				q.Root = t
			} else {
				q.Root = &search.Bool{Op: search.And, Left: q.Root, Right: t}
			}
		}
	}
	if keys, ok := sortKeys[sortBy]; ok && len(q.Sort) == 0 {
		q.Sort = keys
	}
	return q, nil
}

// looksLikeCQL reports whether text uses CQL syntax a person typing words
// would not: a relation, or an index name with a dot before one.
func looksLikeCQL(text string) bool {
	return strings.ContainsAny(text, "=<>") || strings.Contains(strings.ToLower(text), " sortby ")
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// withParam returns u's path and query with param set to v (or, with
// mode "add", v added to its values); the page goes back to 1 when the
// search itself changes.
func withParam(u *url.URL, param, v string, mode ...string) string {
	q := u.Query()
	q.Del("lang")
	if len(mode) > 0 && mode[0] == "add" {
		q.Add(param, v)
		q.Del("page")
	} else {
		q.Set(param, v)
	}
	return u.Path + "?" + q.Encode()
}

func withoutValue(u *url.URL, param, v string) string {
	q := u.Query()
	q.Del("lang")
	q.Del("page")
	var keep []string
	for _, x := range q[param] {
		if x != v {
			keep = append(keep, x)
		}
	}
	q[param] = keep
	path := u.Path
	if path == "/" {
		path = "/search"
	}
	return path + "?" + q.Encode()
}

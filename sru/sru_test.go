package sru

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/unicat/unicat/catalog/catalogtest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
)

// responseShape is what every version's responses look like: root
// namespace, the children the schema allows, in order.
func TestResponseStructure(t *testing.T) {
	c := newTestCatalog(t, testDocs)
	for _, tc := range []struct {
		params []string
		ns     string
		root   string
		order  []string // the allowed children in schema order
		want   []string // the children this response must have
	}{
		{[]string{"version", "1.1", "operation", "searchRetrieve", "query", "dang", "maximumRecords", "1"},
			nsSRU1, "searchRetrieveResponse",
			[]string{"version", "numberOfRecords", "resultSetId", "resultSetIdleTime", "records", "nextRecordPosition", "echoedSearchRetrieveRequest", "diagnostics", "extraResponseData"},
			[]string{"version", "numberOfRecords", "records", "nextRecordPosition"}},
		{[]string{"version", "1.2", "operation", "searchRetrieve", "query", "dang"},
			nsSRU1, "searchRetrieveResponse",
			[]string{"version", "numberOfRecords", "resultSetId", "resultSetIdleTime", "records", "nextRecordPosition", "echoedSearchRetrieveRequest", "diagnostics", "extraResponseData"},
			[]string{"version", "numberOfRecords", "records"}},
		{[]string{"version", "2.0", "query", "dang", "maximumRecords", "1"},
			nsResponse2, "searchRetrieveResponse",
			[]string{"numberOfRecords", "resultSetId", "records", "nextRecordPosition", "diagnostics", "extraResponseData", "resultSetTTL", "resultCountPrecision", "facetedResults"},
			[]string{"numberOfRecords", "records", "nextRecordPosition", "resultCountPrecision"}},
		{[]string{"query", "dc.nosuch = x"}, // no version: 2.0
			nsResponse2, "searchRetrieveResponse",
			[]string{"numberOfRecords", "resultSetId", "records", "nextRecordPosition", "diagnostics", "extraResponseData", "resultSetTTL", "resultCountPrecision", "facetedResults"},
			[]string{"numberOfRecords", "diagnostics", "resultCountPrecision"}},
		{[]string{"version", "1.2", "operation", "scan", "scanClause", "dc.creator = d"},
			nsSRU1, "scanResponse",
			[]string{"version", "terms", "echoedScanRequest", "diagnostics", "extraResponseData"},
			[]string{"version", "terms"}},
		{[]string{"version", "2.0", "operation", "scan", "scanClause", "dc.creator = d"},
			nsScan2, "scanResponse",
			[]string{"terms", "echoedScanRequest", "diagnostics", "extraResponseData"},
			[]string{"terms"}},
		{[]string{"version", "1.1", "operation", "explain"},
			nsSRU1, "explainResponse",
			[]string{"version", "record", "echoedExplainRequest", "diagnostics", "extraResponseData"},
			[]string{"version", "record"}},
		{[]string{"version", "2.0"},
			nsResponse2, "explainResponse",
			[]string{"version", "record", "echoedExplainRequest", "diagnostics", "extraResponseData"},
			[]string{"version", "record"}},
		{[]string{"version", "1.2", "operation", "explain", "x-foo", "bar"},
			nsSRU1, "explainResponse",
			[]string{"version", "record", "echoedExplainRequest", "diagnostics", "extraResponseData"},
			[]string{"version", "record"}},
	} {
		n := c.get(t, tc.params...)
		name := strings.Join(tc.params, " ")
		if n.Space != tc.ns || n.Local != tc.root {
			t.Errorf("%s: root {%s}%s, want {%s}%s", name, n.Space, n.Local, tc.ns, tc.root)
			continue
		}
		got := n.names()
		if !inOrder(got, tc.order) {
			t.Errorf("%s: children %v not in schema order %v", name, got, tc.order)
		}
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s: no %s in %v", name, w, got)
			}
		}
		for _, c := range n.Children {
			if c.Space != tc.ns && c.Local != "diagnostics" {
				t.Errorf("%s: child %s in namespace %s", name, c.Local, c.Space)
			}
		}
		if d := n.child("diagnostics"); d != nil {
			wantNS := nsDiag1
			if tc.ns != nsSRU1 {
				wantNS = nsDiag2
			}
			for _, dg := range d.Children {
				if dg.Space != wantNS || dg.Local != "diagnostic" || !slices.Equal(dg.names(), []string{"uri", "details", "message"}) {
					t.Errorf("%s: diagnostic {%s}%s %v", name, dg.Space, dg.Local, dg.names())
				}
			}
		}
	}
}

// inOrder reports whether got is a subsequence of order without repeats
// except for adjacent equal names.
func inOrder(got, order []string) bool {
	j := 0
	for _, g := range got {
		for j < len(order) && order[j] != g {
			j++
		}
		if j == len(order) {
			return false
		}
	}
	return true
}

func TestSearchRetrieveRecords(t *testing.T) {
	c := newTestCatalog(t, testDocs)
	for _, v := range []string{"1.1", "1.2", "2.0"} {
		n := c.get(t, "version", v, "operation", "searchRetrieve", "query", "dc.creator = dang", "maximumRecords", "1",
			"startRecord", "1", "sortKeys", map[string]string{"1.1": "title,,1"}[v])
		if v != "1.1" {
			n = c.get(t, "version", v, "operation", "searchRetrieve", "query", "dc.creator = dang sortBy dc.title", "maximumRecords", "1")
		}
		if got := n.child("numberOfRecords").Text; got != "2" {
			t.Errorf("%s: numberOfRecords %s", v, got)
		}
		if got := n.child("nextRecordPosition"); got == nil || got.Text != "2" {
			t.Errorf("%s: nextRecordPosition %v", v, got)
		}
		r := n.path("records", "record")
		pack := "recordPacking"
		if v == "2.0" {
			pack = "recordXMLEscaping"
		}
		if !slices.Equal(r.names(), []string{"recordSchema", pack, "recordData", "recordPosition"}) {
			t.Errorf("%s: record children %v", v, r.names())
		}
		if r.child("recordSchema").Text != schemaMARCXML || r.child(pack).Text != "xml" || r.child("recordPosition").Text != "1" {
			t.Errorf("%s: record %v", v, r.names())
		}
		m := r.child("recordData").child("record")
		if m == nil || m.Space != marc.MARCXMLNamespace {
			t.Fatalf("%s: recordData holds no MARCXML record", v)
		}
		// Sorted by title: "The history of computing" (non-filing "The ")
		// before "Văn thơ cách mạng".
		if !strings.Contains(string(n.raw), ">u3<") {
			t.Errorf("%s: first record by title should be u3:\n%s", v, n.raw)
		}
	}
	// Dublin Core, and string packing.
	n := c.get(t, "version", "1.2", "operation", "searchRetrieve", "query", `dc.title == "Truyện Kiều"`, "recordSchema", "dc")
	dc := n.path("records", "record", "recordData", "dc")
	if dc == nil || dc.Space != marc.NamespaceSRWDC || dc.child("title") == nil || dc.child("title").Text != "Truyện Kiều : thơ" {
		t.Errorf("dc record: %s", n.raw)
	}
	n = c.get(t, "version", "1.2", "operation", "searchRetrieve", "query", "flatland", "recordPacking", "string")
	data := n.path("records", "record", "recordData")
	if len(data.Children) != 0 || !strings.Contains(data.Text, "<record xmlns=\""+marc.MARCXMLNamespace) {
		t.Errorf("string packing: %s", n.raw)
	}
	// maximumRecords=0: a count only.
	n = c.get(t, "version", "1.2", "operation", "searchRetrieve", "query", "cql.allRecords=1", "maximumRecords", "0")
	if n.child("numberOfRecords").Text != "4" || n.child("records") != nil || n.child("nextRecordPosition") != nil {
		t.Errorf("maximumRecords=0: %s", n.raw)
	}
	// The cap on maximumRecords.
	small := New(Config{Catalog: c.cat, MaxRecords: 2})
	rec := httptest.NewRecorder()
	small.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sru?version=1.2&operation=searchRetrieve&query=cql.allRecords%3D1&maximumRecords=50", nil))
	n = parseResponse(t, rec.Result())
	if got := len(n.child("records").all("record")); got != 2 || n.child("nextRecordPosition").Text != "3" {
		t.Errorf("capped at 2: %d records, next %s", got, n.child("nextRecordPosition").Text)
	}
}

func TestPOST(t *testing.T) {
	c := newTestCatalog(t, testDocs)
	body := url.Values{"version": {"1.2"}, "operation": {"searchRetrieve"}, "query": {"nguyễn du"}}.Encode()
	req := httptest.NewRequest(http.MethodPost, "/sru", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	c.srv.ServeHTTP(rec, req)
	n := parseResponse(t, rec.Result())
	if n.child("numberOfRecords").Text != "1" {
		t.Errorf("POST: %s", n.raw)
	}
}

// TestDiagnostics triggers each diagnostic the server produces.
func TestDiagnostics(t *testing.T) {
	c := newTestCatalog(t, testDocs)
	sr := func(q string, extra ...string) []string {
		return append([]string{"version", "1.2", "operation", "searchRetrieve", "query", q}, extra...)
	}
	for _, tc := range []struct {
		code   string
		params []string
	}{
		{"4", []string{"version", "1.2", "operation", "update"}},
		{"5", []string{"version", "3.0", "operation", "explain"}},
		{"6", sr("dang", "startRecord", "0")},
		{"6", sr("dang", "maximumRecords", "-1")},
		{"6", sr("dang", "maximumRecords", "ten")},
		{"7", []string{"version", "1.2", "operation", "searchRetrieve"}},
		{"7", []string{"version", "1.2", "operation", "scan"}},
		{"8", sr("dang", "recordXPath2", "x")},
		{"8", sr("dang", "sortKeys", "title")}, // 1.2 sorts with sortBy
		{"10", sr("(dang")},
		{"10", sr("")},
		{"11", []string{"version", "2.0", "query", "dang", "queryType", "pqf"}},
		{"15", sr("foo.title = x")},
		{"16", sr("dc.nosuch = x")},
		{"19", sr("dc.title within x")},
		{"20", sr("dc.title =/stem x")},
		{"21", sr("dc.title =/ignoreAccents/respectAccents x")},
		{"22", sr("cql.serverChoice < x")},
		{"27", sr(`dc.title = ""`)},
		{"28", sr("dc.date > 19*")},
		{"32", sr(`dc.title = "kiều^"`)},
		{"36", sr("dc.date = abc")},
		{"37", sr("(a or b) prox c")},
		{"39", sr("dc.date = 2000 prox dc.date = 2001")},
		{"41", sr("a prox/distance<5 b")},
		{"42", sr("a prox/unit=paragraph b")},
		{"46", sr("a and/foo b")},
		{"61", sr("dang", "startRecord", "10")},
		{"66", sr("dang", "recordSchema", "mods")},
		{"71", sr("dang", "recordPacking", "json")},
		{"71", []string{"version", "2.0", "query", "dang", "recordXMLEscaping", "json"}},
		{"72", []string{"version", "1.1", "operation", "searchRetrieve", "query", "dang", "recordXPath", "/a"}},
		{"80", sr("dang sortBy dc.subject")},
		{"80", []string{"version", "1.1", "operation", "searchRetrieve", "query", "dang sortBy dc.title"}},
		{"88", []string{"version", "1.1", "operation", "searchRetrieve", "query", "dang", "sortKeys", "nosuch,,1"}},
		{"110", sr("dang", "stylesheet", "x.xsl")},
		{"120", []string{"version", "1.2", "operation", "scan", "scanClause", "dang", "responsePosition", "30", "maximumTerms", "5"}},
		{"121", []string{"version", "1.2", "operation", "scan", "scanClause", "dang", "maximumTerms", "100000"}},
		{"16", []string{"version", "1.2", "operation", "scan", "scanClause", "dc.nosuch = x"}},
		{"10", []string{"version", "1.2", "operation", "scan", "scanClause", "a and b"}},
	} {
		n := c.get(t, tc.params...)
		if got := n.diagnostics(); !slices.Contains(got, tc.code) {
			t.Errorf("%v: diagnostics %v, want %s\n%s", tc.params, got, tc.code, n.raw)
		}
	}
	// Diagnostic 1: a system error (the store failing) is reported, not a 500.
	broken := New(Config{Catalog: &catalogtest.Catalog{DB: c.cat.DB, Fail: errors.New("disk on fire")}})
	rec := httptest.NewRecorder()
	broken.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sru?version=1.2&operation=searchRetrieve&query=x", nil))
	if got := parseResponse(t, rec.Result()).diagnostics(); !slices.Equal(got, []string{"1"}) {
		t.Errorf("system error: diagnostics %v", got)
	}
	// Surrogate diagnostic for a record that cannot be fetched.
	missing := New(Config{Catalog: &catalogtest.Catalog{DB: c.cat.DB,
		Record: func(string, *marc.Record) (*marc.Record, error) { return nil, nil }}})
	rec = httptest.NewRecorder()
	missing.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sru?version=1.2&operation=searchRetrieve&query=flatland", nil))
	n := parseResponse(t, rec.Result())
	r := n.path("records", "record")
	if r.child("recordSchema").Text != schemaDiagnostics || r.path("recordData", "diagnostic", "uri").Text != diagPrefix+"65" {
		t.Errorf("surrogate diagnostic: %s", n.raw)
	}
}

// TestUnavailable: while Config.Unavailable gives a reason, searchRetrieve
// and scan answer diagnostic 2 with it, in every version, without asking
// the catalog (there is none here); explain answers as always.
func TestUnavailable(t *testing.T) {
	why := "unicat is building the union catalog (dedup): try again later"
	c := &testCatalog{srv: New(Config{Unavailable: func() string { return why }})}
	for _, params := range [][]string{
		{"version", "1.2", "operation", "searchRetrieve", "query", "dang"},
		{"version", "2.0", "query", "dang"},
		{"version", "1.1", "operation", "scan", "scanClause", "dang"},
	} {
		n := c.get(t, params...)
		d := n.path("diagnostics", "diagnostic")
		if got := n.diagnostics(); !slices.Equal(got, []string{"2"}) || !strings.Contains(d.child("message").Text, why) {
			t.Errorf("%v: diagnostics %v: %s", params, got, n.raw)
		}
	}
	// A bad request still gets its own diagnostic.
	if got := c.get(t, "version", "1.2", "operation", "searchRetrieve", "query", "dang", "bogus", "1").diagnostics(); !slices.Equal(got, []string{"8"}) {
		t.Errorf("unsupported parameter while unavailable: diagnostics %v", got)
	}
	n := c.get(t, "version", "1.2", "operation", "explain")
	if n.path("record", "recordData", "explain") == nil || n.diagnostics() != nil {
		t.Errorf("explain while unavailable: %s", n.raw)
	}
	// Available again: the catalog answers.
	c = newTestCatalog(t, testDocs)
	c.srv.cfg.Unavailable = func() string { return "" }
	if n := c.get(t, "version", "1.2", "operation", "searchRetrieve", "query", "dang"); n.diagnostics() != nil || n.child("numberOfRecords").Text == "0" {
		t.Errorf("available: %s", n.raw)
	}
}

func TestScan(t *testing.T) {
	c := newTestCatalog(t, testDocs)
	n := c.get(t, "version", "1.2", "operation", "scan", "scanClause", "dc.creator = dang", "responsePosition", "2", "maximumTerms", "3")
	terms := n.child("terms").all("term")
	if len(terms) != 3 {
		t.Fatalf("scan: %s", n.raw)
	}
	if terms[1].child("value").Text != "dang" || terms[1].child("numberOfRecords").Text != "2" ||
		terms[1].child("displayTerm").Text != "đặng" {
		t.Errorf("scan term 2: %v", terms[1].names())
	}
	if !slices.Equal(terms[0].names(), []string{"value", "numberOfRecords", "displayTerm"}) {
		t.Errorf("term children %v", terms[0].names())
	}
	n = c.get(t, "version", "2.0", "operation", "scan", "scanClause", `dc.title == "truyện"`, "maximumTerms", "2")
	if v := n.path("terms", "term", "value"); v == nil || v.Text != "truyen kieu" {
		t.Errorf("phrase scan: %s", n.raw)
	}
}

func TestExplain(t *testing.T) {
	c := newTestCatalog(t, testDocs)
	n := c.get(t, "version", "1.2", "operation", "explain")
	zr := n.path("record", "recordData", "explain")
	if zr == nil || zr.Space != nsZeeRex {
		t.Fatalf("explain: %s", n.raw)
	}
	if !inOrder(zr.names(), []string{"serverInfo", "databaseInfo", "metaInfo", "indexInfo", "recordInfo", "schemaInfo", "configInfo"}) {
		t.Errorf("ZeeRex children %v", zr.names())
	}
	// Every index of the table, with its CQL names and Bib-1 attributes.
	indexes := map[string]*node{}
	for _, ix := range zr.child("indexInfo").all("index") {
		indexes[ix.Attrs["id"]] = ix
	}
	for _, def := range search.Indexes() {
		ix := indexes[def.Name]
		if ix == nil {
			t.Errorf("explain lacks index %s", def.Name)
			continue
		}
		var names, attrs []string
		for _, m := range ix.all("map") {
			if nm := m.child("name"); nm != nil {
				names = append(names, nm.Attrs["set"]+"."+nm.Text)
			}
			if a := m.child("attr"); a != nil {
				attrs = append(attrs, a.Text)
			}
		}
		if !slices.Equal(names, def.CQL) || len(attrs) != len(def.Bib1) {
			t.Errorf("index %s: names %v attrs %v", def.Name, names, attrs)
		}
	}
	for _, want := range []string{"dc.title", "dc.creator", "bath.isbn", "unicat.library", "bath.possessingInstitution", "rec.id"} {
		if !strings.Contains(string(n.raw), `set="`+strings.Split(want, ".")[0]+`">`+strings.Split(want, ".")[1]+`<`) {
			t.Errorf("explain does not name %s", want)
		}
	}
	var schemas []string
	for _, s := range zr.child("schemaInfo").all("schema") {
		schemas = append(schemas, s.Attrs["identifier"])
	}
	if !slices.Equal(schemas, []string{schemaMARCXML, schemaDC}) {
		t.Errorf("schemas %v", schemas)
	}
}

// TestVietnameseSRU searches the constructed Vietnamese records over SRU
// the ways users type.
func TestVietnameseSRU(t *testing.T) {
	var docs []search.Doc
	for i, r := range readMARCFile(t, "../testdata/vietnamese/na-tinh.xml") {
		docs = append(docs, search.Doc{ID: "nt" + itoa(i), Record: r})
	}
	for i, r := range readMARCFile(t, "../testdata/vietnamese/vinh.mrc") {
		docs = append(docs, search.Doc{ID: "vi" + itoa(i), Record: r})
	}
	c := newTestCatalog(t, docs)
	count := func(q string) string {
		return c.get(t, "version", "1.2", "operation", "searchRetrieve", "query", q, "maximumRecords", "0").child("numberOfRecords").Text
	}
	nd := count(`dc.creator = "Nguyễn Du"`)
	if nd == "0" {
		t.Fatal("no Nguyễn Du in na-tinh and vinh")
	}
	for _, q := range []string{"dc.creator = \"nguyen du\"", "dc.creator = \"" + nfd("Nguyễn Du") + "\"", "dc.creator = \"NGUYỄN DU\""} {
		if got := count(q); got != nd {
			t.Errorf("%s: %s hits, Nguyễn Du has %s", q, got, nd)
		}
	}
	// đ folds to d: "doan gioi" finds Đoàn Giỏi, "kim dong" Kim Đồng.
	for _, pair := range [][2]string{{`dc.creator = "doan gioi"`, `dc.creator = "Đoàn Giỏi"`}, {`dc.publisher = "kim dong"`, `dc.publisher = "Kim Đồng"`}} {
		if a, b := count(pair[0]), count(pair[1]); a != b || a == "0" {
			t.Errorf("%s: %s hits, %s: %s", pair[0], a, pair[1], b)
		}
	}
	if count(`dc.creator =/respectAccents "doan gioi"`) != "0" {
		t.Error("respectAccents: doan gioi found Đoàn Giỏi")
	}
	// == respects accents: the exact title finds it, the folded does not.
	if count(`dc.title == "Truyện Kiều"`) == "0" || count(`dc.title == "Truyen Kieu"`) != "0" {
		t.Errorf("== and accents: %s / %s", count(`dc.title == "Truyện Kiều"`), count(`dc.title == "Truyen Kieu"`))
	}
	// vinh writes "hoà" the old way; na-tinh and vinh meet either way.
	if a, b := count(`dc.title =/respectAccents "hòa bình"`), count(`dc.title =/respectAccents "hoà bình"`); a != b || a == "0" {
		t.Errorf("tone placement: hòa %s, hoà %s", a, b)
	}
}

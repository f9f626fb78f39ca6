package oaipmh

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

const testDomain = "demo.unicat.invalid"

// clock is a settable time source shared by the index, the server and
// the batches, so datestamps are known in advance.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// refDate is the reference date of the tests' harvests.
var refDate = time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)

var testSources = []store.SourceInfo{
	{ID: "tinh", Name: "Thư viện tỉnh Nghệ An", LibraryCode: "NA-TINH", Level: "province", Kind: "file"},
	{ID: "vinh", Name: "Thư viện thành phố Vinh", LibraryCode: "NA-VINH", Level: "district", Kind: "file"},
	{ID: "xa", Name: "Phòng đọc xã Nghi Lộc", LibraryCode: "NA/NGHI LOC", Level: "commune", Kind: "file"},
}

// fixture is a catalog and a Server over it.
type fixture struct {
	t     testing.TB
	path  string
	cat   *catalog.Catalog
	st    *store.Store // the catalog's
	srv   *Server
	clock *clock
	opts  Options
}

func newFixture(t testing.TB, pageSize int) *fixture {
	t.Helper()
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "unicat.db"), clock: &clock{t: refDate}}
	f.opts = Options{
		RepositoryName: "Mục lục liên hợp Nghệ An (test)",
		Domain:         testDomain,
		AdminEmail:     "oai@demo.unicat.invalid",
		BaseURL:        "http://unicat.test/oai",
		PageSize:       pageSize,
		Now:            f.clock.Now,
	}
	f.open()
	t.Cleanup(func() { f.cat.Close() })
	return f
}

// open opens the catalog and the Server over it, as cmd/unicat does.
func (f *fixture) open() {
	t := f.t
	t.Helper()
	cat, err := catalog.Open(catalog.Options{Path: f.path, NoSync: true, Sources: testSources, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.srv, err = NewServer(cat, f.opts)
	if err != nil {
		t.Fatal(err)
	}
	f.cat, f.st = cat, cat.Store()
}

func (f *fixture) reopen() {
	f.t.Helper()
	if err := f.cat.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.open()
}

// book describes a test record.
type book struct {
	id, isbn, title, author string
	year                    int
	call                    string
}

func sf(code byte, v string) marc.Subfield { return marc.Subfield{Code: code, Value: v} }

func (b book) record() *marc.Record {
	year := "    "
	if b.year != 0 {
		year = fmt.Sprintf("%04d", b.year)
	}
	r := &marc.Record{Leader: "00000nam a2200000 a 4500"}
	r.Fields = append(r.Fields,
		marc.Field{Tag: "001", Value: b.id},
		marc.Field{Tag: "008", Value: "200101s" + year + "    vm            000 0 vie d"},
	)
	if b.isbn != "" {
		r.Fields = append(r.Fields, marc.Field{Tag: "020", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', b.isbn)}})
	}
	if b.author != "" {
		r.Fields = append(r.Fields, marc.Field{Tag: "100", Ind1: '1', Ind2: ' ', Subfields: []marc.Subfield{sf('a', b.author)}})
	}
	r.Fields = append(r.Fields,
		marc.Field{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{sf('a', b.title)}},
		marc.Field{Tag: "260", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "Vinh :"), sf('b', "Nxb. Nghệ An,"), sf('c', strconv.Itoa(b.year))}},
		marc.Field{Tag: "650", Ind1: ' ', Ind2: '7', Subfields: []marc.Subfield{sf('a', "Văn học Việt Nam")}},
	)
	if b.call != "" {
		r.Fields = append(r.Fields, marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "X"), sf('h', b.call)}})
	}
	return r
}

// nthBook is a distinct book per n: its own ISBN-less title and author.
func nthBook(n int) book {
	return book{
		id:     fmt.Sprintf("r%06d", n),
		title:  fmt.Sprintf("Tuyển tập truyện ngắn số %d: Quê hương xứ Nghệ", n),
		author: fmt.Sprintf("Nguyễn Văn %s", spell(n)),
		year:   1990 + n%30,
		call:   fmt.Sprintf("895.922 %d", n),
	}
}

// spell gives each n a distinct word-like name (so no two authors are
// near-identical strings the fuzzy matcher might join).
func spell(n int) string {
	syl := []string{"An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Khánh", "Lâm", "Minh", "Nam"}
	var parts []string
	for {
		parts = append(parts, syl[n%10])
		n /= 10
		if n == 0 {
			break
		}
	}
	return strings.Join(parts, " ")
}

// put applies records from source at the clock's time.
func (f *fixture) put(source string, books ...book) {
	f.t.Helper()
	b := store.Batch{Source: source, Now: f.clock.Now()}
	for _, bk := range books {
		b.Records = append(b.Records, store.Incoming{LocalID: bk.id, Record: bk.record()})
	}
	if _, err := f.st.Apply(b); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) del(source string, ids ...string) {
	f.t.Helper()
	b := store.Batch{Source: source, Now: f.clock.Now()}
	for _, id := range ids {
		b.Deletions = append(b.Deletions, store.Deletion{LocalID: id})
	}
	if _, err := f.st.Apply(b); err != nil {
		f.t.Fatal(err)
	}
}

// unions returns every union record, by id.
func (f *fixture) unions() map[string]*dedup.UnionRecord {
	f.t.Helper()
	out := map[string]*dedup.UnionRecord{}
	err := f.st.View(func(tx *store.Tx) error {
		return dedup.ForEachUnion(tx.Bolt(), func(u *dedup.UnionRecord) error {
			out[u.ID] = u
			return nil
		})
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// unionOf returns the live union record holding localID of source.
func (f *fixture) unionOf(source, localID string) *dedup.UnionRecord {
	f.t.Helper()
	// A union record numbers its members by their library's organization
	// code, which defaults to the library code.
	want := "(" + source + ")" + localID
	for _, s := range testSources {
		if s.ID == source {
			want = "(" + s.LibraryCode + ")" + localID
		}
	}
	for _, u := range f.unions() {
		if u.Deleted || u.Record == nil {
			continue
		}
		for _, fl := range u.Record.FieldsByTag("035") {
			if fl.Sub('a') == want {
				return u
			}
		}
	}
	f.t.Fatalf("no live union record holds %s", want)
	return nil
}

// do sends one request to the server and returns the body, decompressed.
func (f *fixture) do(method, query string, hdr ...string) (*http.Response, []byte) {
	f.t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		req = httptest.NewRequest(method, "http://unicat.test/oai", strings.NewReader(query))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		target := "http://unicat.test/oai"
		if query != "" {
			target += "?" + query
		}
		req = httptest.NewRequest(method, target, nil)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	res := rec.Result()
	var body io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			f.t.Fatalf("%s: gzip: %v", query, err)
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		f.t.Fatalf("%s: read body: %v", query, err)
	}
	return res, b
}

// get sends a GET and parses the response, failing on malformed XML.
func (f *fixture) get(query string) (*oaiResponse, []byte) {
	f.t.Helper()
	_, body := f.do(http.MethodGet, query)
	return parseResponse(f.t, query, body), body
}

// The parts of responses the tests look at.
type oaiResponse struct {
	XMLName        xml.Name `xml:"http://www.openarchives.org/OAI/2.0/ OAI-PMH"`
	SchemaLocation string   `xml:"http://www.w3.org/2001/XMLSchema-instance schemaLocation,attr"`
	ResponseDate   string   `xml:"responseDate"`
	Request        struct {
		Attrs []xml.Attr `xml:",any,attr"`
		URL   string     `xml:",chardata"`
	} `xml:"request"`
	Errors []struct {
		Code string `xml:"code,attr"`
		Msg  string `xml:",chardata"`
	} `xml:"error"`
	Identify *struct {
		RepositoryName    string `xml:"repositoryName"`
		BaseURL           string `xml:"baseURL"`
		ProtocolVersion   string `xml:"protocolVersion"`
		AdminEmail        string `xml:"adminEmail"`
		EarliestDatestamp string `xml:"earliestDatestamp"`
		DeletedRecord     string `xml:"deletedRecord"`
		Granularity       string `xml:"granularity"`
		Description       struct {
			Identifier struct {
				RepositoryIdentifier string `xml:"repositoryIdentifier"`
				SampleIdentifier     string `xml:"sampleIdentifier"`
			} `xml:"http://www.openarchives.org/OAI/2.0/oai-identifier oai-identifier"`
		} `xml:"description"`
	} `xml:"Identify"`
	ListMetadataFormats *struct {
		Formats []struct {
			Prefix    string `xml:"metadataPrefix"`
			Schema    string `xml:"schema"`
			Namespace string `xml:"metadataNamespace"`
		} `xml:"metadataFormat"`
	} `xml:"ListMetadataFormats"`
	ListSets *struct {
		Sets []struct {
			Spec string `xml:"setSpec"`
			Name string `xml:"setName"`
		} `xml:"set"`
		Token *tokenElem `xml:"resumptionToken"`
	} `xml:"ListSets"`
	GetRecord *struct {
		Record record `xml:"record"`
	} `xml:"GetRecord"`
	ListIdentifiers *struct {
		Headers []header   `xml:"header"`
		Token   *tokenElem `xml:"resumptionToken"`
	} `xml:"ListIdentifiers"`
	ListRecords *struct {
		Records []record   `xml:"record"`
		Token   *tokenElem `xml:"resumptionToken"`
	} `xml:"ListRecords"`
}

type header struct {
	Status     string   `xml:"status,attr"`
	Identifier string   `xml:"identifier"`
	Datestamp  string   `xml:"datestamp"`
	Sets       []string `xml:"setSpec"`
}

type record struct {
	Header   header `xml:"header"`
	Metadata *struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"metadata"`
}

type tokenElem struct {
	Value          string `xml:",chardata"`
	ExpirationDate string `xml:"expirationDate,attr"`
	Size           string `xml:"completeListSize,attr"`
	Cursor         string `xml:"cursor,attr"`
}

func (r *oaiResponse) errorCode() string {
	if len(r.Errors) == 0 {
		return ""
	}
	return r.Errors[0].Code
}

func (r *oaiResponse) attr(name string) (string, bool) {
	for _, a := range r.Request.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func parseResponse(t testing.TB, query string, body []byte) *oaiResponse {
	t.Helper()
	var r oaiResponse
	if err := xml.Unmarshal(body, &r); err != nil {
		t.Fatalf("%s: response is not well-formed OAI-PMH: %v\n%s", query, err, clip(body))
	}
	return &r
}

func clip(b []byte) string {
	if len(b) > 3000 {
		return string(b[:3000]) + "..."
	}
	return string(b)
}

// harvest runs a whole list, following resumption tokens, and checks the
// list's bookkeeping: cursors, completeListSize, the empty last token and
// no identifier twice. It returns the headers (and records for
// ListRecords) in order, and every response body.
func (f *fixture) harvest(verb, args string) (headers []header, records []record, bodies [][]byte) {
	f.t.Helper()
	query := "verb=" + verb + "&" + args
	seen := map[string]bool{}
	size := ""
	for page := 0; ; page++ {
		r, body := f.get(query)
		bodies = append(bodies, body)
		if code := r.errorCode(); code != "" {
			if code == "noRecordsMatch" && page == 0 {
				return nil, nil, bodies
			}
			f.t.Fatalf("%s: error %s: %s", query, code, r.Errors[0].Msg)
		}
		var hs []header
		var tok *tokenElem
		switch verb {
		case "ListIdentifiers":
			hs, tok = r.ListIdentifiers.Headers, r.ListIdentifiers.Token
		case "ListRecords":
			for _, rec := range r.ListRecords.Records {
				hs = append(hs, rec.Header)
			}
			records = append(records, r.ListRecords.Records...)
			tok = r.ListRecords.Token
		}
		if len(hs) == 0 {
			f.t.Fatalf("%s: page %d is empty", query, page)
		}
		if tok != nil {
			if tok.Cursor != strconv.Itoa(len(headers)) {
				f.t.Errorf("%s: page %d cursor %q, want %d", query, page, tok.Cursor, len(headers))
			}
			if size == "" {
				size = tok.Size
			} else if tok.Size != size {
				f.t.Errorf("%s: completeListSize changed from %s to %s", query, size, tok.Size)
			}
		}
		for _, h := range hs {
			if seen[h.Identifier] {
				f.t.Errorf("%s: %s served twice in one list", query, h.Identifier)
			}
			seen[h.Identifier] = true
		}
		headers = append(headers, hs...)
		if tok == nil {
			if page > 0 {
				f.t.Fatalf("%s: page %d has no resumptionToken; the last page of a split list has an empty one", query, page)
			}
			return headers, records, bodies
		}
		if tok.Value == "" {
			if page == 0 {
				f.t.Errorf("%s: an unsplit list ends with an empty resumptionToken", query)
			}
			if size != strconv.Itoa(len(headers)) {
				f.t.Errorf("%s: completeListSize %s, harvested %d", query, size, len(headers))
			}
			return headers, records, bodies
		}
		if tok.ExpirationDate == "" {
			f.t.Errorf("%s: resumptionToken without expirationDate", query)
		}
		query = "verb=" + verb + "&resumptionToken=" + url.QueryEscape(tok.Value)
	}
}

// validator validates documents with xmllint against the full OAI-PMH
// schema, in batches (one xmllint run per call to check).
type validator struct {
	t     testing.TB
	dir   string
	files []string
	names []string
}

func newValidator(t testing.TB) *validator {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint is required in CI (Debian libxml2-utils)")
		}
		t.Skip("xmllint not installed (Debian libxml2-utils)")
	}
	return &validator{t: t, dir: t.TempDir()}
}

func (v *validator) add(name string, body []byte) {
	p := filepath.Join(v.dir, fmt.Sprintf("%04d.xml", len(v.files)))
	if err := os.WriteFile(p, body, 0o644); err != nil {
		v.t.Fatal(err)
	}
	v.files = append(v.files, p)
	v.names = append(v.names, name)
}

// check runs xmllint over every document added since the last check.
func (v *validator) check() {
	v.t.Helper()
	if len(v.files) == 0 {
		return
	}
	schema, err := filepath.Abs("../testdata/schemas/oai-pmh-full.xsd")
	if err != nil {
		v.t.Fatal(err)
	}
	args := append([]string{"--noout", "--nonet", "--schema", schema}, v.files...)
	out, err := exec.Command("xmllint", args...).CombinedOutput()
	if err != nil {
		// Name the requests behind the failing files.
		msg := string(out)
		for i, p := range v.files {
			msg = strings.ReplaceAll(msg, p, v.names[i])
		}
		v.t.Errorf("xmllint: %v\n%s", err, clipString(msg, 6000))
	}
	if n := bytes.Count(out, []byte(" validates")); err == nil && n != len(v.files) {
		v.t.Errorf("xmllint validated %d of %d documents:\n%s", n, len(v.files), out)
	}
	v.files, v.names = v.files[:0], v.names[:0]
}

func clipString(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func xmlUnmarshal(b []byte, v any) error { return xml.Unmarshal(b, v) }

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

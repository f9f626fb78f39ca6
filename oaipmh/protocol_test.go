package oaipmh

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// catalogFixture is a small catalog at known datestamps:
//
//	day D (refDate, 2024-05-01) 08:00:00  r000001-r000003 from tinh
//	D+1 10:00:00                          r000004 from vinh, r000005 from xa
//	D+1 10:00:30                          r000006 from tinh, r000007 from vinh
//
// and the clock at D+2 12:00:00.
func catalogFixture(t testing.TB, pageSize int) *fixture {
	f := newFixture(t, pageSize)
	f.put("tinh", nthBook(1), nthBook(2), nthBook(3))
	f.clock.set(refDate.Add(26 * time.Hour))
	f.put("vinh", nthBook(4))
	f.put("xa", nthBook(5))
	f.clock.add(30 * time.Second)
	f.put("tinh", nthBook(6))
	f.put("vinh", nthBook(7))
	f.clock.set(refDate.Add(52 * time.Hour))
	return f
}

// TestValidatorChecklist runs the checks of the OAI registry's validator
// and BASE's OVAL: every verb, junk verbs and arguments, missing and
// repeated arguments, bad dates, mixed granularity, exclusive and bad
// resumption tokens, POST, and the request echo the specification allows
// for each error.
func TestValidatorChecklist(t *testing.T) {
	f := catalogFixture(t, 3)
	v := newValidator(t)
	first, _ := f.get("verb=ListIdentifiers&metadataPrefix=oai_dc")
	idToken := first.ListIdentifiers.Token.Value
	sample := first.ListIdentifiers.Headers[0].Identifier

	for _, tc := range []struct {
		name   string
		method string // default GET
		query  string
		code   string // error code, "" for a normal answer
		echo   bool   // the request element carries the arguments
	}{
		{name: "no arguments", query: "", code: "badVerb"},
		{name: "junk verb", query: "verb=junk", code: "badVerb"},
		{name: "junk argument only", query: "junk", code: "badVerb"},
		{name: "verb in wrong case", query: "verb=identify", code: "badVerb"},
		{name: "repeated verb", query: "verb=Identify&verb=Identify", code: "badVerb"},
		{name: "two verbs", query: "verb=Identify&verb=ListSets", code: "badVerb"},
		{name: "empty verb", query: "verb=", code: "badVerb"},
		{name: "Identify", query: "verb=Identify", echo: true},
		{name: "Identify with junk argument", query: "verb=Identify&junk=1", code: "badArgument"},
		{name: "Identify with valueless junk", query: "verb=Identify&junk", code: "badArgument"},
		{name: "Identify with an argument of another verb", query: "verb=Identify&metadataPrefix=oai_dc", code: "badArgument"},
		{name: "bad percent-encoding", query: "verb=Identify&x=%zz", code: "badArgument"},
		{name: "ListMetadataFormats", query: "verb=ListMetadataFormats", echo: true},
		{name: "ListMetadataFormats of an item", query: "verb=ListMetadataFormats&identifier=" + url.QueryEscape(sample), echo: true},
		{name: "ListMetadataFormats of an unknown item", query: "verb=ListMetadataFormats&identifier=oai:" + testDomain + ":u0000zzzz", code: "idDoesNotExist", echo: true},
		{name: "ListMetadataFormats of an illegal identifier", query: "verb=ListMetadataFormats&identifier=invalid%22id", code: "idDoesNotExist", echo: true},
		{name: "ListMetadataFormats with junk", query: "verb=ListMetadataFormats&junk=x", code: "badArgument"},
		{name: "ListSets", query: "verb=ListSets", echo: true},
		{name: "ListSets with a set", query: "verb=ListSets&set=level", code: "badArgument"},
		{name: "ListSets bad token", query: "verb=ListSets&resumptionToken=junk", code: "badResumptionToken", echo: true},
		{name: "GetRecord", query: "verb=GetRecord&metadataPrefix=oai_dc&identifier=" + url.QueryEscape(sample), echo: true},
		{name: "GetRecord marc21", query: "verb=GetRecord&metadataPrefix=marc21&identifier=" + url.QueryEscape(sample), echo: true},
		{name: "GetRecord marcxml alias", query: "verb=GetRecord&metadataPrefix=marcxml&identifier=" + url.QueryEscape(sample), echo: true},
		{name: "GetRecord without identifier", query: "verb=GetRecord&metadataPrefix=oai_dc", code: "badArgument"},
		{name: "GetRecord without metadataPrefix", query: "verb=GetRecord&identifier=" + url.QueryEscape(sample), code: "badArgument"},
		{name: "GetRecord repeated identifier", query: "verb=GetRecord&metadataPrefix=oai_dc&identifier=a&identifier=b", code: "badArgument"},
		{name: "GetRecord empty identifier", query: "verb=GetRecord&metadataPrefix=oai_dc&identifier=", code: "badArgument"},
		{name: "GetRecord unknown identifier", query: "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:" + testDomain + ":u0000zzzz", code: "idDoesNotExist", echo: true},
		{name: "GetRecord other repository", query: "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:example.org:u00000001", code: "idDoesNotExist", echo: true},
		{name: "GetRecord illegal identifier", query: `verb=GetRecord&metadataPrefix=oai_dc&identifier=invalid"id`, code: "idDoesNotExist", echo: true},
		{name: "GetRecord markup identifier", query: "verb=GetRecord&metadataPrefix=oai_dc&identifier=" + url.QueryEscape("<a href='x'>&amp;</a>"), code: "idDoesNotExist", echo: true},
		{name: "GetRecord junk format", query: "verb=GetRecord&metadataPrefix=junk&identifier=" + url.QueryEscape(sample), code: "cannotDisseminateFormat", echo: true},
		{name: "GetRecord illegal format", query: "verb=GetRecord&metadataPrefix=a%20b&identifier=" + url.QueryEscape(sample), code: "badArgument"},
		{name: "ListIdentifiers", query: "verb=ListIdentifiers&metadataPrefix=oai_dc", echo: true},
		{name: "ListIdentifiers without metadataPrefix", query: "verb=ListIdentifiers", code: "badArgument"},
		{name: "ListRecords without metadataPrefix", query: "verb=ListRecords&from=2024-05-01", code: "badArgument"},
		{name: "ListRecords junk format", query: "verb=ListRecords&metadataPrefix=junk", code: "cannotDisseminateFormat", echo: true},
		{name: "ListRecords repeated metadataPrefix", query: "verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", code: "badArgument"},
		{name: "ListRecords junk argument", query: "verb=ListRecords&metadataPrefix=oai_dc&junk=1", code: "badArgument"},
		{name: "ListRecords identifier argument", query: "verb=ListRecords&metadataPrefix=oai_dc&identifier=" + url.QueryEscape(sample), code: "badArgument"},
		{name: "bad from: month 13", query: "verb=ListRecords&metadataPrefix=oai_dc&from=2024-13-01", code: "badArgument"},
		{name: "bad from: 30 February", query: "verb=ListRecords&metadataPrefix=oai_dc&from=2024-02-30", code: "badArgument"},
		{name: "bad from: junk", query: "verb=ListIdentifiers&metadataPrefix=oai_dc&from=junk", code: "badArgument"},
		{name: "bad until: no Z", query: "verb=ListIdentifiers&metadataPrefix=oai_dc&until=2024-05-01T08:00:00", code: "badArgument"},
		{name: "bad until: offset", query: "verb=ListIdentifiers&metadataPrefix=oai_dc&until=2024-05-01T08:00:00%2B07:00", code: "badArgument"},
		{name: "bad until: fractions", query: "verb=ListIdentifiers&metadataPrefix=oai_dc&until=2024-05-01T08:00:00.5Z", code: "badArgument"},
		{name: "bad from: minutes only", query: "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2024-05-01T08:00Z", code: "badArgument"},
		{name: "bad from: one-digit month", query: "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2024-5-01", code: "badArgument"},
		{name: "mixed granularity", query: "verb=ListRecords&metadataPrefix=oai_dc&from=2024-05-01&until=2024-05-02T00:00:00Z", code: "badArgument"},
		{name: "from after until", query: "verb=ListRecords&metadataPrefix=oai_dc&from=2024-05-03&until=2024-05-02", code: "badArgument"},
		{name: "from after until by a second", query: "verb=ListRecords&metadataPrefix=oai_dc&from=2024-05-02T10:00:01Z&until=2024-05-02T10:00:00Z", code: "badArgument"},
		{name: "until before earliestDatestamp", query: "verb=ListRecords&metadataPrefix=oai_dc&until=2024-04-30", code: "noRecordsMatch", echo: true},
		{name: "until just before earliestDatestamp", query: "verb=ListIdentifiers&metadataPrefix=oai_dc&until=2024-05-01T07:59:59Z", code: "noRecordsMatch", echo: true},
		{name: "from in the future", query: "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2030-01-01", code: "noRecordsMatch", echo: true},
		{name: "unknown set", query: "verb=ListRecords&metadataPrefix=oai_dc&set=library:NOWHERE", code: "noRecordsMatch", echo: true},
		{name: "illegal set", query: "verb=ListRecords&metadataPrefix=oai_dc&set=a%20b", code: "badArgument"},
		{name: "set with empty component", query: "verb=ListRecords&metadataPrefix=oai_dc&set=library:", code: "badArgument"},
		{name: "junk token", query: "verb=ListRecords&resumptionToken=junk", code: "badResumptionToken", echo: true},
		{name: "junk token with markup", query: "verb=ListRecords&resumptionToken=" + url.QueryEscape(`"<&>'`), code: "badResumptionToken", echo: true},
		{name: "token of another verb", query: "verb=ListRecords&resumptionToken=" + url.QueryEscape(idToken), code: "badResumptionToken", echo: true},
		{name: "token with metadataPrefix", query: "verb=ListIdentifiers&metadataPrefix=oai_dc&resumptionToken=" + url.QueryEscape(idToken), code: "badArgument"},
		{name: "token with from", query: "verb=ListIdentifiers&from=2024-05-01&resumptionToken=" + url.QueryEscape(idToken), code: "badArgument"},
		{name: "token", query: "verb=ListIdentifiers&resumptionToken=" + url.QueryEscape(idToken), echo: true},
		{name: "POST Identify", method: http.MethodPost, query: "verb=Identify", echo: true},
		{name: "POST ListRecords", method: http.MethodPost, query: "verb=ListRecords&metadataPrefix=marc21&set=level:district", echo: true},
		{name: "POST junk verb", method: http.MethodPost, query: "verb=junk", code: "badVerb"},
		{name: "POST missing argument", method: http.MethodPost, query: "verb=GetRecord&metadataPrefix=oai_dc", code: "badArgument"},
		{name: "POST bad token", method: http.MethodPost, query: "verb=ListIdentifiers&resumptionToken=junk", code: "badResumptionToken", echo: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			res, body := f.do(method, tc.query)
			v.add(tc.name, body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("HTTP %d, want 200 (OAI-PMH errors travel in the document)", res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			r := parseResponse(t, tc.query, body)
			checkEnvelope(t, f, r)
			if got := r.errorCode(); got != tc.code {
				msg := ""
				if len(r.Errors) > 0 {
					msg = r.Errors[0].Msg
				}
				t.Fatalf("error %q (%s), want %q\n%s", got, msg, tc.code, clip(body))
			}
			if len(r.Errors) > 0 && strings.TrimSpace(r.Errors[0].Msg) == "" {
				t.Errorf("error %s without a message", r.Errors[0].Code)
			}
			// The request element echoes the arguments, except for
			// badVerb and badArgument, where it holds the base URL only.
			if !tc.echo {
				if len(r.Request.Attrs) != 0 {
					t.Errorf("request element has attributes %v, want none", r.Request.Attrs)
				}
				return
			}
			vals, _ := url.ParseQuery(tc.query)
			if len(r.Request.Attrs) != len(vals) {
				t.Errorf("request element has %d attributes, want %d: %v", len(r.Request.Attrs), len(vals), r.Request.Attrs)
			}
			for k, vs := range vals {
				if got, ok := r.attr(k); !ok || got != vs[0] {
					t.Errorf("request echo %s = %q, want %q", k, got, vs[0])
				}
			}
		})
	}
	v.check()
}

// checkEnvelope checks what every response must have: the schema
// location, a UTC responseDate at second granularity that is the server's
// present, and the base URL in the request element.
func checkEnvelope(t *testing.T, f *fixture, r *oaiResponse) {
	t.Helper()
	if r.SchemaLocation != NamespaceOAI+" "+SchemaOAI {
		t.Errorf("xsi:schemaLocation %q", r.SchemaLocation)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(r.ResponseDate) {
		t.Errorf("responseDate %q is not UTC YYYY-MM-DDThh:mm:ssZ", r.ResponseDate)
	}
	if want := f.clock.Now().UTC().Format(timeFormat); r.ResponseDate != want {
		t.Errorf("responseDate %s, want the present %s", r.ResponseDate, want)
	}
	if r.Request.URL != f.opts.BaseURL {
		t.Errorf("request element holds %q, want the base URL %q", r.Request.URL, f.opts.BaseURL)
	}
}

func TestIdentify(t *testing.T) {
	f := catalogFixture(t, 3)
	r, _ := f.get("verb=Identify")
	id := r.Identify
	if id == nil {
		t.Fatal("no Identify")
	}
	for _, c := range []struct{ name, got, want string }{
		{"repositoryName", id.RepositoryName, f.opts.RepositoryName},
		{"baseURL", id.BaseURL, f.opts.BaseURL},
		{"protocolVersion", id.ProtocolVersion, "2.0"},
		{"adminEmail", id.AdminEmail, f.opts.AdminEmail},
		{"earliestDatestamp", id.EarliestDatestamp, "2024-05-01T08:00:00Z"},
		{"deletedRecord", id.DeletedRecord, "persistent"},
		{"granularity", id.Granularity, "YYYY-MM-DDThh:mm:ssZ"},
		{"repositoryIdentifier", id.Description.Identifier.RepositoryIdentifier, testDomain},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	// The sample identifier is a real one.
	g, _ := f.get("verb=GetRecord&metadataPrefix=oai_dc&identifier=" + url.QueryEscape(id.Description.Identifier.SampleIdentifier))
	if g.errorCode() != "" {
		t.Errorf("sampleIdentifier %s: %s", id.Description.Identifier.SampleIdentifier, g.errorCode())
	}

	// Without a configured base URL, it is the URL the request came to.
	f.srv.opts.BaseURL = ""
	req := httptest.NewRequest(http.MethodGet, "http://thuvien.example.vn:8080/oai?verb=Identify", nil)
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	r = parseResponse(t, "derived base URL", rec.Body.Bytes())
	if r.Identify.BaseURL != "http://thuvien.example.vn:8080/oai" || r.Request.URL != r.Identify.BaseURL {
		t.Errorf("derived baseURL %q, request %q", r.Identify.BaseURL, r.Request.URL)
	}
}

func TestListMetadataFormats(t *testing.T) {
	f := catalogFixture(t, 3)
	r, _ := f.get("verb=ListMetadataFormats")
	var got []string
	for _, m := range r.ListMetadataFormats.Formats {
		got = append(got, m.Prefix+" "+m.Namespace+" "+m.Schema)
	}
	want := []string{
		"oai_dc http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
		"marc21 http://www.loc.gov/MARC21/slim http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
		"marcxml http://www.loc.gov/MARC21/slim http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
	}
	if !slices.Equal(got, want) {
		t.Errorf("formats:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestIncrementalHarvest harvests the catalog fixture selectively at day
// and at second granularity, the way OVAL checks from and until.
func TestIncrementalHarvest(t *testing.T) {
	f := catalogFixture(t, 2)
	ids := func(args string) []string {
		t.Helper()
		hs, _, _ := f.harvest("ListIdentifiers", "metadataPrefix=oai_dc&"+args)
		var out []string
		for _, h := range hs {
			out = append(out, h.Datestamp)
		}
		return out
	}
	d0, d1a, d1b := "2024-05-01T08:00:00Z", "2024-05-02T10:00:00Z", "2024-05-02T10:00:30Z"
	for _, tc := range []struct {
		args string
		want []string
	}{
		{"", []string{d0, d0, d0, d1a, d1a, d1b, d1b}},
		{"from=2024-05-01", []string{d0, d0, d0, d1a, d1a, d1b, d1b}},
		{"from=2024-05-02", []string{d1a, d1a, d1b, d1b}},
		{"until=2024-05-01", []string{d0, d0, d0}},
		{"from=2024-05-01&until=2024-05-01", []string{d0, d0, d0}},
		{"from=2024-05-02&until=2024-05-02", []string{d1a, d1a, d1b, d1b}},
		{"from=2024-05-03", nil},
		{"from=2024-05-01T08:00:00Z", []string{d0, d0, d0, d1a, d1a, d1b, d1b}},
		{"from=2024-05-01T08:00:01Z", []string{d1a, d1a, d1b, d1b}},
		{"until=2024-05-01T08:00:00Z", []string{d0, d0, d0}},
		{"until=2024-05-01T07:59:59Z", nil},
		{"from=2024-05-02T10:00:00Z&until=2024-05-02T10:00:00Z", []string{d1a, d1a}},
		{"from=2024-05-02T10:00:01Z&until=2024-05-02T10:00:30Z", []string{d1b, d1b}},
		{"from=2024-05-02T10:00:30Z", []string{d1b, d1b}},
		{"from=2024-05-02T10:00:31Z", nil},
		{"set=level:district", []string{d1a, d1b}},
		{"set=library:NA-TINH&from=2024-05-02", []string{d1b}},
		{"set=library:NA~2FNGHI~20LOC", []string{d1a}},
		{"set=level", []string{d0, d0, d0, d1a, d1a, d1b, d1b}},
		{"set=library&until=2024-05-01", []string{d0, d0, d0}},
	} {
		if got := ids(tc.args); !slices.Equal(got, tc.want) {
			t.Errorf("%s: datestamps %v, want %v", tc.args, got, tc.want)
		}
	}
	// A harvester continuing from the responseDate of its last harvest
	// gets exactly what changed since.
	r, _ := f.get("verb=ListIdentifiers&metadataPrefix=oai_dc")
	since := r.ResponseDate
	f.clock.add(time.Hour)
	f.put("xa", nthBook(8))
	f.clock.add(time.Second)
	if got := ids("from=" + since); len(got) != 1 {
		t.Errorf("from=%s (the last responseDate): %v, want the one new record", since, got)
	}
}

func TestGzipAndMethods(t *testing.T) {
	f := catalogFixture(t, 3)
	res, body := f.do(http.MethodGet, "verb=ListRecords&metadataPrefix=marc21", "Accept-Encoding", "gzip, deflate")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Accept-Encoding gzip: Content-Encoding %q", res.Header.Get("Content-Encoding"))
	}
	if r := parseResponse(t, "gzip", body); r.ListRecords == nil || len(r.ListRecords.Records) != 3 {
		t.Errorf("gzipped ListRecords: %s", clip(body))
	}
	res, _ = f.do(http.MethodGet, "verb=Identify", "Accept-Encoding", "gzip;q=0, identity")
	if res.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still compressed")
	}
	res, _ = f.do(http.MethodGet, "verb=Identify")
	if res.Header.Get("Content-Encoding") != "" {
		t.Errorf("compressed without Accept-Encoding")
	}

	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "http://unicat.test/oai?verb=Identify", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") == "" {
		t.Errorf("PUT: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}

	// POST with a body that is not a form: the verb is missing.
	req := httptest.NewRequest(http.MethodPost, "http://unicat.test/oai", strings.NewReader("verb=Identify"))
	req.Header.Set("Content-Type", "text/plain")
	rec = httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	if r := parseResponse(t, "POST text/plain", b); r.errorCode() != "badVerb" && r.errorCode() != "badArgument" {
		t.Errorf("POST text/plain: %s", r.errorCode())
	}
}

// A huge argument is refused without being echoed: the answer costs less
// than the request, and the error is the protocol's.
func TestHugeArgumentNotEchoed(t *testing.T) {
	f := newFixture(t, 10)
	big := url.QueryEscape(strings.Repeat(`"<`, 50000)) // 100 KB, which escaping would multiply
	for _, tc := range []struct{ query, code string }{
		{"verb=" + big, "badVerb"},
		{"verb=ListRecords&metadataPrefix=" + big, "badArgument"},
		{"verb=GetRecord&metadataPrefix=marc21&identifier=" + big, "badArgument"},
		{"verb=ListRecords&resumptionToken=" + big, "badArgument"},
	} {
		_, body := f.do(http.MethodGet, tc.query)
		if len(body) > 4<<10 {
			t.Errorf("%s…: a 100 KB argument answered with %d bytes", tc.query[:24], len(body))
		}
		if r := parseResponse(t, tc.query[:24], body); len(r.Errors) != 1 || r.Errors[0].Code != tc.code {
			t.Errorf("%s…: errors %+v, want %s", tc.query[:24], r.Errors, tc.code)
		}
	}
}

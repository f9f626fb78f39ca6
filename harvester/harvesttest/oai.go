// Package harvesttest provides an OAI-PMH and an SRU server for tests,
// built on net/http/httptest. They serve the MARC records they are given
// and misbehave on demand the way real library systems do: resumption
// token loops, expired tokens, 503 with Retry-After, truncated gzip,
// control characters, day granularity, empty pages. HostileOAI generates
// what no library sends but a hostile peer may: pages of any size, the
// same records under new tokens without end, records of 50 MB.
package harvesttest

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/unicat/unicat/marc"
)

// Item is a record as a server holds it.
type Item struct {
	ID        string
	Datestamp time.Time
	Deleted   bool
	Record    *marc.Record
	Sets      []string
}

// OAIOptions shape an OAIServer's behaviour. They may be changed between
// requests with Configure.
type OAIOptions struct {
	PageSize       int    // records per page (default 50)
	DayGranularity bool   // granularity YYYY-MM-DD: from with a time is badArgument
	DeletedRecord  string // Identify's deletedRecord (default persistent); "no" hides deleted records
	// Compress is "gzip" or "deflate" to compress responses for clients
	// that accept it.
	Compress string
	Delay    time.Duration    // before every response
	Clock    func() time.Time // the server's clock (responseDate); default time.Now
	// EmptyPages is the number of pages without records (but with a
	// token) served before each list's records.
	EmptyPages int
	// TokenLoop makes every resumption token request answer with the
	// token it was sent.
	TokenLoop bool
	// NoRecordsMatchOnToken answers every token request with noRecordsMatch.
	NoRecordsMatchOnToken bool
	// Corrupt, if set, rewrites the MARCXML of each record as served;
	// CorruptPage rewrites whole responses.
	Corrupt     func(id string, recordXML []byte) []byte
	CorruptPage func(body []byte) []byte
	// NoResponseDate leaves responseDate out (a broken server).
	NoResponseDate bool
	// ErrorStatus, if set, is the HTTP status of responses carrying an
	// OAI-PMH error (the protocol says 200; some servers send 400 or 404).
	ErrorStatus int
}

// OAIServer is an OAI-PMH 2.0 repository serving Items.
type OAIServer struct {
	URL string
	srv *httptest.Server

	mu     sync.Mutex
	opts   OAIOptions
	items  map[string]Item
	gen    int // token generation; ExpireTokens moves it on
	faults []fault
	reqs   []url.Values
}

type fault struct {
	status     int
	retryAfter string
	truncate   bool
}

// NewOAIServer starts a repository holding items.
func NewOAIServer(opts OAIOptions, items []Item) *OAIServer {
	s := &OAIServer{opts: opts, items: map[string]Item{}}
	s.Put(items...)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/oai"
	return s
}

// Close shuts the server down.
func (s *OAIServer) Close() { s.srv.Close() }

// Configure changes the options.
func (s *OAIServer) Configure(f func(*OAIOptions)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.opts)
}

// Put adds or replaces items.
func (s *OAIServer) Put(items ...Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		s.items[it.ID] = it
	}
}

// Delete marks an item deleted at the given datestamp.
func (s *OAIServer) Delete(id string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.items[id]
	it.ID, it.Deleted, it.Datestamp, it.Record = id, true, at, nil
	s.items[id] = it
}

// Remove forgets an item without a trace (a server that does not keep
// deletions).
func (s *OAIServer) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, id)
}

// Items returns the items, sorted by id.
func (s *OAIServer) Items() []Item {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sorted()
}

// ExpireTokens makes every resumption token issued so far invalid
// (badResumptionToken).
func (s *OAIServer) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
}

// Fail makes the next n requests answer with HTTP status, with a
// Retry-After header if retryAfter is not "".
func (s *OAIServer) Fail(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status: status, retryAfter: retryAfter})
	}
}

// Truncate cuts the next n responses short: a gzip or deflate stream ends
// in the middle, an uncompressed body stops before its Content-Length.
func (s *OAIServer) Truncate(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{truncate: true})
	}
}

// Requests returns the query of every request received.
func (s *OAIServer) Requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

func (s *OAIServer) sorted() []Item {
	out := make([]Item, 0, len(s.items))
	for _, it := range s.items {
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b Item) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func (s *OAIServer) serve(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s.mu.Lock()
	s.reqs = append(s.reqs, r.Form)
	opts := s.opts
	var f fault
	if len(s.faults) > 0 {
		f, s.faults = s.faults[0], s.faults[1:]
	}
	var body []byte
	if f.status == 0 {
		body = s.respond(r.Form, opts)
	}
	s.mu.Unlock()

	if opts.Delay > 0 {
		time.Sleep(opts.Delay)
	}
	if f.status != 0 {
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	if opts.ErrorStatus != 0 && bytes.Contains(body, []byte("<error code=")) {
		w.WriteHeader(opts.ErrorStatus)
	}
	writeBody(w, r, body, opts.Compress, f.truncate)
}

// writeBody sends body, compressed if asked and accepted; truncate cuts it
// in half.
func writeBody(w http.ResponseWriter, r *http.Request, body []byte, compress string, truncate bool) {
	if compress != "" && strings.Contains(r.Header.Get("Accept-Encoding"), compress) {
		var buf bytes.Buffer
		if compress == "gzip" {
			zw := gzip.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
		} else {
			zw := zlib.NewWriter(&buf)
			zw.Write(body)
			zw.Close()
		}
		body = buf.Bytes()
		w.Header().Set("Content-Encoding", compress)
		if truncate {
			// The HTTP body is complete; the compressed stream is not.
			w.Write(body[:len(body)/2])
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if truncate {
		w.Write(body[:len(body)/2])
		return
	}
	w.Write(body)
}

const (
	secondsLayout = "2006-01-02T15:04:05Z"
	dayLayout     = "2006-01-02"
)

func (s *OAIServer) now(opts OAIOptions) time.Time {
	if opts.Clock != nil {
		return opts.Clock().UTC()
	}
	return time.Now().UTC()
}

func (s *OAIServer) stamp(t time.Time, opts OAIOptions) string {
	if opts.DayGranularity {
		return t.UTC().Format(dayLayout)
	}
	return t.UTC().Format(secondsLayout)
}

// respond builds the response document for a request (under s.mu).
func (s *OAIServer) respond(q url.Values, opts OAIOptions) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">` + "\n")
	if !opts.NoResponseDate {
		fmt.Fprintf(&b, "<responseDate>%s</responseDate>\n", s.now(opts).Format(secondsLayout))
	}
	verb := q.Get("verb")
	fmt.Fprintf(&b, "<request verb=%q>%s</request>\n", xmlEscape(verb), "http://localhost/oai")
	switch verb {
	case "Identify":
		s.identify(&b, opts)
	case "ListRecords", "ListIdentifiers":
		s.list(&b, q, opts, verb)
	default:
		oaiError(&b, "badVerb", "verb "+verb+" is not supported here")
	}
	b.WriteString("</OAI-PMH>\n")
	if opts.CorruptPage != nil {
		return opts.CorruptPage(b.Bytes())
	}
	return b.Bytes()
}

func oaiError(b *bytes.Buffer, code, msg string) {
	fmt.Fprintf(b, "<error code=%q>%s</error>\n", code, xmlEscape(msg))
}

func (s *OAIServer) identify(b *bytes.Buffer, opts OAIOptions) {
	earliest := s.now(opts)
	for _, it := range s.items {
		if it.Datestamp.Before(earliest) {
			earliest = it.Datestamp
		}
	}
	gran := "YYYY-MM-DDThh:mm:ssZ"
	if opts.DayGranularity {
		gran = "YYYY-MM-DD"
	}
	del := opts.DeletedRecord
	if del == "" {
		del = "persistent"
	}
	fmt.Fprintf(b, `<Identify>
<repositoryName>harvesttest</repositoryName>
<baseURL>http://localhost/oai</baseURL>
<protocolVersion>2.0</protocolVersion>
<adminEmail>test@example.org</adminEmail>
<earliestDatestamp>%s</earliestDatestamp>
<deletedRecord>%s</deletedRecord>
<granularity>%s</granularity>
</Identify>
`, s.stamp(earliest, opts), del, gran)
}

// listState is what a resumption token encodes.
type listState struct {
	gen, offset, empty int
	prefix, set        string
	from, until        string
}

func (l listState) token() string {
	raw := fmt.Sprintf("%d|%d|%d|%s|%s|%s|%s", l.gen, l.offset, l.empty, l.prefix, l.set, l.from, l.until)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseToken(t string) (listState, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return listState{}, false
	}
	p := strings.Split(string(raw), "|")
	if len(p) != 7 {
		return listState{}, false
	}
	var l listState
	var e1, e2, e3 error
	l.gen, e1 = strconv.Atoi(p[0])
	l.offset, e2 = strconv.Atoi(p[1])
	l.empty, e3 = strconv.Atoi(p[2])
	l.prefix, l.set, l.from, l.until = p[3], p[4], p[5], p[6]
	return l, e1 == nil && e2 == nil && e3 == nil
}

// parseArgDate checks a from/until argument against the granularity.
func parseArgDate(v string, opts OAIOptions) (time.Time, bool, bool) {
	if t, err := time.Parse(dayLayout, v); err == nil {
		return t, true, true
	}
	if opts.DayGranularity {
		return time.Time{}, false, false
	}
	t, err := time.Parse(secondsLayout, v)
	return t, false, err == nil
}

func (s *OAIServer) list(b *bytes.Buffer, q url.Values, opts OAIOptions, verb string) {
	st, perr := s.listState(q, opts)
	var from, until time.Time
	if perr == nil {
		from, until, perr = st.window(opts)
	}
	if perr != nil {
		oaiError(b, perr.code, perr.msg)
		return
	}
	match := s.matching(st, from, until, opts)
	size := opts.PageSize
	if size <= 0 {
		size = 50
	}
	if st.empty < opts.EmptyPages {
		next := st
		next.empty++
		fmt.Fprintf(b, "<%s>\n<resumptionToken completeListSize=\"%d\">%s</resumptionToken>\n</%s>\n", verb, len(match), next.token(), verb)
		return
	}
	if len(match) == 0 {
		oaiError(b, "noRecordsMatch", "no records match")
		return
	}
	end := min(st.offset+size, len(match))
	if st.offset > len(match) {
		st.offset = len(match)
	}
	fmt.Fprintf(b, "<%s>\n", verb)
	for _, it := range match[st.offset:end] {
		s.writeItem(b, it, opts, verb)
	}
	writeToken(b, q, opts, st, end, len(match))
	fmt.Fprintf(b, "</%s>\n", verb)
}

// protocolError is an OAI-PMH error a request is answered with.
type protocolError struct{ code, msg string }

// listState is the list a request asks for: the one its resumption
// token encodes, or a new one from its arguments.
func (s *OAIServer) listState(q url.Values, opts OAIOptions) (listState, *protocolError) {
	var st listState
	if q.Has("resumptionToken") {
		if len(q) != 2 {
			return st, &protocolError{"badArgument", "resumptionToken is an exclusive argument"}
		}
		var ok bool
		st, ok = parseToken(q.Get("resumptionToken"))
		if !ok || st.gen != s.gen {
			return st, &protocolError{"badResumptionToken", "the resumption token is invalid or has expired"}
		}
		if opts.NoRecordsMatchOnToken {
			return st, &protocolError{"noRecordsMatch", "no records left"}
		}
	} else {
		st = listState{gen: s.gen, prefix: q.Get("metadataPrefix"), set: q.Get("set"), from: q.Get("from"), until: q.Get("until")}
		if st.prefix == "" {
			return st, &protocolError{"badArgument", "metadataPrefix is required"}
		}
	}
	if st.prefix != "marc21" && st.prefix != "marcxml" {
		return st, &protocolError{"cannotDisseminateFormat", "metadataPrefix " + st.prefix + " is not served"}
	}
	return st, nil
}

// window reads the list's from and until, until a day's last second
// when it is a day.
func (l listState) window(opts OAIOptions) (from, until time.Time, perr *protocolError) {
	if l.from != "" {
		var ok bool
		if from, _, ok = parseArgDate(l.from, opts); !ok {
			return from, until, &protocolError{"badArgument", "from " + l.from + " does not match the granularity"}
		}
	}
	if l.until != "" {
		var ok, untilDay bool
		if until, untilDay, ok = parseArgDate(l.until, opts); !ok {
			return from, until, &protocolError{"badArgument", "until " + l.until + " does not match the granularity"}
		}
		if untilDay {
			until = until.Add(24*time.Hour - time.Second)
		}
	}
	return from, until, nil
}

// matching is the items of the list, in order: in the window at the
// granularity, in the set, and deleted ones only if the server tells of
// them.
func (s *OAIServer) matching(l listState, from, until time.Time, opts OAIOptions) []Item {
	var match []Item
	for _, it := range s.sorted() {
		ds := it.Datestamp.UTC()
		if opts.DayGranularity {
			ds = ds.Truncate(24 * time.Hour)
		} else {
			ds = ds.Truncate(time.Second)
		}
		if l.from != "" && ds.Before(from) || l.until != "" && ds.After(until) {
			continue
		}
		if l.set != "" && !slices.Contains(it.Sets, l.set) {
			continue
		}
		if it.Deleted && opts.DeletedRecord == "no" {
			continue
		}
		match = append(match, it)
	}
	return match
}

// writeItem writes an item of the list: its header for ListIdentifiers,
// its record for ListRecords.
func (s *OAIServer) writeItem(b *bytes.Buffer, it Item, opts OAIOptions, verb string) {
	status := ""
	if it.Deleted {
		status = ` status="deleted"`
	}
	header := fmt.Sprintf("<header%s><identifier>%s</identifier><datestamp>%s</datestamp>", status, xmlEscape(it.ID), s.stamp(it.Datestamp, opts))
	for _, set := range it.Sets {
		header += "<setSpec>" + xmlEscape(set) + "</setSpec>"
	}
	header += "</header>"
	if verb == "ListIdentifiers" {
		b.WriteString(header + "\n")
		return
	}
	b.WriteString("<record>" + header)
	if !it.Deleted {
		rec, _ := marc.AppendMARCXML(nil, it.Record, true)
		if opts.Corrupt != nil {
			rec = opts.Corrupt(it.ID, rec)
		}
		b.WriteString("<metadata>")
		b.Write(rec)
		b.WriteString("</metadata>")
	}
	b.WriteString("</record>\n")
}

// writeToken writes the page's resumption token, the page ending at end
// of total items: the next page's, the one sent with TokenLoop, or an
// empty one ending a list resumed.
func writeToken(b *bytes.Buffer, q url.Values, opts OAIOptions, st listState, end, total int) {
	fromToken := q.Has("resumptionToken")
	switch {
	case opts.TokenLoop && fromToken:
		fmt.Fprintf(b, "<resumptionToken completeListSize=\"%d\" cursor=\"%d\">%s</resumptionToken>\n", total, st.offset, xmlEscape(q.Get("resumptionToken")))
	case end < total:
		next := st
		next.offset = end
		fmt.Fprintf(b, "<resumptionToken completeListSize=\"%d\" cursor=\"%d\">%s</resumptionToken>\n", total, st.offset, next.token())
	case fromToken:
		// The last page of a list carries an empty token.
		fmt.Fprintf(b, "<resumptionToken completeListSize=\"%d\" cursor=\"%d\"/>\n", total, st.offset)
	}
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

package harvesttest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/unicat/unicat/marc"
)

// SRUOptions shape an SRUServer's behaviour.
type SRUOptions struct {
	// Version20 answers in SRU 2.0's namespace; otherwise in SRU 1.2's
	// (http://www.loc.gov/zing/srw/).
	Version20 bool
	// MaxRecords caps maximumRecords (0: no cap).
	MaxRecords int
	// DateIndex is the index the server understands in a clause
	// `INDEX>="YYYY-MM-DD"` ANDed to the query; "" understands none.
	DateIndex string
	// StringPacking sends records as escaped text (recordPacking=string).
	StringPacking bool
	// Surrogate, if set, names records sent as surrogate diagnostics.
	Surrogate func(id string) bool
	// Diagnostic, if set, answers every request with this fatal diagnostic
	// URI instead of records.
	Diagnostic string
	// OmitNextPosition leaves nextRecordPosition out.
	OmitNextPosition bool
	// InflateCount adds this to numberOfRecords (a server miscounting).
	InflateCount int
}

// SRUServer is an SRU searchRetrieve endpoint serving the live Items.
type SRUServer struct {
	URL string
	srv *httptest.Server

	mu    sync.Mutex
	opts  SRUOptions
	items map[string]Item
	reqs  []url.Values
}

// NewSRUServer starts a server holding items.
func NewSRUServer(opts SRUOptions, items []Item) *SRUServer {
	s := &SRUServer{opts: opts, items: map[string]Item{}}
	s.Put(items...)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/sru"
	return s
}

// Close shuts the server down.
func (s *SRUServer) Close() { s.srv.Close() }

// Configure changes the options.
func (s *SRUServer) Configure(f func(*SRUOptions)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.opts)
}

// Put adds or replaces items.
func (s *SRUServer) Put(items ...Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range items {
		s.items[it.ID] = it
	}
}

// Remove forgets an item.
func (s *SRUServer) Remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.items, id)
}

// Requests returns the query of every request received.
func (s *SRUServer) Requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

var dateClause = regexp.MustCompile(`^\((.*)\) and ([\w.]+)>="(\d{4}-\d{2}-\d{2})"$`)

func (s *SRUServer) serve(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.Form
	s.reqs = append(s.reqs, q)
	opts := s.opts
	ns, dns := "http://www.loc.gov/zing/srw/", "http://www.loc.gov/zing/srw/diagnostic/"
	if opts.Version20 {
		ns, dns = "http://docs.oasis-open.org/ns/search-ws/sruResponse", "http://docs.oasis-open.org/ns/search-ws/diagnostic"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<zs:searchRetrieveResponse xmlns:zs="%s">`, ns)
	if !opts.Version20 {
		b.WriteString("<zs:version>1.2</zs:version>")
	}
	if d := s.searchRetrieve(&b, q, opts, dns); d != nil {
		fmt.Fprintf(&b, `<zs:numberOfRecords>0</zs:numberOfRecords><zs:diagnostics><diagnostic xmlns="%s"><uri>%s</uri><details>%s</details><message>%s</message></diagnostic></zs:diagnostics></zs:searchRetrieveResponse>`,
			dns, d.uri, xmlEscape(d.details), xmlEscape(d.msg))
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(b.Bytes())
}

// sruDiagnostic is a fatal diagnostic a request is answered with.
type sruDiagnostic struct{ uri, details, msg string }

// searchRetrieve writes the rest of the response to a request, from
// numberOfRecords, or returns the diagnostic to answer it with, having
// written nothing. dns is the diagnostics' namespace.
func (s *SRUServer) searchRetrieve(b *bytes.Buffer, q url.Values, opts SRUOptions, dns string) *sruDiagnostic {
	start, max, since, d := searchArgs(q, opts)
	if d != nil {
		return d
	}
	match := s.since(since)
	n := len(match) + opts.InflateCount
	if start > n && n > 0 {
		return &sruDiagnostic{"info:srw/diagnostic/1/61", strconv.Itoa(start), "First record position out of range"}
	}
	fmt.Fprintf(b, "<zs:numberOfRecords>%d</zs:numberOfRecords>", n)
	end := min(start-1+max, len(match))
	if start-1 < end {
		b.WriteString("<zs:records>")
		for i := start - 1; i < end; i++ {
			writeSRURecord(b, match[i], i+1, opts, dns)
		}
		b.WriteString("</zs:records>")
	}
	if end < n && !opts.OmitNextPosition {
		fmt.Fprintf(b, "<zs:nextRecordPosition>%d</zs:nextRecordPosition>", end+1)
	}
	b.WriteString("</zs:searchRetrieveResponse>")
	return nil
}

// searchArgs reads a request's startRecord and maximumRecords (within
// the server's cap) and the date of its date clause, or the diagnostic
// it is answered with.
func searchArgs(q url.Values, opts SRUOptions) (start, max int, since time.Time, d *sruDiagnostic) {
	query := q.Get("query")
	start, _ = strconv.Atoi(q.Get("startRecord"))
	max, _ = strconv.Atoi(q.Get("maximumRecords"))
	switch {
	case opts.Diagnostic != "":
		return 0, 0, since, &sruDiagnostic{opts.Diagnostic, "", "configured to fail"}
	case q.Get("operation") != "searchRetrieve":
		return 0, 0, since, &sruDiagnostic{"info:srw/diagnostic/1/4", q.Get("operation"), "Unsupported operation"}
	case query == "":
		return 0, 0, since, &sruDiagnostic{"info:srw/diagnostic/1/7", "query", "Mandatory parameter not supplied"}
	case q.Get("recordSchema") != "marcxml":
		return 0, 0, since, &sruDiagnostic{"info:srw/diagnostic/1/66", q.Get("recordSchema"), "Unknown schema for retrieval"}
	}
	if start < 1 {
		start = 1
	}
	if max <= 0 {
		max = 10
	}
	if opts.MaxRecords > 0 && max > opts.MaxRecords {
		max = opts.MaxRecords
	}
	if m := dateClause.FindStringSubmatch(query); m != nil {
		if m[2] != opts.DateIndex {
			return 0, 0, since, &sruDiagnostic{"info:srw/diagnostic/1/16", m[2], "Unsupported index"}
		}
		since, _ = time.Parse("2006-01-02", m[3])
	}
	return start, max, since, nil
}

// since is the live items of datestamps from since on, by id.
func (s *SRUServer) since(since time.Time) []Item {
	var match []Item
	ids := make([]string, 0, len(s.items))
	for id := range s.items {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		it := s.items[id]
		if it.Deleted || it.Datestamp.Before(since) {
			continue
		}
		match = append(match, it)
	}
	return match
}

// writeSRURecord writes the item at position pos of the result set: its
// MARCXML, or a surrogate diagnostic in namespace dns.
func writeSRURecord(b *bytes.Buffer, it Item, pos int, opts SRUOptions, dns string) {
	b.WriteString("<zs:record>")
	if opts.Surrogate != nil && opts.Surrogate(it.ID) {
		fmt.Fprintf(b, `<zs:recordSchema>info:srw/schema/1/diagnostics-v1.1</zs:recordSchema><zs:recordPacking>xml</zs:recordPacking><zs:recordData><diagnostic xmlns="%s"><uri>info:srw/diagnostic/1/64</uri><details>%s</details><message>Record temporarily unavailable</message></diagnostic></zs:recordData>`, dns, xmlEscape(it.ID))
	} else {
		rec, _ := marc.AppendMARCXML(nil, it.Record, true)
		packing := "xml"
		if opts.StringPacking {
			packing, rec = "string", []byte(xmlEscape(string(rec)))
		}
		fmt.Fprintf(b, "<zs:recordSchema>info:srw/schema/1/marcxml-v1.1</zs:recordSchema><zs:recordPacking>%s</zs:recordPacking><zs:recordData>", packing)
		b.Write(rec)
		b.WriteString("</zs:recordData>")
	}
	fmt.Fprintf(b, "<zs:recordPosition>%d</zs:recordPosition></zs:record>", pos)
}

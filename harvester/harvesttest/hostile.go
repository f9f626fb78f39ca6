package harvesttest

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// HostileOAI is an OAI-PMH repository built to hurt its harvester, for the
// tests that hold the harvester to its bounds. Its ListRecords pages are
// written as they are generated, never held whole, so that a page of any
// size costs the test nothing but the time to write it.
type HostileOAI struct {
	URL string
	srv *httptest.Server

	opts     HostileOptions
	requests atomic.Int64
}

// HostileOptions shape a HostileOAI's list.
type HostileOptions struct {
	// Pages is the number of ListRecords pages (default 1), each of
	// PageRecords records (default 10).
	Pages, PageRecords int
	// Repeat makes every page after the first give the first page's
	// records again under a new resumption token, without end.
	Repeat bool
	// ID names record i of the list (from 0); default oai:hostile:%08d.
	ID func(i int) string
	// Record writes record i's MARCXML into its <metadata>; default
	// BookRecord with a 4,000-byte note.
	Record func(w io.Writer, i int)
}

// NewHostileOAI starts a HostileOAI.
func NewHostileOAI(opts HostileOptions) *HostileOAI {
	if opts.Pages <= 0 {
		opts.Pages = 1
	}
	if opts.PageRecords <= 0 {
		opts.PageRecords = 10
	}
	if opts.ID == nil {
		opts.ID = func(i int) string { return fmt.Sprintf("oai:hostile:%08d", i) }
	}
	if opts.Record == nil {
		opts.Record = func(w io.Writer, i int) { BookRecord(w, i, 4000) }
	}
	s := &HostileOAI{opts: opts}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/oai"
	return s
}

// Close shuts the server down.
func (s *HostileOAI) Close() { s.srv.Close() }

// Requests is the number of requests answered.
func (s *HostileOAI) Requests() int { return int(s.requests.Load()) }

func (s *HostileOAI) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	r.ParseForm()
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	now := time.Now().UTC().Format(secondsLayout)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>%s</responseDate><request>http://localhost/oai</request>`+"\n", now)
	switch r.Form.Get("verb") {
	case "Identify":
		bw.WriteString(`<Identify><repositoryName>hostile</repositoryName><baseURL>http://localhost/oai</baseURL><protocolVersion>2.0</protocolVersion>` +
			`<adminEmail>x@example.org</adminEmail><earliestDatestamp>2000-01-01T00:00:00Z</earliestDatestamp><deletedRecord>persistent</deletedRecord>` +
			`<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>`)
	case "ListRecords":
		page := 0
		if t := r.Form.Get("resumptionToken"); t != "" {
			page, _ = strconv.Atoi(strings.TrimPrefix(t, "p"))
		}
		first := page * s.opts.PageRecords
		if s.opts.Repeat {
			first = 0
		}
		bw.WriteString("<ListRecords>\n")
		for i := first; i < first+s.opts.PageRecords; i++ {
			fmt.Fprintf(bw, "<record><header><identifier>%s</identifier><datestamp>2024-01-01T00:00:00Z</datestamp></header><metadata>", s.opts.ID(i))
			s.opts.Record(bw, i)
			bw.WriteString("</metadata></record>\n")
		}
		if page+1 < s.opts.Pages || s.opts.Repeat {
			fmt.Fprintf(bw, "<resumptionToken>p%d</resumptionToken>\n", page+1)
		} else if page > 0 {
			bw.WriteString("<resumptionToken/>\n")
		}
		bw.WriteString("</ListRecords>")
	default:
		bw.WriteString(`<error code="badVerb">not here</error>`)
	}
	bw.WriteString("</OAI-PMH>\n")
}

// BookRecord writes a MARCXML book record numbered i: a control number,
// an author, a Vietnamese title and a note of noteBytes bytes.
func BookRecord(w io.Writer, i, noteBytes int) {
	fmt.Fprintf(w, `<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader>`+
		`<controlfield tag="001">hb%08d</controlfield><datafield tag="100" ind1="1" ind2=" "><subfield code="a">Nguyễn Du</subfield></datafield>`+
		`<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Truyện Kiều, tập %d</subfield></datafield>`+
		`<datafield tag="520" ind1=" " ind2=" "><subfield code="a">`, i, i)
	const text = "Thơ lục bát của Nguyễn Du kể chuyện Thúy Kiều. "
	for n := 0; n < noteBytes; n += len(text) {
		io.WriteString(w, text)
	}
	io.WriteString(w, `</subfield></datafield></record>`)
}

package oaipmh

import (
	"bufio"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/unicat/unicat/marc"
)

// Namespaces and schema locations of the protocol and the formats served.
const (
	NamespaceOAI        = "http://www.openarchives.org/OAI/2.0/"
	SchemaOAI           = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
	NamespaceIdentifier = "http://www.openarchives.org/OAI/2.0/oai-identifier"
	SchemaIdentifier    = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
	SchemaOAIDC         = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
	SchemaMARC21        = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"

	// Granularity is the datestamp granularity served and the finest
	// accepted in from and until.
	Granularity = "YYYY-MM-DDThh:mm:ssZ"

	timeFormat = "2006-01-02T15:04:05Z"
	dayFormat  = "2006-01-02"
)

// response streams one OAI-PMH response: its prolog and envelope are
// written by begin, the verb's content through buf and flush, and the end
// by finish. Nothing is held beyond one record at a time.
type response struct {
	w   *bufio.Writer
	gz  *gzip.Writer
	buf []byte
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, h := range r.Header.Values("Accept-Encoding") {
		for _, part := range strings.Split(h, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.TrimSpace(k) == "q" {
					q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					return err == nil && q > 0
				}
			}
			return true
		}
	}
	return false
}

// begin writes the HTTP header and the response up to and including the
// request element; attrs are name, value pairs echoed on it.
func begin(w http.ResponseWriter, r *http.Request, now time.Time, baseURL string, attrs []string) *response {
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Vary", "Accept-Encoding")
	rs := &response{buf: make([]byte, 0, 16<<10)}
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusOK)
		rs.gz, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		rs.w = bufio.NewWriterSize(rs.gz, 32<<10)
	} else {
		w.WriteHeader(http.StatusOK)
		rs.w = bufio.NewWriterSize(w, 32<<10)
	}
	b := rs.buf[:0]
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<OAI-PMH xmlns="`+NamespaceOAI+`" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" `+
		`xsi:schemaLocation="`+NamespaceOAI+` `+SchemaOAI+`">`+"\n<responseDate>"...)
	b = now.UTC().AppendFormat(b, timeFormat)
	b = append(b, "</responseDate>\n<request"...)
	for i := 0; i+1 < len(attrs); i += 2 {
		b = append(b, ' ')
		b = append(b, attrs[i]...)
		b = append(b, `="`...)
		b = marc.AppendXMLText(b, attrs[i+1])
		b = append(b, '"')
	}
	b = append(b, '>')
	b = marc.AppendXMLText(b, baseURL)
	b = append(b, "</request>\n"...)
	rs.buf = b
	rs.flush()
	return rs
}

// flush hands buf to the output and empties it.
func (rs *response) flush() {
	rs.w.Write(rs.buf)
	rs.buf = rs.buf[:0]
}

// finish ends the document and the stream.
func (rs *response) finish() {
	rs.buf = append(rs.buf, "</OAI-PMH>\n"...)
	rs.flush()
	rs.w.Flush()
	if rs.gz != nil {
		rs.gz.Close()
	}
}

// elem appends <name>escaped text</name>.
func elem(b []byte, name, text string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	b = append(b, '>')
	b = marc.AppendXMLText(b, text)
	b = append(b, "</"...)
	b = append(b, name...)
	return append(b, ">\n"...)
}

func formatTime(ds int64) string {
	return time.Unix(ds, 0).UTC().Format(timeFormat)
}

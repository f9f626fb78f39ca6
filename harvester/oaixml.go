package harvester

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/unicat/unicat/marc"
)

// oaiResponse is what the harvester needs from an OAI-PMH response.
type oaiResponse struct {
	ResponseDate string
	Errors       []oaiError
	Identify     oaiIdentify
	Records      []oaiRecord // ListRecords records or ListIdentifiers headers
	HasToken     bool        // a resumptionToken element was present (maybe empty)
	Token        string
	// CompleteListSize is the resumptionToken's completeListSize, -1 when
	// not given.
	CompleteListSize int64
	// Repaired describes repairs outside any record; "" if none.
	Repaired string
}

type oaiError struct{ Code, Msg string }

func (e oaiError) String() string {
	if e.Msg == "" {
		return e.Code
	}
	return e.Code + ": " + e.Msg
}

type oaiIdentify struct {
	RepositoryName, Granularity, EarliestDatestamp, DeletedRecord string
}

// oaiRecord is one record (or header) of a list. A rejected record has
// Reason (a metrics label) and Err set.
type oaiRecord struct {
	ID        string
	Datestamp time.Time
	Deleted   bool
	Record    *marc.Record
	Warnings  []string
	Reason    string
	Err       string
}

func (r *oaiRecord) reject(reason, msg string) {
	if r.Err == "" {
		r.Reason, r.Err = reason, msg
	}
}

func newOAIDecoder(doc []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Entity = xml.HTMLEntity
	// utf8Reader has converted the document already; the declaration
	// still names the original encoding.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return d
}

// decodeOAI walks the document's tokens, the records' metadata cut out
// and read by the marc package (see hollow). reps (offsets in doc) are
// attributed to the records they fall in.
func decodeOAI(doc []byte, reps []repair, opts marc.ReaderOptions) (*oaiResponse, error) {
	h := hollow(doc, "metadata", opts)
	d := newOAIDecoder(h.env)
	resp := &oaiResponse{CompleteListSize: -1}
	var stack []string
	var text []byte
	var rec *oaiRecord
	var recStart int64
	var ranges [][2]int // of the records, for the repairs outside them
	sawRoot := false
	list := ""
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			stack = append(stack, name)
			text = text[:0]
			depth := len(stack)
			switch {
			case depth == 1:
				if name != "OAI-PMH" {
					return nil, fmt.Errorf("root element is <%s>, not <OAI-PMH>", name)
				}
				sawRoot = true
			case depth == 2 && name == "error":
				resp.Errors = append(resp.Errors, oaiError{Code: attr(t, "code")})
			case depth == 2 && (name == "ListRecords" || name == "ListIdentifiers"):
				list = name
			case depth == 3 && list == "ListRecords" && name == "record":
				rec, recStart = &oaiRecord{}, off
			case depth == 3 && list == "ListIdentifiers" && name == "header":
				rec, recStart = &oaiRecord{Deleted: attr(t, "status") == "deleted"}, off
			case depth == 4 && rec != nil && name == "header":
				rec.Deleted = attr(t, "status") == "deleted"
			case depth == 3 && name == "resumptionToken":
				resp.HasToken = true
				if n, err := strconv.ParseInt(strings.TrimSpace(attr(t, "completeListSize")), 10, 64); err == nil && n >= 0 {
					resp.CompleteListSize = n
				}
			case depth >= 5 && rec != nil && stack[3] == "metadata":
				// Only when hollow found no end to the metadata.
				rec.reject("xml", "<metadata> without an end tag")
				if err := d.Skip(); err != nil {
					return nil, err
				}
				stack = stack[:depth-1]
			}
		case xml.EndElement:
			depth := len(stack)
			if depth == 0 {
				return nil, errors.New("unbalanced end element")
			}
			name := stack[depth-1]
			s := strings.TrimSpace(string(text))
			parent := ""
			if depth >= 2 {
				parent = stack[depth-2]
			}
			switch {
			case depth == 2 && name == "responseDate":
				resp.ResponseDate = s
			case depth == 2 && name == "error":
				resp.Errors[len(resp.Errors)-1].Msg = s
			case depth == 3 && parent == "Identify":
				switch name {
				case "repositoryName":
					resp.Identify.RepositoryName = s
				case "granularity":
					resp.Identify.Granularity = s
				case "earliestDatestamp":
					resp.Identify.EarliestDatestamp = s
				case "deletedRecord":
					resp.Identify.DeletedRecord = s
				}
			case depth == 3 && name == "resumptionToken":
				resp.Token = s
			case rec != nil && parent == "header" && depth <= 5 && name == "identifier":
				rec.ID = s
			case rec != nil && parent == "header" && depth <= 5 && name == "datestamp":
				ds, err := parseDatestamp(s)
				if err != nil || ds.Year() < 1 || ds.Year() > 9999 {
					rec.Warnings = append(rec.Warnings, fmt.Sprintf("datestamp %q not understood", s))
					ds = time.Time{}
				}
				rec.Datestamp = ds
			case rec != nil && depth == 4 && name == "metadata":
				if i, ok := h.chunk(s); ok && rec.Err == "" && !rec.Deleted {
					var reason, msg string
					var warns []string
					rec.Record, warns, reason, msg = h.chunkRecord(doc, i)
					rec.Warnings = append(rec.Warnings, warns...)
					if msg != "" {
						rec.reject(reason, "metadata "+msg)
					}
				}
			case rec != nil && depth == 3:
				recStart = int64(h.docOffset(int(recStart)))
				end := int64(h.docOffset(int(d.InputOffset())))
				if desc := describeRepairs(reps, int(recStart), int(end)); desc != "" {
					rec.Warnings = append([]string{"repaired: " + desc}, rec.Warnings...)
				}
				ranges = append(ranges, [2]int{int(recStart), int(end)})
				finishRecord(rec, list)
				resp.Records = append(resp.Records, *rec)
				rec = nil
			}
			stack = stack[:depth-1]
			text = text[:0]
		case xml.CharData:
			text = append(text, t...)
		}
	}
	if !sawRoot {
		return nil, errors.New("no XML document")
	}
	if len(stack) != 0 {
		return nil, io.ErrUnexpectedEOF
	}
	// Both in document order: one walk sorts the repairs out.
	var outside []repair
	k := 0
	for _, r := range reps {
		for k < len(ranges) && ranges[k][1] <= r.off {
			k++
		}
		if k == len(ranges) || r.off < ranges[k][0] {
			outside = append(outside, r)
		}
	}
	resp.Repaired = describeRepairs(outside, 0, len(doc)+1)
	return resp, nil
}

func finishRecord(rec *oaiRecord, list string) {
	switch {
	case rec.ID == "":
		rec.reject("no-id", "header without an identifier")
	case rec.Deleted:
		rec.Record = nil
	case list == "ListRecords" && rec.Record == nil:
		rec.reject("no-metadata", "record without metadata")
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// parseDatestamp reads an OAI-PMH datestamp in either granularity (and,
// leniently, with fractional seconds or an offset).
func parseDatestamp(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

var (
	namePfx      = `(?:[A-Za-z_][\w.-]*:)?`
	reIdentifier = regexp.MustCompile(`<` + namePfx + `identifier>\s*([^<]*?)\s*</`)
)

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

// parseOAI reads an OAI-PMH response. It converts a document in another
// encoding to UTF-8 and repairs what it can (repairXML). If the document
// is still not well-formed, it is cut into its records, each read on its
// own: the broken ones are rejected and the rest of the page is kept. An
// error means the response as a whole could not be understood (a cut-off
// document, an HTML error page); retrying may help.
func parseOAI(body []byte, cs marc.Charset) (*oaiResponse, error) {
	doc, err := toUTF8(body)
	if err != nil {
		return nil, err
	}
	clean, reps := repairXML(doc)
	resp, err := decodeOAI(clean, reps, cs)
	if err == nil {
		return resp, nil
	}
	if split, serr := splitOAI(clean, reps, cs); serr == nil {
		return split, nil
	}
	return nil, err
}

func newOAIDecoder(doc []byte) *xml.Decoder {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Entity = xml.HTMLEntity
	// toUTF8 has converted the document already; the declaration still
	// names the original encoding.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	return d
}

// decodeOAI walks the document's tokens, the records' metadata cut out
// and read by the marc package (see hollow). reps (offsets in doc) are
// attributed to the records they fall in.
func decodeOAI(doc []byte, reps []repair, cs marc.Charset) (*oaiResponse, error) {
	h := hollow(doc, "metadata", cs)
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
				if err != nil {
					rec.Warnings = append(rec.Warnings, fmt.Sprintf("datestamp %q not understood", s))
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
	var outside []repair
	for _, r := range reps {
		in := false
		for _, rg := range ranges {
			if r.off >= rg[0] && r.off < rg[1] {
				in = true
				break
			}
		}
		if !in {
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
	namePfx = `(?:[A-Za-z_][\w.-]*:)?`
	// An OAI record starts with <record> directly followed by <header>;
	// MARC records inside <metadata> never are.
	reRecordStart = regexp.MustCompile(`<` + namePfx + `record(?:\s[^>]*)?>\s*<` + namePfx + `header[\s>/]`)
	reListEnd     = regexp.MustCompile(`<` + namePfx + `resumptionToken[\s>/]|</` + namePfx + `ListRecords\s*>`)
	reXmlns       = regexp.MustCompile(`\sxmlns(:[\w.-]+)?\s*=\s*("[^"]*"|'[^']*')`)
	reIdentifier  = regexp.MustCompile(`<` + namePfx + `identifier>\s*([^<]*?)\s*</`)
)

// splitOAI reads a ListRecords response that is not well-formed record by
// record: the envelope (responseDate, errors, resumption token) must
// parse; a record that does not is rejected, named by its identifier if
// one can be found.
func splitOAI(clean []byte, reps []repair, cs marc.Charset) (*oaiResponse, error) {
	starts := reRecordStart.FindAllIndex(clean, -1)
	if len(starts) == 0 {
		return nil, errors.New("no records to salvage")
	}
	last := starts[len(starts)-1][0]
	loc := reListEnd.FindIndex(clean[last:])
	if loc == nil {
		return nil, errors.New("document ends inside the list")
	}
	end := last + loc[0]
	envelope := append(append([]byte{}, clean[:starts[0][0]]...), clean[end:]...)
	resp, err := decodeOAI(envelope, nil, cs)
	if err != nil {
		return nil, err
	}
	// Namespace declarations in force around the records.
	var decls []string
	seen := map[string]bool{}
	for _, m := range reXmlns.FindAllSubmatch(clean[:starts[0][0]], -1) {
		if !seen[string(m[1])] {
			seen[string(m[1])] = true
			decls = append(decls, string(m[0]))
		}
	}
	open := "<OAI-PMH" + strings.Join(decls, "") + "><ListRecords>"
	for i, s := range starts {
		e := end
		if i+1 < len(starts) {
			e = starts[i+1][0]
		}
		chunk := clean[s[0]:e]
		doc := append(append([]byte(open), chunk...), "</ListRecords></OAI-PMH>"...)
		r, err := decodeOAI(doc, nil, cs)
		if err != nil || len(r.Records) != 1 {
			bad := oaiRecord{}
			if m := reIdentifier.FindSubmatch(chunk); m != nil {
				bad.ID = string(m[1])
			}
			msg := "not well-formed XML"
			if err != nil {
				msg += ": " + err.Error()
			}
			bad.reject("xml", msg)
			resp.Records = append(resp.Records, bad)
			continue
		}
		rec := r.Records[0]
		if desc := describeRepairs(reps, s[0], e); desc != "" {
			rec.Warnings = append([]string{"repaired: " + desc}, rec.Warnings...)
		}
		resp.Records = append(resp.Records, rec)
	}
	return resp, nil
}

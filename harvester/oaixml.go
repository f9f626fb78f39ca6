package harvester

import (
	"bytes"
	"encoding/xml"
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
	o := &oaiDecoder{doc: doc, reps: reps, h: h, resp: &oaiResponse{CompleteListSize: -1}}
	o.ranges = o.rangesBuf[:0]
	if err := o.walk(newOAIDecoder(h.env), o); err != nil {
		return nil, err
	}
	o.resp.Repaired = describeRepairs(o.outsideRecords(), 0, len(doc)+1)
	return o.resp, nil
}

// oaiDecoder is decodeOAI's walk through a document: the envelope's
// elements (over h.env), and the record being read.
type oaiDecoder struct {
	envelopeWalk
	doc  []byte   // the document as given
	reps []repair // its repairs, by offset in doc
	h    *hollowed
	resp *oaiResponse
	list string     // ListRecords or ListIdentifiers, once seen
	rec  *oaiRecord // the record (or header) being read; nil outside one
	// recStart is rec's offset in h.env.
	recStart int64
	// ranges are the records' extents in doc, in order, to tell the
	// repairs outside them.
	ranges    [][2]int
	rangesBuf [1][2]int // ranges' first backing array (see envelopeWalk)
}

// start opens an element that begins at off.
func (o *oaiDecoder) start(t xml.StartElement, off int64) error {
	name := t.Name.Local
	switch depth := len(o.stack); {
	case depth == 1:
		if name != "OAI-PMH" {
			return fmt.Errorf("root element is <%s>, not <OAI-PMH>", name)
		}
	case depth == 2:
		o.startVerb(t)
	case depth == 3:
		o.startItem(t, off)
	case depth == 4:
		if o.rec != nil && name == "header" {
			o.rec.Deleted = attr(t, "status") == "deleted"
		}
	case o.rec != nil && o.stack[3] == "metadata":
		return o.skipUnendedMetadata()
	}
	return nil
}

// startVerb opens a child of the root: an error, or the list.
func (o *oaiDecoder) startVerb(t xml.StartElement) {
	switch name := t.Name.Local; name {
	case "error":
		o.resp.Errors = append(o.resp.Errors, oaiError{Code: attr(t, "code")})
	case "ListRecords", "ListIdentifiers":
		o.list = name
	}
}

// startItem opens a child of the verb's element: a record of
// ListRecords, a header of ListIdentifiers or the resumption token.
func (o *oaiDecoder) startItem(t xml.StartElement, off int64) {
	switch name := t.Name.Local; {
	case o.list == "ListRecords" && name == "record":
		o.rec, o.recStart = &oaiRecord{}, off
	case o.list == "ListIdentifiers" && name == "header":
		o.rec, o.recStart = &oaiRecord{Deleted: attr(t, "status") == "deleted"}, off
	case name == "resumptionToken":
		o.resp.HasToken = true
		if n, err := strconv.ParseInt(strings.TrimSpace(attr(t, "completeListSize")), 10, 64); err == nil && n >= 0 {
			o.resp.CompleteListSize = n
		}
	}
}

// skipUnendedMetadata rejects the record whose metadata hollow found no
// end to (only then are its elements still in the envelope) and skips
// them.
func (o *oaiDecoder) skipUnendedMetadata() error {
	o.rec.reject("xml", "<metadata> without an end tag")
	return o.skipElement()
}

// end closes the innermost element, taking its text. The cases are in
// the order the earlier ones win in for a document of unusual shape.
func (o *oaiDecoder) end() error {
	depth, name, s := o.closing()
	parent := ""
	if depth >= 2 {
		parent = o.stack[depth-2]
	}
	switch {
	case depth == 2:
		o.endVerb(name, s)
	case depth == 3 && parent == "Identify":
		o.endIdentify(name, s)
	case depth == 3 && name == "resumptionToken":
		o.resp.Token = s
	case o.rec == nil:
	case parent == "header" && depth <= 5 && name == "identifier":
		o.rec.ID = s
	case parent == "header" && depth <= 5 && name == "datestamp":
		o.setDatestamp(s)
	case depth == 4 && name == "metadata":
		o.endMetadata(s)
	case depth == 3:
		o.endRecord()
	}
	return nil
}

// endVerb closes a child of the root.
func (o *oaiDecoder) endVerb(name, s string) {
	switch name {
	case "responseDate":
		o.resp.ResponseDate = s
	case "error":
		o.resp.Errors[len(o.resp.Errors)-1].Msg = s
	}
}

// endIdentify closes a child of Identify.
func (o *oaiDecoder) endIdentify(name, s string) {
	switch name {
	case "repositoryName":
		o.resp.Identify.RepositoryName = s
	case "granularity":
		o.resp.Identify.Granularity = s
	case "earliestDatestamp":
		o.resp.Identify.EarliestDatestamp = s
	case "deletedRecord":
		o.resp.Identify.DeletedRecord = s
	}
}

// setDatestamp sets the record's datestamp, or warns of one not
// understood and leaves it zero.
func (o *oaiDecoder) setDatestamp(s string) {
	ds, err := parseDatestamp(s)
	if err != nil || ds.Year() < 1 || ds.Year() > 9999 {
		o.rec.Warnings = append(o.rec.Warnings, fmt.Sprintf("datestamp %q not understood", s))
		ds = time.Time{}
	}
	o.rec.Datestamp = ds
}

// endMetadata reads the record out of the metadata chunk hollow cut out
// (s is its placeholder), unless the record is rejected or deleted.
func (o *oaiDecoder) endMetadata(s string) {
	i, ok := o.h.chunk(s)
	if !ok || o.rec.Err != "" || o.rec.Deleted {
		return
	}
	var reason, msg string
	var warns []string
	o.rec.Record, warns, reason, msg = o.h.chunkRecord(o.doc, i)
	o.rec.Warnings = append(o.rec.Warnings, warns...)
	if msg != "" {
		o.rec.reject(reason, "metadata "+msg)
	}
}

// endRecord closes the record (or header), with the repairs made in it.
func (o *oaiDecoder) endRecord() {
	start := o.h.docOffset(int(o.recStart))
	end := o.h.docOffset(int(o.d.InputOffset()))
	if desc := describeRepairs(o.reps, start, end); desc != "" {
		o.rec.Warnings = append([]string{"repaired: " + desc}, o.rec.Warnings...)
	}
	o.ranges = append(o.ranges, [2]int{start, end})
	finishRecord(o.rec, o.list)
	o.resp.Records = append(o.resp.Records, *o.rec)
	o.rec = nil
}

// outsideRecords is the repairs in none of the records, for the
// response's Repaired. Both are in document order: one walk sorts them
// out.
func (o *oaiDecoder) outsideRecords() []repair {
	var outside []repair
	k := 0
	for _, r := range o.reps {
		for k < len(o.ranges) && o.ranges[k][1] <= r.off {
			k++
		}
		if k == len(o.ranges) || r.off < o.ranges[k][0] {
			outside = append(outside, r)
		}
	}
	return outside
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

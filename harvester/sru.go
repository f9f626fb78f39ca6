package harvester

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// sruDriver harvests an SRU server with searchRetrieve, page by page.
type sruDriver struct{}

// sruCheckpoint is an SRU source's checkpoint. Between runs only From is
// set (the date of the last complete run, for incremental runs). During a
// run Next is the startRecord of the next page, for the query Query.
type sruCheckpoint struct {
	Base  string `json:"base"`            // the configured query, to notice changes
	From  string `json:"from,omitempty"`  // YYYY-MM-DD
	Query string `json:"query,omitempty"` // the query of the run under way
	Start string `json:"start,omitempty"` // its start date: the next From
	Next  int    `json:"next,omitempty"`
	Full  bool   `json:"full,omitempty"`
}

func (c sruCheckpoint) bytes() []byte {
	b, _ := json.Marshal(c)
	return b
}

func (sruDriver) Harvest(ctx context.Context, j *Job) error {
	src := j.Source
	cp, err := sruSavedCheckpoint(j)
	if err != nil {
		return err
	}
	r := &sruRun{j: j, size: src.PageSize, maxEmpty: max(src.MaxEmptyPages, 1)}
	if r.size <= 0 {
		r.size = 100
	}
	if cp.Next > 0 {
		j.Note("resuming at record %d of %q", cp.Next, cp.Query)
	} else {
		cp.begin(src, j.Now())
		if cp.Full {
			r.seen = map[string]bool{}
		}
	}
	r.cp = cp
	for {
		if done, err := r.page(ctx); done || err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// sruSavedCheckpoint is the checkpoint to go on from: the saved one, or
// a new one when there is none, it is not understood or the configured
// query changed since.
func sruSavedCheckpoint(j *Job) (sruCheckpoint, error) {
	cp := sruCheckpoint{Base: j.Source.Query}
	raw, err := j.Checkpoint()
	if err != nil || raw == nil {
		return cp, err
	}
	var saved sruCheckpoint
	switch err := json.Unmarshal(raw, &saved); {
	case err != nil:
		j.Note("checkpoint %q not understood (%v): harvesting everything", raw, err)
	case saved.Base != j.Source.Query:
		j.Note("query changed (was %q): harvesting everything", saved.Base)
	default:
		cp = saved
	}
	return cp, nil
}

// begin sets the checkpoint for a run from the first record: of the
// records changed since From when the source has a date index and there
// was a complete run, of all of them otherwise.
func (c *sruCheckpoint) begin(src *config.Source, now time.Time) {
	// The date a day early: the server's clock and time zone are
	// unknown, and records seen twice are merely unchanged.
	c.Start = now.UTC().AddDate(0, 0, -1).Format("2006-01-02")
	c.Next, c.Query, c.Full = 1, src.Query, true
	if src.DateIndex != "" && c.From != "" {
		c.Query = fmt.Sprintf("(%s) and %s>=%q", src.Query, src.DateIndex, c.From)
		c.Full = false
	}
}

// sruRun is one harvest of an SRU source, page by page.
type sruRun struct {
	j        *Job
	cp       sruCheckpoint
	seen     map[string]bool // the records of a full run not resumed, for the deletions
	size     int             // records asked for a page
	maxEmpty int             // pages in a row without records that stop the run
	empty    int             // pages in a row without records so far
	received int64
}

// page fetches and commits the page at r.cp.Next; done is true when the
// run is over, err nil if it went through.
func (r *sruRun) page(ctx context.Context) (done bool, err error) {
	j, cp := r.j, &r.cp
	p, resp, err := sruRequest(ctx, j, cp.Query, cp.Next, r.size)
	if err != nil {
		return true, err
	}
	b, records, err := sruPageRecords(ctx, j, p, cp.Next, r.seen)
	bodyLen := resp.Body.Len()
	resp.Body.Close()
	if err != nil {
		return true, err
	}
	r.received += int64(records)
	j.SetProgress(r.received, max(p.NumberOfRecords, 0))
	next := p.NextPosition
	if next <= cp.Next { // absent, or going backwards
		next = cp.Next + records
	}
	last := next > int(p.NumberOfRecords) || next <= cp.Next
	if stop := r.emptyPages(records, next, last, p.NumberOfRecords); stop != nil {
		// Start over next time rather than resume into the same fault.
		b.Checkpoint = sruCheckpoint{Base: cp.Base, From: cp.From}.bytes()
		if _, err := j.Commit(b); err != nil {
			return true, err
		}
		return true, stop
	}
	if last {
		return true, r.finish(ctx, b, bodyLen, records)
	}
	cp.Next = next
	b.Checkpoint = cp.bytes()
	if _, err := j.Commit(b); err != nil {
		return true, err
	}
	j.Page(bodyLen, records)
	return false, nil
}

// emptyPages counts a page of no records and says why the run stops
// there, if it does: a page of none at a position inside the result set
// without a next position, or max_empty_pages of them in a row.
func (r *sruRun) emptyPages(records, next int, last bool, total int64) error {
	at := r.cp.Next
	switch {
	case records > 0:
		r.empty = 0
	case next <= at && at <= int(total):
		r.j.Guard("empty-pages", "no records at position %d of %d and no next position", at, total)
		return fmt.Errorf("searchRetrieve: no records at position %d of %d", at, total)
	case !last:
		if r.empty++; r.empty >= r.maxEmpty {
			r.j.Guard("empty-pages", "%d pages in a row without records", r.empty)
			return fmt.Errorf("searchRetrieve: %d pages in a row without records at position %d of %d", r.empty, at, total)
		}
	}
	return nil
}

// finish commits the last page with the checkpoint of a complete run,
// and for a full run not resumed the deletions of the records it did
// not see.
func (r *sruRun) finish(ctx context.Context, b store.Batch, bodyLen int64, records int) error {
	b.Checkpoint = sruCheckpoint{Base: r.cp.Base, From: r.cp.Start}.bytes()
	r.j.Page(bodyLen, records)
	if r.seen != nil {
		return r.j.commitWithDeletions(ctx, b, r.seen)
	}
	if r.cp.Full {
		r.j.Note("full harvest resumed after an interruption: records that disappeared are found by the next full harvest")
	}
	_, err := r.j.Commit(b)
	return err
}

// sruPageRecords reads a page's records into batches as they come,
// committing each full one without a checkpoint (the page is not done),
// and returns the last, for the caller to commit with the checkpoint
// after the page, and how many records the page held. start is the
// page's position in the result set.
func sruPageRecords(ctx context.Context, j *Job, p *sruPage, start int, seen map[string]bool) (store.Batch, int, error) {
	b, size, records := store.Batch{}, 0, 0
	err := p.each(func(rec *sruRecord, n int, off int64) error {
		records++
		pos := rec.Position
		if pos <= 0 {
			pos = start + n - 1
		}
		label := fmt.Sprintf("record %d", pos)
		where := fmt.Sprintf("position %d, record %d of the page", pos, n)
		if off >= 0 {
			where += fmt.Sprintf(" at byte %d", off)
		}
		id := ""
		if rec.Record != nil {
			if id = ingest.LocalID(rec.Record); id != "" {
				label = id
			}
		}
		for _, w := range rec.Warnings {
			j.Note("%s: %s", label, w)
		}
		switch {
		case rec.Err != "":
			j.Reject(label, rec.Reason, where+": "+rec.Err)
			return ctx.Err()
		case id == "":
			j.Reject(label, "no-id", where+": no control number (001) or system number (035 $a) to identify it")
			return ctx.Err()
		}
		if err := store.CheckLocalID(j.Source.ID, id); err != nil {
			j.Reject(label, "bad-id", where+": "+err.Error())
			return ctx.Err()
		}
		if seen != nil {
			seen[id] = true
		}
		b.Records = append(b.Records, store.Incoming{LocalID: id, Record: rec.Record})
		size += rec.Record.Size()
		if ingest.BatchFull(len(b.Records), size, ingest.DefaultBatchSize, ingest.DefaultBatchBytes) {
			if _, err := j.Commit(b); err != nil {
				return err
			}
			b, size = store.Batch{}, 0
		}
		return ctx.Err()
	})
	return b, records, err
}

// sruRequest fetches one page and reads its envelope (the first pass of
// readSRUPage). The caller closes the response's body.
func sruRequest(ctx context.Context, j *Job, query string, start, size int) (*sruPage, *Response, error) {
	src := j.Source
	u, err := url.Parse(src.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("url %q: %w", src.URL, err)
	}
	version := src.SRUVersion
	if version == "" {
		version = "1.2"
	}
	q := u.Query()
	q.Set("operation", "searchRetrieve")
	q.Set("version", version)
	q.Set("query", query)
	q.Set("recordSchema", "marcxml")
	q.Set("startRecord", strconv.Itoa(start))
	q.Set("maximumRecords", strconv.Itoa(size))
	if version == "2.0" {
		q.Set("recordXMLEscaping", "xml")
	} else {
		q.Set("recordPacking", "xml")
	}
	u.RawQuery = q.Encode()
	var parsed *sruPage
	opts := marc.ReaderOptions{Charset: marc.Charset(src.Charset), MaxRecordBytes: src.MaxRecordBytes}
	resp, err := j.Fetch(ctx, u.String(), func(resp *Response) error {
		p, err := readSRUPage(resp.Body, opts)
		if err != nil {
			if resp.Status != 200 {
				return fmt.Errorf("GET %s: HTTP %d%s", resp.URL, resp.Status, snippet(resp.Body.Head(4*snippetLen)))
			}
			return Retryable(fmt.Errorf("GET %s: response is not SRU: %w", resp.URL, err))
		}
		if resp.Status != 200 && len(p.Diagnostics) == 0 {
			return fmt.Errorf("GET %s: HTTP %d", resp.URL, resp.Status)
		}
		parsed = p
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("searchRetrieve: %w", err)
	}
	if len(parsed.Diagnostics) > 0 {
		d := parsed.Diagnostics[0]
		if strings.HasSuffix(d.URI, "/61") && start > 1 {
			// First record position out of range: the result set shrank
			// since the position was saved. The run ends here.
			j.Note("SRU diagnostic %s: the result set ends before %d", d, start)
			return &sruPage{sruResponse: &sruResponse{NumberOfRecords: 0}}, resp, nil
		}
		resp.Body.Close()
		return nil, nil, fmt.Errorf("searchRetrieve at %d: SRU diagnostic %s", start, d)
	}
	if parsed.NumberOfRecords < 0 {
		resp.Body.Close()
		return nil, nil, fmt.Errorf("searchRetrieve at %d: response without numberOfRecords", start)
	}
	return parsed, resp, nil
}

// sruResponse is what the harvester needs from a searchRetrieveResponse
// of SRU 1.1, 1.2 (namespace http://www.loc.gov/zing/srw/) or 2.0
// (http://docs.oasis-open.org/ns/search-ws/sruResponse).
type sruResponse struct {
	NumberOfRecords int64 // -1 when absent
	NextPosition    int   // 0 when absent
	Records         []sruRecord
	Diagnostics     []sruDiagnostic
}

type sruRecord struct {
	Position int
	Record   *marc.Record
	Warnings []string
	Reason   string
	Err      string
}

type sruDiagnostic struct{ URI, Details, Message string }

func (d sruDiagnostic) String() string {
	s := d.URI
	if d.Message != "" {
		s += " " + d.Message
	}
	if d.Details != "" {
		s += " (" + d.Details + ")"
	}
	return s
}

// decodeSRU walks a searchRetrieve response (repaired: see repairXML),
// the content of its recordData cut out and read by the marc package
// (see hollow). reps (offsets in clean) are attributed to the records
// they fall in.
func decodeSRU(clean []byte, reps []repair, opts marc.ReaderOptions) (*sruResponse, error) {
	h := hollow(clean, "recordData", opts)
	o := &sruDecoder{clean: clean, reps: reps, h: h, resp: &sruResponse{NumberOfRecords: -1}}
	if err := o.walk(newOAIDecoder(h.env), o); err != nil {
		return nil, err
	}
	return o.resp, nil
}

// sruDecoder is decodeSRU's walk through a document (see oaiDecoder).
type sruDecoder struct {
	envelopeWalk
	clean     []byte   // the document as given
	reps      []repair // its repairs, by offset in clean
	h         *hollowed
	resp      *sruResponse
	inRecords bool           // within <records>
	rec       *sruRecord     // the record being read; nil outside one
	recStart  int64          // rec's offset in h.env
	diag      *sruDiagnostic // the diagnostic being read; nil outside one
}

// start opens an element that begins at off.
func (o *sruDecoder) start(t xml.StartElement, off int64) error {
	name := t.Name.Local
	switch len(o.stack) {
	case 1:
		if name != "searchRetrieveResponse" {
			return fmt.Errorf("root element is <%s>, not <searchRetrieveResponse>", name)
		}
	case 2:
		if name == "records" {
			o.inRecords = true
		}
	case 3:
		o.startItem(name, off)
	case 5:
		if o.rec != nil && o.stack[3] == "recordData" {
			return o.skipUnendedRecordData()
		}
	}
	return nil
}

// startItem opens a record of the records or a diagnostic of the
// diagnostics.
func (o *sruDecoder) startItem(name string, off int64) {
	switch {
	case o.inRecords && name == "record":
		o.rec, o.recStart = &sruRecord{}, off
	case o.stack[1] == "diagnostics" && name == "diagnostic":
		o.resp.Diagnostics = append(o.resp.Diagnostics, sruDiagnostic{})
		o.diag = &o.resp.Diagnostics[len(o.resp.Diagnostics)-1]
	}
}

// skipUnendedRecordData rejects the record whose recordData hollow found
// no end to (only then are its elements still in the envelope) and skips
// them.
func (o *sruDecoder) skipUnendedRecordData() error {
	o.rec.Reason, o.rec.Err = "xml", "<recordData> without an end tag"
	return o.skipElement()
}

// end closes the innermost element, taking its text. The cases are in
// the order the earlier ones win in for a document of unusual shape.
func (o *sruDecoder) end() error {
	depth, name, s := o.closing()
	switch {
	case depth == 2:
		if err := o.endCount(name, s); err != nil {
			return err
		}
	case o.diag != nil && depth == 4:
		o.endDiagnosticField(name, s)
	case o.diag != nil && depth == 3:
		o.diag = nil
	case o.rec == nil:
	case depth == 4 && name == "recordPosition":
		o.rec.Position, _ = strconv.Atoi(s)
	case depth == 4 && name == "recordData" && o.rec.Err == "":
		if i, ok := o.h.chunk(s); ok {
			readChunk(o.rec, o.h, o.clean, i)
		}
	case depth == 3:
		o.endRecord()
	}
	return nil
}

// endCount closes a child of the root: the counts, or the records.
func (o *sruDecoder) endCount(name, s string) error {
	switch name {
	case "numberOfRecords":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("numberOfRecords %q is not a count", s)
		}
		o.resp.NumberOfRecords = n
	case "nextRecordPosition":
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			o.resp.NextPosition = n
		}
	case "records":
		o.inRecords = false
	}
	return nil
}

// endDiagnosticField closes a child of a diagnostic.
func (o *sruDecoder) endDiagnosticField(name, s string) {
	switch name {
	case "uri":
		o.diag.URI = s
	case "details":
		o.diag.Details = s
	case "message":
		o.diag.Message = s
	}
}

// endRecord closes the record, with the repairs made in it.
func (o *sruDecoder) endRecord() {
	start, end := o.h.docOffset(int(o.recStart)), o.h.docOffset(int(o.d.InputOffset()))
	if desc := describeRepairs(o.reps, start, end); desc != "" {
		o.rec.Warnings = append([]string{"repaired: " + desc}, o.rec.Warnings...)
	}
	if o.rec.Record == nil && o.rec.Err == "" {
		o.rec.Reason, o.rec.Err = "no-metadata", "record without recordData"
	}
	o.resp.Records = append(o.resp.Records, *o.rec)
	o.rec = nil
}

// readChunk reads the record in a recordData: MARCXML, as elements or
// escaped text, or a surrogate diagnostic standing in for a record the
// server could not deliver.
func readChunk(rec *sruRecord, h *hollowed, doc []byte, i int) {
	c := doc[h.chunks[i][0]:h.chunks[i][1]]
	if m := reFirstElem.FindSubmatch(c); m != nil && (string(m[1]) == "diagnostic" || strings.HasSuffix(string(m[1]), ":diagnostic")) {
		var sd struct {
			URI     string `xml:"uri"`
			Details string `xml:"details"`
			Message string `xml:"message"`
		}
		if err := xml.Unmarshal(c, &sd); err != nil {
			rec.Reason, rec.Err = "xml", "surrogate diagnostic: "+err.Error()
			return
		}
		rec.Reason, rec.Err = "diagnostic", "surrogate diagnostic "+sruDiagnostic{sd.URI, sd.Details, sd.Message}.String()
		return
	}
	r, warns, reason, msg := h.chunkRecord(doc, i)
	rec.Record, rec.Warnings = r, append(rec.Warnings, warns...)
	if msg != "" {
		rec.Reason, rec.Err = reason, "recordData "+msg
	}
}

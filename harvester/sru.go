package harvester

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

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
	cp := sruCheckpoint{Base: src.Query}
	if raw, err := j.Checkpoint(); err != nil {
		return err
	} else if raw != nil {
		var saved sruCheckpoint
		switch err := json.Unmarshal(raw, &saved); {
		case err != nil:
			j.Note("checkpoint %q not understood (%v): harvesting everything", raw, err)
		case saved.Base != src.Query:
			j.Note("query changed (was %q): harvesting everything", saved.Base)
		default:
			cp = saved
		}
	}
	resumed := cp.Next > 0
	if resumed {
		j.Note("resuming at record %d of %q", cp.Next, cp.Query)
	} else {
		// The date a day early: the server's clock and time zone are
		// unknown, and records seen twice are merely unchanged.
		cp.Start = j.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
		cp.Next, cp.Query, cp.Full = 1, src.Query, true
		if src.DateIndex != "" && cp.From != "" {
			cp.Query = fmt.Sprintf("(%s) and %s>=%q", src.Query, src.DateIndex, cp.From)
			cp.Full = false
		}
	}
	var seen map[string]bool
	if cp.Full && !resumed {
		seen = map[string]bool{}
	}
	size := src.PageSize
	if size <= 0 {
		size = 100
	}
	maxEmpty := max(src.MaxEmptyPages, 1)
	empty := 0
	var received int64
	for {
		p, resp, err := sruRequest(ctx, j, cp.Query, cp.Next, size)
		if err != nil {
			return err
		}
		b, records, err := sruPageRecords(ctx, j, p, cp.Next, seen)
		bodyLen := resp.Body.Len()
		resp.Body.Close()
		if err != nil {
			return err
		}
		received += int64(records)
		j.SetProgress(received, max(p.NumberOfRecords, 0))
		next := p.NextPosition
		if next <= cp.Next { // absent, or going backwards
			next = cp.Next + records
		}
		done := next > int(p.NumberOfRecords) || next <= cp.Next
		var stop error
		switch {
		case records > 0:
			empty = 0
		case next <= cp.Next && cp.Next <= int(p.NumberOfRecords):
			j.Guard("empty-pages", "no records at position %d of %d and no next position", cp.Next, p.NumberOfRecords)
			stop = fmt.Errorf("searchRetrieve: no records at position %d of %d", cp.Next, p.NumberOfRecords)
		case !done:
			if empty++; empty >= maxEmpty {
				j.Guard("empty-pages", "%d pages in a row without records", empty)
				stop = fmt.Errorf("searchRetrieve: %d pages in a row without records at position %d of %d", empty, cp.Next, p.NumberOfRecords)
			}
		}
		if stop != nil {
			// Start over next time rather than resume into the same fault.
			b.Checkpoint = sruCheckpoint{Base: cp.Base, From: cp.From}.bytes()
			if _, err := j.Commit(b); err != nil {
				return err
			}
			return stop
		}
		if done {
			b.Checkpoint = sruCheckpoint{Base: cp.Base, From: cp.Start}.bytes()
			j.Page(bodyLen, records)
			if seen != nil {
				return j.commitWithDeletions(ctx, b, seen)
			}
			if cp.Full {
				j.Note("full harvest resumed after an interruption: records that disappeared are found by the next full harvest")
			}
			_, err := j.Commit(b)
			return err
		}
		cp.Next = next
		b.Checkpoint = cp.bytes()
		if _, err := j.Commit(b); err != nil {
			return err
		}
		j.Page(bodyLen, records)
		if err := ctx.Err(); err != nil {
			return err
		}
	}
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
	d := newOAIDecoder(h.env)
	resp := &sruResponse{NumberOfRecords: -1}
	var stack []string
	var text []byte
	var rec *sruRecord
	var recStart int64
	var diag *sruDiagnostic
	inRecords := 0
	sawRoot := false
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
				if name != "searchRetrieveResponse" {
					return nil, fmt.Errorf("root element is <%s>, not <searchRetrieveResponse>", name)
				}
				sawRoot = true
			case depth == 2 && name == "records":
				inRecords = depth
			case depth == 3 && inRecords == 2 && name == "record":
				rec, recStart = &sruRecord{}, off
			case depth == 3 && stack[1] == "diagnostics" && name == "diagnostic":
				resp.Diagnostics = append(resp.Diagnostics, sruDiagnostic{})
				diag = &resp.Diagnostics[len(resp.Diagnostics)-1]
			case depth == 5 && rec != nil && stack[3] == "recordData":
				// Only when hollow found no end to the recordData.
				rec.Reason, rec.Err = "xml", "<recordData> without an end tag"
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
			switch {
			case depth == 2 && name == "numberOfRecords":
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil || n < 0 {
					return nil, fmt.Errorf("numberOfRecords %q is not a count", s)
				}
				resp.NumberOfRecords = n
			case depth == 2 && name == "nextRecordPosition":
				if n, err := strconv.Atoi(s); err == nil && n > 0 {
					resp.NextPosition = n
				}
			case depth == 2 && name == "records":
				inRecords = 0
			case diag != nil && depth == 4:
				switch name {
				case "uri":
					diag.URI = s
				case "details":
					diag.Details = s
				case "message":
					diag.Message = s
				}
			case diag != nil && depth == 3:
				diag = nil
			case rec != nil && depth == 4 && name == "recordPosition":
				rec.Position, _ = strconv.Atoi(s)
			case rec != nil && depth == 4 && name == "recordData" && rec.Err == "":
				if i, ok := h.chunk(s); ok {
					readChunk(rec, h, clean, i)
				}
			case rec != nil && depth == 3:
				start, end := h.docOffset(int(recStart)), h.docOffset(int(d.InputOffset()))
				if desc := describeRepairs(reps, start, end); desc != "" {
					rec.Warnings = append([]string{"repaired: " + desc}, rec.Warnings...)
				}
				if rec.Record == nil && rec.Err == "" {
					rec.Reason, rec.Err = "no-metadata", "record without recordData"
				}
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
	return resp, nil
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

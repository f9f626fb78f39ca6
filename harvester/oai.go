package harvester

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// oaiDriver harvests an OAI-PMH 2.0 repository with ListRecords.
type oaiDriver struct{}

// oaiCheckpoint is an OAI-PMH source's checkpoint. Between runs only
// From is set: the from of the next window. During a window Token is the
// resumption token of the next page and Start the responseDate taken
// before the window began, which becomes From when the window completes.
type oaiCheckpoint struct {
	Prefix string `json:"prefix"`
	Set    string `json:"set,omitempty"`
	From   string `json:"from,omitempty"`
	Start  string `json:"start,omitempty"`
	Token  string `json:"token,omitempty"`
	Page   int    `json:"page,omitempty"` // pages committed in this window
}

func (c oaiCheckpoint) bytes() []byte {
	b, _ := json.Marshal(c)
	return b
}

// oaiRun is the state of one OAI-PMH harvest.
type oaiRun struct {
	j        *Job
	base     string
	day      bool   // the repository's granularity is days
	now      string // Identify's responseDate, taken before any list
	maxEmpty int
	opts     marc.ReaderOptions // how records are read
}

func (oaiDriver) Harvest(ctx context.Context, j *Job) error {
	src := j.Source
	r := &oaiRun{j: j, base: src.URL, maxEmpty: src.MaxEmptyPages,
		opts: marc.ReaderOptions{Charset: marc.Charset(src.Charset), MaxRecordBytes: src.MaxRecordBytes}}
	if r.maxEmpty <= 0 {
		r.maxEmpty = 10
	}
	cp, err := r.loadCheckpoint()
	if err != nil {
		return err
	}
	if err := r.identify(ctx); err != nil {
		return err
	}
	if err := r.listRecords(ctx, cp); err != nil {
		return err
	}
	if src.Deletions == config.DeletionsListIdentifiers {
		return r.deletionPass(ctx)
	}
	return nil
}

func (r *oaiRun) loadCheckpoint() (oaiCheckpoint, error) {
	src := r.j.Source
	fresh := oaiCheckpoint{Prefix: src.MetadataPrefix, Set: src.Set}
	raw, err := r.j.Checkpoint()
	if err != nil || raw == nil {
		return fresh, err
	}
	var cp oaiCheckpoint
	if err := json.Unmarshal(raw, &cp); err != nil {
		r.j.Note("checkpoint %q not understood (%v): harvesting everything", raw, err)
		return fresh, nil
	}
	if cp.Prefix != src.MetadataPrefix || cp.Set != src.Set {
		r.j.Note("metadata prefix or set changed (was %q/%q): harvesting everything", cp.Prefix, cp.Set)
		return fresh, nil
	}
	return cp, nil
}

// request fetches one OAI-PMH response and reads its envelope (the first
// pass of readOAIPage). Responses that cannot be parsed at all (cut off,
// an HTML error page) are retried like network errors. The caller closes
// the response's body.
func (r *oaiRun) request(ctx context.Context, q url.Values) (*oaiPage, *Response, error) {
	u, err := url.Parse(r.base)
	if err != nil {
		return nil, nil, fmt.Errorf("url %q: %w", r.base, err)
	}
	all := u.Query()
	for k, v := range q {
		all[k] = v
	}
	u.RawQuery = all.Encode()
	var parsed *oaiPage
	resp, err := r.j.Fetch(ctx, u.String(), func(resp *Response) error {
		p, err := readOAIPage(resp.Body, q.Get("verb"), r.opts)
		if err != nil {
			if resp.Status != 200 {
				return fmt.Errorf("GET %s: HTTP %d%s", resp.URL, resp.Status, snippet(resp.Body.Head(4*snippetLen)))
			}
			return Retryable(fmt.Errorf("GET %s: response is not OAI-PMH: %w", resp.URL, err))
		}
		if resp.Status != 200 && len(p.Errors) == 0 {
			return fmt.Errorf("GET %s: HTTP %d", resp.URL, resp.Status)
		}
		parsed = p
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if parsed.Repaired != "" {
		r.j.Note("%s: repaired outside the records: %s", q.Get("verb"), parsed.Repaired)
	}
	return parsed, resp, nil
}

func (r *oaiRun) identify(ctx context.Context) error {
	p, resp, err := r.request(ctx, url.Values{"verb": {"Identify"}})
	if err != nil {
		return fmt.Errorf("Identify: %w", err)
	}
	resp.Body.Close()
	if len(p.Errors) > 0 {
		return fmt.Errorf("Identify: OAI-PMH error %s", p.Errors[0])
	}
	id := p.Identify
	r.day = id.Granularity != "YYYY-MM-DDThh:mm:ssZ"
	if t, err := parseDatestamp(p.ResponseDate); err == nil && len(p.ResponseDate) > 10 {
		r.now = t.UTC().Format(time.RFC3339)
	} else {
		// The server's clock is what from is compared with; lacking it,
		// ours, a day early for safety (records are then seen twice, as
		// unchanged, rather than missed).
		r.now = r.j.Now().UTC().AddDate(0, 0, -1).Format(time.RFC3339)
		r.j.Note("Identify: responseDate %q not understood; using %s", p.ResponseDate, r.now)
	}
	if id.DeletedRecord == "no" && r.j.Source.Deletions == "" {
		r.j.Note("repository does not report deletions (deletedRecord=no): set deletions: list-identifiers to detect them")
	}
	r.j.Log.Info("identify", "repository", id.RepositoryName, "granularity", id.Granularity,
		"earliest", id.EarliestDatestamp, "deletedRecord", id.DeletedRecord, "responseDate", p.ResponseDate)
	return nil
}

// fromArg formats a stored responseDate in the repository's granularity.
func (r *oaiRun) fromArg(from string) (string, error) {
	t, err := parseDatestamp(from)
	if err != nil {
		return "", fmt.Errorf("stored from %q: %w", from, err)
	}
	if r.day {
		return t.Format("2006-01-02"), nil
	}
	return t.UTC().Format("2006-01-02T15:04:05Z"), nil
}

func (r *oaiRun) firstQuery(verb string, from string) (url.Values, error) {
	src := r.j.Source
	q := url.Values{"verb": {verb}, "metadataPrefix": {src.MetadataPrefix}}
	if src.Set != "" {
		q.Set("set", src.Set)
	}
	if from != "" {
		f, err := r.fromArg(from)
		if err != nil {
			return nil, err
		}
		q.Set("from", f)
	}
	return q, nil
}

// listRecords walks one window: from the checkpoint's token if a window
// was under way, else from its from. Each page is committed in batches,
// the last with the checkpoint that follows the page (see listPage).
func (r *oaiRun) listRecords(ctx context.Context, cp oaiCheckpoint) error {
	j := r.j
	var q url.Values
	var err error
	tokenReq := cp.Token != ""
	if tokenReq {
		j.Note("resuming at page %d of the window from %q", cp.Page+1, cp.From)
		q = url.Values{"verb": {"ListRecords"}, "resumptionToken": {cp.Token}}
	} else {
		cp.Start, cp.Page = r.now, 0
		if q, err = r.firstQuery("ListRecords", cp.From); err != nil {
			return err
		}
	}
	l := newOAIList()
	if tokenReq {
		l.tokens[cp.Token] = true
	}
	restarted := false
	for {
		p, resp, err := r.request(ctx, q)
		if err != nil {
			return fmt.Errorf("ListRecords: %w", err)
		}
		if len(p.Errors) > 0 {
			resp.Body.Close()
			e := p.Errors[0]
			switch {
			case e.Code == "badResumptionToken" && tokenReq && !restarted:
				// An expired token: walk the window again from its from,
				// with a new responseDate.
				j.Guard("bad-resumption-token", "token rejected (%s): listing again from %q", e, cp.From)
				restarted, tokenReq = true, false
				cp = oaiCheckpoint{Prefix: cp.Prefix, Set: cp.Set, From: cp.From, Start: r.now}
				if q, err = r.firstQuery("ListRecords", cp.From); err != nil {
					return err
				}
				l = newOAIList()
				continue
			case e.Code == "noRecordsMatch":
				if tokenReq {
					j.Guard("no-records-match", "noRecordsMatch answered a resumption token: list ends here")
				}
				j.Page(resp.Body.Len(), 0)
				_, err := j.Commit(store.Batch{Checkpoint: oaiCheckpoint{Prefix: cp.Prefix, Set: cp.Set, From: cp.Start}.bytes()})
				return err
			}
			return fmt.Errorf("ListRecords: OAI-PMH error %s", e)
		}
		next, stop, err := r.listPage(ctx, l, p, resp, cp)
		resp.Body.Close()
		if err != nil || stop != nil || next.Token == "" {
			return errors.Join(err, stop)
		}
		cp = next
		tokenReq = true
		q = url.Values{"verb": {"ListRecords"}, "resumptionToken": {next.Token}}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// oaiList is what the guards remember of one list: the resumption tokens
// it gave, the identifiers of its records and how many pages in a row
// brought no new record.
type oaiList struct {
	tokens   map[string]bool
	ids      idSet
	stale    int
	received int64
}

func newOAIList() *oaiList { return &oaiList{tokens: map[string]bool{}, ids: newIDSet()} }

// listPage stores one page of ListRecords: its records and deletions in
// batches as they are read (ingest.BatchFull), so that a page of any
// size costs one batch; the last batch carries the checkpoint after the
// page. A crash between them leaves the checkpoint before the page,
// which the next run asks for again, its records then unchanged. It
// returns that checkpoint and, when a guard trips, why the run stops.
func (r *oaiRun) listPage(ctx context.Context, l *oaiList, p *oaiPage, resp *Response, cp oaiCheckpoint) (oaiCheckpoint, error, error) {
	j := r.j
	page := cp.Page + 1
	b, size := store.Batch{}, 0
	records, fresh := 0, 0
	err := p.each(func(rec *oaiRecord, n int, off int64) error {
		records++
		for _, w := range rec.Warnings {
			j.Note("%s: %s", rec.ID, w)
		}
		if rec.Err == "" {
			if err := store.CheckLocalID(j.Source.ID, rec.ID); err != nil {
				rec.reject("bad-id", err.Error())
			}
		}
		if rec.ID != "" && l.ids.add(rec.ID) {
			fresh++
		}
		switch {
		case rec.Err != "":
			j.Reject(rec.ID, rec.Reason, recordPlace(page, n, off)+": "+rec.Err)
		case rec.Deleted:
			b.Deletions = append(b.Deletions, store.Deletion{LocalID: rec.ID, Datestamp: rec.Datestamp})
		default:
			b.Records = append(b.Records, store.Incoming{LocalID: rec.ID, Record: rec.Record, Datestamp: rec.Datestamp})
			size += rec.Record.Size()
		}
		if ingest.BatchFull(len(b.Records)+len(b.Deletions), size, ingest.DefaultBatchSize, ingest.DefaultBatchBytes) {
			// Without a checkpoint: the page is not done.
			if _, err := j.Commit(b); err != nil {
				return err
			}
			b, size = store.Batch{}, 0
			j.SetProgress(l.received+int64(records), max(p.CompleteListSize, 0))
			j.report()
		}
		return ctx.Err()
	})
	if err != nil {
		return cp, nil, err
	}
	l.received += int64(records)
	j.SetProgress(l.received, max(p.CompleteListSize, 0))
	next := oaiCheckpoint{Prefix: cp.Prefix, Set: cp.Set, From: cp.From, Start: cp.Start, Token: p.Token, Page: page}
	var stop error
	switch {
	case p.Token == "":
		next = oaiCheckpoint{Prefix: cp.Prefix, Set: cp.Set, From: cp.Start}
	case l.tokens[p.Token]:
		j.Guard("token-loop", "resumption token %q returned twice", p.Token)
		stop = fmt.Errorf("ListRecords: the server returned resumption token %q a second time (a loop); the next run lists again from %q", p.Token, cp.From)
	default:
		stop = r.staleGuard(l, "ListRecords", records, fresh, fmt.Sprintf("the next run lists again from %q", cp.From))
	}
	if stop != nil {
		// Keep the page, but not the token: resuming a broken chain
		// would only meet the same fault.
		next = oaiCheckpoint{Prefix: cp.Prefix, Set: cp.Set, From: cp.From}
	}
	l.tokens[p.Token] = true
	b.Checkpoint = next.bytes()
	if _, err := j.Commit(b); err != nil {
		return cp, nil, err
	}
	j.Page(resp.Body.Len(), records)
	return next, stop, nil
}

// staleGuard applies pageVerdict to a page of a list and says why the run
// stops, if it does; then says what follows.
func (r *oaiRun) staleGuard(l *oaiList, verb string, records, fresh int, then string) error {
	var why string
	l.stale, why = pageVerdict(l.stale, records, fresh, r.maxEmpty)
	switch why {
	case "empty-pages":
		r.j.Guard(why, "%s: %d pages in a row without records", verb, l.stale)
		return fmt.Errorf("%s: %d pages in a row without records; %s", verb, l.stale, then)
	case "repeated-records":
		r.j.Guard(why, "%s: %d pages in a row, each with a new resumption token, without a record the list had not given already", verb, l.stale)
		return fmt.Errorf("%s: %d pages in a row without a record the list had not given already (the server repeats its records under new resumption tokens); %s", verb, l.stale, then)
	}
	return nil
}

// pageVerdict is the policy against a list that runs without end: a page
// that brings nothing new, no record at all or only records whose
// identifiers the list gave already, counts towards maxStale in a row
// (max_empty_pages); a page with one new record starts the count again.
// It returns the new count and, when it reaches maxStale, the guard that
// trips: empty-pages when the last page was empty, else
// repeated-records. A record given twice (one changed while the list was
// walked, moved to its end) is normal and trips nothing.
func pageVerdict(stale, records, fresh, maxStale int) (int, string) {
	if fresh > 0 {
		return 0, ""
	}
	stale++
	switch {
	case stale < maxStale:
		return stale, ""
	case records == 0:
		return stale, "empty-pages"
	}
	return stale, "repeated-records"
}

// recordPlace names where a record was in a harvest, for its reject.
func recordPlace(page, n int, off int64) string {
	if off < 0 {
		return fmt.Sprintf("page %d, record %d", page, n)
	}
	return fmt.Sprintf("page %d, record %d at byte %d", page, n, off)
}

// deletionPass lists every identifier (ListIdentifiers, no from) and marks
// the stored records missing from the list as deleted, for repositories
// that do not report deletions.
func (r *oaiRun) deletionPass(ctx context.Context) error {
	j := r.j
	q, err := r.firstQuery("ListIdentifiers", "")
	if err != nil {
		return err
	}
	alive := map[string]bool{}
	l := newOAIList()
	restarted := false
	for {
		p, resp, err := r.request(ctx, q)
		if err != nil {
			return fmt.Errorf("ListIdentifiers: %w", err)
		}
		headers, fresh := 0, 0
		if len(p.Errors) == 0 {
			err = p.each(func(h *oaiRecord, _ int, _ int64) error {
				headers++
				if h.ID != "" && l.ids.add(h.ID) {
					fresh++
				}
				if h.ID != "" && !h.Deleted {
					alive[h.ID] = true
				}
				return ctx.Err()
			})
		}
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("ListIdentifiers: %w", err)
		}
		if len(p.Errors) > 0 {
			e := p.Errors[0]
			switch {
			case e.Code == "badResumptionToken" && q.Has("resumptionToken") && !restarted:
				j.Guard("bad-resumption-token", "ListIdentifiers token rejected (%s): listing again", e)
				restarted = true
				alive, l = map[string]bool{}, newOAIList()
				if q, err = r.firstQuery("ListIdentifiers", ""); err != nil {
					return err
				}
				continue
			case e.Code == "noRecordsMatch":
				if q.Has("resumptionToken") {
					j.Guard("no-records-match", "noRecordsMatch answered a ListIdentifiers token: list ends here")
				}
				return j.commitWithDeletions(ctx, store.Batch{}, alive)
			}
			return fmt.Errorf("ListIdentifiers: OAI-PMH error %s", e)
		}
		j.Page(resp.Body.Len(), 0)
		switch {
		case p.Token == "":
			return j.commitWithDeletions(ctx, store.Batch{}, alive)
		case l.tokens[p.Token]:
			j.Guard("token-loop", "ListIdentifiers resumption token %q returned twice", p.Token)
			return fmt.Errorf("ListIdentifiers: resumption token %q returned a second time (a loop); no deletions applied", p.Token)
		}
		if stop := r.staleGuard(l, "ListIdentifiers", headers, fresh, "no deletions applied"); stop != nil {
			return stop
		}
		l.tokens[p.Token] = true
		q = url.Values{"verb": {"ListIdentifiers"}, "resumptionToken": {p.Token}}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

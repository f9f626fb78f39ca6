package harvester

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/unicat/unicat/config"
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
}

func (oaiDriver) Harvest(ctx context.Context, j *Job) error {
	src := j.Source
	r := &oaiRun{j: j, base: src.URL, maxEmpty: src.MaxEmptyPages}
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

// request fetches one OAI-PMH response. Responses that cannot be parsed
// at all (cut off, an HTML error page) are retried like network errors.
func (r *oaiRun) request(ctx context.Context, q url.Values) (*oaiResponse, *Response, error) {
	u, err := url.Parse(r.base)
	if err != nil {
		return nil, nil, fmt.Errorf("url %q: %w", r.base, err)
	}
	all := u.Query()
	for k, v := range q {
		all[k] = v
	}
	u.RawQuery = all.Encode()
	var parsed *oaiResponse
	resp, err := r.j.Fetch(ctx, u.String(), func(resp *Response) error {
		p, err := parseOAI(resp.Body, marc.Charset(r.j.Source.Charset))
		if err != nil {
			if resp.Status != 200 {
				return fmt.Errorf("GET %s: HTTP %d%s", resp.URL, resp.Status, snippet(resp.Body))
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
	p, _, err := r.request(ctx, url.Values{"verb": {"Identify"}})
	if err != nil {
		return fmt.Errorf("Identify: %w", err)
	}
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
// was under way, else from its from. Each page is committed with the
// checkpoint that follows it.
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
	seen := map[string]bool{}
	if tokenReq {
		seen[cp.Token] = true
	}
	restarted := false
	empty := 0
	var received int64
	for {
		p, resp, err := r.request(ctx, q)
		if err != nil {
			return fmt.Errorf("ListRecords: %w", err)
		}
		if len(p.Errors) > 0 {
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
				seen = map[string]bool{}
				continue
			case e.Code == "noRecordsMatch":
				if tokenReq {
					j.Guard("no-records-match", "noRecordsMatch answered a resumption token: list ends here")
				}
				j.Page(int64(len(resp.Body)), 0)
				_, err := j.Commit(store.Batch{Checkpoint: oaiCheckpoint{Prefix: cp.Prefix, Set: cp.Set, From: cp.Start}.bytes()})
				return err
			}
			return fmt.Errorf("ListRecords: OAI-PMH error %s", e)
		}
		b := store.Batch{}
		for i := range p.Records {
			rec := &p.Records[i]
			for _, w := range rec.Warnings {
				j.Note("%s: %s", rec.ID, w)
			}
			switch {
			case rec.Err != "":
				j.Reject(rec.ID, rec.Reason, rec.Err)
			case rec.Deleted:
				b.Deletions = append(b.Deletions, store.Deletion{LocalID: rec.ID, Datestamp: rec.Datestamp})
			default:
				b.Records = append(b.Records, store.Incoming{LocalID: rec.ID, Record: rec.Record, Datestamp: rec.Datestamp})
			}
		}
		received += int64(len(p.Records))
		if p.CompleteListSize >= 0 {
			j.SetProgress(received, p.CompleteListSize)
		} else {
			j.SetProgress(received, 0)
		}
		next := oaiCheckpoint{Prefix: cp.Prefix, Set: cp.Set, From: cp.From, Start: cp.Start, Token: p.Token, Page: cp.Page + 1}
		var stop error
		switch {
		case p.Token == "":
			next = oaiCheckpoint{Prefix: cp.Prefix, Set: cp.Set, From: cp.Start}
		case seen[p.Token]:
			j.Guard("token-loop", "resumption token %q returned twice", p.Token)
			stop = fmt.Errorf("ListRecords: the server returned resumption token %q a second time (a loop); the next run lists again from %q", p.Token, cp.From)
		case len(p.Records) == 0:
			empty++
			if empty >= r.maxEmpty {
				j.Guard("empty-pages", "%d pages in a row without records", empty)
				stop = fmt.Errorf("ListRecords: %d pages in a row without records; the next run lists again from %q", empty, cp.From)
			}
		default:
			empty = 0
		}
		if stop != nil {
			// Keep the page, but not the token: resuming a broken chain
			// would only meet the same fault.
			next = oaiCheckpoint{Prefix: cp.Prefix, Set: cp.Set, From: cp.From}
		}
		seen[p.Token] = true
		b.Checkpoint = next.bytes()
		if _, err := j.Commit(b); err != nil {
			return err
		}
		j.Page(int64(len(resp.Body)), len(p.Records))
		if stop != nil || next.Token == "" {
			return stop
		}
		cp = next
		tokenReq = true
		q = url.Values{"verb": {"ListRecords"}, "resumptionToken": {p.Token}}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
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
	tokens := map[string]bool{}
	restarted := false
	empty := 0
	for {
		p, resp, err := r.request(ctx, q)
		if err != nil {
			return fmt.Errorf("ListIdentifiers: %w", err)
		}
		if len(p.Errors) > 0 {
			e := p.Errors[0]
			switch {
			case e.Code == "badResumptionToken" && q.Has("resumptionToken") && !restarted:
				j.Guard("bad-resumption-token", "ListIdentifiers token rejected (%s): listing again", e)
				restarted = true
				alive, tokens = map[string]bool{}, map[string]bool{}
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
		j.Page(int64(len(resp.Body)), 0)
		for _, h := range p.Records {
			if h.ID != "" && !h.Deleted {
				alive[h.ID] = true
			}
		}
		switch {
		case p.Token == "":
			return j.commitWithDeletions(ctx, store.Batch{}, alive)
		case tokens[p.Token]:
			j.Guard("token-loop", "ListIdentifiers resumption token %q returned twice", p.Token)
			return fmt.Errorf("ListIdentifiers: resumption token %q returned a second time (a loop); no deletions applied", p.Token)
		case len(p.Records) == 0:
			if empty++; empty >= r.maxEmpty {
				j.Guard("empty-pages", "ListIdentifiers: %d pages in a row without headers", empty)
				return fmt.Errorf("ListIdentifiers: %d pages in a row without headers; no deletions applied", empty)
			}
		default:
			empty = 0
		}
		tokens[p.Token] = true
		q = url.Values{"verb": {"ListIdentifiers"}, "resumptionToken": {p.Token}}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

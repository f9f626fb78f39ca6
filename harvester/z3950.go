package harvester

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
	"github.com/unicat/unicat/z3950"
)

// Z3950Driver returns the driver for sources of kind z3950: a search for
// every record of the target's database, then Present page by page, each
// page committed with the position of the next. New registers it.
//
// Records come as USMARC and are decoded as the source's charset says
// (default: leader/09, so MARC-8 targets are converted to UTF-8 NFC).
// A Z39.50 result set does not outlive its connection: a run resumed
// after an interruption, or after a lost connection, searches again and
// goes on from the saved position.
func Z3950Driver() Driver { return z3950Driver{} }

type z3950Driver struct{}

// Z3950AllRecords is the query that lists a whole database on Zebra (and
// so on Koha) and on unicat: every record, whatever the term.
const Z3950AllRecords = `@attr 1=_ALLRECORDS @attr 2=103 ""`

// z3950PageSize is the number of records asked for per Present when the
// source does not say (config sets page_size, default 50).
const z3950PageSize = 50

type z3950Checkpoint struct {
	Query string `json:"query"`
	Next  int    `json:"next,omitempty"` // the next position of a run under way
}

func (c z3950Checkpoint) bytes() []byte {
	b, _ := json.Marshal(c)
	return b
}

// z3950Session is a connection with the source's result set.
type z3950Session struct {
	j     *Job
	query string
	cl    *z3950.Client
	total int
}

const z3950Set = "harvest"

// open connects and searches, retrying failures that may pass.
func (s *z3950Session) open(ctx context.Context) error {
	src := s.j.Source
	for attempt := 0; ; attempt++ {
		err := func() error {
			rctx, cancel := context.WithTimeout(ctx, src.Timeout)
			defer cancel()
			cl, err := z3950.Dial(rctx, src.URL, z3950.ClientOptions{Timeout: src.Timeout})
			if err != nil {
				return err
			}
			n, err := cl.Search(rctx, s.query, z3950Set)
			if err != nil {
				cl.Close()
				return err
			}
			s.cl, s.total = cl, n
			return nil
		}()
		if err == nil {
			return nil
		}
		var d *z3950.Diagnostic
		if errors.As(err, &d) || attempt >= src.MaxRetries || ctx.Err() != nil {
			return fmt.Errorf("z3950 %s: %w", src.URL, err)
		}
		s.j.Log.Info("z3950 connection failed, retrying", "attempt", attempt+1, "err", err)
		if err := s.j.wait(ctx, backoff(src.RetryWait, attempt)); err != nil {
			return err
		}
	}
}

func (s *z3950Session) close() {
	if s.cl != nil {
		s.cl.Close()
		s.cl = nil
	}
}

func (z3950Driver) Harvest(ctx context.Context, j *Job) error {
	src := j.Source
	query := src.Query
	if query == "" {
		query = Z3950AllRecords
	}
	cp, err := z3950SavedCheckpoint(j, query)
	if err != nil {
		return err
	}
	r := &z3950Run{j: j, cp: cp, size: src.PageSize, opts: marc.ReaderOptions{Charset: marc.Charset(src.Charset), MaxRecordBytes: src.MaxRecordBytes}}
	if r.size <= 0 {
		r.size = z3950PageSize
	}
	if cp.Next > 1 {
		j.Note("resuming at record %d", cp.Next)
	} else {
		r.cp.Next = 1
		// A whole run sees every record: the ones it did not see are gone.
		r.seen = map[string]bool{}
	}
	r.s = &z3950Session{j: j, query: query}
	defer r.s.close()
	if err := r.s.open(ctx); err != nil {
		return err
	}
	last, err := r.pages(ctx)
	if err != nil {
		return err
	}
	return z3950Finish(ctx, j, query, last, r.seen)
}

// z3950SavedCheckpoint is the checkpoint to go on from: the saved one,
// or a new one for query when there is none, it is not understood or the
// query changed since.
func z3950SavedCheckpoint(j *Job, query string) (z3950Checkpoint, error) {
	cp := z3950Checkpoint{Query: query}
	raw, err := j.Checkpoint()
	if err != nil || raw == nil {
		return cp, err
	}
	var saved z3950Checkpoint
	switch err := json.Unmarshal(raw, &saved); {
	case err != nil:
		j.Note("checkpoint %q not understood (%v): harvesting everything", raw, err)
	case saved.Query != query:
		j.Note("query changed (was %q): harvesting everything", saved.Query)
	default:
		cp = saved
	}
	return cp, nil
}

// z3950Run is one harvest of a Z39.50 source, page by page.
type z3950Run struct {
	j        *Job
	s        *z3950Session
	cp       z3950Checkpoint
	seen     map[string]bool // the records of a whole run, for the deletions
	size     int             // records asked for a Present
	opts     marc.ReaderOptions
	received int64
	failures int // Presents failed in a row
}

// pages presents and commits the pages from r.cp.Next to the end of the
// result set, all but the last, which it returns uncommitted.
func (r *z3950Run) pages(ctx context.Context) (store.Batch, error) {
	j, cp := r.j, &r.cp
	for cp.Next <= r.s.total {
		recs, next, again, err := r.present(ctx)
		if err != nil {
			return store.Batch{}, err
		}
		if again {
			continue
		}
		if len(recs) == 0 {
			return store.Batch{}, r.noRecords()
		}
		b, size := r.batch(recs)
		r.received += int64(len(recs))
		j.SetProgress(r.received, int64(r.s.total))
		if next <= cp.Next {
			next = cp.Next + len(recs)
		}
		cp.Next = next
		j.Page(size, len(recs))
		if cp.Next > r.s.total {
			return b, nil
		}
		b.Checkpoint = cp.bytes()
		if _, err := j.Commit(b); err != nil {
			return store.Batch{}, err
		}
		if err := ctx.Err(); err != nil {
			return store.Batch{}, err
		}
	}
	return store.Batch{}, nil
}

// present asks for the page at r.cp.Next. again means there is no page
// and the loop is to look again: the result set turned out to end
// sooner, or the connection went and the search was made again.
func (r *z3950Run) present(ctx context.Context) (recs []z3950.Record, next int, again bool, err error) {
	j, s, src := r.j, r.s, r.j.Source
	rctx, cancel := context.WithTimeout(ctx, src.Timeout)
	recs, next, err = s.cl.Present(rctx, z3950Set, r.cp.Next, min(r.size, s.total-r.cp.Next+1), z3950.OIDUSMARC, "F")
	cancel()
	var d *z3950.Diagnostic
	switch {
	case errors.As(err, &d) && d.Condition == z3950.DiagPresentOutOfRange:
		// The target's set is shorter than it said (or than the
		// one a resumed run searched): the run ends here.
		j.Note("Z39.50 diagnostic %d at position %d of %d: the result set ends", d.Condition, r.cp.Next, s.total)
		s.total = r.cp.Next - 1
		return nil, 0, true, nil
	case err != nil && d == nil && ctx.Err() == nil && r.failures < src.MaxRetries:
		// The connection went: search again and go on.
		j.Log.Info("z3950 present failed, reconnecting", "position", r.cp.Next, "err", err)
		s.close()
		if err := j.wait(ctx, backoff(src.RetryWait, r.failures)); err != nil {
			return nil, 0, false, err
		}
		r.failures++
		return nil, 0, true, s.open(ctx)
	case err != nil:
		return nil, 0, false, fmt.Errorf("z3950 %s: present at %d: %w", src.URL, r.cp.Next, err)
	}
	r.failures = 0
	return recs, next, false, nil
}

// noRecords stops the run at a page of no records, to start over next
// time rather than resume into the same fault.
func (r *z3950Run) noRecords() error {
	r.j.Guard("empty-pages", "no records at position %d of %d", r.cp.Next, r.s.total)
	b := store.Batch{Checkpoint: z3950Checkpoint{Query: r.cp.Query}.bytes()}
	if _, err := r.j.Commit(b); err != nil {
		return err
	}
	return fmt.Errorf("z3950 %s: present at %d of %d returned no records", r.j.Source.URL, r.cp.Next, r.s.total)
}

// batch decodes a page's records into a batch, rejecting those that
// cannot be stored; size is the page's bytes.
func (r *z3950Run) batch(recs []z3950.Record) (b store.Batch, size int64) {
	j := r.j
	for _, rec := range recs {
		size += int64(len(rec.Data))
		label := fmt.Sprintf("record %d", rec.Position)
		if rec.Diagnostic != nil {
			j.Reject(label, "diagnostic", rec.Diagnostic.Error())
			continue
		}
		m, err := rec.MARCWith(r.opts)
		if err != nil {
			j.Reject(label, rejectReason(err), err.Error())
			continue
		}
		id := ingest.LocalID(m)
		if id == "" {
			j.Reject(label, "no-id", "no control number (001) or system number (035 $a) to identify it")
			continue
		}
		if err := store.CheckLocalID(j.Source.ID, id); err != nil {
			j.Reject(label, "bad-id", err.Error())
			continue
		}
		if r.seen != nil {
			r.seen[id] = true
		}
		b.Records = append(b.Records, store.Incoming{LocalID: id, Record: m})
	}
	return b, size
}

// z3950Finish commits the last page with the checkpoint of a finished run
// and, after a whole run, the deletion of the records it did not see.
func z3950Finish(ctx context.Context, j *Job, query string, b store.Batch, seen map[string]bool) error {
	b.Checkpoint = z3950Checkpoint{Query: query}.bytes()
	if seen != nil {
		return j.commitWithDeletions(ctx, b, seen)
	}
	j.Note("harvest resumed after an interruption: records that disappeared are found by the next whole harvest")
	_, err := j.Commit(b)
	return err
}

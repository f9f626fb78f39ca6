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
	cp := z3950Checkpoint{Query: query}
	if raw, err := j.Checkpoint(); err != nil {
		return err
	} else if raw != nil {
		var saved z3950Checkpoint
		switch err := json.Unmarshal(raw, &saved); {
		case err != nil:
			j.Note("checkpoint %q not understood (%v): harvesting everything", raw, err)
		case saved.Query != query:
			j.Note("query changed (was %q): harvesting everything", saved.Query)
		default:
			cp = saved
		}
	}
	resumed := cp.Next > 1
	if resumed {
		j.Note("resuming at record %d", cp.Next)
	} else {
		cp.Next = 1
	}
	// A whole run sees every record: the ones it did not see are gone.
	var seen map[string]bool
	if !resumed {
		seen = map[string]bool{}
	}
	cs := marc.Charset(src.Charset)
	s := &z3950Session{j: j, query: query}
	defer s.close()
	if err := s.open(ctx); err != nil {
		return err
	}
	page := src.PageSize
	if page <= 0 {
		page = z3950PageSize
	}
	var received int64
	var last store.Batch // the last page, committed with the run's end
	failures := 0
	for cp.Next <= s.total {
		rctx, cancel := context.WithTimeout(ctx, src.Timeout)
		recs, next, err := s.cl.Present(rctx, z3950Set, cp.Next, min(page, s.total-cp.Next+1), z3950.OIDUSMARC, "F")
		cancel()
		var d *z3950.Diagnostic
		switch {
		case errors.As(err, &d) && d.Condition == z3950.DiagPresentOutOfRange:
			// The target's set is shorter than it said (or than the
			// one a resumed run searched): the run ends here.
			j.Note("Z39.50 diagnostic %d at position %d of %d: the result set ends", d.Condition, cp.Next, s.total)
			s.total = cp.Next - 1
			continue
		case err != nil && d == nil && ctx.Err() == nil && failures < src.MaxRetries:
			// The connection went: search again and go on.
			j.Log.Info("z3950 present failed, reconnecting", "position", cp.Next, "err", err)
			s.close()
			if err := j.wait(ctx, backoff(src.RetryWait, failures)); err != nil {
				return err
			}
			failures++
			if err := s.open(ctx); err != nil {
				return err
			}
			continue
		case err != nil:
			return fmt.Errorf("z3950 %s: present at %d: %w", src.URL, cp.Next, err)
		}
		failures = 0
		if len(recs) == 0 {
			j.Guard("empty-pages", "no records at position %d of %d", cp.Next, s.total)
			b := store.Batch{Checkpoint: z3950Checkpoint{Query: query}.bytes()}
			if _, err := j.Commit(b); err != nil {
				return err
			}
			return fmt.Errorf("z3950 %s: present at %d of %d returned no records", src.URL, cp.Next, s.total)
		}
		b := store.Batch{}
		var size int64
		for _, r := range recs {
			size += int64(len(r.Data))
			label := fmt.Sprintf("record %d", r.Position)
			if r.Diagnostic != nil {
				j.Reject(label, "diagnostic", r.Diagnostic.Error())
				continue
			}
			m, err := r.MARCWith(marc.ReaderOptions{Charset: cs, MaxRecordBytes: src.MaxRecordBytes})
			if err != nil {
				j.Reject(label, rejectReason(err), err.Error())
				continue
			}
			id := ingest.LocalID(m)
			if id == "" {
				j.Reject(label, "no-id", "no control number (001) or system number (035 $a) to identify it")
				continue
			}
			if err := store.CheckLocalID(src.ID, id); err != nil {
				j.Reject(label, "bad-id", err.Error())
				continue
			}
			if seen != nil {
				seen[id] = true
			}
			b.Records = append(b.Records, store.Incoming{LocalID: id, Record: m})
		}
		received += int64(len(recs))
		j.SetProgress(received, int64(s.total))
		if next <= cp.Next {
			next = cp.Next + len(recs)
		}
		cp.Next = next
		j.Page(size, len(recs))
		if cp.Next > s.total {
			last = b
			break
		}
		b.Checkpoint = cp.bytes()
		if _, err := j.Commit(b); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return z3950Finish(ctx, j, query, last, seen)
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

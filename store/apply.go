package store

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/internal/parallel"
	"github.com/unicat/unicat/marc"
)

// Batch is a unit of work from one source, committed atomically by Apply.
type Batch struct {
	Source    string
	Records   []Incoming
	Deletions []Deletion
	// Checkpoint replaces the source's checkpoint in the same transaction;
	// nil leaves it unchanged.
	Checkpoint []byte
	// Now is the time recorded as FirstSeen/LastSeen; zero means time.Now.
	Now time.Time
}

// Incoming is a record delivered by a source. Record must hold UTF-8 NFC
// text, as the marc readers produce.
type Incoming struct {
	LocalID   string
	Record    *marc.Record
	Datestamp time.Time // the source's datestamp; zero if none
}

// Deletion is a source's statement that a record is gone.
type Deletion struct {
	LocalID   string
	Datestamp time.Time
}

// Outcome is what applying one local id did to the store.
type Outcome uint8

const (
	Added     Outcome = iota + 1 // new id
	Updated                      // content changed, or a tombstone resurrected
	Unchanged                    // identical record, or deletion of a tombstone
	Deleted                      // record turned into a tombstone (or a tombstone written for an unknown id)
)

func (o Outcome) String() string {
	switch o {
	case Added:
		return "added"
	case Updated:
		return "updated"
	case Unchanged:
		return "unchanged"
	case Deleted:
		return "deleted"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Change is one record a batch added, updated or deleted, as handed to the
// hooks. Old is nil when the id was not stored before.
type Change struct {
	Key     []byte // RecordKey(Source, LocalID)
	Source  string
	LocalID string
	Outcome Outcome // never Unchanged
	Old     *SourceRecord
	New     *SourceRecord
	// Prepared is what the hook being called returned from Prepare for
	// New before the transaction; nil when it is no Preparer, for
	// deletions, and for a record that looked unchanged when the batch
	// was prepared.
	Prepared any
}

// Result counts the outcomes of a batch; each distinct local id counts once.
type Result struct {
	Added, Updated, Unchanged, Deleted int
	// Duplicates counts the records of the batch that a later record of
	// the same local id replaced (the last one is applied).
	Duplicates int
	Changes    int // changes handed to the hooks: Added+Updated+Deleted
	// Rejected are the records and deletions of the batch that could
	// not be stored (see CheckLocalID); the rest of the batch was.
	Rejected []Rejected
}

// count counts a change of outcome out.
func (r *Result) count(out Outcome) {
	switch out {
	case Added:
		r.Added++
	case Updated:
		r.Updated++
	case Deleted:
		r.Deleted++
	}
}

// Rejected is a record or deletion a batch held that the store cannot
// keep, and why.
type Rejected struct {
	LocalID string
	Err     error
}

type op struct {
	key       []byte
	localID   string
	del       bool
	datestamp time.Time
	rec       *marc.Record
	raw       []byte
	format    marc.Format
	hash      [32]byte
	received  SourceRecord // Received, Encoding, Label, Override only
	origin    []byte       // appendOrigin of received; nil for a record stored as received
	prepared  []any        // the Preparers' results, by hook
}

// Prepared is a batch checked, encoded and worked on by the Preparer hook,
// ready for Commit.
type Prepared struct {
	source     string
	checkpoint []byte
	now        time.Time
	ops        []op
	dups       int // records replaced by a later one of the batch
	rejected   []Rejected
}

// Apply commits b in one write transaction: the records and deletions, the
// source's counters, its checkpoint and the hooks' derived data, or, if
// anything fails, none of them. It is Prepare and Commit in one.
//
// A local id appearing more than once in a batch counts once, with its
// last occurrence winning and each earlier record counted as a duplicate;
// Deletions are taken to come after Records. A record or deletion the
// store cannot keep (a local id CheckLocalID refuses, a datestamp outside
// years 1-9999, a record that cannot be encoded) is left out and listed
// in Result.Rejected; it does not cost the rest of the batch.
// A deletion of an id never stored writes a tombstone (outcome Deleted) so
// the deletion is recorded; deleting a tombstone is Unchanged; a record for
// a tombstoned id resurrects it (Updated). An identical record (same
// SHA-256) is Unchanged and is not rewritten, even if its datestamp
// differs. Hooks run only when the batch changed something.
func (s *Store) Apply(b Batch) (Result, error) {
	p, err := s.Prepare(b)
	if err != nil {
		return Result{}, err
	}
	return s.Commit(p)
}

// Prepare does the part of applying b that needs no write transaction:
// it checks the batch, encodes its records (on several cores) and lets a
// Preparer hook work on the records that differ from what is stored. It
// takes no lock, so an importer can prepare the next batch while the
// last one commits.
func (s *Store) Prepare(b Batch) (*Prepared, error) {
	return s.prepare(b, parallel.Max())
}

// prepare is Prepare on up to workers goroutines.
func (s *Store) prepare(b Batch, workers int) (*Prepared, error) {
	if err := checkSourceID(b.Source); err != nil {
		return nil, err
	}
	now := b.Now
	if now.IsZero() {
		now = time.Now()
	}
	ops, dups, rejected := collapse(&b)
	p := &Prepared{source: b.Source, checkpoint: b.Checkpoint, now: now.UTC(), dups: dups, rejected: rejected}
	errs := make([]error, len(ops))
	workers = min(workers, parallel.Workers(len(ops), 64))
	// Background: a commit running meanwhile (a pipeline's, another
	// source's) is what everybody waits for, and its parallel steps go
	// first (see package parallel).
	parallel.Background(len(ops), workers, func(_, i int) error { errs[i] = ops[i].encode(); return nil })
	kept := ops[:0]
	for i, err := range errs {
		if err != nil {
			p.rejected = append(p.rejected, Rejected{LocalID: ops[i].localID,
				Err: fmt.Errorf("store: source %q record %q: %w", b.Source, ops[i].localID, err)})
			continue
		}
		kept = append(kept, ops[i])
	}
	ops = kept
	p.ops = ops
	var preparers []int // indexes of the hooks that prepare
	for i, h := range s.hooks {
		if _, ok := h.(Preparer); ok {
			preparers = append(preparers, i)
		}
	}
	if len(preparers) == 0 {
		return p, nil
	}
	// The Preparer's work is wasted on a record identical to the stored
	// one: a re-import of an unchanged catalogue skips it. Commit checks
	// again, so a record stored meanwhile is only prepared in vain.
	unchanged := make([]bool, len(ops))
	if err := s.db.View(func(tx *bbolt.Tx) error {
		recs := tx.Bucket(bucketRecords)
		for i := range ops {
			unchanged[i] = !ops[i].del && sameLiveRecord(recs.Get(ops[i].key), &ops[i].hash, ops[i].origin)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("store: prepare batch of %q: %w", b.Source, err)
	}
	parallel.Background(len(ops), workers, func(_, i int) error {
		o := &ops[i]
		if o.del || unchanged[i] {
			return nil
		}
		sr := &SourceRecord{Source: b.Source, LocalID: o.localID, Format: o.format, Raw: o.raw, Hash: o.hash}
		o.prepared = make([]any, len(s.hooks))
		for _, h := range preparers {
			o.prepared[h] = s.hooks[h].(Preparer).Prepare(sr)
		}
		return nil
	})
	return p, nil
}

// Commit writes a prepared batch in one write transaction (see Apply).
// Batches are applied in the order they are committed: a source's
// batches must be committed in the order they were read.
func (s *Store) Commit(p *Prepared) (Result, error) {
	var res Result
	err := s.write("apply batch of "+strconv.Quote(p.source), func(tx *bbolt.Tx) error {
		res = Result{Duplicates: p.dups, Rejected: p.rejected}
		if err := checkRegistered(tx, p.source); err != nil {
			return err
		}
		changes, from, err := applyOps(tx, p.source, p.ops, p.now, &res)
		if err != nil {
			return err
		}
		if p.checkpoint != nil {
			if err := tx.Bucket(bucketCheckpoints).Put([]byte(p.source), p.checkpoint); err != nil {
				return fmt.Errorf("store: checkpoint of %q: %w", p.source, err)
			}
		}
		if len(changes) == 0 {
			return nil
		}
		for hi, h := range s.hooks {
			hc := changes
			if _, ok := h.(Preparer); ok {
				// Its own copy, holding its own results.
				hc = slices.Clone(changes)
				for i := range hc {
					if pv := p.ops[from[i]].prepared; pv != nil {
						hc[i].Prepared = pv[hi]
					}
				}
			}
			if err := h.ApplyChanges(tx, hc); err != nil {
				return fmt.Errorf("store: hook %T on a batch of %q: %w", h, p.source, err)
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// collapse validates the batch and returns one op per distinct local id,
// in key order (bbolt inserts sequential keys fastest), how many records
// a later record of the same id replaced, and the records and deletions
// that cannot be stored.
func collapse(b *Batch) ([]op, int, []Rejected) {
	ops := make([]op, 0, len(b.Records)+len(b.Deletions))
	index := make(map[string]int, cap(ops))
	dups := 0
	var rejected []Rejected
	add := func(o op) error {
		if err := CheckLocalID(b.Source, o.localID); err != nil {
			return fmt.Errorf("store: source %q: %w", b.Source, err)
		}
		if err := checkTime(o.datestamp); err != nil {
			return fmt.Errorf("store: source %q record %q: datestamp: %w", b.Source, o.localID, err)
		}
		o.key = RecordKey(b.Source, o.localID)
		if i, dup := index[o.localID]; dup {
			if !o.del && !ops[i].del {
				dups++ // a record replaced by a later one
			}
			ops[i] = o
			return nil
		}
		index[o.localID] = len(ops)
		ops = append(ops, o)
		return nil
	}
	for _, in := range b.Records {
		err := fmt.Errorf("store: source %q record %q: nil record", b.Source, in.LocalID)
		if in.Record != nil {
			err = add(op{localID: in.LocalID, datestamp: in.Datestamp, rec: in.Record})
		}
		if err != nil {
			rejected = append(rejected, Rejected{LocalID: in.LocalID, Err: err})
		}
	}
	for _, d := range b.Deletions {
		if err := add(op{localID: d.LocalID, datestamp: d.Datestamp, del: true}); err != nil {
			rejected = append(rejected, Rejected{LocalID: d.LocalID, Err: err})
		}
	}
	slices.SortFunc(ops, func(a, b op) int { return strings.Compare(a.localID, b.localID) })
	return ops, dups, rejected
}

// MaxLocalIDLen bounds a local id: a record key (source id, 0x00, local
// id) must fit bbolt's largest key, and no catalogue numbers its records
// with anything near this long.
const MaxLocalIDLen = 4096

// CheckLocalID says why the store cannot keep a record of source under
// localID, or nil if it can: the id must not be empty, hold 0x00 (which
// ends the source id in a record key) or be longer than MaxLocalIDLen.
// Readers and drivers call it before a record goes into a batch, to
// reject that record with its position; Prepare leaves out what it
// refuses.
func CheckLocalID(source, localID string) error {
	switch {
	case localID == "":
		return errors.New("empty local id")
	case strings.IndexByte(localID, 0) >= 0:
		return fmt.Errorf("local id %.60q contains 0x00", localID)
	case len(localID) > MaxLocalIDLen || len(source)+1+len(localID) > bbolt.MaxKeySize:
		return fmt.Errorf("local id %.40q... is %d bytes long, more than the %d allowed", localID, len(localID), MaxLocalIDLen)
	}
	return nil
}

// encode sets raw, format and hash: ISO 2709 when the record fits (99,999
// bytes, 9,999 per field), else MARCXML.
func (o *op) encode() error {
	if o.del {
		return nil
	}
	raw, err := marc.AppendISO2709(nil, o.rec)
	switch {
	case err == nil:
		o.raw, o.format = raw, marc.FormatISO2709
	case errors.Is(err, marc.ErrTooLong):
		// MARCXML has no length limit but drops what its schema cannot
		// hold; store the record only if nothing was lost.
		xml, warns := marc.AppendMARCXML(nil, o.rec, true)
		if len(warns) > 0 {
			return fmt.Errorf("%w, and MARCXML would alter it: %v", err, warns[0])
		}
		o.raw, o.format = xml, marc.FormatMARCXML
	default:
		return err
	}
	o.hash = sha256.Sum256(o.raw)
	if og := o.rec.Origin; og != nil {
		o.received = SourceRecord{Received: og.Received, ReceivedFormat: og.ReceivedFormat,
			Encoding: og.Encoding(), Label: og.Label, Override: og.Override}
		if og.Received == nil {
			o.received.ReceivedFormat = ""
		}
		if o.origin, err = appendOrigin(nil, &o.received); err != nil {
			return err
		}
	}
	o.rec = nil
	return nil
}

// setOrigin copies what the op's record was received as into r.
func (o *op) setOrigin(r *SourceRecord) {
	r.Received, r.ReceivedFormat, r.Encoding, r.Label, r.Override =
		o.received.Received, o.received.ReceivedFormat, o.received.Encoding, o.received.Label, o.received.Override
}

// applyOps writes ops and returns the changes they made, each with the
// index of its op.
func applyOps(tx *bbolt.Tx, source string, ops []op, now time.Time, res *Result) ([]Change, []int, error) {
	recs := tx.Bucket(bucketRecords)
	// Batches are written in key order and imports mostly append, so
	// pages split full rather than at bbolt's default of half. A record
	// is about a fifth of a page: at 90 % a page took four and was 79 %
	// used, at 100 % it takes five (92 % used, 100k bench store); the
	// median 1,000-record batch into that store took as long either way
	// (526 and 543 ms).
	recs.FillPercent = 1
	statsB := tx.Bucket(bucketStats)
	st, err := readStats(statsB, source)
	if err != nil {
		return nil, nil, err
	}
	before := st
	enc := encodingDelta{}
	changes := make([]Change, 0, len(ops))
	from := make([]int, 0, len(ops))
	for i := range ops {
		o := &ops[i]
		v := recs.Get(o.key)
		if !o.del && sameLiveRecord(v, &o.hash, o.origin) {
			res.Unchanged++ // the common case of a re-import: skip decoding
			continue
		}
		var old *SourceRecord
		if v != nil {
			if old, err = decodeSourceRecord(v); err != nil {
				return nil, nil, fmt.Errorf("store: stored record %q of source %q: %w", o.localID, source, err)
			}
			old.Source, old.LocalID = source, o.localID
		}
		out, nr := o.outcome(old, now, &st)
		if out == Unchanged {
			res.Unchanged++
			continue
		}
		enc.count(old, -1)
		enc.count(nr, +1)
		nr.Source, nr.LocalID, nr.LastSeen = source, o.localID, now
		// bbolt keeps a reference to the value until commit, so each
		// record gets its own buffer.
		v, err := encodeSourceRecord(make([]byte, 0, 64+len(nr.Raw)), nr)
		if err != nil {
			return nil, nil, fmt.Errorf("store: encode record %q of source %q: %w", o.localID, source, err)
		}
		if err := recs.Put(o.key, v); err != nil {
			return nil, nil, fmt.Errorf("store: put record %q of source %q: %w", o.localID, source, err)
		}
		res.count(out)
		changes = append(changes, Change{Key: o.key, Source: source, LocalID: o.localID, Outcome: out, Old: old, New: nr})
		from = append(from, i)
	}
	res.Changes = len(changes)
	if st != before {
		if err := writeStats(statsB, source, st); err != nil {
			return nil, nil, err
		}
	}
	if err := enc.write(tx.Bucket(bucketEncodings), source); err != nil {
		return nil, nil, err
	}
	return changes, from, nil
}

// outcome is what the op does to old, the record stored under its key
// (nil if none), and the record it stores instead, with the source's
// counts moved to match (nil when Unchanged).
func (o *op) outcome(old *SourceRecord, now time.Time, st *SourceStats) (Outcome, *SourceRecord) {
	var out Outcome
	var nr *SourceRecord
	switch {
	case o.del && old == nil:
		out = Deleted
		nr = &SourceRecord{Datestamp: o.datestamp, FirstSeen: now, Deleted: true}
		st.Deleted++
	case o.del && old.Deleted:
		return Unchanged, nil
	case o.del:
		out = Deleted
		c := *old
		nr = &c
		nr.Deleted, nr.Datestamp = true, o.datestamp
		st.Live--
		st.Deleted++
	case old == nil:
		out = Added
		nr = &SourceRecord{FirstSeen: now}
		st.Live++
	case old.Deleted:
		out = Updated
		nr = &SourceRecord{FirstSeen: old.FirstSeen}
		st.Deleted--
		st.Live++
	case old.Hash == o.hash && sameOrigin(old, o):
		return Unchanged, nil
	default:
		out = Updated
		nr = &SourceRecord{FirstSeen: old.FirstSeen}
	}
	if !o.del {
		nr.Format, nr.Raw, nr.Hash, nr.Datestamp = o.format, o.raw, o.hash, o.datestamp
		o.setOrigin(nr)
	}
	return out, nr
}

// sameOrigin reports whether a stored record was received as the op's.
func sameOrigin(old *SourceRecord, o *op) bool {
	return old.Encoding == o.received.Encoding && old.Label == o.received.Label &&
		old.Override == o.received.Override && old.ReceivedFormat == o.received.ReceivedFormat &&
		bytes.Equal(old.Received, o.received.Received)
}

package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Run is the outcome of one harvest or import of a source.
type Run struct {
	Start, End                                          time.Time
	Added, Updated, Unchanged, Deleted, Rejected, Pages int
	// Duplicates counts the records that repeated a local id the run
	// had read before (store.Result.Duplicates).
	Duplicates int
	Bytes      int64
	Err        string // "" when the run succeeded
	// Notes lists what an operator should know about a run that is not
	// an error: guards that tripped, repaired or rejected records.
	Notes string
}

// MaxRuns is how many runs are kept per source; older ones are dropped.
const MaxRuns = 100

// Unfinished reports whether the run never ended: its process was
// killed (or is still running it), after committing what the source's
// counters show.
func (r Run) Unfinished() bool { return r.End.IsZero() }

// PutRun appends r to the run history of source, dropping the oldest runs
// beyond MaxRuns.
func (s *Store) PutRun(source string, r Run) error {
	_, err := s.putRun(source, 0, r)
	return err
}

// BeginRun records in the history of source that a run started at start,
// before the run commits anything, and returns its key for EndRun: a run
// whose process is killed stays in the history unfinished
// (Run.Unfinished), so that status can say so.
func (s *Store) BeginRun(source string, start time.Time) (uint64, error) {
	return s.putRun(source, 0, Run{Start: start})
}

// EndRun replaces run seq of source, begun with BeginRun, with r (the
// run ended); appended when it is no longer kept.
func (s *Store) EndRun(source string, seq uint64, r Run) error {
	_, err := s.putRun(source, seq, r)
	return err
}

// putRun writes r under key seq of the run history of source, under the
// next key when seq is 0, and drops the oldest runs beyond MaxRuns.
func (s *Store) putRun(source string, seq uint64, r Run) (uint64, error) {
	v, err := encodeRun(nil, &r)
	if err != nil {
		return 0, fmt.Errorf("store: run of source %q: %w", source, err)
	}
	err = s.write("put run", func(tx *bbolt.Tx) error {
		if err := checkRegistered(tx, source); err != nil {
			return err
		}
		b, err := tx.Bucket(bucketRuns).CreateBucketIfNotExists([]byte(source))
		if err != nil {
			return fmt.Errorf("store: runs of source %q: %w", source, err)
		}
		var k [8]byte
		binary.BigEndian.PutUint64(k[:], seq)
		if seq == 0 || b.Get(k[:]) == nil {
			if seq, err = b.NextSequence(); err != nil {
				return fmt.Errorf("store: runs of source %q: %w", source, err)
			}
			binary.BigEndian.PutUint64(k[:], seq)
		}
		if err := b.Put(k[:], v); err != nil {
			return fmt.Errorf("store: put run of source %q: %w", source, err)
		}
		// Collect first: deleting under a bbolt cursor can make Next skip.
		var keys [][]byte
		b.ForEach(func(k, _ []byte) error { keys = append(keys, append([]byte(nil), k...)); return nil })
		for len(keys) > MaxRuns {
			if err := b.Delete(keys[0]); err != nil {
				return fmt.Errorf("store: drop old run of source %q: %w", source, err)
			}
			keys = keys[1:]
		}
		return nil
	})
	return seq, err
}

// Runs returns up to limit of the latest runs of source, newest first
// (all kept runs when limit <= 0).
func (s *Store) Runs(source string, limit int) ([]Run, error) {
	var out []Run
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Runs(source, limit)
		return err
	})
	return out, err
}

// Runs returns up to limit of the latest runs of source, newest first
// (all kept runs when limit <= 0).
func (t *Tx) Runs(source string, limit int) ([]Run, error) {
	b := t.tx.Bucket(bucketRuns).Bucket([]byte(source))
	if b == nil {
		return nil, nil
	}
	var out []Run
	c := b.Cursor()
	for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
		r, err := decodeRun(v)
		if err != nil {
			return nil, fmt.Errorf("store: run %x of source %q: %w", k, source, err)
		}
		out = append(out, r)
	}
	return out, nil
}

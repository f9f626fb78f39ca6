package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version this package reads and writes.
const SchemaVersion = 2

var (
	bucketMeta        = []byte("meta")
	bucketSources     = []byte("sources")
	bucketRecords     = []byte("records")
	bucketCheckpoints = []byte("checkpoints")
	bucketStats       = []byte("stats")
	bucketRuns        = []byte("runs")

	keySchema = []byte("schema")
)

// ErrNotFound is returned by lookups of a record or source that is not
// stored.
var ErrNotFound = errors.New("not found")

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process.
	// Zero means 5 seconds; a negative value waits forever.
	Timeout time.Duration
	// NoSync skips fsync on commit. A crash may then lose or corrupt
	// committed batches: for benchmarks and throwaway files only.
	NoSync bool
	// MmapSize is the initial size of the memory map. A writer that grows
	// the file past the map must wait for all readers, so it is mapped
	// generously up front (virtual memory only). Zero means 1 GiB.
	MmapSize int
}

// Store is an open record store. Its methods are safe for concurrent use,
// except AddHook, which must be called before the Store is shared.
type Store struct {
	db    *bbolt.DB
	path  string
	hooks []Hook
}

// Open opens the store at path, creating the file and its parent directory
// if needed.
func Open(path string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	timeout := opts.Timeout
	switch {
	case timeout == 0:
		timeout = 5 * time.Second
	case timeout < 0:
		timeout = 0 // bbolt: wait forever
	}
	mmap := opts.MmapSize
	if mmap == 0 {
		mmap = 1 << 30
	}
	bopts := &bbolt.Options{
		Timeout:         timeout,
		NoSync:          opts.NoSync,
		InitialMmapSize: mmap,
		// The freelist is written at every commit; the array kind keeps
		// it sorted, where the map kind sorts it each time (a large file
		// has hundreds of thousands of free pages): a 16k-record import
		// into a 1M-record store took 13.4 s instead of 15.5 s.
		FreelistType: bbolt.FreelistArrayType,
	}
	var db *bbolt.DB
	for attempt := 1; ; attempt++ {
		before, _ := os.Stat(path)
		var err error
		db, err = bbolt.Open(path, 0o644, bopts)
		if errors.Is(err, bberrors.ErrTimeout) {
			return nil, fmt.Errorf("store: open %s: database is locked by another process (waited %v)", path, timeout)
		}
		if err != nil {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
		// The file may have been replaced while we waited for its lock
		// (unicat compact renames its copy into place): then what we
		// hold is the old file, unlinked, and whatever we wrote to it
		// would be lost. Open the new one.
		after, err := os.Stat(path)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("store: open %s: the file went away while it was being opened: %w", path, err)
		}
		if before == nil || os.SameFile(before, after) {
			break
		}
		db.Close()
		if attempt == 3 {
			return nil, fmt.Errorf("store: open %s: the file was replaced while it was being opened, three times", path)
		}
	}
	s := &Store{db: db, path: path}
	if err := db.Update(s.initBuckets); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) initBuckets(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketSources, bucketLibraries, bucketRecords, bucketCheckpoints, bucketStats, bucketRuns, bucketEncodings} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("store: %s: create bucket %s: %w", s.path, name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	v := meta.Get(keySchema)
	if v == nil {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], SchemaVersion)
		if err := meta.Put(keySchema, b[:]); err != nil {
			return fmt.Errorf("store: %s: write schema version: %w", s.path, err)
		}
		return nil
	}
	if len(v) != 4 {
		return fmt.Errorf("store: %s: schema version is %d bytes long, want 4", s.path, len(v))
	}
	got := binary.BigEndian.Uint32(v)
	if got != SchemaVersion {
		return fmt.Errorf("store: %s has schema version %d, this unicat understands %d", s.path, got, SchemaVersion)
	}
	return nil
}

// Close closes the file. It waits for open transactions to finish.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file name the store was opened with.
func (s *Store) Path() string { return s.path }

// Size returns the size of the database in bytes.
func (s *Store) Size() (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error { n = tx.Size(); return nil })
	if err != nil {
		return 0, fmt.Errorf("store: size of %s: %w", s.path, err)
	}
	return n, nil
}

// Backup writes a consistent copy of the whole database to w while the
// store stays in use, and returns the number of bytes written.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup %s: %w", s.path, err)
	}
	return n, nil
}

// Hook derives data from the records a batch changed, inside the batch's
// write transaction. It may create and write its own buckets in tx. An
// error rolls the whole batch back.
type Hook interface {
	ApplyChanges(tx *bbolt.Tx, changes []Change) error
}

// A Preparer is a Hook with work to do on each changed record that needs
// no transaction (decoding it, computing what the hook derives from it).
// Store.Prepare calls Prepare for each record of a batch that differs
// from the stored one, from several goroutines at once and while other
// batches may be committing; Commit hands the result to ApplyChanges in
// Change.Prepared. rec is the record as it will be stored (Source,
// LocalID, Format, Raw and Hash set). Prepare must not use the store.
type Preparer interface {
	Hook
	Prepare(rec *SourceRecord) any
}

// HookInit is implemented by hooks that need to prepare their buckets (or
// rebuild derived data) before the first batch.
type HookInit interface {
	Init(tx *bbolt.Tx) error
}

// AddHook registers h to run on every Apply, after the hooks registered
// before it. If h implements HookInit, its Init runs now in its own write
// transaction. AddHook must not be called concurrently with other methods.
func (s *Store) AddHook(h Hook) error {
	if hi, ok := h.(HookInit); ok {
		if err := s.write("init hook", hi.Init); err != nil {
			return fmt.Errorf("store: init hook %T: %w", h, err)
		}
	}
	s.hooks = append(s.hooks, h)
	return nil
}

// PutSource registers or updates a source. Batches are only accepted for
// registered sources.
func (s *Store) PutSource(info SourceInfo) error {
	if err := checkSourceID(info.ID); err != nil {
		return err
	}
	v := encodeSourceInfo(nil, &info)
	// Every command registers every configured source: a registration that
	// is already stored costs a read, not a commit.
	var same bool
	if err := s.db.View(func(tx *bbolt.Tx) error {
		same = bytes.Equal(tx.Bucket(bucketSources).Get([]byte(info.ID)), v)
		return nil
	}); err != nil {
		return fmt.Errorf("store: put source %q: %w", info.ID, err)
	}
	if same {
		return nil
	}
	return s.write("put source", func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketSources).Put([]byte(info.ID), v); err != nil {
			return fmt.Errorf("store: put source %q: %w", info.ID, err)
		}
		return nil
	})
}

// SetCheckpoint replaces the checkpoint of a source in its own
// transaction; nil removes it. Harvesters use it to start over; normal
// progress is recorded through Batch.Checkpoint.
func (s *Store) SetCheckpoint(source string, cp []byte) error {
	return s.write("set checkpoint", func(tx *bbolt.Tx) error {
		if err := checkRegistered(tx, source); err != nil {
			return err
		}
		b := tx.Bucket(bucketCheckpoints)
		var err error
		if cp == nil {
			err = b.Delete([]byte(source))
		} else {
			err = b.Put([]byte(source), cp)
		}
		if err != nil {
			return fmt.Errorf("store: set checkpoint of %q: %w", source, err)
		}
		return nil
	})
}

// Checkpoint returns a copy of the checkpoint of source, nil if none.
func (s *Store) Checkpoint(source string) ([]byte, error) {
	var cp []byte
	err := s.View(func(tx *Tx) error { cp = tx.Checkpoint(source); return nil })
	return cp, err
}

// Stats returns the counters of every registered source.
func (s *Store) Stats() (map[string]SourceStats, error) {
	out := make(map[string]SourceStats)
	err := s.View(func(tx *Tx) error {
		return tx.tx.Bucket(bucketSources).ForEach(func(k, _ []byte) error {
			st, err := tx.Stats(string(k))
			out[string(k)] = st
			return err
		})
	})
	return out, err
}

// View runs fn in a read-only transaction that sees a consistent snapshot
// of the store. Values obtained from tx remain valid after fn returns.
func (s *Store) View(fn func(tx *Tx) error) error {
	var fnErr error
	err := s.db.View(func(btx *bbolt.Tx) error { fnErr = fn(&Tx{tx: btx}); return fnErr })
	if err != nil && err != fnErr {
		return fmt.Errorf("store: read %s: %w", s.path, err)
	}
	return err
}

// write runs fn in a write transaction. Errors of fn, which name what
// failed, are returned as they are; bbolt's own (a failed commit, a closed
// store) are wrapped with what was being written.
func (s *Store) write(what string, fn func(tx *bbolt.Tx) error) error {
	var fnErr error
	err := s.db.Update(func(tx *bbolt.Tx) error { fnErr = fn(tx); return fnErr })
	if err != nil && err != fnErr {
		return fmt.Errorf("store: %s in %s: %w", what, s.path, err)
	}
	return err
}

// Tx gives read access to the store inside a transaction.
type Tx struct {
	tx *bbolt.Tx
}

// WrapTx gives the store's read accessors over a bbolt transaction of the
// store's file, such as the one a Hook receives.
func WrapTx(tx *bbolt.Tx) *Tx { return &Tx{tx: tx} }

// Bolt returns the underlying bbolt transaction, for packages reading
// their own buckets. Store-owned buckets must not be written through it.
func (t *Tx) Bolt() *bbolt.Tx { return t.tx }

// Record returns the stored record (or tombstone) of localID from source,
// or ErrNotFound.
func (t *Tx) Record(source, localID string) (*SourceRecord, error) {
	return t.record(source, localID, true)
}

// RecordView is Record without a copy of the record's bytes, for readers
// that only look: Raw is the transaction's memory, valid while it is
// open, and must not be modified.
func (t *Tx) RecordView(source, localID string) (*SourceRecord, error) {
	return t.record(source, localID, false)
}

func (t *Tx) record(source, localID string, copyRaw bool) (*SourceRecord, error) {
	key := RecordKey(source, localID)
	v := t.tx.Bucket(bucketRecords).Get(key)
	if v == nil {
		return nil, fmt.Errorf("store: record %q of source %q: %w", localID, source, ErrNotFound)
	}
	r, err := decodeSourceRecordRaw(v, copyRaw)
	if err != nil {
		return nil, fmt.Errorf("store: record %q of source %q: %w", localID, source, err)
	}
	r.Source, r.LocalID = source, localID
	return r, nil
}

// ForEachRecord calls fn for every record and tombstone of source (all
// sources when source is ""), in key order, stopping at the first error,
// which it returns unchanged.
func (t *Tx) ForEachRecord(source string, fn func(*SourceRecord) error) error {
	return t.ForEachRecordFrom(source, "", fn)
}

// ForEachRecordFrom is ForEachRecord starting at the first local id >= from
// (ignored when source is ""), for resuming a listing.
func (t *Tx) ForEachRecordFrom(source, from string, fn func(*SourceRecord) error) error {
	c := t.tx.Bucket(bucketRecords).Cursor()
	if source == "" {
		k, v := c.First()
		return walkRecords(c, k, v, nil, fn)
	}
	k, v := c.Seek(RecordKey(source, from))
	return walkRecords(c, k, v, append([]byte(source), 0), fn)
}

// ForEachRecordAfter calls fn for every record whose key (RecordKey) sorts
// after after (nil: every record), in key order, until fn returns an
// error, which it returns. It lets a walk of every record go on in a new
// transaction where the last one stopped.
func (t *Tx) ForEachRecordAfter(after []byte, fn func(*SourceRecord) error) error {
	c := t.tx.Bucket(bucketRecords).Cursor()
	k, v := c.First()
	if after != nil {
		if k, v = c.Seek(after); k != nil && string(k) == string(after) {
			k, v = c.Next()
		}
	}
	return walkRecords(c, k, v, nil, fn)
}

// walkRecords calls fn for the record at k, v and those c finds after it,
// while their keys start with prefix (nil: to the end).
func walkRecords(c *bbolt.Cursor, k, v, prefix []byte, fn func(*SourceRecord) error) error {
	for ; k != nil; k, v = c.Next() {
		if prefix != nil && !hasPrefix(k, prefix) {
			return nil
		}
		r, err := decodeRecordKV(k, v)
		if err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}

func decodeRecordKV(k, v []byte) (*SourceRecord, error) {
	source, localID, err := SplitKey(k)
	if err != nil {
		return nil, err
	}
	r, err := decodeSourceRecord(v)
	if err != nil {
		return nil, fmt.Errorf("store: record %q of source %q: %w", localID, source, err)
	}
	r.Source, r.LocalID = source, localID
	return r, nil
}

// Checkpoint returns a copy of the checkpoint of source, nil if none.
func (t *Tx) Checkpoint(source string) []byte {
	v := t.tx.Bucket(bucketCheckpoints).Get([]byte(source))
	if v == nil {
		return nil
	}
	return append([]byte{}, v...)
}

// Source returns the registration of source id, or ErrNotFound.
func (t *Tx) Source(id string) (SourceInfo, error) {
	v := t.tx.Bucket(bucketSources).Get([]byte(id))
	if v == nil {
		return SourceInfo{}, fmt.Errorf("store: source %q: %w", id, ErrNotFound)
	}
	info, err := decodeSourceInfo(v)
	if err != nil {
		return SourceInfo{}, fmt.Errorf("store: source %q: %w", id, err)
	}
	info.ID = id
	return info, nil
}

// Sources returns every registered source in id order.
func (t *Tx) Sources() ([]SourceInfo, error) {
	var out []SourceInfo
	err := t.tx.Bucket(bucketSources).ForEach(func(k, v []byte) error {
		info, err := decodeSourceInfo(v)
		if err != nil {
			return fmt.Errorf("store: source %q: %w", k, err)
		}
		info.ID = string(k)
		out = append(out, info)
		return nil
	})
	return out, err
}

// SourceStats counts the records of one source.
type SourceStats struct {
	Live    int // records not deleted
	Deleted int // tombstones
}

// Stats returns the counters of source; zero for a source without records.
func (t *Tx) Stats(source string) (SourceStats, error) {
	return readStats(t.tx.Bucket(bucketStats), source)
}

// LiveRecords returns the live records of every source together.
func (t *Tx) LiveRecords() (int, error) {
	total := 0
	err := t.tx.Bucket(bucketStats).ForEach(func(k, _ []byte) error {
		st, err := t.Stats(string(k))
		total += st.Live
		return err
	})
	return total, err
}

func readStats(b *bbolt.Bucket, source string) (SourceStats, error) {
	v := b.Get([]byte(source))
	if v == nil {
		return SourceStats{}, nil
	}
	if len(v) != 16 {
		return SourceStats{}, fmt.Errorf("store: stats of source %q: %d bytes, want 16", source, len(v))
	}
	return SourceStats{
		Live:    int(binary.BigEndian.Uint64(v[:8])),
		Deleted: int(binary.BigEndian.Uint64(v[8:])),
	}, nil
}

func writeStats(b *bbolt.Bucket, source string, st SourceStats) error {
	if st.Live < 0 || st.Deleted < 0 {
		return fmt.Errorf("store: stats of source %q would become negative (%+v)", source, st)
	}
	var v [16]byte
	binary.BigEndian.PutUint64(v[:8], uint64(st.Live))
	binary.BigEndian.PutUint64(v[8:], uint64(st.Deleted))
	if err := b.Put([]byte(source), v[:]); err != nil {
		return fmt.Errorf("store: stats of source %q: %w", source, err)
	}
	return nil
}

// RecordKey returns the records-bucket key of localID from source.
func RecordKey(source, localID string) []byte {
	k := make([]byte, 0, len(source)+1+len(localID))
	k = append(k, source...)
	k = append(k, 0)
	return append(k, localID...)
}

// SplitKey splits a records-bucket key into source id and local id.
func SplitKey(key []byte) (source, localID string, err error) {
	for i, c := range key {
		if c == 0 {
			return string(key[:i]), string(key[i+1:]), nil
		}
	}
	return "", "", fmt.Errorf("store: record key %q has no 0x00 separator", key)
}

func checkSourceID(id string) error {
	if id == "" {
		return errors.New("store: empty source id")
	}
	for i := 0; i < len(id); i++ {
		if id[i] == 0 {
			return fmt.Errorf("store: source id %q contains 0x00", id)
		}
	}
	return nil
}

func checkRegistered(tx *bbolt.Tx, source string) error {
	if err := checkSourceID(source); err != nil {
		return err
	}
	if tx.Bucket(bucketSources).Get([]byte(source)) == nil {
		return fmt.Errorf("store: source %q is not registered", source)
	}
	return nil
}

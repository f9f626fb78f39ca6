package oaiindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/internal/extsort"
)

// Building the index from the union records: a whole rebuild, and the
// catch-up of changes made while the index was not listening, which for
// an empty index is a first build written in key order.

// rebuild makes the index again from the union records, under a new
// epoch.
func (ix *Index) rebuild(tx *bbolt.Tx) error {
	epoch := readEpoch(tx.Bucket(bucketMeta)) + 1
	for _, name := range [][]byte{bucketMeta, bucketEntries, bucketMoved, bucketItems, bucketSets, bucketStaging} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bberrors.ErrBucketNotFound) {
			return fmt.Errorf("oaiindex: rebuild: delete bucket %s: %w", name, err)
		}
	}
	w, err := openWriter(tx)
	if err != nil {
		return err
	}
	if err := w.meta.Put(keyEpoch, binary.BigEndian.AppendUint64(nil, epoch)); err != nil {
		return fmt.Errorf("oaiindex: rebuild: %w", err)
	}
	return ix.catchUp(w, tx, 0)
}

// catchUp applies every union record changed after the index's last seen
// change.
func (ix *Index) catchUp(w *writer, tx *bbolt.Tx, minDS int64) error {
	if k, _ := w.items.Cursor().First(); k == nil {
		// A first build: every item is new and stays where it is put, and
		// nothing reads the entries or items back before the end.
		fresh := newFreshPuts(tx)
		w.fresh = fresh
		defer func() {
			fresh.close()
			w.fresh = nil // the writer goes on without the queues
		}()
	}
	last, err := w.applySince(tx, minDS)
	if err != nil {
		return err
	}
	if w.fresh != nil {
		qs, err := w.fresh.queues()
		if err != nil {
			return err
		}
		for _, q := range qs {
			if _, err := putSorted(tx.Bucket(q.name), q.it, -1); err != nil {
				return err
			}
		}
	}
	if err := w.flushStats(); err != nil {
		return err
	}
	return w.meta.Put(keyLast, binary.BigEndian.AppendUint64(nil, uint64(last)))
}

// applySince applies every union record of tx changed after the last
// change the index has seen, and returns the latest datestamp (Unix ns).
func (w *writer) applySince(tx *bbolt.Tx, minDS int64) (int64, error) {
	last := lastSeen(w.meta)
	from := time.Time{}
	if last > 0 {
		from = time.Unix(0, last+1)
	}
	err := dedup.ForEachHeaderSince(tx, from, "", func(u *dedup.UnionRecord) error {
		if err := w.apply(u, minDS); err != nil {
			return err
		}
		last = max(last, u.Datestamp.UnixNano())
		return nil
	})
	return last, err
}

// freshBudget is the memory each queue of a first build holds before it
// writes a sorted run to a file beside the store: at 1M union records the
// entries alone are about 300 MB. (A variable for the tests, which make
// it small.)
var freshBudget = 32 << 20

// freshPuts are a first build's puts, queued and sorted.
type freshPuts struct{ entries, items *extsort.Sorter }

func newFreshPuts(tx *bbolt.Tx) *freshPuts {
	dir := filepath.Dir(tx.DB().Path())
	return &freshPuts{entries: extsort.New(dir, freshBudget), items: extsort.New(dir, freshBudget)}
}

func (f *freshPuts) close() {
	f.entries.Close()
	f.items.Close()
}

// freshQueue is the queue of one bucket, read in key order.
type freshQueue struct {
	name []byte
	it   *extsort.Iter
}

// queues returns the queues of the entries and of the items.
func (f *freshPuts) queues() ([]freshQueue, error) {
	qs := []freshQueue{{name: bucketEntries}, {name: bucketItems}}
	for i, s := range []*extsort.Sorter{f.entries, f.items} {
		it, err := s.Iter()
		if err != nil {
			return nil, fmt.Errorf("oaiindex: first build: %w", err)
		}
		qs[i].it = it
	}
	return qs, nil
}

// putSorted writes the next pairs of it, at most limit (-1: all), into b,
// which holds none of their keys and none after them, packing the pages
// full. It reports whether it wrote the last.
func putSorted(b *bbolt.Bucket, it *extsort.Iter, limit int) (done bool, err error) {
	b.FillPercent = 1
	done, err = extsort.PutInto(b, it, limit)
	if err != nil {
		return false, fmt.Errorf("oaiindex: first build: %w", err)
	}
	return done, nil
}

// openWriter opens the index of tx, a write transaction, to change it:
// its buckets, made if missing, and its version, written if missing.
func openWriter(tx *bbolt.Tx) (*writer, error) {
	w := &writer{stats: map[string]*setStat{}}
	for _, b := range []struct {
		name []byte
		dst  **bbolt.Bucket
	}{
		{bucketMeta, &w.meta}, {bucketEntries, &w.entries}, {bucketMoved, &w.moved},
		{bucketItems, &w.items}, {bucketSets, &w.sets},
	} {
		bk, err := tx.CreateBucketIfNotExists(b.name)
		if err != nil {
			return nil, fmt.Errorf("oaiindex: create bucket %s: %w", b.name, err)
		}
		*b.dst = bk
	}
	v := w.meta.Get(keyVersion)
	if v == nil {
		if err := w.meta.Put(keyVersion, []byte{indexVersion}); err != nil {
			return nil, fmt.Errorf("oaiindex: write index version: %w", err)
		}
		return w, nil
	}
	return w, checkVersion(v)
}

// openReader opens the index of tx, which may be a read transaction, for
// a first build's reading (ReadFirstBuild): its buckets as they are, nil
// where missing. The writer it returns only queues puts (fresh).
func openReader(tx *bbolt.Tx) (*writer, error) {
	w := &writer{stats: map[string]*setStat{}, meta: tx.Bucket(bucketMeta), items: tx.Bucket(bucketItems),
		sets: tx.Bucket(bucketSets)}
	if w.meta != nil {
		if v := w.meta.Get(keyVersion); v != nil {
			if err := checkVersion(v); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

func checkVersion(v []byte) error {
	if len(v) != 1 || v[0] != indexVersion {
		return fmt.Errorf("oaiindex: index version %x, this unicat understands %d", v, indexVersion)
	}
	return nil
}

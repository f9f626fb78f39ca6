package oaiindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/unicat/unicat/dedup"
)

// Building the index from the union records: a whole rebuild, and the
// catch-up of changes made while the index was not listening, which for
// an empty index is a first build written in key order.

// rebuild makes the index again from the union records, under a new
// epoch.
func (ix *Index) rebuild(tx *bbolt.Tx) error {
	epoch := readEpoch(tx.Bucket(bucketMeta)) + 1
	for _, name := range [][]byte{bucketMeta, bucketEntries, bucketMoved, bucketItems, bucketSets} {
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
		w.fresh = &freshPuts{}
	}
	last := lastSeen(w.meta)
	from := time.Time{}
	if last > 0 {
		from = time.Unix(0, last+1)
	}
	err := dedup.ForEachSince(tx, from, "", func(u *dedup.UnionRecord) error {
		if err := w.apply(u, minDS); err != nil {
			return err
		}
		last = max(last, u.Datestamp.UnixNano())
		return nil
	})
	if err != nil {
		return err
	}
	if w.fresh != nil {
		if err := w.flushFresh(); err != nil {
			return err
		}
	}
	if err := w.flushStats(); err != nil {
		return err
	}
	return w.meta.Put(keyLast, binary.BigEndian.AppendUint64(nil, uint64(last)))
}

// freshPuts are a rebuild's puts, queued.
type freshPuts struct{ entries, items []keyValue }

type keyValue struct{ k, v []byte }

// queue appends a copy of k and v to puts.
func queue(puts *[]keyValue, k, v []byte) {
	*puts = append(*puts, keyValue{bytes.Clone(k), v})
}

// flushFresh writes the queued puts in key order, packing the pages full.
func (w *writer) flushFresh() error {
	for _, q := range []struct {
		b    *bbolt.Bucket
		puts []keyValue
	}{{w.entries, w.fresh.entries}, {w.items, w.fresh.items}} {
		slices.SortFunc(q.puts, func(a, b keyValue) int { return bytes.Compare(a.k, b.k) })
		q.b.FillPercent = 1
		for _, p := range q.puts {
			if err := q.b.Put(p.k, p.v); err != nil {
				return fmt.Errorf("oaiindex: rebuild: %w", err)
			}
		}
	}
	w.fresh = nil
	return nil
}

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
	switch v := w.meta.Get(keyVersion); {
	case v == nil:
		if err := w.meta.Put(keyVersion, []byte{indexVersion}); err != nil {
			return nil, fmt.Errorf("oaiindex: write index version: %w", err)
		}
	case len(v) != 1 || v[0] != indexVersion:
		return nil, fmt.Errorf("oaiindex: index version %x, this unicat understands %d", v, indexVersion)
	}
	return w, nil
}

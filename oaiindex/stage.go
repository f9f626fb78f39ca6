package oaiindex

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/unicat/unicat/internal/extsort"
	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"
)

// A first build of a large catalog, staged. Sync builds an empty index in
// the caller's one transaction, which holds every page it writes until
// the commit (about 500 MB at 1M union records, with the queue of puts
// beside it). A bulk load instead stages the build: ReadFirstBuild reads
// the entries and items, in any transaction; Stage writes them in key
// order under bucketStaging, stageChunk puts a transaction; and one last
// transaction moves them into place (Commit), so that readers go from
// the empty index to the whole one at once.

// Updater runs write transactions; *store.Store is one.
type Updater interface {
	Update(fn func(tx *bbolt.Tx) error) error
}

// bucketStaging holds a staged first build's entries and items, under
// their own names, until Commit moves them to the top level.
var bucketStaging = []byte("oaipmh.staging")

// stageChunk is how many puts one transaction of a staged build writes
// (a variable for the tests, which make it small).
var stageChunk = extsort.AppendsPerTx

// Staged is a first build of the index written beside the empty index,
// from the union records as they were when it was read. Commit puts it
// in place.
type Staged struct {
	ix    *Index
	stats map[string]*setStat
	last  int64 // the latest union datestamp applied (Unix ns)
}

// FirstBuild is a first build of an empty index read from the union
// records and not yet written: its entries and items queued in key
// order, in memory and in files beside the store, which live until
// Close.
type FirstBuild struct {
	ix    *Index
	fresh *freshPuts
	stats map[string]*setStat
	last  int64 // the latest union datestamp applied (Unix ns)
}

// ReadFirstBuild reads the first build of the index of tx from its
// union records, or returns nil when the index is not empty (Sync then
// brings it up to date, which keeps its history). It writes nothing, so
// tx may be a read transaction: a bulk load reads the build on one core
// while its search index's last writes take the other. The caller
// closes the FirstBuild.
func (ix *Index) ReadFirstBuild(tx *bbolt.Tx) (*FirstBuild, error) {
	w, err := openReader(tx)
	if err != nil {
		return nil, err
	}
	if w.items != nil {
		if k, _ := w.items.Cursor().First(); k != nil {
			return nil, nil
		}
	}
	fb := &FirstBuild{ix: ix, fresh: newFreshPuts(tx)}
	w.fresh = fb.fresh
	if fb.last, err = w.applySince(tx, 0); err != nil {
		fb.Close()
		return nil, err
	}
	fb.stats = w.stats
	return fb, nil
}

// Close removes the files of b's queues. A nil FirstBuild may be closed.
func (b *FirstBuild) Close() {
	if b != nil {
		b.fresh.close()
	}
}

// Stage writes the first build b under the staging bucket, in write
// transactions of db of stageChunk puts, and returns it to be
// committed; progress, when set, hears after each transaction how many
// of the build's entries and items are written. A staging bucket left by
// a build cut short is dropped first. Its queues are read once: b is
// staged at most once.
func (b *FirstBuild) Stage(db Updater, progress func(done, total int)) (*Staged, error) {
	if err := db.Update(createStaging); err != nil {
		return nil, err
	}
	qs, err := b.fresh.queues()
	if err != nil {
		return nil, err
	}
	total, written := b.fresh.entries.Len()+b.fresh.items.Len(), 0 // written: by the queues before q
	for _, q := range qs {
		update := extsort.Counting(db.Update, q.it, func(read int) {
			if progress != nil {
				progress(written+read, total)
			}
		})
		// Nothing after the keys: pages packed full.
		err := extsort.PutAll(context.Background(), update, q.it, stageChunk, 1, func(tx *bbolt.Tx) (*bbolt.Bucket, error) {
			return stagedBucket(tx, q.name)
		})
		if err != nil {
			return nil, fmt.Errorf("oaiindex: first build: %w", err)
		}
		written += q.it.Read()
	}
	return &Staged{ix: b.ix, stats: b.stats, last: b.last}, nil
}

// createStaging makes an empty staging bucket holding an entries and an
// items bucket, dropping one left before.
func createStaging(tx *bbolt.Tx) error {
	if err := dropStaging(tx); err != nil {
		return err
	}
	sb, err := tx.CreateBucket(bucketStaging)
	if err != nil {
		return fmt.Errorf("oaiindex: stage a build: %w", err)
	}
	for _, name := range [][]byte{bucketEntries, bucketItems} {
		if _, err := sb.CreateBucket(name); err != nil {
			return fmt.Errorf("oaiindex: stage a build: %w", err)
		}
	}
	return nil
}

// dropStaging deletes the staging bucket, if there is one.
func dropStaging(tx *bbolt.Tx) error {
	if err := tx.DeleteBucket(bucketStaging); err != nil && !errors.Is(err, bberrors.ErrBucketNotFound) {
		return fmt.Errorf("oaiindex: drop the staged build: %w", err)
	}
	return nil
}

func stagedBucket(tx *bbolt.Tx, name []byte) (*bbolt.Bucket, error) {
	if sb := tx.Bucket(bucketStaging); sb != nil {
		if b := sb.Bucket(name); b != nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("oaiindex: the staged build's bucket %s is gone", name)
}

// Commit puts the staged build in place in tx and then brings the index
// up to date as Sync does. If the index was written since the build was
// staged (a batch committed in between), the staged build is dropped and
// Sync builds the index in tx instead.
func (s *Staged) Commit(tx *bbolt.Tx) error {
	w, err := openWriter(tx)
	if err != nil {
		return err
	}
	ek, _ := w.entries.Cursor().First()
	ik, _ := w.items.Cursor().First()
	if ek != nil || ik != nil || tx.Bucket(bucketStaging) == nil {
		if err := dropStaging(tx); err != nil {
			return err
		}
		return s.ix.Sync(tx)
	}
	staging := tx.Bucket(bucketStaging)
	for _, name := range [][]byte{bucketEntries, bucketItems} {
		if err := tx.DeleteBucket(name); err != nil {
			return fmt.Errorf("oaiindex: commit the staged build: %w", err)
		}
		if err := tx.MoveBucket(name, staging, nil); err != nil {
			return fmt.Errorf("oaiindex: commit the staged build: move %s: %w", name, err)
		}
	}
	if err := tx.DeleteBucket(bucketStaging); err != nil {
		return fmt.Errorf("oaiindex: commit the staged build: %w", err)
	}
	if w, err = openWriter(tx); err != nil {
		return err
	}
	w.stats = s.stats
	if err := w.flushStats(); err != nil {
		return err
	}
	if err := w.meta.Put(keyLast, binary.BigEndian.AppendUint64(nil, uint64(s.last))); err != nil {
		return fmt.Errorf("oaiindex: %w", err)
	}
	return s.ix.Sync(tx)
}

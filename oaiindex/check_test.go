package oaiindex

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
)

// checkFixture is a bbolt file with an index of n items, counted right.
func checkFixture(t *testing.T, n int) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "oai.db"), 0o644, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.Update(func(tx *bbolt.Tx) error {
		w, err := openWriter(tx)
		if err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			if err := addItem(w, i); err != nil {
				return err
			}
		}
		return w.flushStats()
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// addItem adds the item of union id number i at the end of the items and
// counts it, as a batch bringing a new union record does.
func addItem(w *writer, i int) error {
	id := fmt.Sprintf("u%08d", i)
	if err := w.items.Put([]byte(id), encodeItem(nil, &Item{Datestamp: int64(i)})); err != nil {
		return err
	}
	s, err := w.stat(AllRecords)
	s.count++
	return err
}

func check(t *testing.T, db *bbolt.DB, between func(chunk int)) bool {
	t.Helper()
	chunk := 0
	ok, err := Check(context.Background(), func(fn func(*bbolt.Tx) error) error {
		if between != nil {
			between(chunk)
		}
		chunk++
		return db.View(fn)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestCheck: Check counts every item over several read transactions,
// those a batch adds meanwhile included, and tells a lost one.
func TestCheck(t *testing.T) {
	n := 2*checkChunk + 5
	db := checkFixture(t, n)
	if !check(t, db, nil) {
		t.Error("a sound index: not ok")
	}
	// New union records between the transactions of the check.
	if !check(t, db, func(chunk int) {
		if chunk == 0 {
			return
		}
		err := db.Update(func(tx *bbolt.Tx) error {
			w, err := openWriter(tx)
			if err != nil {
				return err
			}
			n++
			if err := addItem(w, n); err != nil {
				return err
			}
			return w.flushStats()
		})
		if err != nil {
			t.Fatal(err)
		}
	}) {
		t.Error("items added during the check: not ok")
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketItems).Delete([]byte(fmt.Sprintf("u%08d", 10)))
	}); err != nil {
		t.Fatal(err)
	}
	if check(t, db, nil) {
		t.Error("an index that lost an item: ok")
	}
	// A rebuild during the check (a new epoch) starts the count afresh:
	// the item it brings back is among those counted already.
	if !check(t, db, func(chunk int) {
		if chunk != 1 {
			return
		}
		err := db.Update(func(tx *bbolt.Tx) error {
			if err := tx.Bucket(bucketItems).Put([]byte(fmt.Sprintf("u%08d", 10)), encodeItem(nil, &Item{})); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put(keyEpoch, binary.BigEndian.AppendUint64(nil, 1))
		})
		if err != nil {
			t.Fatal(err)
		}
	}) {
		t.Error("an index rebuilt during the check: not ok")
	}
}

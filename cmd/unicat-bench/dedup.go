package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/store"
)

// dedupQuality compares the union records' membership (the dedup
// package's member → union id bucket) with the truth, pairwise.
func dedupQuality(dbPath, truthPath string) (corpus.PairScore, error) {
	var c corpus.PairScore
	db, err := bbolt.Open(dbPath, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		return c, fmt.Errorf("dedup quality: open %s: %w", dbPath, err)
	}
	defer db.Close()
	tf, err := os.Open(truthPath)
	if err != nil {
		return c, err
	}
	defer tf.Close()
	var pc corpus.PairCounter
	missing := 0
	err = db.View(func(tx *bbolt.Tx) error {
		members := tx.Bucket([]byte("dedup.members"))
		if members == nil {
			return errors.New("dedup quality: no dedup.members bucket in the store")
		}
		return corpus.ReadTruth(tf, func(r corpus.TruthRow) error {
			u := members.Get(store.RecordKey(r.Source, r.LocalID))
			if u == nil {
				missing++
				return nil
			}
			pc.Add(string(u), r.Work)
			return nil
		})
	})
	if err != nil {
		return c, err
	}
	if missing > 0 {
		return c, fmt.Errorf("dedup quality: %d records of the truth are in no union record", missing)
	}
	return pc.Score(), nil
}

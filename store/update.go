package store

import "go.etcd.io/bbolt"

// Update runs fn in a write transaction of its own, outside any batch, for
// packages that keep derived buckets: bringing an index up to date at
// startup, or waiting for the batch in flight to commit (bbolt has one
// writer, so Update starts only once it has). Hooks do not run. An error
// from fn rolls the transaction back and is returned unchanged. Store-owned
// buckets must not be written through tx.
func (s *Store) Update(fn func(tx *bbolt.Tx) error) error {
	return s.db.Update(fn)
}

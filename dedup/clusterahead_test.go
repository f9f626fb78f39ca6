package dedup

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// aheadDB returns a database whose profiles bucket holds n profiles, the
// one at bad (if in range) not decodable.
func aheadDB(t *testing.T, n, bad int) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ahead.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Close waits for read transactions: a decoding goroutine left
		// running would hang the test instead of failing it.
		if !returnsSoon(func() { db.Close() }) {
			t.Error("the database cannot close: a read transaction outlived the test")
		}
	})
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket(bucketProfiles)
		if err != nil {
			return err
		}
		for i := range n {
			v := (&profile{ord: uint32(i), mtype: "book", year: 1900 + i%100, title: fmt.Sprint("title ", i)}).encode(nil)
			if i == bad {
				v = []byte{0xFF}
			}
			if err := b.Put([]byte(fmt.Sprintf("src\x00%07d", i)), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestProfilesAhead: the profiles come in batches in key order, decoded
// as state.profile decodes them, and stop before one that does not
// decode (which state.profile then reads and reports).
func TestProfilesAhead(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n, bad int
		want   int // profiles handed over
	}{
		{"whole", 2*aheadBatch + 7, -1, 2*aheadBatch + 7},
		{"bad in the second batch", 2*aheadBatch + 7, aheadBatch + 3, aheadBatch + 3},
		{"empty", 0, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := startProfilesAhead(aheadDB(t, tc.n, tc.bad))
			if err != nil {
				t.Fatal(err)
			}
			defer a.close()
			got := 0
			for batch := a.next(); batch != nil; batch = a.next() {
				if len(batch) > aheadBatch {
					t.Fatalf("a batch of %d, more than %d", len(batch), aheadBatch)
				}
				for i := got; i < got+len(batch); i++ {
					p := batch[fmt.Sprintf("src\x00%07d", i)]
					if p == nil || p.ord != uint32(i) || p.title != fmt.Sprint("title ", i) || p.year != 1900+i%100 {
						t.Fatalf("profile %d: %+v", i, p)
					}
				}
				got += len(batch)
			}
			if got != tc.want {
				t.Errorf("%d profiles handed over, want %d", got, tc.want)
			}
		})
	}
}

// TestProfilesAheadClose: closing before every batch is taken ends the
// goroutine and its read transaction, so the database can close.
func TestProfilesAheadClose(t *testing.T) {
	db := aheadDB(t, (aheadDepth+3)*aheadBatch, -1)
	a, err := startProfilesAhead(db)
	if err != nil {
		t.Fatal(err)
	}
	if a.next() == nil {
		t.Fatal("no first batch")
	}
	if !returnsSoon(a.close) {
		t.Fatal("close did not end the decoding goroutine")
	}
	if n := db.Stats().OpenTxN; n != 0 {
		t.Errorf("%d read transactions open after close", n)
	}
}

// returnsSoon reports whether fn returns within five seconds (it is left
// running if not).
func returnsSoon(fn func()) bool {
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

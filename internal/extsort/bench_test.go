package extsort

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"
)

// BenchmarkPutAll appends 1M pairs shaped like the dedup members (a
// 20-byte record key, an 8-byte cluster number) into an empty bucket of
// a new file, synced as the store is, at AppendsPerTx pairs a
// transaction and at 2^18, the size used before; it reports ns/put.
func BenchmarkPutAll(b *testing.B) {
	const n = 1 << 20
	for _, perTx := range []int{AppendsPerTx, 1 << 18} {
		b.Run(fmt.Sprintf("perTx=%d", perTx), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				s := New(dir, 1<<30)
				k, v := make([]byte, 20), make([]byte, 8)
				copy(k, "lib-000\x00m")
				for i := range n {
					// Added out of key order, as the clustering queues them.
					binary.BigEndian.PutUint64(k[12:], uint64(i)*2654435761%(4*n))
					binary.BigEndian.PutUint64(v, uint64(i))
					if err := s.Add(k, v); err != nil {
						b.Fatal(err)
					}
				}
				it, err := s.Iter()
				if err != nil {
					b.Fatal(err)
				}
				db, err := bbolt.Open(filepath.Join(dir, "b.db"), 0o644, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				err = PutAll(context.Background(), db.Update, it, perTx, 1, func(tx *bbolt.Tx) (*bbolt.Bucket, error) {
					return tx.CreateBucketIfNotExists([]byte("members"))
				})
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				db.Close()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/put")
		})
	}
}

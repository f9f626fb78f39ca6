// Package catalogtest is a catalog.Reader for testing and benchmarking
// the protocol front ends without deduplication: a real search index and
// the records it indexes, stored under ids the test chooses, in a bbolt
// file of the test's own. A front end driven by it searches, scans and
// serves exactly the documents the test gave, which is what its tests
// assert on; what it holds nothing of (union records, holdings counts,
// OAI-PMH lists, the registry of sources) reads as empty.
package catalogtest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
)

// RecordsBucket holds the records, ISO 2709 in UTF-8, by id.
var RecordsBucket = []byte("test.records")

// Catalog is a catalog.Reader over DB.
type Catalog struct {
	DB *bbolt.DB
	// Record, when set, serves an id's record instead of the stored one
	// (a record ISO 2709 cannot hold, say); it gets the stored one.
	Record func(id string, stored *marc.Record) (*marc.Record, error)
	// ISO2709, when set, serves an id's undecoded record (Z39.50's
	// pass-through); it gets the stored bytes. Without it RecordISO2709
	// serves nothing, as for a record stored as MARCXML.
	ISO2709 func(id string, stored []byte) ([]byte, error)
	// Fail, when set, is the error of every View (a store that fails).
	Fail error
}

// New returns a Catalog over a new bbolt file in tb's temporary directory
// holding docs (indexed and stored under their ids).
func New(tb testing.TB, docs []search.Doc) *Catalog {
	tb.Helper()
	db, err := bbolt.Open(filepath.Join(tb.TempDir(), "catalog.db"), 0o644, &bbolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	c := &Catalog{DB: db}
	const batch = 5000
	for lo := 0; lo < len(docs); lo += batch {
		if err := c.Add(docs[lo:min(lo+batch, len(docs))]); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

// Add indexes docs and stores their records, in one transaction.
func (c *Catalog) Add(docs []search.Doc) error {
	return c.DB.Update(func(tx *bbolt.Tx) error {
		for _, d := range docs {
			raw, err := marc.AppendISO2709(nil, d.Record)
			if err != nil {
				return fmt.Errorf("catalogtest: %s: %w", d.ID, err)
			}
			if err := PutRecord(tx, d.ID, raw); err != nil {
				return err
			}
		}
		return search.New().Update(tx, docs)
	})
}

// PutRecord stores one record's ISO 2709 under id, for a test that builds
// the index otherwise (search.Index.RebuildFrom).
func PutRecord(tx *bbolt.Tx, id string, raw []byte) error {
	b, err := tx.CreateBucketIfNotExists(RecordsBucket)
	if err != nil {
		return fmt.Errorf("catalogtest: %w", err)
	}
	return b.Put([]byte(id), raw)
}

// View implements catalog.Reader.
func (c *Catalog) View(ctx context.Context, fn func(catalog.Snapshot) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.Fail != nil {
		return c.Fail
	}
	return c.DB.View(func(tx *bbolt.Tx) error { return fn(&snapshot{c: c, tx: tx}) })
}

// Settle implements catalog.Reader: Add commits before it returns.
func (c *Catalog) Settle(ctx context.Context) error { return ctx.Err() }

type snapshot struct {
	c  *Catalog
	tx *bbolt.Tx
}

var _ catalog.Snapshot = (*snapshot)(nil)

func (s *snapshot) Search(ctx context.Context, q *search.Query, offset, limit int) (*search.Hits, error) {
	return search.New().Search(ctx, s.tx, q, offset, limit)
}

func (s *snapshot) Scan(ctx context.Context, req search.ScanRequest) ([]search.ScanTerm, error) {
	return search.New().Scan(ctx, s.tx, req)
}

func (s *snapshot) IndexStatus() (search.Status, error) { return search.New().Status(s.tx) }

func (s *snapshot) stored(id string) []byte {
	if b := s.tx.Bucket(RecordsBucket); b != nil {
		return b.Get([]byte(id))
	}
	return nil
}

func (s *snapshot) Record(id string) (*marc.Record, error) {
	var rec *marc.Record
	if raw := s.stored(id); raw != nil {
		var err error
		if rec, err = marc.DecodeISO2709(raw, marc.ReaderOptions{Charset: marc.CharsetUTF8}); err != nil {
			return nil, err
		}
	}
	if s.c.Record != nil {
		return s.c.Record(id, rec)
	}
	return rec, nil
}

func (s *snapshot) RecordISO2709(id string) ([]byte, error) {
	if s.c.ISO2709 == nil {
		return nil, nil
	}
	return s.c.ISO2709(id, s.stored(id))
}

// The union records' own views: the documents are not union records.

func (s *snapshot) Union(string) (*dedup.UnionRecord, error) { return nil, nil }
func (s *snapshot) ForEachUnion(context.Context, func(*dedup.UnionRecord) error) error {
	return nil
}
func (s *snapshot) UnionCounts() (live, deleted int, err error) { return 0, 0, nil }
func (s *snapshot) LibraryCounts() (map[string]dedup.LibraryCount, error) {
	return map[string]dedup.LibraryCount{}, nil
}
func (s *snapshot) Explain(id string) (*dedup.Explanation, error) {
	return nil, fmt.Errorf("catalogtest: %s: no union records to explain", id)
}
func (s *snapshot) OAI() *oaiindex.Reader { return oaiindex.NewReader(s.tx) }

// The registry: none.

func (s *snapshot) Sources() ([]store.SourceInfo, error)    { return nil, nil }
func (s *snapshot) Libraries() ([]store.LibraryInfo, error) { return nil, nil }
func (s *snapshot) SourceStats(source string) (store.SourceStats, error) {
	return store.SourceStats{}, fmt.Errorf("catalogtest: no source %q", source)
}
func (s *snapshot) Encodings(string) ([]store.EncodingCount, error) { return nil, nil }
func (s *snapshot) Runs(string, int) ([]store.Run, error)           { return nil, nil }
func (s *snapshot) ForEachRecord(context.Context, string, func(*store.SourceRecord) error) error {
	return nil
}

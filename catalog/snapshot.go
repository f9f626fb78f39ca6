package catalog

import (
	"context"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
)

// Reader is how the front ends read the catalog: *Catalog is one. A
// front end takes a Reader and nothing else, so that it can be tested
// against any (a search index and records in a bbolt file of the test's
// own, say).
type Reader interface {
	// View calls fn with a snapshot of the catalog as the last committed
	// batch left it, valid until fn returns.
	View(ctx context.Context, fn func(Snapshot) error) error
	// Settle returns once the batch committing when it was called, if
	// any, has committed.
	Settle(ctx context.Context) error
}

var _ Reader = (*Catalog)(nil)

// Snapshot is one consistent state of the catalog: a read transaction. It
// and everything read through it are valid only inside the View call that
// gave it; a Snapshot is for one goroutine.
type Snapshot interface {
	// Search runs q and returns its total number of hits and the union ids of
	// hits offset .. offset+limit-1, in the query's order. Errors of type
	// *search.Error are the query's (the front end answers them with its
	// protocol's diagnostic); ctx's error when it is done first.
	Search(ctx context.Context, q *search.Query, offset, limit int) (*search.Hits, error)

	// Scan lists the terms of an index around a start term (SRU scan, Z39.50
	// Scan).
	Scan(ctx context.Context, req search.ScanRequest) ([]search.ScanTerm, error)

	// IndexStatus reports how many documents the search index holds and
	// whether it can be used.
	IndexStatus() (search.Status, error)

	// Union returns the union record id, deleted ones and aliases included;
	// nil, nil when there is none.
	Union(id string) (*dedup.UnionRecord, error)

	// Record returns the record a live union record serves; nil, nil when id
	// names no live union record.
	Record(id string) (*marc.Record, error)

	// RecordISO2709 returns the record a live union record serves as stored,
	// ISO 2709 in UTF-8, without decoding it; nil, nil when id serves nothing
	// or the record is not stored as ISO 2709 (it is too long for it).
	RecordISO2709(id string) ([]byte, error)

	// ForEachUnion calls fn for every union record, deleted ones included, in
	// id order, until fn's first error or ctx is done.
	ForEachUnion(ctx context.Context, fn func(*dedup.UnionRecord) error) error

	// UnionCounts returns how many union records are live and how many
	// deleted.
	UnionCounts() (live, deleted int, err error)

	// LibraryCounts returns, per holding library, its union records and those
	// it alone holds.
	LibraryCounts() (map[string]dedup.LibraryCount, error)

	// Explain says why the union record id (or source:localid) holds the
	// records it does.
	Explain(id string) (*dedup.Explanation, error)

	// OAI reads the OAI-PMH lists and sets.
	OAI() *oaiindex.Reader

	// Sources returns the registered sources, by id.
	Sources() ([]store.SourceInfo, error)

	// Libraries returns the registered libraries, by code.
	Libraries() ([]store.LibraryInfo, error)

	// SourceStats returns a source's record counts.
	SourceStats(source string) (store.SourceStats, error)

	// Encodings returns a source's live records by the encoding they were
	// received in.
	Encodings(source string) ([]store.EncodingCount, error)

	// Runs returns up to limit of a source's latest harvest or import runs,
	// newest first (all kept runs when limit <= 0).
	Runs(source string, limit int) ([]store.Run, error)

	// ForEachRecord calls fn for every record and tombstone of a source as
	// stored (every source's when source is ""), in key order, until fn's
	// first error or ctx is done.
	ForEachRecord(ctx context.Context, source string, fn func(*store.SourceRecord) error) error
}

// snapshot is the Catalog's Snapshot.
type snapshot struct {
	tx     *store.Tx
	search *search.Index
}

var _ Snapshot = (*snapshot)(nil)

func (s *snapshot) Search(ctx context.Context, q *search.Query, offset, limit int) (*search.Hits, error) {
	return s.search.Search(ctx, s.tx.Bolt(), q, offset, limit)
}

func (s *snapshot) Scan(ctx context.Context, req search.ScanRequest) ([]search.ScanTerm, error) {
	return s.search.Scan(ctx, s.tx.Bolt(), req)
}

func (s *snapshot) IndexStatus() (search.Status, error) { return s.search.Status(s.tx.Bolt()) }

func (s *snapshot) Union(id string) (*dedup.UnionRecord, error) { return dedup.Get(s.tx.Bolt(), id) }

func (s *snapshot) Record(id string) (*marc.Record, error) {
	u, err := dedup.Get(s.tx.Bolt(), id)
	if err != nil || u == nil || u.Deleted {
		return nil, err
	}
	return u.Record, nil
}

func (s *snapshot) RecordISO2709(id string) ([]byte, error) { return dedup.GetISO2709(s.tx.Bolt(), id) }

func (s *snapshot) ForEachUnion(ctx context.Context, fn func(*dedup.UnionRecord) error) error {
	return dedup.ForEachUnion(s.tx.Bolt(), func(u *dedup.UnionRecord) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(u)
	})
}

func (s *snapshot) UnionCounts() (live, deleted int, err error) { return dedup.Count(s.tx.Bolt()) }

func (s *snapshot) LibraryCounts() (map[string]dedup.LibraryCount, error) {
	return dedup.LibraryCounts(s.tx.Bolt())
}

func (s *snapshot) Explain(id string) (*dedup.Explanation, error) {
	return dedup.Explain(s.tx.Bolt(), id)
}

func (s *snapshot) OAI() *oaiindex.Reader { return oaiindex.NewReader(s.tx.Bolt()) }

func (s *snapshot) Sources() ([]store.SourceInfo, error) { return s.tx.Sources() }

func (s *snapshot) Libraries() ([]store.LibraryInfo, error) { return s.tx.Libraries() }

func (s *snapshot) SourceStats(source string) (store.SourceStats, error) { return s.tx.Stats(source) }

func (s *snapshot) Encodings(source string) ([]store.EncodingCount, error) {
	return s.tx.Encodings(source)
}

func (s *snapshot) Runs(source string, limit int) ([]store.Run, error) {
	return s.tx.Runs(source, limit)
}

func (s *snapshot) ForEachRecord(ctx context.Context, source string, fn func(*store.SourceRecord) error) error {
	return s.tx.ForEachRecord(source, func(sr *store.SourceRecord) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(sr)
	})
}

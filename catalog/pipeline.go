package catalog

import (
	"sync/atomic"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
)

// pipeline is what applying a batch does, in order. It is the store's one
// Hook.
//
// Outside the write transaction, on every core (store.Prepare):
//
//  0. the store checks the batch and encodes its records; deduplication
//     decodes and profiles each record that differs from the stored one
//     (Prepare, below).
//
// Inside the one write transaction (store.Commit):
//
//  1. the store writes the records, deletions and the source's checkpoint,
//     and hands the records that changed to ApplyChanges;
//  2. deduplication re-profiles them, re-clusters, and rebuilds and writes
//     the union records whose clusters changed, then hands those to
//     UnionChanged;
//  3. the search index updates the documents of those union records;
//  4. the OAI-PMH index moves them to their new places in the lists and
//     sets;
//  5. bbolt commits, and readers see the whole batch at once.
//
// An error anywhere rolls the whole batch back.
//
// During a bulk load (bulk.go) steps 0 and 2 to 4 are deferred: the
// batches store their records only, and the build at its end derives
// everything from them at once.
type pipeline struct {
	dedup  *dedup.Deduper
	search *search.Index
	oai    *oaiindex.Index

	deferred atomic.Bool // a bulk load is running
}

func newPipeline(d *dedup.Deduper, s *search.Index, o *oaiindex.Index) *pipeline {
	p := &pipeline{dedup: d, search: s, oai: o}
	d.AddListener(p)
	return p
}

var (
	_ store.Preparer = (*pipeline)(nil)
	_ store.HookInit = (*pipeline)(nil)
	_ dedup.Listener = (*pipeline)(nil)
)

// Init prepares deduplication's buckets, and rebuilds what its rules
// changed, before the first batch; when a bulk build is pending (Open
// runs it next), the build does that.
func (p *pipeline) Init(tx *bbolt.Tx) error {
	if p.deferred.Load() {
		return p.dedup.InitLayout(tx)
	}
	return p.dedup.Init(tx)
}

// Prepare is step 0.
func (p *pipeline) Prepare(rec *store.SourceRecord) any {
	if p.deferred.Load() {
		return nil
	}
	return p.dedup.Prepare(rec)
}

// ApplyChanges is step 2, which ends in UnionChanged.
func (p *pipeline) ApplyChanges(tx *bbolt.Tx, changes []store.Change) error {
	if p.deferred.Load() {
		return nil
	}
	return p.dedup.ApplyChanges(tx, changes)
}

// UnionChanged is steps 3 and 4.
func (p *pipeline) UnionChanged(tx *bbolt.Tx, changes []dedup.UnionRecord) error {
	if p.deferred.Load() {
		return nil
	}
	if err := p.search.UnionChanged(tx, changes); err != nil {
		return err
	}
	return p.oai.UnionChanged(tx, changes)
}

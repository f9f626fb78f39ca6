package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/store"
)

// Loading in bulk. Applied batch by batch, a large load updates B+trees
// whose keys land all over the file (postings, match keys, union values)
// once a batch, so the pages each batch rewrites grow with the catalog. A
// bulk load stores the records first, batch by batch as usual but with the
// derived data left alone, and then builds the derived data from them
// once, each part in one pass written in key order: the clusters and
// union records (dedup.Deduper.Rebuild), the search index
// (search.Index.RebuildFrom, which sorts its postings in chunks on disk)
// and the OAI-PMH index (its changes applied as a batch's, in key order
// when it is empty).
//
// Crash safety: BeginBulk writes a marker ("build pending") in the
// catalog's own bucket before the first record goes in, and the build
// deletes it in its last transaction. Until then the derived data are
// those of the catalog before the load, which never claims to be
// complete with the load's records in it: Open finds the marker and runs
// the build before serving, and Building says it is running. A kill at any
// moment leaves either the previous catalog (before the marker) or a
// marked one, whose build the next Open completes: every step of the
// build starts from the stored records, so running it again is safe.
//
// Union ids: the build keeps the id of every cluster the catalog held
// before the load (as `unicat dedup --rebuild` does) and numbers the new
// clusters in the order of their first member's record key. Applied batch
// by batch, new clusters are numbered in the order batches bring them, and
// a record that joins two clusters of earlier batches retires one of
// their ids as an alias: numbering by arrival cannot be reproduced without
// replaying the arrivals, so the ids of the clusters a bulk load creates
// differ from those the same load would get batch by batch; the clusters,
// their masters, holdings and records, and every search answer are the
// same (bulk_test.go).

var (
	bucketMeta = []byte("catalog.meta") // this package's one bucket
	keyBuild   = []byte("build")        // present while a bulk load's build is pending
)

// BuildStats says what a bulk load's build did.
type BuildStats struct {
	Dedup   dedup.RebuildStats
	Indexed int // union records in the search index
	// Took is how long each phase took: "dedup", "search", "oai".
	Took map[string]time.Duration
}

// buildState is what Building reports.
type buildState struct {
	mu      sync.Mutex
	loading bool   // between BeginBulk and the build
	opening bool   // an Open with BuildLater left builds to FinishOpen
	phase   string // the build's phase, "" when none runs
}

// BeginBulk starts a bulk load: until FinishBulk, the batches applied to
// the store store their records and nothing else. It returns
// ErrBulkRunning if one is running already.
func (c *Catalog) BeginBulk() error {
	c.build.mu.Lock()
	defer c.build.mu.Unlock()
	if c.build.loading {
		return ErrBulkRunning
	}
	if err := c.markBuild(); err != nil {
		return fmt.Errorf("catalog: begin bulk load: %w", err)
	}
	c.build.loading = true
	c.pipe.deferred.Store(true)
	return nil
}

// markBuild writes the marker of a pending build.
func (c *Catalog) markBuild() error {
	return c.st.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keyBuild, []byte(time.Now().UTC().Format(time.RFC3339)))
	})
}

// pendingBuild reports whether Open runs a bulk build: one a kill
// interrupted, or, in a catalog of at least MinBulkRecords records, the
// rebuild of every cluster that changed matching rules call for, marked
// pending here so that a kill during it is completed as well. (Left to
// Init, that rebuild ran in one transaction, which held every record's
// derived data until its commit: gigabytes at a million records.)
func (c *Catalog) pendingBuild() (bool, error) {
	var pending, rebuild bool
	err := c.st.View(func(tx *store.Tx) error {
		if pending = BuildPending(tx); pending {
			return nil
		}
		live, err := tx.LiveRecords()
		rebuild = err == nil && live >= MinBulkRecords && c.dedup.RulesChanged(tx.Bolt())
		return err
	})
	if err != nil || pending || !rebuild {
		return pending, err
	}
	slog.Warn("catalog: the matching rules changed: rebuilding the union catalog in bulk")
	return true, c.markBuild()
}

// ErrBulkRunning is BeginBulk's answer while a bulk load runs.
var ErrBulkRunning = errors.New("catalog: a bulk load is running")

// FinishBulk ends a bulk load: it builds the derived data of every stored
// record (see the top of this file) and returns to applying batches one
// by one. progress, when set, hears each phase ("dedup profile", "dedup
// link", "dedup cluster", "dedup build", "search read", "search write",
// "search sort", "oai") with the records done and in all. Nothing else
// may write to the store meanwhile; readers see the catalog as it was
// before the load until the build's first phase commits, and Building
// says the build runs. Once ctx is done the build stops soon, with ctx's
// error: the store stays marked as being built, and the next Open
// completes the build.
func (c *Catalog) FinishBulk(ctx context.Context, progress func(phase string, done, total int)) (BuildStats, error) {
	c.build.mu.Lock()
	loading := c.build.loading
	c.build.mu.Unlock()
	if !loading {
		return BuildStats{}, errors.New("catalog: FinishBulk without BeginBulk")
	}
	stats, err := c.buildDerived(ctx, progress)
	if err != nil {
		return stats, err
	}
	c.build.mu.Lock()
	c.build.loading = false
	c.build.mu.Unlock()
	c.pipe.deferred.Store(false)
	return stats, nil
}

// Building reports whether a bulk load runs or the builds of an Open are
// pending (Options.BuildLater), and the phase of the build that runs:
// "dedup", "search" or "oai"; "" while a bulk load's records are being
// stored or before FinishOpen starts.
func (c *Catalog) Building() (phase string, building bool) {
	c.build.mu.Lock()
	defer c.build.mu.Unlock()
	return c.build.phase, c.build.loading || c.build.opening || c.build.phase != ""
}

// BuildPending reports whether the store of tx holds a bulk load whose
// build has not completed (the next Open completes it).
func BuildPending(tx *store.Tx) bool {
	b := tx.Bolt().Bucket(bucketMeta)
	return b != nil && b.Get(keyBuild) != nil
}

// buildDerived is the build: deduplication, the search index, the OAI-PMH
// index, and the marker deleted with the last.
func (c *Catalog) buildDerived(ctx context.Context, progress func(phase string, done, total int)) (BuildStats, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	stats := BuildStats{Took: map[string]time.Duration{}}
	defer c.setPhase("")
	c.setPhase("dedup")
	start := time.Now()
	var err error
	stats.Dedup, err = c.dedup.Rebuild(ctx, c.st, func(phase string, done, total int) { progress("dedup "+phase, done, total) })
	if err != nil {
		return stats, fmt.Errorf("catalog: build: deduplicate: %w", err)
	}
	stats.Took["dedup"] = time.Since(start)

	c.setPhase("search")
	start = time.Now()
	// The OAI-PMH lists of an empty index are read from the union records
	// beside the search index's last writes: each is one core's work,
	// and one after the other they left the other core idle (12 s of a
	// 1M import). The union records are the build's own until it ends.
	var first *oaiindex.FirstBuild
	defer func() { first.Close() }()
	readOAI := func() error {
		return c.st.View(func(tx *store.Tx) error {
			var err error
			first, err = c.oai.ReadFirstBuild(tx.Bolt())
			return err
		})
	}
	if stats.Indexed, err = rebuildIndex(ctx, c.st, func(phase string, done, total int) {
		progress("search "+phase, done, total)
	}, readOAI); err != nil {
		return stats, fmt.Errorf("catalog: build: %w", err)
	}
	stats.Took["search"] = time.Since(start)

	if err := ctx.Err(); err != nil {
		return stats, err
	}
	c.setPhase("oai")
	start = time.Now()
	if err := c.finishOAI(first, stats.Dedup.Live+stats.Dedup.Deleted, progress); err != nil {
		return stats, fmt.Errorf("catalog: build: OAI-PMH index: %w", err)
	}
	stats.Took["oai"] = time.Since(start)
	return stats, nil
}

// finishOAI is the build's last phase: the OAI-PMH lists, and the
// marker's removal with them. Into an empty index the lists read beside
// the search index (first) are staged in transactions of their own and
// put in place; into a catalog that had records the build's changes to
// its union records are applied as a batch's are, so that the lists keep
// their history (a record that left a set stays listed there as
// deleted).
func (c *Catalog) finishOAI(first *oaiindex.FirstBuild, unions int, progress func(phase string, done, total int)) error {
	var staged *oaiindex.Staged
	if first != nil {
		var err error
		if staged, err = first.Stage(c.st, func(done, total int) { progress("oai", done, total) }); err != nil {
			return err
		}
	}
	return c.st.Update(func(tx *bbolt.Tx) error {
		if staged != nil {
			if err := staged.Commit(tx); err != nil {
				return err
			}
		} else {
			if err := c.oai.Sync(tx); err != nil {
				return err
			}
			progress("oai", unions, unions) // one step; the staging reports each transaction
		}
		if b := tx.Bucket(bucketMeta); b != nil {
			return b.Delete(keyBuild)
		}
		return nil
	})
}

func (c *Catalog) setPhase(p string) {
	c.build.mu.Lock()
	c.build.phase = p
	c.build.mu.Unlock()
}

// completePendingBuild runs the build of a bulk load a kill interrupted,
// if the store holds one, and reports whether it did.
func (c *Catalog) completePendingBuild(ctx context.Context, progress func(phase string, done, total int)) (bool, error) {
	var pending bool
	if err := c.st.View(func(tx *store.Tx) error { pending = BuildPending(tx); return nil }); err != nil || !pending {
		return false, err
	}
	slog.Warn("catalog: a build is pending (a bulk load cut short, or new matching rules): building the union catalog from the stored records now")
	c.pipe.deferred.Store(true)
	defer c.pipe.deferred.Store(false)
	_, err := c.buildDerived(ctx, progress)
	return true, err
}

// Bulk loads pay a pass over the whole catalog; applied batch by batch, a
// load pays for every record the pages of the B+trees its keys land on,
// which grow with the catalog. UseBulk is the policy between them (`unicat
// import --bulk auto`), from measurements on generated catalogues (2 cores,
// 2026-12-06, bench/RESULTS.md):
//
//   - into an empty catalog the bulk load was faster at every size tried:
//     1,000 records 0.37 s against 0.54 s batch by batch, 5,000 1.24 against
//     1.67 s, 20,000 4.2 against 6.1 s, 100,000 22.6 against 36.1 s, 1M
//     293 against 475 s. Below MinBulkRecords the difference is too small to
//     be worth a build whose phases readers see as one long batch;
//   - into a catalog of N records, a load of M pays (N+M)/3,412 s in bulk
//     (the 1M rate) against M/r batch by batch, r being the rate at that
//     size: 2,772 records/s up to 100k, about 1,300 near 1M (the last
//     sources of the 1M import). They break even at M = 1.7 N at 100k and
//     M = 0.6 N at 1M: a load at least as large as the catalog (BulkShare)
//     goes in bulk.
const (
	MinBulkRecords = 1_000
	BulkShare      = 1.0
)

// UseBulk reports whether a load of incoming records into a catalog of
// stored live records goes in bulk.
func UseBulk(incoming, stored int64) bool {
	return incoming >= MinBulkRecords && float64(incoming) >= BulkShare*float64(stored)
}

// EstimateRecords estimates the records in bytes of MARC: ISO 2709 records
// of the libraries' catalogues average 600 to 1,000 bytes, MARCXML three
// times that; the lower figures, so that a load is rather overestimated.
func EstimateRecords(bytes int64, marcxml bool) int64 {
	if marcxml {
		return bytes / 1800
	}
	return bytes / 600
}

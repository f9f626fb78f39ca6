package dedup

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"
)

// Updater runs write transactions; *store.Store is one.
type Updater interface {
	Update(fn func(tx *bbolt.Tx) error) error
}

// Rebuild recomputes every cluster of db's records, as RebuildOnInit makes
// Init do, for a bulk load whose records were stored without
// deduplication (catalog.Catalog.BeginBulk), in transactions that each
// hold a bounded share of the work (in one transaction a 1M-record rebuild
// held 10.7 GB until its commit): the profiles profileChunk records at a
// time, in record key order; the edges and clusters in one; the union
// records unionChunk at a time, in id order. Between the first and the
// last, the buckets do not agree with each other: the caller keeps the
// store marked as being built until the end, and a rebuild cut short is
// run again whole.
//
// The listeners are not told: the caller rebuilds what they derive from
// the union records afterwards, each in key order, which costs less than
// hearing of every union record. Profiles cached and the candidate index
// built before the load are dropped: the records they were made from may
// have changed since. progress, when set, hears the phase ("profile",
// "cluster", then "build") with the records or union records done, of
// total. Once ctx is done the rebuild stops soon, with ctx's error,
// leaving what the caller must run again whole.
func (d *Deduper) Rebuild(ctx context.Context, db Updater, progress func(phase string, done, total int)) (RebuildStats, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	d.cache.reset()
	d.cands = nil
	b := &bulkRebuild{ctx: ctx, d: d, db: db, now: time.Now().UTC()}
	if err := b.profile(func(done, total int) { progress("profile", done, total) }); err != nil {
		return b.stats, err
	}
	if err := b.cluster(func(done, total int) { progress("cluster", done, total) }); err != nil {
		return b.stats, err
	}
	err := b.build(func(done, total int) { progress("build", done, total) })
	// The candidate index of every record (about 100 MB at 1M records)
	// is made again by the next batch that needs it; the search and
	// OAI-PMH builds that follow a bulk load need the memory more.
	d.cands = nil
	return b.stats, err
}

// Rebuild's transactions: profileChunk records profiled in each, then
// unionChunk union records built in each.
const (
	profileChunk = 65536
	unionChunk   = 16384
)

// bulkRebuild is the state of one Rebuild between its transactions.
type bulkRebuild struct {
	ctx   context.Context
	d     *Deduper
	db    Updater
	now   time.Time
	stats RebuildStats
	keys  []string   // the live records, in key order
	jobs  []unionJob // the union records to build
}

// update runs fn on a state of a new write transaction, quiet, and
// finishes it.
func (b *bulkRebuild) update(fn func(st *state) error) error {
	return b.db.Update(func(tx *bbolt.Tx) error {
		st, err := b.d.newState(tx, b.now)
		if err != nil {
			return err
		}
		st.stats, st.quiet, st.ctx = &b.stats, true, b.ctx
		if err := fn(st); err != nil {
			return err
		}
		if err := st.finish(); err != nil {
			return err
		}
		b.stats.Live, b.stats.Deleted = st.live, st.deleted
		return nil
	})
}

// profile drops the profiles and edges and makes the profiles again.
func (b *bulkRebuild) profile(progress func(done, total int)) error {
	total := 0
	err := b.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketProfiles, bucketEdges} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return fmt.Errorf("dedup: rebuild: drop %s: %w", name, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = b.update(func(st *state) error {
		st.ords = metaCounter{key: keyOrdinal, width: 4, read: true, dirty: true} // ordinals from 0 again
		var err error
		total, err = st.stx.LiveRecords()
		return err
	})
	if err != nil {
		return err
	}
	var after []byte
	for first := true; first || after != nil; first = false {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		err := b.update(func(st *state) error {
			st.profiles.FillPercent = 1 // written in key order once
			if err := st.loadCandidates(); err != nil {
				return err
			}
			keys, last, err := st.profileFrom(after, profileChunk, total, progress)
			b.keys, after = append(b.keys, keys...), last
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// cluster finds every edge and makes every cluster, leaving the union
// records to build.
func (b *bulkRebuild) cluster(progress func(done, total int)) error {
	return b.update(func(st *state) error {
		st.removed = true // recompute from the edges, not from the old clusters
		st.deferred = &b.jobs
		st.committedProfiles = true // by profile's transactions
		if err := st.loadCandidates(); err != nil {
			return err
		}
		if err := st.linkAll(b.keys); err != nil {
			return err
		}
		if err := st.clusterEach(b.keys, progress); err != nil {
			return err
		}
		return st.noteRebuilt(b.d.fingerprint())
	})
}

// build builds the union records the clusters left, in id order.
func (b *bulkRebuild) build(progress func(done, total int)) error {
	slices.SortFunc(b.jobs, func(x, y unionJob) int { return cmp.Compare(x.seq, y.seq) })
	for lo := 0; lo < len(b.jobs); lo += unionChunk {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		chunk := b.jobs[lo:min(lo+unionChunk, len(b.jobs))]
		err := b.update(func(st *state) error {
			// Written in id order once: pages split full (st's 60 % is
			// room for the values a batch grows in place).
			st.unions.FillPercent = 1
			st.jobs = chunk
			return st.buildUnions()
		})
		if err != nil {
			return fmt.Errorf("dedup: rebuild: union records: %w", err)
		}
		progress(lo+len(chunk), len(b.jobs))
	}
	return nil
}

// clusterEach makes the clusters of every record again, as clusterAll
// does, one connected component at a time: clusterAll's one round over
// every record holds every profile at once (600 MB at 1M records), a
// component only its own. The components are those of the edges and of
// the clusters before the rebuild (whose members may be gone), taken in
// the order of their first record key.
func (st *state) clusterEach(keys []string, progress func(done, total int)) error {
	for _, k := range keys {
		st.touched[k] = true // every member is rebuilt: nothing is unchanged
	}
	var old []string
	if err := st.members.ForEach(func(k, _ []byte) error {
		old = append(old, string(k))
		return nil
	}); err != nil {
		return err
	}
	done := make(map[string]bool, len(keys))
	c := clusterer{g: txGraph{st}, emit: func(r *round) error {
		for k := range r.nodes {
			done[k] = true
		}
		return st.assign(r)
	}}
	for _, list := range [][]string{keys, old} {
		for i, k := range list {
			if !done[k] {
				if err := c.whole([]string{k}); err != nil {
					return err
				}
			}
			if i%4096 == 0 {
				if err := st.interrupted(); err != nil {
					return err
				}
				if progress != nil {
					progress(i, len(list))
				}
			}
		}
	}
	return st.flushMembers()
}

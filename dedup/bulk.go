package dedup

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/internal/extsort"
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
// time, in record key order; the edges found in one transaction, then
// written extsort.AppendsPerTx at a time; the clusters made in one, then
// their members written as many at a time; the union records unionChunk
// at a time, in id order. What the linking and the clustering find on the way
// is queued in sorted runs that spill to files beside the store (link).
// Between the first and the last, the buckets do not agree with each
// other: the caller keeps the store marked as being built until the end,
// and a rebuild cut short is run again whole.
//
// The listeners are not told: the caller rebuilds what they derive from
// the union records afterwards, each in key order, which costs less than
// hearing of every union record. Profiles cached and the candidate index
// built before the load are dropped: the records they were made from may
// have changed since. progress, when set, hears the phase ("profile",
// "link", "cluster", then "build") with the records or union records
// done, of total. Once ctx is done the rebuild stops soon, with ctx's error,
// leaving what the caller must run again whole.
func (d *Deduper) Rebuild(ctx context.Context, db Updater, progress func(phase string, done, total int)) (RebuildStats, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	d.cache.reset()
	d.cands = nil
	b := &bulkRebuild{ctx: ctx, d: d, db: db, now: time.Now().UTC()}
	defer func() {
		if b.q != nil {
			b.q.close()
		}
	}()
	if err := b.profile(func(done, total int) { progress("profile", done, total) }); err != nil {
		return b.stats, err
	}
	err := b.link(func(done, total int) { progress("link", done, total) })
	if err == nil {
		err = b.cluster(func(done, total int) { progress("cluster", done, total) })
	}
	// The candidate index of every record (about 90 MB at 1M records)
	// is made again by the next batch that needs it; the union records
	// and the search and OAI-PMH builds that follow need the memory more.
	d.cands = nil
	if err != nil {
		return b.stats, err
	}
	err = b.build(func(done, total int) { progress("build", done, total) })
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
	keys  []string     // the live records, in key order
	q     *wholeQueues // made by link
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

// link finds every edge, in one transaction that only reads: the edges
// are queued (b.q) and then written in key order by transactions of
// their own. link and cluster queue what they find in sorted runs that
// spill to files beside the store past spillBudget each. (In one
// transaction, with the edges, the members and the records clustered kept
// in memory, the clustering held 499 MB live at 1M records, growing with
// the catalog; now 253 MB, most of it the candidate index and the record
// keys.)
func (b *bulkRebuild) link(progress func(done, total int)) error {
	err := b.update(func(st *state) error {
		b.q = newWholeQueues(filepath.Dir(st.tx.DB().Path()))
		st.whole = b.q
		st.committedProfiles = true // by profile's transactions
		if err := st.loadCandidates(); err != nil {
			return err
		}
		return st.linkAll(b.keys, progress)
	})
	if err != nil {
		return err
	}
	// The edges bucket was dropped by profile: it is written from empty.
	return b.putQueued(bucketEdges, b.q.edges, 1)
}

// cluster makes every cluster from the edges, in one transaction whose
// member writes are queued and written in key order after it, leaving
// the union records to build (in b.q.jobs).
func (b *bulkRebuild) cluster(progress func(done, total int)) error {
	err := b.update(func(st *state) error {
		st.whole = b.q
		st.committedProfiles = true
		if err := st.loadCandidates(); err != nil {
			return err
		}
		if err := st.clusterEach(b.keys, progress); err != nil {
			return err
		}
		return st.noteRebuilt(b.d.fingerprint())
	})
	if err != nil {
		return err
	}
	// The members of the clusters before the rebuild are still there.
	return b.putQueued(bucketMembers, b.q.members, 0.9)
}

// putQueued writes the pairs of s into bucket name in key order,
// extsort.AppendsPerTx of them per transaction, its pages split at fill.
func (b *bulkRebuild) putQueued(name []byte, s *extsort.Sorter, fill float64) error {
	it, err := s.Iter()
	if err == nil {
		err = extsort.PutAll(b.ctx, b.db.Update, it, extsort.AppendsPerTx, fill, func(tx *bbolt.Tx) (*bbolt.Bucket, error) {
			return tx.CreateBucketIfNotExists(name)
		})
	}
	if err != nil {
		return fmt.Errorf("dedup: rebuild: write %s: %w", name, err)
	}
	return nil
}

// spillBudget is the memory each of a whole rebuild's queues holds before
// it writes a sorted run to a file beside the store. (A variable for the
// tests, which make it small.)
var spillBudget = 32 << 20

// wholeQueues are the writes of a whole rebuild's linking and clustering,
// queued in key order: the edges, the members, and the union records to
// build (by sequence number, with their masters and members).
type wholeQueues struct{ edges, members, jobs *extsort.Sorter }

func newWholeQueues(dir string) *wholeQueues {
	return &wholeQueues{edges: extsort.New(dir, spillBudget), members: extsort.New(dir, spillBudget),
		jobs: extsort.New(dir, spillBudget)}
}

func (q *wholeQueues) close() {
	q.edges.Close()
	q.members.Close()
	q.jobs.Close()
}

func (q *wholeQueues) putEdges(puts []edgePut) error {
	var k [8]byte
	for _, e := range puts {
		binary.BigEndian.PutUint64(k[:], e.key)
		if err := q.edges.Add(k[:], e.val); err != nil {
			return fmt.Errorf("dedup: rebuild: queue an edge: %w", err)
		}
	}
	return nil
}

// queue queues a round's member writes and union records.
func (q *wholeQueues) queue(puts []memberPut, jobs []unionJob) error {
	for _, m := range puts {
		if err := q.members.Add([]byte(m.key), seqKey(m.seq)); err != nil {
			return fmt.Errorf("dedup: rebuild: queue a member: %w", err)
		}
	}
	var v []byte
	for _, j := range jobs {
		v = appendStrs(appendStr(v[:0], j.master), j.members)
		if err := q.jobs.Add(seqKey(j.seq), v); err != nil {
			return fmt.Errorf("dedup: rebuild: queue union record %s: %w", unionID(j.seq), err)
		}
	}
	return nil
}

// nextJobs reads up to n union records to build from it.
func nextJobs(it *extsort.Iter, n int) ([]unionJob, error) {
	var jobs []unionJob
	for len(jobs) < n && it.Next() {
		r := reader{b: it.Value()}
		j := unionJob{seq: binary.BigEndian.Uint64(it.Key()), master: r.str(), members: r.strs()}
		if r.err != nil {
			return nil, fmt.Errorf("dedup: rebuild: union record %s queued: %w", unionID(j.seq), r.err)
		}
		jobs = append(jobs, j)
	}
	return jobs, it.Err()
}

// build builds the union records the clusters left, in id order.
func (b *bulkRebuild) build(progress func(done, total int)) error {
	it, err := b.q.jobs.Iter()
	if err != nil {
		return fmt.Errorf("dedup: rebuild: union records: %w", err)
	}
	for done, total := 0, b.q.jobs.Len(); ; {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		chunk, err := nextJobs(it, unionChunk)
		if err != nil || len(chunk) == 0 {
			return err
		}
		err = b.update(func(st *state) error {
			// Written in id order once: pages split full (st's 60 % is
			// room for the values a batch grows in place).
			st.unions.FillPercent = 1
			st.committedProfiles = true // by profile's transactions
			st.jobs = chunk
			return st.buildUnions()
		})
		if err != nil {
			return fmt.Errorf("dedup: rebuild: union records: %w", err)
		}
		done += len(chunk)
		progress(done, total)
	}
}

// clusterEach makes the clusters of every record again from the edges,
// not from the old clusters, one connected component at a time: one
// round over every record would hold every profile at once (600 MB at 1M
// records), a component holds only its own; and the clusters new to the
// rebuild are numbered component by component, as the batches number
// them (TestNewClustersNumberedAlike). The components are those of the
// edges and of the clusters before the rebuild (whose members may be
// gone), taken in the order of their first record key: the live records
// (keys, sorted), then the members of old clusters that are not live.
// Every record counts as touched: st.whole is set, or the caller marked
// them.
func (st *state) clusterEach(keys []string, progress func(done, total int)) error {
	// Every live record is clustered in the first pass, by its own
	// component or an earlier one's.
	var gone []string
	if err := st.members.ForEach(func(k, _ []byte) error {
		if _, live := slices.BinarySearch(keys, string(k)); !live {
			gone = append(gone, string(k))
		}
		return nil
	}); err != nil {
		return err
	}
	// Profiles committed before this transaction are decoded ahead of
	// the clustering (an Init's rebuild makes them in it).
	var ahead *profilesAhead
	if st.committedProfiles {
		var err error
		if ahead, err = startProfilesAhead(st.tx.DB()); err != nil {
			return fmt.Errorf("dedup: read transaction: %w", err)
		}
		defer func() { st.ahead = nil; ahead.close() }()
	}
	done := newDoneSet(keys)
	c := clusterer{g: txGraph{st}, emit: func(r *round) error {
		for k := range r.nodes {
			done.add(k)
		}
		return st.assign(r)
	}}
	for l, list := range [][]string{keys, gone} {
		for i, k := range list {
			if ahead != nil && l == 0 && i%aheadBatch == 0 {
				st.ahead = ahead.next() // the batch of keys[i:], in key order
			}
			if !done.has(k) {
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
	return nil
}

// doneSet is the records clusterEach has clustered: a bit per live record
// and a set of the others. (A map of every record key took 50 MB at 1M
// records.)
type doneSet struct {
	keys []string // the live records, sorted
	bits []uint64
	gone map[string]bool
}

func newDoneSet(keys []string) *doneSet {
	return &doneSet{keys: keys, bits: make([]uint64, (len(keys)+63)/64), gone: map[string]bool{}}
}

func (s *doneSet) add(k string) {
	if i, ok := slices.BinarySearch(s.keys, k); ok {
		s.bits[i/64] |= 1 << (i % 64)
	} else {
		s.gone[k] = true
	}
}

func (s *doneSet) has(k string) bool {
	if i, ok := slices.BinarySearch(s.keys, k); ok {
		return s.bits[i/64]&(1<<(i%64)) != 0
	}
	return s.gone[k]
}

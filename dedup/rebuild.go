package dedup

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/store"
)

// RebuildStats says what a rebuild did.
type RebuildStats struct {
	Records  int // live source records profiled
	Clusters int // union records rebuilt
	Changed  int // union records whose served content changed (new, updated, merged away or deleted)
	Live     int // live union records afterwards
	Deleted  int // deleted union records (aliases included) afterwards
}

// RebuildOnInit makes the next Init rebuild every cluster, reporting
// progress (records profiled, of total) to fn when not nil. `unicat dedup
// --rebuild` uses it; Init also rebuilds by itself when the options or the
// matching rules changed since the clusters were built.
func (d *Deduper) RebuildOnInit(fn func(done, total int)) {
	d.forceRebuild = true
	d.progress = fn
}

// LastRebuild returns what the rebuild run by Init did, if it ran.
func (d *Deduper) LastRebuild() (RebuildStats, bool) { return d.lastRebuild, d.rebuilt }

// Init implements store.HookInit: it creates the buckets and rebuilds the
// clusters when they are missing for records already stored, when the
// rules or the options every match depends on changed, or when asked by
// RebuildOnInit; otherwise it re-derives the records of the sources whose
// description changed (reconcileSources).
func (d *Deduper) Init(tx *bbolt.Tx) error {
	if err := checkLayout(tx); err != nil {
		return err
	}
	st, err := d.newState(tx, time.Now().UTC())
	if err != nil {
		return err
	}
	fp := d.fingerprint()
	stored := st.meta.Get(keyConfig)
	need := d.forceRebuild || string(stored) != string(fp)
	if !need {
		return d.reconcileSources(tx)
	}
	stats, err := d.rebuild(tx, d.progress, nil)
	if err != nil {
		return err
	}
	d.lastRebuild, d.rebuilt = stats, true
	return nil
}

// Updater runs write transactions; *store.Store is one.
type Updater interface {
	Update(fn func(tx *bbolt.Tx) error) error
}

// Rebuild recomputes every cluster of db's records, as RebuildOnInit makes
// Init do, for a bulk load whose records were stored without
// deduplication (catalog.Catalog.BeginBulk). The clusters are made in one
// transaction; their union records are then built unionChunk at a time,
// each chunk in a transaction of its own, so that memory holds one chunk's
// records and values, not the catalog's (in one transaction a 1M-record
// rebuild held 10.7 GB). Between the two the union values do not match the
// clusters: the caller keeps the store marked as being built until the
// end (a rebuild cut short is run again whole).
//
// The listeners are not told: the caller rebuilds what they derive from
// the union records afterwards, each in key order, which costs less than
// hearing of every union record. Profiles cached before the load are
// dropped: the records they were made from may have changed since.
// progress, when set, hears the phase ("profile", then "build") with the
// records or union records done, of total.
func (d *Deduper) Rebuild(db Updater, progress func(phase string, done, total int)) (RebuildStats, error) {
	if progress == nil {
		progress = func(string, int, int) {}
	}
	d.cache.reset()
	var stats RebuildStats
	var jobs []unionJob
	err := db.Update(func(tx *bbolt.Tx) error {
		var err error
		stats, err = d.rebuild(tx, func(done, total int) { progress("profile", done, total) }, &jobs)
		return err
	})
	if err != nil {
		return stats, err
	}
	slices.SortFunc(jobs, func(a, b unionJob) int { return cmp.Compare(a.seq, b.seq) })
	for lo := 0; lo < len(jobs); lo += unionChunk {
		chunk := jobs[lo:min(lo+unionChunk, len(jobs))]
		err := db.Update(func(tx *bbolt.Tx) error {
			st, err := d.newState(tx, time.Now().UTC())
			if err != nil {
				return err
			}
			st.stats, st.quiet, st.jobs = &stats, true, chunk
			if err := st.buildUnions(); err != nil {
				return err
			}
			if err := st.finish(); err != nil {
				return err
			}
			stats.Live, stats.Deleted = st.live, st.deleted
			return nil
		})
		if err != nil {
			return stats, fmt.Errorf("dedup: rebuild: union records: %w", err)
		}
		progress("build", lo+len(chunk), len(jobs))
	}
	return stats, nil
}

// unionChunk is how many union records one transaction of Rebuild builds.
const unionChunk = 16384

// rebuild recomputes profiles, index, edges and clusters of every stored
// record in tx, keeping union ids where the clusters allow. With deferred
// set it leaves the union records to build to it, and the listeners out.
func (d *Deduper) rebuild(tx *bbolt.Tx, progress func(done, total int), deferred *[]unionJob) (RebuildStats, error) {
	var stats RebuildStats
	// The derived buckets go; members and union values, which hold the
	// clusters, stay, so the new clusters can claim their old ids.
	for _, name := range [][]byte{bucketProfiles, bucketEdges} {
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return stats, fmt.Errorf("dedup: rebuild: drop %s: %w", name, err)
			}
		}
	}
	st, err := d.newState(tx, time.Now().UTC())
	if err != nil {
		return stats, err
	}
	st.stats, st.quiet, st.deferred = &stats, deferred != nil, deferred
	st.removed = true                                                         // recompute from the edges, not from the old clusters
	st.ords = metaCounter{key: keyOrdinal, width: 4, read: true, dirty: true} // ordinals from 0 again
	if err := st.loadCandidates(); err != nil {                               // empty: the profiles are gone
		return stats, err
	}
	keys, err := st.profileAll(progress)
	if err != nil {
		return stats, err
	}
	if err := st.linkAll(keys); err != nil {
		return stats, err
	}
	if err := st.clusterAll(keys); err != nil {
		return stats, err
	}
	if err := st.noteRebuilt(d.fingerprint()); err != nil {
		return stats, err
	}
	if err := st.finish(); err != nil {
		return stats, err
	}
	stats.Live, stats.Deleted = st.live, st.deleted
	return stats, nil
}

// profileAll profiles every live record, in chunks decoded in parallel,
// and stores the profiles and index keys; it returns the records' keys.
func (st *state) profileAll(progress func(done, total int)) ([]string, error) {
	total := 0
	if srcs, err := st.stx.Sources(); err == nil {
		for _, s := range srcs {
			ss, _ := st.stx.Stats(s.ID)
			total += ss.Live
		}
	}
	var chunk []store.Change
	var keys []string
	flush := func() error {
		preps := st.prepare(chunk)
		for i := range preps {
			pr := &preps[i]
			if pr.err != nil {
				return fmt.Errorf("dedup: rebuild: %w", pr.err)
			}
			var err error
			if pr.prof.ord, err = st.nextOrdinal(); err != nil {
				return err
			}
			st.setCached(pr.key, pr.prof)
			if err := st.profiles.Put([]byte(pr.key), pr.prof.encode(nil)); err != nil {
				return err
			}
			st.cands.add(pr.prof.ord, pr.key, pr.prof.khash)
			keys = append(keys, pr.key)
			st.seeds[pr.key] = true
		}
		st.stats.Records += len(chunk)
		chunk = chunk[:0]
		if progress != nil {
			progress(st.stats.Records, total)
		}
		return nil
	}
	err := st.stx.ForEachRecord("", func(sr *store.SourceRecord) error {
		if sr.Deleted {
			return nil
		}
		chunk = append(chunk, store.Change{Key: store.RecordKey(sr.Source, sr.LocalID), Source: sr.Source, LocalID: sr.LocalID, New: sr})
		if len(chunk) == 1000 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return keys, err
}

// linkAll finds the edges of the records of keys (in key order): every
// pair once, the later key linking to the earlier.
func (st *state) linkAll(keys []string) error {
	for lo := 0; lo < len(keys); lo += 1000 {
		var jobs []linkJob
		for _, k := range keys[lo:min(lo+1000, len(keys))] {
			p, err := st.profile(k)
			if err != nil {
				return err
			}
			k := k
			jobs = append(jobs, linkJob{key: k, p: p, skip: func(c string) bool { return c > k }})
		}
		if err := st.link(jobs); err != nil {
			return err
		}
	}
	return st.flushEdges()
}

// clusterAll makes the clusters of every record again, and of every
// record a cluster still names, rebuilding every union record of a live
// record.
func (st *state) clusterAll(keys []string) error {
	if err := st.members.ForEach(func(k, _ []byte) error {
		st.seeds[string(k)] = true
		return nil
	}); err != nil {
		return err
	}
	// Every member is rebuilt, so nothing counts as unchanged.
	for _, k := range keys {
		st.touched[k] = true
	}
	return st.recluster()
}

// noteRebuilt records what the clusters were rebuilt with: the options'
// fingerprint fp, the sources' descriptions, the layout, and the union
// records each library holds, counted afresh.
func (st *state) noteRebuilt(fp []byte) error {
	if err := st.meta.Put(keyConfig, fp); err != nil {
		return err
	}
	if srcs, err := st.stx.Sources(); err == nil {
		for _, info := range srcs {
			if err := st.meta.Put(sourcePrintKey(info.ID), st.set.sourcePrint(st.source(info.ID))); err != nil {
				return err
			}
		}
	}
	if err := st.recountLibraries(); err != nil {
		return err
	}
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], layoutVersion)
	return st.meta.Put(keyVersion, v[:])
}

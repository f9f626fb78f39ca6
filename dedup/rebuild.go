package dedup

import (
	"encoding/binary"
	"errors"
	"fmt"
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

// RulesChanged reports whether Init would rebuild every cluster of tx: the
// matching rules (bad ISBNs, level priority) differ from those the
// clusters were made with, or RebuildOnInit asked for it. A caller that
// rebuilds in bulk instead (catalog.Open) runs InitLayout, not Init.
func (d *Deduper) RulesChanged(tx *bbolt.Tx) bool {
	d.adoptOptions()
	var stored []byte
	if meta := tx.Bucket(bucketMeta); meta != nil {
		stored = meta.Get(keyConfig)
	}
	return d.forceRebuild || string(stored) != string(d.fingerprint())
}

// InitLayout is Init for a store whose clusters a bulk Rebuild is about
// to make again: it only checks that this unicat reads the store's layout.
func (d *Deduper) InitLayout(tx *bbolt.Tx) error { return checkLayout(tx) }

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
	// The state adopts the options and makes the buckets of a new store.
	if _, err := d.newState(tx, time.Now().UTC()); err != nil {
		return err
	}
	if !d.RulesChanged(tx) {
		return d.reconcileSources(tx)
	}
	stats, err := d.rebuild(tx, d.progress)
	if err != nil {
		return err
	}
	d.lastRebuild, d.rebuilt = stats, true
	return nil
}

// rebuild recomputes profiles, index, edges and clusters of every stored
// record in tx, keeping union ids where the clusters allow.
func (d *Deduper) rebuild(tx *bbolt.Tx, progress func(done, total int)) (RebuildStats, error) {
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
	st.stats = &stats
	st.ords = metaCounter{key: keyOrdinal, width: 4, read: true, dirty: true} // ordinals from 0 again
	if err := st.loadCandidates(); err != nil {                               // empty: the profiles are gone
		return stats, err
	}
	total, err := st.stx.LiveRecords()
	if err != nil {
		return stats, err
	}
	keys, _, err := st.profileFrom(nil, 0, total, progress)
	if err != nil {
		return stats, err
	}
	if err := st.linkAll(keys, nil); err != nil {
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

// profileFrom profiles the live records after the record key after (nil:
// from the first), in chunks decoded in parallel, and stores the profiles
// and index keys; it stops after limit records (0: none) and returns the
// records' keys and the last one's, nil when no record is left. progress
// hears the records done so far of total.
//
// A chunk is profiled on other goroutines while this one walks the
// records of the next and stores the profiles of the one before: the
// walk and the stores, bbolt's, are for this goroutine alone. (With each
// chunk's profiling waited for, the step took 18-20 s at 1M records;
// beside the stores, 15.5.)
func (st *state) profileFrom(after []byte, limit, total int, progress func(done, total int)) ([]string, []byte, error) {
	var chunk []store.Change
	var keys []string
	var pending chan []prepared // the chunk being profiled
	pendingLen := 0
	// The records' bytes are the transaction's: no profiling outlives
	// this call.
	defer func() {
		if pending != nil {
			<-pending
		}
	}()
	put := func(preps []prepared) error {
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
			keys = append(keys, pr.key) // what the caller links and clusters
		}
		if len(preps) == 0 {
			return nil
		}
		st.stats.Records += len(preps)
		if progress != nil {
			progress(st.stats.Records, total)
		}
		return nil
	}
	// flush starts profiling the chunk, if any, then stores the one
	// before, if any.
	flush := func() error {
		var before []prepared
		if pending != nil {
			before = <-pending
			pending, pendingLen = nil, 0
		}
		if len(chunk) > 0 {
			for i := range chunk {
				st.source(chunk[i].Source) // read here: the transaction is this goroutine's
			}
			c := chunk
			pending, pendingLen, chunk = make(chan []prepared, 1), len(c), nil
			go func(out chan<- []prepared) { out <- st.prepare(c) }(pending)
		}
		return put(before)
	}
	var last []byte
	err := st.stx.ForEachRecordAfter(after, func(sr *store.SourceRecord) error {
		if limit > 0 && len(keys)+pendingLen+len(chunk) >= limit {
			return errChunkFull
		}
		last = store.RecordKey(sr.Source, sr.LocalID)
		if sr.Deleted {
			return nil
		}
		chunk = append(chunk, store.Change{Key: last, Source: sr.Source, LocalID: sr.LocalID, New: sr})
		if len(chunk) == 1000 {
			return flush()
		}
		return nil
	})
	full := errors.Is(err, errChunkFull)
	if err == nil || full {
		err = flush() // profiles the last chunk
	}
	if err == nil {
		err = flush() // and stores it
	}
	if !full {
		last = nil
	}
	return keys, last, err
}

// errChunkFull ends a walk of profileFrom at its limit.
var errChunkFull = errors.New("chunk full")

// linkAll finds the edges of the records of keys (in key order): every
// pair once, the later key linking to the earlier. progress, when set,
// hears the records linked, of all.
func (st *state) linkAll(keys []string, progress func(done, total int)) error {
	if st.whole != nil && st.committedProfiles && len(keys) > 0 {
		return st.linkWhole(keys, progress)
	}
	for lo := 0; lo < len(keys); lo += 1000 {
		if err := st.interrupted(); err != nil {
			return err
		}
		if progress != nil {
			progress(lo, len(keys))
		}
		var jobs []linkJob
		for _, k := range keys[lo:min(lo+1000, len(keys))] {
			p, err := st.profile(k)
			if err != nil {
				return err
			}
			jobs = append(jobs, linkJob{key: k, p: p, skip: laterKeys(k)})
		}
		if err := st.link(jobs); err != nil {
			return err
		}
	}
	return st.flushEdges()
}

// clusterAll makes the clusters of every record again, and of every
// record a cluster still names, rebuilding every union record of a live
// record. It settles them component by component, as the bulk Rebuild
// and the batches do, so that the clusters new to it are numbered as
// theirs are (TestNewClustersNumberedAlike).
func (st *state) clusterAll(keys []string) error {
	// Every member is rebuilt, so nothing counts as unchanged.
	for _, k := range keys {
		st.touched[k] = true
	}
	return st.clusterEach(keys, nil)
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

package dedup

import (
	"encoding/binary"
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
	st.removed = true                                                         // recompute from the edges, not from the old clusters
	st.ords = metaCounter{key: keyOrdinal, width: 4, read: true, dirty: true} // ordinals from 0 again
	if err := st.loadCandidates(); err != nil {                               // empty: the profiles are gone
		return stats, err
	}
	stx := store.WrapTx(tx)
	total := 0
	if srcs, err := stx.Sources(); err == nil {
		for _, s := range srcs {
			ss, _ := stx.Stats(s.ID)
			total += ss.Live
		}
	}
	// 1. Profiles and index keys, in chunks decoded in parallel.
	var chunk []store.Change
	var liveKeys []string
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
			liveKeys = append(liveKeys, pr.key)
			st.seeds[pr.key] = true
		}
		stats.Records += len(chunk)
		chunk = chunk[:0]
		if progress != nil {
			progress(stats.Records, total)
		}
		return nil
	}
	err = stx.ForEachRecord("", func(sr *store.SourceRecord) error {
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
	if err != nil {
		return stats, err
	}
	// 2. Edges: every pair once, the later key linking to the earlier.
	for lo := 0; lo < len(liveKeys); lo += 1000 {
		var jobs []linkJob
		for _, k := range liveKeys[lo:min(lo+1000, len(liveKeys))] {
			p, err := st.profile(k)
			if err != nil {
				return stats, err
			}
			k := k
			jobs = append(jobs, linkJob{key: k, p: p, skip: func(c string) bool { return c > k }})
		}
		if err := st.link(jobs); err != nil {
			return stats, err
		}
	}
	if err := st.flushEdges(); err != nil {
		return stats, err
	}
	// 3. Clusters: every record, and every record a cluster still names.
	if err := st.members.ForEach(func(k, _ []byte) error {
		st.seeds[string(k)] = true
		return nil
	}); err != nil {
		return stats, err
	}
	// Every member is rebuilt, so nothing counts as unchanged.
	for _, k := range liveKeys {
		st.touched[k] = true
	}
	if err := st.recluster(); err != nil {
		return stats, err
	}
	if err := st.meta.Put(keyConfig, d.fingerprint()); err != nil {
		return stats, err
	}
	if srcs, err := stx.Sources(); err == nil {
		for _, info := range srcs {
			if err := st.meta.Put(sourcePrintKey(info.ID), st.set.sourcePrint(st.source(info.ID))); err != nil {
				return stats, err
			}
		}
	}
	if err := st.recountLibraries(); err != nil {
		return stats, err
	}
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], layoutVersion)
	if err := st.meta.Put(keyVersion, v[:]); err != nil {
		return stats, err
	}
	if err := st.finish(); err != nil {
		return stats, err
	}
	stats.Live, stats.Deleted = st.live, st.deleted
	return stats, nil
}

package dedup

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"sort"
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

// fingerprint identifies the options every cluster depends on: the
// layout and rules, the known-bad ISBNs and the level priorities. What a
// source's description changes is told per source (sourcePrint).
func (d *Deduper) fingerprint() []byte {
	set := d.settings()
	h := sha256.New()
	fmt.Fprintf(h, "v%d\n", layoutVersion)
	bad := make([]string, 0, len(set.badISBN))
	for n := range set.badISBN {
		bad = append(bad, n)
	}
	sort.Strings(bad)
	fmt.Fprintf(h, "bad %v\nlevels %v\n", bad, set.opts.LevelPriority)
	return h.Sum(nil)
}

// sourcePrint identifies what deduplication derives from the description
// of a source: its records' holdings (tag, holder, library code, code
// mapping) and, for its clusters, the 035s and levels it gives and its
// say in the master choice. The holders a source of many libraries names
// are described by the network's libraries, which are part of its print.
func (set *settings) sourcePrint(s Source) []byte {
	b := fmt.Appendf(nil, "%q %q %q %q %d %v %d", s.LibraryCode, s.Level, s.OrgCode, s.Holdings, s.Holder, s.Barcodes, s.Priority)
	if s.Holder == 0 {
		return b
	}
	for _, code := range slices.Sorted(maps.Keys(s.HolderCodes)) {
		b = fmt.Appendf(b, " %q=%q", code, s.HolderCodes[code])
	}
	for _, code := range slices.Sorted(maps.Keys(set.opts.Libraries)) {
		l := set.opts.Libraries[code]
		b = fmt.Appendf(b, " lib %q %q %q %d", code, l.Level, l.OrgCode, set.libPrio[code])
	}
	return b
}

func sourcePrintKey(id string) []byte { return append([]byte("source "), id...) }

// mixedPrint is the stored description of a source whose records were
// derived from more than one description (changed by a reload): it
// matches none, so the next Init re-derives them all, even if the
// description has changed back to the first one meanwhile.
var mixedPrint = []byte("mixed")

// notePrints records the description of the sources of a batch the first
// time they are seen. A description that changed since is left for Init
// to find (reconcileSources), since the source's older records were
// derived from the old one; it is marked mixed.
func (st *state) notePrints(changes []store.Change) error {
	seen := map[string]bool{}
	for i := range changes {
		id := changes[i].Source
		if seen[id] {
			continue
		}
		seen[id] = true
		stored, print := st.meta.Get(sourcePrintKey(id)), st.set.sourcePrint(st.source(id))
		var put []byte
		switch {
		case stored == nil:
			put = print
		case !bytes.Equal(stored, print) && !bytes.Equal(stored, mixedPrint):
			put = mixedPrint
		}
		if put != nil {
			if err := st.meta.Put(sourcePrintKey(id), put); err != nil {
				return err
			}
		}
	}
	return nil
}

// reconcileSources brings the records of every source whose description
// changed since they were derived (a library's code, level, holdings tag
// or priority) up to date: their profiles are recomputed and their
// clusters' union records rebuilt, as if the source had sent every record
// again. A new source with no records costs nothing.
func (d *Deduper) reconcileSources(tx *bbolt.Tx) error {
	st, err := d.newState(tx, time.Now().UTC())
	if err != nil {
		return err
	}
	stx := store.WrapTx(tx)
	srcs, err := stx.Sources()
	if err != nil {
		return err
	}
	for _, info := range srcs {
		stats, err := stx.Stats(info.ID)
		if err != nil {
			return err
		}
		print := st.set.sourcePrint(st.source(info.ID))
		if stored := st.meta.Get(sourcePrintKey(info.ID)); stats.Live > 0 && !bytes.Equal(stored, print) {
			if err := d.reapply(tx, info.ID); err != nil {
				return fmt.Errorf("dedup: source %s: %w", info.ID, err)
			}
		}
		if stats.Live > 0 {
			if err := tx.Bucket(bucketMeta).Put(sourcePrintKey(info.ID), print); err != nil {
				return err
			}
		}
	}
	return nil
}

// reapply runs every live record of source through ApplyChanges again, a
// chunk at a time.
func (d *Deduper) reapply(tx *bbolt.Tx, source string) error {
	stx := store.WrapTx(tx)
	var ids []string
	if err := stx.ForEachRecord(source, func(sr *store.SourceRecord) error {
		if !sr.Deleted {
			ids = append(ids, sr.LocalID)
		}
		return nil
	}); err != nil {
		return err
	}
	for lo := 0; lo < len(ids); lo += 2000 {
		var changes []store.Change
		for _, id := range ids[lo:min(lo+2000, len(ids))] {
			sr, err := stx.Record(source, id)
			if err != nil {
				return err
			}
			changes = append(changes, store.Change{Key: store.RecordKey(source, id), Source: source, LocalID: id,
				Outcome: store.Updated, Old: sr, New: sr})
		}
		if err := d.ApplyChanges(tx, changes); err != nil {
			return err
		}
	}
	return nil
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

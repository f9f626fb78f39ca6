package dedup

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/store"
)

// What the clusters were derived with: a fingerprint of the options every
// cluster depends on, and per source the description its records were
// derived from, so that Init knows what to rebuild or derive again.

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

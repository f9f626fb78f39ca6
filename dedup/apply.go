package dedup

import (
	"bytes"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/internal/parallel"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// Applying a batch: the changed records are profiled before the
// transaction where possible (Prepare), their profiles and index keys
// stored (setProfile), the records linked to their candidates (link.go),
// and the clusters they touch made again (cluster.go, recluster.go).

// prepared is a changed record decoded and profiled.
type prepared struct {
	key  string
	set  *settings // the options the profile was built with
	src  Source    // and the description of the source
	rec  *marc.Record
	prof *profile
	err  error
}

// Prepare implements store.Preparer: it decodes and profiles a record
// before the batch's transaction, which is most of the CPU a batch
// costs. A record of a source the options do not describe is left to
// ApplyChanges, which reads the source's registration.
func (d *Deduper) Prepare(sr *store.SourceRecord) any {
	set := d.settings()
	src, ok := d.described(set, sr.Source)
	if !ok {
		return nil
	}
	pr := &prepared{key: string(store.RecordKey(sr.Source, sr.LocalID)), set: set, src: src}
	if pr.rec, pr.prof, pr.err = set.profileStored(sr, src); pr.err == nil {
		pr.prof.tail = pr.prof.encodeTail(nil)
	}
	return pr
}

// profileStored decodes a stored record and profiles it. Canonical ISO
// 2709 (marc.CanonicalISO2709, nearly every record) is decoded from its
// split, which gives what the reader gives, and the profile notes the
// bytes' hash: the union records the record is the master of need not
// check them again.
func (set *settings) profileStored(sr *store.SourceRecord, src Source) (*marc.Record, *profile, error) {
	if sr.Format == marc.FormatISO2709 {
		if leader, fields, ok := marc.CanonicalISO2709(sr.Raw, nil); ok {
			rec, err := marc.DecodeFields(leader, fields)
			if err != nil {
				return nil, nil, fmt.Errorf("record %q of source %q: %w", sr.LocalID, sr.Source, err)
			}
			p := set.buildProfile(rec, src)
			p.canon, p.hasCanon = [masterSumLen]byte(sr.Hash[:masterSumLen]), true
			return rec, p, nil
		}
	}
	rec, err := sr.Record()
	if err != nil {
		return nil, nil, err
	}
	return rec, set.buildProfile(rec, src), nil
}

// prepare returns the live records among changes decoded and profiled:
// by Prepare where it ran, else here, in parallel when there are many.
func (st *state) prepare(changes []store.Change) []prepared {
	out := make([]prepared, len(changes))
	var todo []store.Change // not prepared before the transaction
	var at []int
	for i := range changes {
		c := &changes[i]
		out[i].key = string(c.Key)
		st.source(c.Source) // fill the cache before going parallel
		if pr, ok := c.Prepared.(*prepared); ok && pr.key == out[i].key && c.New != nil && !c.New.Deleted &&
			pr.set == st.set && pr.src.equal(st.sources[c.Source]) {
			out[i] = *pr
			continue
		}
		todo = append(todo, *c)
		at = append(at, i)
	}
	parallel.For(len(todo), parallel.Workers(len(todo), 64), func(_, i int) error {
		c := &todo[i]
		if c.New == nil || c.New.Deleted {
			return nil
		}
		pr := &out[at[i]]
		// The encoding after the ordinal is made here, in parallel, as
		// Prepare makes it: the caller stores the profiles one by one.
		if pr.rec, pr.prof, pr.err = st.set.profileStored(c.New, st.sources[c.Source]); pr.err == nil {
			pr.prof.tail = pr.prof.encodeTail(nil)
		}
		return nil
	})
	return out
}

// ApplyChanges implements store.Hook: it re-profiles the changed records,
// re-links them and recomputes the clusters they touch, all in tx.
func (d *Deduper) ApplyChanges(tx *bbolt.Tx, changes []store.Change) error {
	if len(changes) == 0 {
		return nil
	}
	var now time.Time
	for i := range changes {
		if c := changes[i].New; c != nil && c.LastSeen.After(now) {
			now = c.LastSeen
		}
	}
	if now.IsZero() {
		now = time.Now()
	}
	st, err := d.newState(tx, now.UTC())
	if err != nil {
		return err
	}
	if err := st.loadCandidates(); err != nil {
		return err
	}
	if err := st.notePrints(changes); err != nil {
		return err
	}
	for i := range changes {
		st.olds[string(changes[i].Key)] = changes[i].Old
	}
	preps := st.prepare(changes)
	var relink []int
	for i := range preps {
		pr := &preps[i]
		if pr.err != nil {
			return fmt.Errorf("dedup: %w", pr.err)
		}
		if pr.rec != nil {
			st.recs[pr.key] = pr.rec
			if c := changes[i].New; c.Format == marc.FormatISO2709 {
				st.raws[pr.key] = c
			}
		}
		need, err := st.setProfile(pr.key, pr.prof)
		if err != nil {
			return err
		}
		if need {
			relink = append(relink, i)
		}
	}
	// A candidate later in the batch compares itself with the earlier
	// ones: each pair once.
	order := make(map[string]int, len(relink))
	for n, i := range relink {
		order[preps[i].key] = n
	}
	jobs := make([]linkJob, len(relink))
	for n, i := range relink {
		n := n
		jobs[n] = linkJob{key: preps[i].key, p: preps[i].prof, skip: func(c string) bool {
			o, ok := order[c]
			return ok && o > n
		}}
	}
	if err := st.link(jobs); err != nil {
		return err
	}
	if err := st.flushEdges(); err != nil {
		return err
	}
	if err := st.recluster(); err != nil {
		return err
	}
	return st.finish()
}

// setProfile replaces the profile of key (nil: the record is gone) and
// its index keys, and reports whether its edges must be recomputed.
func (st *state) setProfile(key string, p *profile) (needEdges bool, err error) {
	kb := []byte(key)
	var oldV []byte
	if sr, inBatch := st.olds[key]; !inBatch || sr != nil {
		// A record never stored before (not even as a tombstone: the
		// store keeps those) has no profile to look for.
		oldV = st.profiles.Get(kb)
	}
	st.touched[key] = true
	st.seeds[key] = true
	var oldOrd uint32
	var oldHashes []uint32
	if oldV != nil {
		if oldOrd, oldHashes, err = profileIndexPart(oldV); err != nil {
			return false, fmt.Errorf("dedup: record %q: %w", displayKey(key), err)
		}
	}
	var newV []byte
	if p != nil {
		if oldV != nil {
			p.ord = oldOrd // a record keeps its ordinal
		} else if p.ord, err = st.nextOrdinal(); err != nil {
			return false, err
		}
		newV = p.encode(nil)
		if oldV != nil && bytes.Equal(matchPart(oldV), matchPart(newV)) {
			// Only holdings or display changed: the keys and edges stand.
			st.setCached(key, p)
			return false, st.profiles.Put(kb, newV)
		}
	}
	if oldV != nil {
		st.cands.remove(oldOrd, oldHashes)
		others, err := st.deleteEdges(oldOrd)
		if err != nil {
			return false, err
		}
		st.removed = true
		for _, o := range others {
			if name := st.cands.nameOf(o); name != "" {
				st.seeds[name] = true
			}
		}
	}
	st.setCached(key, p)
	if p == nil {
		st.removed = true // its cluster loses a member
		return false, st.profiles.Delete(kb)
	}
	if err := st.profiles.Put(kb, newV); err != nil {
		return false, err
	}
	st.cands.add(p.ord, key, p.khash)
	return true, nil
}

// setCached records the profile of key (nil: gone) for this batch and
// the following ones. Outside a rebuild st.profs holds every profile the
// batch set, which the parallel link needs (see link); a rebuild sets
// every profile, and reads them back from its transaction.
func (st *state) setCached(key string, p *profile) {
	if p == nil {
		st.profs[key] = nil
		st.d.cache.del(key)
		return
	}
	if st.stats == nil {
		st.profs[key] = p
	} else {
		delete(st.profs, key)
	}
	st.d.cache.put(key, p)
}

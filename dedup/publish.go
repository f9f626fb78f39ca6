package dedup

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// Publishing union records: a union value is written only when what it
// serves changed, with the commit's datestamp; the counters follow, and
// the listeners are told of it with what it served before.

// retire marks a union id deleted: merged into aliasOf, or emptied.
func (st *state) retire(seq uint64, aliasOf string) error {
	return st.putUnion(unionID(seq), &storedUnion{deleted: true, aliasOf: aliasOf}, nil)
}

// putUnion stores su under id when it serves something new, with this
// commit's datestamp, and records the change for the listeners.
func (st *state) putUnion(id string, su *storedUnion, rec *marc.Record) error {
	idb := []byte(id)
	wasLive, existed := false, false
	var prev *storedUnion
	var oldLibs []string
	if v := st.unions.Get(idb); v != nil {
		old, err := decodeUnion(id, v)
		if err != nil {
			return err
		}
		if sameStored(old, su) {
			return nil
		}
		same, err := st.sameServed(id, old, su)
		if err != nil {
			return err
		}
		if same {
			// Stored otherwise (a new master hash, another form), serving
			// the same: rewritten under its datestamp, nobody told.
			su.datestamp = old.datestamp
			return st.unions.Put(idb, encodeUnion(nil, su))
		}
		existed, wasLive, oldLibs = true, !old.deleted, old.libraries
		if st.telling() {
			// The value is overwritten below, and the master of an
			// assembled one may have changed: the listeners get the
			// record as it was, in a copy of their own.
			prev = st.resolvedOld(id, old)
		}
		if err := st.bydate.Delete(dateKey(old.datestamp, id)); err != nil {
			return err
		}
	} else if su.deleted {
		return nil // nothing was ever served under id
	}
	su.datestamp = st.datestamp()
	if err := st.unions.Put(idb, encodeUnion(nil, su)); err != nil {
		return err
	}
	if err := st.bydate.Put(dateKey(su.datestamp, id), nil); err != nil {
		return err
	}
	switch {
	case !existed && !su.deleted:
		st.live++
	case existed && wasLive && su.deleted:
		st.live--
		st.deleted++
	case existed && !wasLive && !su.deleted:
		st.live++
		st.deleted--
	}
	st.countsDirty = true
	st.libs.change(oldLibs, su.libraries)
	if st.stats != nil {
		st.stats.Changed++
	}
	if !st.telling() {
		return nil
	}
	st.changes = append(st.changes, UnionRecord{
		ID: id, Record: rec, Datestamp: su.datestamp, Deleted: su.deleted, AliasOf: su.aliasOf,
		Libraries: su.libraries, Levels: su.levels, prev: prev,
	})
	return nil
}

// sameServed reports whether the union values old and su, not stored
// alike, serve the same thing: they may when stored in other forms (one
// whole, the other assembled) or assembled from a master updated only
// where the union record does not show it (its local fields), and are
// then compared as served.
func (st *state) sameServed(id string, old, su *storedUnion) (bool, error) {
	if old.deleted || su.deleted || old.aliasOf != su.aliasOf ||
		!equalStrs(old.libraries, su.libraries) || !equalStrs(old.levels, su.levels) {
		return false, nil
	}
	remastered := old.format == fmtAssembled && su.format == fmtAssembled &&
		old.master == su.master && equalStrs(old.members, su.members) && sameAdded(old.added, su.added)
	if old.format == su.format && !remastered {
		return false, nil
	}
	_, a, err := old.served(id, st.oldRecords)
	if err != nil {
		return false, nil // it cannot be served any more: su can
	}
	_, b, err := su.served(id, st.newRecords)
	if err != nil {
		return false, err
	}
	return bytes.Equal(a, b), nil
}

func sameAdded(a, b []marc.RawField) bool {
	return slices.EqualFunc(a, b, func(x, y marc.RawField) bool { return x.Tag == y.Tag && bytes.Equal(x.Data, y.Data) })
}

// resolvedOld returns the stored union value old as the listeners keep
// it: copied out of bbolt, an assembled record assembled from its master
// as it was before this batch.
func (st *state) resolvedOld(id string, old *storedUnion) *storedUnion {
	prev := *old
	prev.master, prev.added = "", nil
	if old.format != fmtAssembled {
		prev.raw = slices.Clone(old.raw)
		return &prev
	}
	var err error
	if prev.format, prev.raw, err = old.served(id, st.oldRecords); err != nil {
		// Its master changed without this hook (a store written without
		// deduplication): what it served is gone. Told as nothing, the
		// search index marks itself stale rather than stopping ingest.
		prev.format, prev.raw = fmtNone, nil
	}
	return &prev
}

// oldRecords reads records as they were before the batch being applied;
// newRecords as they are now.
func (st *state) oldRecords(key string) (*store.SourceRecord, error) {
	if sr, ok := st.olds[key]; ok {
		if sr == nil {
			return nil, fmt.Errorf("dedup: record %s: not stored before this batch", displayKey(key))
		}
		return sr, nil
	}
	return st.newRecords(key)
}

func (st *state) newRecords(key string) (*store.SourceRecord, error) {
	if sr := st.raws[key]; sr != nil {
		return sr, nil
	}
	src, local := splitRecordKey(key)
	return st.stx.Record(src, local)
}

// datestamp returns this commit's datestamp: the batch time, but always
// after the previous commit's, at microsecond precision.
func (st *state) datestamp() time.Time {
	if !st.stamp.IsZero() {
		return st.stamp
	}
	t := st.now.Truncate(time.Microsecond)
	if v := st.meta.Get(keyLastDate); len(v) == 8 {
		last := time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
		if !t.After(last) {
			t = last.Add(time.Microsecond)
		}
	}
	st.stamp = t.UTC()
	return st.stamp
}

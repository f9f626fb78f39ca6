package dedup

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// state is one transaction's view of the dedup buckets, with caches of
// what it decoded.
type state struct {
	d   *Deduper
	set *settings // the options of this transaction
	tx  *bbolt.Tx
	stx *store.Tx

	meta, unions, bydate, members, profiles, edges *bbolt.Bucket
	cands                                          *candIndex // loaded by loadCandidates
	storedGen                                      uint64     // the generation this transaction started from

	now        time.Time
	ctx        context.Context // a bulk rebuild's, which stops it once done; else nil
	sources    map[string]Source
	profs      map[string]*profile            // nil value: the record is gone
	ahead      map[string]*profile            // decoded ahead of clusterEach (profilesAhead)
	recs       map[string]*marc.Record        // decoded records, by key
	raws       map[string]*store.SourceRecord // stored ISO 2709 records, by key
	olds       map[string]*store.SourceRecord // the batch's records as they were before it (nil: not stored)
	touched    map[string]bool                // records whose profile or holdings changed
	seeds      map[string]bool                // records whose cluster must be recomputed
	jobs       []unionJob                     // union records to rebuild
	removed    bool                           // some record lost its edges: clusters may split
	newEdges   []newEdge                      // edges found in this batch
	edgePuts   []edgePut                      // edge writes, queued (see flushEdges)
	memberPuts []memberPut                    // members writes, queued (see flushMembers)
	stamp      time.Time                      // this commit's datestamp, once needed
	changes    []UnionRecord                  // for the listeners

	live, deleted int // union counters
	countsDirty   bool
	libs          libraryCounts // the union records each library holds
	ords, seqs    metaCounter   // the next record ordinal, the last union sequence
	stats         *RebuildStats // when rebuilding
	// quiet: the listeners are not told (a bulk build, whose caller
	// rebuilds what they derive afterwards), so the changes are not kept.
	quiet bool
	// whole, set by Rebuild's linking and clustering, which cluster every
	// record again (clusterEach): every record counts as touched, no
	// seeds or new edges are kept, and the edge and member writes and
	// the union records to build go to its queues, which Rebuild writes
	// in key order afterwards.
	whole *wholeQueues
	// committedProfiles: every profile this transaction reads was
	// committed before it (Rebuild's clustering, after its profiling
	// transactions), so read transactions of other goroutines see them.
	committedProfiles bool
}

func (d *Deduper) newState(tx *bbolt.Tx, now time.Time) (*state, error) {
	d.adoptOptions()
	st := &state{
		d: d, set: d.settings(), tx: tx, stx: store.WrapTx(tx), now: now,
		sources: map[string]Source{},
		profs:   map[string]*profile{},
		recs:    map[string]*marc.Record{},
		raws:    map[string]*store.SourceRecord{},
		olds:    map[string]*store.SourceRecord{},
		touched: map[string]bool{},
		seeds:   map[string]bool{},
		ords:    metaCounter{key: keyOrdinal, width: 4},
		seqs:    metaCounter{key: keySeq, width: 8},
	}
	for _, p := range []struct {
		b    **bbolt.Bucket
		name []byte
	}{
		{&st.meta, bucketMeta}, {&st.unions, bucketUnions}, {&st.bydate, bucketByDate},
		{&st.members, bucketMembers}, {&st.profiles, bucketProfiles},
		{&st.edges, bucketEdges},
	} {
		b, err := tx.CreateBucketIfNotExists(p.name)
		if err != nil {
			return nil, fmt.Errorf("dedup: create bucket %s: %w", p.name, err)
		}
		*p.b = b
	}
	// Datestamps are allocated in increasing order and record keys
	// arrive in key order per source, so these buckets mostly grow at
	// one end: pages split fuller than bbolt's default of half, and a
	// commit rewrites fewer of them. The edges' reverse direction lands
	// all over its bucket and keeps the default. Union values grow in
	// place (a member key, maybe an 852, per member joining), though
	// their ids are allocated in order: a page split at 60 % leaves them
	// room (pages a 100k-record benchmark wrote: 120,739 at 0.6, 126,452
	// at 0.9).
	st.bydate.FillPercent, st.unions.FillPercent = 1, 0.6
	st.profiles.FillPercent, st.members.FillPercent = 0.9, 0.9
	var err error
	st.live, st.deleted, err = Count(tx)
	if err != nil {
		return nil, err
	}
	// The profile cache is good only if the last batch this Deduper ran
	// committed.
	var stored uint64
	if v := st.meta.Get(keyGen); len(v) == 8 {
		stored = binary.BigEndian.Uint64(v)
	}
	if stored != d.gen {
		d.cache.reset()
	}
	st.storedGen = stored
	d.gen = stored + 1
	if err := st.meta.Put(keyGen, seqKey(d.gen)); err != nil {
		return nil, err
	}
	return st, nil
}

// source returns the description of a source: from the options, else
// from its registration in the store.
func (st *state) source(id string) Source {
	if s, ok := st.sources[id]; ok {
		return s
	}
	s, ok := st.set.configured(id)
	if !ok {
		if info, err := st.stx.Source(id); err == nil {
			s = Source{LibraryCode: info.LibraryCode, Level: info.Level}
		}
		s.Priority = st.set.levelPriority(s.Level)
		s = st.set.withDefaults(id, s)
		st.d.registered.Store(id, s)
	}
	st.sources[id] = s
	return s
}

// profile returns the stored profile of key, nil when it has none.
func (st *state) profile(key string) (*profile, error) {
	if p, ok := st.profs[key]; ok {
		return p, nil
	}
	if p, ok := st.ahead[key]; ok {
		return p, nil
	}
	if p, ok := st.d.cache.get(key); ok {
		return p, nil
	}
	v := st.profiles.Get([]byte(key))
	if v == nil {
		st.profs[key] = nil
		return nil, nil
	}
	p, err := decodeProfile(v)
	if err != nil {
		return nil, fmt.Errorf("dedup: record %q: %w", key, err)
	}
	st.d.cache.put(key, p)
	return p, nil
}

// metaCounter is a counter of dedup.meta read at its first use in a
// transaction and written back once, by finish: allocating an ordinal
// or a union id read and wrote the meta bucket for every record.
type metaCounter struct {
	key         []byte
	width       int // bytes of its big-endian value: 4 or 8
	v           uint64
	read, dirty bool
}

// counter returns c, read from dedup.meta if it was not yet.
func (st *state) counter(c *metaCounter) *metaCounter {
	if !c.read {
		switch v := st.meta.Get(c.key); {
		case len(v) == 4 && c.width == 4:
			c.v = uint64(binary.BigEndian.Uint32(v))
		case len(v) == 8 && c.width == 8:
			c.v = binary.BigEndian.Uint64(v)
		}
		c.read = true
	}
	return c
}

// finish writes the counters and tells the listeners.
func (st *state) finish() error {
	for _, c := range []*metaCounter{&st.ords, &st.seqs} {
		if !c.dirty {
			continue
		}
		v := binary.BigEndian.AppendUint64(nil, c.v)
		if err := st.meta.Put(c.key, v[8-c.width:]); err != nil {
			return err
		}
		c.dirty = false
	}
	if st.countsDirty {
		var v [16]byte
		binary.BigEndian.PutUint64(v[:8], uint64(st.live))
		binary.BigEndian.PutUint64(v[8:], uint64(st.deleted))
		if err := st.meta.Put(keyCounts, v[:]); err != nil {
			return err
		}
	}
	if err := st.libs.flush(st.meta); err != nil {
		return err
	}
	if !st.stamp.IsZero() {
		if err := st.meta.Put(keyLastDate, appendU64(nil, uint64(st.stamp.UnixNano()))); err != nil {
			return err
		}
	}
	if len(st.changes) == 0 {
		return nil
	}
	for _, l := range st.d.listeners {
		if err := l.UnionChanged(st.tx, st.changes); err != nil {
			return fmt.Errorf("dedup: listener %T: %w", l, err)
		}
	}
	return nil
}

// telling reports whether the listeners hear of this transaction's
// changes.
// interrupted returns the error that stops a bulk rebuild's long loops
// (ctx's, once it is done), or nil.
func (st *state) interrupted() error {
	if st.ctx == nil {
		return nil
	}
	return st.ctx.Err()
}

func (st *state) telling() bool { return !st.quiet && len(st.d.listeners) > 0 }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// nextSeq allocates a union sequence number (and so a union id).
func (st *state) nextSeq() (uint64, error) {
	c := st.counter(&st.seqs)
	c.v++
	c.dirty = true
	return c.v, nil
}

// nextOrdinal allocates a record ordinal.
func (st *state) nextOrdinal() (uint32, error) {
	c := st.counter(&st.ords)
	if c.v >= uint64(^uint32(0)) {
		return 0, fmt.Errorf("dedup: out of record ordinals (run unicat dedup --rebuild)")
	}
	c.v++
	c.dirty = true
	return uint32(c.v - 1), nil
}

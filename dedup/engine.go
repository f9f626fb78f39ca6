package dedup

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/internal/parallel"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// Candidate caps. A key shared by more records than this says little (a
// title like "Tuyển tập", an author's every book in one year), and
// following it would make every batch compare against thousands.
const (
	capStrong = 256 // ISBN, identifiers, title+author: the first ones
	// maxEdges bounds the matches stored per record and batch: one is
	// enough to join a cluster, a few keep it whole when members go.
	maxEdges     = 6
	capWeak      = 64 // author+year, title initials+year
	maxComponent = 20000
	// maxCache bounds the profiles kept in memory between batches (twice
	// this, see profileCache): a record's candidates are mostly recent.
	maxCache = 32768
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
	sources    map[string]Source
	profs      map[string]*profile            // nil value: the record is gone
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

// configured returns the description of a source given in the options.
func (set *settings) configured(id string) (Source, bool) {
	s, ok := set.opts.Sources[id]
	return set.withDefaults(id, s), ok
}

// described returns what is known of a source outside a transaction: the
// options, or its registration as the last batch read it. ApplyChanges
// checks what Prepare used against the registration in the transaction.
func (d *Deduper) described(set *settings, id string) (Source, bool) {
	if s, ok := set.configured(id); ok {
		return s, true
	}
	if v, ok := d.registered.Load(id); ok {
		return v.(Source), true
	}
	return Source{}, false
}

func (set *settings) withDefaults(id string, s Source) Source {
	if s.LibraryCode == "" {
		s.LibraryCode = id
	}
	if s.OrgCode == "" {
		s.OrgCode = set.orgCode(s.LibraryCode)
	}
	if s.Holdings == "" {
		s.Holdings = "852"
	}
	return s
}

func (set *settings) levelPriority(level string) int {
	for i, l := range set.opts.LevelPriority {
		if l == level {
			return len(set.opts.LevelPriority) - i
		}
	}
	return 0
}

// profile returns the stored profile of key, nil when it has none.
func (st *state) profile(key string) (*profile, error) {
	if p, ok := st.profs[key]; ok {
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

// profileCache keeps the profiles decoded lately, without a cost per
// read: puts go to cur, and when cur is full it becomes old and a new cur
// starts, so the most recent maxCache to 2×maxCache profiles stay. Reads
// may run on several goroutines while nothing puts.
type profileCache struct {
	cur, old map[string]*profile
}

func (c *profileCache) get(key string) (*profile, bool) {
	if p, ok := c.cur[key]; ok {
		return p, true
	}
	p, ok := c.old[key]
	return p, ok
}

func (c *profileCache) put(key string, p *profile) {
	if c.cur == nil {
		c.cur = make(map[string]*profile)
	}
	if len(c.cur) >= maxCache {
		c.old, c.cur = c.cur, make(map[string]*profile, maxCache)
	}
	c.cur[key] = p
	delete(c.old, key)
}

func (c *profileCache) del(key string) {
	delete(c.cur, key)
	delete(c.old, key)
}

func (c *profileCache) reset() { c.cur, c.old = nil, nil }

// loadCandidates makes the candidate index ready for this transaction:
// it must be called before anything is written, and it is current again
// only if the transaction commits (see candIndex).
func (st *state) loadCandidates() error {
	c, err := st.candidateIndex(st.storedGen)
	if err != nil {
		return err
	}
	c.gen = st.d.gen
	st.cands = c
	return nil
}

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
		pr.rec, pr.prof, pr.err = st.set.profileStored(c.New, st.sources[c.Source])
		return nil
	})
	return out
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

// linkJob is one record whose edges are to be found.
type linkJob struct {
	key     string
	p       *profile
	skip    func(string) bool // candidates to leave to a later job
	cands   []string
	cprofs  []*profile
	matches []edgeRef
}

// maxCands bounds the candidates a record is compared with.
const maxCands = 128

// compare matches j's record with its candidates in order, keeping up to
// maxEdges matches.
func (j *linkJob) compare() {
	src := sourceOf(j.key)
	for k, cp := range j.cprofs {
		if rule, ok := match(j.p, cp, sourceOf(j.cands[k]) == src); ok {
			j.matches = append(j.matches, edgeRef{other: j.cands[k], ord: cp.ord, rule: rule})
			if len(j.matches) == maxEdges {
				break
			}
		}
	}
}

// collect gathers j's candidates and their profiles, by get.
func (st *state) collect(j *linkJob, get func(string) (*profile, error)) error {
	return st.forCandidates(j.key, j.p, func(c string) (bool, error) {
		if j.skip != nil && j.skip(c) {
			return true, nil
		}
		cp, err := get(c)
		if err != nil || cp == nil {
			return err == nil, err
		}
		j.cands = append(j.cands, c)
		j.cprofs = append(j.cprofs, cp)
		return len(j.cands) < maxCands, nil
	})
}

// link finds and stores the edges of the jobs' records.
//
// In a batch, candidates are found, read and compared on every core: the
// candidate index and the caches are only read meanwhile, the profiles
// this batch set are all in st.profs, and any other is read through a
// read-only transaction of each worker's own (bbolt transactions are for
// one goroutine), which sees them as the last batch committed them. A
// rebuild, whose profiles exist only in its transaction, reads them in
// order and compares in parallel. The edges are written in order.
func (st *state) link(jobs []linkJob) error {
	if st.stats != nil {
		for i := range jobs {
			if err := st.collect(&jobs[i], st.profile); err != nil {
				return err
			}
		}
		parallel.For(len(jobs), parallel.Workers(len(jobs), minParallel), func(_, i int) error {
			jobs[i].compare()
			return nil
		})
	} else if err := st.linkParallel(jobs); err != nil {
		return err
	}
	for i := range jobs {
		j := &jobs[i]
		for _, m := range j.matches {
			st.putEdge(j.p.ord, m.ord, m.rule)
			st.seeds[m.other] = true
			st.newEdges = append(st.newEdges, newEdge{j.key, m.other, ruleStrength(m.rule)})
		}
		j.cands, j.cprofs, j.matches = nil, nil, nil
	}
	return nil
}

// readers is how many goroutines forReaders uses for n items.
func readers(n int) int { return parallel.Workers(n, minParallel) }

// forReaders calls fn(rtx, w, i) for every i in [0, n), on readers(n)
// goroutines, each goroutine w in [0, readers(n)) reading through a
// read-only transaction of its own (rtx): the batch's write transaction
// is for one goroutine, and what a reader sees is what the last batch
// committed, which is all there is of what the batch did not change. The
// transactions end when forReaders returns.
func (st *state) forReaders(n int, fn func(rtx *bbolt.Tx, w, i int) error) error {
	rtxs := make([]*bbolt.Tx, readers(n))
	defer func() {
		for _, rtx := range rtxs {
			if rtx != nil {
				rtx.Rollback()
			}
		}
	}()
	for w := range rtxs {
		var err error
		if rtxs[w], err = st.tx.DB().Begin(false); err != nil {
			return fmt.Errorf("dedup: read transaction: %w", err)
		}
	}
	return parallel.For(n, len(rtxs), func(w, i int) error { return fn(rtxs[w], w, i) })
}

func (st *state) linkParallel(jobs []linkJob) error {
	// Per reader: its profiles bucket, and the profiles it decoded (for
	// the cache).
	buckets, read := make([]*bbolt.Bucket, readers(len(jobs))), make([]map[string]*profile, readers(len(jobs)))
	err := st.forReaders(len(jobs), func(rtx *bbolt.Tx, w, i int) error {
		if read[w] == nil {
			buckets[w], read[w] = rtx.Bucket(bucketProfiles), map[string]*profile{}
		}
		get := func(key string) (*profile, error) {
			if p, ok := st.profs[key]; ok {
				return p, nil
			}
			if p, ok := st.d.cache.get(key); ok {
				return p, nil
			}
			if p, ok := read[w][key]; ok {
				return p, nil
			}
			var v []byte
			if buckets[w] != nil {
				v = buckets[w].Get([]byte(key))
			}
			if v == nil {
				read[w][key] = nil
				return nil, nil
			}
			p, err := decodeProfile(v)
			if err != nil {
				return nil, fmt.Errorf("dedup: record %q: %w", displayKey(key), err)
			}
			read[w][key] = p
			return p, nil
		}
		if err := st.collect(&jobs[i], get); err != nil {
			return err
		}
		jobs[i].compare()
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range read {
		for k, p := range m {
			if p != nil {
				st.d.cache.put(k, p)
			}
		}
	}
	return nil
}

// minParallel is the fewest jobs worth spreading over several cores.
const minParallel = 32

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

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

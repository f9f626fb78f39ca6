package search

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/internal/parallel"
)

// A rebuild's chunk of documents, gathered and written. A chunk of 65,536
// catalog documents holds about ten million postings under two to three
// million term keys. Kept as a map from term key to a growing slice of
// document numbers, they cost the rebuild most of its time on one core:
// a slice per term to grow, and pointers everywhere for the collector to
// follow. So the postings are flat: a term key gets a number in its
// shard's dictionary, a posting is one uint64 (term number, document
// number) appended to a slice without pointers, and the write groups
// them by a counting sort. The term keys are split into shards by hash,
// one a core, so that every part of it (dictionary, grouping, sorting
// the terms, encoding the postings) runs on every core; only the puts,
// merged from the shards in key order, are serial, as bbolt's writer is.

// block accumulates one chunk of documents for a rebuild.
type block struct {
	shards  []termShard
	ids     []idEntry
	docs    [][]byte // encoded, by docno - first
	sorts   [][]byte
	first   uint32
	started bool
}

type idEntry struct {
	id    string
	docno uint32
}

// termShard holds the postings of the term keys whose hash falls to it.
type termShard struct {
	dict  termDict
	last  []uint32 // by term number: 1 + the last document added to it
	pairs []uint64 // term number << 32 | document number, in the order added
}

// add adds the posting of k in document docno, once however often the
// document has k: documents come in ascending order.
func (sh *termShard) add(k hashedKey, docno uint32) {
	n := sh.dict.number(k.termKey, k.h)
	if int(n) == len(sh.last) {
		sh.last = append(sh.last, 0)
	}
	if sh.last[n] == docno+1 {
		return
	}
	sh.last[n] = docno + 1
	sh.pairs = append(sh.pairs, uint64(n)<<32|uint64(docno))
}

// hashedKey is a term key with its termHash.
type hashedKey struct {
	termKey
	h uint64
}

// shardOf returns the shard, among n, of the key whose hash is h. (The
// dictionary places keys by the hash's low bits.)
func shardOf(h uint64, n int) int {
	return int(h >> 32 % uint64(n))
}

// newBlock returns an empty block of the given shards. Earlier chunks'
// blocks, when not nil, lend their arrays: chunks are alike, and growing
// ten million postings and a dictionary of millions of keys from nothing
// for each cost more than the rest of gathering them. finished lends
// what its finish left free (postings, last documents, the dictionaries'
// tables); written lends its dictionaries' keys, which a finished
// block's ready shards point into until its writes end.
func newBlock(shards int, finished, written *block) *block {
	b := &block{shards: make([]termShard, min(shards, maxShards))}
	for i := range b.shards {
		sh := &b.shards[i]
		if finished != nil && i < len(finished.shards) {
			f := &finished.shards[i]
			sh.pairs, sh.last, sh.dict.slots = f.pairs[:0], f.last[:0], f.dict.slots
		}
		if written != nil && i < len(written.shards) {
			w := &written.shards[i]
			sh.dict.bytes, sh.dict.ends = w.dict.bytes, w.dict.ends
		}
		sh.dict.reset()
	}
	return b
}

// maxShards bounds the shards of a block (one a core): beyond a few dozen
// the puts, which are serial, are all that is left to speed up.
const maxShards = 64

// splitter groups documents' keys by shard for a block. What it returns
// lies in arrays it keeps: a rebuild's keys of a batch of documents are
// read once, by addDocs, before the next batch is split (they were 8.4 of
// the 65 GB the 1M build allocated when each document had arrays of its
// own).
type splitter struct {
	hashed []hashedKey   // one document's keys with their hashes
	of     []uint8       // each of those keys' shard
	keys   []hashedKey   // the batch's keys, grouped by document and shard
	groups [][]hashedKey // the batch's documents' shards
}

// reset forgets the keys split so far; what split returned before must no
// longer be read.
func (sp *splitter) reset() {
	sp.keys, sp.groups = sp.keys[:0], sp.groups[:0]
}

// split returns keys with their hashes, grouped by shard (a counting sort:
// each shard's keys keep their order), valid until the next reset.
func (sp *splitter) split(keys []termKey, shards int) [][]hashedKey {
	sp.hashed = sp.hashed[:0]
	for _, k := range keys {
		sp.hashed = append(sp.hashed, hashedKey{k, termHash(k.ix, k.kind, k.term)})
	}
	sp.of = sp.of[:0]
	var count [maxShards + 1]int
	for _, k := range sp.hashed {
		s := shardOf(k.h, shards)
		sp.of = append(sp.of, uint8(s))
		count[s+1]++
	}
	for s := 1; s <= shards; s++ {
		count[s] += count[s-1]
	}
	// Appended as a whole: slices split before keep the array they were
	// split into when this one grows.
	base := len(sp.keys)
	sp.keys = slices.Grow(sp.keys, len(keys))[:base+len(keys)]
	grouped := sp.keys[base:]
	next := count
	for i, k := range sp.hashed {
		grouped[next[sp.of[i]]] = k
		next[sp.of[i]]++
	}
	first := len(sp.groups)
	for s := 0; s < shards; s++ {
		sp.groups = append(sp.groups, grouped[count[s]:count[s+1]:count[s+1]])
	}
	return sp.groups[first:len(sp.groups):len(sp.groups)]
}

// addDocs adds documents numbered from first: each one's id, encoded
// form and sort entries, and its term keys, split by shard, each shard on
// a core of its own.
func (b *block) addDocs(first uint32, docs []storedDoc, keys [][][]hashedKey, encoded [][]byte) error {
	if !b.started {
		b.first, b.started = first, true
	}
	for i := range docs {
		docno := first + uint32(i)
		b.ids = append(b.ids, idEntry{docs[i].id, docno})
		b.docs = append(b.docs, encoded[i])
		b.sorts = append(b.sorts, sortEntries(docs[i].sort, docno)...)
	}
	return parallel.For(len(b.shards), len(b.shards), func(_, s int) error {
		sh := &b.shards[s]
		for i := range keys {
			for _, k := range keys[i][s] {
				sh.add(k, first+uint32(i))
			}
		}
		return nil
	})
}

// shardPostings is a shard made ready to write: its terms in key order
// (index id, kind, term), each with its encoded postings. Nothing in it
// holds a pointer but its arrays and the dictionary: with a slice of its
// key and one of its own encoded postings, each of a chunk's two to three
// million terms would be two pointers and an object for the collector to
// follow at each of its cycles while the chunk is written (under the 1M
// import's memory limit, about one cycle a second).
type shardPostings struct {
	dict   *termDict // the terms' bytes
	order  []uint32  // the terms' numbers, in key order
	values []byte    // the terms' encoded postings, back to back, in order
	ends   []int     // ends[i]: where the i-th term's postings end in values
}

// len returns how many terms sp holds.
func (sp *shardPostings) len() int { return len(sp.order) }

// term returns the key of the i-th term.
func (sp *shardPostings) term(i int) []byte { return sp.dict.key(sp.order[i]) }

// value returns the encoded postings of the i-th term.
func (sp *shardPostings) value(i int) []byte {
	start := 0
	if i > 0 {
		start = sp.ends[i-1]
	}
	return sp.values[start:sp.ends[i]:sp.ends[i]]
}

// finish groups the shard's postings by term (a counting sort, which
// keeps each term's document numbers ascending), sorts its terms and
// encodes their postings.
func (sh *termShard) finish() (shardPostings, error) {
	n := sh.dict.len()
	start := make([]uint32, n+1)
	for _, p := range sh.pairs {
		start[p>>32+1]++
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	flat := make([]uint32, len(sh.pairs))
	next := slices.Clone(start[:n])
	for _, p := range sh.pairs {
		t := p >> 32
		flat[next[t]] = uint32(p)
		next[t]++
	}
	order := sh.dict.sorted()
	// Arrays take a byte and two a document: what most terms need.
	out := shardPostings{dict: &sh.dict, order: order, values: make([]byte, 0, n+2*len(sh.pairs)), ends: make([]int, n)}
	for i, t := range order {
		var err error
		if out.values, err = appendSorted(out.values, flat[start[t]:start[t+1]]); err != nil {
			return out, err
		}
		out.ends[i] = len(out.values)
	}
	return out, nil
}

// appendSorted appends to dst the encoding of ascending, distinct
// document numbers of one chunk, as encodePostings encodes their bitmap.
func appendSorted(dst []byte, docs []uint32) ([]byte, error) {
	if len(docs) > 0 && len(docs) <= maxArray {
		dst = append(dst, postArray)
		for _, v := range docs {
			dst = append(dst, byte(v>>8), byte(v))
		}
		return dst, nil
	}
	v, err := encodePostings(roaring.BitmapOf(docs...))
	return append(dst, v...), err
}

// putsPerTx bounds the postings one transaction of a rebuild writes: a
// chunk's 860,000 puts in one transaction held about 100 MB of bbolt's
// nodes until its commit, on top of the chunk itself. (Unlike appends,
// extsort.AppendsPerTx, these puts fall between the earlier chunks'
// keys, into nodes that stay small: at 2^14 a transaction the 1M
// import's 11 chunks took as long, 23.4-24.3 s in all either way.)
const putsPerTx = 1 << 17

// finish makes every shard ready to write, each on a core of its own.
// The block's arrays other than the dictionaries' keys are free for
// another block after it.
func (b *block) finish() ([]shardPostings, error) {
	ready := make([]shardPostings, len(b.shards))
	err := parallel.For(len(b.shards), len(b.shards), func(_, s int) error {
		var err error
		ready[s], err = b.shards[s].finish()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search: rebuild: postings: %w", err)
	}
	return ready, nil
}

// write writes the chunk, its shards made ready: postings, documents and
// ids, each in key order, in transactions of db. The index is marked as
// being rebuilt meanwhile, so no reader sees a chunk half written.
func (b *block) write(db Updater, ready []shardPostings) error {
	m := merger{ready: ready, at: make([]int, len(ready)), chunk: uint16(b.first >> chunkBits)}
	for !m.done() {
		err := db.Update(func(tx *bbolt.Tx) error {
			bk := openBuckets(tx)
			if bk == nil {
				return errors.New("search: buckets vanished during rebuild")
			}
			// Fresh keys arrive in order: pack the pages full.
			bk.terms.FillPercent = 1
			return m.put(bk.terms, putsPerTx)
		})
		if err != nil {
			return err
		}
	}
	return db.Update(b.writeDocs)
}

// writeDocs writes the chunk's documents and ids. (Its sort entries fall
// between those of every other chunk: the rebuild writes them all at the
// end, in order.)
func (b *block) writeDocs(tx *bbolt.Tx) error {
	bk := openBuckets(tx)
	if bk == nil {
		return errors.New("search: buckets vanished during rebuild")
	}
	bk.docs.FillPercent = 1
	for i, v := range b.docs {
		if err := bk.docs.Put(docnoKey(b.first+uint32(i)), v); err != nil {
			return err
		}
	}
	sort.Slice(b.ids, func(i, j int) bool { return b.ids[i].id < b.ids[j].id })
	// Ids come in id order, chunk after chunk: pages split full (100k
	// bench store: 50 % → 99 % of each page used).
	bk.ids.FillPercent = 1
	for _, e := range b.ids {
		if bk.ids.Get([]byte(e.id)) != nil {
			return fmt.Errorf("search: rebuild: id %s occurs twice", e.id)
		}
		if err := bk.ids.Put([]byte(e.id), docnoKey(e.docno)); err != nil {
			return err
		}
	}
	return nil
}

// merger puts the postings of every shard, merged in key order.
type merger struct {
	ready []shardPostings
	at    []int // per shard, the next term to put
	chunk uint16
	kb    []byte
}

func (m *merger) done() bool {
	for s := range m.ready {
		if m.at[s] < m.ready[s].len() {
			return false
		}
	}
	return true
}

// put puts the next limit postings, or all that are left. bbolt holds
// the values, slices of the shards' arrays, until the commit.
func (m *merger) put(terms *bbolt.Bucket, limit int) error {
	for n := 0; n < limit; n++ {
		best := -1
		var bestTerm []byte
		for s := range m.ready {
			r := &m.ready[s]
			if m.at[s] == r.len() {
				continue
			}
			if t := r.term(m.at[s]); best < 0 || bytes.Compare(t, bestTerm) < 0 {
				best, bestTerm = s, t
			}
		}
		if best < 0 {
			return nil
		}
		v := m.ready[best].value(m.at[best])
		m.at[best]++
		m.kb = dictKeyBytes(m.kb[:0], bestTerm, m.chunk)
		if err := terms.Put(m.kb, v); err != nil {
			return fmt.Errorf("search: put postings %q: %w", m.kb, err)
		}
	}
	return nil
}

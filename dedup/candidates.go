package dedup

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
)

// Candidate caps. A key shared by more records than this says little (a
// title like "Tuyển tập", an author's every book in one year), and
// following it would make every batch compare against thousands.
const (
	capStrong = 256 // ISBN, identifiers, title+author: the first ones
	capWeak   = 64  // author+year, title initials+year
)

// The candidate index answers "which records share this match key?" for
// every record a batch brings. It lives in memory, not in the file: its
// keys are hashes, which land all over a B+tree, so on disk every batch
// rewrote most of the tree's pages at commit, the cost growing with the
// catalog. What the file keeps is enough to rebuild it quickly: each
// profile stores its record's ordinal and key hashes (profile.go), so a
// rebuild reads those prefixes without decoding the profiles.
//
// It is rebuilt when it may disagree with the file: on a Deduper's first
// batch, and after a batch that did not commit (its changes to the index
// are not undone one by one; the generation counter in dedup.meta tells).
//
// Entries are uint64s, the key hash in the high half and the record's
// ordinal in the low half, so that one sorted slice (base) holds most of
// them at eight bytes each with no pointers for the garbage collector to
// follow. Recent additions go to a map (delta) and removals of base
// entries to a set (dead); both are merged into base when they grow past
// a share of it, which keeps the merges' cost linear overall. A
// directory by the hash's top bits (dir) narrows a lookup in base to a
// few dozen entries: a binary search over all of them missed the cache
// at almost every step.
type candIndex struct {
	gen   uint64   // the store generation the index reflects
	names []string // ordinal → record key; "" when the record is gone
	base  []uint64 // sorted entries
	dir   []uint32 // dir[p]: the first entry of base whose hash's top dirBits bits are ≥ p
	dead  map[uint64]bool
	delta map[uint32][]uint32
	nnew  int // entries in delta
}

// minMerge is the smallest delta worth merging into base.
const minMerge = 1 << 16

// dirBits is how many top bits of a key hash the directory of base
// resolves: 2^16 ranges, 256 KiB, a few entries each at a million
// records.
const dirBits = 16

// setBase replaces base with sorted entries and rebuilds the directory.
func (c *candIndex) setBase(base []uint64) {
	c.base = base
	if len(c.dir) != 1<<dirBits+1 {
		c.dir = make([]uint32, 1<<dirBits+1)
	}
	i := 0
	for p := range c.dir {
		for i < len(base) && base[i]>>(64-dirBits) < uint64(p) {
			i++
		}
		c.dir[p] = uint32(i)
	}
}

// baseRange returns the part of base that may hold entries of hash h.
func (c *candIndex) baseRange(h uint32) []uint64 {
	if len(c.base) == 0 {
		return nil
	}
	p := h >> (32 - dirBits)
	return c.base[c.dir[p]:c.dir[p+1]]
}

func newCandIndex() *candIndex {
	return &candIndex{dead: map[uint64]bool{}, delta: map[uint32][]uint32{}}
}

func entry(h, ord uint32) uint64 { return uint64(h)<<32 | uint64(ord) }

// keyHash32 is the candidate index's hash of a match key: FNV-64a folded
// to 32 bits. A collision only brings an extra candidate, which the
// comparison turns down; at a few million keys that is a few lookups in a
// thousand.
func keyHash32(k string) uint32 {
	h := fnv.New64a()
	h.Write([]byte(k))
	s := h.Sum64()
	return uint32(s>>32) ^ uint32(s)
}

// name records the key of ordinal ord.
func (c *candIndex) name(ord uint32, key string) {
	if int(ord) >= len(c.names) {
		c.names = slices.Grow(c.names, int(ord)+1-len(c.names))[:ord+1]
	}
	c.names[ord] = key
}

// nameOf returns the key of the record of ordinal ord, "" when it is
// gone.
func (c *candIndex) nameOf(ord uint32) string {
	if int(ord) < len(c.names) {
		return c.names[ord]
	}
	return ""
}

func (c *candIndex) add(ord uint32, key string, hashes []uint32) {
	c.name(ord, key)
	for _, h := range hashes {
		if e := entry(h, ord); c.dead[e] {
			delete(c.dead, e) // removed and added back in one batch
			continue
		}
		c.delta[h] = append(c.delta[h], ord)
		c.nnew++
	}
}

func (c *candIndex) remove(ord uint32, hashes []uint32) {
	if int(ord) < len(c.names) {
		c.names[ord] = ""
	}
	for _, h := range hashes {
		if l := c.delta[h]; len(l) > 0 {
			if i := slices.Index(l, ord); i >= 0 {
				l = slices.Delete(l, i, i+1)
				if len(l) == 0 {
					delete(c.delta, h)
				} else {
					c.delta[h] = l
				}
				c.nnew--
				continue
			}
		}
		e := entry(h, ord)
		if _, found := slices.BinarySearch(c.baseRange(h), e); found {
			c.dead[e] = true
		}
	}
}

// lookup calls fn with the ordinals of the records having hash h, those
// in base first (in ordinal order), until fn returns false.
func (c *candIndex) lookup(h uint32, fn func(ord uint32) bool) {
	base := c.baseRange(h)
	i, _ := slices.BinarySearch(base, entry(h, 0))
	for ; i < len(base) && base[i]>>32 == uint64(h); i++ {
		e := base[i]
		if len(c.dead) > 0 && c.dead[e] {
			continue
		}
		if !fn(uint32(e)) {
			return
		}
	}
	for _, ord := range c.delta[h] {
		if !fn(ord) {
			return
		}
	}
}

// compact merges delta and dead into base once they are large enough to
// be worth a pass over base; force merges whatever there is.
func (c *candIndex) compact(force bool) {
	if !force && c.nnew+len(c.dead) < max(minMerge, len(c.base)/4) {
		return
	}
	add := make([]uint64, 0, c.nnew)
	for h, ords := range c.delta {
		for _, o := range ords {
			add = append(add, entry(h, o))
		}
	}
	sortEntries(add)
	out := make([]uint64, 0, len(c.base)-len(c.dead)+len(add))
	i, j := 0, 0
	for i < len(c.base) || j < len(add) {
		var e uint64
		if j == len(add) || i < len(c.base) && c.base[i] < add[j] {
			e = c.base[i]
			i++
			if c.dead[e] {
				continue
			}
		} else {
			e = add[j]
			j++
		}
		out = append(out, e)
	}
	c.setBase(out)
	clear(c.dead)
	clear(c.delta)
	c.nnew = 0
}

// candidateIndex returns the Deduper's candidate index, rebuilding it from
// the profiles bucket when it does not reflect the generation the
// transaction started from (stored).
func (st *state) candidateIndex(stored uint64) (*candIndex, error) {
	d := st.d
	if d.cands != nil && d.cands.gen == stored {
		d.cands.compact(false)
		return d.cands, nil
	}
	c := newCandIndex()
	err := st.profiles.ForEach(func(k, v []byte) error {
		ord, hashes, err := profileIndexPart(v)
		if err != nil {
			return fmt.Errorf("dedup: record %q: %w", displayKey(string(k)), err)
		}
		c.name(ord, string(k))
		for _, h := range hashes {
			c.base = append(c.base, entry(h, ord))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortEntries(c.base)
	c.setBase(c.base)
	c.gen = stored
	d.cands = c
	return c, nil
}

// forCandidates calls fn with the key and ordinal of each record sharing
// a key with p (rec itself left out), each once, key by key in the order
// of p.keys, until fn returns false. Lists are read up to capStrong
// entries; the weak keys' lists are skipped when longer than capWeak,
// being too common to mean anything.
func (st *state) forCandidates(rec string, p *profile, fn func(string, uint32) (bool, error)) error {
	return st.forCandidateOrds(p, func(ord uint32) (bool, error) {
		name := st.cands.names[ord]
		if name == "" || name == rec {
			return true, nil
		}
		return fn(name, ord)
	})
}

// forCandidateOrds is forCandidates by ordinal alone, p's own left out,
// dead ones not: the record of an ordinal is read only if fn needs it
// (at 1M records reading and comparing the names of every candidate cost
// 6 CPU-seconds, most of them cache misses).
func (st *state) forCandidateOrds(p *profile, fn func(uint32) (bool, error)) error {
	c := st.cands
	var seen ordSet
	seen.add(p.ord)
	var list []uint32
	for i, h := range p.khash {
		limit := capStrong
		if p.kweak(i) {
			limit = capWeak
		}
		list = list[:0]
		over := false
		c.lookup(h, func(ord uint32) bool {
			if len(list) >= limit {
				over = true
				return false
			}
			if !seen.has(ord) {
				list = append(list, ord)
			}
			return true
		})
		if over && limit == capWeak {
			continue
		}
		for _, ord := range list {
			if seen.has(ord) {
				continue
			}
			seen.add(ord)
			more, err := fn(ord)
			if err != nil || !more {
				return err
			}
		}
	}
	return nil
}

// ordSet is a set of ordinals: a slice while small, as for nearly every
// record (a map made for each cost more than its lookups), a map beyond.
type ordSet struct {
	small []uint32
	large map[uint32]bool
}

const ordSetSmall = 32

func (s *ordSet) has(ord uint32) bool {
	if s.large != nil {
		return s.large[ord]
	}
	return slices.Contains(s.small, ord)
}

func (s *ordSet) add(ord uint32) {
	switch {
	case s.large != nil:
		s.large[ord] = true
	case len(s.small) < ordSetSmall:
		s.small = append(s.small, ord)
	default:
		s.large = make(map[uint32]bool, 2*ordSetSmall)
		for _, o := range s.small {
			s.large[o] = true
		}
		s.large[ord] = true
	}
}

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

// Key kinds, in the order candidates are considered.
const (
	kindISBN   = 'i' // ISBN-13
	kindID     = 'n' // other identifiers
	kindTA     = 't' // title key + author key
	kindAuthYr = 'y' // author key + year (capped), for re-typed titles
	kindAcro   = 'k' // initials of the title proper + year (capped)
)

// keys returns the index keys of p.
func (p *profile) keys() []string {
	out := make([]string, 0, len(p.isbns)+len(p.ids)+len(p.titleKeys)+2)
	for _, n := range p.isbns {
		out = append(out, string(rune(kindISBN))+n)
	}
	for _, id := range p.ids {
		out = append(out, string(rune(kindID))+id)
	}
	for _, tk := range p.titleKeys {
		out = append(out, string(rune(kindTA))+tk+"|"+p.author)
	}
	if p.author != "" && p.year != 0 {
		out = append(out, string(rune(kindAuthYr))+p.author+"|"+strconv.Itoa(p.year))
	}
	if a := acronym(p.proper, 8); a != "" {
		// A typing slip rarely hits a word's first letter, and a left-out
		// subtitle does not touch the title proper: its initials and the
		// year find the records whose title keys differ by such slips or
		// whose author is missing or written otherwise.
		out = append(out, string(rune(kindAcro))+a+"|"+strconv.Itoa(p.year))
	}
	return out
}

// kweak reports whether the i-th key is one of the capped fallbacks.
func (p *profile) kweak(i int) bool {
	return p.kkind[i] == kindAuthYr || p.kkind[i] == kindAcro
}

// acronym returns the first bytes of up to n words of folded s.
func acronym(s string, n int) string {
	var b []byte
	start := true
	for i := 0; i < len(s) && len(b) < n; i++ {
		if s[i] == ' ' {
			start = true
			continue
		}
		if start {
			b = append(b, s[i])
			start = false
		}
	}
	return string(b)
}

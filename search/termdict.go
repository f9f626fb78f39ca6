package search

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"hash/maphash"
	"slices"
)

// termDict numbers the distinct term keys of one shard of a rebuild's
// chunk, in the order they are first added.
//
// A chunk brings two to three million distinct keys. In a Go map of
// termKey, the lookups took 25 of a 1M rebuild's CPU-seconds, 11 of them
// in the control word's match (waiting on its cache line), and the
// collector followed every key's string on each of its cycles. Here
// nothing holds a pointer: the keys' bytes (index id, kind, term) lie
// back to back in one array, and the table is open addressing over
// uint64s, each the top half of the key's hash and the key's number + 1,
// so that a lookup reads one slot and, when the hash agrees, the key's
// bytes.
type termDict struct {
	bytes []byte   // every key's bytes, back to back
	ends  []int    // ends[n]: where key n's bytes end; it starts at ends[n-1] (0 for the first)
	slots []uint64 // 0: empty; else the hash's top 32 bits << 32 | key number + 1
}

// minSlots is the smallest table a dictionary makes.
const minSlots = 1 << 12

// termHash is the hash of a term key, for its shard (shardOf) and its
// slot in the shard's dictionary.
func termHash(ix, kind byte, term string) uint64 {
	return maphash.String(shardSeed, term) ^ indexKindHash(ix, kind)
}

// indexKindHash tells apart the hashes of one term in different indexes
// and kinds.
func indexKindHash(ix, kind byte) uint64 {
	return (uint64(ix)<<8 | uint64(kind)) * 0x9E3779B97F4A7C15
}

// shardSeed hashes term keys; any seed gives the same index.
var shardSeed = maphash.MakeSeed()

// reset empties d, keeping its arrays for the next chunk: chunks are
// alike, and growing a dictionary of millions of keys from nothing cost
// more than filling it.
func (d *termDict) reset() {
	d.bytes, d.ends = d.bytes[:0], d.ends[:0]
	clear(d.slots)
}

// len returns how many keys d holds.
func (d *termDict) len() int { return len(d.ends) }

// key returns the bytes of key n (index id, kind, term), valid until
// reset.
func (d *termDict) key(n uint32) []byte {
	start := 0
	if n > 0 {
		start = d.ends[n-1]
	}
	return d.bytes[start:d.ends[n]]
}

// number returns the number of k, whose hash is h, adding k if it is new.
func (d *termDict) number(k termKey, h uint64) uint32 {
	if 2*(len(d.ends)+1) > len(d.slots) {
		d.grow()
	}
	mask := uint64(len(d.slots) - 1)
	tag := h &^ 0xFFFFFFFF
	for i := h & mask; ; i = (i + 1) & mask {
		s := d.slots[i]
		if s == 0 {
			n := uint32(len(d.ends))
			d.bytes = append(d.bytes, k.ix, k.kind)
			d.bytes = append(d.bytes, k.term...)
			d.ends = append(d.ends, len(d.bytes))
			d.slots[i] = tag | uint64(n+1)
			return n
		}
		if s&^0xFFFFFFFF == tag {
			if b := d.key(uint32(s) - 1); b[0] == k.ix && b[1] == k.kind && string(b[2:]) == k.term {
				return uint32(s) - 1
			}
		}
	}
}

// grow doubles the table (at least minSlots), placing every key again by
// its hash, computed again from its bytes.
func (d *termDict) grow() {
	d.slots = make([]uint64, max(minSlots, 2*len(d.slots)))
	mask := uint64(len(d.slots) - 1)
	for n := range d.ends {
		b := d.key(uint32(n))
		h := maphash.Bytes(shardSeed, b[2:]) ^ indexKindHash(b[0], b[1])
		i := h & mask
		for d.slots[i] != 0 {
			i = (i + 1) & mask
		}
		d.slots[i] = h&^0xFFFFFFFF | uint64(n+1)
	}
}

// sorted returns the numbers of d's keys in key order.
//
// Sorted by comparing the keys' bytes, each comparison read two keys from
// wherever the dictionary holds them: 3.6 of a 1M rebuild's CPU-seconds,
// most of them waiting on memory. Here each number is sorted beside its
// key's first sixteen bytes, which decide most comparisons; only keys
// that share them are compared whole.
func (d *termDict) sorted() []uint32 {
	type prefixed struct {
		hi, lo uint64 // the key's first sixteen bytes, big-endian, zero-padded
		n      uint32
	}
	ps := make([]prefixed, d.len())
	for i := range ps {
		var b [16]byte
		copy(b[:], d.key(uint32(i)))
		ps[i] = prefixed{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), uint32(i)}
	}
	// Zero-padding keeps the order: a key shorter than sixteen bytes ties
	// only with keys it is a prefix of, followed by zero bytes, and those
	// are compared whole.
	slices.SortFunc(ps, func(a, b prefixed) int {
		if c := cmp.Compare(a.hi, b.hi); c != 0 {
			return c
		}
		if c := cmp.Compare(a.lo, b.lo); c != 0 {
			return c
		}
		return bytes.Compare(d.key(a.n), d.key(b.n))
	})
	out := make([]uint32, len(ps))
	for i, p := range ps {
		out[i] = p.n
	}
	return out
}

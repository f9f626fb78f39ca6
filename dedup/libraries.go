package dedup

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"go.etcd.io/bbolt"
)

// keyLibraries is the dedup.meta key of the live union records held by
// each library: uvarint count of libraries, then per library, in code
// order, its code (uvarint-counted), its union records and those it
// alone holds (uvarints).
var keyLibraries = []byte("libraries")

// LibraryCount is what the union catalog holds of one library.
type LibraryCount struct {
	Union int // live union records the library holds
	Alone int // of them, those no other library holds
}

// libraryCounts are the changes a batch makes to the union records each
// library holds, written by finish.
type libraryCounts struct {
	delta map[string]LibraryCount
}

// change counts a union record held by the libraries before (nil: none,
// or not live) that is now held by after (nil: deleted).
func (c *libraryCounts) change(before, after []string) {
	if c.delta == nil {
		c.delta = map[string]LibraryCount{}
	}
	for _, l := range before {
		d := c.delta[l]
		d.Union--
		if len(before) == 1 {
			d.Alone--
		}
		c.delta[l] = d
	}
	for _, l := range after {
		d := c.delta[l]
		d.Union++
		if len(after) == 1 {
			d.Alone++
		}
		c.delta[l] = d
	}
}

// flush adds the changes to the counts stored in meta.
func (c *libraryCounts) flush(meta *bbolt.Bucket) error {
	if len(c.delta) == 0 {
		return nil
	}
	counts, err := decodeLibraryCounts(meta.Get(keyLibraries))
	if err != nil {
		return err
	}
	for l, d := range c.delta {
		n := counts[l]
		n.Union += d.Union
		n.Alone += d.Alone
		if n.Union < 0 || n.Alone < 0 || n.Alone > n.Union {
			return fmt.Errorf("dedup: library %s would hold %d union records, %d alone", l, n.Union, n.Alone)
		}
		counts[l] = n
	}
	clear(c.delta)
	return meta.Put(keyLibraries, encodeLibraryCounts(counts))
}

func encodeLibraryCounts(counts map[string]LibraryCount) []byte {
	var dst []byte
	codes := slices.Sorted(maps.Keys(counts))
	n := 0
	for _, l := range codes {
		if counts[l].Union > 0 {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	for _, l := range codes {
		if c := counts[l]; c.Union > 0 {
			dst = appendStr(dst, l)
			dst = binary.AppendUvarint(dst, uint64(c.Union))
			dst = binary.AppendUvarint(dst, uint64(c.Alone))
		}
	}
	return dst
}

func decodeLibraryCounts(v []byte) (map[string]LibraryCount, error) {
	counts := map[string]LibraryCount{}
	if v == nil {
		return counts, nil
	}
	r := reader{b: v}
	n := r.uvarint()
	if n > uint64(len(v)) {
		return nil, fmt.Errorf("dedup: library counts: %d libraries in %d bytes", n, len(v))
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		l := r.str()
		counts[l] = LibraryCount{Union: int(r.uvarint()), Alone: int(r.uvarint())}
	}
	if err := r.done("library counts"); err != nil {
		return nil, err
	}
	return counts, nil
}

// recountLibraries counts the live union records each library holds from
// the union values, replacing what was stored (a rebuild's counts are
// made afresh rather than from the changes).
func (st *state) recountLibraries() error {
	counts := map[string]LibraryCount{}
	err := st.unions.ForEach(func(k, v []byte) error {
		r := reader{b: v}
		u, err := decodeUnionHead(string(k), &r)
		if err != nil {
			return err
		}
		if !u.deleted {
			for _, l := range u.libraries {
				c := counts[l]
				c.Union++
				if len(u.libraries) == 1 {
					c.Alone++
				}
				counts[l] = c
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	clear(st.libs.delta)
	return st.meta.Put(keyLibraries, encodeLibraryCounts(counts))
}

// LibraryCounts returns how many live union records each holding library
// holds, and alone (libraries holding none are left out), from counters
// kept with the union records. It works in any read or write
// transaction.
func LibraryCounts(tx *bbolt.Tx) (map[string]LibraryCount, error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return map[string]LibraryCount{}, nil
	}
	return decodeLibraryCounts(b.Get(keyLibraries))
}

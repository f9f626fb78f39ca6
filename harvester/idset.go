package harvester

import "hash/maphash"

// idSet remembers the identifiers a list gave, as 64-bit hashes: about
// 25 bytes a record however long its identifier, and a collision (one
// in 2^64 pairs) only makes a new record look repeated to the guards.
type idSet struct {
	seed maphash.Seed
	m    map[uint64]struct{}
}

func newIDSet() idSet { return idSet{seed: maphash.MakeSeed(), m: map[uint64]struct{}{}} }

// add notes id and reports whether it is new to the set.
func (s idSet) add(id string) bool {
	h := maphash.String(s.seed, id)
	if _, ok := s.m[h]; ok {
		return false
	}
	s.m[h] = struct{}{}
	return true
}

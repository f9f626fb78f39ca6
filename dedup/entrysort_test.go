package dedup

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// sortEntries sorts as slices.Sort does: short and long slices, repeats,
// entries crowded into a few ranges of their top bits, and the entries of
// a candidate index (a hash over an ordinal).
func TestSortEntries(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func(i int) uint64{
		"random":   func(int) uint64 { return rng.Uint64() },
		"repeats":  func(int) uint64 { return rng.Uint64N(50) << 50 },
		"crowded":  func(int) uint64 { return 7<<60 | rng.Uint64N(1<<20) },
		"entries":  func(i int) uint64 { return entry(rng.Uint32(), uint32(i/4)) },
		"sorted":   func(i int) uint64 { return uint64(i) << 40 },
		"reversed": func(i int) uint64 { return ^(uint64(i) << 40) },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 2, 100, minRadixEntries - 1, minRadixEntries, 200_003} {
			s := make([]uint64, n)
			for i := range s {
				s[i] = gen(i)
			}
			want := slices.Clone(s)
			slices.Sort(want)
			sortEntries(s)
			if !slices.Equal(s, want) {
				t.Errorf("%s, %d entries: not sorted as slices.Sort sorts", name, n)
			}
		}
	}
}

// BenchmarkSortEntries sorts the entries of a candidate index of a
// million records (five keys each): sortEntries against slices.Sort.
func BenchmarkSortEntries(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := make([]uint64, 5_000_000)
	for i := range base {
		base[i] = entry(rng.Uint32(), uint32(i/5))
	}
	s := make([]uint64, len(base))
	for _, c := range []struct {
		name string
		sort func([]uint64)
	}{{"sortEntries", sortEntries}, {"slices.Sort", slices.Sort[[]uint64]}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				copy(s, base)
				c.sort(s)
			}
		})
	}
}

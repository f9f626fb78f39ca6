package dedup

import (
	"slices"

	"github.com/unicat/unicat/internal/parallel"
)

// sortEntries sorts candidate-index entries in place.
//
// The first batch after a start builds the candidate index from every
// profile, and sorting its entries (slices.Sort, about five million at 1M
// records) was half of that: 0.35 of 0.66 CPU-seconds. The entries' top
// bits are a hash, spread evenly: one pass in place (an American flag
// sort) moves each entry into its range of the top entryRadixBits bits,
// and the ranges, each inside the cache, are then sorted on every core.
// Nothing besides the entries is allocated but the ranges' bounds, which
// matters at five million records, where the entries take 200 MB.
func sortEntries(s []uint64) {
	if len(s) < minRadixEntries {
		slices.Sort(s)
		return
	}
	const buckets = 1 << entryRadixBits
	const shift = 64 - entryRadixBits
	ends := make([]int, buckets) // ends[b]: where range b ends
	for _, v := range s {
		ends[v>>shift]++
	}
	next := make([]int, buckets) // next[b]: the first place of range b not yet holding its own
	sum := 0
	for b, n := range ends {
		next[b] = sum
		sum += n
		ends[b] = sum
	}
	for b := range buckets {
		for next[b] < ends[b] {
			// Carry the entry at next[b] to its range, and the one it
			// displaces to that one's, until one belongs to b.
			v := s[next[b]]
			for d := int(v >> shift); d != b; d = int(v >> shift) {
				s[next[d]], v = v, s[next[d]]
				next[d]++
			}
			s[next[b]] = v
			next[b]++
		}
	}
	const group = buckets / 64 // ranges a worker takes at a time
	_ = parallel.For(buckets/group, parallel.Max(), func(_, g int) error {
		for b := g * group; b < (g+1)*group; b++ {
			start := 0
			if b > 0 {
				start = ends[b-1]
			}
			slices.Sort(s[start:ends[b]])
		}
		return nil
	})
}

// entryRadixBits is how many top bits of an entry sortEntries's first
// pass places it by: 1,024 ranges of about 5,000 entries each (40 KB) at
// 1M records. (BenchmarkSortEntries, five million entries, 2 cores: 8 to
// 10 bits 200-214 ms, 11 bits 251, 12 bits 303, 16 bits 441; slices.Sort
// 405.)
const entryRadixBits = 10

// minRadixEntries is the fewest entries sortEntries places first; fewer
// are sorted whole.
const minRadixEntries = 1 << 15

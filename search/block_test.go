package search

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// splitKeys groups a document's keys by shard, every key once, in its
// own shard, in the order given.
func TestSplitKeys(t *testing.T) {
	var keys []termKey
	for i := range 500 {
		keys = append(keys, termKey{byte(i % 7), kindWord, fmt.Sprintf("từ%d", i)})
	}
	for _, shards := range []int{1, 2, 3, 8, maxShards} {
		got := splitKeys(slices.Clone(keys), shards)
		if len(got) != shards {
			t.Fatalf("%d shards: %d groups", shards, len(got))
		}
		var all []termKey
		for s, g := range got {
			for _, k := range g {
				if shardOf(k, shards) != s {
					t.Errorf("%d shards: %v in group %d, its shard is %d", shards, k, s, shardOf(k, shards))
				}
			}
			want := slices.DeleteFunc(slices.Clone(keys), func(k termKey) bool { return shardOf(k, shards) != s })
			if !slices.Equal(g, want) {
				t.Errorf("%d shards: group %d not in the order given", shards, s)
			}
			all = append(all, g...)
		}
		if len(all) != len(keys) {
			t.Errorf("%d shards: %d keys grouped, %d given", shards, len(all), len(keys))
		}
	}
}

// encodeSorted writes what encodePostings writes for the same documents,
// on both sides of the array/bitmap boundary.
func TestEncodeSorted(t *testing.T) {
	for _, n := range []int{1, 2, maxArray - 1, maxArray, maxArray + 1, 1000, 65536} {
		for _, step := range []uint32{1, 3, 977} {
			var docs []uint32
			for i := range n {
				if d := uint32(5<<chunkBits) + uint32(i)*step; d < 6<<chunkBits {
					docs = append(docs, d)
				}
			}
			want, err := encodePostings(roaring.BitmapOf(docs...))
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodeSorted(docs)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%d documents, step %d: %x, want %x", len(docs), step, got[:min(len(got), 16)], want[:min(len(want), 16)])
			}
		}
	}
}

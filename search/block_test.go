package search

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// A splitter groups a document's keys by shard, every key once with its
// hash, in its own shard, in the order given; what it split before stays
// as it was until it is reset.
func TestSplitKeys(t *testing.T) {
	var keys []termKey
	for i := range 500 {
		keys = append(keys, termKey{byte(i % 7), kindWord, fmt.Sprintf("từ%d", i)})
	}
	var sp splitter
	for round := range 2 {
		// Documents of a batch, each split after the one before, read
		// at the end: the splitter's arrays grow in between.
		shardCounts := []int{1, 2, 3, 8, maxShards, 2}
		docs := make([][]termKey, len(shardCounts))
		got := make([][][]hashedKey, len(shardCounts))
		for d, shards := range shardCounts {
			docs[d] = keys[d*7 : 450+d*7]
			got[d] = sp.split(docs[d], shards)
		}
		for d, shards := range shardCounts {
			checkSplit(t, fmt.Sprintf("round %d, document %d, %d shards", round, d, shards), docs[d], got[d], shards)
		}
		sp.reset()
	}
}

func checkSplit(t *testing.T, name string, keys []termKey, got [][]hashedKey, shards int) {
	t.Helper()
	if len(got) != shards {
		t.Fatalf("%s: %d groups", name, len(got))
	}
	var all []termKey
	for s, g := range got {
		var plain []termKey
		for _, k := range g {
			if k.h != termHash(k.ix, k.kind, k.term) {
				t.Errorf("%s: %v with hash %x", name, k.termKey, k.h)
			}
			if shardOf(k.h, shards) != s {
				t.Errorf("%s: %v in group %d, its shard is %d", name, k.termKey, s, shardOf(k.h, shards))
			}
			plain = append(plain, k.termKey)
		}
		want := slices.DeleteFunc(slices.Clone(keys), func(k termKey) bool {
			return shardOf(termHash(k.ix, k.kind, k.term), shards) != s
		})
		if !slices.Equal(plain, want) {
			t.Errorf("%s: group %d not the keys given, in their order", name, s)
		}
		all = append(all, plain...)
	}
	if len(all) != len(keys) {
		t.Errorf("%s: %d keys grouped, %d given", name, len(all), len(keys))
	}
}

// termDict numbers each distinct key once, in the order first added, as
// a map would; keeps its numbers as it grows and across keys that differ
// only in index, kind or a byte; sorts keys as termKey.compare; and after
// reset starts again from nothing.
func TestTermDict(t *testing.T) {
	var d termDict
	for round := range 2 {
		want := map[termKey]uint32{}
		var order []termKey
		for i := range 4 * minSlots {
			// Each key twice, the second time after the table grew; the
			// same term in other indexes and kinds.
			j := i % (2 * minSlots)
			k := termKey{byte(j % 3), []byte{kindWord, kindPair, kindPhrase}[j/3%3], fmt.Sprintf("từ %d", j/2)}
			n, ok := want[k]
			if !ok {
				n = uint32(len(order))
				want[k] = n
				order = append(order, k)
			}
			if got := d.number(k, termHash(k.ix, k.kind, k.term)); got != n {
				t.Fatalf("round %d: key %d %v numbered %d, want %d", round, i, k, got, n)
			}
		}
		if d.len() != len(order) {
			t.Fatalf("round %d: %d keys, want %d", round, d.len(), len(order))
		}
		for n, k := range order {
			if got := d.key(uint32(n)); string(got) != string([]byte{k.ix, k.kind})+k.term {
				t.Errorf("round %d: key %d is %q, want %v", round, n, got, k)
			}
		}
		if !sortsAs(d.sorted(), func(a, b uint32) int { return order[a].compare(order[b]) }) {
			t.Errorf("round %d: sorted does not sort as termKey.compare", round)
		}
		d.reset()
		if d.len() != 0 {
			t.Fatalf("reset left %d keys", d.len())
		}
	}
	// Keys whose hashes agree are told apart by their bytes.
	same := []termKey{{1, kindWord, "nguyen"}, {2, kindWord, "nguyen"}, {1, kindPair, "nguyen"}, {1, kindWord, "nguyem"}, {1, kindWord, "nguye"}}
	for round := range 2 {
		for i, k := range same {
			if n := d.number(k, 42); n != uint32(i) {
				t.Errorf("colliding key %v numbered %d, want %d (round %d)", k, n, i, round)
			}
		}
	}
}

// sortsAs reports whether got holds each of 0…len(got)-1 once, ordered
// by cmp.
func sortsAs(got []uint32, cmp func(a, b uint32) int) bool {
	seen := make([]bool, len(got))
	for _, n := range got {
		if int(n) >= len(got) || seen[n] {
			return false
		}
		seen[n] = true
	}
	return slices.IsSortedFunc(got, cmp)
}

// TestTermDictSorted: keys shorter than the sixteen bytes sorted beside
// each number, keys that are prefixes of others, zero bytes where the
// padding puts them, and keys that differ only past the eighth and the
// sixteenth byte.
func TestTermDictSorted(t *testing.T) {
	terms := []string{"", "\x00", "\x00\x00", "\x00\x01", "a", "a\x00", "a\x00b", "ab", "abcdef", "abcdef\x00",
		"abcdefgh", "abcdefg", "abcdefgh1", "abcdefgh0", "abcdefgi", "abcdefghijklmn", "abcdefghijklmn\x00", "abcdefghijklmno",
		"abcdefghijklmnop1", "abcdefghijklmnop0", "abcdefghijklmnop", "từ", "tư", "từ điển", "từ điển học", "\xff", "\xff\xff"}
	var d termDict
	var keys []termKey
	for _, ix := range []byte{0, 1, 0xFF} {
		for _, kind := range []byte{0, kindWord} {
			for _, term := range terms {
				k := termKey{ix, kind, term}
				if n := d.number(k, termHash(ix, kind, term)); int(n) != len(keys) {
					t.Fatalf("key %v numbered %d, want %d", k, n, len(keys))
				}
				keys = append(keys, k)
			}
		}
	}
	got := d.sorted()
	if !sortsAs(got, func(a, b uint32) int { return keys[a].compare(keys[b]) }) {
		for _, n := range got {
			t.Logf("%q", d.key(n))
		}
		t.Error("sorted does not sort as termKey.compare")
	}
}

// appendSorted writes what encodePostings writes for the same documents,
// on both sides of the array/bitmap boundary, after what dst holds.
func TestAppendSorted(t *testing.T) {
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
			got, err := appendSorted([]byte("before"), docs)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := bytes.CutPrefix(got, []byte("before")); !ok || !bytes.Equal(got, want) {
				t.Errorf("%d documents, step %d: %x, want %x", len(docs), step, got[:min(len(got), 16)], want[:min(len(want), 16)])
			}
		}
	}
}

// sortedKeys adds exact keys only to a plain key with a form other than
// itself, then one per distinct form, the plain one included; a keyer
// used for several documents gives each the keys a fresh one gives, in a
// slice the next document's keys leave alone.
func TestDocKeysVariants(t *testing.T) {
	const title = 2
	word := func(term string) termKey { return termKey{title, kindWord, term} }
	exactWord := func(fold, exact string) termKey { return termKey{title, kindWordExact, fold + variantSep + exact} }
	phrase := func(term string) termKey { return termKey{title, kindPhrase, term} }
	exactPhrase := func(fold, exact string) termKey { return termKey{title, kindPhraseExact, fold + variantSep + exact} }
	all := termKey{idAll, kindAll, ""}
	for _, c := range []struct {
		vals []value
		want []termKey
	}{
		{[]value{{title, fWords, "flatland"}}, []termKey{word("flatland"), all}},
		{[]value{{title, fWords, "Đà"}}, []termKey{word("da"), exactWord("da", "đà"), all}},
		// Two forms of one plain key, one of them plain, each once.
		{[]value{{title, fWords, "Đà da đà DA"}}, []termKey{
			{title, kindPair, "da da"}, word("da"), exactWord("da", "da"), exactWord("da", "đà"), all}},
		{[]value{{title, fWords | fPhrase, "Hòa bình"}, {title, fPhrase, "hoa binh"}}, []termKey{
			{title, kindPair, "hoa binh"}, phrase("hoa binh"), exactPhrase("hoa binh", "hoa binh"), exactPhrase("hoa binh", "hoà bình"),
			word("binh"), exactWord("binh", "bình"), word("hoa"), exactWord("hoa", "hoà"), all}},
	} {
		got := new(keyer).sortedKeys(c.vals)
		slices.SortFunc(c.want, termKey.compare)
		if !slices.Equal(got, c.want) {
			t.Errorf("%v:\n got %q\nwant %q", c.vals, got, c.want)
		}
	}
	var kr, sorting keyer
	docs := [][]value{{{title, fWords | fPhrase, "Đà Nẵng đà"}}, {{title, fWords, "Hòa bình"}}, {{title, fWords | fPhrase, "Đà Nẵng"}}}
	var kept [][]termKey
	for i, vals := range docs {
		want := new(keyer).sortedKeys(vals)
		got := slices.Clone(kr.keys(vals))
		slices.SortFunc(got, termKey.compare)
		if !slices.Equal(slices.Compact(got), want) {
			t.Errorf("document %d after %d others: %q, want %q", i, i, got, want)
		}
		if got := sorting.sortedKeys(vals); !slices.Equal(got, want) {
			t.Errorf("sorted, document %d after %d others: %q, want %q", i, i, got, want)
		}
		kept = append(kept, want)
	}
	for i, vals := range docs {
		if got := sorting.sortedKeys(vals); !slices.Equal(got, kept[i]) {
			t.Errorf("sorted, document %d again: %q, want %q", i, got, kept[i])
		}
	}
	// The first call's slice, kept through the others.
	first := sorting.sortedKeys(docs[0])
	sorting.sortedKeys(docs[1])
	if !slices.Equal(first, kept[0]) {
		t.Errorf("sorted keys of document 0 changed by the next call: %q, want %q", first, kept[0])
	}
}

// A rebuild of more than two chunks, each chunk written while the next
// is gathered, stores every document's postings in its own chunk and
// nothing else.
func TestRebuildSeveralChunks(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilds 132,072 documents")
	}
	words := []string{"Đặng", "an", "Bình", "hoà", "Zoo"}
	docs, with976 := make([]Doc, 2<<chunkBits+1000), 0
	for i := range docs {
		if i%977 == 976 {
			with976++
		}
		id := fmt.Sprintf("d%06d", i)
		docs[i] = Doc{ID: id, Record: rec("001", id, "245", "10$a"+words[i%len(words)]+fmt.Sprintf(" %d", i%977))}
	}
	db := openTestDB(t)
	n, err := New().RebuildFrom(context.Background(), db, eachOf(docs), RebuildOptions{TempDir: t.TempDir()})
	if err != nil || n != len(docs) {
		t.Fatalf("rebuilt %d documents of %d: %v", n, len(docs), err)
	}
	remember(db, docs...)
	checkPostings(t, db)
	if got := query(t, db, "dc.title = 976"); len(got) != with976 {
		t.Errorf("dc.title = 976: %d hits, want %d", len(got), with976)
	}
}

// FuzzDecodeTempDoc: any bytes decode to a document or an error, never a
// panic; a document decoded encodes to bytes that decode to it again,
// and its sum is valuesSum of its values whenever its bytes were
// encodeTempDoc's.
func FuzzDecodeTempDoc(f *testing.F) {
	f.Add(encodeTempDoc(&storedDoc{id: "u1", sort: sortKeys{title: []byte("truyen kieu"), creator: []byte("nguyen du"), year: 1820},
		values: []value{{ix: 1, flags: 2, text: "Nguyễn Du"}, {ix: 3, text: ""}, {ix: 200, flags: 255, text: string(make([]byte, 300))}}}))
	f.Add(encodeTempDoc(&storedDoc{id: "u2"}))
	f.Add([]byte{tempEncV1, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeTempDoc(b)
		if err != nil {
			return
		}
		enc := encodeTempDoc(&d)
		if bytes.Equal(enc, b) && d.sum != valuesSum(d.values) {
			t.Errorf("sum %x, valuesSum %x", d.sum, valuesSum(d.values))
		}
		again, err := decodeTempDoc(enc)
		if err != nil || again.id != d.id || again.sort.year != d.sort.year || !bytes.Equal(again.sort.title, d.sort.title) ||
			!bytes.Equal(again.sort.creator, d.sort.creator) || !slices.Equal(again.values, d.values) || again.sum != valuesSum(d.values) {
			t.Errorf("%q decoded to %+v, encoded to %q, decoded again to %+v (%v)", b, d, enc, again, err)
		}
	})
}

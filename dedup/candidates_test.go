package dedup

import (
	"errors"
	"slices"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/store"
)

func lookupAll(c *candIndex, h uint32) []uint32 {
	var out []uint32
	c.lookup(h, func(o uint32) bool { out = append(out, o); return true })
	slices.Sort(out)
	return out
}

// TestCandIndexAddRemoveCompact checks that lookups see every live entry
// and none removed, whether the entries sit in base or delta, across
// compactions.
func TestCandIndexAddRemoveCompact(t *testing.T) {
	c := newCandIndex()
	want := map[uint32]map[uint32]bool{} // hash → ordinals
	hashesOf := func(ord uint32) []uint32 { return []uint32{ord % 7, 100 + ord%3, 1000 + ord} }
	check := func(when string) {
		t.Helper()
		for h := range want {
			var exp []uint32
			for o := range want[h] {
				exp = append(exp, o)
			}
			slices.Sort(exp)
			if got := lookupAll(c, h); !slices.Equal(got, exp) {
				t.Fatalf("%s: hash %d: got %v, want %v", when, h, got, exp)
			}
		}
	}
	add := func(ord uint32) {
		c.add(ord, "k", hashesOf(ord))
		for _, h := range hashesOf(ord) {
			if want[h] == nil {
				want[h] = map[uint32]bool{}
			}
			want[h][ord] = true
		}
	}
	remove := func(ord uint32) {
		c.remove(ord, hashesOf(ord))
		for _, h := range hashesOf(ord) {
			delete(want[h], ord)
		}
	}
	for o := uint32(0); o < 200; o++ {
		add(o)
	}
	check("delta only")
	c.compact(true)
	if len(c.delta) != 0 || len(c.base) != 600 {
		t.Fatalf("after compaction: %d delta, %d base entries", len(c.delta), len(c.base))
	}
	check("base only")
	for o := uint32(0); o < 200; o += 3 {
		remove(o) // from base: marked dead
	}
	for o := uint32(200); o < 260; o++ {
		add(o)
	}
	for o := uint32(201); o < 260; o += 4 {
		remove(o) // from delta
	}
	check("base, dead and delta")
	remove(10)
	add(10) // removed and added back before a compaction
	check("re-added")
	c.compact(true)
	if len(c.dead) != 0 || c.nnew != 0 {
		t.Fatalf("compaction left %d dead, %d new", len(c.dead), c.nnew)
	}
	check("compacted again")
}

// failingListener fails the batches it is told to.
type failingListener struct{ fail bool }

var errListener = errors.New("listener refuses the batch")

func (f *failingListener) UnionChanged(*bbolt.Tx, []UnionRecord) error {
	if f.fail {
		return errListener
	}
	return nil
}

// checkCandidates compares the Deduper's candidate index with one built
// afresh from the stored profiles.
func checkCandidates(t *testing.T, ts *testStore, when string) {
	t.Helper()
	fresh := newCandIndex()
	err := ts.st.View(func(tx *store.Tx) error {
		return tx.Bolt().Bucket(bucketProfiles).ForEach(func(k, v []byte) error {
			ord, hashes, err := profileIndexPart(v)
			fresh.add(ord, string(k), hashes)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	fresh.compact(true)
	mem := ts.d.cands
	if mem == nil {
		t.Fatalf("%s: no candidate index", when)
	}
	mem.compact(true)
	if !slices.Equal(mem.base, fresh.base) {
		t.Fatalf("%s: candidate index has entries %x, the stored profiles give %x", when, mem.base, fresh.base)
	}
	for ord, name := range fresh.names {
		if name != "" && (ord >= len(mem.names) || mem.names[ord] != name) {
			t.Fatalf("%s: ordinal %d names %q in the stored profiles, not in memory", when, ord, name)
		}
	}
}

// TestRolledBackBatchLeavesNoCandidates checks that a batch which does
// not commit leaves nothing behind in the in-memory candidate index: a
// deletion rolled back leaves the record findable, an addition rolled
// back leaves no entry (nor an ordinal that the next record would share).
func TestRolledBackBatchLeavesNoCandidates(t *testing.T) {
	ts := newTestStore(t, Options{})
	fl := &failingListener{}
	ts.d.AddListener(fl)
	ts.put("tinh", kieu)
	checkCandidates(t, ts, "first batch")

	fl.fail = true
	if _, err := ts.st.Apply(ts.deletion("tinh", "1")); !errors.Is(err, errListener) {
		t.Fatalf("delete: %v, want the listener's error", err)
	}
	fl.fail = false
	// A copy without ISBN is found through the title and author keys of
	// the record whose deletion did not happen.
	v := kieu
	v.id, v.isbn = "V1", ""
	ts.put("vinh", v)
	if u1, u2 := ts.unionOf("tinh", "1"), ts.unionOf("vinh", "V1"); u1 == nil || u2 == nil || u1.ID != u2.ID {
		t.Fatalf("after a rolled-back deletion, vinh:V1 did not join tinh:1: %+v %+v", u1, u2)
	}
	checkCandidates(t, ts, "after a rolled-back deletion")

	fl.fail = true
	w := v
	w.id = "X0"
	if _, err := ts.st.Apply(ts.batch("xa", w)); !errors.Is(err, errListener) {
		t.Fatalf("apply: %v, want the listener's error", err)
	}
	fl.fail = false
	other := book{id: "X1", title: "Số đỏ", author: "Vũ, Trọng Phụng", year: 1936, pages: 200}
	ts.put("xa", other)
	checkCandidates(t, ts, "after a rolled-back addition")
	for _, m := range ts.explain("tinh", "1").Members {
		if m.Source == "xa" {
			t.Fatalf("the cluster of tinh:1 names a rolled-back record: %+v", m)
		}
	}
}

// TestCandIndexDirectory: lookups through the directory of base find
// every entry of a hash, wherever in the 32-bit range it falls (the
// ends and the edges between directory ranges included), and removals
// of base entries are seen.
func TestCandIndexDirectory(t *testing.T) {
	c := newCandIndex()
	want := map[uint32][]uint32{}
	hashes := []uint32{0, 1, 0xFFFF, 0x10000, 0x1FFFF, 0x7FFFFFFF, 0x80000000, 0xFFFEFFFF, 0xFFFF0000, 0xFFFFFFFF}
	for i := uint32(0); i < 5000; i++ {
		hashes = append(hashes, i*2654435761)
	}
	for ord, h := range hashes {
		for k := 0; k < 1+ord%3; k++ { // some hashes shared by several records
			o := uint32(ord*3 + k)
			c.add(o, "k", []uint32{h})
			want[h] = append(want[h], o)
		}
	}
	c.compact(true)
	for h, exp := range want {
		slices.Sort(exp)
		if got := lookupAll(c, h); !slices.Equal(got, exp) {
			t.Fatalf("hash %#x: got %v, want %v", h, got, exp)
		}
	}
	if got := lookupAll(c, 0x12345678); len(got) != 0 {
		t.Fatalf("absent hash: got %v", got)
	}
	for _, h := range hashes[:10] {
		c.remove(want[h][0], []uint32{h})
		if got := lookupAll(c, h); slices.Contains(got, want[h][0]) || len(got) != len(want[h])-1 {
			t.Fatalf("hash %#x after removing %d: got %v", h, want[h][0], got)
		}
	}
}

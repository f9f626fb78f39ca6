package dedup

import (
	"fmt"
	"testing"
)

// TestProfileCacheKeepsRecent checks the two-generation cache: the latest
// maxCache profiles are always there, older ones go, deletions hold.
func TestProfileCacheKeepsRecent(t *testing.T) {
	var c profileCache
	key := func(i int) string { return fmt.Sprintf("s\x00%07d", i) }
	n := 3*maxCache + 17
	for i := 0; i < n; i++ {
		c.put(key(i), &profile{ord: uint32(i)})
	}
	for i := n - maxCache; i < n; i++ {
		if p, ok := c.get(key(i)); !ok || p.ord != uint32(i) {
			t.Fatalf("recent profile %d: got %v, %v", i, p, ok)
		}
	}
	if _, ok := c.get(key(0)); ok {
		t.Fatalf("profile 0 still cached after %d puts", n)
	}
	if len(c.cur)+len(c.old) > 2*maxCache {
		t.Fatalf("cache holds %d profiles, bound %d", len(c.cur)+len(c.old), 2*maxCache)
	}
	c.del(key(n - 1))
	if _, ok := c.get(key(n - 1)); ok {
		t.Fatal("deleted profile still cached")
	}
	c.reset()
	if _, ok := c.get(key(n - 2)); ok {
		t.Fatal("profile cached after reset")
	}
}

// TestProfileTailEncoding: a profile whose encoding Prepare made ahead
// stores the same bytes as one encoded whole, once its ordinal is known.
func TestProfileTailEncoding(t *testing.T) {
	d := New(Options{})
	whole := d.buildProfile(kieu.record(), Source{LibraryCode: "NA-TINH", Holdings: "852"})
	ahead := d.buildProfile(kieu.record(), Source{LibraryCode: "NA-TINH", Holdings: "852"})
	ahead.tail = ahead.encodeTail(nil)
	whole.ord, ahead.ord = 4711, 4711
	a, b := whole.encode(nil), ahead.encode(nil)
	if string(a) != string(b) {
		t.Fatalf("encoded ahead %q, whole %q", b, a)
	}
	if ahead.tail != nil {
		t.Fatal("the tail is kept after use")
	}
	if again := ahead.encode(nil); string(again) != string(a) {
		t.Fatalf("encoded again %q, want %q", again, a)
	}
}

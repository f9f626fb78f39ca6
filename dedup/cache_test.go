package dedup

import (
	"fmt"
	"sync/atomic"
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

// TestPipelined checks the overlap of the union build and its writes:
// every item is consumed once, in order, after its work; an error of
// consume stops it and is returned.
func TestPipelined(t *testing.T) {
	for _, n := range []int{0, 1, 31, 1000} {
		done := make([]atomic.Bool, n)
		var got []int
		err := pipelined(n, func(i int) { done[i].Store(true) }, func(i int) error {
			if !done[i].Load() {
				t.Fatalf("n=%d: item %d consumed before its work", n, i)
			}
			got = append(got, i)
			return nil
		})
		if err != nil || len(got) != n {
			t.Fatalf("n=%d: %d consumed, error %v", n, len(got), err)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("n=%d: consumed %v, not in order", n, got[:i+1])
			}
		}
	}
	stopErr := fmt.Errorf("disk full")
	calls := 0
	err := pipelined(1000, func(int) {}, func(i int) error {
		calls++
		if i == 10 {
			return stopErr
		}
		return nil
	})
	if err != stopErr || calls != 11 {
		t.Fatalf("error at item 10: got %v after %d calls", err, calls)
	}
}

// TestProfileTailEncoding: a profile whose encoding Prepare made ahead
// stores the same bytes as one encoded whole, once its ordinal is known.
func TestProfileTailEncoding(t *testing.T) {
	d := New(Options{})
	whole := d.buildProfile(kieu.record(), "852", "NA-TINH")
	ahead := d.buildProfile(kieu.record(), "852", "NA-TINH")
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

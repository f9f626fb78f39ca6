package dedup

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestMinimalVarint checks the shortcut against re-encoding: on every
// two-byte input and on random longer ones, minimalVarint accepts a
// varint exactly when encoding its value again gives the same length.
func TestMinimalVarint(t *testing.T) {
	check := func(b []byte) {
		if v, n := binary.Uvarint(b); n > 0 {
			if want := n == len(binary.AppendUvarint(nil, v)); minimalVarint(b[:n]) != want {
				t.Fatalf("uvarint %x: minimal %v, want %v", b[:n], !want, want)
			}
		}
		if v, n := binary.Varint(b); n > 0 {
			if want := n == len(binary.AppendVarint(nil, v)); minimalVarint(b[:n]) != want {
				t.Fatalf("varint %x: minimal %v, want %v", b[:n], !want, want)
			}
		}
	}
	for i := range 1 << 16 {
		check([]byte{byte(i), byte(i >> 8)})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 10)
	for range 200000 {
		n := 3 + rng.IntN(8)
		for j := range n {
			b[j] = byte(rng.Uint32())
			if j < n-1 {
				b[j] |= 0x80 // continue, so the varint is n bytes long
			}
		}
		if rng.IntN(4) == 0 {
			b[n-1] = 0 // an overlong form
		}
		check(b[:n])
	}
}

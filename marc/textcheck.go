package marc

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The checks the readers make before converting any text: a record that
// is 7-bit, or UTF-8 already in NFC, is used as it is.

// isASCIIBytes reports whether b is 7-bit, eight bytes at a time.
func isASCIIBytes(b []byte) bool {
	for len(b) >= 8 {
		v := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if v&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// nfcSafe is a bitmap of the BMP characters that are NFC whatever
// surrounds them on the left: quick-check Yes and canonical combining
// class 0. Text made only of such characters (and ASCII) is in NFC, which
// lets the readers skip the full normalisation check for most records,
// CJK and Vietnamese precomposed text included.
var nfcSafe = sync.OnceValue(func() *[1 << 16 / 64]uint64 {
	var t [1 << 16 / 64]uint64
	var buf [4]byte
	for r := rune(0x80); r < 0x10000; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		p := norm.NFC.Properties(buf[:n])
		if p.BoundaryBefore() && p.CCC() == 0 && norm.NFC.IsNormal(buf[:n]) {
			t[r>>6] |= 1 << (r & 63)
		}
	}
	return &t
})

// isUTF8NFC reports whether b is valid UTF-8 in NFC. Only the stretches
// around characters outside nfcSafe go through the full check, which uses
// it (norm.Form.IsNormal would allocate each time).
func isUTF8NFC(it *norm.Iter, b []byte) bool {
	ok, _ := checkUTF8NFC(it, b)
	return ok
}

// checkUTF8NFC is isUTF8NFC also returning, when ok, where b's first byte
// beyond ASCII is (len(b) if none): b[:high] is 7-bit, which the checks
// that follow it need not look at again.
func checkUTF8NFC(it *norm.Iter, b []byte) (ok bool, high int) {
	safe := nfcSafe()
	prev := 0 // start of the last character that starts a segment
	i := 0
	high = -1
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			j := asciiEnd(b, i+1)
			prev, i = j-1, j
			continue
		}
		if high < 0 {
			high = i
		}
		r, n := decodeRune(b[i:])
		if n == 0 {
			return false, high
		}
		if r < 0x10000 && safe[r>>6]&(1<<(r&63)) != 0 {
			prev, i = i, i+n
			continue
		}
		// Check the segment from the last starter to the next character
		// that cannot combine with what precedes it.
		e := i + n
		for e < len(b) && b[e] >= utf8.RuneSelf {
			r, n := decodeRune(b[e:])
			if n == 0 {
				return false, high
			}
			if r < 0x10000 && safe[r>>6]&(1<<(r&63)) != 0 {
				break
			}
			e += n
		}
		if !segmentNFC(it, b[prev:e]) {
			return false, high
		}
		prev, i = e, e
	}
	if high < 0 {
		high = len(b)
	}
	return true, high
}

// asciiEnd returns where the run of 7-bit bytes at b[j:] ends: the first
// byte beyond ASCII from j on, or len(b). Vietnamese text has one every
// few bytes: the first eight are looked at together and the first beyond
// ASCII among them found from the mask, not byte by byte (half of the
// check's time went to that loop and to a 32-byte test made first); a
// run longer than that (a code, a number, English) goes 32 bytes a step.
func asciiEnd(b []byte, j int) int {
	const high = 0x8080808080808080
	for j+8 <= len(b) {
		if m := binary.LittleEndian.Uint64(b[j:]) & high; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
		j += 8
		for j+32 <= len(b) && (binary.LittleEndian.Uint64(b[j:])|binary.LittleEndian.Uint64(b[j+8:])|
			binary.LittleEndian.Uint64(b[j+16:])|binary.LittleEndian.Uint64(b[j+24:]))&high == 0 {
			j += 32
		}
	}
	for j < len(b) && b[j] < utf8.RuneSelf {
		j++
	}
	return j
}

// decodeRune decodes the non-ASCII UTF-8 sequence at the start of b; n is
// 0 when it is invalid. Two- and three-byte forms, nearly all library text,
// are decoded inline.
func decodeRune(b []byte) (rune, int) {
	c := b[0]
	switch {
	case c < 0xC2:
		return 0, 0
	case c < 0xE0:
		if len(b) < 2 || b[1]&0xC0 != 0x80 {
			return 0, 0
		}
		return rune(c&0x1F)<<6 | rune(b[1]&0x3F), 2
	case c < 0xF0:
		if len(b) < 3 || b[2]&0xC0 != 0x80 {
			return 0, 0
		}
		lo, hi := byte(0x80), byte(0xBF)
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F // no surrogates
		}
		if b[1] < lo || b[1] > hi {
			return 0, 0
		}
		return rune(c&0x0F)<<12 | rune(b[1]&0x3F)<<6 | rune(b[2]&0x3F), 3
	}
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n == 1 {
		return 0, 0
	}
	return r, n
}

// segmentNFC reports whether seg is in NFC.
func segmentNFC(it *norm.Iter, seg []byte) bool {
	if norm.NFC.QuickSpan(seg) == len(seg) {
		return true
	}
	it.Init(norm.NFC, seg)
	p := 0
	for !it.Done() {
		out := it.Next()
		if !bytes.HasPrefix(seg[p:], out) {
			return false
		}
		p += len(out)
	}
	return p == len(seg)
}

package marc

import (
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Composing decoded text into NFC. The decoders of VNI, Windows-1258 and
// MARC-8, and UTF-8 in NFD, give a letter's marks as combining characters
// after it, and norm.NFC spends about 60 ns a byte on such text,
// more than decoding it; the detector normalises every reading of every
// field it weighs. So appendNFC composes the usual cases from a table and
// leaves the rest to norm:
//
//   - text is cut into segments before each character nothing on its left
//     can change (nfcSafe: canonical combining class 0, NFC on its own,
//     combining with nothing before it); NFC works segment by segment;
//   - a segment of one such character is itself;
//   - a segment of a letter and combining marks is, in NFD, the letter's
//     decomposition followed by the marks, put in canonical order by
//     combining class; when that is the decomposition of one precomposed
//     character NFC keeps, the segment's NFC is that character, since
//     NFC(x) = NFC(NFD(x)) (Vietnamese ệ is e + U+0323 + U+0302 however it
//     was spelt);
//   - every other segment goes through norm.NFC.

// composer composes decoded text into NFC. It remembers what norm made of
// the segments the table does not know (a mark on a letter that has no
// precomposed form with it, as wrong readings give), so that each is
// normalised once per reader.
type composer struct {
	memo     map[[4]rune]string
	buf, out []byte
}

// maxMemo bounds what a composer remembers.
const maxMemo = 4096

// appendNFC appends the NFC form of rs, as UTF-8, to dst.
func (c *composer) appendNFC(dst []byte, rs []rune) []byte {
	safe := nfcSafe()
	for i := 0; i < len(rs); {
		r := rs[i]
		if r < utf8.RuneSelf && (i+1 == len(rs) || rs[i+1] < utf8.RuneSelf) {
			dst = append(dst, byte(r))
			i++
			continue
		}
		j := i + 1
		for j < len(rs) && !isSafe(safe, rs[j]) {
			j++
		}
		if j == i+1 && isSafe(safe, r) {
			dst = utf8.AppendRune(dst, r)
		} else {
			dst = c.appendSegment(dst, rs[i:j])
		}
		i = j
	}
	return dst
}

func isSafe(safe *[1 << 16 / 64]uint64, r rune) bool {
	return r < utf8.RuneSelf || r < 0x10000 && safe[r>>6]&(1<<(r&63)) != 0
}

// appendSegment appends the NFC form of one segment: a character and the
// characters up to the next one nfcSafe lets start a segment.
func (c *composer) appendSegment(dst []byte, seg []rune) []byte {
	if r, ok := composeTables().compose(seg); ok {
		return utf8.AppendRune(dst, r)
	}
	var key [4]rune
	if len(seg) <= len(key) {
		copy(key[:], seg)
		if s, ok := c.memo[key]; ok {
			return append(dst, s...)
		}
	}
	c.buf = c.buf[:0]
	for _, r := range seg {
		c.buf = utf8.AppendRune(c.buf, r)
	}
	// Normalised apart: norm.Form.Append would merge the segment with
	// the end of dst, which is no text of this reading when the segment
	// starts it.
	c.out = norm.NFC.Append(c.out[:0], c.buf...)
	out := c.out
	if len(seg) <= len(key) && len(c.memo) < maxMemo {
		if c.memo == nil {
			c.memo = make(map[[4]rune]string)
		}
		c.memo[key] = string(out)
	}
	return append(dst, out...)
}

// compositions holds what appendNFC composes by table: the canonical
// decompositions of the letters (and of nothing else), the combining
// classes of the combining marks, and the precomposed character of each
// decomposition.
type compositions struct {
	decomp [0x190 + 0x100]struct {
		r [4]rune
		n uint8 // 0: left to norm
	}
	ccc  [markIndexes]uint8 // by markIndex; 0 for marks left to norm
	comp map[uint64]rune    // by compKey of a decomposition
}

// The letters decomposed by table: Latin-1 to Latin Extended-B, and Latin
// Extended Additional, where all precomposed Vietnamese letters are.
func letterIndex(r rune) int {
	switch {
	case r >= 0xC0 && r < 0x250:
		return int(r - 0xC0)
	case r >= 0x1E00 && r < 0x1F00:
		return 0x190 + int(r-0x1E00)
	}
	return -1
}

// The marks composed by table: Combining Diacritical Marks, and the
// half marks MARC-8 uses for ligatures and double tildes.
const markIndexes = 0x70 + 0x10 + 1

func markIndex(r rune) int {
	switch {
	case r >= 0x300 && r < 0x370:
		return 1 + int(r-0x300)
	case r >= 0xFE20 && r < 0xFE30:
		return 1 + 0x70 + int(r-0xFE20)
	}
	return 0
}

// compKey packs a letter and up to three marks (by markIndex).
func compKey(base rune, marks []uint8) uint64 {
	k := uint64(base)
	for i, m := range marks {
		k |= uint64(m) << (21 + 8*i)
	}
	return k
}

// compose returns the one character seg's NFC is, when the tables know it.
func (t *compositions) compose(seg []rune) (rune, bool) {
	if len(seg) < 2 || len(seg) > 4 {
		return 0, false
	}
	// The first character's decomposition, then the marks.
	var base rune
	var marks [3]uint8
	n := 0
	if s := seg[0]; s < utf8.RuneSelf {
		base = s
	} else if i := letterIndex(s); i >= 0 && t.decomp[i].n > 0 {
		d := &t.decomp[i]
		base = d.r[0]
		for _, m := range d.r[1:d.n] {
			marks[n] = uint8(markIndex(m))
			n++
		}
	} else {
		return 0, false
	}
	for _, m := range seg[1:] {
		mi := markIndex(m)
		if mi == 0 || t.ccc[mi] == 0 || n == len(marks) {
			return 0, false
		}
		// Canonical order: a stable sort by combining class.
		j := n
		for j > 0 && t.ccc[marks[j-1]] > t.ccc[mi] {
			marks[j] = marks[j-1]
			j--
		}
		marks[j] = uint8(mi)
		n++
	}
	r, ok := t.comp[compKey(base, marks[:n])]
	return r, ok
}

var composeTables = sync.OnceValue(func() *compositions {
	t := &compositions{comp: make(map[uint64]rune, 1200)}
	for r := rune(0x300); r < 0xFE30; r++ {
		if markIndex(r) == 0 {
			continue
		}
		// Marks NFD keeps as they are; the others (U+0340, U+0344...)
		// are left to norm.
		if ccc := norm.NFC.PropertiesString(string(r)).CCC(); ccc > 0 && norm.NFD.IsNormalString(string(r)) {
			t.ccc[markIndex(r)] = ccc
		}
	}
	// simple returns the marks of a decomposition when it is a character
	// of combining class 0 and up to three marks the table knows.
	simple := func(d []rune) ([]uint8, bool) {
		if len(d) > 4 || norm.NFC.PropertiesString(string(d[0])).CCC() != 0 {
			return nil, false
		}
		var ms []uint8
		for _, m := range d[1:] {
			mi := markIndex(m)
			if t.ccc[mi] == 0 {
				return nil, false
			}
			ms = append(ms, uint8(mi))
		}
		return ms, true
	}
	safe := nfcSafe()
	for _, span := range [][2]rune{{0xC0, 0x250}, {0x1E00, 0x1F00}} {
		for r := span[0]; r < span[1]; r++ {
			d := []rune(norm.NFD.String(string(r)))
			ms, ok := simple(d)
			if !ok {
				continue
			}
			if isSafe(safe, r) {
				e := &t.decomp[letterIndex(r)]
				e.n = uint8(copy(e.r[:], d))
			}
			if len(d) > 1 && norm.NFC.String(string(r)) == string(r) {
				t.comp[compKey(d[0], ms)] = r
			}
		}
	}
	return t
})

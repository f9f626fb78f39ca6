// Package textnorm holds the text normalisation shared by search and
// deduplication: the folded form that makes "nguyen du" meet "Nguyễn Du",
// the accent-respecting form that still tells "Đặng" from "Dang", and the
// word splitting both use.
//
// Folded form (fold.go): lower case, every diacritic removed, đ and Đ
// mapped to d; as index terms (Fold) and as deduplication's match keys
// (Key). Exact form: lower case NFC with the diacritics kept, and the Vietnamese
// tone mark of the open syllables oa, oe and uy put on the second vowel
// ("new style": hoà, khoẻ, thuỷ), so text typed in the old style (hòa,
// khỏe, thủy) compares equal. Both forms are idempotent.
package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Exact returns the accent-respecting form of s: NFC, lower case,
// Vietnamese tone marks in the new-style position.
func Exact(s string) string {
	if isLowerASCII(s) {
		return s
	}
	return NormalizeTones(strings.ToLower(norm.NFC.String(s)))
}

func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// Vietnamese tone marks (as combining characters) and the vowel quality
// marks that decide where a tone goes.
const (
	toneGrave = '\u0300'
	toneAcute = '\u0301'
	toneTilde = '\u0303'
	toneHook  = '\u0309'
	toneDot   = '\u0323'
)

func isTone(r rune) bool {
	return r == toneGrave || r == toneAcute || r == toneTilde || r == toneHook || r == toneDot
}

func isVowel(r rune) bool {
	switch unicode.ToLower(r) {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// NormalizeTones moves the tone mark of each word whose vowels are an
// open "oa", "oe" or "uy" from the first vowel to the second (hòa → hoà,
// thủy → thuỷ), keeping case. The result is NFC. Words of other shapes
// are unchanged: the two Vietnamese conventions differ only there.
func NormalizeTones(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii || !mayMoveTone(s) {
		return norm.NFC.String(s)
	}
	d := norm.NFD.String(s)
	var out []rune
	changed := false
	runes := []rune(d)
	for start := 0; start < len(runes); {
		if !isWordRune(runes[start]) {
			out = append(out, runes[start])
			start++
			continue
		}
		end := start
		for end < len(runes) && isWordRune(runes[end]) {
			end++
		}
		w := runes[start:end]
		if nw, ok := moveTone(w); ok {
			w = nw
			changed = true
		}
		out = append(out, w...)
		start = end
	}
	if !changed {
		return norm.NFC.String(s)
	}
	return norm.NFC.String(string(out))
}

// tonedOU are the precomposed o and u carrying one of the five tone marks
// (and nothing else): the only letters the old style puts a tone on where
// the new style does not.
const tonedOU = "òóỏõọùúủũụÒÓỎÕỌÙÚỦŨỤ"

// mayMoveTone is a quick test for NormalizeTones: true when s has
// combining marks (decomposed text) or a toned o/u followed by a, e or y.
func mayMoveTone(s string) bool {
	prevToned := false
	for _, r := range s {
		if r >= 0x300 && r <= 0x36F {
			return true
		}
		switch r {
		case 'a', 'e', 'y', 'A', 'E', 'Y':
			if prevToned {
				return true
			}
		}
		prevToned = r >= 0xC0 && strings.ContainsRune(tonedOU, r)
	}
	return false
}

// moveTone applies the oa/oe/uy rule to one NFD word.
func moveTone(w []rune) ([]rune, bool) {
	// Split into letters, each with the marks that follow it.
	type letter struct {
		base  rune
		marks []rune
	}
	var ls []letter
	for _, r := range w {
		if unicode.Is(unicode.Mn, r) {
			if len(ls) == 0 {
				return nil, false
			}
			ls[len(ls)-1].marks = append(ls[len(ls)-1].marks, r)
			continue
		}
		ls = append(ls, letter{base: r})
	}
	n := len(ls)
	if n < 2 {
		return nil, false
	}
	a, b := ls[n-2], ls[n-1]
	if !isVowel(a.base) || !isVowel(b.base) {
		return nil, false
	}
	if n >= 3 && isVowel(ls[n-3].base) {
		// Three vowels ("oai", "uya"): the same in both conventions,
		// unless the first is the u of qu ("quy" is handled below).
		if unicode.ToLower(ls[n-3].base) != 'u' || n < 4 || unicode.ToLower(ls[n-4].base) != 'q' {
			return nil, false
		}
	}
	pair := string([]rune{unicode.ToLower(a.base), unicode.ToLower(b.base)})
	if pair != "oa" && pair != "oe" && pair != "uy" {
		return nil, false
	}
	tone := rune(0)
	var rest []rune
	for _, m := range a.marks {
		if isTone(m) {
			tone = m
		} else {
			rest = append(rest, m)
		}
	}
	if tone == 0 || len(rest) > 0 || len(b.marks) > 0 {
		// No tone on the first vowel, or a quality mark that fixes the
		// tone position anyway.
		return nil, false
	}
	out := make([]rune, 0, len(w))
	for _, l := range ls[:n-2] {
		out = append(out, l.base)
		out = append(out, l.marks...)
	}
	out = append(out, a.base, b.base, tone)
	return out, true
}

// isWordRune reports whether r belongs to a word: a letter, a digit or a
// combining mark.
func isWordRune(r rune) bool {
	// Vietnamese text is ASCII and Latin letters with diacritics, which
	// the unicode tables find by a binary search each: those are
	// answered first.
	switch {
	case r < 0x80:
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	case latinLetter(r):
		return true
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// latinLetter reports whether r is in a block of Latin letters only:
// Latin Extended-A and -B, and Latin Extended Additional (ạ to ỹ).
func latinLetter(r rune) bool {
	return 0x0100 <= r && r <= 0x024F || 0x1E00 <= r && r <= 0x1EFF
}

// IsWordRune reports whether r is part of a word for Words.
func IsWordRune(r rune) bool { return isWordRune(r) }

// Words splits s into words: maximal runs of letters, digits and marks.
// It returns substrings of s, in order.
func Words(s string) []string { return AppendWords(nil, s) }

// AppendWords appends the words of s, as Words returns them, to out.
func AppendWords(out []string, s string) []string {
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

package textnorm

import (
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// One fold, two uses. Search and deduplication see the same letters:
// Unicode NFD with every combining mark removed (so the Vietnamese tone
// and vowel marks go, and old and new tone placement, "hoà"/"hòa", give
// one form), đ and ð → d, ø → o, ł → l, æ → ae, œ → oe, ß → ss, ı → i,
// lower case; so what deduplication merges, a search finds. They differ
// only in what is not a letter or digit:
//
//   - Fold, for index terms and queries, keeps it as it is (search splits
//     text into words with Words, and an apostrophe splits: "l'homme"
//     is found by "homme");
//   - Key, for match keys, drops apostrophes ("l'homme" → "lhomme", "don't"
//     → "dont": one word) and turns every run of anything else into one
//     space, trimmed.
//
// TestFoldAndKeyAgree holds the two to each other.

// runeClass says what a rune of NFD text is to the fold.
type runeClass uint8

const (
	classLetter     runeClass = iota // a letter or digit: folded
	classMark                        // a nonspacing mark: dropped
	classApostrophe                  // an apostrophe: kept by Fold, dropped by Key
	classOther                       // anything else: kept by Fold, a separator for Key
)

// foldDecomposed classifies one rune of NFD text and appends its folded
// form (a letter's) to dst.
func foldDecomposed(dst []byte, r rune) ([]byte, runeClass) {
	switch {
	case unicode.Is(unicode.Mn, r):
		return dst, classMark
	case r == 'đ' || r == 'Đ' || r == 'ð' || r == 'Ð':
		return append(dst, 'd'), classLetter
	case r == 'ø' || r == 'Ø':
		return append(dst, 'o'), classLetter
	case r == 'ł' || r == 'Ł':
		return append(dst, 'l'), classLetter
	case r == 'æ' || r == 'Æ':
		return append(dst, 'a', 'e'), classLetter
	case r == 'œ' || r == 'Œ':
		return append(dst, 'o', 'e'), classLetter
	case r == 'ß':
		return append(dst, 's', 's'), classLetter
	case r == 'ı':
		return append(dst, 'i'), classLetter
	case r == '\'' || r == '’' || r == 'ʻ' || r == 'ʼ' || r == '`':
		return dst, classApostrophe
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return utf8.AppendRune(dst, unicode.ToLower(r)), classLetter
	}
	return dst, classOther
}

// foldTableEnd bounds the runes the fold table holds: the Latin, Greek
// and Cyrillic blocks and Latin Extended Additional, where Vietnamese
// precomposed letters live.
const foldTableEnd = 0x2000

// foldRune is what the fold makes of one rune of NFC (or any) text, in
// each form: the folded letters of its decomposition, or for a rune that
// decomposes to no letter, nothing (a mark; an apostrophe in Key's form),
// the rune itself (Fold's form) or a separator " " (Key's form). ok is
// false for a rune whose decomposition holds a character canonical
// reordering could move that the fold keeps (a combining class but not a
// nonspacing mark): text with one goes through the normaliser. For every
// other rune, the NFD of a text is the runes' NFDs in a row up to the
// order of the marks, which the fold drops, so the table gives what the
// normaliser gives (TestFoldTableMatchesNormaliser).
type foldRune struct {
	fold, key string
	ok        bool
}

var foldTable = sync.OnceValue(func() *[foldTableEnd]foldRune {
	t := &[foldTableEnd]foldRune{}
	for r := rune(0); r < foldTableEnd; r++ {
		if utf8.ValidRune(r) {
			t[r] = foldRuneSlow(r)
		}
	}
	return t
})

// foldRuneSlow is foldRune computed through the normaliser.
func foldRuneSlow(r rune) foldRune {
	fr := foldRune{ok: true}
	var buf []byte
	class := classMark
	for _, dr := range norm.NFD.String(string(r)) {
		if norm.NFD.PropertiesString(string(dr)).CCC() != 0 && !unicode.Is(unicode.Mn, dr) {
			fr.ok = false
		}
		var c runeClass
		buf, c = foldDecomposed(buf, dr)
		if c != classMark && (class == classMark || c > class) {
			class = c // a separator outweighs an apostrophe
		}
	}
	switch {
	case len(buf) > 0:
		fr.fold, fr.key = string(buf), string(buf)
	case class == classApostrophe:
		fr.fold = string(r)
	case class == classOther:
		fr.fold, fr.key = string(r), " "
	}
	return fr
}

// folder writes folded text in Key's form: a separator once for a run,
// and not at the start.
type folder struct {
	dst   []byte
	space bool // the last thing written was a separator, or nothing
}

// write writes folded text, " " standing for a separator.
func (f *folder) write(folded string) {
	for i := 0; i < len(folded); i++ {
		if c := folded[i]; c != ' ' {
			f.dst = append(f.dst, c)
			f.space = false
		} else if !f.space {
			f.dst = append(f.dst, ' ')
			f.space = true
		}
	}
}

// appendFolded appends the fold of s, in Key's form or Fold's, to dst.
// ASCII and text whose every rune the table holds (Vietnamese, Latin,
// Greek, Cyrillic) avoid the normaliser.
func appendFolded(dst []byte, s string, key bool) []byte {
	f := folder{dst: dst, space: true}
	start := len(dst)
	t := foldTable()
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
				f.dst = append(f.dst, c)
				f.space = false
			case 'A' <= c && c <= 'Z':
				f.dst = append(f.dst, c+'a'-'A')
				f.space = false
			case !key:
				f.dst = append(f.dst, c)
			default:
				f.write(t[c].key)
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r >= foldTableEnd || !t[r].ok {
			return appendFoldedNormalised(f.dst[:start], s, key)
		}
		if key {
			f.write(t[r].key)
		} else {
			f.dst = append(f.dst, t[r].fold...)
		}
		i += w
	}
	if key {
		return f.done(start)
	}
	return f.dst
}

// appendFoldedNormalised is appendFolded through the normaliser. A rune
// that is no letter is written as the normaliser gives it (Fold's form).
func appendFoldedNormalised(dst []byte, s string, key bool) []byte {
	f := folder{dst: dst, space: true}
	start := len(dst)
	var it norm.Iter
	it.InitString(norm.NFD, s)
	var buf []byte
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, w := utf8.DecodeRune(seg)
			seg = seg[w:]
			var c runeClass
			buf, c = foldDecomposed(buf[:0], r)
			switch {
			case c == classLetter:
				f.dst = append(f.dst, buf...)
				f.space = false
			case c == classMark:
			case !key:
				f.dst = utf8.AppendRune(f.dst, r)
			case c == classOther:
				f.write(" ")
			}
		}
	}
	if key {
		return f.done(start)
	}
	return f.dst
}

// done drops a separator at the end of what was written from start.
func (f *folder) done(start int) []byte {
	if len(f.dst) > start && f.dst[len(f.dst)-1] == ' ' {
		return f.dst[:len(f.dst)-1]
	}
	return f.dst
}

// Fold returns the folded form of s, for index terms and queries: its
// letters folded (see the top of this file), everything else as it is;
// use Words to split it into words.
func Fold(s string) string {
	if isLowerASCII(s) {
		return s
	}
	return string(appendFolded(make([]byte, 0, len(s)), s, false))
}

// Key returns the matching form of s, for deduplication's match keys:
// its letters folded as Fold folds them, apostrophes dropped, every run of
// anything else one space, trimmed.
func Key(s string) string { return string(appendFolded(nil, s, true)) }

// AppendKey appends Key(s) to dst.
func AppendKey(dst []byte, s string) []byte { return appendFolded(dst, s, true) }

// Package vnortho tells text that reads as Vietnamese from text that does
// not: it knows the shape of a written Vietnamese syllable (an initial
// consonant, one rhyme from a closed list, at most one tone mark, and only
// the sắc or nặng tone on a syllable ending in p, t, c or ch) and counts
// what else a text holds. Package marc uses it to choose between readings
// of bytes whose encoding is unknown or mislabelled: the right reading of
// Vietnamese gives well-formed syllables, a wrong one gives junk (symbols
// between letters, replacement characters, stray marks) or words no
// language spells.
//
// It is hand-written because no Go library models Vietnamese syllables;
// encoding detectors (ICU's, uchardet's) score byte frequencies of whole
// documents and know neither TCVN3 nor VNI, while a catalogue field is a
// few words long.
package vnortho

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tones, as the combining marks Unicode decomposes them into.
const (
	toneNone = iota
	toneGrave
	toneAcute
	toneHook
	toneTilde
	toneDot
)

// letter is a lower-case Vietnamese letter without its tone mark: base
// is its index in bases (0 for no letter).
type letter struct {
	base uint8
	tone uint8
}

// bases are the toneless letters, in the order of letter.base (from 1).
const bases = "aăâbcdđeêghiklmnoôơpqrstuưvxy"

// baseIndex returns the index of the toneless letter b in bases.
func baseIndex(b rune) uint8 {
	i := uint8(1)
	for _, r := range bases {
		if r == b {
			return i
		}
		i++
	}
	return 0
}

// letterTab holds the letter of every character below U+2200 that is one
// of written Vietnamese, in either case, toned or not; no character above
// is (TestLetterTable checks every one). Built from Unicode's
// decompositions and case mappings.
var letterTab = func() *[0x2200]letter {
	lower := make(map[rune]letter, 160)
	for _, b := range bases {
		lower[b] = letter{base: baseIndex(b)}
	}
	marks := map[rune]uint8{0x300: toneGrave, 0x301: toneAcute, 0x309: toneHook, 0x303: toneTilde, 0x323: toneDot}
	for _, b := range "aăâeêioôơuưy" {
		for mark, tone := range marks {
			r, n := utf8.DecodeRuneInString(norm.NFC.String(string(b) + string(mark)))
			if n > 0 && utf8.RuneCountInString(norm.NFC.String(string(b)+string(mark))) == 1 {
				lower[r] = letter{base: baseIndex(b), tone: tone}
			}
		}
	}
	var t [0x2200]letter
	for r := range t {
		t[r] = lower[unicode.ToLower(rune(r))]
	}
	return &t
}()

// initials are the written initial consonants, longest first so that
// "ngh" is tried before "ng" and "n".
var initials = []string{
	"ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
	"b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
}

// rhymeList is every written rhyme (vowels and final consonant, toneless).
// After "qu" and "gi" the rhyme loses its first letter in writing (quy,
// quynh, giêng), so those shortened rhymes are listed too.
const rhymeList = `
a ac ach ai am an ang anh ao ap at au ay
ăc ăm ăn ăng ăp ăt
âc âm ân âng âp ât âu ây
e ec em en eng eo ep et
ê êch êm ên ênh êp êt êu êng
i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
o oc oi om on ong op ot oong ooc
oa oac oach oai oam oan oang oanh oao oap oat oay oăc oăm oăn oăng oăt oe oen oeo oet
ô ôc ôi ôm ôn ông ôp ôt
ơ ơi ơm ơn ơp ơt
u ua uc ui um un ung up ut uôc uôi uôm uôn uông uôt
uân uâng uât uây uê uêch uênh uơ
uy uya uych uynh uyp uyt uyu uyên uyêt
ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu
y yêm yên yêt yêu ynh yt ych
`

// split is one way to read a toneless word as an initial and a rhyme.
type split struct {
	n      int8  // letters of the initial
	closed bool  // the rhyme ends in p, t, c or ch
	places uint8 // the letters of the rhyme that may carry the tone, by bit
}

// syllables holds every well-formed toneless syllable (as syllableKey
// packs it) with the ways it splits into an initial and a rhyme ("gia" is
// gi + a and g + ia). It is an open-addressing table rather than a map:
// Measure looks up every word beyond ASCII of every reading the detector
// weighs, and a map lookup was a fifth of its time.
type syllableTable struct {
	keys   []uint64 // 0: an empty slot (no key is 0)
	splits [][2]split
	mask   uint64
}

func (t *syllableTable) slot(key uint64) uint64 {
	return (key * 0x9E3779B97F4A7C15) >> 32 & t.mask
}

// lookup returns key's splits (an empty split has n = -1).
func (t *syllableTable) lookup(key uint64) *[2]split {
	for i := t.slot(key); ; i = (i + 1) & t.mask {
		switch t.keys[i] {
		case key:
			return &t.splits[i]
		case 0:
			return nil
		}
	}
}

var syllables = sync.OnceValue(func() *syllableTable {
	const size = 1 << 14 // about 4,700 syllables: a third full
	t := &syllableTable{keys: make([]uint64, size), splits: make([][2]split, size), mask: size - 1}
	for _, rhyme := range strings.Fields(rhymeList) {
		rr := []rune(rhyme)
		sp := split{closed: !toneFits(rhyme, toneGrave)}
		for pos := range rr {
			if tonePlaced(rr, pos) {
				sp.places |= 1 << pos
			}
		}
		for _, ini := range initials {
			var k syllableKey
			for _, r := range ini + rhyme {
				k.add(baseIndex(r))
			}
			sp.n = int8(utf8.RuneCountInString(ini))
			i := t.slot(k.key)
			for t.keys[i] != 0 && t.keys[i] != k.key {
				i = (i + 1) & t.mask
			}
			if t.keys[i] == 0 {
				t.keys[i], t.splits[i] = k.key, [2]split{{n: -1}, {n: -1}}
			}
			// No toneless syllable splits more than two ways
			// (TestSyllableEveryShape would find the third missing).
			if t.splits[i][0].n < 0 {
				t.splits[i][0] = sp
			} else {
				t.splits[i][1] = sp
			}
		}
	}
	return t
})

// syllableKey packs up to eight toneless letters, five bits each.
type syllableKey struct {
	key uint64
	n   int
}

func (k *syllableKey) add(base uint8) {
	k.key |= uint64(base) << (5 * k.n)
	k.n++
}

// word reads a word letter by letter and tells whether it is a syllable.
type word struct {
	k    syllableKey
	tone uint8
	at   int  // the letter carrying the tone
	bad  bool // not a syllable whatever follows
}

func (w *word) reset() { *w = word{} }

func (w *word) add(r rune) {
	l, ok := letterOf(r)
	switch {
	case !ok || w.bad || w.k.n == 8:
		w.bad = true
		return
	case l.tone != toneNone && w.tone != toneNone:
		w.bad = true // two tone marks
		return
	case l.tone != toneNone:
		w.tone, w.at = l.tone, w.k.n
	}
	w.k.add(l.base)
}

// dIndex is đ's letter.
var dIndex = uint64(baseIndex('đ'))

func (w *word) syllable() bool {
	if w.bad || w.k.n == 0 {
		return false
	}
	if w.k.n == 1 && w.k.key == dIndex {
		return true // đ, the abbreviation of đồng
	}
	sps := syllables().lookup(w.k.key)
	if sps == nil {
		return false
	}
	for _, sp := range sps {
		if sp.n < 0 {
			break
		}
		if sp.closed && w.tone != toneAcute && w.tone != toneDot {
			continue
		}
		if w.tone == toneNone {
			return true
		}
		if pos := w.at - int(sp.n); pos >= 0 && sp.places&(1<<pos) != 0 {
			return true
		}
	}
	return false
}

// Syllable reports whether the word s (NFC, any case) is a well-formed written
// Vietnamese syllable. "đ", the abbreviation of đồng after a price,
// counts as one.
func Syllable(s string) bool {
	var w word
	for _, r := range s {
		w.add(r)
	}
	return w.syllable()
}

// Letter reports whether r is a letter of written Vietnamese, in either
// case, toned or not (ASCII letters other than f, j, w and z included).
func Letter(r rune) bool {
	_, ok := letterOf(r)
	return ok
}

// letterOf returns the toneless lower-case letter and tone of r.
func letterOf(r rune) (letter, bool) {
	if r < 0 || int(r) >= len(letterTab) {
		return letter{}, false
	}
	l := letterTab[r]
	return l, l.base != 0
}

// tonePlaced reports whether the tone may sit on rhyme[pos]: on the only
// vowel; on a diphthong's second vowel before a final consonant or when
// it is ê, ơ, ô, â or ă, else on the first (oa, oe and uy take either:
// hòa and hoà); on a triphthong's middle vowel, but uyê's ê.
func tonePlaced(rhyme []rune, pos int) bool {
	nv := 0
	for nv < len(rhyme) && strings.ContainsRune("aăâeêioôơuưy", rhyme[nv]) {
		nv++
	}
	final := nv < len(rhyme)
	switch nv {
	case 1:
		return pos == 0
	case 2:
		v := string(rhyme[:2])
		switch {
		case final || strings.ContainsRune("êơôâă", rhyme[1]):
			return pos == 1
		case v == "oa" || v == "oe" || v == "uy":
			return pos == 0 || pos == 1
		}
		return pos == 0
	case 3:
		if string(rhyme[:3]) == "uyê" {
			return pos == 2
		}
		return pos == 1
	}
	return false
}

// toneFits reports whether a rhyme can carry tone: one closed by p, t, c
// or ch takes only sắc or nặng.
func toneFits(rhyme string, tone uint8) bool {
	switch {
	case strings.HasSuffix(rhyme, "p"), strings.HasSuffix(rhyme, "t"),
		strings.HasSuffix(rhyme, "c"), strings.HasSuffix(rhyme, "ch"):
		return tone == toneAcute || tone == toneDot
	}
	return true
}

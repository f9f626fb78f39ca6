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
	"bytes"
	"strings"
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

// letter is a lower-case Vietnamese letter without its tone mark.
type letter struct {
	base rune // a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y
	tone uint8
}

// letters maps every lower-case letter a Vietnamese syllable can hold to
// its toneless letter and tone; built from Unicode's decompositions.
var letters = func() map[rune]letter {
	m := make(map[rune]letter, 160)
	bases := "aăâbcdđeêghiklmnoôơpqrstuưvxy"
	for _, b := range bases {
		m[b] = letter{base: b}
	}
	marks := map[rune]uint8{0x300: toneGrave, 0x301: toneAcute, 0x309: toneHook, 0x303: toneTilde, 0x323: toneDot}
	for _, b := range "aăâeêioôơuưy" {
		for mark, tone := range marks {
			r, n := utf8.DecodeRuneInString(norm.NFC.String(string(b) + string(mark)))
			if n > 0 && utf8.RuneCountInString(norm.NFC.String(string(b)+string(mark))) == 1 {
				m[r] = letter{base: b, tone: tone}
			}
		}
	}
	return m
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

var rhymes = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range strings.Fields(rhymeList) {
		m[r] = true
	}
	return m
}()

// Syllable reports whether word (NFC, any case) is a well-formed written
// Vietnamese syllable. "đ", the abbreviation of đồng after a price,
// counts as one.
func Syllable(word string) bool {
	if word == "đ" || word == "Đ" {
		return true
	}
	var buf [24]rune
	bases := buf[:0]
	tone, at := uint8(toneNone), -1 // the tone and the letter carrying it
	for _, r := range word {
		l, ok := letterOf(r)
		if !ok || len(bases) == len(buf) {
			return false
		}
		if l.tone != toneNone {
			if tone != toneNone {
				return false // two tone marks
			}
			tone, at = l.tone, len(bases)
		}
		bases = append(bases, l.base)
	}
	if len(bases) == 0 || len(bases) > 8 {
		return false
	}
	var sb [48]byte
	s := sb[:0]
	for _, r := range bases {
		s = utf8.AppendRune(s, r)
	}
	for _, ini := range initials {
		if !bytes.HasPrefix(s, []byte(ini)) {
			continue
		}
		rest := s[len(ini):]
		n := utf8.RuneCountInString(ini)
		if rhymes[string(rest)] && toneFits(string(rest), tone) && (at < 0 || tonePlaced(bases[n:], at-n)) {
			return true
		}
	}
	return false
}

// asciiLetters is letters for ASCII, lower and upper case.
var asciiLetters = func() (t [128]letter) {
	for c := 0; c < 128; c++ {
		if l, ok := letters[unicode.ToLower(rune(c))]; ok {
			t[c] = l
		}
	}
	return t
}()

// Letter reports whether r is a letter of written Vietnamese, in either
// case, toned or not (ASCII letters other than f, j, w and z included).
func Letter(r rune) bool {
	_, ok := letterOf(r)
	return ok
}

// letterOf returns the toneless lower-case letter and tone of r.
func letterOf(r rune) (letter, bool) {
	if r < utf8.RuneSelf {
		l := asciiLetters[r]
		return l, l.base != 0
	}
	l, ok := letters[unicode.ToLower(r)]
	return l, ok
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

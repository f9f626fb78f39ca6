package vnortho

import (
	"bytes"

	"golang.org/x/text/unicode/norm"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The scorer as it was first written, the reference the table-driven one
// is checked against (ref_test.go's tests and FuzzMeasure): words found by
// a closure, letters looked up in a map, syllables tried initial by
// initial.

// measureRef is Measure.
func measureRef(text string) Score {
	var sc Score
	wordStart := -1 // byte offset of the current word, -1 outside one
	ascii := true   // the current word holds ASCII letters only
	pending := 0    // symbols seen since the last letter, inside a word's reach
	afterLetter := false
	endWord := func(end int) {
		if wordStart < 0 {
			return
		}
		if !ascii {
			if syllableRef(text[wordStart:end]) {
				sc.Vietnamese++
			} else {
				sc.Foreign++
			}
		}
		wordStart, ascii = -1, true
	}
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(text[i:])
		}
		switch {
		case isLetterRef(r):
			if pending > 0 && afterLetter {
				sc.Junk += pending // symbols between two letters
			}
			pending = 0
			if wordStart < 0 {
				wordStart = i
			}
			if r >= utf8.RuneSelf {
				ascii = false
			}
			afterLetter = true
		case unicode.Is(unicode.Mn, r):
			// NFC leaves a mark only where no precomposed letter exists.
			sc.Junk++
			if wordStart >= 0 {
				ascii = false
			}
		case alwaysJunkRef(r):
			sc.Junk++
			if r == utf8.RuneError {
				sc.Invalid++
			}
			endWord(i)
			afterLetter, pending = false, 0
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == 0xA0 || isDigitRef(r):
			endWord(i)
			afterLetter, pending = false, 0
		case inWordRef(r):
			endWord(i)
			// An apostrophe or hyphen joins words; it is no evidence.
		default:
			endWord(i)
			if afterLetter && !unicode.IsPunct(r) || afterLetter && isOddPunctRef(r) {
				pending++
			} else {
				afterLetter, pending = false, 0
			}
		}
		i += n
	}
	endWord(len(text))
	return sc
}

func isDigitRef(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return unicode.Is(unicode.Nd, r)
}

func isLetterRef(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r)
}

func inWordRef(r rune) bool {
	switch r {
	case '\'', '-', '.', 0x2019, 0x2018, 0xB7, 0x2010, 0x2011:
		return true
	}
	return false
}

func isOddPunctRef(r rune) bool {
	switch r {
	case 0x2020, 0x2021, 0x2030, 0x2039, 0x203A, 0xAB, 0xBB, 0xA1, 0xBF, 0xA7, 0xB6, 0x2022, 0x201A, 0x201E:
		return true
	}
	return false
}

func alwaysJunkRef(r rune) bool {
	switch {
	case r == utf8.RuneError:
		return true
	case r < 0x20:
		return r != '\t' && r != '\n' && r != '\r'
	case r >= 0x7F && r < 0xA0:
		return true
	case r >= 0xE000 && r <= 0xF8FF:
		return true
	}
	return false
}

// syllableRef is Syllable.
func syllableRef(word string) bool {
	if word == "đ" || word == "Đ" {
		return true
	}
	var buf [24]rune
	bases := buf[:0]
	tone, at := uint8(toneNone), -1 // the tone and the letter carrying it
	for _, r := range word {
		l, ok := letterOfRef(r)
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
		if rhymesRef[string(rest)] && toneFitsRef(string(rest), tone) && (at < 0 || tonePlacedRef(bases[n:], at-n)) {
			return true
		}
	}
	return false
}

func letterOfRef(r rune) (letterRef, bool) {
	if r < utf8.RuneSelf {
		l := asciiLettersRef[r]
		return l, l.base != 0
	}
	l, ok := lettersRef[unicode.ToLower(r)]
	return l, ok
}

func tonePlacedRef(rhyme []rune, pos int) bool {
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

func toneFitsRef(rhyme string, tone uint8) bool {
	switch {
	case strings.HasSuffix(rhyme, "p"), strings.HasSuffix(rhyme, "t"),
		strings.HasSuffix(rhyme, "c"), strings.HasSuffix(rhyme, "ch"):
		return tone == toneAcute || tone == toneDot
	}
	return true
}

// letterRef is a lower-case Vietnamese letter without its tone mark.
type letterRef struct {
	base rune // a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y
	tone uint8
}

// lettersRef maps every lower-case letter a Vietnamese syllable can hold to
// its toneless letter and tone; built from Unicode's decompositions.
var lettersRef = func() map[rune]letterRef {
	m := make(map[rune]letterRef, 160)
	bases := "aăâbcdđeêghiklmnoôơpqrstuưvxy"
	for _, b := range bases {
		m[b] = letterRef{base: b}
	}
	marks := map[rune]uint8{0x300: toneGrave, 0x301: toneAcute, 0x309: toneHook, 0x303: toneTilde, 0x323: toneDot}
	for _, b := range "aăâeêioôơuưy" {
		for mark, tone := range marks {
			r, n := utf8.DecodeRuneInString(norm.NFC.String(string(b) + string(mark)))
			if n > 0 && utf8.RuneCountInString(norm.NFC.String(string(b)+string(mark))) == 1 {
				m[r] = letterRef{base: b, tone: tone}
			}
		}
	}
	return m
}()

var rhymesRef = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range strings.Fields(rhymeList) {
		m[r] = true
	}
	return m
}()

// asciiLettersRef is letters for ASCII, lower and upper case.
var asciiLettersRef = func() (t [128]letterRef) {
	for c := 0; c < 128; c++ {
		if l, ok := lettersRef[unicode.ToLower(rune(c))]; ok {
			t[c] = l
		}
	}
	return t
}()

// TestLetterTable: letterOf is the map and case mapping it was, for every
// character.
func TestLetterTable(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want, wok := letterOfRef(r)
		got, ok := letterOf(r)
		if ok != wok || ok && (rune([]rune(bases)[got.base-1]) != want.base || got.tone != want.tone) {
			t.Fatalf("letterOf(%U) = %+v %v, want %+v %v", r, got, ok, want, wok)
		}
	}
}

// TestMeasureEveryCharacter: every character, alone, in a word, between
// letters and after one, scores as it did.
func TestMeasureEveryCharacter(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if r >= 0x30000 && r < 0xE0000 {
			r = 0xE0000 // unassigned planes
		}
		c := string(r)
		for _, s := range []string{c, "Vi" + c, "a" + c + "b", "ệ" + c + "n", c + "ờ", "ư" + c + " " + c + "-" + c} {
			if got, want := Measure(s), measureRef(s); got != want {
				t.Fatalf("Measure(%+q) = %+v, want %+v", s, got, want)
			}
		}
	}
}

// TestSyllableEveryShape: every initial with every rhyme, with every tone
// on every letter, and with the letters that make words no syllable.
func TestSyllableEveryShape(t *testing.T) {
	toned := map[rune][]rune{}
	for _, b := range "aăâeêioôơuưy" {
		for _, m := range []rune{0x300, 0x301, 0x303, 0x309, 0x323} {
			toned[b] = append(toned[b], []rune(norm.NFC.String(string(b) + string(m)))[0])
		}
	}
	n := 0
	check := func(w string) {
		if got, want := Syllable(w), syllableRef(w); got != want {
			t.Fatalf("Syllable(%q) = %v, want %v", w, got, want)
		}
		n++
	}
	for _, ini := range append(initials, "f", "đđ", "ngh") {
		for _, rhyme := range append(strings.Fields(rhymeList), "", "ư", "iê", "uơ", "tt", "oo", "yê") {
			rs := []rune(ini + rhyme)
			check(string(rs))
			check(strings.ToUpper(string(rs)))
			for i, r := range rs {
				for _, tr := range toned[r] {
					w := append([]rune(nil), rs...)
					w[i] = tr
					check(string(w))
					check(string(w) + "ể")
					w[0] = unicode.ToUpper(w[0])
					check(string(w))
				}
			}
		}
	}
	t.Logf("%d words", n)
}

// TestSyllableSplits: no toneless syllable splits more than two ways,
// which is all the table keeps.
func TestSyllableSplits(t *testing.T) {
	ways := map[string]int{}
	for _, rhyme := range strings.Fields(rhymeList) {
		for _, ini := range initials {
			ways[ini+rhyme]++
		}
	}
	two := 0
	for s, n := range ways {
		if n > 2 {
			t.Errorf("%q splits %d ways", s, n)
		}
		if n == 2 {
			two++
		}
		if p := syllables().lookup(func() uint64 {
			var k syllableKey
			for _, r := range s {
				k.add(baseIndex(r))
			}
			return k.key
		}()); p == nil || p[n-1].n < 0 {
			t.Errorf("%q: %d splits kept, want %d", s, len(p), n)
		}
	}
	if two == 0 {
		t.Error("no syllable splits two ways (gia: gi + a, g + ia)")
	}
}

package vnortho

import (
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Score counts what one reading of a text holds. Words are runs of
// letters (and combining marks); a word of ASCII letters only says nothing
// about the encoding and is not counted.
type Score struct {
	// Vietnamese counts words with a letter beyond ASCII that are
	// well-formed Vietnamese syllables.
	Vietnamese int
	// Foreign counts words with a letter beyond ASCII that are not: words
	// of other languages, and mojibake that happens to be made of letters.
	Foreign int
	// Junk counts characters no well-formed text holds: U+FFFD, control
	// characters, private-use characters, combining marks NFC could not
	// attach, and symbols between two letters other than the apostrophes,
	// hyphen, full stop and middle dot words contain.
	Junk int
	// Invalid counts the U+FFFD among Junk: bytes the reading could not
	// decode at all.
	Invalid int
}

// Add adds t to s.
func (s *Score) Add(t Score) {
	s.Vietnamese += t.Vietnamese
	s.Foreign += t.Foreign
	s.Junk += t.Junk
	s.Invalid += t.Invalid
}

// Cost weighs what is wrong with a reading: a junk character is worse
// than a word no Vietnamese syllable, which may be a foreign name. It is
// 0 for a reading with nothing wrong, and only grows as text is added.
func (s Score) Cost() int { return 3*s.Junk + s.Foreign }

// Measure scores text, which should be NFC.
func Measure(text string) Score {
	var m measurer
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(text[i:])
		}
		i += n
		m.next(r)
	}
	m.endWord()
	return m.sc
}

// measurer is Measure's state between characters.
type measurer struct {
	sc          Score
	w           word
	inWord      bool // a word has started
	ascii       bool // the current word holds ASCII letters only (when inWord)
	afterLetter bool
	pending     int // symbols seen since the last letter, inside a word's reach
}

func (m *measurer) endWord() {
	if m.inWord && !m.ascii {
		if m.w.syllable() {
			m.sc.Vietnamese++
		} else {
			m.sc.Foreign++
		}
	}
	m.inWord = false
}

func (m *measurer) next(r rune) {
	var c uint8
	if r < classTabSize {
		c = classTab[r]
	} else {
		c = classOf(r)
	}
	switch c {
	case classLetter:
		if m.pending > 0 && m.afterLetter {
			m.sc.Junk += m.pending // symbols between two letters
		}
		m.pending = 0
		if !m.inWord {
			m.inWord, m.ascii = true, true
			m.w.reset()
		}
		m.w.add(r)
		if r >= utf8.RuneSelf {
			m.ascii = false
		}
		m.afterLetter = true
	case classMark:
		// NFC leaves a mark only where no precomposed letter exists.
		m.sc.Junk++
		if m.inWord {
			m.ascii = false
			m.w.add(r)
		}
	case classJunk, classInvalid:
		m.sc.Junk++
		if c == classInvalid {
			m.sc.Invalid++
		}
		m.endWord()
		m.afterLetter, m.pending = false, 0
	case classBreak:
		m.endWord()
		m.afterLetter, m.pending = false, 0
	case classInWord:
		m.endWord()
		// An apostrophe or hyphen joins words; it is no evidence.
	case classSymbol:
		m.endWord()
		if m.afterLetter {
			m.pending++
		} else {
			m.afterLetter, m.pending = false, 0
		}
	default: // classPunct
		m.endWord()
		m.afterLetter, m.pending = false, 0
	}
}

// MeasureBytes is Measure for text held in b, which it neither keeps nor
// changes: the detector scores readings in a reused buffer.
func MeasureBytes(b []byte) Score {
	return Measure(unsafe.String(unsafe.SliceData(b), len(b)))
}

// What Measure makes of a character.
const (
	classLetter  = iota + 1
	classMark    // a combining mark
	classJunk    // wrong wherever it stands
	classInvalid // U+FFFD: junk, and a byte no reading decoded
	classBreak   // white space or a digit
	classInWord  // an apostrophe, hyphen or full stop words contain
	classSymbol  // junk between two letters
	classPunct   // punctuation
)

// classOf returns the class of r.
func classOf(r rune) uint8 {
	switch {
	case isLetter(r):
		return classLetter
	case unicode.Is(unicode.Mn, r):
		return classMark
	case r == utf8.RuneError:
		return classInvalid
	case alwaysJunk(r):
		return classJunk
	case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == 0xA0 || isDigit(r):
		return classBreak
	case inWord(r):
		return classInWord
	case !unicode.IsPunct(r) || isOddPunct(r):
		return classSymbol
	}
	return classPunct
}

// classTab is classOf for the characters below U+2200, where Latin text
// and its mojibake live.
const classTabSize = 0x2200

var classTab = func() *[classTabSize]uint8 {
	var t [classTabSize]uint8
	for r := range t {
		t[r] = classOf(rune(r))
	}
	return &t
}()

// isDigit reports decimal digits; superscripts and fractions, which
// mojibake produces, are symbols here.
func isDigit(r rune) bool {
	if r < utf8.RuneSelf {
		return '0' <= r && r <= '9'
	}
	return unicode.Is(unicode.Nd, r)
}

func isLetter(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r)
}

// inWord reports the punctuation found between the letters of real words.
func inWord(r rune) bool {
	switch r {
	case '\'', '-', '.', 0x2019, 0x2018, 0xB7, 0x2010, 0x2011:
		return true
	}
	return false
}

// isOddPunct reports punctuation that mojibake produces between letters
// and text does not: daggers, per mille, guillemets and the like.
func isOddPunct(r rune) bool {
	switch r {
	case 0x2020, 0x2021, 0x2030, 0x2039, 0x203A, 0xAB, 0xBB, 0xA1, 0xBF, 0xA7, 0xB6, 0x2022, 0x201A, 0x201E:
		return true
	}
	return false
}

// alwaysJunk reports characters that are wrong wherever they stand.
func alwaysJunk(r rune) bool {
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

// Prefer reports whether a reading scored c should replace the reading
// scored base. It must read as Vietnamese (at least one well-formed
// syllable, and at least four of every five words beyond ASCII), hold no
// more junk than base and have less wrong with it. Unless base holds
// bytes it could not decode at all, it must also hold two Vietnamese
// syllables or more and be better by two or more (a junk character
// counting three, an unknown word one), because one word of another
// language (chü, Yü) or one stray mark can read as a Vietnamese syllable
// in a legacy encoding (chỹ, Ỹ, ử). A reading that is not clearly better
// never wins, so text in English, French, German or Latin, whose words
// are not Vietnamese syllables, keeps its reading.
//
// Package marc's detector relies on two properties when it decides
// without scoring every reading: c costs less than base when preferred,
// and what is preferred to base is preferred to base with more added.
func Prefer(c, base Score) bool {
	if c.Vietnamese == 0 || c.Junk > base.Junk || c.Vietnamese < 4*c.Foreign {
		return false
	}
	if base.Invalid == 0 && (c.Vietnamese < 2 || c.Cost() > base.Cost()-2) {
		return false
	}
	return c.Cost() < base.Cost()
}

// Rescue reports whether a reading scored c should replace base when no
// reading reads as Vietnamese: base holds bytes it could not decode, c
// holds no junk at all, and fewer unknown words than base has unknown
// words and junk together (abc\xffdef read as abcÿdef is no better than
// with a replacement character). Package marc's detector relies on a
// rescue needing bad bytes in base and no junk in c.
func Rescue(c, base Score) bool {
	return base.Invalid > 0 && c.Junk == 0 && c.Foreign < base.Foreign+base.Junk
}

// Less orders two readings that both replace a base: the one with less
// wrong first, then the one with more Vietnamese.
func Less(a, b Score) bool {
	if a.Cost() != b.Cost() {
		return a.Cost() < b.Cost()
	}
	return a.Vietnamese > b.Vietnamese
}

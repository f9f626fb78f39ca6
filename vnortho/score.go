package vnortho

import (
	"unicode"
	"unicode/utf8"
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

// cost weighs what is wrong with a reading: a junk character is worse
// than a word no Vietnamese syllable, which may be a foreign name.
func (s Score) cost() int { return 3*s.Junk + s.Foreign }

// Measure scores text, which should be NFC.
func Measure(text string) Score {
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
			if Syllable(text[wordStart:end]) {
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
		case isLetter(r):
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
		case alwaysJunk(r):
			sc.Junk++
			if r == utf8.RuneError {
				sc.Invalid++
			}
			endWord(i)
			afterLetter, pending = false, 0
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == 0xA0 || isDigit(r):
			endWord(i)
			afterLetter, pending = false, 0
		case inWord(r):
			endWord(i)
			// An apostrophe or hyphen joins words; it is no evidence.
		default:
			endWord(i)
			if afterLetter && !unicode.IsPunct(r) || afterLetter && isOddPunct(r) {
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
func Prefer(c, base Score) bool {
	if c.Vietnamese == 0 || c.Junk > base.Junk || c.Vietnamese < 4*c.Foreign {
		return false
	}
	if base.Invalid == 0 && (c.Vietnamese < 2 || c.cost() > base.cost()-2) {
		return false
	}
	return c.cost() < base.cost()
}

// Rescue reports whether a reading scored c should replace base when no
// reading reads as Vietnamese: base holds bytes it could not decode, c
// holds no junk at all, and fewer unknown words than base has unknown
// words and junk together (abc\xffdef read as abcÿdef is no better than
// with a replacement character).
func Rescue(c, base Score) bool {
	return base.Invalid > 0 && c.Junk == 0 && c.Foreign < base.Foreign+base.Junk
}

// Less orders two readings that both replace a base: the one with less
// wrong first, then the one with more Vietnamese.
func Less(a, b Score) bool {
	if a.cost() != b.cost() {
		return a.cost() < b.cost()
	}
	return a.Vietnamese > b.Vietnamese
}

package marc

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Field accessors: the values deduplication, the search index, the
// crosswalks and the displays need, taken from a record as display strings.
// Every string they return is trimmed, NFC, and cleaned of the ISBD
// punctuation that separates MARC subfields (see CleanISBD). They run on
// every record at ingest, so they avoid copying when a value needs no change.
//
// This file holds the types they return and the cleaning they share;
// accessors_title.go the title, names and identifiers; accessors_describe.go
// the dates, imprint, extent, languages, type, subjects and classification.

// Name is a personal, corporate or meeting name from 1XX or 7XX.
type Name struct {
	Name  string // 100/700 $a $b $c $q; 110/710 $a $b; 111/711 $a $n $d $c
	Dates string // 100/700 $d ("1890-1969")
	Role  string // relator terms ($e; $j for meetings), else relator codes ($4)
	Tag   string // the field it came from: "100", "710", ...
	Main  bool   // true for the 1XX main entry
}

// Classification is one classification number and the scheme it belongs to.
type Classification struct {
	Scheme string // "ddc", "udc", "lcc", "lcc-local", or 084 $2 (e.g. "bbk")
	Number string
}

// ---------------------------------------------------------------- cleaning

// isbdAbbrev lists words whose final period is part of the word, so that
// "Nxb." and "2nd ed." keep it. Keys are lower case without the period.
var isbdAbbrev = map[string]bool{
	// English cataloguing abbreviations (AACR2 appendix B, the common ones).
	"al": true, "bros": true, "ca": true, "co": true, "col": true, "corp": true,
	"dept": true, "dr": true, "ed": true, "eds": true, "enl": true, "etc": true,
	"fig": true, "ill": true, "illus": true, "inc": true, "jr": true, "ltd": true,
	"no": true, "off": true, "p": true, "pl": true, "port": true, "pp": true,
	"pub": true, "publ": true, "rev": true, "sr": true, "st": true, "univ": true,
	"v": true, "vol": true, "vols": true,
	// Vietnamese: nhà xuất bản, thành phố, trang, tái bản, academic titles.
	"nxb": true, "tp": true, "tr": true, "tb": true, "gs": true, "pgs": true,
	"ts": true, "ths": true, "bs": true, "ks": true, "cn": true, "đh": true,
	"đhqg": true,
}

// CleanISBD trims s and removes the ISBD punctuation a cataloguer put
// between subfields: trailing " /", " :", " ;", " =", "," (repeatedly), a
// final "." unless it ends an initial ("Nguyễn V."), an abbreviation
// ("Nxb.", "tr.", "ed.", "S.l.") or an ellipsis, and the same marks when
// they lead the value (some Vietnamese systems put the punctuation at the
// start of the next subfield: "$b : Kim Đồng"). Brackets of supplied data
// are kept. The result is NFC.
func CleanISBD(s string) string {
	// NFC first, so that "Á." is seen as an initial whether it came
	// composed or not; trimming an NFC string at punctuation keeps it NFC.
	return cleanISBD(toNFC(s))
}

// cleanISBD is CleanISBD without the NFC step; it returns a substring of s.
func cleanISBD(s string) string {
	s = strings.TrimFunc(s, unicode.IsSpace)
	for len(s) > 0 && (isISBDMark(s[0]) || isLeadingPeriod(s)) {
		s = strings.TrimLeftFunc(s[1:], unicode.IsSpace)
	}
	for len(s) > 0 {
		c := s[len(s)-1]
		if isISBDMark(c) {
			s = strings.TrimRightFunc(s[:len(s)-1], unicode.IsSpace)
			continue
		}
		if c == '.' && !keepFinalPeriod(s) {
			s = strings.TrimRightFunc(s[:len(s)-1], unicode.IsSpace)
			continue
		}
		break
	}
	return s
}

// isLeadingPeriod reports whether s starts with the ". " that separates a
// part number put at the start of a subfield (". Tập 1"); a leading
// ellipsis or ".NET" is data.
func isLeadingPeriod(s string) bool {
	return len(s) > 1 && s[0] == '.' && s[1] == ' '
}

// isISBDMark reports the separators that never end a value: / : ; = ,
func isISBDMark(c byte) bool {
	return c == '/' || c == ':' || c == ';' || c == '=' || c == ','
}

// keepFinalPeriod reports whether the '.' ending s belongs to the last word.
func keepFinalPeriod(s string) bool {
	body := s[:len(s)-1]
	if strings.HasSuffix(body, ".") {
		return true // "..." (omission) or ".." kept as found
	}
	// The letters just before the period: "tr" in "350tr.", "l" in "S.l.".
	start := strings.LastIndexFunc(body, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) })
	word := body
	if start >= 0 {
		_, w := utf8.DecodeRuneInString(body[start:])
		word = body[start+w:]
	}
	if word == "" {
		return false // "[1998?].", "1765-1820."
	}
	r, w := utf8.DecodeRuneInString(word)
	if w == len(word) {
		return unicode.IsLetter(r) // an initial
	}
	if len(word) > 8 {
		return false
	}
	var buf [8]byte
	lower := buf[:0]
	for _, r := range word {
		r = unicode.ToLower(r)
		if r >= utf8.RuneSelf {
			// Only "đ" occurs in the table; other letters mean no match.
			if r != 'đ' {
				return false
			}
			lower = append(lower, "đ"...)
			continue
		}
		lower = append(lower, byte(r))
		if len(lower) > 8 {
			return false
		}
	}
	return isbdAbbrev[string(lower)] // no allocation for a map lookup
}

// toNFC returns s in NFC, without copying when it already is.
func toNFC(s string) string {
	if isPlainNFC(s) || norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}

// isPlainNFC is a fast sufficient test for NFC: every rune is below U+0300
// (ASCII, Latin-1, Latin Extended-A/B, IPA) or in Latin Extended
// Additional (U+1E00-U+1EFF, the precomposed Vietnamese letters). Each of
// those is NFC on its own and cannot combine with what precedes it (see
// TestPlainNFCRanges), so any string of them is NFC. Vietnamese text in NFC
// passes without the normaliser's table lookups.
func isPlainNFC(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c < utf8.RuneSelf:
			i++
		case c < 0xCC: // two-byte sequences for U+0080-U+02FF
			if i+1 >= len(s) || s[i+1]&0xC0 != 0x80 || c < 0xC2 {
				return false
			}
			i += 2
		case c == 0xE1 && i+2 < len(s) && (s[i+1] == 0xB8 || s[i+1] == 0xB9 || s[i+1] == 0xBA || s[i+1] == 0xBB) && s[i+2]&0xC0 == 0x80:
			i += 3 // U+1E00-U+1EFF
		default:
			return false
		}
	}
	return true
}

// trimNFC trims white space and normalises; for codes and identifiers,
// where the punctuation is data.
func trimNFC(s string) string {
	return toNFC(strings.TrimFunc(s, unicode.IsSpace))
}

// trailingMark returns the ISBD mark ending v (after spaces), or 0.
func trailingMark(v string) byte {
	v = strings.TrimRightFunc(v, unicode.IsSpace)
	if v == "" {
		return 0
	}
	if c := v[len(v)-1]; isISBDMark(c) || c == '.' {
		return c
	}
	return 0
}

// leadingMark returns the ISBD mark starting v (after spaces), or 0.
func leadingMark(v string) byte {
	v = strings.TrimLeftFunc(v, unicode.IsSpace)
	if v != "" && (isISBDMark(v[0]) || isLeadingPeriod(v)) {
		return v[0]
	}
	return 0
}

// markSep is the normalised separator for an ISBD mark.
func markSep(m byte) string {
	switch m {
	case ':':
		return " : "
	case ';':
		return " ; "
	case '=':
		return " = "
	case '/':
		return " / "
	case '.':
		return ". "
	case ',':
		return ", "
	}
	return ""
}

// joinISBD joins the subfields of f whose code is in codes, each cleaned,
// with the ISBD separator the cataloguer used between them (taken from the
// end of the preceding subfield, even a skipped one such as 245 $h, or the
// start of this one), written with normalised spacing. Without a mark, def
// gives the separator for a code. Returns "" when nothing is left.
func joinISBD(f *Field, codes string, def func(code, prev byte) string) string {
	if f == nil {
		return ""
	}
	var first string // the only part so far: returned without copying
	var b strings.Builder
	var pend, prev byte
	for i := range f.Subfields {
		sf := &f.Subfields[i]
		if strings.IndexByte(codes, sf.Code) >= 0 {
			if part := CleanISBD(sf.Value); part != "" {
				if first == "" {
					first = part
				} else {
					if b.Len() == 0 {
						b.Grow(2 * len(first))
						b.WriteString(first)
					}
					m := leadingMark(sf.Value)
					if m == 0 {
						m = pend
					}
					sep := markSep(m)
					if sep == "" {
						sep = def(sf.Code, prev)
					}
					if sep[0] == '.' && strings.HasSuffix(b.String(), ".") {
						sep = sep[1:] // "Nxb." + ". " would double the period
					}
					b.WriteString(sep)
					b.WriteString(part)
				}
				prev = sf.Code
			}
		}
		pend = trailingMark(sf.Value)
	}
	if b.Len() == 0 {
		return first
	}
	return toNFC(b.String())
}

func titleSep(code, prev byte) string {
	switch code {
	case 'b':
		return " : "
	case 'p':
		if prev == 'n' {
			return ", "
		}
	}
	return ". "
}

package search

import "strings"

// System numbers: 035 $a, the numbers other catalogues give a record.
// OCLC's are written in many ways, in records and by cataloguers:
// (OCoLC)12345, (OCoLC)ocm00012345, ocm00012345 (eight digits, zero
// padded), ocn123456789 (nine), on1234567890 (ten or more), and the bare
// number, with or without its zeros. Every prefixed form is keyed as
// "(ocolc)" and the number without leading zeros; a term of digits alone
// is also looked up as an OCLC number (oclcAlias), since a bare number in
// a record cannot be told to be OCLC's but a cataloguer typing one may
// mean it.

// oclcPrefix is the MARC organization code prefix of OCLC numbers, as
// folded: every OCLC number is keyed with it.
const oclcPrefix = "(ocolc)"

// oclcLetters are the prefixes OCLC writes before its numbers in 001 and
// 035: ocm, ocn and on, by the number's length.
var oclcLetters = []string{"ocm", "ocn", "on"}

// oclcNumber returns the OCLC number that k, a value folded and without
// separators (stripSeparators), names: "(ocolc)" and a number, with or
// without ocm/ocn/on, or a number with one of those. The number is
// returned without leading zeros.
func oclcNumber(k string) (string, bool) {
	rest, named := strings.CutPrefix(k, oclcPrefix)
	for _, p := range oclcLetters {
		if r, ok := strings.CutPrefix(rest, p); ok {
			rest, named = r, true
			break
		}
	}
	if !named || rest == "" || !allDigits(rest) {
		return "", false
	}
	return trimZeros(rest), true
}

// normSystemNumber keys a record id or system number: folded, hyphens
// and spaces removed (as a masked term's literal parts are), an OCLC
// number in its one form.
func normSystemNumber(s string) string {
	k := stripSeparators(s)
	if n, ok := oclcNumber(k); ok {
		return oclcPrefix + n
	}
	return k
}

// oclcAlias is the further key a term of digits alone is looked up
// under: the OCLC number it would be.
func oclcAlias(term string) []string {
	k := stripSeparators(term)
	if k == "" || !allDigits(k) {
		return nil
	}
	return []string{oclcPrefix + trimZeros(k)}
}

// oclcNumbers emits the OCLC numbers among a record's 035 $a, for the
// standard identifier index.
func oclcNumbers(d *Doc, add func(string, uint8)) {
	for _, f := range d.Record.FieldsByTag("035") {
		for _, v := range f.Subs("a") {
			if n, ok := oclcNumber(stripSeparators(v)); ok {
				add(oclcPrefix+n, 0)
			}
		}
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// trimZeros drops the leading zeros of a number, keeping one digit.
func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" && s != "" {
		return "0"
	}
	return t
}

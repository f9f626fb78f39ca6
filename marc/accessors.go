package marc

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Field accessors: the values deduplication, the search index, the
// crosswalks and holdings need, taken from a record as display strings.
// Every string they return is trimmed, NFC, and cleaned of the ISBD
// punctuation that separates MARC subfields (see CleanISBD). They run on
// every record at ingest, so they avoid copying when a value needs no change.

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

// ---------------------------------------------------------------- title

// Title returns 245 $a $b $n $p as one display string with ISBD
// separators: "Toán học : sách giáo khoa. Tập 1, Phần 2".
func (r *Record) Title() string {
	return joinISBD(r.First("245"), "abnp", titleSep)
}

// TitleParts returns the pieces of 245 deduplication compares separately:
// the title proper ($a), the remainder ($b), the part numbers ($n, e.g.
// "Tập 1") and the part names ($p), each cleaned.
func (r *Record) TitleParts() (main, remainder string, numbers, parts []string) {
	f := r.First("245")
	if f == nil {
		return "", "", nil, nil
	}
	for i := range f.Subfields {
		sf := &f.Subfields[i]
		switch sf.Code {
		case 'a':
			if main == "" {
				main = CleanISBD(sf.Value)
			}
		case 'b':
			if v := CleanISBD(sf.Value); v != "" {
				if remainder != "" {
					remainder += " " + v
				} else {
					remainder = v
				}
			}
		case 'n':
			if v := CleanISBD(sf.Value); v != "" {
				numbers = append(numbers, v)
			}
		case 'p':
			if v := CleanISBD(sf.Value); v != "" {
				parts = append(parts, v)
			}
		}
	}
	return main, remainder, numbers, parts
}

// Responsibility returns the statement of responsibility, 245 $c.
func (r *Record) Responsibility() string {
	if f := r.First("245"); f != nil {
		return CleanISBD(f.Sub('c'))
	}
	return ""
}

// Edition returns 250 $a $b ("Tái bản lần thứ 2 / có sửa chữa").
func (r *Record) Edition() string {
	return joinISBD(r.First("250"), "ab", func(byte, byte) string { return " / " })
}

// ---------------------------------------------------------------- names

// nameFields says which subfields make up the name, dates and role of each
// name field.
var nameFields = []struct {
	tag, name, dates, role string
	main                   bool
}{
	{"100", "abcq", "d", "e", true},
	{"110", "ab", "", "e", true},
	{"111", "andc", "", "j", true},
	{"700", "abcq", "d", "e", false},
	{"710", "ab", "", "e", false},
	{"711", "andc", "", "j", false},
}

// Creators returns the names of 100/110/111 (Main) and then of
// 700/710/711, each group in record order, skipping fields without a name.
func (r *Record) Creators() []Name {
	var out []Name
	for _, main := range [2]bool{true, false} {
		for i := range r.Fields {
			f := &r.Fields[i]
			if len(f.Tag) != 3 || (f.Tag[0] != '1' && f.Tag[0] != '7') || (f.Tag[0] == '1') != main {
				continue
			}
			for _, nf := range nameFields {
				if nf.tag != f.Tag {
					continue
				}
				n := Name{Name: joinRaw(f, nf.name), Tag: nf.tag, Main: nf.main}
				if n.Name == "" {
					break
				}
				if nf.dates != "" {
					n.Dates = joinRaw(f, nf.dates)
				}
				n.Role = joinEach(f, nf.role, ", ")
				if n.Role == "" {
					n.Role = joinEach(f, "4", ", ")
				}
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// joinRaw joins the subfields in codes with a space, as written (their own
// punctuation, such as "United States. Congress", is part of the name), then
// cleans the ends.
func joinRaw(f *Field, codes string) string {
	return joinRawSubs(f.Subfields, func(c byte) bool { return strings.IndexByte(codes, c) >= 0 })
}

// joinRawSubs is joinRaw over the subfields for which want is true. A
// single non-empty subfield is cleaned without copying.
func joinRawSubs(subs []Subfield, want func(byte) bool) string {
	first := -1
	for i := range subs {
		if !want(subs[i].Code) || strings.TrimFunc(subs[i].Value, unicode.IsSpace) == "" {
			continue
		}
		if first >= 0 {
			first = -2 // more than one
			break
		}
		first = i
	}
	switch {
	case first == -1:
		return ""
	case first >= 0:
		return CleanISBD(subs[first].Value)
	}
	var b strings.Builder
	for i := range subs {
		if !want(subs[i].Code) {
			continue
		}
		v := strings.TrimFunc(subs[i].Value, unicode.IsSpace)
		if v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(v)
	}
	return CleanISBD(b.String())
}

// joinEach cleans each subfield in codes and joins them with sep.
func joinEach(f *Field, codes, sep string) string {
	var out string
	for i := range f.Subfields {
		sf := &f.Subfields[i]
		if strings.IndexByte(codes, sf.Code) < 0 {
			continue
		}
		v := CleanISBD(sf.Value)
		if v == "" {
			continue
		}
		if out == "" {
			out = v
		} else {
			out += sep + v
		}
	}
	return out
}

// ---------------------------------------------------------------- numbers

// ISBNs returns the ISBNs of 020. valid holds the 020 $a whose check digit
// is right, as ISBN-13 digits (ISBN-10 converted). invalid holds the 020 $a
// that fail the check and every 020 $z (cancelled/invalid ISBN), each
// normalised as far as it goes: ISBN-13 digits when its check digit is
// right, its bare 10 or 13 digits when not, the cleaned text when it is not
// ISBN-shaped at all. Both lists are free of duplicates and keep record
// order. Qualifiers, in $a or $q, are ignored.
func (r *Record) ISBNs() (valid, invalid []string) {
	for i := range r.Fields {
		f := &r.Fields[i]
		if f.Tag != "020" {
			continue
		}
		for j := range f.Subfields {
			sf := &f.Subfields[j]
			if sf.Code != 'a' && sf.Code != 'z' {
				continue
			}
			n, ok := NormalizeISBN(sf.Value)
			if ok && sf.Code == 'a' {
				valid = appendUnique(valid, n)
				continue
			}
			if n == "" {
				n = CleanISBD(sf.Value)
			}
			if n != "" {
				invalid = appendUnique(invalid, n)
			}
		}
	}
	return valid, invalid
}

// ISSNs returns the valid ISSNs of 022 $a as NNNN-NNNN.
func (r *Record) ISSNs() []string {
	var out []string
	for _, f := range r.FieldsByTag("022") {
		for _, v := range f.Subs("a") {
			if n, ok := NormalizeISSN(v); ok {
				out = appendUnique(out, n)
			}
		}
	}
	return out
}

// InvalidISSNs returns the 022 $a with a wrong check digit, the incorrect
// ISSNs ($y) and the cancelled ones ($z), normalised where possible.
func (r *Record) InvalidISSNs() []string {
	var out []string
	for _, f := range r.FieldsByTag("022") {
		for j := range f.Subfields {
			sf := &f.Subfields[j]
			if sf.Code != 'a' && sf.Code != 'y' && sf.Code != 'z' {
				continue
			}
			n, ok := NormalizeISSN(sf.Value)
			if ok && sf.Code == 'a' {
				continue
			}
			if n == "" {
				n = CleanISBD(sf.Value)
			}
			if n != "" {
				out = appendUnique(out, n)
			}
		}
	}
	return out
}

// LCCN returns 010 $a normalised by the Library of Congress rules
// (https://www.loc.gov/marc/lccn-namespace.html): blanks removed, anything
// from a "/" on removed, and a hyphen removed with the serial after it
// left-padded with zeros to six digits ("85-2" → "85000002").
func (r *Record) LCCN() string {
	f := r.First("010")
	if f == nil {
		return ""
	}
	return NormalizeLCCN(f.Sub('a'))
}

// NormalizeLCCN applies the LC normalisation rules to one LCCN.
func NormalizeLCCN(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '/' {
			break
		}
		if c != ' ' && c != '\t' {
			b.WriteByte(c)
		}
	}
	v := b.String()
	if h := strings.IndexByte(v, '-'); h >= 0 {
		prefix, serial := v[:h], v[h+1:]
		if allDigits(serial) && len(serial) <= 6 {
			v = prefix + "000000"[len(serial):] + serial
		} else {
			// Not the year-serial form the rule is about; just drop hyphens.
			v = strings.ReplaceAll(v, "-", "")
		}
	}
	return toNFC(v)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// SystemNumbers returns 035 $a as written, "(prefix)" included, e.g.
// "(OCoLC)12345" or "(VN-NaTV)000123".
func (r *Record) SystemNumbers() []string {
	var out []string
	for _, f := range r.FieldsByTag("035") {
		for _, v := range f.Subs("a") {
			if v = trimNFC(v); v != "" {
				out = appendUnique(out, v)
			}
		}
	}
	return out
}

// OtherIdentifiers returns 015 (national bibliography number), 016
// (national agency control number) and 024 (other standard identifier) $a,
// each prefixed with its tag: "015:GB8508963", "024:9790260000438".
func (r *Record) OtherIdentifiers() []string {
	var out []string
	for i := range r.Fields {
		f := &r.Fields[i]
		if f.Tag != "015" && f.Tag != "016" && f.Tag != "024" {
			continue
		}
		for _, v := range f.Subs("a") {
			if v = trimNFC(v); v != "" {
				out = appendUnique(out, f.Tag+":"+v)
			}
		}
	}
	return out
}

// URLs returns 856 $u.
func (r *Record) URLs() []string {
	var out []string
	for _, f := range r.FieldsByTag("856") {
		for _, v := range f.Subs("u") {
			if v = trimNFC(v); v != "" {
				out = appendUnique(out, v)
			}
		}
	}
	return out
}

func appendUnique(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// ---------------------------------------------------------------- dates

// Years outside this range are treated as miscoded (008 "9999", "0000").
const minYear, maxYear = 1000, 2100

// Year returns the year of publication: 008/07-10 when it is four digits
// and 008/06 says it is a date (not "b" B.C. or "n" unknown), else the
// first four-digit year in 264 $c (ind2=1 first), 260 $c, or another
// 264 $c (copyright "©2005" and the like). 0 when unknown: "19uu" or
// "[199-?]" are not years.
func (r *Record) Year() int {
	if f := r.First("008"); f != nil && len(f.Value) >= 11 {
		dt := f.Value[6]
		if dt != 'b' && dt != 'n' {
			if y := fourDigits(f.Value[7:11]); y >= minYear && y <= maxYear {
				return y
			}
		}
	}
	// 264 ind2=1 (publication), then 260, then other 264s.
	for pass := 0; pass < 3; pass++ {
		for i := range r.Fields {
			f := &r.Fields[i]
			switch {
			case pass == 0 && f.Tag == "264" && f.Ind2 == '1':
			case pass == 1 && f.Tag == "260":
			case pass == 2 && f.Tag == "264" && f.Ind2 != '1':
			default:
				continue
			}
			for j := range f.Subfields {
				if f.Subfields[j].Code == 'c' {
					if y := firstYear(f.Subfields[j].Value); y != 0 {
						return y
					}
				}
			}
		}
	}
	return 0
}

// YearString returns Year as four digits, or "" when unknown.
func (r *Record) YearString() string {
	if y := r.Year(); y != 0 {
		return strconv.Itoa(y)
	}
	return ""
}

func fourDigits(s string) int {
	if len(s) != 4 {
		return -1
	}
	y := 0
	for i := 0; i < 4; i++ {
		if !isDigit(s[i]) {
			return -1
		}
		y = y*10 + int(s[i]-'0')
	}
	return y
}

// firstYear finds the first run of exactly four ASCII digits in s that is
// a plausible year ("[1998?]", "c2005", "©2005", "p1999", "2005, c2004").
func firstYear(s string) int {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j-i == 4 {
			if y := fourDigits(s[i:j]); y >= minYear && y <= maxYear {
				return y
			}
		}
		i = j
	}
	return 0
}

// ---------------------------------------------------------------- publication

// unknownImprint holds the placeholders for "no place" and "no publisher"
// (Latin, RDA English, Vietnamese "không địa điểm / không nhà xuất bản"),
// folded: lower case, without brackets, dots and spaces. They are not
// names, and treating them as names would make unrelated books match.
var unknownImprint = map[string]bool{
	"sl": true, "sn": true, "kđ": true, "kd": true, "knxb": true,
	"placeofpublicationnotidentified": true, "publishernotidentified": true,
}

func isUnknownImprint(v string) bool {
	if len(v) > 40 {
		return false
	}
	var buf [48]byte
	k := buf[:0]
	for _, r := range v {
		switch r {
		case '[', ']', '.', ' ', '?':
			continue
		}
		k = utf8.AppendRune(k, unicode.ToLower(r))
	}
	return unknownImprint[string(k)]
}

// imprintValues collects one subfield of 260 and of 264 ind2=1, cleaned,
// without duplicates and placeholders.
func (r *Record) imprintValues(code byte) []string {
	var out []string
	for i := range r.Fields {
		f := &r.Fields[i]
		if f.Tag != "260" && (f.Tag != "264" || f.Ind2 != '1') {
			continue
		}
		for j := range f.Subfields {
			if f.Subfields[j].Code != code {
				continue
			}
			v := CleanISBD(f.Subfields[j].Value)
			if v != "" && !isUnknownImprint(v) {
				out = appendUnique(out, v)
			}
		}
	}
	return out
}

// Publishers returns 260 $b and 264 (ind2=1, publication) $b, leaving out
// "[s.n.]"-style placeholders.
func (r *Record) Publishers() []string { return r.imprintValues('b') }

// Places returns 260 $a and 264 (ind2=1) $a, leaving out "[S.l.]"-style
// placeholders.
func (r *Record) Places() []string { return r.imprintValues('a') }

// Extent returns 300 $a ("245 tr.").
func (r *Record) Extent() string {
	if f := r.First("300"); f != nil {
		return joinEach(f, "a", " ")
	}
	return ""
}

// Pages returns the largest number in 300 $a followed by a page unit:
// "p.", "pp.", "pages", "tr."/"trang" (Vietnamese) or "tờ" (leaves). 0 when
// there is none, e.g. for "2 v." or "1 CD".
func (r *Record) Pages() int {
	f := r.First("300")
	if f == nil {
		return 0
	}
	best := 0
	for j := range f.Subfields {
		if f.Subfields[j].Code == 'a' {
			if n := pagesIn(f.Subfields[j].Value); n > best {
				best = n
			}
		}
	}
	return best
}

// pageUnits are the words that make a preceding number a page count. A
// unit must end at a word boundary, so "12 pl." (plates) does not count.
var pageUnits = []string{"pages", "page", "pp", "p", "trang", "tr", "tờ", "leaves", "l"}

// pagesIn finds the largest page count in an extent. Numbers in a
// sequence of paginations share the unit at its end ("320, 11 p.",
// "72, [1] p.", "xii, 345 tr."), so every number of such a run counts.
func pagesIn(s string) int {
	best, run := 0, 0 // run: largest number of the current sequence, awaiting its unit
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		n := 0
		for j < len(s) && isDigit(s[j]) {
			if n < 1e7 {
				n = n*10 + int(s[j]-'0')
			}
			j++
		}
		run = max(run, n)
		k := j
		if k < len(s) && s[k] == ']' {
			k++ // "[245] p.": a supplied count
		}
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if hasPageUnit(s[k:]) {
			best = max(best, run)
			run = 0
		} else if !continuesPagination(s[j:]) {
			run = 0
		}
		i = j
	}
	return best
}

// continuesPagination reports whether the text after a number, up to the
// next number, only separates paginations: commas, brackets, spaces and
// roman numerals, as in "320, 11 p." or "72, [1] p.".
func continuesPagination(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			return true
		case c == ',' || c == ' ' || c == '[' || c == ']':
		case strings.IndexByte("ivxlcdmIVXLCDM", c) >= 0:
		default:
			return false
		}
	}
	return false
}

func hasPageUnit(s string) bool {
	for _, u := range pageUnits {
		if len(s) < len(u) || !strings.EqualFold(s[:len(u)], u) {
			continue
		}
		rest := s[len(u):]
		if rest == "" {
			return true
		}
		r, _ := utf8.DecodeRuneInString(rest)
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------- languages

// Languages returns the MARC language codes of 008/35-37 and 041 $a, in
// that order, without duplicates. Blank and "|||" are skipped; 041 values
// that run codes together ("vieeng") are split into three-letter codes.
// Codes are lower case.
func (r *Record) Languages() []string {
	var out []string
	if f := r.First("008"); f != nil && len(f.Value) >= 38 {
		if c, ok := langCode(f.Value[35:38]); ok {
			out = append(out, c)
		}
	}
	for _, f := range r.FieldsByTag("041") {
		for j := range f.Subfields {
			if f.Subfields[j].Code != 'a' {
				continue
			}
			v := f.Subfields[j].Value
			// Split on anything not a letter, then into threes.
			for len(v) > 0 {
				k := 0
				for k < len(v) && isASCIIAlpha(v[k]) {
					k++
				}
				run := v[:k]
				if len(run)%3 == 0 {
					for ; len(run) > 0; run = run[3:] {
						if c, ok := langCode(run[:3]); ok {
							out = appendUnique(out, c)
						}
					}
				}
				if k < len(v) {
					k++
				}
				v = v[k:]
			}
		}
	}
	return out
}

// langCode lower-cases a three-letter code; ok is false unless all three
// bytes are ASCII letters.
func langCode(s string) (string, bool) {
	if len(s) != 3 || !isASCIIAlpha(s[0]) || !isASCIIAlpha(s[1]) || !isASCIIAlpha(s[2]) {
		return "", false
	}
	if s[0] >= 'a' && s[1] >= 'a' && s[2] >= 'a' {
		return s, true // already lower case: no allocation
	}
	return strings.ToLower(s), true
}

// ---------------------------------------------------------------- type

// materialTypes maps leader/06 (type of record) and leader/07
// (bibliographic level) to a coarse material type. The first row whose
// type matches and whose levels are empty or contain leader/07 wins.
var materialTypes = []struct {
	types, levels, kind string
}{
	{"at", "bis", "serial"}, // serial, integrating resource, serial component part
	{"at", "", "book"},
	{"ef", "", "map"},
	{"cdj", "", "music"}, // scores and musical sound recordings
	{"i", "", "sound"},   // non-musical sound recordings (audiobooks)
	{"g", "", "video"},
	{"m", "", "electronic"},
	{"kr", "", "visual"},
	{"op", "", "mixed"}, // kits and mixed materials
}

// MaterialType returns a coarse type from the leader: "book", "serial",
// "map", "music", "sound", "video", "electronic", "visual", "mixed", or
// "archive" when leader/08 says archival control. "" when the leader is too
// short or its type is unknown.
func (r *Record) MaterialType() string {
	if len(r.Leader) < 9 {
		return ""
	}
	if r.Leader[8] == 'a' {
		return "archive"
	}
	t, l := r.Leader[6], r.Leader[7]
	for _, m := range materialTypes {
		if strings.IndexByte(m.types, t) >= 0 && (m.levels == "" || strings.IndexByte(m.levels, l) >= 0) {
			return m.kind
		}
	}
	return ""
}

// TypeCode returns leader/06-07, e.g. "am" for a monograph, or "".
func (r *Record) TypeCode() string {
	if len(r.Leader) < 8 || r.Leader[6] >= utf8.RuneSelf || r.Leader[7] >= utf8.RuneSelf {
		return "" // a broken leader; never hand out half a character
	}
	return r.Leader[6:8]
}

// ---------------------------------------------------------------- subjects

// subjectTags are the subject access fields Subjects reads.
var subjectTags = []string{"600", "610", "611", "630", "648", "650", "651", "653", "655"}

// Subjects returns one heading per subject field (600, 610, 611, 630,
// 648, 650, 651, 653, 655): the letter subfields, with " -- " before each
// subdivision ($v, $x, $y, $z): "Văn học Việt Nam -- Lịch sử -- Thế kỷ 20".
// Numeric subfields ($0, $2, $6, $8: links and sources) are left out. Each
// 653 $a is a heading of its own, as MARC defines.
func (r *Record) Subjects() []string {
	return r.subjectsOf(subjectTags)
}

// subjectsOf builds the headings of the fields in tags, which must all
// start with the same digit.
func (r *Record) subjectsOf(tags []string) []string {
	var out []string
	for i := range r.Fields {
		f := &r.Fields[i]
		if len(f.Tag) != 3 || f.Tag[0] != tags[0][0] || !containsTag(tags, f.Tag) {
			continue
		}
		if f.Tag == "653" {
			for _, v := range f.Subs("a") {
				if v = CleanISBD(v); v != "" {
					out = appendUnique(out, v)
				}
			}
			continue
		}
		if h := subjectHeading(f); h != "" {
			out = appendUnique(out, h)
		}
	}
	return out
}

func containsTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

// subjectHeading builds one heading: the subfields of each segment joined
// with a space as written, segments cleaned and joined with " -- ". It
// allocates only when a heading has more than one subfield.
func subjectHeading(f *Field) string {
	var first string
	var b strings.Builder
	subs := f.Subfields
	for i := 0; i < len(subs); {
		j := i + 1
		for j < len(subs) && !isSubdivision(subs[j].Code) {
			j++
		}
		seg := joinRawSubs(subs[i:j], isLetterCode)
		i = j
		switch {
		case seg == "":
		case first == "":
			first = seg
		default:
			if b.Len() == 0 {
				b.WriteString(first)
			}
			b.WriteString(" -- ")
			b.WriteString(seg)
		}
	}
	if b.Len() == 0 {
		return first
	}
	return toNFC(b.String())
}

func isSubdivision(c byte) bool { return c == 'v' || c == 'x' || c == 'y' || c == 'z' }

func isLetterCode(c byte) bool { return c >= 'a' && c <= 'z' }

// ---------------------------------------------------------------- classification

// classTags maps classification fields to schemes; 084 takes its scheme
// from $2.
var classTags = []struct{ tag, scheme, codes string }{
	{"082", "ddc", "a"},
	{"080", "udc", "a"},
	{"084", "", "a"},
	{"050", "lcc", "ab"},
	{"090", "lcc-local", "ab"},
}

// Classifications returns the classification numbers of 082 (ddc; the
// "/" segmentation marks removed), 080 (udc), 084 (scheme from $2, lower
// case, "other" without one), 050 (lcc, $a with the $b item number) and
// 090 (lcc-local).
func (r *Record) Classifications() []Classification {
	var out []Classification
	for _, ct := range classTags {
		for i := range r.Fields {
			f := &r.Fields[i]
			if f.Tag != ct.tag {
				continue
			}
			scheme := ct.scheme
			if scheme == "" {
				scheme = strings.ToLower(trimNFC(f.Sub('2')))
				if scheme == "" {
					scheme = "other"
				}
			}
			if ct.codes == "ab" {
				// One number per field: the class ($a) and item ($b) parts.
				if v := trimNFC(strings.Join(nonEmpty(f.Subs("ab")), " ")); v != "" {
					out = appendClass(out, Classification{scheme, v})
				}
				continue
			}
			for _, v := range f.Subs("a") {
				v = trimNFC(v)
				if ct.tag == "082" && strings.ContainsAny(v, "/'") {
					v = strings.ReplaceAll(strings.ReplaceAll(v, "/", ""), "'", "")
				}
				if v != "" {
					out = appendClass(out, Classification{scheme, v})
				}
			}
		}
	}
	return out
}

func nonEmpty(vs []string) []string {
	out := vs[:0]
	for _, v := range vs {
		if v = strings.TrimFunc(v, unicode.IsSpace); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func appendClass(list []Classification, c Classification) []Classification {
	for _, x := range list {
		if x == c {
			return list
		}
	}
	return append(list, c)
}

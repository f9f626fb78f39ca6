package marc

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The accessors of what describes a record: its dates (008, 260/264), its
// publication and extent (260/264, 300), its languages, material type,
// subjects and classifications.

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
					out = appendUnique(out, Classification{scheme, v})
				}
				continue
			}
			for _, v := range f.Subs("a") {
				v = trimNFC(v)
				if ct.tag == "082" && strings.ContainsAny(v, "/'") {
					v = strings.ReplaceAll(strings.ReplaceAll(v, "/", ""), "'", "")
				}
				if v != "" {
					out = appendUnique(out, Classification{scheme, v})
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

package marc

import (
	"strings"
	"unicode"
)

// The accessors of what identifies a record: its title (245, 250), the
// names responsible for it (1XX, 7XX) and its numbers (ISBN, ISSN, LCCN,
// 035, other standard identifiers, links).

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

// appendUnique appends v to list unless list holds it already.
func appendUnique[T comparable](list []T, v T) []T {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

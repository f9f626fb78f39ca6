package search

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/textnorm"
)

// Kind says how an index turns field values into searchable keys.
type Kind uint8

// Index kinds.
const (
	// KindText indexes words (folded and exact), adjacent word pairs and
	// whole-field phrases: title, creator, subject, publisher.
	KindText Kind = iota + 1
	// KindAnywhere indexes the words and word pairs of every field, but no
	// phrases (a whole-field search anywhere asks the phrase indexes).
	KindAnywhere
	// KindCode indexes whole values, folded: codes and names such as a
	// language code or a holding library.
	KindCode
	// KindIdent indexes standard numbers normalised (ISBN as 13 digits,
	// hyphens and spaces removed).
	KindIdent
	// KindNumber indexes numbers (years) for equality and ranges.
	KindNumber
)

func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindAnywhere:
		return "anywhere"
	case KindCode:
		return "code"
	case KindIdent:
		return "identifier"
	case KindNumber:
		return "number"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// IndexDef declares one index: its names in CQL and Bib-1, the MARC
// fields behind it and how it is searched. SRU explain, the Z39.50
// attribute mapping and the documentation are all generated from the
// table Indexes returns.
type IndexDef struct {
	Name   string   // canonical name, used in Term.Index
	Title  string   // for people
	CQL    []string // CQL index names; the first is the preferred one
	Bib1   []int    // Bib-1 use attributes
	Fields string   // the MARC fields indexed, for explain and docs
	Kind   Kind
	Sort   SortBy // non-zero when the index can also be a sort key

	id      byte                                  // storage id: never reuse one
	extract func(d *Doc, add func(string, uint8)) // emits field values
	norm    func(string) string                   // KindCode/KindIdent: value or term → key
	// clean, on a text index, rewrites each value and the literal parts
	// of each term before they are split into words, so that the
	// spellings of one value meet (a Dewey number with or without its
	// segmentation marks).
	clean func(string) string
	// alias, on a code or identifier index, gives the further keys an
	// unmasked term is looked up under (a bare number as an OCLC number).
	alias func(string) []string
}

// Value flags for KindText and KindAnywhere values.
const (
	fWords  = 1 << iota // index the words and word pairs
	fPhrase             // index the whole value as a phrase
)

// idAll is the storage id of the key holding every live document.
const idAll = 0xFF

// indexTable is the one declaration of the indexes. Entries are never
// renumbered: id is part of every stored key.
var indexTable = []IndexDef{
	{
		Name: "anywhere", Title: "Any field", id: 1, Kind: KindAnywhere,
		CQL:  []string{"cql.serverChoice", "cql.anywhere", "cql.keywords", "cql.anyIndexes", "dc.anywhere"},
		Bib1: []int{1016, 1017, 1035},
		Fields: "every data field and subfield except the union record's member numbers (035) and holdings (852), " +
			"which rec.id and unicat.library search",
		extract: func(d *Doc, add func(string, uint8)) {
			var b strings.Builder
			for i := range d.Record.Fields {
				f := &d.Record.Fields[i]
				// 035 and 852 change whenever a library's copy joins or
				// leaves the union record; leaving them out keeps those
				// updates small, and they have indexes of their own.
				if f.IsControl() || f.Tag == "035" || f.Tag == "852" {
					continue
				}
				if len(f.Subfields) == 1 {
					add(f.Subfields[0].Value, fWords)
					continue
				}
				n := len(f.Subfields)
				for j := range f.Subfields {
					n += len(f.Subfields[j].Value)
				}
				b.Reset()
				b.Grow(n) // once, not doubling from eight bytes
				for j := range f.Subfields {
					if j > 0 {
						b.WriteByte(' ')
					}
					b.WriteString(f.Subfields[j].Value)
				}
				add(b.String(), fWords)
			}
		},
	},
	{
		Name: "title", Title: "Title", id: 2, Kind: KindText, Sort: SortTitle,
		CQL:  []string{"dc.title", "bath.title"},
		Bib1: []int{4, 5, 6, 33},
		Fields: "245 $a$b$f$g$k$n$p$s (phrase: 245 $a, and $a$b$n$p), 246/242/247 $a$b$n$p, " +
			"130/240/243/730/830 $a$d$f$g$k$l$m$n$o$p$r$s, 440/490 $a, 740 $a$n$p, 600/610/611/700/710/711/800/810/811 $t",
		extract: func(d *Doc, add func(string, uint8)) {
			r := d.Record
			addSubfields(r, add, fWords, "245", "abfgknps")
			if f := r.First("245"); f != nil {
				add(f.Sub('a'), fPhrase)
			}
			add(r.Title(), fPhrase)
			for _, t := range []string{"246", "242", "247"} {
				addSubfields(r, add, fWords|fPhrase, t, "abnp")
			}
			for _, t := range []string{"130", "240", "243", "730", "830"} {
				addSubfields(r, add, fWords|fPhrase, t, "adfgklmnoprs")
			}
			addSubfields(r, add, fWords|fPhrase, "440", "a")
			addSubfields(r, add, fWords|fPhrase, "490", "a")
			addSubfields(r, add, fWords|fPhrase, "740", "anp")
			for _, t := range []string{"600", "610", "611", "700", "710", "711", "800", "810", "811"} {
				addSubfields(r, add, fWords|fPhrase, t, "t")
			}
		},
	},
	{
		Name: "creator", Title: "Author, creator or contributor", id: 3, Kind: KindText, Sort: SortCreator,
		CQL:  []string{"dc.creator", "dc.author", "dc.contributor", "bath.author", "bath.name"},
		Bib1: []int{1003, 1002, 1004, 1005, 1006},
		Fields: "100/700/800 $a$b$c$d$q, 110/710/810 $a$b$c$d$n, 111/711/811 $a$c$d$n, 720 $a, 245 $c " +
			"(phrases: the name without dates, and $a)",
		extract: func(d *Doc, add func(string, uint8)) {
			r := d.Record
			for _, t := range []string{"100", "700", "800"} {
				addSubfields(r, add, fWords, t, "abcdq")
				addSubfields(r, add, fPhrase, t, "abcq")
				addSubfields(r, add, fPhrase, t, "a")
			}
			for _, t := range []string{"110", "710", "810"} {
				addSubfields(r, add, fWords, t, "abcdn")
				addSubfields(r, add, fPhrase, t, "ab")
				addSubfields(r, add, fPhrase, t, "a")
			}
			for _, t := range []string{"111", "711", "811"} {
				addSubfields(r, add, fWords, t, "acdn")
				addSubfields(r, add, fPhrase, t, "a")
			}
			addSubfields(r, add, fWords|fPhrase, "720", "a")
			addSubfields(r, add, fWords, "245", "c")
		},
	},
	{
		Name: "subject", Title: "Subject", id: 4, Kind: KindText,
		CQL:  []string{"dc.subject", "bath.subject"},
		Bib1: []int{21, 1079, 1075},
		Fields: "600/610/611/630/648/650/651/653/654/655/656/657/690-699, letter subfields " +
			"(phrases: the heading with its subdivisions, and $a)",
		extract: func(d *Doc, add func(string, uint8)) {
			r := d.Record
			for i := range r.Fields {
				f := &r.Fields[i]
				if !isSubjectTag(f.Tag) {
					continue
				}
				var parts []string
				for _, sf := range f.Subfields {
					if sf.Code >= 'a' && sf.Code <= 'z' {
						parts = append(parts, sf.Value)
					}
				}
				add(strings.Join(parts, " "), fWords)
				add(f.Sub('a'), fPhrase)
			}
			for _, h := range r.Subjects() {
				add(h, fPhrase)
			}
		},
	},
	{
		Name: "publisher", Title: "Publisher", id: 5, Kind: KindText,
		CQL:    []string{"dc.publisher"},
		Bib1:   []int{1018},
		Fields: "260 $b, 264 (second indicator 1) $b",
		extract: func(d *Doc, add func(string, uint8)) {
			for _, p := range d.Record.Publishers() {
				add(p, fWords|fPhrase)
			}
		},
	},
	{
		Name: "date", Title: "Year of publication", id: 6, Kind: KindNumber, Sort: SortDate,
		CQL:    []string{"dc.date", "bath.date"},
		Bib1:   []int{31, 30},
		Fields: "008/07-10, else the first year in 264 $c or 260 $c",
		extract: func(d *Doc, add func(string, uint8)) {
			if y := d.Record.YearString(); y != "" {
				add(y, 0)
			}
		},
	},
	{
		Name: "identifier", Title: "Any standard identifier", id: 7, Kind: KindIdent,
		CQL:  []string{"dc.identifier", "bath.standardIdentifier"},
		Bib1: []int{1007},
		Fields: "020 $a$z (as ISBN-13), 022 $a$y$z, 010 $a, 015/016/024 $a, 856 $u, OCLC numbers in 035 $a " +
			"(see rec.id)",
		norm:  normIdentifier,
		alias: oclcAlias,
		extract: func(d *Doc, add func(string, uint8)) {
			r := d.Record
			valid, invalid := r.ISBNs()
			for _, v := range append(valid, invalid...) {
				add(v, 0)
			}
			for _, v := range append(r.ISSNs(), r.InvalidISSNs()...) {
				add(v, 0)
			}
			if v := r.LCCN(); v != "" {
				add(v, 0)
			}
			for _, v := range r.OtherIdentifiers() {
				_, id, _ := strings.Cut(v, ":")
				add(id, 0)
			}
			for _, u := range r.URLs() {
				add(u, 0)
			}
			oclcNumbers(d, add)
		},
	},
	{
		Name: "isbn", Title: "ISBN", id: 8, Kind: KindIdent,
		CQL:    []string{"bath.isbn", "unicat.isbn"},
		Bib1:   []int{7},
		Fields: "020 $a$z; valid ISBNs (10 or 13 digits, any hyphens) are stored as ISBN-13",
		norm:   normISBN,
		extract: func(d *Doc, add func(string, uint8)) {
			valid, invalid := d.Record.ISBNs()
			for _, v := range append(valid, invalid...) {
				add(v, 0)
			}
		},
	},
	{
		Name: "issn", Title: "ISSN", id: 9, Kind: KindIdent,
		CQL:    []string{"bath.issn", "unicat.issn"},
		Bib1:   []int{8},
		Fields: "022 $a$y$z",
		norm:   normISSN,
		extract: func(d *Doc, add func(string, uint8)) {
			for _, v := range append(d.Record.ISSNs(), d.Record.InvalidISSNs()...) {
				add(v, 0)
			}
		},
	},
	{
		Name: "lccn", Title: "LC control number", id: 10, Kind: KindIdent,
		CQL:    []string{"bath.lccn", "unicat.lccn"},
		Bib1:   []int{9},
		Fields: "010 $a, normalised by the LC rules",
		norm:   normLCCN,
		extract: func(d *Doc, add func(string, uint8)) {
			if v := d.Record.LCCN(); v != "" {
				add(v, 0)
			}
		},
	},
	{
		Name: "id", Title: "Record id (union id, control number, member system numbers)", id: 11, Kind: KindIdent,
		CQL:  []string{"rec.id", "dc.resourceIdentifier", "unicat.id", "bath.localNumber"},
		Bib1: []int{12},
		Fields: "the union id, 001, 035 $a (with and without its \"(prefix)\"); hyphens and spaces ignored; an OCLC " +
			"number in any form ((OCoLC)12345, ocm00012345, ocn…, on…) is one number, which its digits alone, with or " +
			"without leading zeros, also find",
		norm:  normSystemNumber,
		alias: oclcAlias,
		extract: func(d *Doc, add func(string, uint8)) {
			add(d.ID, 0)
			if cn := d.Record.ControlNumber(); cn != "" && cn != d.ID {
				add(cn, 0)
			}
			// 035 $a directly: a union record of a big cluster has
			// hundreds, and duplicates only cost a repeated key.
			for _, f := range d.Record.FieldsByTag("035") {
				for _, v := range f.Subs("a") {
					v = strings.TrimSpace(v)
					add(v, 0)
					if strings.HasPrefix(v, "(") {
						if i := strings.IndexByte(v, ')'); i > 0 && i < len(v)-1 {
							add(v[i+1:], 0)
						}
					}
				}
			}
		},
	},
	{
		Name: "dewey", Title: "Dewey Decimal Classification number", id: 16, Kind: KindText,
		CQL:  []string{"unicat.dewey"},
		Bib1: []int{13},
		Fields: "082/092 $a, 852 $h when its first indicator is 1 (Dewey); segmentation marks (/ and ') and the " +
			"spaces written every three digits (895.922 34) are dropped",
		extract: deweyValues,
		clean:   cleanClassNumber,
	},
	{
		Name: "callnumber", Title: "Call number or class number, any scheme (LC, Dewey, UDC, BBK, local)", id: 17,
		Kind: KindText,
		CQL:  []string{"unicat.callNumber"},
		Bib1: []int{16},
		Fields: "050/055/080/082/084/090/092 $a with $b, 852 $h with $i (the holding libraries' call numbers); " +
			"Dewey numbers cleaned as for unicat.dewey",
		extract: callNumberValues,
		clean:   cleanClassNumber,
	},
	{
		Name: "language", Title: "Language (MARC code)", id: 12, Kind: KindCode,
		CQL:    []string{"dc.language"},
		Bib1:   []int{54},
		Fields: "008/35-37, 041 $a",
		norm:   normCode,
		extract: func(d *Doc, add func(string, uint8)) {
			for _, l := range d.Record.Languages() {
				add(l, 0)
			}
		},
	},
	{
		Name: "type", Title: "Material type", id: 13, Kind: KindCode,
		CQL:  []string{"dc.type", "dc.resourceType"},
		Bib1: []int{1031},
		Fields: "leader/06-08 as book, serial, map, music, sound, video, electronic, visual, mixed or archive; " +
			"leader/06-07 as a code (am, as, ...); 655 $a",
		norm: normCode,
		extract: func(d *Doc, add func(string, uint8)) {
			r := d.Record
			if t := r.MaterialType(); t != "" {
				add(t, 0)
			}
			if t := r.TypeCode(); t != "" {
				add(t, 0)
			}
			for _, f := range r.FieldsByTag("655") {
				add(marc.CleanISBD(f.Sub('a')), 0)
			}
		},
	},
	{
		Name: "library", Title: "Holding library code", id: 14, Kind: KindCode,
		CQL:    []string{"unicat.library", "bath.possessingInstitution"},
		Bib1:   []int{1044},
		Fields: "852 $a of the union record (the codes of the holding libraries)",
		norm:   normCode,
		extract: func(d *Doc, add func(string, uint8)) {
			libs := d.Libraries
			if libs == nil {
				for _, f := range d.Record.FieldsByTag("852") {
					libs = append(libs, f.Sub('a'))
				}
			}
			for _, l := range libs {
				add(l, 0)
			}
		},
	},
	{
		Name: "level", Title: "Level of a holding library (province, district, commune)", id: 15, Kind: KindCode,
		CQL:    []string{"unicat.level"},
		Fields: "the levels of the holding libraries, as the configuration describes them (not in the record)",
		norm:   normCode,
		extract: func(d *Doc, add func(string, uint8)) {
			for _, l := range d.Levels {
				add(l, 0)
			}
		},
	},
	{
		Name: "online", Title: "Has a digital copy online (1)", id: 18, Kind: KindCode,
		CQL: []string{"unicat.online"},
		Fields: "1 when an 856 links to the resource itself or a version of it ($u, second indicator blank, 0 or 1); " +
			"the union record has every member's links",
		norm: normCode,
		extract: func(d *Doc, add func(string, uint8)) {
			if HasOnlineCopy(d.Record) {
				add("1", 0)
			}
		},
	},
}

// HasOnlineCopy reports whether r links to a digital copy: an 856 with a
// URI ($u) whose second indicator says it is the resource itself (0), a
// version of it (1), or does not say (blank); a related resource (2), a
// table of contents or cover, is not a copy.
func HasOnlineCopy(r *marc.Record) bool {
	for _, f := range r.FieldsByTag("856") {
		if (f.Ind2 == ' ' || f.Ind2 == '0' || f.Ind2 == '1') && strings.TrimSpace(f.Sub('u')) != "" {
			return true
		}
	}
	return false
}

// tableVersion changes whenever what the extractors or key functions
// produce changes; a stored index built with another version must be
// rebuilt (unicat reindex).
const tableVersion = 5

// Indexes returns the index table. The slice is a copy; the definitions
// are shared and must not be modified.
func Indexes() []IndexDef {
	return append([]IndexDef(nil), indexTable...)
}

// LookupIndex finds an index by canonical name or CQL name (CQL names
// compare case-insensitively, as CQL requires).
func LookupIndex(name string) (*IndexDef, bool) {
	for i := range indexTable {
		d := &indexTable[i]
		if d.Name == name {
			return d, true
		}
		for _, c := range d.CQL {
			if strings.EqualFold(c, name) {
				return d, true
			}
		}
	}
	return nil, false
}

// LookupBib1 finds the index of a Bib-1 use attribute.
func LookupBib1(use int) (*IndexDef, bool) {
	for i := range indexTable {
		for _, u := range indexTable[i].Bib1 {
			if u == use {
				return &indexTable[i], true
			}
		}
	}
	return nil, false
}

func indexByID(id byte) *IndexDef {
	for i := range indexTable {
		if indexTable[i].id == id {
			return &indexTable[i]
		}
	}
	return nil
}

// phraseIndexes are the indexes with whole-field phrases, which a
// whole-field search "anywhere" asks.
func phraseIndexes() []*IndexDef {
	var out []*IndexDef
	for i := range indexTable {
		if indexTable[i].Kind == KindText {
			out = append(out, &indexTable[i])
		}
	}
	return out
}

func isSubjectTag(tag string) bool {
	switch tag {
	case "600", "610", "611", "630", "648", "650", "651", "653", "654", "655", "656", "657":
		return true
	}
	return len(tag) == 3 && tag[0] == '6' && tag[1] == '9'
}

// addSubfields emits, for every field with tag, its subfields in codes
// joined with a space.
func addSubfields(r *marc.Record, add func(string, uint8), flags uint8, tag, codes string) {
	for i := range r.Fields {
		f := &r.Fields[i]
		if f.Tag != tag {
			continue
		}
		var parts []string
		for _, sf := range f.Subfields {
			if strings.IndexByte(codes, sf.Code) >= 0 {
				if v := marc.CleanISBD(sf.Value); v != "" {
					parts = append(parts, v)
				}
			}
		}
		if len(parts) > 0 {
			add(strings.Join(parts, " "), flags)
		}
	}
}

// normCode folds a code or name: lower case, no diacritics, runs of white
// space as one space.
func normCode(s string) string {
	return strings.Join(strings.FieldsFunc(textnorm.Fold(s), unicode.IsSpace), " ")
}

// normIdentifier folds an identifier and drops hyphens and spaces; an
// ISBN (10 or 13 digits, valid check digit) becomes its ISBN-13, so every
// form of one ISBN meets.
func normIdentifier(s string) string {
	if n, ok := marc.NormalizeISBN(s); ok && looksLikeISBN(s) {
		return n
	}
	return normSystemNumber(s)
}

// looksLikeISBN reports whether s is only an ISBN's characters, so that
// an identifier such as a URL with digits in it is not mistaken for one.
func looksLikeISBN(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "ISBN"), "isbn")
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '-' || r == ' ' || r == 'X' || r == 'x' || r == ':') {
			return false
		}
	}
	return true
}

func normISBN(s string) string {
	if n, _ := marc.NormalizeISBN(s); n != "" {
		return n
	}
	return stripSeparators(s)
}

func normISSN(s string) string {
	if n, _ := marc.NormalizeISSN(s); n != "" {
		return strings.Replace(n, "-", "", 1)
	}
	return stripSeparators(s)
}

func normLCCN(s string) string {
	return stripSeparators(marc.NormalizeLCCN(s))
}

// stripSeparators folds s and removes hyphens and white space.
func stripSeparators(s string) string {
	f := textnorm.Fold(s)
	return strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, f)
}

package marc

import (
	"strings"
)

// Namespaces and root elements for Dublin Core output.
const (
	NamespaceDC    = "http://purl.org/dc/elements/1.1/"
	NamespaceOAIDC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
	NamespaceSRWDC = "info:srw/schema/1/dc-schema" // SRU record schema info:srw/schema/1/dc-v1.1
	NamespaceXSI   = "http://www.w3.org/2001/XMLSchema-instance"

	SchemaLocationOAIDC = NamespaceOAIDC + " http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
	SchemaLocationSRWDC = NamespaceSRWDC + " http://www.loc.gov/standards/sru/recordSchemas/dc-schema.xsd"

	RootOAIDC = "oai_dc:dc" // OAI-PMH metadataPrefix oai_dc
	RootSRWDC = "srw_dc:dc" // SRU recordSchema dc (info:srw/schema/1/dc-v1.1)
)

// DC is a record in unqualified Dublin Core: each element holds zero or
// more values, in the order AppendXML writes them.
type DC struct {
	Title, Creator, Subject, Description, Publisher, Contributor, Date, Type,
	Format, Identifier, Source, Language, Relation, Coverage, Rights []string
}

// dcmiTypes maps leader/06 to the DCMI Type Vocabulary. It follows the
// Library of Congress MARC to Dublin Core crosswalk (appendix 2: a c d t
// Text; e f g k Image; i j Sound; m o p r no type), using the more specific
// DCMI terms where DCMI has one: StillImage for maps and graphics,
// MovingImage for projected media, Software for computer files,
// PhysicalObject for three-dimensional objects. Kits (o) and mixed
// materials (p) get none.
var dcmiTypes = []struct{ types, dcmi string }{
	{"acdt", "Text"},
	{"efk", "StillImage"},
	{"g", "MovingImage"},
	{"ij", "Sound"},
	{"m", "Software"},
	{"r", "PhysicalObject"},
}

// ToDC maps a record to unqualified Dublin Core following the Library of
// Congress crosswalk (https://www.loc.gov/marc/marc2dc.html), with these
// choices where it leaves room or where unicat differs:
//
//   - Title: 245 (as Title) and each 246 $a $b.
//   - Creator: 100/110/111 ("Name, dates"); Contributor: 700/710/711 and
//     720 $a. The LoC table puts all of these in Contributor; separating
//     main entries into Creator is what OAI harvesters expect.
//   - Subject: 600/610/611/630/650/653 headings and the 050/060/080/082
//     numbers. 651 and 648 (places, periods) go to Coverage with 662/751/752;
//     655 genre terms go to Type after the DCMI type.
//   - Description: 500-599 except 506, 530, 540, 546.
//   - Publisher: 260/264 $b names only (no place, no "[s.n.]").
//   - Date: the publication year as ISO 8601 "YYYY" (see Record.Year).
//   - Type: the DCMI Type term from leader/06 (see dcmiTypes), "Collection"
//     when leader/07 is c, then 655 $a.
//   - Format: 340 and 856 $q.
//   - Identifier: valid ISBNs as "urn:isbn:" + 13 digits (RFC 3187), valid
//     ISSNs as "urn:issn:NNNN-NNNN" (RFC 3044), 024 $a as written, 856 $u.
//   - Language: the MARC (ISO 639-2/B) codes of 008/35-37 and 041 $a; the
//     other 041 subfields (summaries, originals) and the free text of 546
//     are left out because they do not name the language of the resource.
//   - Relation: 530, and 760-787 $t and $o; Source: 534 $t, 786 $t and $o;
//     Rights: 506, 540.
func ToDC(r *Record) DC {
	var d DC
	d.addTitles(r)
	d.addNames(r)
	d.addSubjects(r)
	d.addCoverage(r)
	d.addNotes(r)
	d.Publisher = r.Publishers()
	if y := r.YearString(); y != "" {
		d.Date = []string{y}
	}
	d.addTypes(r)
	d.addFormats(r)
	d.addIdentifiers(r)
	d.Language = r.Languages()
	d.addLinks(r)
	return d
}

// addTitles adds 245 and each 246 $a $b to Title.
func (d *DC) addTitles(r *Record) {
	if t := r.Title(); t != "" {
		d.Title = append(d.Title, t)
	}
	for _, f := range r.FieldsByTag("246") {
		if t := joinISBD(f, "ab", titleSep); t != "" {
			d.Title = appendUnique(d.Title, t)
		}
	}
}

// addNames adds the main entry to Creator, the added entries and 720 $a
// to Contributor.
func (d *DC) addNames(r *Record) {
	for _, n := range r.Creators() {
		v := n.Name
		if n.Dates != "" {
			v += ", " + n.Dates
		}
		if n.Main {
			d.Creator = appendUnique(d.Creator, v)
		} else {
			d.Contributor = appendUnique(d.Contributor, v)
		}
	}
	for _, f := range r.FieldsByTag("720") {
		if v := CleanISBD(f.Sub('a')); v != "" {
			d.Contributor = appendUnique(d.Contributor, v)
		}
	}
}

// addSubjects sets Subject: the subject headings, then the 050, 060, 080
// and 082 numbers (082 without its segmentation marks).
func (d *DC) addSubjects(r *Record) {
	d.Subject = r.subjectsOf(dcSubjectTags)
	for i := range r.Fields {
		f := &r.Fields[i]
		switch f.Tag {
		case "050", "060", "080", "082":
			for _, v := range f.Subs("a") {
				v = trimNFC(v)
				if f.Tag == "082" {
					v = strings.ReplaceAll(strings.ReplaceAll(v, "/", ""), "'", "")
				}
				if v != "" {
					d.Subject = appendUnique(d.Subject, v)
				}
			}
		}
	}
}

// addCoverage sets Coverage: the place and period headings, then 662,
// 751 and 752.
func (d *DC) addCoverage(r *Record) {
	d.Coverage = r.subjectsOf(dcCoverageTags)
	for i := range r.Fields {
		f := &r.Fields[i]
		switch f.Tag {
		case "662", "752":
			if v := joinEach(f, "abcdefgh", " -- "); v != "" {
				d.Coverage = appendUnique(d.Coverage, v)
			}
		case "751":
			if v := CleanISBD(f.Sub('a')); v != "" {
				d.Coverage = appendUnique(d.Coverage, v)
			}
		}
	}
}

// addNotes adds the 5XX notes: 506 and 540 to Rights, 530 to Relation,
// 534 $t to Source (and the note to Description), 546 nowhere, the others
// to Description.
func (d *DC) addNotes(r *Record) {
	for i := range r.Fields {
		f := &r.Fields[i]
		if len(f.Tag) != 3 || f.Tag[0] != '5' {
			continue
		}
		var dst *[]string
		switch f.Tag {
		case "506", "540":
			dst = &d.Rights
		case "530":
			dst = &d.Relation
		case "546":
			continue
		case "534":
			if v := CleanISBD(f.Sub('t')); v != "" {
				d.Source = appendUnique(d.Source, v)
			}
			dst = &d.Description
		default:
			dst = &d.Description
		}
		if v := joinRaw(f, letterCodes); v != "" {
			*dst = appendUnique(*dst, v)
		}
	}
}

// addTypes adds the DCMI type of leader/06, "Collection" for leader/07 c,
// then the 655 genre terms to Type.
func (d *DC) addTypes(r *Record) {
	if len(r.Leader) >= 8 {
		for _, t := range dcmiTypes {
			if strings.IndexByte(t.types, r.Leader[6]) >= 0 {
				d.Type = append(d.Type, t.dcmi)
				break
			}
		}
		if r.Leader[7] == 'c' {
			d.Type = append(d.Type, "Collection")
		}
	}
	for _, f := range r.FieldsByTag("655") {
		if v := CleanISBD(f.Sub('a')); v != "" {
			d.Type = appendUnique(d.Type, v)
		}
	}
}

// addFormats adds 340 and 856 $q to Format.
func (d *DC) addFormats(r *Record) {
	for i := range r.Fields {
		f := &r.Fields[i]
		switch f.Tag {
		case "340":
			if v := joinRaw(f, letterCodes); v != "" {
				d.Format = appendUnique(d.Format, v)
			}
		case "856":
			for _, v := range f.Subs("q") {
				if v = trimNFC(v); v != "" {
					d.Format = appendUnique(d.Format, v)
				}
			}
		}
	}
}

// addIdentifiers adds the valid ISBNs and ISSNs as URNs, 024 $a and 856 $u
// to Identifier.
func (d *DC) addIdentifiers(r *Record) {
	valid, _ := r.ISBNs()
	for _, v := range valid {
		d.Identifier = append(d.Identifier, "urn:isbn:"+v)
	}
	for _, v := range r.ISSNs() {
		d.Identifier = append(d.Identifier, "urn:issn:"+v)
	}
	for _, f := range r.FieldsByTag("024") {
		for _, v := range f.Subs("a") {
			if v = trimNFC(v); v != "" {
				d.Identifier = appendUnique(d.Identifier, v)
			}
		}
	}
	for _, u := range r.URLs() {
		d.Identifier = appendUnique(d.Identifier, u)
	}
}

// addLinks adds the linking entries' titles and numbers (760-787 $t, $o)
// to Relation, and those of 786 (data source) to Source too. It runs
// after addNotes, whose 530 and 534 come first in Relation and Source.
func (d *DC) addLinks(r *Record) {
	for i := range r.Fields {
		f := &r.Fields[i]
		if f.Tag < "760" || f.Tag > "787" || len(f.Tag) != 3 {
			continue
		}
		for j := range f.Subfields {
			sf := &f.Subfields[j]
			var v string
			switch sf.Code {
			case 't':
				v = CleanISBD(sf.Value)
			case 'o':
				v = trimNFC(sf.Value)
			default:
				continue
			}
			if v == "" {
				continue
			}
			d.Relation = appendUnique(d.Relation, v)
			if f.Tag == "786" {
				d.Source = appendUnique(d.Source, v)
			}
		}
	}
}

const letterCodes = "abcdefghijklmnopqrstuvwxyz"

// The subject fields that are dc:subject, and those that are dc:coverage.
var (
	dcSubjectTags  = []string{"600", "610", "611", "630", "650", "653"}
	dcCoverageTags = []string{"648", "651"}
)

// AppendXML appends d as an XML element named rootName (RootOAIDC when
// empty) holding one dc:* element per value, in the element order of
// DCMES. With nsDecl the root declares the namespaces it uses: dc always,
// and for RootOAIDC and RootSRWDC also their own namespace, xsi and
// xsi:schemaLocation; without it the caller must have declared them on an
// enclosing element (and for any other prefixed root, always). Text is
// escaped, invalid UTF-8 becomes U+FFFD and characters XML 1.0 forbids are dropped.
func (d DC) AppendXML(dst []byte, rootName string, nsDecl bool) []byte {
	if rootName == "" {
		rootName = RootOAIDC
	}
	dst = append(dst, '<')
	dst = append(dst, rootName...)
	if nsDecl {
		prefix, _, _ := strings.Cut(rootName, ":")
		switch rootName {
		case RootOAIDC:
			dst = appendDCAttr(dst, "xmlns:"+prefix, NamespaceOAIDC)
		case RootSRWDC:
			dst = appendDCAttr(dst, "xmlns:"+prefix, NamespaceSRWDC)
		}
		dst = appendDCAttr(dst, "xmlns:dc", NamespaceDC)
		switch rootName {
		case RootOAIDC:
			dst = appendDCAttr(dst, "xmlns:xsi", NamespaceXSI)
			dst = appendDCAttr(dst, "xsi:schemaLocation", SchemaLocationOAIDC)
		case RootSRWDC:
			dst = appendDCAttr(dst, "xmlns:xsi", NamespaceXSI)
			dst = appendDCAttr(dst, "xsi:schemaLocation", SchemaLocationSRWDC)
		}
	}
	dst = append(dst, '>')
	for _, e := range [...]struct {
		name string
		vals []string
	}{
		{"title", d.Title}, {"creator", d.Creator}, {"subject", d.Subject},
		{"description", d.Description}, {"publisher", d.Publisher},
		{"contributor", d.Contributor}, {"date", d.Date}, {"type", d.Type},
		{"format", d.Format}, {"identifier", d.Identifier}, {"source", d.Source},
		{"language", d.Language}, {"relation", d.Relation},
		{"coverage", d.Coverage}, {"rights", d.Rights},
	} {
		for _, v := range e.vals {
			if strings.TrimSpace(v) == "" {
				continue
			}
			dst = append(dst, "<dc:"...)
			dst = append(dst, e.name...)
			dst = append(dst, '>')
			dst = appendDCText(dst, v, false)
			dst = append(dst, "</dc:"...)
			dst = append(dst, e.name...)
			dst = append(dst, '>')
		}
	}
	dst = append(dst, "</"...)
	dst = append(dst, rootName...)
	return append(dst, '>')
}

func appendDCAttr(dst []byte, name, value string) []byte {
	dst = append(dst, ' ')
	dst = append(dst, name...)
	dst = append(dst, `="`...)
	dst = appendDCText(dst, value, true)
	return append(dst, '"')
}

// appendDCText appends s escaped for XML character data or a
// double-quoted attribute value, dropping what XML 1.0 forbids (the MARCXML
// writer's escaper; DC output has no place to report warnings).
func appendDCText(dst []byte, s string, attr bool) []byte {
	var discard []Warning
	return appendXMLEscaped(dst, s, attr, "", &discard)
}

package z3950

import (
	"errors"
	"fmt"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"

	"github.com/unicat/unicat/marc"
)

// Record syntaxes the server renders.
type recordSyntax struct {
	name   string
	render func(rec *marc.Record, brief bool, oid OID) (*External, *Diagnostic)
}

// recordSyntaxes maps a requested record syntax to its renderer; the
// EXTERNAL carries the OID asked for (USMARC and MARC 21 are one).
var recordSyntaxes = []struct {
	oid    OID
	syntax recordSyntax
}{
	{OIDUSMARC, recordSyntax{"usmarc", renderUSMARC}},
	{OIDXML, recordSyntax{"xml", renderXML}},
	{OIDApplicationXML, recordSyntax{"xml", renderXML}},
	{OIDSUTRS, recordSyntax{"sutrs", renderSUTRS}},
	{OIDOPAC, recordSyntax{"opac", renderOPAC}},
}

func lookupSyntax(o OID) (recordSyntax, bool) {
	if o == nil {
		o = OIDUSMARC
	}
	for _, s := range recordSyntaxes {
		if s.oid.Equal(o) {
			return s.syntax, true
		}
	}
	return recordSyntax{}, false
}

// Element sets: F (full) and B (brief) in every syntax; "" is F.
var elementSets = map[string]bool{"": false, "F": false, "B": true}

// elementSetMARCXML is the full record as MARCXML, the element set name
// Koha's Zebra configuration (and so Koha's own clients) use with the XML
// syntax. Like Zebra, the server takes it with XML only: with another
// syntax it names no record form, and the answer is diagnostic 25.
const elementSetMARCXML = "MARCXML"

func lookupElementSet(name string, syntax recordSyntax) (brief, ok bool) {
	name = strings.ToUpper(name)
	if name == elementSetMARCXML {
		return false, syntax.name == "xml"
	}
	brief, ok = elementSets[name]
	return brief, ok
}

// briefTags are the fields of a brief (element set B) MARC record: the
// identification of the work and, in the union record, who holds it.
var briefTags = map[string]bool{
	"001": true, "003": true, "005": true, "008": true, "010": true, "020": true, "022": true,
	"100": true, "110": true, "111": true, "130": true, "245": true, "250": true, "260": true,
	"264": true, "300": true, "852": true,
}

func briefRecord(rec *marc.Record) *marc.Record {
	out := &marc.Record{Leader: rec.Leader}
	for _, f := range rec.Fields {
		if briefTags[f.Tag] {
			out.Fields = append(out.Fields, f)
		}
	}
	return out
}

func renderUSMARC(rec *marc.Record, brief bool, oid OID) (*External, *Diagnostic) {
	if brief {
		rec = briefRecord(rec)
	}
	b, err := marc.AppendISO2709(make([]byte, 0, isoSizeHint(rec)), rec)
	if err != nil {
		// Too long for ISO 2709 (or not encodable): available as XML.
		info := "ISO 2709"
		if errors.Is(err, marc.ErrTooLong) {
			info = "record too long for ISO 2709; ask for XML"
		}
		return nil, &Diagnostic{Condition: DiagRecordNotInSyntax, AddInfo: info}
	}
	return &External{DirectReference: oid, Octets: b}, nil
}

// isoSizeHint is the ISO 2709 size of rec, near enough to allocate the
// record's buffer once.
func isoSizeHint(rec *marc.Record) int {
	n := marc.LeaderLen + 2
	for i := range rec.Fields {
		f := &rec.Fields[i]
		n += 12 + 3 + len(f.Value)
		for _, sf := range f.Subfields {
			n += 2 + len(sf.Value)
		}
	}
	return n
}

func renderXML(rec *marc.Record, brief bool, oid OID) (*External, *Diagnostic) {
	if brief {
		rec = briefRecord(rec)
	}
	b, _ := marc.AppendMARCXML(nil, rec, true)
	return &External{DirectReference: oid, Octets: b}, nil
}

// renderSUTRS renders readable text: element set F as MARC in the
// line format cataloguers read (tag, indicators, $-subfields), B as
// labelled lines.
func renderSUTRS(rec *marc.Record, brief bool, oid OID) (*External, *Diagnostic) {
	var text string
	if brief {
		text = briefText(rec)
	} else {
		text = lineFormat(rec)
	}
	return &External{DirectReference: oid, Single: generalString(text)}, nil
}

func lineFormat(rec *marc.Record) string {
	var b strings.Builder
	b.WriteString("LDR ")
	b.WriteString(rec.Leader)
	b.WriteByte('\n')
	for _, f := range rec.Fields {
		b.WriteString(f.Tag)
		if f.IsControl() && len(f.Subfields) == 0 {
			b.WriteString("    ")
			b.WriteString(f.Value)
			b.WriteByte('\n')
			continue
		}
		b.WriteByte(' ')
		b.WriteByte(blankAs(f.Ind1, '_'))
		b.WriteByte(blankAs(f.Ind2, '_'))
		for _, sf := range f.Subfields {
			b.WriteString(" $")
			b.WriteByte(sf.Code)
			b.WriteByte(' ')
			b.WriteString(sf.Value)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func blankAs(c, blank byte) byte {
	if c == ' ' || c == 0 {
		return blank
	}
	return c
}

func briefText(rec *marc.Record) string {
	var b strings.Builder
	line := func(label, v string) {
		if v = strings.TrimSpace(v); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, v)
		}
	}
	line("Id", rec.ControlNumber())
	line("Title", rec.Title())
	for _, n := range rec.Creators() {
		line("Author", n.Name)
	}
	line("Edition", rec.Edition())
	line("Publisher", strings.Join(rec.Publishers(), "; "))
	line("Year", rec.YearString())
	valid, _ := rec.ISBNs()
	line("ISBN", strings.Join(valid, " "))
	for _, h := range holdingsOf(rec) {
		line("Held by", strings.TrimSpace(h.library+" "+h.call))
	}
	return b.String()
}

// holding is one library's holding, from an 852 of the union record.
type holding struct {
	library  string // $a
	location string // $b (sublocations or collections), joined
	shelving string // $c
	call     string // $k $h $i $m
	copies   string // $t
	note     string // $z
}

func holdingsOf(rec *marc.Record) []holding {
	var out []holding
	for _, f := range rec.FieldsByTag("852") {
		h := holding{
			library:  f.Sub('a'),
			location: strings.Join(f.Subs("b"), ", "),
			shelving: f.Sub('c'),
			call:     strings.Join(f.Subs("khim"), " "),
			copies:   f.Sub('t'),
			note:     strings.Join(f.Subs("z"), " "),
		}
		if h.library == "" && h.call == "" {
			continue
		}
		out = append(out, h)
	}
	return out
}

// renderOPAC renders the OPAC record syntax: the bibliographic record
// (USMARC) and one HoldingsAndCircData per holding library, so that a
// cataloguer sees who holds the work.
//
//	OPACRecord ::= SEQUENCE {
//	  bibliographicRecord [1] IMPLICIT EXTERNAL OPTIONAL,
//	  holdingsData        [2] IMPLICIT SEQUENCE OF HoldingsRecord OPTIONAL }
//	HoldingsRecord ::= CHOICE { marcHoldingsRecord [1] IMPLICIT EXTERNAL,
//	  holdingsAndCirc [2] IMPLICIT HoldingsAndCircData }
func renderOPAC(rec *marc.Record, brief bool, oid OID) (*External, *Diagnostic) {
	bib, d := renderUSMARC(rec, brief, OIDUSMARC)
	if d != nil {
		return nil, d
	}
	bibExt, err := bib.encodeAs(ber.ClassContext, 1)
	if err != nil {
		return nil, &Diagnostic{Condition: DiagSystemErrorPresenting, AddInfo: err.Error()}
	}
	opac := seq(bibExt)
	if hs := holdingsOf(rec); len(hs) > 0 {
		// typeOfRecord and encodingLevel describe a MARC holdings
		// record, which the union record's 852s are not: left out.
		list := cons(2)
		for _, h := range hs {
			add(list, cons(2,
				optStr(8, h.library),
				optStr(9, h.location),
				optStr(10, h.shelving),
				optStr(11, h.call),
				optStr(13, h.copies),
				optStr(14, h.note)))
		}
		add(opac, list)
	}
	return &External{DirectReference: oid, Single: opac}, nil
}

// OPACHolding is one holdings entry of an OPAC record, as the client
// decodes it.
type OPACHolding struct {
	NUCCode       string // the holding library's code (852 $a)
	LocalLocation string
	CallNumber    string
	CopyNumber    string
}

// DecodeOPAC decodes an OPAC record: the bibliographic record's EXTERNAL
// and the holdings.
func DecodeOPAC(ext *External) (*External, []OPACHolding, error) {
	if ext == nil || ext.Single == nil {
		return nil, nil, errors.New("z3950: OPAC record is not a BER value")
	}
	r := newFields("OPACRecord", ext.Single)
	var bib *External
	if b := r.take(1); b != nil {
		e, err := decodeExternal(b)
		r.fail(err)
		bib = e
	}
	var hs []OPACHolding
	if l := r.take(2); l != nil {
		for _, el := range l.Children {
			if !isCtx(el, 2) {
				continue // MARC holdings records are not decoded
			}
			hr := newFields("HoldingsAndCircData", el)
			var h OPACHolding
			for hr.peek() != nil {
				p := hr.peek()
				hr.i++
				if p.ClassType != ber.ClassContext || p.TagType != ber.TypePrimitive {
					continue
				}
				s, _ := getStr(p)
				switch p.Tag {
				case 8:
					h.NUCCode = s
				case 9:
					h.LocalLocation = s
				case 11:
					h.CallNumber = s
				case 13:
					h.CopyNumber = s
				}
			}
			hs = append(hs, h)
		}
	}
	return bib, hs, r.done()
}

package marc

import (
	"encoding/xml"
	"fmt"
	"io"
)

// ReadXMLRecord reads one MARCXML record with an encoding/xml Decoder, for
// callers that meet MARC records inside their own token loop (an OAI-PMH
// harvester reading <metadata>, an SRU client reading <recordData>). start
// is the record's start element, just returned by d.Token (use Token, not
// RawToken: namespaces must be resolved). ReadXMLRecord consumes tokens up
// to and including the matching end element, so the caller's loop carries
// on after the record.
//
// A record that is well-formed but not usable MARC yields a *RecordError
// (Index 0, Offset where the record ended) and the decoder is still
// positioned after the record; an error from the decoder itself is
// returned as is and ends the document.
func ReadXMLRecord(d *xml.Decoder, start xml.StartElement) (*Record, []Warning, error) {
	return ReadXMLRecordCharset(d, start, CharsetAuto)
}

// ReadXMLRecordCharset is ReadXMLRecord with a charset setting, as
// NewXMLReader applies it.
func ReadXMLRecordCharset(d *xml.Decoder, start xml.StartElement, cs Charset) (*Record, []Warning, error) {
	b := xmlRecBuilder{cs: cs}
	uri := start.Name.Space
	depth := 0 // elements open inside the record
	var cur struct {
		kind  string // "leader", "controlfield", "subfield" or ""
		tag   span
		ts    string
		keep  bool
		a     int
		code  byte
		field xfield
		infld bool
	}
	attr := func(e xml.StartElement, name string) ([]byte, bool) {
		for _, a := range e.Attr {
			if a.Name.Local == name && a.Name.Space == "" {
				return []byte(a.Value), true
			}
		}
		return nil, false
	}
	skipped := 0 // depth inside elements being ignored
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, nil, fmt.Errorf("marc: MARCXML record: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if skipped > 0 {
				skipped++
				continue
			}
			switch {
			case cur.kind != "":
				b.fail("element <%s> inside a text-only element", t.Name.Local)
				skipped = 1
			case cur.infld:
				if t.Name.Local != "subfield" || t.Name.Space != uri {
					b.warn(cur.ts, fmt.Sprintf("element <%s> in a datafield ignored", t.Name.Local))
					skipped = 1
					continue
				}
				code, ok := attr(t, "code")
				cur.code = 0
				switch {
				case !ok:
					b.fail("field %s: <subfield> without a code attribute", cur.ts)
				case len(code) == 1 && code[0] > 0x20 && code[0] < 0x7F:
					cur.code = code[0]
				default:
					b.warn(cur.ts, fmt.Sprintf("subfield with code %q dropped", code))
				}
				cur.kind, cur.a = "subfield", b.mark()
			case depth == 1 && t.Name.Space == uri && (t.Name.Local == "leader" || t.Name.Local == "controlfield"):
				cur.kind, cur.a = t.Name.Local, b.mark()
				if t.Name.Local == "controlfield" {
					v, ok := attr(t, "tag")
					cur.tag, cur.keep = b.addTag("controlfield", v, ok)
					cur.ts = string(b.text[cur.tag.a:cur.tag.b])
					cur.a = b.mark()
				}
			case depth == 1 && t.Name.Space == uri && t.Name.Local == "datafield":
				v, ok := attr(t, "tag")
				cur.tag, cur.keep = b.addTag("datafield", v, ok)
				cur.ts = string(b.text[cur.tag.a:cur.tag.b])
				cur.field = xfield{tag: cur.tag, sub0: len(b.subs)}
				v, ok = attr(t, "ind1")
				cur.field.ind1 = b.indicator([]byte(cur.ts), "ind1", v, ok)
				v, ok = attr(t, "ind2")
				cur.field.ind2 = b.indicator([]byte(cur.ts), "ind2", v, ok)
				cur.infld = true
			default:
				b.warn("", fmt.Sprintf("element <%s> in a record ignored", t.Name.Local))
				skipped = 1
			}
		case xml.EndElement:
			depth--
			if depth < 0 {
				rec, err := b.finish()
				if err != nil {
					return nil, nil, &RecordError{Offset: d.InputOffset(), Err: err}
				}
				return rec, b.warns, nil
			}
			if skipped > 0 {
				skipped--
				continue
			}
			switch cur.kind {
			case "leader":
				if b.nlead == 0 {
					b.leader = span{cur.a, b.mark()}
				}
				b.nlead++
			case "controlfield":
				if cur.keep {
					if !IsControlTag(cur.ts) {
						b.warn(cur.ts, "controlfield with a data field tag")
					}
					b.fields = append(b.fields, xfield{tag: cur.tag, value: span{cur.a, b.mark()}, control: true})
				}
			case "subfield":
				if cur.code != 0 {
					b.subs = append(b.subs, xsub{code: cur.code, val: span{cur.a, b.mark()}})
				} else {
					b.text = b.text[:cur.a]
				}
				cur.kind = ""
				continue
			default:
				if cur.infld {
					cur.infld = false
					cur.field.sub1 = len(b.subs)
					if cur.keep {
						b.fields = append(b.fields, cur.field)
					} else {
						b.subs = b.subs[:cur.field.sub0]
					}
				}
			}
			cur.kind = ""
		case xml.CharData:
			if skipped > 0 {
				continue
			}
			if cur.kind == "" {
				if !isXMLSpace(t) {
					b.warn(cur.ts, fmt.Sprintf("text between fields ignored: %q", clip(t)))
				}
				continue
			}
			var dropped int
			b.text, dropped = appendXMLChars(b.text, t)
			if dropped > 0 {
				b.warn(cur.ts, fmt.Sprintf("%d characters not allowed in XML dropped", dropped))
			}
			if !isASCIIBytes(t) {
				b.high = true
			}
		}
	}
}

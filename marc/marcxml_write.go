package marc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// XMLWriter writes a MARCXML <collection> document. Call Close to end it.
type XMLWriter struct {
	w       *bufio.Writer
	buf     []byte
	started bool
	closed  bool
}

// NewXMLWriter returns a writer of a MARCXML collection to w.
func NewXMLWriter(w io.Writer) *XMLWriter {
	return &XMLWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

const xmlCollectionStart = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
	`<collection xmlns="` + MARCXMLNamespace + `">` + "\n"

// Write appends rec to the collection, changed where MARCXML cannot hold
// it as AppendMARCXML says; a caller that must know what changed writes
// with AppendMARCXML, which reports it.
func (w *XMLWriter) Write(rec *Record) error {
	if w.closed {
		return errors.New("marc: MARCXML writer is closed")
	}
	w.buf = w.buf[:0]
	if !w.started {
		w.started = true
		w.buf = append(w.buf, xmlCollectionStart...)
	}
	w.buf, _ = AppendMARCXML(w.buf, rec, false)
	_, err := w.w.Write(w.buf)
	return err
}

// Close ends the collection and flushes. It does not close the underlying
// writer.
func (w *XMLWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if !w.started {
		w.w.WriteString(xmlCollectionStart)
	}
	w.w.WriteString("</collection>\n")
	return w.w.Flush()
}

// AppendMARCXML appends rec as a MARCXML <record> element to dst. With
// standalone the element declares the MARCXML namespace itself, as it must
// when embedded in OAI-PMH or SRU responses or written alone; without, it
// is meant for a <collection> that declares it.
//
// The output always validates against MARC21slim.xsd. What cannot be
// represented is changed and reported in the warnings: characters XML 1.0
// forbids are dropped, invalid UTF-8 is replaced by U+FFFD, indicators and
// leader positions outside the schema's patterns become blanks, subfields
// with codes the schema does not allow and fields whose tags it does not
// allow (or data fields without subfields) are left out, and control
// fields found after data fields are written before them as the schema
// orders. leader/09 is written as 'a', 10-11 as "22" and 20-23 as "4500".
func AppendMARCXML(dst []byte, rec *Record, standalone bool) ([]byte, []Warning) {
	var warns []Warning
	if standalone {
		dst = append(dst, `<record xmlns="`+MARCXMLNamespace+`">`+"\n"...)
	} else {
		dst = append(dst, "<record>\n"...)
	}
	dst = append(dst, "  <leader>"...)
	dst = appendXMLLeader(dst, rec.Leader, &warns)
	dst = append(dst, "</leader>\n"...)

	dst = appendXMLControlFields(dst, rec, &warns)
	dst = appendXMLDataFields(dst, rec, &warns)
	dst = append(dst, "</record>\n"...)
	return dst, warns
}

// appendXMLControlFields appends the record's control fields, those
// after data fields too (the schema orders them first), leaving out tags
// MARCXML does not allow.
func appendXMLControlFields(dst []byte, rec *Record, warns *[]Warning) []byte {
	seenData := false
	moved := false
	for i := range rec.Fields {
		f := &rec.Fields[i]
		if !isControlLayout(f) {
			seenData = true
			continue
		}
		if !validControlTag(f.Tag) {
			*warns = append(*warns, Warning{Tag: f.Tag, Msg: "control field with a tag MARCXML does not allow left out"})
			continue
		}
		if seenData {
			moved = true
		}
		dst = append(dst, `  <controlfield tag="`...)
		dst = append(dst, f.Tag...)
		dst = append(dst, `">`...)
		dst = appendXMLEscaped(dst, f.Value, false, f.Tag, warns)
		dst = append(dst, "</controlfield>\n"...)
	}
	if moved {
		*warns = append(*warns, Warning{Msg: "control fields after data fields written before them"})
	}
	return dst
}

// appendXMLDataFields appends the record's data fields, leaving out tags
// MARCXML does not allow, subfield codes it does not allow and fields
// left without subfields.
func appendXMLDataFields(dst []byte, rec *Record, warns *[]Warning) []byte {
	for i := range rec.Fields {
		f := &rec.Fields[i]
		if isControlLayout(f) {
			continue
		}
		if !validDataTag(f.Tag) {
			*warns = append(*warns, Warning{Tag: f.Tag, Msg: "data field with a tag MARCXML does not allow left out"})
			continue
		}
		n := 0
		for _, sf := range f.Subfields {
			if validSubfieldCode(sf.Code) {
				n++
			} else {
				*warns = append(*warns, Warning{Tag: f.Tag, Msg: fmt.Sprintf("subfield code %q not allowed in MARCXML; subfield left out", sf.Code)})
			}
		}
		if n == 0 {
			*warns = append(*warns, Warning{Tag: f.Tag, Msg: "data field without subfields left out"})
			continue
		}
		dst = append(dst, `  <datafield tag="`...)
		dst = append(dst, f.Tag...)
		dst = append(dst, `" ind1="`...)
		dst = append(dst, xmlIndicator(f.Tag, f.Ind1, warns))
		dst = append(dst, `" ind2="`...)
		dst = append(dst, xmlIndicator(f.Tag, f.Ind2, warns))
		dst = append(dst, "\">\n"...)
		for _, sf := range f.Subfields {
			if !validSubfieldCode(sf.Code) {
				continue
			}
			dst = append(dst, `    <subfield code="`...)
			switch sf.Code {
			case '"':
				dst = append(dst, "&quot;"...)
			case '&':
				dst = append(dst, "&amp;"...)
			case '<':
				dst = append(dst, "&lt;"...)
			default:
				dst = append(dst, sf.Code)
			}
			dst = append(dst, `">`...)
			dst = appendXMLEscaped(dst, sf.Value, false, f.Tag, warns)
			dst = append(dst, "</subfield>\n"...)
		}
		dst = append(dst, "  </datafield>\n"...)
	}
	return dst
}

// xmlEscClass marks bytes that need attention when writing XML text:
// 1 markup, 2 only in attributes, 3 forbidden control, 4 possible start
// of U+FFFE or U+FFFF.
var xmlEscClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 3
	}
	t['\t'], t['\n'] = 2, 2
	t['\r'] = 1
	t['&'], t['<'], t['>'] = 1, 1, 1
	t['"'] = 2
	t[0xEF] = 4
	return t
}()

// appendXMLEscaped appends s as XML character data (or an attribute value
// when attr), dropping what XML 1.0 forbids.
func appendXMLEscaped(dst []byte, s string, attr bool, tag string, warns *[]Warning) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		*warns = append(*warns, Warning{Tag: tag, Msg: "invalid UTF-8 replaced with U+FFFD"})
	}
	dropped := 0
	last := 0
	for i := 0; i < len(s); i++ {
		cls := xmlEscClass[s[i]]
		if cls == 0 {
			continue
		}
		var rep string
		switch c := s[i]; {
		case cls == 4:
			if i+2 < len(s) && s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF) {
				dst = append(dst, s[last:i]...)
				last = i + 3
				dropped++
				i += 2
			}
			continue
		case cls == 3:
			dst = append(dst, s[last:i]...)
			last = i + 1
			dropped++
			continue
		case cls == 2 && !attr:
			continue
		case c == '&':
			rep = "&amp;"
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '"':
			rep = "&quot;"
		case c == '\r':
			rep = "&#13;"
		case c == '\n':
			rep = "&#10;"
		case c == '\t':
			rep = "&#9;"
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, rep...)
		last = i + 1
	}
	dst = append(dst, s[last:]...)
	if dropped > 0 {
		*warns = append(*warns, Warning{Tag: tag, Msg: fmt.Sprintf("%d characters not allowed in XML dropped", dropped)})
	}
	return dst
}

// appendXMLLeader writes the leader so that it matches the schema's
// pattern.
func appendXMLLeader(dst []byte, leader string, warns *[]Warning) []byte {
	if len(leader) != LeaderLen {
		*warns = append(*warns, Warning{Msg: fmt.Sprintf("leader is %d bytes, not %d", len(leader), LeaderLen)})
	}
	var l [LeaderLen]byte
	for i := range l {
		c := byte(' ')
		if i < len(leader) {
			c = leader[i]
		}
		ok := false
		alnum := isAlnum(c)
		switch {
		case i <= 4 || (i >= 12 && i <= 16):
			ok = c == ' ' || (c >= '0' && c <= '9')
		case i == 6:
			ok = alnum
		default:
			ok = c == ' ' || alnum
		}
		if !ok {
			repl := byte(' ')
			if i == 6 {
				repl = 'a' // the schema requires a type of record
			}
			if i < len(leader) {
				*warns = append(*warns, Warning{Msg: fmt.Sprintf("leader/%02d %q not allowed in MARCXML; %q written", i, c, repl)})
			}
			c = repl
		}
		l[i] = c
	}
	l[9] = 'a'
	l[10], l[11] = '2', '2'
	l[20], l[21], l[22], l[23] = '4', '5', '0', '0'
	return append(dst, l[:]...)
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

// validControlTag matches the schema's controltagDataType: 00[1-9A-Za-z].
func validControlTag(tag string) bool {
	return len(tag) == 3 && tag[0] == '0' && tag[1] == '0' && isAlnum(tag[2]) && tag[2] != '0'
}

// validDataTag matches the schema's tagDataType: three digits or letters of
// one case, not starting 00.
func validDataTag(tag string) bool {
	if len(tag) != 3 {
		return false
	}
	upper, lower := true, true
	for i := 0; i < 3; i++ {
		c := tag[i]
		if !(c >= '0' && c <= '9') {
			upper = upper && c >= 'A' && c <= 'Z'
			lower = lower && c >= 'a' && c <= 'z'
		}
	}
	if !upper && !lower {
		return false
	}
	if tag[0] == '0' {
		return tag[1] != '0'
	}
	return true
}

// validSubfieldCode matches the schema's subfieldcodeDataType: a digit, a
// letter or one of !"#$%&'()*+,-./:;<=>?{}_^`~[]\ (not @, | or space).
func validSubfieldCode(c byte) bool {
	return c > 0x20 && c < 0x7F && c != '@' && c != '|'
}

// xmlIndicator returns an indicator allowed by the schema ([0-9a-z ]).
func xmlIndicator(tag string, c byte, warns *[]Warning) byte {
	switch {
	case c == 0 || c == ' ' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'):
		return indicatorOrBlank(c)
	case c >= 'A' && c <= 'Z':
		*warns = append(*warns, Warning{Tag: tag, Msg: fmt.Sprintf("indicator %q written in lower case", c)})
		return c + 'a' - 'A'
	}
	*warns = append(*warns, Warning{Tag: tag, Msg: fmt.Sprintf("indicator %q not allowed in MARCXML; blank written", c)})
	return ' '
}

// AppendXMLText appends s escaped for XML character data or a
// double-quoted attribute value. Invalid UTF-8 becomes U+FFFD and
// characters XML 1.0 forbids are dropped, so whatever a record or a client
// holds, the document stays well-formed. The protocol packages (SRU,
// OAI-PMH, the web page's downloads) write all their text through it.
func AppendXMLText(dst []byte, s string) []byte {
	var discard []Warning
	return appendXMLEscaped(dst, s, true, "", &discard)
}

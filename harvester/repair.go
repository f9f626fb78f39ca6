package harvester

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// What repairXML fixed.
type repairKind uint8

const (
	repControl repairKind = iota // character XML 1.0 forbids, dropped
	repUTF8                      // byte of broken UTF-8, read as Windows-1258
	repAmp                       // '&' starting no reference, escaped
	repEntity                    // HTML entity, replaced by its character
)

// repair is one fix, at its offset in the repaired document.
type repair struct {
	off  int
	kind repairKind
}

// repairXML makes what encoding/xml would refuse readable, where the fix
// is unambiguous: characters XML 1.0 forbids (raw or as character
// references) are dropped (keepApart); bytes that are not UTF-8 are read as
// Windows-1258, the legacy Vietnamese code page they most likely are; an
// HTML entity (&nbsp;) becomes its character; an '&' that does not start
// a reference, or starts an entity neither XML nor HTML defines, is
// escaped. Inside CDATA sections, comments and processing instructions
// only the first two apply. It returns b itself when nothing needed
// repair.
func repairXML(b []byte) ([]byte, []repair) {
	r := xmlRepairer{b: b}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '<' && r.mode == inText:
			r.mode = markupAt(b[i:])
		case c == '>' && r.mode != inText:
			if r.endsMarkup(i) {
				r.mode = inText
			}
		case c == '&' && r.mode == inText:
			i += r.reference(i)
			continue
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			r.fix(i, repControl)
			r.keepApart(i)
			i++
			continue
		case c >= 0x80:
			i += r.nonASCII(i)
			continue
		}
		// The common case, ASCII text and markup, is this loop's own:
		// a call for each byte would slow every page down.
		if r.out != nil {
			r.out = append(r.out, c)
		}
		i++
	}
	if r.out == nil {
		return b, nil
	}
	return r.out, r.reps
}

// Where repairXML is: only '&' and in text are references.
type markupMode uint8

const (
	inText markupMode = iota
	inCDATA
	inComment
	inPI
)

// markupAt is the mode the markup at the start of b, a '<' in text,
// begins: inText for an element's tag.
func markupAt(b []byte) markupMode {
	switch {
	case bytes.HasPrefix(b, []byte("<![CDATA[")):
		return inCDATA
	case bytes.HasPrefix(b, []byte("<!--")):
		return inComment
	case bytes.HasPrefix(b, []byte("<?")):
		return inPI
	}
	return inText
}

// xmlRepairer is repairXML's output as it goes.
type xmlRepairer struct {
	b    []byte
	out  []byte // nil until the first repair
	reps []repair
	mode markupMode
}

// fix records a repair at b[i], first copying what is before it when it
// is the first.
func (r *xmlRepairer) fix(i int, kind repairKind) {
	if r.out == nil {
		r.out = append(make([]byte, 0, len(r.b)+64), r.b[:i]...)
	}
	r.reps = append(r.reps, repair{off: len(r.out), kind: kind})
}

// keepApart writes a space for the forbidden character at b[i] when
// dropping it would join the bytes around it into markup they were not:
// "<!\x11[" into the start of a CDATA section, "]]\x01>" into its end,
// "-\x01-" into a comment's. Elsewhere the character is only dropped.
func (r *xmlRepairer) keepApart(i int) {
	const punct = "<>!?-[]/"
	if len(r.out) == 0 || i+1 >= len(r.b) {
		return
	}
	if strings.IndexByte(punct, r.out[len(r.out)-1]) >= 0 && strings.IndexByte(punct, r.b[i+1]) >= 0 {
		r.out = append(r.out, ' ')
	}
}

// endsMarkup reports whether the '>' at b[i] ends the CDATA section,
// comment or processing instruction r is in.
func (r *xmlRepairer) endsMarkup(i int) bool {
	end := "?>"
	switch r.mode {
	case inCDATA:
		end = "]]>"
	case inComment:
		end = "-->"
	}
	return i+1 >= len(end) && string(r.b[i+1-len(end):i+1]) == end
}

// reference repairs the '&' at b[i] in text and what it starts, and
// returns the bytes it read: a bare '&' is escaped, a reference to a
// character XML forbids dropped, an HTML entity replaced by its
// character, any other reference kept.
func (r *xmlRepairer) reference(i int) int {
	b := r.b
	n, ok := refLen(b[i:])
	if !ok {
		r.fix(i, repAmp)
		r.out = append(r.out, "&amp;"...)
		return 1
	}
	if c, isChar := charRef(b[i : i+n]); isChar && !isXMLChar(c) {
		r.fix(i, repControl)
		return n
	}
	if v, ok := xml.HTMLEntity[string(b[i+1:i+n-1])]; ok && !isXMLEntity(b[i+1:i+n-1]) {
		r.fix(i, repEntity)
		r.out = append(r.out, v...)
		return n
	}
	if r.out != nil {
		r.out = append(r.out, b[i:i+n]...)
	}
	return n
}

// nonASCII repairs the byte at b[i], 0x80 or above, and what it starts,
// and returns the bytes it read: a byte of broken UTF-8 is read as
// Windows-1258, a character XML forbids dropped, any other kept.
func (r *xmlRepairer) nonASCII(i int) int {
	b := r.b
	c, size := utf8.DecodeRune(b[i:])
	if c == utf8.RuneError && size <= 1 {
		r.fix(i, repUTF8)
		c = charmap.Windows1258.DecodeByte(b[i])
		if !isXMLChar(c) {
			c = utf8.RuneError
		}
		r.out = utf8.AppendRune(r.out, c)
		return 1
	}
	if !isXMLChar(c) {
		r.fix(i, repControl)
		return size
	}
	if r.out != nil {
		r.out = append(r.out, b[i:i+size]...)
	}
	return size
}

// refLen returns the length of the character or entity reference at the
// start of b (which begins with '&') and whether it is one encoding/xml
// reads: a character reference, an XML entity or an HTML one.
func refLen(b []byte) (int, bool) {
	end := bytes.IndexByte(b[:min(len(b), 40)], ';')
	if end < 2 {
		return 0, false
	}
	name := b[1:end]
	if name[0] == '#' {
		if _, ok := charRef(b[:end+1]); ok {
			return end + 1, true
		}
		return 0, false
	}
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return 0, false
		}
	}
	if isXMLEntity(name) {
		return end + 1, true
	}
	if _, ok := xml.HTMLEntity[string(name)]; ok {
		return end + 1, true
	}
	return 0, false
}

func isXMLEntity(name []byte) bool {
	switch string(name) {
	case "lt", "gt", "amp", "apos", "quot":
		return true
	}
	return false
}

// charRef parses "&#N;" or "&#xH;".
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 4 || ref[1] != '#' || ref[len(ref)-1] != ';' {
		return 0, false
	}
	s := string(ref[2 : len(ref)-1])
	base := 10
	if s[0] == 'x' {
		s, base = s[1:], 16
	}
	if s == "" || strings.ContainsAny(s, "+-_") {
		return 0, false
	}
	n, err := strconv.ParseUint(s, base, 32)
	if err != nil {
		return 0, false
	}
	if n > utf8.MaxRune {
		return -1, true // not a character at all
	}
	return rune(n), true
}

// isXMLChar reports whether XML 1.0 allows r in a document.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// describeRepairs summarises the repairs in [from, to). reps are in
// document order (as repairXML makes them): the range is found by binary
// search, so that describing each record of a page costs its own repairs.
func describeRepairs(reps []repair, from, to int) string {
	var n [4]int
	for i := sort.Search(len(reps), func(i int) bool { return reps[i].off >= from }); i < len(reps) && reps[i].off < to; i++ {
		n[reps[i].kind]++
	}
	var parts []string
	if n[repControl] > 0 {
		parts = append(parts, fmt.Sprintf("%d characters not allowed in XML dropped", n[repControl]))
	}
	if n[repUTF8] > 0 {
		parts = append(parts, fmt.Sprintf("%d bytes of broken UTF-8 read as Windows-1258", n[repUTF8]))
	}
	if n[repAmp] > 0 {
		parts = append(parts, fmt.Sprintf("%d bare '&' escaped", n[repAmp]))
	}
	if n[repEntity] > 0 {
		parts = append(parts, fmt.Sprintf("%d HTML entities replaced", n[repEntity]))
	}
	return strings.Join(parts, ", ")
}

// declaredEncoding returns the lower-cased encoding of the XML
// declaration, "" if none.
func declaredEncoding(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		return ""
	}
	end := bytes.Index(b, []byte("?>"))
	if end < 0 {
		return ""
	}
	decl := b[:end]
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	q := bytes.IndexByte(rest[1:], rest[0])
	if q < 0 {
		return ""
	}
	return strings.ToLower(string(rest[1 : 1+q]))
}

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
// references) are dropped; bytes that are not UTF-8 are read as
// Windows-1258, the legacy Vietnamese code page they most likely are; an
// HTML entity (&nbsp;) becomes its character; an '&' that does not start
// a reference, or starts an entity neither XML nor HTML defines, is
// escaped. Inside CDATA sections, comments and processing instructions
// only the first two apply. It returns b itself when nothing needed
// repair.
func repairXML(b []byte) ([]byte, []repair) {
	var out []byte // nil until the first repair
	var reps []repair
	fix := func(i int, kind repairKind) {
		if out == nil {
			out = append(make([]byte, 0, len(b)+64), b[:i]...)
		}
		reps = append(reps, repair{off: len(out), kind: kind})
	}
	const (
		text = iota
		cdata
		comment
		pi
	)
	mode := text
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '<' && mode == text:
			switch {
			case bytes.HasPrefix(b[i:], []byte("<![CDATA[")):
				mode = cdata
			case bytes.HasPrefix(b[i:], []byte("<!--")):
				mode = comment
			case bytes.HasPrefix(b[i:], []byte("<?")):
				mode = pi
			}
		case c == '>' && mode != text:
			end := "?>"
			switch mode {
			case cdata:
				end = "]]>"
			case comment:
				end = "-->"
			}
			if i+1 >= len(end) && string(b[i+1-len(end):i+1]) == end {
				mode = text
			}
		case c == '&' && mode == text:
			n, ok := refLen(b[i:])
			if !ok {
				fix(i, repAmp)
				out = append(out, "&amp;"...)
				i++
				continue
			}
			if r, isChar := charRef(b[i : i+n]); isChar && !isXMLChar(r) {
				fix(i, repControl)
				i += n
				continue
			}
			if v, ok := xml.HTMLEntity[string(b[i+1:i+n-1])]; ok && !isXMLEntity(b[i+1:i+n-1]) {
				fix(i, repEntity)
				out = append(out, v...)
				i += n
				continue
			}
			if out != nil {
				out = append(out, b[i:i+n]...)
			}
			i += n
			continue
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			fix(i, repControl)
			i++
			continue
		case c >= 0x80:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				fix(i, repUTF8)
				r = charmap.Windows1258.DecodeByte(c)
				if !isXMLChar(r) {
					r = utf8.RuneError
				}
				out = utf8.AppendRune(out, r)
				i++
				continue
			}
			if !isXMLChar(r) {
				fix(i, repControl)
				i += size
				continue
			}
			if out != nil {
				out = append(out, b[i:i+size]...)
			}
			i += size
			continue
		}
		if out != nil {
			out = append(out, c)
		}
		i++
	}
	if out == nil {
		return b, nil
	}
	return out, reps
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

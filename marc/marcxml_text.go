package marc

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// textClass flags the bytes of character data that need more than a copy.
var textClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1 // control: dropped unless tab or line feed
	}
	t['\t'], t['\n'] = 0, 0
	t['\r'] = 1
	t['&'] = 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 2
	}
	return t
}()

// appendText decodes raw character data into the builder: entity and
// character references, line-end normalisation, dropping of characters
// that XML 1.0 does not allow.
func (r *XMLReader) appendText(tag []byte, raw []byte) error {
	b := r.b
	var cls uint8
	for _, c := range raw {
		cls |= textClass[c]
	}
	if cls&2 != 0 {
		b.high = true
	}
	if cls&1 == 0 {
		b.text = append(b.text, raw...)
		return nil
	}
	dropped := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '&':
			j := bytes.IndexByte(raw[i:], ';')
			if j < 0 {
				return r.syntaxErr(r.pos-len(raw)+i, "unterminated entity reference")
			}
			ent := raw[i+1 : i+j]
			var ok bool
			var n int
			b.text, n, ok = appendEntity(b.text, ent)
			if !ok {
				return r.syntaxErr(r.pos-len(raw)+i, "unknown or invalid entity &%s;", clip(ent))
			}
			if n < 0 {
				dropped++
			} else if n > 0x7F {
				b.high = true
			}
			i += j + 1
		case c == '\r':
			b.text = append(b.text, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case c < 0x20 && c != '\t' && c != '\n':
			dropped++
			i++
		default:
			j := i + 1
			for j < len(raw) && textClass[raw[j]]&1 == 0 {
				j++
			}
			b.text = append(b.text, raw[i:j]...)
			i = j
		}
	}
	if dropped > 0 {
		b.warn(string(tag), fmt.Sprintf("%d characters not allowed in XML dropped", dropped))
	}
	return nil
}

// appendCDATA appends a CDATA section read straight from the document
// without the characters XML 1.0 forbids (C0 controls other than tab and
// line feed), normalising its line ends as XML does, and returns how many
// characters it dropped.
func appendCDATA(dst, s []byte) ([]byte, int) {
	dropped := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r':
			dst = append(dst, '\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case c < 0x20 && c != '\t' && c != '\n':
			dropped++
		default:
			dst = append(dst, c)
		}
	}
	return dst, dropped
}

// appendEntity appends the character an entity or character reference
// (without & and ;) stands for. n is the code point, -1 when it is one XML
// does not allow (and nothing was appended); ok is false for an unknown
// entity or malformed reference.
func appendEntity(dst, ent []byte) (out []byte, n int, ok bool) {
	switch string(ent) {
	case "lt":
		return append(dst, '<'), '<', true
	case "gt":
		return append(dst, '>'), '>', true
	case "amp":
		return append(dst, '&'), '&', true
	case "quot":
		return append(dst, '"'), '"', true
	case "apos":
		return append(dst, '\''), '\'', true
	}
	if len(ent) < 2 || ent[0] != '#' {
		return dst, 0, false
	}
	v := 0
	digits := ent[1:]
	if digits[0] == 'x' {
		digits = digits[1:]
		if len(digits) == 0 {
			return dst, 0, false
		}
		for _, c := range digits {
			var d int
			switch {
			case c >= '0' && c <= '9':
				d = int(c - '0')
			case c >= 'a' && c <= 'f':
				d = int(c-'a') + 10
			case c >= 'A' && c <= 'F':
				d = int(c-'A') + 10
			default:
				return dst, 0, false
			}
			v = v*16 + d
			if v > 0x10FFFF {
				return dst, 0, false
			}
		}
	} else {
		for _, c := range digits {
			if c < '0' || c > '9' {
				return dst, 0, false
			}
			v = v*10 + int(c-'0')
			if v > 0x10FFFF {
				return dst, 0, false
			}
		}
	}
	if !isXMLChar(rune(v)) {
		return dst, -1, true
	}
	return utf8.AppendRune(dst, rune(v)), v, true
}

// isXMLChar reports whether XML 1.0 allows c in a document.
func isXMLChar(c rune) bool {
	switch {
	case c == '\t' || c == '\n' || c == '\r':
		return true
	case c < 0x20:
		return false
	case c <= 0xD7FF:
		return true
	case c < 0xE000:
		return false
	case c <= 0xFFFD:
		return true
	}
	return c >= 0x10000 && c <= 0x10FFFF
}

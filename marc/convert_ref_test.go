package marc

import (
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// The plain converters the readers used before textDecoder, kept as the
// reference the fast path is checked against (textdec_test.go): each
// decoder makes a string and norm.NFC normalises it.

func convertRef(cs Charset, b []byte, quiet bool) (string, []string) {
	if isPlainASCII(b) {
		return string(b), nil
	}
	switch cs {
	case CharsetMARC8:
		s, warn := decodeMARC8(b)
		if quiet {
			warn = nil
		}
		return norm.NFC.String(s), warn
	case CharsetWindows1258:
		return decodeSingleByteRef(b, charmap.Windows1258, "Windows-1258", quiet)
	case CharsetLatin1:
		return decodeSingleByteRef(b, charmap.ISO8859_1, "ISO 8859-1", quiet)
	case CharsetTCVN3:
		return norm.NFC.String(decodeTCVN3Ref(b)), nil
	case CharsetVNI:
		return norm.NFC.String(decodeVNIRef(b)), nil
	case CharsetDoubleUTF8:
		if raw, ok := legacyBytesRef(b); ok {
			return utf8ToNFCRef(raw, quiet)
		}
		return utf8ToNFCRef(b, quiet)
	default:
		return utf8ToNFCRef(b, quiet)
	}
}

// readingRef is reading.convert as it was.
func readingRef(rd reading, b []byte, quiet bool) (string, []string) {
	if rd.via {
		if raw, ok := legacyBytesRef(b); ok {
			return convertRef(rd.cs, raw, quiet)
		}
	}
	return convertRef(rd.cs, b, quiet)
}

func decodeSingleByteRef(b []byte, cm *charmap.Charmap, name string, quiet bool) (string, []string) {
	out := make([]rune, 0, len(b))
	var warn []string
	bad := 0
	for i, c := range b {
		r := cm.DecodeByte(c)
		if r == utf8.RuneError {
			if bad < maxMARC8Warnings && !quiet {
				warn = append(warn, fmt.Sprintf("byte 0x%02X at byte %d is not defined in %s; replaced with U+FFFD", c, i, name))
			}
			bad++
		}
		out = append(out, r)
	}
	if bad > maxMARC8Warnings && !quiet {
		warn = append(warn, fmt.Sprintf("%d more undefined %s bytes not listed", bad-maxMARC8Warnings, name))
	}
	return norm.NFC.String(string(out)), warn
}

func utf8ToNFCRef(b []byte, quiet bool) (string, []string) {
	var warn []string
	if !utf8.Valid(b) {
		if !quiet {
			first, n := invalidUTF8(b)
			warn = append(warn, fmt.Sprintf("invalid UTF-8 replaced with U+FFFD at byte %d (%d bad bytes)", first, n))
		}
		b = []byte(string([]rune(string(b))))
	}
	if norm.NFC.IsNormal(b) {
		return string(b), warn
	}
	return string(norm.NFC.Bytes(b)), warn
}

func decodeTCVN3Ref(b []byte) string {
	out := make([]rune, 0, len(b))
	for _, c := range b {
		switch {
		case c >= 0x80:
			out = append(out, tcvn3High[c-0x80])
		case c < 0x18 && tcvn3Low[c] != 0:
			out = append(out, tcvn3Low[c])
		default:
			out = append(out, rune(c))
		}
		if n := len(out); n >= 2 {
			if r, ok := tcvn3CapitalRef(out[n-2], out[n-1]); ok {
				out = append(out[:n-2], r)
			}
		}
	}
	return string(out)
}

func tcvn3CapitalRef(capital, small rune) (rune, bool) {
	if small < 0x80 {
		return 0, false
	}
	c, ok := tcvn3Capitals()[small]
	if !ok || c.base != capital {
		return 0, false
	}
	return c.toned, true
}

var vniLettersRef = map[byte]rune{
	0xEC: 'ì', 0xED: 'í', 0xE6: 'ỉ', 0xF3: 'ĩ', 0xF2: 'ị', 0xEE: 'ỵ', 0xF4: 'ơ', 0xF6: 'ư', 0xF1: 'đ',
	0xCC: 'Ì', 0xCD: 'Í', 0xC6: 'Ỉ', 0xD3: 'Ĩ', 0xD2: 'Ị', 0xCE: 'Ỵ', 0xD4: 'Ơ', 0xD6: 'Ư', 0xD1: 'Đ',
}

func decodeVNIRef(b []byte) string {
	out := make([]rune, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		var base rune
		switch {
		case c < 0x80:
			base = rune(c)
		case vniLettersRef[c] != 0:
			base = vniLettersRef[c]
		default:
			out = append(out, charmap.Windows1252.DecodeByte(c))
			continue
		}
		out = append(out, base)
		if i+1 < len(b) {
			if m, ok := vniModifier(b[i+1]); ok && vniTakes(base, m) {
				if m.shape != 0 {
					out = append(out, m.shape)
				}
				if m.tone != 0 {
					out = append(out, m.tone)
				}
				i++
			}
		}
	}
	return string(out)
}

var singleByteRef = func() map[rune]byte {
	m := make(map[rune]byte, 300)
	for c := 0x80; c < 0x100; c++ {
		m[rune(c)] = byte(c)
	}
	for _, cm := range []*charmap.Charmap{charmap.Windows1258, charmap.Windows1252} {
		for c := 0x80; c < 0x100; c++ {
			if r := cm.DecodeByte(byte(c)); r != utf8.RuneError {
				m[r] = byte(c)
			}
		}
	}
	return m
}()

func legacyBytesRef(b []byte) ([]byte, bool) {
	high := false
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if _, ok := singleByteRef[r]; !ok || r == utf8.RuneError && n == 1 {
			return nil, false
		}
		high = true
		i += n
	}
	if !high {
		return nil, false
	}
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
		} else {
			out = append(out, singleByteRef[r])
		}
	}
	return out, true
}

package marc

import (
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// recordCharset decides the character set of one record: the reader's
// override if set, otherwise leader/09 ('a' = UTF-8, anything else MARC-8).
func recordCharset(opt Charset, leader string) Charset {
	if opt != CharsetAuto && opt != CharsetLabel {
		return opt
	}
	if len(leader) > 9 && leader[9] == 'a' {
		return CharsetUTF8
	}
	return CharsetMARC8
}

// isPlainASCII reports whether b needs no conversion in any supported
// charset (all supported charsets agree with ASCII below 0x80, but MARC-8
// leaves ASCII through an escape, 0x1B, and TCVN3 puts VN1's capitals on
// twelve C0 controls).
func isPlainASCII(b []byte) bool {
	for _, c := range b {
		if notPlain[c] {
			return false
		}
	}
	return true
}

var notPlain = func() (t [256]bool) {
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	t[0x1B] = true
	for c := range tcvn3Low {
		t[c] = true
	}
	return t
}()

// convertText turns the bytes of one field (or subfield) in charset cs into
// NFC UTF-8. Problems that were repaired are returned as warnings; text is
// never silently altered.
func convertText(cs Charset, b []byte) (string, []string) { return convert(cs, b, false) }

// convert is convertText; quiet, it describes no problem (the detector's
// scoring reads every field several ways and keeps one).
func convert(cs Charset, b []byte, quiet bool) (string, []string) {
	if isPlainASCII(b) {
		return string(b), nil
	}
	switch cs {
	case CharsetMARC8:
		s, warn := decodeMARC8Quiet(b, quiet)
		return norm.NFC.String(s), warn
	case CharsetWindows1258:
		// Most Vietnamese letters are a base letter plus a combining tone
		// mark in this code page; NFC composes them.
		return decodeSingleByte(b, charmap.Windows1258, "Windows-1258", quiet)
	case CharsetLatin1:
		return decodeSingleByte(b, charmap.ISO8859_1, "ISO 8859-1", quiet)
	case CharsetTCVN3:
		return norm.NFC.String(decodeTCVN3(b)), nil
	case CharsetVNI:
		return norm.NFC.String(decodeVNI(b)), nil
	case CharsetDoubleUTF8:
		if raw, ok := legacyBytes(b); ok {
			return utf8ToNFCQuiet(raw, quiet)
		}
		return utf8ToNFCQuiet(b, quiet)
	default:
		return utf8ToNFCQuiet(b, quiet)
	}
}

// decodeSingleByte decodes a single-byte code page to NFC, reporting the
// bytes the code page leaves undefined (decoded as U+FFFD).
func decodeSingleByte(b []byte, cm *charmap.Charmap, name string, quiet bool) (string, []string) {
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

// utf8ToNFC validates b as UTF-8 and returns it in NFC. Invalid sequences
// are replaced with U+FFFD, one per bad byte, and reported.
func utf8ToNFC(b []byte) (string, []string) { return utf8ToNFCQuiet(b, false) }

func utf8ToNFCQuiet(b []byte, quiet bool) (string, []string) {
	var warn []string
	if !utf8.Valid(b) {
		if !quiet {
			first, n := invalidUTF8(b)
			warn = append(warn, fmt.Sprintf("invalid UTF-8 replaced with U+FFFD at byte %d (%d bad bytes)", first, n))
		}
		b = []byte(string([]rune(string(b)))) // maps each bad byte to U+FFFD
	}
	if norm.NFC.IsNormal(b) {
		return string(b), warn
	}
	return string(norm.NFC.Bytes(b)), warn
}

// invalidUTF8 returns the offset of the first byte of b that is not part of
// a valid UTF-8 sequence (-1 if none) and how many such bytes there are.
func invalidUTF8(b []byte) (first, n int) {
	first = -1
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			if first < 0 {
				first = i
			}
			n++
			size = 1
		}
		i += size
	}
	return first, n
}

package marc

import (
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// textDecoder turns the bytes of a field in one charset into NFC UTF-8
// appended to a buffer: the decoders write runes to scratch space that
// appendNFC composes, so that once its buffers have grown a decoder makes
// no garbage. A reader keeps one; the detector reads every field it weighs
// several ways with it.
type textDecoder struct {
	rs     []rune
	via    []byte // the legacy bytes of text that went through a code page
	double []byte // the bytes of UTF-8 encoded twice
	m8     marc8Decoder
	nfc    composer
	out    []byte // convert's text
}

// appendText appends b read in cs, as NFC UTF-8, to dst. ok is false when
// the reading has something to report (undecodable bytes, MARC-8 escapes
// it could not follow); the problems are described in *warn unless warn
// is nil. The text is the same either way.
func (d *textDecoder) appendText(dst []byte, cs Charset, b []byte, warn *[]string) (out []byte, ok bool) {
	if isPlainASCII(b) {
		return append(dst, b...), true
	}
	rs := d.rs[:0]
	ok = true
	switch cs {
	case CharsetMARC8:
		rs, ok = d.m8.decode(rs, b, warn)
	case CharsetWindows1258:
		rs, ok = singleByteRunes(rs, b, &windows1258Runes, "Windows-1258", warn)
	case CharsetLatin1:
		rs, ok = singleByteRunes(rs, b, &latin1Runes, "ISO 8859-1", warn)
	case CharsetTCVN3:
		rs = tcvn3Runes(rs, b)
	case CharsetVNI:
		rs = vniRunes(rs, b)
	case CharsetDoubleUTF8:
		if raw, legacy := appendLegacyBytes(d.double[:0], b); legacy {
			d.double, b = raw, raw
		}
		rs, ok = utf8Runes(rs, b, warn)
	default:
		rs, ok = utf8Runes(rs, b, warn)
	}
	d.rs = rs
	return d.nfc.appendNFC(dst, rs), ok
}

// appendReading is appendText for a reading: text that went through a
// single-byte code page is encoded back to its bytes first.
func (d *textDecoder) appendReading(dst []byte, rd reading, b []byte, warn *[]string) ([]byte, bool) {
	if rd.via {
		if raw, ok := appendLegacyBytes(d.via[:0], b); ok {
			d.via = raw
			return d.appendText(dst, rd.cs, raw, warn)
		}
	}
	return d.appendText(dst, rd.cs, b, warn)
}

// convert returns b read as rd, with the problems convertText describes.
func (d *textDecoder) convert(rd reading, b []byte) (string, []string) {
	if isPlainASCII(b) {
		return string(b), nil
	}
	var warn []string
	d.out, _ = d.appendReading(d.out[:0], rd, b, &warn)
	return string(d.out), warn
}

// The single-byte code pages, byte by byte (U+FFFD where undefined).
var windows1258Runes, latin1Runes = codePage(charmap.Windows1258), codePage(charmap.ISO8859_1)

func codePage(cm *charmap.Charmap) (t [256]rune) {
	for c := range t {
		t[c] = cm.DecodeByte(byte(c))
	}
	return t
}

// singleByteRunes decodes a single-byte code page, reporting the bytes it
// leaves undefined (decoded as U+FFFD).
func singleByteRunes(rs []rune, b []byte, page *[256]rune, name string, warn *[]string) ([]rune, bool) {
	bad := 0
	for _, c := range b {
		r := page[c]
		if r == utf8.RuneError {
			bad++
		}
		rs = append(rs, r)
	}
	if bad > 0 && warn != nil {
		n := 0
		for i, c := range b {
			if page[c] == utf8.RuneError {
				if n < maxMARC8Warnings {
					*warn = append(*warn, fmt.Sprintf("byte 0x%02X at byte %d is not defined in %s; replaced with U+FFFD", c, i, name))
				}
				n++
			}
		}
		if bad > maxMARC8Warnings {
			*warn = append(*warn, fmt.Sprintf("%d more undefined %s bytes not listed", bad-maxMARC8Warnings, name))
		}
	}
	return rs, bad == 0
}

// utf8Runes decodes UTF-8; each byte that is not part of a valid sequence
// becomes U+FFFD, and is reported.
func utf8Runes(rs []rune, b []byte, warn *[]string) ([]rune, bool) {
	ok := true
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			rs = append(rs, rune(c))
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			ok = false
		}
		rs = append(rs, r)
		i += n
	}
	if !ok && warn != nil {
		first, n := invalidUTF8(b)
		*warn = append(*warn, fmt.Sprintf("invalid UTF-8 replaced with U+FFFD at byte %d (%d bad bytes)", first, n))
	}
	return rs, ok
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

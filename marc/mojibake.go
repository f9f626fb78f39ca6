package marc

import (
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// CharsetDoubleUTF8 is UTF-8 that was read as Windows-1252 (or ISO 8859-1,
// or Windows-1258) once and written back as UTF-8: "Truyá»‡n" for
// "Truyện". Reading it means encoding the text back to the single bytes
// it was misread from, then reading those as UTF-8.
const CharsetDoubleUTF8 Charset = "utf-8-double"

// singleByte maps every character the Western and Vietnamese Windows code
// pages (and ISO 8859-1) decode a byte to back to that byte, indexed by
// character (0: none; all of them are below U+2200). The code pages agree
// wherever both define a byte, so one table serves all three; the five
// bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are
// read as the C1 controls of the same number, as Windows and MySQL's
// latin1 do, and so are mapped back from them.
var singleByte = func() *[0x2200]byte {
	var t [0x2200]byte
	for c := 0x80; c < 0x100; c++ {
		t[c] = byte(c)
	}
	for _, cm := range []*charmap.Charmap{charmap.Windows1258, charmap.Windows1252} {
		for c := 0x80; c < 0x100; c++ {
			if r := cm.DecodeByte(byte(c)); r != utf8.RuneError {
				t[r] = byte(c)
			}
		}
	}
	return &t
}()

// singleByteOf returns the byte a single-byte code page decodes to r.
func singleByteOf(r rune) (byte, bool) {
	if r < 0 || int(r) >= len(singleByte) {
		return 0, false
	}
	c := singleByte[r]
	return c, c != 0
}

// appendLegacyBytes appends to dst the single bytes valid UTF-8 text b was
// decoded from, if every character of b comes from a single-byte code page
// (see singleByte) and at least one is beyond ASCII: the bytes a legacy
// encoding put in a document that declared Windows-1252 or ISO 8859-1, in
// text a harvester repaired as Windows-1258, or in UTF-8 encoded twice.
func appendLegacyBytes(dst, b []byte) ([]byte, bool) {
	start, high := len(dst), false
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		sb, ok := singleByteOf(r)
		if !ok || r == utf8.RuneError && n == 1 {
			return dst[:start], false
		}
		dst = append(dst, sb)
		high = true
		i += n
	}
	if !high {
		return dst[:start], false
	}
	return dst, true
}

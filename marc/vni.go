package marc

import "golang.org/x/text/encoding/charmap"

// CharsetVNI is VNI-Windows, the font encoding of the VNI typing software
// used across southern Vietnam before Unicode. It has no standard and no
// iconv converter, so the table is written here: ASCII as is; a vowel
// with a diacritic is the base letter followed by one modifier byte (a
// tone, a circumflex or breve, or both at once: "aù" á, "aâ" â, "aá" ấ);
// ơ, ư, đ and the i's (and ỵ) are single bytes, ơ and ư taking a tone
// modifier after them ("ôù" ớ); capitals use the same scheme 0x20 lower
// ("AÙ" Á, "Ñ" Đ). Every other byte is the Windows-1252 character the
// font leaves it as. The npm package vietnamese-conversion is the oracle
// the tests check this against (see vni_test.go); Unikey's and OpenKey's
// VNI-Windows tables agree with it except for ỷ and ỹ, where that package
// writes the bytes of ë and ì.
const CharsetVNI Charset = "vni"

// What a VNI modifier byte adds to the letter before it.
type vniMod struct {
	shape rune // 0x302 circumflex or 0x306 breve, 0 for none
	tone  rune // combining tone mark, 0 for none
}

// vniModBase is the first lower-case modifier byte.
const vniModBase = 0xE0

// vniMods is indexed by the lower-case modifier byte minus vniModBase;
// the capital forms are 0x20 lower.
var vniMods = [32]vniMod{
	0xE0 - vniModBase: {0x302, 0x300}, // à: circumflex + grave
	0xE1 - vniModBase: {0x302, 0x301}, // á
	0xE2 - vniModBase: {0x302, 0},     // â
	0xE3 - vniModBase: {0x302, 0x303}, // ã
	0xE4 - vniModBase: {0x302, 0x323}, // ä
	0xE5 - vniModBase: {0x302, 0x309}, // å
	0xE8 - vniModBase: {0x306, 0x300}, // è: breve + grave
	0xE9 - vniModBase: {0x306, 0x301}, // é
	0xEA - vniModBase: {0x306, 0},     // ê
	0xEB - vniModBase: {0x306, 0x323}, // ë
	0xEF - vniModBase: {0, 0x323},     // ï: dot below
	0xF5 - vniModBase: {0, 0x303},     // õ: tilde
	0xF8 - vniModBase: {0, 0x300},     // ø: grave
	0xF9 - vniModBase: {0, 0x301},     // ù: acute
	0xFA - vniModBase: {0x306, 0x309}, // ú: breve + hook
	0xFB - vniModBase: {0, 0x309},     // û: hook above
	0xFC - vniModBase: {0x306, 0x303}, // ü: breve + tilde
}

// vniModifier returns the modifier byte c stands for after a letter.
func vniModifier(c byte) (vniMod, bool) {
	if c < 0xC0 {
		return vniMod{}, false
	}
	m := vniMods[(c|0x20)-vniModBase]
	return m, m.shape != 0 || m.tone != 0
}

// vniLetters are the letters VNI writes as one byte, by byte (0 for the
// other bytes).
var vniLetters = [256]rune{
	0xEC: 'ì', 0xED: 'í', 0xE6: 'ỉ', 0xF3: 'ĩ', 0xF2: 'ị', 0xEE: 'ỵ', 0xF4: 'ơ', 0xF6: 'ư', 0xF1: 'đ',
	0xCC: 'Ì', 0xCD: 'Í', 0xC6: 'Ỉ', 0xD3: 'Ĩ', 0xD2: 'Ị', 0xCE: 'Ỵ', 0xD4: 'Ơ', 0xD6: 'Ư', 0xD1: 'Đ',
}

// windows1252Runes is Windows-1252 byte by byte, what VNI leaves a byte
// that is no letter of its own.
var windows1252Runes = codePage(charmap.Windows1252)

// vniTakes reports whether base (a letter before a modifier) takes m:
// tones go on any vowel, the circumflex on a, e and o, the breve on a.
func vniTakes(base rune, m vniMod) bool {
	switch base | 0x20 {
	case 'a':
		return true
	case 'e', 'o':
		return m.shape != 0x306
	case 'i', 'u', 'y':
		return m.shape == 0
	}
	switch base {
	case 'ơ', 'ư', 'Ơ', 'Ư':
		return m.shape == 0
	}
	return false
}

// vniRunes appends the runes of VNI-Windows bytes to rs, with combining
// marks after their letters (not yet normalised). A modifier byte with no
// letter to take it is kept as its Windows-1252 character, so nothing is
// lost and the detector sees a stray symbol.
func vniRunes(rs []rune, b []byte) []rune {
	for i := 0; i < len(b); i++ {
		c := b[i]
		var base rune
		switch {
		case c < 0x80:
			base = rune(c)
		case vniLetters[c] != 0:
			base = vniLetters[c]
		default:
			rs = append(rs, windows1252Runes[c])
			continue
		}
		rs = append(rs, base)
		if i+1 < len(b) {
			if m, ok := vniModifier(b[i+1]); ok && vniTakes(base, m) {
				if m.shape != 0 {
					rs = append(rs, m.shape)
				}
				if m.tone != 0 {
					rs = append(rs, m.tone)
				}
				i++
			}
		}
	}
	return rs
}

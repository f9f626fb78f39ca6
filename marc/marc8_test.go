package marc

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

type m8Case struct {
	name string
	in   string // MARC-8 bytes
	raw  string // expected decodeMARC8 output before NFC
}

// m8Valid are well-formed MARC-8 strings with hand-written expectations
// (from the LoC code tables), also checked against yaz-iconv.
var m8Valid = []m8Case{
	{"ascii", "Hello, world! 123 {}~", "Hello, world! 123 {}~"},
	{"acute before base", "Caf\xe2e", "Cafe\u0301"},
	{"every ANSEL spacing character",
		"\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbc\xbd\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8",
		"ŁØĐÞÆŒʹ·♭®±ƠƯʼʻłøđþæœʺı£ðơư°ℓ℗©♯¿¡ß€"},
	{"diacritics on a", "\xe0a\xe1a\xe2a\xe3a\xe4a\xe5a\xe6a\xe7a\xe8a\xe9a\xeaa\xeda\xeea\xefa",
		"a\u0309a\u0300a\u0301a\u0302a\u0303a\u0304a\u0306a\u0307a\u0308a\u030ca\u030aa\u0315a\u030ba\u0310"},
	{"diacritics below", "\xf0c\xf1e\xf2o\xf3u\xf4a\xf5x\xf6y\xf7s\xf8t\xf9h\xfeo",
		"c\u0327e\u0328o\u0323u\u0324a\u0325x\u0333y\u0332s\u0326t\u031ch\u032eo\u0313"},
	{"ligature halves", "\xebt\xecs", "t\u0361s"},
	{"double tilde halves", "\xfan\xfbg", "n\u0360g"},
	{"stacked marks keep order", "\xf2\xe3a \xe3\xf2a", "a\u0323\u0302 a\u0302\u0323"},
	{"mark on space", "\xe2 x", " \u0301x"},
	{"Vietnamese: Nguyễn Du", "Nguy\xe3\xe4en Du", "Nguye\u0302\u0303n Du"},
	{"Vietnamese: Trường", "Tr\xbd\xe1\xbcng", "Trươ\u0300ng"},
	{"Vietnamese: Đặng Thai Mai", "\xa3\xf2\xe6ang Thai Mai", "Đa\u0323\u0306ng Thai Mai"},
	{"Vietnamese: Ở", "\xe0\xac", "Ơ\u0309"},
	{"non-sort controls", "\x88The \x89title", "\u0098The \u009ctitle"},
	{"ANSEL designated explicitly", "\x1b)!E\xe2e\x1b(B.", "e\u0301."},
	{"Basic Cyrillic", "\x1b(NmOSKWA\x1b(B", "Москва"},
	{"Extended Cyrillic", "\x1b(Qa\x1b(NOR\x1b(QA\x1b(NE\x1b(B", "Ђорђе"},
	{"Cyrillic as G1", "x\x1b)N\xed\xcf\xd3\xcb\xd7\xc1\x1b)Ey", "xМоскваy"},
	{"Basic Greek", "\x1b(Sabd\x1b(B", "αβγ"},
	{"Greek symbols, technique 1", "\x1bgabc\x1bs!", "αβγ!"},
	{"subscript", "H\x1bb2\x1bsO", "H₂O"},
	{"superscript", "E=mc\x1bp2\x1bs", "E=mc²"},
	{"Basic Hebrew", "\x1b(2qtx\x1b(B", "ספר"},
	{"Hebrew points precede base", "\x1b(2GKaCx`DMyiz\x1b(B", "ב\u05b0\u05bcר\u05b5אש\u05b4\u05c1ית"},
	{"Basic Arabic", "\x1b(3cJGH\x1b(B", "كتاب"},
	{"Extended Arabic", "\x1b(4)D\x1b(3hgT\x1b(B", "پژوهش"},
	{"EACC", "\x1b$1!04K7o\x1b(B", "中国"},
	{"EACC via ESC $ ( 1", "\x1b$(1!D&!0a\x1b(B", "東京"},
	{"EACC Korean", "\x1b$1o\\eoIo\x1b(B", "한국"},
	{"EACC space", "\x1b$1!04 K7o\x1b(B", "中 国"},
}

func TestDecodeMARC8(t *testing.T) {
	for _, c := range m8Valid {
		got, warn := decodeMARC8([]byte(c.in))
		if got != c.raw {
			t.Errorf("%s: decodeMARC8(%q) = %q (%+q), want %q (%+q)", c.name, c.in, got, got, c.raw, c.raw)
		}
		if len(warn) != 0 {
			t.Errorf("%s: unexpected warnings %q", c.name, warn)
		}
		nfc, _ := convertText(CharsetMARC8, []byte(c.in))
		if want := norm.NFC.String(c.raw); nfc != want {
			t.Errorf("%s: convertText = %q, want NFC %q", c.name, nfc, want)
		}
	}
}

func TestDecodeMARC8Vietnamese(t *testing.T) {
	// NFC text: the precomposed letters must come out of convertText.
	for in, want := range map[string]string{
		"Nguy\xe3\xe4en Du":                         "Nguyễn Du",
		"Truy\xe3\xf2en Ki\xe3\xe1eu":               "Truyện Kiều",
		"\xa3\xf2\xe6ang Thai Mai":                  "Đặng Thai Mai",
		"\xa3\xe6\xf2ang Thai Mai":                  "Đặng Thai Mai", // other mark order
		"Nxb. Kim \xa3\xe3\xe1ong":                  "Nxb. Kim Đồng",
		"thu\xe0y":                                  "thuỷ",
		"Ng\xbd\xe1\xbci":                           "Người",
		"Vi\xe3\xf2et Nam s\xe0\xbd l\xbd\xf2\xbcc": "Việt Nam sử lược",
	} {
		got, warn := convertText(CharsetMARC8, []byte(in))
		if got != want || len(warn) != 0 {
			t.Errorf("convertText(%q) = %q %q, want %q", in, got, warn, want)
		}
	}
}

func TestDecodeMARC8Invalid(t *testing.T) {
	for _, c := range []struct {
		in, want string
		warn     []string // substrings, one per expected warning
	}{
		{"a\xffb", "a\uFFFDb", []string{"0xFF", "byte 1"}},
		{"a\xa0b", "a\uFFFDb", []string{"0xA0", "byte 1"}},
		{"ab\xbbc", "ab\uFFFDc", []string{"0xBB", "not assigned", "byte 2"}},
		{"\x80x", "\uFFFDx", []string{"0x80", "byte 0"}},
		{"ab\xe2", "ab", []string{"no base", "byte 2"}},
		{"ab\xe2\xe3", "ab", []string{"2 combining", "byte 2"}},
		{"\xe2\xffe", "\uFFFD\u0301e", []string{"0xFF"}},
		{"a\x1b", "a", []string{"escape at byte 1 ends"}},
		{"a\x1b(", "a", []string{"malformed", "byte 1"}},
		{"a\x1b\xe2e", "ae\u0301", []string{"malformed", "byte 1"}},
		{"a\x1bAb", "ab", []string{"unknown escape", "1B 41"}},
		{"\x1b(Zab\x1b(Bc", "\uFFFD\uFFFDc", []string{"unknown character set", "'Z'", "byte 0"}},
		{"\x1b$1!0", "\uFFFD", []string{"incomplete EACC", "byte 3"}},
		{"\x1b$1!0\x1b(Bx", "\uFFFDx", []string{"incomplete EACC"}},
		{"\x1b$1~~~", "\uFFFD", []string{"EACC code 7E7E7E", "byte 3"}},
		{"\x1b(Q!\x1b(B", "\uFFFD", []string{"0x21", "not assigned in Extended Cyrillic"}},
	} {
		got, warn := decodeMARC8([]byte(c.in))
		if got != c.want {
			t.Errorf("decodeMARC8(%q) = %+q, want %+q", c.in, got, c.want)
		}
		all := strings.Join(warn, "\n")
		if len(warn) == 0 {
			t.Errorf("decodeMARC8(%q): no warning", c.in)
		}
		for _, w := range c.warn {
			if !strings.Contains(all, w) {
				t.Errorf("decodeMARC8(%q): warnings %q lack %q", c.in, warn, w)
			}
		}
	}
}

// TestDecodeMARC8Differences pins down where we deliberately differ from
// yaz: yaz decodes ANSEL designated as G0 with its G1 offsets (so ESC ( E
// text comes out wrong); it drops C0 control characters, which we keep as
// every other charset does; and it silently drops bytes that are not
// MARC-8 and diacritics without a base, where we warn (TestDecodeMARC8Invalid).
func TestDecodeMARC8Differences(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"\x1b(E!\x1b(B", "Ł"},
		{"\x1b(Eb\x1b(Be", "e\u0301"},
		{"\x1b(E<b\x1b(Bn", "ơn\u0301"},
		{"a\tb\x0c\xe2e", "a\tb\x0ce\u0301"},
	} {
		got, warn := decodeMARC8([]byte(c.in))
		if got != c.want || len(warn) > 0 {
			t.Errorf("decodeMARC8(%q) = %+q %q, want %+q", c.in, got, warn, c.want)
		}
	}
}

func TestDecodeMARC8WarningCap(t *testing.T) {
	got, warn := decodeMARC8(bytes.Repeat([]byte{0xFF}, 100))
	if utf8.RuneCountInString(got) != 100 {
		t.Errorf("got %d runes, want 100 U+FFFD", utf8.RuneCountInString(got))
	}
	if len(warn) != maxMARC8Warnings+1 || !strings.Contains(warn[len(warn)-1], "90 more") {
		t.Errorf("warnings = %d, last %q; want %d and a count of 90 more", len(warn), warn[len(warn)-1], maxMARC8Warnings+1)
	}
}

func FuzzDecodeMARC8(f *testing.F) {
	for _, c := range m8Valid {
		f.Add([]byte(c.in))
	}
	f.Add([]byte("\x1b$1!0\x1b)N\xe2\xff\x1b"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, warn := decodeMARC8(b)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 from % X", b)
		}
		if strings.ContainsRune(got, utf8.RuneError) && len(warn) == 0 {
			t.Fatalf("U+FFFD without a warning from % X", b)
		}
		if len(warn) > maxMARC8Warnings+1 {
			t.Fatalf("%d warnings", len(warn))
		}
		if isPlainASCII(b) && got != string(b) {
			t.Fatalf("ASCII %q changed to %q", b, got)
		}
	})
}

// FuzzMARC8RoundTrip encodes arbitrary text that MARC-8 can represent and
// checks the decoder gives it back in NFC.
func FuzzMARC8RoundTrip(f *testing.F) {
	for _, s := range m8VietnameseSample {
		f.Add(s)
	}
	f.Add("Москва ספר 中国 H₂O")
	enc := newM8Encoder()
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		b, err := enc.encode(s)
		if err != nil {
			return
		}
		got, warn := convertText(CharsetMARC8, b)
		if len(warn) > 0 {
			// A string that starts with a combining mark has no base.
			if r, _ := utf8.DecodeRuneInString(norm.NFD.String(s)); norm.NFD.PropertiesString(string(r)).CCC() != 0 {
				return
			}
			t.Fatalf("%q -> % X: warnings %q", s, b, warn)
		}
		if want := norm.NFC.String(s); got != want {
			t.Fatalf("%q -> % X -> %q, want %q", s, b, got, want)
		}
	})
}

func BenchmarkDecodeMARC8(b *testing.B) {
	for _, c := range []struct{ name, s string }{
		{"vietnamese", "Truyện Kiều / Nguyễn Du ; Đào Duy Anh hiệu khảo và chú thích. Nxb. Văn học, Hà Nội"},
		{"cjk", "车票去哪儿了 / 刘旭恭著绘. 长江少年儿童出版社"},
	} {
		in := m8Encode(b, c.s)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				decodeMARC8(in)
			}
		})
	}
}

package marc

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/internal/testpeer"
)

// vnLetters returns the 134 Vietnamese letters beyond ASCII: the twelve
// vowels with each of the five tones, ă â ê ô ơ ư and đ, in both cases.
func vnLetters() []string {
	var out []string
	for _, v := range "aăâeêioôơuưy" {
		if v >= 0x80 {
			out = append(out, string(v))
		}
		for _, tone := range "\u0300\u0301\u0309\u0303\u0323" {
			out = append(out, norm.NFC.String(string(v)+string(tone)))
		}
	}
	out = append(out, "đ")
	n := len(out)
	for _, s := range out[:n] {
		out = append(out, strings.ToUpper(s))
	}
	return out
}

// vniOracleDefects are the letters vietnamese-conversion 2.0.0 writes
// with the bytes of other letters (ỷ as ë, ỹ as ì: ì is also i grave, ë
// the breve and dot below of ặ); Unikey's and OpenKey's VNI-Windows tables
// write them y + û and y + õ, as this decoder reads them.
var vniOracleDefects = map[string]struct{ oracle, vni string }{
	"ỷ": {"\xeb", "y\xfb"}, "ỹ": {"\xec", "y\xf5"},
	"Ỷ": {"\xcb", "Y\xdb"}, "Ỹ": {"\xcc", "Y\xd5"},
}

func TestVNIAgainstOracle(t *testing.T) {
	vc := testpeer.NeedVNConv(t)
	letters := vnLetters()
	if len(letters) != 134 {
		t.Fatalf("%d letters, want 134", len(letters))
	}
	enc, err := vc.Encode("vni", letters)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range letters {
		if d, ok := vniOracleDefects[l]; ok {
			if string(enc[i]) != d.oracle {
				t.Errorf("the oracle now writes %q as % X, not % X: recheck vniOracleDefects", l, enc[i], d.oracle)
			}
			if got, _ := convertText(CharsetVNI, []byte(d.vni)); got != l {
				t.Errorf("VNI % X = %q, want %q", d.vni, got, l)
			}
			continue
		}
		if got, _ := convertText(CharsetVNI, enc[i]); got != l {
			t.Errorf("VNI % X = %q, want %q (the oracle's bytes for it)", enc[i], got, l)
		}
	}
	// Whole titles. Only the package's encoder is an oracle: its decoder
	// replaces table entries in order, ư (ö) before ừ (öø), and so
	// misreads every toned ơ and ư.
	titles := []string{
		"Truyện Kiều", "Nguyễn Đình Chiểu", "Đất rừng phương Nam", "Những ngôi sao xa xôi", "Ánh trăng",
		"Ức Trai thi tập", "Nhật ký trong tù", "Thủy hử", "Hoàng Lê nhất thống chí", "Chiến tranh và hòa bình",
		"ƯỚC MƠ CỦA ĐỨA TRẺ", "Người mẹ cầm súng", "khuya, quốc, giữ, nghiêng",
	}
	enc, err = vc.Encode("vni", titles)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range titles {
		if got, _ := convertText(CharsetVNI, enc[i]); got != s {
			t.Errorf("%q: VNI % X decodes to %q", s, enc[i], got)
		}
	}
}

func TestVNI(t *testing.T) {
	for in, want := range map[string]string{
		"Truyeän Kieàu":  "Truyện Kiều",
		"Nguyeãn Du":     "Nguyễn Du",
		"ÑAÁT NÖÔÙC":     "ĐẤT NƯỚC",
		"Tieáng Vieät":   "Tiếng Việt",
		"hoïc":           "học",
		"thôø":           "thờ",
		"ñi hoïc, ñöôïc": "đi học, được",
		"quyù":           "quý",
		"kyõ, kyû":       "kỹ, kỷ",
		// A modifier with no letter to take it stays what Windows-1252
		// makes of it; nothing is lost.
		"1ù":  "1ù",
		"xaâ": "xâ",
		"â":   "â",
		"iâ":  "iâ", // no circumflex on i
		"uê":  "uê", // no breve on u
	} {
		if got, warn := convertText(CharsetVNI, []byte(latin1(in))); got != want || len(warn) > 0 {
			t.Errorf("VNI %q = %q %q, want %q", in, got, warn, want)
		}
	}
}

// latin1 turns a string of U+0000-U+00FF into its bytes, the way a VNI
// text looks in a Windows-1252 editor.
func latin1(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}

func TestTCVN3Capitals(t *testing.T) {
	vc := testpeer.NeedVNConv(t)
	letters := vnLetters()
	enc, err := vc.Encode("tcvn3", letters)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range letters {
		if got, _ := convertText(CharsetTCVN3, enc[i]); got != l {
			t.Errorf("TCVN3 % X (the oracle's bytes for %q) = %q", enc[i], l, got)
		}
	}
	// A capital and a toned small letter of another vowel stay apart.
	if got, _ := convertText(CharsetTCVN3, []byte("O\xb8")); got != "Oá" {
		t.Errorf("O + á = %q", got)
	}
}

// TestTCVN3C0AgainstIconv checks the VN1 capitals glibc puts among the C0
// controls, and that the other C0 bytes stay what they are.
func TestTCVN3C0AgainstIconv(t *testing.T) {
	for c := 0x01; c < 0x20; c++ {
		in := []byte{'x', byte(c)}
		want, ok := csIconv(t, "TCVN5712-1", in)
		if !ok {
			t.Errorf("iconv rejects byte %02X", c)
			continue
		}
		if got, _ := convertText(CharsetTCVN3, in); got != norm.NFC.String(want) {
			t.Errorf("byte %02X: got %q, iconv %q", c, got, want)
		}
	}
}

func FuzzVNI(f *testing.F) {
	for _, s := range []string{"Truyeän Kieàu", "\xe2\xe2", "A\xd9\xd9", "ô\xf9"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _ := convertText(CharsetVNI, b)
		if !norm.NFC.IsNormalString(s) {
			t.Fatalf("not NFC: %q", s)
		}
		t3, _ := convertText(CharsetTCVN3, b)
		if !norm.NFC.IsNormalString(t3) {
			t.Fatalf("TCVN3 not NFC: %q", t3)
		}
		d, _ := convertText(CharsetDoubleUTF8, b)
		if !norm.NFC.IsNormalString(d) {
			t.Fatalf("double UTF-8 not NFC: %q", d)
		}
	})
}

package textnorm

import (
	"slices"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestFold(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Nguyễn Du", "nguyen du"},
		{norm.NFD.String("Nguyễn Du"), "nguyen du"},
		{"Đặng Thai Mai", "dang thai mai"},
		{"ĐẶNG", "dang"},
		{"Truyện Kiều", "truyen kieu"},
		{"Hòa bình", "hoa binh"},
		{"hoà", "hoa"},
		{"Ăn ẩn ơn ưu", "an an on uu"},
		{"Müller Ærø Søren Straße Łódź", "muller aero soren strasse lodz"},
		{"O'Brien l’homme", "o'brien l’homme"}, // kept: Words splits there
		{"plain ascii", "plain ascii"},
		{"ISBN 978-604", "isbn 978-604"},
	} {
		if got := Fold(c.in); got != c.want {
			t.Errorf("Fold(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Fold(Fold(c.in)); got != c.want {
			t.Errorf("Fold not idempotent on %q: %q", c.in, got)
		}
	}
}

func TestExact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Nguyễn Du", "nguyễn du"},
		{norm.NFD.String("Nguyễn Du"), "nguyễn du"},
		{"Hòa bình", "hoà bình"},
		{"hoà bình", "hoà bình"},
		{"Thủy", "thuỷ"},
		{"thuỷ", "thuỷ"},
		{"khỏe", "khoẻ"},
		{"quý", "quý"},
		{"Hoàng", "hoàng"}, // closed syllable: no change
		{"hoài", "hoài"},
		{"Đặng", "đặng"},
		{"của", "của"},
		{"thuyền", "thuyền"},
	} {
		if got := Exact(c.in); got != c.want {
			t.Errorf("Exact(%q) = %q, want %q", c.in, got, c.want)
		}
		if !norm.NFC.IsNormalString(Exact(c.in)) {
			t.Errorf("Exact(%q) is not NFC", c.in)
		}
	}
	if Exact("Dang") == Exact("Đặng") {
		t.Error("Exact must keep đ and the tone marks apart from plain d")
	}
}

func TestWords(t *testing.T) {
	got := Words("Truyện Kiều : thơ / Nguyễn Du; 978-604-2")
	want := []string{"Truyện", "Kiều", "thơ", "Nguyễn", "Du", "978", "604", "2"}
	if !slices.Equal(got, want) {
		t.Errorf("Words = %q, want %q", got, want)
	}
	nfd := norm.NFD.String("Nguyễn Du")
	if got := Words(nfd); len(got) != 2 || got[0] != norm.NFD.String("Nguyễn") {
		t.Errorf("Words(NFD) = %q: combining marks must stay in the word", got)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Nguyễn Du", "hòa", "Thủy", "\u0301a", "qúy", "oa\u0301\u0302", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fo := Fold(s)
		if utf8.ValidString(s) && !utf8.ValidString(fo) {
			t.Fatalf("Fold(%q) produced invalid UTF-8", s)
		}
		if Fold(fo) != fo {
			t.Fatalf("Fold not idempotent: %q -> %q -> %q", s, fo, Fold(fo))
		}
		ex := Exact(s)
		if Exact(ex) != ex {
			t.Fatalf("Exact not idempotent: %q -> %q -> %q", s, ex, Exact(ex))
		}
		if utf8.ValidString(s) && Fold(ex) != Fold(s) {
			t.Fatalf("Fold(Exact(%q)) = %q, Fold = %q", s, Fold(ex), Fold(s))
		}
		_ = Words(s)
	})
}

// The fast paths of isWordRune answer as the unicode tables do.
func TestIsWordRuneFastPaths(t *testing.T) {
	for r := rune(0); r <= 0x1FFF; r++ {
		want := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
		if got := isWordRune(r); got != want {
			t.Errorf("isWordRune(%U) = %v, the tables say %v", r, got, want)
		}
	}
}

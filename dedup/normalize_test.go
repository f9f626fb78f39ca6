package dedup

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFold(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Nguyễn Du", "nguyen du"},
		{"Nguyễn, Du", "nguyen du"},
		{"ĐẤT RỪNG phương Nam", "dat rung phuong nam"},
		{"hoà bình", "hoa binh"}, {"hòa bình", "hoa binh"}, // old and new tone placement
		{"Thuỷ hử", "thuy hu"}, {"Thủy hử", "thuy hu"},
		{"Truye\u0302\u0300n Kie\u0302\u0300u", "truyen kieu"}, // NFD
		{"Truyện Kiều : bản mới /", "truyen kieu ban moi"},
		{"L'homme et la mer", "lhomme et la mer"},
		{"  Œuvres — complètes!! ", "oeuvres completes"},
		{"Ελληνικόν", "ελληνικον"},
		{"", ""}, {"...", ""},
	} {
		if got := Fold(c.in); got != c.want {
			t.Errorf("Fold(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestKeysUnifyNameForms(t *testing.T) {
	a := sortedTokens(Fold("Nguyễn, Du"))
	b := sortedTokens(Fold("Nguyễn Du"))
	c := sortedTokens(Fold("Nguyễn Du,"))
	if a != b || b != c {
		t.Errorf("name keys differ: %q %q %q", a, b, c)
	}
	if sortedTokens(Fold("Stowe, Harriet Beecher")) != sortedTokens(Fold("Harriet Beecher Stowe")) {
		t.Error("inverted and direct western name differ")
	}
}

func TestDropArticle(t *testing.T) {
	for _, c := range []struct{ in, lang, want string }{
		{"the great gatsby", "eng", "great gatsby"},
		{"les miserables", "fre", "miserables"},
		{"la son phu tu", "vie", "la son phu tu"}, // a Vietnamese name, not an article
		{"a", "eng", "a"},
		{"an introduction", "", "introduction"},
	} {
		if got := dropArticle(c.in, c.lang); got != c.want {
			t.Errorf("dropArticle(%q, %q) = %q, want %q", c.in, c.lang, got, c.want)
		}
	}
}

func TestVolumesAndEditions(t *testing.T) {
	vols := map[string]bool{}
	rest, nums := extractVolumes("lich su viet nam tap 2 quyen thuong", vols)
	if rest != "lich su viet nam" || len(nums) != 2 || !vols["2"] || !vols["thuong"] {
		t.Errorf("extractVolumes: %q %v %v", rest, nums, vols)
	}
	for in, want := range map[string]string{
		"tai ban lan thu 2": "n:2", "2nd ed": "n:2", "second edition": "n:2",
		"xuat ban lan thu hai": "n:2", "3e ed": "n:3", "rev ed": "rev ed", "tai ban": "tai ban",
	} {
		if got := normalizeEdition(in); got != want {
			t.Errorf("normalizeEdition(%q) = %q, want %q", in, got, want)
		}
	}
}

// fullSimilarity is the plain dynamic programme similarityAtLeast must
// agree with.
func fullSimilarity(a, b string) float64 {
	if len(a) > simLimit {
		a = a[:simLimit]
	}
	if len(b) > simLimit {
		b = b[:simLimit]
	}
	if a == b {
		return 1
	}
	if a == "" || b == "" {
		return 0
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j-1]+cost, d[i-1][j]+1, d[i][j-1]+1)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return 1 - float64(d[len(a)][len(b)])/float64(max(len(a), len(b)))
}

func checkSimilarity(t *testing.T, a, b string) {
	want := fullSimilarity(a, b)
	for _, th := range []float64{0, 0.5, 0.7, 0.8, 0.9, 0.95, 1} {
		got, ok := similarityAtLeast(a, b, th)
		if ok != (want >= th-1e-9) {
			t.Fatalf("similarityAtLeast(%q, %q, %v) ok=%v, full similarity %v", a, b, th, ok, want)
		}
		if ok && got != want {
			t.Fatalf("similarityAtLeast(%q, %q, %v) = %v, want %v", a, b, th, got, want)
		}
	}
}

func TestSimilarity(t *testing.T) {
	pairs := [][2]string{
		{"truyen kieu", "truyen kieu"}, {"truyen kieu", "truyen kiue"}, {"indes galantes", "indse galantes"},
		{"chien tranh va hoa binh", "chien tranh va hao binh"}, {"abc", "xyz"}, {"", "a"},
		{"toan 10", "toan 11"}, {strings.Repeat("ab", 100), strings.Repeat("ba", 100)},
		{"so do", "so do tieu thuyet"}, {"ca", "abc"},
	}
	for _, p := range pairs {
		checkSimilarity(t, p[0], p[1])
	}
	if s := similarity("indes galantes", "indse galantes"); s < 0.92 {
		t.Errorf("a transposition costs %v, want one edit", s)
	}
}

func FuzzSimilarity(f *testing.F) {
	f.Add("truyen kieu", "truyen kiue")
	f.Add("ca", "abc")
	f.Add("lich su viet nam tap 1", "lich su viet nam tap 2")
	f.Fuzz(func(t *testing.T, a, b string) {
		checkSimilarity(t, a, b)
	})
}

func FuzzFold(f *testing.F) {
	for _, s := range []string{"Nguyễn, Du", "Thuỷ hử", "ĐẤT  rừng", "L'homme", "\u0301a", "Œuvres"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Fold(s)
		if n := string(appendFoldNormalised(nil, s)); !isASCII(s) && n != k {
			t.Fatalf("Fold(%q) = %q, the normaliser gives %q", s, k, n)
		}
		if Fold(k) != k {
			t.Fatalf("Fold not idempotent: %q → %q → %q", s, k, Fold(k))
		}
		if strings.Contains(k, "  ") || strings.HasPrefix(k, " ") || strings.HasSuffix(k, " ") {
			t.Fatalf("Fold(%q) = %q: stray spaces", s, k)
		}
		if strings.ContainsAny(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZđĐ") {
			t.Fatalf("Fold(%q) = %q: not folded", s, k)
		}
	})
}

// TestSimilaritySmallAlphabet checks similarityAtLeast against the plain
// programme on every pair of short strings over three letters, where
// common prefixes, suffixes and transpositions abound.
func TestSimilaritySmallAlphabet(t *testing.T) {
	var words []string
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		words = append(words, prefix)
		if n == 0 {
			return
		}
		for _, c := range "abc" {
			gen(prefix+string(c), n-1)
		}
	}
	gen("", 5)
	for _, a := range words {
		for _, b := range words {
			checkSimilarity(t, a, b)
		}
	}
}

// TestFoldTableMatchesNormaliser holds the fold table to the normaliser
// loop it stands for: every rune it holds alone, and random text of
// Vietnamese letters precomposed and decomposed, marks, punctuation and
// runes outside the table.
func TestFoldTableMatchesNormaliser(t *testing.T) {
	check := func(s string) {
		t.Helper()
		if got, want := string(appendFold(nil, s)), string(appendFoldNormalised(nil, s)); got != want {
			t.Fatalf("Fold(%q) = %q, the normaliser gives %q", s, got, want)
		}
	}
	held := 0
	for r := rune(0x80); r < foldTableEnd; r++ {
		if foldTable().ok[r] {
			held++
		}
		check(string(r))
		check("a" + string(r) + " b")
	}
	if held < 0x1d00 {
		t.Errorf("the table holds %d runes", held)
	}
	pool := []rune("aAđĐeEoOuUyYiI ,.;:-'`’ʻ()[]/ấẦằẮệỆổỖựỪỹỸơƠưƯâÂăĂêÊôÔòóỏõọÒÓỎÕỌ\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b" +
		"æœßıøłÆŒØŁΑαΩωЖжЁё0123456789\u0345\u0f39\U0001D165漢字가ꙮ")
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		n := rng.IntN(12)
		b := make([]rune, n)
		for i := range b {
			b[i] = pool[rng.IntN(len(pool))]
		}
		if s := string(b); !isASCII(s) { // ASCII has its own loop ("`" splits there)
			check(s)
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

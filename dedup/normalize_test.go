package dedup

import (
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/textnorm"
)

func TestKeysUnifyNameForms(t *testing.T) {
	a := sortedTokens(textnorm.Key("Nguyễn, Du"))
	b := sortedTokens(textnorm.Key("Nguyễn Du"))
	c := sortedTokens(textnorm.Key("Nguyễn Du,"))
	if a != b || b != c {
		t.Errorf("name keys differ: %q %q %q", a, b, c)
	}
	if sortedTokens(textnorm.Key("Stowe, Harriet Beecher")) != sortedTokens(textnorm.Key("Harriet Beecher Stowe")) {
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

// similarity is similarityAtLeast with no threshold.
func similarity(a, b string) float64 {
	s, _ := similarityAtLeast(a, b, 0)
	return s
}

// buildProfile computes the profile of rec, a record of src, under the
// deduper's settings.
func (d *Deduper) buildProfile(rec *marc.Record, src Source) *profile {
	return d.settings().buildProfile(rec, src)
}

package textnorm

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
)

func TestKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Nguyễn Du", "nguyen du"},
		{"Nguyễn, Du", "nguyen du"},
		{"ĐẤT RỪNG phương Nam", "dat rung phuong nam"},
		{"hoà bình", "hoa binh"}, {"hòa bình", "hoa binh"}, // old and new tone placement
		{"Thuỷ hử", "thuy hu"}, {"Thủy hử", "thuy hu"},
		{"Truye\u0302\u0300n Kie\u0302\u0300u", "truyen kieu"}, // NFD
		{"Truyện Kiều : bản mới /", "truyen kieu ban moi"},
		{"L'homme et la mer", "lhomme et la mer"},
		{"O’Brien d`Arc", "obrien darc"},
		{"  Œuvres — complètes!! ", "oeuvres completes"},
		{"Søren Straße Łódź", "soren strasse lodz"},
		{"Ελληνικόν", "ελληνικον"},
		{"", ""}, {"...", ""},
	} {
		if got := Key(c.in); got != c.want {
			t.Errorf("Key(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// keyOfFold is what Key must be of a text Fold folded: Fold's form with
// apostrophes dropped and every run of anything else one space.
func keyOfFold(s string) string {
	var b strings.Builder
	space := true
	for _, r := range Fold(s) {
		switch {
		case r == '\'' || r == '’' || r == 'ʻ' || r == 'ʼ' || r == '`':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		case unicode.Is(unicode.Mn, r):
		case !space:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSuffix(b.String(), " ")
}

// The two forms fold every letter alike: Key is Fold with the non-letters
// turned to separators. Checked on random text of Vietnamese letters
// precomposed and decomposed, marks, punctuation, letters with special
// folds and runes outside the table.
func TestFoldAndKeyAgree(t *testing.T) {
	for _, s := range randomTexts(20000) {
		if k, want := Key(s), keyOfFold(s); k != want {
			t.Fatalf("Key(%q) = %q, Fold gives %q", s, k, want)
		}
	}
}

// TestFoldTableMatchesNormaliser holds the fold table to the normaliser
// loop it stands for, in both forms: every rune it holds alone, and
// random text.
func TestFoldTableMatchesNormaliser(t *testing.T) {
	check := func(s string) {
		t.Helper()
		for _, key := range []bool{false, true} {
			if got, want := string(appendFolded(nil, s, key)), string(appendFoldedNormalised(nil, s, key)); got != want && (key || lettersDiffer(got, want)) {
				t.Fatalf("fold (key %v) of %q = %q, the normaliser gives %q", key, s, got, want)
			}
		}
	}
	held := 0
	for r := rune(0x80); r < foldTableEnd; r++ {
		if foldTable()[r].ok {
			held++
		}
		check(string(r))
		check("a" + string(r) + " b")
	}
	if held < 0x1d00 {
		t.Errorf("the table holds %d runes", held)
	}
	for _, s := range randomTexts(50000) {
		check(s)
	}
}

// lettersDiffer compares two folds by their letters: Fold keeps what is
// not a letter as the input has it, which the normaliser's loop sees
// decomposed; only the letters must agree.
func lettersDiffer(a, b string) bool { return letters(a) != letters(b) }

func letters(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ")
}

func randomTexts(n int) []string {
	pool := []rune("aAđĐeEoOuUyYiI ,.;:-'`’ʻ()[]/ấẦằẮệỆổỖựỪỹỸơƠưƯâÂăĂêÊôÔòóỏõọÒÓỎÕỌ\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b" +
		"æœßıøłÆŒØŁΑαΩωЖжЁё0123456789\u0345\u0f39\U0001D165漢字가ꙮ")
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]string, n)
	for i := range out {
		b := make([]rune, rng.IntN(12))
		for j := range b {
			b[j] = pool[rng.IntN(len(pool))]
		}
		out[i] = string(b)
	}
	return out
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{"Nguyễn, Du", "Thuỷ hử", "ĐẤT  rừng", "L'homme", "\u0301a", "Œuvres", "Søren"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Key(s)
		if n := string(appendFoldedNormalised(nil, s, true)); n != k {
			t.Fatalf("Key(%q) = %q, the normaliser gives %q", s, k, n)
		}
		if Key(k) != k {
			t.Fatalf("Key not idempotent: %q → %q → %q", s, k, Key(k))
		}
		if strings.Contains(k, "  ") || strings.HasPrefix(k, " ") || strings.HasSuffix(k, " ") {
			t.Fatalf("Key(%q) = %q: stray spaces", s, k)
		}
		if strings.ContainsAny(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZđĐ") {
			t.Fatalf("Key(%q) = %q: not folded", s, k)
		}
		if k != keyOfFold(s) {
			t.Fatalf("Key(%q) = %q, Fold gives %q", s, k, keyOfFold(s))
		}
	})
}

func BenchmarkKey(b *testing.B) {
	titles := []string{"Truyện Kiều : bản mới / Nguyễn Du ; Đào Duy Anh khảo đính", "The history of computing : a survey",
		"Chiến tranh và hoà bình. Tập 1", "L'homme et la mer", "Søren Kierkegaard"}
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, s := range titles {
			buf = AppendKey(buf[:0], s)
		}
	}
}

package vnortho

import (
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestSyllable(t *testing.T) {
	good := []string{
		"Truyện", "Kiều", "Nguyễn", "Đình", "Chiểu", "Việt", "Nam", "sử", "lược", "Thủy", "Thuỷ", "hoà", "hòa",
		"khuya", "quốc", "quỳnh", "giữ", "giếng", "gìn", "nghiêng", "thuở", "Ánh", "Ước", "Ứng", "ĐẤT", "xoong",
		"được", "người", "khuyết", "uyên", "ý", "à", "ơi", "Huế", "nhặt", "phụng", "tuổi", "thơ", "Dế", "Mèn",
		"ngoài", "khuỷu", "thủy", "Hoàng", "mùa", "kìa", "thuở", "ngoẻo", "Nguyễn", "tuấn", "moóc", "Kỷ", "mỹ",
	}
	for _, w := range good {
		if !Syllable(w) {
			t.Errorf("Syllable(%q) = false, want true", w)
		}
	}
	bad := []string{
		"Société", "für", "Müller", "Straße", "été", "Français", "naïve", "Tolstoï",
		"Tèt",       // a stop final takes only sắc or nặng
		"Việtt",     // no such rhyme
		"Nguyễễn",   // two tones
		"hóà",       // two tones
		"SociẪâtẪâ", // a wrong reading of Société
		"fé", "", "Tr¸n", "d",
		"Naị",    // the tone belongs on a (MARC-8's dot below read onto the wrong letter)
		"Thỏanh", // oanh takes the tone on a (TCVN3 bytes of MARC-8 Thành)
		"Hòang", "ngòai", "Nguyễên", "ngưòi",
	}
	for _, w := range bad {
		if Syllable(w) {
			t.Errorf("Syllable(%q) = true, want false", w)
		}
	}
	// Mojibake of Truyện and Kiều (Truyá, Kiá) has the shape of khuya and
	// kia but the tone on the wrong vowel.
	for _, w := range []string{"Truyá", "Kiá"} {
		if Syllable(w) {
			t.Errorf("Syllable(%q) = true: the tone is misplaced", w)
		}
	}
	for _, w := range []string{"đ"} {
		if !Syllable(w) {
			t.Errorf("Syllable(%q) = false; the shape is well-formed", w)
		}
	}
}

func TestSyllableNFD(t *testing.T) {
	// NFD text is not what Measure is given, and is refused rather than
	// misread: the combining marks are not letters.
	if Syllable(norm.NFD.String("Việt")) {
		t.Error("NFD word accepted")
	}
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		text string
		want Score
	}{
		{"Truyện Kiều / Nguyễn Du", Score{Vietnamese: 3}},
		{"Truyá»‡n Kiá»\u0081u", Score{Foreign: 2, Junk: 3}}, // double-encoded UTF-8
		{"Chi\u00aan tranh", Score{Foreign: 1}},              // ª is a letter
		{"Tr\u00b8n Du", Score{Junk: 1}},
		{"Société générale des éditions", Score{Foreign: 3}},
		{"Die Straße, München", Score{Foreign: 2}},
		{"Hello world", Score{}},
		{"O'Brien, Jean-Paul; l'été", Score{Foreign: 1}},
		{"Tru\ufffd\ufffdn", Score{Junk: 2, Invalid: 2}},
		{"ISBN 9786046924371 (bìa mềm) : 85000đ", Score{Vietnamese: 3}},
		{norm.NFC.String("a\u0301\u0301"), Score{Foreign: 1, Junk: 1}},
		{"C++ và TCP/IP", Score{Vietnamese: 1}},
		{"1.234 ¼ trang", Score{}},
	}
	for _, tc := range tests {
		if got := Measure(tc.text); got != tc.want {
			t.Errorf("Measure(%q) = %+v, want %+v", tc.text, got, tc.want)
		}
	}
}

func TestPrefer(t *testing.T) {
	tests := []struct {
		name    string
		c, base Score
		want    bool
	}{
		{"legacy bytes read right, against replacement characters", Score{Vietnamese: 5}, Score{Junk: 9, Invalid: 9}, true},
		{"one word against replacement characters", Score{Vietnamese: 1}, Score{Junk: 2, Invalid: 2}, true},
		{"double-encoded repaired", Score{Vietnamese: 3}, Score{Vietnamese: 3, Junk: 3}, true},
		{"one word better is too little without bad bytes", Score{Vietnamese: 3}, Score{Vietnamese: 2, Foreign: 1}, false},
		{"one foreign word is no evidence (chü read as chỹ)", Score{Vietnamese: 1}, Score{Foreign: 1}, false},
		{"nor is one stray mark (0̲ read as ử)", Score{Vietnamese: 1}, Score{Junk: 1}, false},
		{"French kept: the other reading is no Vietnamese", Score{Foreign: 1}, Score{Foreign: 1}, false},
		{"French kept: a reading with one syllable and junk", Score{Vietnamese: 1, Junk: 1}, Score{Foreign: 2}, false},
		{"equal readings keep the base", Score{Vietnamese: 1}, Score{Vietnamese: 1}, false},
		{"a Vietnamese reading with more junk loses", Score{Vietnamese: 9, Junk: 2}, Score{Foreign: 1, Junk: 1}, false},
		{"mostly foreign words are no Vietnamese", Score{Vietnamese: 3, Foreign: 1}, Score{Junk: 5, Invalid: 5}, false},
		{"four of five is enough", Score{Vietnamese: 4, Foreign: 1}, Score{Junk: 5}, true},
	}
	for _, tc := range tests {
		if got := Prefer(tc.c, tc.base); got != tc.want {
			t.Errorf("%s: Prefer(%+v, %+v) = %v, want %v", tc.name, tc.c, tc.base, got, tc.want)
		}
	}
}

func TestRescue(t *testing.T) {
	tests := []struct {
		c, base Score
		want    bool
	}{
		{Score{Foreign: 1}, Score{Junk: 2, Invalid: 2}, true},
		{Score{Foreign: 1}, Score{Junk: 1, Invalid: 1}, false},
		{Score{Foreign: 2}, Score{Junk: 2}, false}, // junk, but every byte decoded: MARC-8 test records with bare marks
		{Score{Foreign: 2}, Score{Foreign: 2}, false},
		{Score{Foreign: 1, Junk: 1}, Score{Junk: 3, Invalid: 3}, false},
		{Score{Foreign: 5}, Score{Junk: 1, Invalid: 1, Foreign: 1}, false},
	}
	for _, tc := range tests {
		if got := Rescue(tc.c, tc.base); got != tc.want {
			t.Errorf("Rescue(%+v, %+v) = %v, want %v", tc.c, tc.base, got, tc.want)
		}
	}
}

func TestLess(t *testing.T) {
	if !Less(Score{Vietnamese: 3}, Score{Vietnamese: 3, Foreign: 1}) {
		t.Error("fewer problems should come first")
	}
	if !Less(Score{Vietnamese: 4}, Score{Vietnamese: 3}) {
		t.Error("with equal problems, more Vietnamese should come first")
	}
	if Less(Score{Vietnamese: 3}, Score{Vietnamese: 3}) {
		t.Error("Less is not strict")
	}
}

func FuzzMeasure(f *testing.F) {
	for _, s := range []string{"Truyện Kiều", "Truyá»‡n", "Tr\xb8n", "\xff\xfe", "a\u0301\u0301", "Société",
		"O'Brien; l'été", "ISBN 9786046924371 (bìa mềm) : 85000đ", "gìn giữ quốc khuyết", "Ǹguyễn K\u212Aiều"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc := Measure(s)
		// The first scorer (ref_test.go) is the specification.
		if want := measureRef(s); sc != want {
			t.Fatalf("Measure(%+q) = %+v, want %+v", s, sc, want)
		}
		if got, want := Syllable(s), syllableRef(s); got != want {
			t.Fatalf("Syllable(%+q) = %v, want %v", s, got, want)
		}
		if sc.Vietnamese < 0 || sc.Foreign < 0 || sc.Junk < 0 {
			t.Fatalf("negative score %+v", sc)
		}
		if sc.Vietnamese+sc.Foreign > len(s) {
			t.Fatalf("%d words in %d bytes", sc.Vietnamese+sc.Foreign, len(s))
		}
		Syllable(s)
	})
}

// BenchmarkMeasure scores the readings the detector weighs for one
// title: right, and misread three ways; ref is the first scorer.
func BenchmarkMeasure(b *testing.B) {
	texts := []string{"Truyện Kiều / Nguyễn Du ; Đào Duy Anh hiệu khảo", "Truyá»‡n Kiá»\u0081u / Nguyá»…n Du",
		"Truy\u00d6n Ki\u00d2u / Nguy\u00d4n Du", "TruyeÃ¤n KieÃ u / NguyeÃ£n Du"}
	for _, f := range []struct {
		name string
		fn   func(string) Score
	}{{"table", Measure}, {"ref", measureRef}} {
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				for _, s := range texts {
					f.fn(s)
				}
			}
		})
	}
}

// TestPreferProperties checks, over every small score, what the detector
// relies on: Prefer(c, base) means c costs less than base, and holds for
// base with anything added; Rescue(c, base) needs bad bytes in base and
// no junk in c.
func TestPreferProperties(t *testing.T) {
	var scores []Score
	for v := 0; v < 5; v++ {
		for f := 0; f < 4; f++ {
			for j := 0; j < 4; j++ {
				for i := 0; i <= j; i++ {
					scores = append(scores, Score{Vietnamese: v, Foreign: f, Junk: j, Invalid: i})
				}
			}
		}
	}
	for _, c := range scores {
		for _, b := range scores {
			if Rescue(c, b) && (b.Invalid == 0 || c.Junk > 0) {
				t.Fatalf("Rescue(%+v, %+v) without bad bytes in base or with junk", c, b)
			}
			if !Prefer(c, b) {
				continue
			}
			if c.Cost() >= b.Cost() {
				t.Fatalf("Prefer(%+v, %+v) but it costs no less", c, b)
			}
			for _, x := range scores {
				more := b
				more.Add(x)
				if !Prefer(c, more) {
					t.Fatalf("Prefer(%+v, %+v) but not with %+v added", c, b, x)
				}
			}
		}
	}
}

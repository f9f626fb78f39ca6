package dedup

import (
	"testing"

	"github.com/unicat/unicat/internal/marctest"
)

func TestRecordPages(t *testing.T) {
	tests := []struct {
		a     string
		pages int
	}{
		{"245 tr. ;", 245},
		{"245 tr. ; 21 cm", 245},
		{"350tr. :", 350},
		{"xii, 345 p. :", 345},
		{"[12], 345 pages", 345},
		{"[245] p.", 245},
		{"2 v. (xii, 900 p.)", 900},
		{"1 tập (300 trang) ;", 300},
		{"120 tờ", 120},
		{"14p.", 14},
		{"vi, 210 pp.", 210},
		{"320, 11 p.", 320},
		{"72, [1] p.", 72},
		{"xii, 245, 16 tr. ảnh", 245},
		{"92 l.", 92},
		{"81 p., [5] leaves of plates", 81},
		{"2 v. (1200 p.) ; 3 tập", 1200},
		{"1200 bản, 20 p.", 20},
		{"1 CD", 0},
		{"2 tập ;", 0},
		{"12 pl.", 0},
		{"1 bản đồ : màu ;", 0},
	}
	for _, tt := range tests {
		rec := marctest.Record("300", "$a"+tt.a+"$bminh họa ;$c21 cm.")
		if got := recordPages(rec); got != tt.pages {
			t.Errorf("recordPages of %q = %d, want %d", tt.a, got, tt.pages)
		}
	}
	if got := recordPages(marctest.Record("245", "10$aX")); got != 0 {
		t.Errorf("record without 300: %d pages", got)
	}
}

// FuzzPagesIn: no extent makes pagesIn panic or count below zero.
func FuzzPagesIn(f *testing.F) {
	for _, s := range []string{"245 tr. ;", "xii, 345 p.", "p. p. 9999999999999 tr.", "72, [1] p.", "2 v."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := pagesIn(s); n < 0 {
			t.Fatalf("pagesIn(%q) = %d", s, n)
		}
	})
}

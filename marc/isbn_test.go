package marc

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeISBN(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		// Hyphenated ISBN-13 with a Vietnamese qualifier glued on by a space.
		{"978-604-2-12345-7 (bìa mềm)", "9786042123457", true},
		// The same with a wrong check digit: digits kept, not valid.
		{"978-604-2-12345-6 (bìa mềm)", "9786042123456", false},
		{"9781403793966 (pbk.)", "9781403793966", true},
		{"1403793964 (pbk.)", "9781403793966", true},
		{"0-19-852663-6", "9780198526636", true},
		{"0-8044-2957-X", "9780804429573", true},
		{"080442957x", "9780804429573", true},
		{"0-8044-2957-x (v. 1)", "9780804429573", true},
		// ISBN-10 with a bad check digit is not converted.
		{"0-19-852663-7", "0198526637", false},
		{"ISBN 978 604 2 12345 7", "9786042123457", true},
		{"ISBN: 978-604-2-12345-7", "9786042123457", true},
		{"0525230106 $10.00", "9780525230106", true},
		{"978-604-2-12345-7 : 50000đ", "9786042123457", true},
		{"9791234567896", "9791234567896", true},
		// Two ISBNs in one $a: the first one wins.
		{"0-19-852663-6 9780804429573", "9780198526636", true},
		// An EAN-13 that is not in the ISBN ranges.
		{"4006381333931", "4006381333931", false},
		// Not ISBN-shaped.
		{"", "", false},
		{"(pbk.)", "", false},
		{"12345", "", false},
		{"97860421234571", "", false},
		{"0198526636abc", "", false},
		{"978604212345X", "", false},
		{"12345678X9", "", false},
		{"không có", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeISBN(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeISBN(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestISBN10To13(t *testing.T) {
	tests := []struct{ in, want string }{
		{"080442957X", "9780804429573"},
		{"0198526636", "9780198526636"},
		{"1403793964", "9781403793966"},
		{"019852663", ""},
		{"01985266a6", ""},
		{"0-19852663", ""},
	}
	for _, tt := range tests {
		if got := ISBN10To13(tt.in); got != tt.want {
			t.Errorf("ISBN10To13(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidISBN13(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"9786042123457", true},
		{"9786042123456", false},
		{"9791234567896", true},
		{"4006381333931", false}, // valid EAN, not an ISBN
		{"978604212345", false},
		{"978-604212345", false},
		{"97860421234570", false},
	}
	for _, tt := range tests {
		if got := ValidISBN13(tt.in); got != tt.want {
			t.Errorf("ValidISBN13(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeISSN(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"0317-8471", "0317-8471", true},
		{"03178471", "0317-8471", true},
		{"0317 8471", "0317-8471", true},
		{"ISSN 0378-5955", "0378-5955", true},
		{"2434-561X", "2434-561X", true},
		{"2434-561x (Print)", "2434-561X", true},
		{"1859-3208", "1859-3208", true},
		{"0866-708X", "0866-708X", true},
		{"0317-8472", "0317-8472", false},
		{"0317-84711", "", false},
		{"1234", "", false},
		{"", "", false},
		{"03-178471", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeISSN(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeISSN(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzNormalizeISBN(f *testing.F) {
	for _, s := range []string{"978-604-2-12345-7 (bìa mềm)", "0-8044-2957-X", "ISBN 978 604", "", "X", "9-", "0198526636 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeISBN(s)
		if ok {
			if !ValidISBN13(got) {
				t.Fatalf("NormalizeISBN(%q) = %q, ok but not a valid ISBN-13", s, got)
			}
			return
		}
		if got != "" && len(got) != 10 && len(got) != 13 {
			t.Fatalf("NormalizeISBN(%q) = %q: neither 10 nor 13 characters", s, got)
		}
		if strings.ContainsAny(got, "- ") {
			t.Fatalf("NormalizeISBN(%q) = %q: separators left", s, got)
		}
	})
}

func FuzzNormalizeISSN(f *testing.F) {
	for _, s := range []string{"0317-8471", "2434-561x", "ISSN 0378 5955", "", "0000-000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeISSN(s)
		if got == "" {
			if ok {
				t.Fatalf("NormalizeISSN(%q): ok without a value", s)
			}
			return
		}
		if len(got) != 9 || got[4] != '-' || !utf8.ValidString(got) {
			t.Fatalf("NormalizeISSN(%q) = %q: not NNNN-NNNN", s, got)
		}
		// The canonical form must normalise to itself with the same verdict.
		again, ok2 := NormalizeISSN(got)
		if again != got || ok2 != ok {
			t.Fatalf("NormalizeISSN(%q) = %q, %v; on its own output %q, %v", s, got, ok, again, ok2)
		}
	})
}

package marc

import (
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestTCVN3Vietnamese(t *testing.T) {
	// Byte strings from iconv -f UTF-8 -t TCVN5712-1; VN3 has every
	// lowercase letter precomposed.
	for in, want := range map[string]string{
		"Truy\xd6n Ki\xd2u":                   "Truyện Kiều",
		"Nguy\xd4n Du":                        "Nguyễn Du",
		"\xa7\xc6ng Thai Mai":                 "Đặng Thai Mai",
		"Nh\xb5 xu\xcat b\xb6n V\xa8n h\xe4c": "Nhà xuất bản Văn học",
		"H\xb5 N\xe9i":                        "Hà Nội",
		"\xa7\xcat r\xf5ng ph\xad\xacng Nam":  "Đất rừng phương Nam",
		// VN2 combining tone marks follow the base letter.
		"ho\xb0a thu\xb1y": "hòa thủy",
	} {
		got, warn := convertText(CharsetTCVN3, []byte(in))
		if got != want || len(warn) > 0 {
			t.Errorf("convertText(tcvn3, % X) = %q %q, want %q", in, got, warn, want)
		}
	}
}

// TestTCVN3AgainstIconv checks every byte 0x80-0xFF against glibc's
// TCVN5712-1 (VN1, a superset of VN3 in this range).
func TestTCVN3AgainstIconv(t *testing.T) {
	for c := 0x80; c <= 0xFF; c++ {
		in := []byte{'a', byte(c)}
		want, ok := csIconv(t, "TCVN5712-1", in)
		if !ok {
			t.Errorf("iconv rejects byte %02X", c)
			continue
		}
		got, warn := convertText(CharsetTCVN3, in)
		if got != norm.NFC.String(want) || len(warn) > 0 {
			t.Errorf("byte %02X: got %q %q, iconv %q", c, got, warn, want)
		}
	}
}

// TestTCVN3Repertoire checks the table's VN3 part independently of iconv:
// NBSP at A0, Ă Â Ê Ô Ơ Ư Đ at A1-A7, and the 67 lowercase letters
// (ă â ê ô ơ ư đ and the 12 vowels with 5 tones each) in A8-AE and B5-FE.
func TestTCVN3Repertoire(t *testing.T) {
	if got := string(tcvn3High[0xA0-0x80 : 0xA8-0x80]); got != "\u00a0ĂÂÊÔƠƯĐ" {
		t.Errorf("A0-A7 = %q", got)
	}
	want := map[rune]bool{}
	for _, r := range "ăâêôơưđ" {
		want[r] = true
	}
	for _, v := range "aăâeêioôơuưy" {
		for _, tone := range "\u0300\u0309\u0303\u0301\u0323" {
			want[[]rune(norm.NFC.String(string(v) + string(tone)))[0]] = true
		}
	}
	if len(want) != 67 {
		t.Fatalf("built %d lowercase letters, want 67", len(want))
	}
	for c := 0xA8; c <= 0xFE; c++ {
		if c > 0xAE && c < 0xB5 {
			continue
		}
		r := tcvn3High[c-0x80]
		if strings.ToLower(string(r)) == string(r) {
			if !want[r] {
				t.Errorf("byte %02X = %q is lowercase but not a Vietnamese letter", c, r)
			}
			delete(want, r)
		}
	}
	if len(want) > 0 {
		t.Errorf("lowercase letters missing from the table: %v", want)
	}
}

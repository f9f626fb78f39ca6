package marc

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

var nfcComposer composer

// nfcCheck compares appendNFC with norm.NFC for rs.
func nfcCheck(t *testing.T, rs []rune) {
	t.Helper()
	want := norm.NFC.String(string(rs))
	for range 2 { // the second time from the composer's memory
		if got := string(nfcComposer.appendNFC(nil, rs)); got != want {
			t.Fatalf("appendNFC(%+q) = %+q, want %+q", string(rs), got, want)
		}
		// Appended to text a mark could join, rs is composed on its own.
		if got := string(nfcComposer.appendNFC([]byte("A"), rs)); got != "A"+want {
			t.Fatalf("appendNFC(A, %+q) = %+q, want A%+q", string(rs), got, want)
		}
	}
}

// nfcStarters are the characters tried before marks: every letter the
// tables decompose, ASCII, and a few the tables leave to norm.
func nfcStarters() []rune {
	var rs []rune
	for r := rune(0x20); r < 0x7F; r++ {
		rs = append(rs, r)
	}
	for _, span := range [][2]rune{{0xA0, 0x250}, {0x1E00, 0x1F00}} {
		for r := span[0]; r < span[1]; r++ {
			rs = append(rs, r)
		}
	}
	return append(rs, 0x3B1, 0x3AC, 0x439, 0x20AC, 0x2126, 0x212B, 0x1100, 0xAC00, 0x0F40, 0x0300, 0x0344, 0xFFFD)
}

// nfcMarks are the marks the decoders give (Vietnamese tones and shapes,
// ANSEL's diacritics) and some the tables leave to norm.
var nfcMarks = []rune{0x300, 0x301, 0x302, 0x303, 0x306, 0x309, 0x31B, 0x323, 0x304, 0x307, 0x308, 0x30A, 0x30B,
	0x30C, 0x310, 0x313, 0x315, 0x31C, 0x324, 0x325, 0x326, 0x327, 0x328, 0x32E, 0x332, 0x333, 0xFE20, 0xFE21,
	0xFE22, 0xFE23, 0x340, 0x341, 0x343, 0x344, 0x345, 0x34F, 0x0F71, 0x1DC0, 0x20D0, 0x3099}

func TestAppendNFCPairs(t *testing.T) {
	all := nfcMarks
	for r := rune(0x300); r < 0x370; r++ {
		all = append(all, r)
	}
	for _, s := range nfcStarters() {
		nfcCheck(t, []rune{s})
		for _, m := range all {
			nfcCheck(t, []rune{s, m})
			nfcCheck(t, []rune{m, s})
		}
	}
}

func TestAppendNFCTriples(t *testing.T) {
	some := append(nfcMarks[:12:12], 0x327, 0x30C, 0xFE20, 0x340, 0x344, 0x345)
	for _, s := range nfcStarters() {
		for _, m1 := range some {
			for _, m2 := range some {
				nfcCheck(t, []rune{s, m1, m2})
			}
		}
	}
	viet := nfcMarks[:8]
	for _, s := range "aăâeêioôơuưyAĂÂEÊIOÔƠUƯYạẠ" {
		for _, m1 := range viet {
			for _, m2 := range viet {
				for _, m3 := range viet {
					nfcCheck(t, []rune{s, m1, m2, m3, 'x', m3})
				}
			}
		}
	}
}

// TestAppendNFCTable: the Vietnamese letters, however spelt, come from
// the table, not from norm.
func TestAppendNFCTable(t *testing.T) {
	n := 0
	for _, base := range "aăâeêioôơuưyAĂÂEÊIOÔƠUƯYdĐ" {
		for _, tone := range []rune{0, 0x300, 0x301, 0x303, 0x309, 0x323} {
			rs := []rune(norm.NFD.String(string(base)))
			if tone != 0 {
				rs = append(rs, tone)
			}
			nfc := []rune(norm.NFC.String(string(rs)))
			if len(nfc) != 1 || len(rs) == 1 {
				continue
			}
			if r, ok := composeTables().compose(rs); !ok || r != nfc[0] {
				t.Errorf("compose(%+q) = %q %v, want %q", string(rs), r, ok, nfc[0])
			}
			n++
		}
	}
	if n < 130 {
		t.Errorf("only %d Vietnamese letters tried", n)
	}
}

func FuzzAppendNFC(f *testing.F) {
	for _, s := range []string{"Nghe\u0323\u0302 An", "a\u0301\u0323", "\u0301a", "Ơ\u0301", "e\u0302\u0323\u0301", "ᄀ\u1161", "x\u0303\u0344"} {
		f.Add([]byte(s))
	}
	// Bytes pick characters: mostly letters and marks, so that segments
	// of every shape come up.
	alphabet := append(append([]rune("aeiouyAEOUdĐđăâêôơưáàạếệộờ "), nfcMarks...), 0x1100, 0x1161, 0xAC00, 0x11A8)
	f.Fuzz(func(t *testing.T, b []byte) {
		rs := make([]rune, 0, len(b))
		for _, c := range b {
			rs = append(rs, alphabet[int(c)%len(alphabet)])
		}
		nfcCheck(t, rs)
		if utf8.Valid(b) {
			nfcCheck(t, []rune(string(b)))
		}
	})
}

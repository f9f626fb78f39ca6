package marc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unicat/unicat/internal/testpeer"
	"golang.org/x/text/unicode/norm"
)

// MARC-8 decoding held to yaz-marcdump: strings, every table entry, a
// Vietnamese round trip through an encoder, and yaz's own MARC-8 records.

// m8Yaz decodes many MARC-8 strings with yaz in one process. yaz-iconv
// cannot be used for a batch: its 64-byte buffers garble combining marks
// that straddle a buffer boundary. So each string becomes subfield $a of its
// own field in ISO 2709 records, converted by yaz-marcdump -f marc8 -t utf8
// (which decodes every subfield from the default state).
func m8Yaz(t *testing.T, ins [][]byte) []string {
	t.Helper()
	dump := testpeer.Need(t, "yaz-marcdump")
	var file bytes.Buffer
	for start := 0; start < len(ins); {
		var fields []m8RawField
		size := 0
		for start < len(ins) && size < 60000 && len(fields) < 2000 {
			fields = append(fields, m8RawField{"500", append([]byte("  \x1fa"), ins[start]...)})
			size += len(ins[start]) + 20
			start++
		}
		file.Write(m8BuildISO2709(fields))
	}
	f := filepath.Join(t.TempDir(), "in.mrc")
	if err := os.WriteFile(f, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(dump, "-f", "marc8", "-t", "utf8", "-o", "marc", f)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("yaz-marcdump: %v: %s", err, stderr.String())
	}
	var res []string
	for _, r := range m8SplitISO2709(t, out) {
		for _, f := range r.fields {
			s := f.data[2:] // indicators
			if len(s) < 2 || s[0] != 0x1F || s[1] != 'a' {
				t.Fatalf("yaz output field %q lost its $a", f.data)
			}
			res = append(res, string(s[2:]))
		}
	}
	if len(res) != len(ins) {
		t.Fatalf("yaz-marcdump returned %d strings for %d inputs", len(res), len(ins))
	}
	return res
}

// m8BuildISO2709 assembles one ISO 2709 record (MARC-8, leader/09 blank).
func m8BuildISO2709(fields []m8RawField) []byte {
	var dir, data bytes.Buffer
	for _, f := range fields {
		fmt.Fprintf(&dir, "%s%04d%05d", f.tag, len(f.data)+1, data.Len())
		data.Write(f.data)
		data.WriteByte(0x1E)
	}
	base := 24 + dir.Len() + 1
	total := base + data.Len() + 1
	rec := fmt.Appendf(nil, "%05dnam  22%05d   4500", total, base)
	rec = append(rec, dir.Bytes()...)
	rec = append(rec, 0x1E)
	rec = append(rec, data.Bytes()...)
	return append(rec, 0x1D)
}

// m8CompareYaz checks decodeMARC8 against yaz for each input: equal after NFC,
// and no warnings from us on input yaz accepts.
func m8CompareYaz(t *testing.T, names []string, ins [][]byte) {
	t.Helper()
	want := m8Yaz(t, ins)
	bad := 0
	for i, in := range ins {
		got, warn := decodeMARC8(in)
		g, w := norm.NFC.String(got), norm.NFC.String(want[i])
		if g != w || len(warn) > 0 {
			bad++
			if bad <= 20 {
				t.Errorf("%s: % X: ours %+q %q, yaz %+q", names[i], in, g, warn, w)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d strings differ from yaz-iconv", bad, len(ins))
	}
}

func TestMARC8AgainstYaz(t *testing.T) {
	var names []string
	var ins [][]byte
	add := func(name string, b []byte) {
		names = append(names, name)
		ins = append(ins, b)
	}
	for _, c := range m8Valid {
		add(c.name, []byte(c.in))
	}
	// Every combining mark of ANSEL on several bases, alone and stacked
	// under a second mark.
	for p, ch := range marc8ANSEL.chars {
		if !ch.comb {
			continue
		}
		for _, base := range []string{"a", "E", "o", "y", " ", "\xbc", "\xa2"} {
			add(fmt.Sprintf("mark %02X on %q", p|0x80, base), []byte{byte(p | 0x80), base[0]})
			add(fmt.Sprintf("marks %02X E3 on %q", p|0x80, base), []byte{byte(p | 0x80), 0xE3, base[0]})
		}
	}
	for _, s := range m8VietnameseSample {
		add("vi "+s, m8Encode(t, s))
	}
	m8CompareYaz(t, names, ins)
}

// TestMARC8TablesAgainstYaz decodes every entry of every table, the
// single-byte sets designated both as G0 and as G1, and compares with yaz.
func TestMARC8TablesAgainstYaz(t *testing.T) {
	var names []string
	var ins [][]byte
	sets := map[byte]*marc8Set{}
	for _, f := range []byte("BEgbp2NQ34S") {
		sets[f] = marc8SingleByteSet(f)
	}
	for _, f := range []byte("BEgbp2NQ34S") {
		s := sets[f]
		var base byte // a spacing character of the set, for its marks
		for p, ch := range s.chars {
			if ch.r > 0 && !ch.comb {
				base = byte(p)
				break
			}
		}
		for p, ch := range s.chars {
			if ch.r == 0 {
				continue
			}
			// As G1, with an ASCII base for marks.
			in := []byte{0x1B, ')', f, byte(p) | 0x80}
			if ch.comb {
				in = append(in, 'a')
			}
			names = append(names, fmt.Sprintf("%s %02X as G1", s.name, p|0x80))
			ins = append(ins, in)
			// As G0, with a base from the same set (no escape between mark
			// and base). yaz decodes ANSEL as G0 with G1 offsets, wrongly,
			// so that case is left to TestDecodeMARC8Differences.
			if f == 'E' {
				continue
			}
			in = []byte{0x1B, '(', f}
			if f == 'g' || f == 'b' || f == 'p' {
				in = []byte{0x1B, f} // technique 1
			}
			in = append(in, byte(p))
			if ch.comb {
				in = append(in, base)
			}
			names = append(names, fmt.Sprintf("%s %02X as G0", s.name, p))
			ins = append(ins, in)
		}
	}
	for _, e := range marc8EACC {
		c := uint32(e >> 32)
		names = append(names, fmt.Sprintf("EACC %06X", c))
		ins = append(ins, []byte{0x1B, '$', '1', byte(c >> 16), byte(c >> 8), byte(c), 0x1B, '(', 'B'})
	}
	if len(ins) < 15000 {
		t.Fatalf("only %d table entries", len(ins))
	}
	m8CompareYaz(t, names, ins)
}

// m8VietnameseSample is Vietnamese text covering every vowel with every
// tone, in both cases, plus đ/Đ.
var m8VietnameseSample = []string{
	"Truyện Kiều", "Nguyễn Du", "Lục Vân Tiên", "Nguyễn Đình Chiểu", "Số đỏ", "Vũ Trọng Phụng",
	"Tắt đèn", "Ngô Tất Tố", "Dế Mèn phiêu lưu ký", "Nhật ký trong tù", "Chí Phèo", "Vợ nhặt",
	"Nỗi buồn chiến tranh", "Bảo Ninh", "Cho tôi xin một vé đi tuổi thơ", "Đất rừng phương Nam",
	"Những ngôi sao xa xôi", "Việt Nam sử lược", "Trần Trọng Kim", "Hồ Xuân Hương", "Nxb. Kim Đồng",
	"Hà Nội", "Thành phố Hồ Chí Minh", "Nghệ An", "Diễn Châu", "Nghi Lộc", "hoà bình", "hòa bình", "thuỷ", "thủy",
	"àảãáạ ằẳẵắặ ầẩẫấậ èẻẽéẹ ềểễếệ ìỉĩíị òỏõóọ ồổỗốộ ờởỡớợ ùủũúụ ừửữứự ỳỷỹýỵ",
	"ÀẢÃÁẠ ẰẲẴẮẶ ẦẨẪẤẬ ÈẺẼÉẸ ỀỂỄẾỆ ÌỈĨÍỊ ÒỎÕÓỌ ỒỔỖỐỘ ỜỞỠỚỢ ÙỦŨÚỤ ỪỬỮỨỰ ỲỶỸÝỴ Đđ",
}

// m8Encoder is a test-only MARC-8 encoder built by inverting the tables.
// Building it from the tables means it cannot check them; the yaz tests do.
type m8Encoder struct {
	single map[rune]struct {
		final, b byte
		comb     bool
	}
	eacc map[rune]uint32
}

func newM8Encoder() *m8Encoder {
	e := &m8Encoder{single: map[rune]struct {
		final, b byte
		comb     bool
	}{}, eacc: map[rune]uint32{}}
	// Preference order: ASCII, ANSEL, then the others.
	for _, f := range []byte("BEgbp2NQ34S") {
		s := marc8SingleByteSet(f)
		for p, ch := range s.chars {
			if ch.r <= 0 {
				continue
			}
			if _, dup := e.single[ch.r]; !dup {
				e.single[ch.r] = struct {
					final, b byte
					comb     bool
				}{f, byte(p), ch.comb}
			}
		}
	}
	e.single[' '] = struct {
		final, b byte
		comb     bool
	}{'B', ' ', false}
	for _, v := range marc8EACC {
		r := rune(uint32(v))
		if _, dup := e.eacc[r]; !dup {
			e.eacc[r] = uint32(v >> 32)
		}
	}
	return e
}

// encode converts s to MARC-8, or reports the first rune it cannot encode.
func (e *m8Encoder) encode(s string) ([]byte, error) {
	runes := []rune(norm.NFD.String(s))
	var out []byte
	g0 := byte('B')
	put := func(r rune) error {
		if r == ' ' {
			out = append(out, ' ')
			return nil
		}
		if c, ok := e.single[r]; ok {
			if c.final == 'E' {
				out = append(out, c.b|0x80)
				return nil
			}
			if g0 != c.final {
				out = append(out, 0x1B, '(', c.final)
				g0 = c.final
			}
			out = append(out, c.b)
			return nil
		}
		if c, ok := e.eacc[r]; ok {
			if g0 != '1' {
				out = append(out, 0x1B, '$', '1')
				g0 = '1'
			}
			out = append(out, byte(c>>16), byte(c>>8), byte(c))
			return nil
		}
		return fmt.Errorf("cannot encode %U", r)
	}
	for i := 0; i < len(runes); {
		base := runes[i]
		j := i + 1
		for j < len(runes) && norm.NFD.PropertiesString(string(runes[j])).CCC() != 0 {
			j++
		}
		marks := append([]rune(nil), runes[i+1:j]...)
		// Fold marks into spacing letters where MARC-8 has one (ơ, ư).
		for len(marks) > 0 {
			c := []rune(norm.NFC.String(string([]rune{base, marks[0]})))
			if sc, ok := e.single[c[0]]; len(c) != 1 || !ok || sc.comb {
				break
			}
			base, marks = c[0], marks[1:]
		}
		for _, m := range marks {
			if c, ok := e.single[m]; !ok || !c.comb {
				return nil, fmt.Errorf("cannot encode mark %U", m)
			}
			if err := put(m); err != nil {
				return nil, err
			}
		}
		if err := put(base); err != nil {
			return nil, err
		}
		i = j
	}
	if g0 != 'B' {
		out = append(out, 0x1B, '(', 'B')
	}
	return out, nil
}

func m8Encode(t testing.TB, s string) []byte {
	t.Helper()
	b, err := newM8Encoder().encode(s)
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

// TestMARC8VietnameseRoundTrip checks our decoding of MARC-8 Vietnamese
// against the NFC source text.
func TestMARC8VietnameseRoundTrip(t *testing.T) {
	for _, s := range m8VietnameseSample {
		b := m8Encode(t, s)
		got, warn := convertText(CharsetMARC8, b)
		if got != norm.NFC.String(s) || len(warn) > 0 {
			t.Errorf("% X: got %q %q, want %q", b, got, warn, s)
		}
	}
}

// m8SplitISO2709 is a minimal test-only ISO 2709 splitter so the MARC-8
// tests do not depend on the package's reader: it returns the leader and,
// per field, the tag and raw data bytes (without the field terminator).
func m8SplitISO2709(t *testing.T, data []byte) (recs []m8RawRecord) {
	t.Helper()
	for len(data) > 0 {
		if len(data) < 24 {
			t.Fatalf("trailing %d bytes", len(data))
		}
		n := m8Atoi(t, data[:5])
		base := m8Atoi(t, data[12:17])
		rec, dir := data[:n], data[24:]
		r := m8RawRecord{leader: string(rec[:24])}
		for dir[0] != 0x1E {
			tag := string(dir[:3])
			l, off := m8Atoi(t, dir[3:7]), m8Atoi(t, dir[7:12])
			f := rec[base+off : base+off+l]
			r.fields = append(r.fields, m8RawField{tag, bytes.TrimSuffix(f, []byte{0x1E})})
			dir = dir[12:]
		}
		recs = append(recs, r)
		data = data[n:]
	}
	return recs
}

type m8RawRecord struct {
	leader string
	fields []m8RawField
}

type m8RawField struct {
	tag  string
	data []byte
}

func m8Atoi(t *testing.T, b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			t.Fatalf("bad number %q", b)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// m8DecodeField renders a raw field as "ind1ind2$aValue$bValue" (data
// fields) or its value (control fields), converting each subfield with cs.
func m8DecodeField(f m8RawField, cs Charset) (string, []string) {
	if IsControlTag(f.tag) {
		return convertText(cs, f.data)
	}
	parts := bytes.Split(f.data, []byte{0x1F})
	s := string(parts[0])
	var warn []string
	for _, p := range parts[1:] {
		if len(p) == 0 {
			continue
		}
		v, w := convertText(cs, p[1:])
		warn = append(warn, w...)
		s += "$" + string(p[0]) + v
	}
	return s, warn
}

// Field states for m8CompareRecords.
const (
	m8FieldOK      = iota
	m8FieldWarned  // we replaced bytes with U+FFFD and warned
	m8FieldBadCode // a subfield code that is not ASCII: a broken record
)

// m8Fields decodes raw records: per record, per field "tag value", and each
// field's state.
func m8Fields(recs []m8RawRecord, cs Charset) (out [][]string, state [][]int, warn []string) {
	for _, r := range recs {
		var fs []string
		var st []int
		for _, f := range r.fields {
			s, w := m8DecodeField(f, cs)
			warn = append(warn, w...)
			fs = append(fs, f.tag+" "+s)
			switch {
			case m8HasBadCode(f):
				st = append(st, m8FieldBadCode)
			case len(w) > 0:
				st = append(st, m8FieldWarned)
			default:
				st = append(st, m8FieldOK)
			}
		}
		out = append(out, fs)
		state = append(state, st)
	}
	return out, state, warn
}

func m8HasBadCode(f m8RawField) bool {
	if IsControlTag(f.tag) {
		return false
	}
	parts := bytes.Split(f.data, []byte{0x1F})
	for _, p := range parts[1:] {
		if len(p) > 0 && (p[0] <= 0x20 || p[0] >= 0x7F) {
			return true
		}
	}
	return false
}

// m8CompareRecords compares decoded records field by field after NFC. In
// fields where we warned, yaz silently dropped the bytes we replaced with
// U+FFFD, so those are removed before comparing.
func m8CompareRecords(t *testing.T, name string, got [][]string, state [][]int, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", name, len(got), len(want))
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			t.Errorf("%s record %d: %d fields, want %d", name, i+1, len(got[i]), len(want[i]))
			continue
		}
		for j := range got[i] {
			g, w := norm.NFC.String(got[i][j]), norm.NFC.String(want[i][j])
			// yaz drops control characters (marc12.marc has form feeds).
			g = strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7F {
					return -1
				}
				return r
			}, g)
			st := m8FieldOK
			if state != nil {
				st = state[i][j]
			}
			switch st {
			case m8FieldBadCode:
				continue // yaz and we each make different garbage of it
			case m8FieldWarned:
				g = strings.ReplaceAll(g, "\uFFFD", "")
			}
			if g != w {
				t.Errorf("%s record %d field %d:\n ours %q\n want %q", name, i+1, j+1, g, w)
			}
		}
	}
}

// TestMARC8RecordsAgainstYaz decodes the real MARC-8 records from yaz's test
// suite field by field and compares with yaz-marcdump -f marc8 -t utf8.
func TestMARC8RecordsAgainstYaz(t *testing.T) {
	dump := testpeer.Need(t, "yaz-marcdump")
	files, err := filepath.Glob("../testdata/marc8/*.marc")
	if err != nil || len(files) < 5 {
		t.Fatalf("testdata/marc8: %v (%d files)", err, len(files))
	}
	// marc12.marc is real damaged data: CJK punctuation lost on the way
	// to MARC-8 left form feeds and a SUB (yaz drops them; we keep them),
	// two 0xFD bytes in an 880 field (yaz drops them silently; we replace
	// and warn), and a subfield delimiter followed by an escape sequence
	// instead of a code.
	wantStates := map[string][3]int{"marc12.marc": {0, 1, 1}}
	for _, file := range files {
		chr, err := os.ReadFile(strings.TrimSuffix(file, ".marc") + ".chr")
		if err != nil || strings.TrimSpace(string(chr)) != "marc-8" {
			t.Fatalf("%s: charset file says %q (%v)", file, chr, err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		yazOut, err := exec.Command(dump, "-f", "marc8", "-t", "utf8", "-o", "marc", file).Output()
		if err != nil {
			t.Fatalf("yaz-marcdump %s: %v", file, err)
		}
		got, state, _ := m8Fields(m8SplitISO2709(t, data), CharsetMARC8)
		var n [3]int
		for _, st := range state {
			for _, s := range st {
				n[s]++
			}
		}
		if n[m8FieldWarned] != wantStates[filepath.Base(file)][1] || n[m8FieldBadCode] != wantStates[filepath.Base(file)][2] {
			t.Errorf("%s: %d fields warned and %d broken, want %v", file, n[1], n[2], wantStates[filepath.Base(file)])
		}
		if n[m8FieldOK] < 10 {
			t.Errorf("%s: only %d fields compared", file, n[0])
		}
		want, _, _ := m8Fields(m8SplitISO2709(t, yazOut), CharsetUTF8)
		m8CompareRecords(t, file, got, state, want)
	}
}

package marc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/internal/testpeer"
)

func TestRecordCharset(t *testing.T) {
	for _, c := range []struct {
		opt    Charset
		leader string
		want   Charset
	}{
		{CharsetAuto, "00000nam a2200000 i 4500", CharsetUTF8},
		{CharsetAuto, "00000nam  2200000 i 4500", CharsetMARC8},
		{CharsetAuto, "00000nam z2200000 i 4500", CharsetMARC8},
		{CharsetAuto, "short", CharsetMARC8},
		{CharsetWindows1258, "00000nam a2200000 i 4500", CharsetWindows1258},
		{CharsetTCVN3, "00000nam  2200000 i 4500", CharsetTCVN3},
	} {
		if got := recordCharset(c.opt, c.leader); got != c.want {
			t.Errorf("recordCharset(%q, %q) = %q, want %q", c.opt, c.leader, got, c.want)
		}
	}
}

// csIconv converts b with glibc iconv; ok is false when iconv rejects it.
func csIconv(t *testing.T, from string, b []byte) (string, bool) {
	t.Helper()
	iconv := testpeer.Need(t, "iconv")
	cmd := exec.Command(iconv, "-f", from, "-t", "UTF-8")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		return "", false
	}
	return string(out), true
}

func TestWindows1258Vietnamese(t *testing.T) {
	// Windows-1258 has few precomposed Vietnamese letters: ễ is ê (0xEA)
	// plus the combining tilde (0xDE), ệ is ê plus dot below (0xF2), ề is ê
	// plus grave (0xCC), ặ is ă (0xE3) plus dot below.
	for in, want := range map[string]string{
		"Nguy\xea\xden Du":            "Nguyễn Du",
		"Truy\xea\xf2n Ki\xea\xccu":   "Truyện Kiều",
		"\xd0\xe3\xf2ng Thai Mai":     "Đặng Thai Mai",
		"ho\xe0 bi\xccnh":             "hoà bình", // precomposed à; i + combining grave
		"ho\xcca":                     "hòa",
		"thuy\xd2 thu\xd2y":           "thuỷ thủy",
		"ng\xfd\xf5\xcci Vi\xea\xf2t": "người Việt",
		"\xddu \xd5":                  "Ưu Ơ",
	} {
		got, warn := convertText(CharsetWindows1258, []byte(in))
		if got != want || len(warn) > 0 {
			t.Errorf("convertText(cp1258, % X) = %q %q, want %q", in, got, warn, want)
		}
		if !norm.NFC.IsNormalString(got) {
			t.Errorf("%q is not NFC", got)
		}
		if ic, ok := csIconv(t, "CP1258", []byte(in)); !ok || norm.NFC.String(ic) != want {
			t.Errorf("iconv -f CP1258 % X = %q (ok %v), want %q", in, ic, ok, want)
		}
	}
}

// TestWindows1258AgainstIconv decodes every high byte and compares with
// glibc; bytes glibc rejects must come out as U+FFFD with a warning.
func TestWindows1258AgainstIconv(t *testing.T) {
	undefined := 0
	for c := 0x80; c <= 0xFF; c++ {
		in := []byte{'a', byte(c)}
		got, warn := convertText(CharsetWindows1258, in)
		want, ok := csIconv(t, "CP1258", in)
		if !ok {
			undefined++
			if got != "a\uFFFD" || len(warn) != 1 || !strings.Contains(warn[0], "at byte 1") {
				t.Errorf("undefined byte %02X: got %q %q, want U+FFFD and a warning", c, got, warn)
			}
			continue
		}
		if got != norm.NFC.String(want) || len(warn) > 0 {
			t.Errorf("byte %02X: got %q %q, iconv %q", c, got, warn, want)
		}
	}
	if undefined != 9 { // 81 8A 8D 8E 8F 90 9A 9D 9E
		t.Errorf("%d undefined bytes, want 9", undefined)
	}
}

func TestUTF8ToNFC(t *testing.T) {
	nfd := norm.NFD.String("Nguyễn Du — Truyện Kiều")
	for _, c := range []struct {
		in, want string
		warn     string
	}{
		{"Truyện Kiều", "Truyện Kiều", ""},
		{nfd, "Nguyễn Du — Truyện Kiều", ""},
		{"ho\u0300a", "hòa", ""},
		{"a\xffb", "a\uFFFDb", "at byte 1 (1 bad bytes)"},
		{"Nguy\xe1\xbb n", "Nguy\uFFFD\uFFFD n", "at byte 4 (2 bad bytes)"}, // truncated ễ
		{"\xc3", "\uFFFD", "at byte 0"},
		{"x\xed\xa0\x80y", "x\uFFFD\uFFFD\uFFFDy", "at byte 1 (3 bad bytes)"}, // surrogate
	} {
		got, warn := convertText(CharsetUTF8, []byte(c.in))
		if got != c.want {
			t.Errorf("convertText(utf-8, %q) = %+q, want %+q", c.in, got, c.want)
		}
		switch {
		case c.warn == "" && len(warn) > 0:
			t.Errorf("%q: unexpected warnings %q", c.in, warn)
		case c.warn != "" && (len(warn) != 1 || !strings.Contains(warn[0], c.warn)):
			t.Errorf("%q: warnings %q, want one containing %q", c.in, warn, c.warn)
		}
	}
}

func TestLatin1(t *testing.T) {
	got, warn := convertText(CharsetLatin1, []byte("K\xf8benhavn, \xe6\xf8\xe5"))
	if got != "København, æøå" || len(warn) > 0 {
		t.Errorf("got %q %q", got, warn)
	}
}

func FuzzConvertText(f *testing.F) {
	f.Add([]byte("Nguy\xea\xden Du"), uint8(0))
	f.Add([]byte("Truy\xd6n Ki\xd2u"), uint8(1))
	f.Add([]byte("Nguy\xe3\xe4en \x1b(NmOS"), uint8(2))
	f.Add([]byte("Nguy\xe1\xbb n"), uint8(3))
	charsets := []Charset{CharsetWindows1258, CharsetTCVN3, CharsetMARC8, CharsetUTF8, CharsetLatin1}
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		cs := charsets[int(which)%len(charsets)]
		got, warn := convertText(cs, b)
		if !utf8.ValidString(got) {
			t.Fatalf("%s: invalid UTF-8 out of % X", cs, b)
		}
		if !norm.NFC.IsNormalString(got) {
			t.Fatalf("%s: %q is not NFC", cs, got)
		}
		if cs != CharsetUTF8 && strings.ContainsRune(got, utf8.RuneError) && len(warn) == 0 {
			t.Fatalf("%s: U+FFFD without a warning from % X", cs, b)
		}
		if cs == CharsetUTF8 && utf8.Valid(b) && len(warn) > 0 {
			t.Fatalf("warnings %q for valid UTF-8", warn)
		}
	})
}

func BenchmarkConvertText(b *testing.B) {
	for _, c := range []struct {
		name string
		cs   Charset
		in   []byte
	}{
		{"utf8-nfc", CharsetUTF8, []byte("Truyện Kiều / Nguyễn Du ; Đào Duy Anh hiệu khảo. Nxb. Văn học, Hà Nội")},
		{"utf8-nfd", CharsetUTF8, []byte(norm.NFD.String("Truyện Kiều / Nguyễn Du ; Đào Duy Anh hiệu khảo. Nxb. Văn học, Hà Nội"))},
		{"cp1258", CharsetWindows1258, []byte("Truy\xea\xf2n Ki\xea\xccu / Nguy\xea\xden Du. Nxb. V\xe3n ho\xf2c, H\xe0 N\xf4\xf2i")},
		{"tcvn3", CharsetTCVN3, []byte("Truy\xd6n Ki\xd2u / Nguy\xd4n Du. Nxb. V\xa8n h\xe4c, H\xb5 N\xe9i")},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.in)))
			b.ReportAllocs()
			for b.Loop() {
				convertText(c.cs, c.in)
			}
		})
	}
}

// The constructed Vietnamese library exports in testdata/vietnamese (see
// its README): each ISO 2709 file has an NFC MARCXML twin in src/.
var csVietnameseFiles = []struct {
	name    string
	cs      Charset // what the source configuration says
	leader9 byte    // what the file's leaders say
	records int
}{
	{"vinh", CharsetUTF8, 'a', 8},
	{"dien-chau", CharsetMARC8, ' ', 5},
	{"xa-nghi-loc", CharsetWindows1258, 'a', 4}, // mislabelled on purpose
}

const csVietnameseDir = "../testdata/vietnamese/"

// csXMLRecords renders a MARCXML file's records like m8DecodeField, parsed
// with encoding/xml so that the check does not depend on our XML reader.
func csXMLRecords(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Records []struct {
			Leader string `xml:"leader"`
			Fields []struct {
				XMLName xml.Name
				Tag     string `xml:"tag,attr"`
				Ind1    string `xml:"ind1,attr"`
				Ind2    string `xml:"ind2,attr"`
				Value   string `xml:",chardata"`
				Subs    []struct {
					Code  string `xml:"code,attr"`
					Value string `xml:",chardata"`
				} `xml:"subfield"`
			} `xml:",any"`
		} `xml:"record"`
	}
	if err := xml.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out [][]string
	for _, r := range c.Records {
		var fs []string
		for _, f := range r.Fields {
			switch f.XMLName.Local {
			case "controlfield":
				fs = append(fs, f.Tag+" "+f.Value)
			case "datafield":
				s := f.Ind1 + f.Ind2
				for _, sf := range f.Subs {
					s += "$" + sf.Code + sf.Value
				}
				fs = append(fs, f.Tag+" "+s)
			}
		}
		out = append(out, fs)
	}
	return out
}

func csAllNFC(t *testing.T, name string, recs [][]string) {
	t.Helper()
	for i, r := range recs {
		for _, f := range r {
			if !norm.NFC.IsNormalString(f) {
				t.Errorf("%s record %d: %q is not NFC", name, i+1, f)
			}
		}
	}
}

// TestVietnameseTestdataBytes decodes each ISO 2709 export field by field
// with the charset its source is configured with and compares with the
// NFC MARCXML twin.
func TestVietnameseTestdataBytes(t *testing.T) {
	for _, f := range csVietnameseFiles {
		data, err := os.ReadFile(csVietnameseDir + f.name + ".mrc")
		if err != nil {
			t.Fatal(err)
		}
		raw := m8SplitISO2709(t, data)
		if len(raw) != f.records {
			t.Fatalf("%s: %d records, want %d", f.name, len(raw), f.records)
		}
		for i, r := range raw {
			if r.leader[9] != f.leader9 {
				t.Errorf("%s record %d: leader/09 %q, want %q", f.name, i+1, r.leader[9], f.leader9)
			}
		}
		// The files must keep the property they exist to test.
		switch f.name {
		case "vinh":
			if utf8.Valid(data) && norm.NFC.IsNormal(data) {
				t.Errorf("vinh.mrc is NFC; it should be NFD")
			}
			if !norm.NFD.IsNormal(data) {
				t.Errorf("vinh.mrc is not NFD")
			}
		case "dien-chau":
			if !bytes.Contains(data, []byte{0xE3, 0xE4, 'e'}) { // ễ: circumflex, tilde, e
				t.Errorf("dien-chau.mrc lacks MARC-8 stacked diacritics")
			}
		case "xa-nghi-loc":
			if !bytes.Contains(data, []byte{0xEA, 0xF2}) { // ệ: ê + combining dot below
				t.Errorf("xa-nghi-loc.mrc lacks Windows-1258 combining tone marks")
			}
		}
		got, _, warn := m8Fields(raw, f.cs)
		if len(warn) > 0 {
			t.Errorf("%s: warnings %q", f.name, warn)
		}
		want := csXMLRecords(t, csVietnameseDir+"src/"+f.name+".xml")
		csAllNFC(t, f.name, got)
		csAllNFC(t, f.name+" twin", want)
		m8CompareRecords(t, f.name, got, nil, want)
	}
}

// TestVietnameseTestdataMislabel shows why xa-nghi-loc needs its charset
// configured: read as the UTF-8 its leaders claim, it is invalid.
func TestVietnameseTestdataMislabel(t *testing.T) {
	data, err := os.ReadFile(csVietnameseDir + "xa-nghi-loc.mrc")
	if err != nil {
		t.Fatal(err)
	}
	_, _, warn := m8Fields(m8SplitISO2709(t, data), recordCharset(CharsetAuto, "00000nam a2200000 a 4500"))
	if len(warn) < 10 || !strings.Contains(warn[0], "invalid UTF-8") {
		t.Errorf("read as UTF-8: %d warnings %q; want many invalid UTF-8 warnings", len(warn), warn)
	}
}

// TestVietnameseTestdataYaz checks the exports with yaz-marcdump, an
// independent reader: it must decode each file to the NFC MARCXML twin.
func TestVietnameseTestdataYaz(t *testing.T) {
	dump := testpeer.Need(t, "yaz-marcdump")
	yazName := map[Charset]string{CharsetUTF8: "utf8", CharsetMARC8: "marc8", CharsetWindows1258: "windows-1258"}
	for _, f := range csVietnameseFiles {
		out, err := exec.Command(dump, "-f", yazName[f.cs], "-t", "utf8", "-o", "marc", csVietnameseDir+f.name+".mrc").Output()
		if err != nil {
			t.Fatalf("yaz-marcdump %s: %v", f.name, err)
		}
		got, _, warn := m8Fields(m8SplitISO2709(t, out), CharsetUTF8)
		if len(warn) > 0 {
			t.Errorf("%s: yaz output: %q", f.name, warn)
		}
		m8CompareRecords(t, f.name+" via yaz", got, nil, csXMLRecords(t, csVietnameseDir+"src/"+f.name+".xml"))
	}
	out, err := exec.Command(dump, "-i", "marcxml", "-o", "marc", csVietnameseDir+"na-tinh.xml").Output()
	if err != nil {
		t.Fatalf("yaz-marcdump na-tinh.xml: %v", err)
	}
	got, _, _ := m8Fields(m8SplitISO2709(t, out), CharsetUTF8)
	if len(got) != 13 {
		t.Errorf("na-tinh.xml: yaz read %d records, want 13", len(got))
	}
	m8CompareRecords(t, "na-tinh via yaz", got, nil, csXMLRecords(t, csVietnameseDir+"na-tinh.xml"))
}

// csReadAll reads every record of a stream, failing on any error.
func csReadAll(t *testing.T, name string, r WarningReader) ([]*Record, []Warning) {
	t.Helper()
	var recs []*Record
	var warns []Warning
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return recs, warns
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		recs = append(recs, rec)
		warns = append(warns, r.Warnings()...)
	}
}

// TestVietnameseTestdataReaders reads the exports through the package's
// readers, with each source's configured charset, and compares every field
// with the MARCXML twin read by the XML reader.
func TestVietnameseTestdataReaders(t *testing.T) {
	open := func(name string) *os.File {
		f, err := os.Open(csVietnameseDir + name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	for _, f := range csVietnameseFiles {
		got, warns := csReadAll(t, f.name, NewISO2709Reader(open(f.name+".mrc"), ReaderOptions{Source: f.name, Charset: f.cs}))
		if len(warns) > 0 {
			t.Errorf("%s: warnings %v", f.name, warns)
		}
		want, _ := csReadAll(t, f.name+" twin", NewXMLReader(open("src/"+f.name+".xml"), ReaderOptions{}))
		if len(got) != f.records || len(want) != f.records {
			t.Fatalf("%s: %d records, twin %d, want %d", f.name, len(got), len(want), f.records)
		}
		for i := range got {
			if len(got[i].Fields) != len(want[i].Fields) {
				t.Errorf("%s record %d: %d fields, twin %d", f.name, i+1, len(got[i].Fields), len(want[i].Fields))
				continue
			}
			for j, gf := range got[i].Fields {
				wf := want[i].Fields[j]
				g, w := csFieldString(gf), csFieldString(wf)
				if g != w {
					t.Errorf("%s record %d:\n got %s\nwant %s", f.name, i+1, g, w)
				}
				if !norm.NFC.IsNormalString(g) {
					t.Errorf("%s record %d: %s not NFC", f.name, i+1, g)
				}
			}
		}
	}
	recs, warns := csReadAll(t, "na-tinh.xml", NewXMLReader(open("na-tinh.xml"), ReaderOptions{}))
	if len(recs) != 13 || len(warns) > 0 {
		t.Errorf("na-tinh.xml: %d records (want 13), warnings %v", len(recs), warns)
	}
}

func csFieldString(f Field) string {
	if f.IsControl() {
		return f.Tag + " " + f.Value
	}
	s := f.Tag + " " + string([]byte{f.Ind1, f.Ind2})
	for _, sf := range f.Subfields {
		s += "$" + string(sf.Code) + sf.Value
	}
	return s
}

// TestVietnameseTestdataOverlap checks the material the deduplication
// tests rely on: every ISBN is valid, and the designed overlaps between the
// four libraries are present.
func TestVietnameseTestdataOverlap(t *testing.T) {
	byLib := map[string][][]string{"na-tinh": csXMLRecords(t, csVietnameseDir+"na-tinh.xml")}
	for _, f := range csVietnameseFiles {
		byLib[f.name] = csXMLRecords(t, csVietnameseDir+"src/"+f.name+".xml")
	}
	isbnLibs := map[string]map[string]bool{}
	titles := map[string]int{}
	for lib, recs := range byLib {
		for _, r := range recs {
			for _, f := range r {
				if strings.HasPrefix(f, "020 ") {
					isbn := csISBN13(f)
					if isbn == "" {
						t.Errorf("%s: bad ISBN in %q", lib, f)
						continue
					}
					if isbnLibs[isbn] == nil {
						isbnLibs[isbn] = map[string]bool{}
					}
					isbnLibs[isbn][lib] = true
				}
				if strings.HasPrefix(f, "245 ") {
					title, _, _ := strings.Cut(strings.TrimPrefix(f[6:], "$a"), " /")
					titles[strings.TrimSpace(title)]++
				}
			}
		}
	}
	shared := 0
	for _, libs := range isbnLibs {
		if len(libs) > 1 {
			shared++
		}
	}
	// Truyện Kiều, Lục Vân Tiên, Số đỏ, Tắt đèn, Dế Mèn, Nhật ký trong tù,
	// Nỗi buồn chiến tranh, Cho tôi xin..., Thủy hử, Chiến tranh và hòa bình.
	if shared != 10 {
		t.Errorf("%d ISBNs held by more than one library, want 10", shared)
	}
	if len(isbnLibs["9786042140270"]) != 3 {
		t.Errorf("Dế Mèn phiêu lưu ký held by %v, want three libraries", isbnLibs["9786042140270"])
	}
	// Look-alikes: same title, another edition or volume.
	if titles["Truyện Kiều"] != 3 {
		t.Errorf("Truyện Kiều catalogued %d times, want 3 (two editions)", titles["Truyện Kiều"])
	}
	// Old and new tone placement of the same title.
	for _, pair := range [][2]string{{"Thủy hử.$nTập 1", "Thuỷ hử.$nTập 1"}, {"Chiến tranh và hòa bình.$nTập 1", "Chiến tranh và hoà bình.$nTập 1"}} {
		if titles[pair[0]] == 0 || titles[pair[1]] == 0 {
			t.Errorf("want both %q and %q among titles", pair[0], pair[1])
		}
	}
}

// csISBN13 extracts the ISBN-13 from a rendered 020 field if its check
// digit is right.
func csISBN13(f string) string {
	_, a, ok := strings.Cut(f, "$a")
	if !ok {
		return ""
	}
	var d []byte
	for _, c := range []byte(a) {
		if c >= '0' && c <= '9' {
			d = append(d, c)
		} else if c != '-' {
			break
		}
	}
	if len(d) != 13 {
		return ""
	}
	sum := 0
	for i, c := range d[:12] {
		sum += int(c-'0') * (1 + 2*(i%2))
	}
	if (10-sum%10)%10 != int(d[12]-'0') {
		return ""
	}
	return string(d)
}

func FuzzIsPlainASCII(f *testing.F) {
	for _, s := range []string{"Truyen Kieu / Nguyen Du", "abcdefgh\x1b(B", "abcdefg\x01", "abcdefghi\x7f\x80", "\t\n\r abcdefgh"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := isPlainASCII(b), plainBytes(b); got != want {
			t.Fatalf("isPlainASCII(%q) = %v, want %v", b, got, want)
		}
	})
}

package marc

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/vnortho"
)

func rwSeedFiles(f *testing.F, patterns ...string) {
	for _, pat := range patterns {
		m, err := filepath.Glob(rwTestdata("marc", pat))
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range m {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			if len(data) > 64<<10 {
				continue // keep the fuzzer fast
			}
			f.Add(data)
		}
	}
}

// rwCheckRecord asserts what every reader promises about a record.
func rwCheckRecord(t *testing.T, rec *Record) {
	t.Helper()
	if len(rec.Leader) != LeaderLen || rec.Leader[9] != 'a' {
		t.Fatalf("leader %q", rec.Leader)
	}
	text := func(s string) {
		if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) {
			t.Fatalf("text %q is not NFC UTF-8", s)
		}
	}
	text(rec.Leader)
	for _, f := range rec.Fields {
		if len(f.Tag) != 3 {
			t.Fatalf("tag %q", f.Tag)
		}
		text(f.Tag)
		text(f.Value)
		for _, sf := range f.Subfields {
			if sf.Code <= 0x20 || sf.Code >= 0x7F {
				t.Fatalf("code %q", sf.Code)
			}
			text(sf.Value)
		}
	}
}

// rwReadLoop reads r to the end; each call must make progress.
func rwReadLoop(t *testing.T, r WarningReader, limit int) []*Record {
	t.Helper()
	var recs []*Record
	for i := 0; ; i++ {
		if i > limit {
			t.Fatalf("more than %d results from %d bytes of input", limit, limit)
		}
		rec, err := r.Next()
		if err == io.EOF {
			return recs
		}
		var re *RecordError
		if errors.As(err, &re) {
			if rec != nil || re.Index < 1 || re.Offset < 0 {
				t.Fatalf("bad record error %+v", re)
			}
			continue
		}
		if err != nil {
			if _, err2 := r.Next(); err2 == nil {
				t.Fatalf("reader goes on after fatal error %v", err)
			}
			return recs
		}
		rwCheckRecord(t, rec)
		recs = append(recs, rec)
	}
}

// rwCheckRoundTrips writes rec as ISO 2709 and as MARCXML and reads each
// back as what it is, UTF-8, and, when its text holds no junk, with
// detection too. (Text a first reading left with junk, such as a stray
// combining mark, may be read better the second time: no reading is
// promised to be the last.)
func rwCheckRoundTrips(t *testing.T, rec *Record, viaISO bool) {
	t.Helper()
	settings := []ReaderOptions{{Charset: CharsetUTF8}}
	if rwNoJunk(rec) {
		settings = append(settings, ReaderOptions{})
	}
	for _, opts := range settings {
		if viaISO {
			out, err := EncodeISO2709(rec)
			switch {
			case errors.Is(err, ErrTooLong):
			case err != nil:
				t.Fatalf("record read cannot be written: %v", err)
			default:
				back, err := NewISO2709Reader(bytes.NewReader(out), opts).Next()
				if err != nil {
					t.Fatalf("written record does not read back: %v\n%q", err, out)
				}
				if d := rwSameRecord(back, rec); d != "" {
					t.Fatalf("ISO 2709 round trip (charset %q): %s\n%q", opts.Charset, d, out)
				}
			}
		}
		x, warns := AppendMARCXML(nil, rec, true)
		back, err := NewXMLReader(bytes.NewReader(x), opts).Next()
		if err != nil {
			t.Fatalf("MARCXML written does not read back: %v\n%s", err, x)
		}
		if len(warns) == 0 {
			if d := rwSameRecord(back, rec); d != "" {
				t.Fatalf("MARCXML round trip (charset %q): %s\n%s", opts.Charset, d, x)
			}
		}
	}
}

// rwNoJunk reports whether no text of rec holds junk (vnortho.Score).
func rwNoJunk(rec *Record) bool {
	for _, f := range rec.Fields {
		if vnortho.Measure(f.Value).Junk > 0 {
			return false
		}
		for _, sf := range f.Subfields {
			if vnortho.Measure(sf.Value).Junk > 0 {
				return false
			}
		}
	}
	return true
}

func FuzzISO2709Reader(f *testing.F) {
	rwSeedFiles(f, "yaz/*.marc", "openlibrary/*.mrc", "zebra/*.mrc")
	f.Add(rwSampleRecord("F1"))
	f.Add(append(rwSampleRecord("F1"), "\r\n00026nam a2200025 a 4500\x1e\x1d"...))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := rwReadLoop(t, NewISO2709Reader(bytes.NewReader(data), ReaderOptions{}), len(data)+1)
		for _, rec := range recs {
			// A 00X field of indicators and empty delimiters alone is
			// read as a data field without subfields, which ISO 2709
			// writes as a control field.
			rwCheckRoundTrips(t, rec, rwISORepresentable(rec))
		}
		// The same bytes through a forced single-byte charset.
		rwReadLoop(t, NewISO2709Reader(bytes.NewReader(data), ReaderOptions{Charset: CharsetWindows1258}), len(data)+1)
	})
}

// rwISORepresentable reports whether ISO 2709 keeps rec's structure: a
// controlfield with a data tag, or a 00X datafield without subfields, read
// from MARCXML cannot come back the same.
func rwISORepresentable(rec *Record) bool {
	for _, f := range rec.Fields {
		if isControlLayout(&f) != (IsControlTag(f.Tag) && len(f.Subfields) == 0) {
			return false
		}
		if IsControlTag(f.Tag) && len(f.Subfields) == 0 && (f.Ind1 != 0 || f.Ind2 != 0) {
			return false
		}
		// An empty controlfield with a data tag has no indicators; ISO
		// 2709 gives every data field two (blanks).
		if !isControlLayout(&f) && len(f.Subfields) == 0 && (f.Ind1 == 0 || f.Ind2 == 0) {
			return false
		}
	}
	return true
}

func FuzzXMLReader(f *testing.F) {
	rwSeedFiles(f, "recordmanager/marc[0-9].xml", "recordmanager/marc_*.xml")
	f.Add([]byte(`<collection xmlns="http://www.loc.gov/MARC21/slim"><record>` + rwRecA + `</record></collection>`))
	f.Add([]byte(`<a><record><x/></record><m:record xmlns:m="http://www.loc.gov/MARC21/slim"><m:leader>x</m:leader><!--c--><![CDATA[y]]></m:record></a>`))
	f.Add([]byte("<?xml version='1.0' encoding='windows-1258'?><record><leader>\xea\xec</leader></record>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := rwReadLoop(t, NewXMLReader(bytes.NewReader(data), ReaderOptions{}), len(data)+1)
		for _, rec := range recs {
			rwCheckRoundTrips(t, rec, rwISORepresentable(rec))
		}
		// Records reused (their lent arrays hold the last ones) read the same.
		reused := NewXMLReader(bytes.NewReader(data), ReaderOptions{ReuseRecords: true})
		for i := 0; ; {
			rec, err := reused.Next()
			if err == io.EOF || err != nil && !errors.As(err, new(*RecordError)) {
				if i != len(recs) {
					t.Fatalf("reusing records: %d records, %d without", i, len(recs))
				}
				break
			}
			if err != nil {
				continue
			}
			if i >= len(recs) || !reflect.DeepEqual(rec, recs[i]) {
				t.Fatalf("reusing records: record %d differs: %+v", i+1, rec)
			}
			i++
		}
	})
}

// FuzzIsUTF8NFC checks the readers' fast NFC test against x/text/norm.
func FuzzIsUTF8NFC(f *testing.F) {
	for _, s := range []string{"abc", "e\u0301", "\u00e9", "Nghệ An", "Nghe\u0323\u0302", "海豚绘本", "\u0627\u0653",
		"\u1100\u1161", "\uac00\u11a8", "a\u0323\u0300", "a\u0300\u0323", "\uf900", "\U0001F600\u0301", "\xff", "\xed\xa0\x80",
		// ASCII runs of 8, 9, 40 and 41 bytes before a combining mark or a character beyond ASCII
		"abcdefge\u0301", "abcdefghe\u0301", strings.Repeat("abcd", 10) + "\u0301", strings.Repeat("abcd", 10) + "e\u0301x",
		"Nguy\u1ec5n Du, 1765-1820. Truy\u1ec7n Ki\u1ec1u", strings.Repeat("x", 33) + "\xff", strings.Repeat("x", 41) + "\xff"} {
		f.Add([]byte(s))
	}
	var it norm.Iter
	f.Fuzz(func(t *testing.T, b []byte) {
		want := utf8.Valid(b) && norm.NFC.IsNormal(b)
		got, high := checkUTF8NFC(&it, b)
		if got != want {
			t.Fatalf("isUTF8NFC(%q) = %v, want %v", b, got, want)
		}
		if wantHigh := firstHigh(b); got && high != wantHigh {
			t.Fatalf("checkUTF8NFC(%q): first byte beyond ASCII at %d, want %d", b, high, wantHigh)
		}
	})
}

// firstHigh is where b's first byte beyond ASCII is, len(b) if none.
func firstHigh(b []byte) int {
	for i, c := range b {
		if c >= utf8.RuneSelf {
			return i
		}
	}
	return len(b)
}

func TestIsUTF8NFCScripts(t *testing.T) {
	var it norm.Iter
	for _, s := range []string{"Nghệ An", "Truyện Kiều", "ĐẠI VIỆT SỬ KÝ", "海豚绘本", "Ελληνικά", "العربية", "हिन्दी", "தமிழ்", "한국어", "ｶﾀｶﾅ"} {
		for _, form := range []norm.Form{norm.NFC, norm.NFD, norm.NFKC} {
			x := form.String(s)
			want := norm.NFC.IsNormalString(x)
			if got := isUTF8NFC(&it, []byte(x)); got != want {
				t.Errorf("%q: %v, want %v", x, got, want)
			}
		}
	}
	if !isUTF8NFC(&it, []byte(strings.Repeat("a", 100)+"ệ")) {
		t.Error("ASCII then Vietnamese")
	}
}

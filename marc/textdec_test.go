package marc

import (
	"bytes"
	"os"
	"reflect"
	"testing"
)

// allReadings are every reading the detector and the charset settings
// make.
var allReadings = func() []reading {
	var rds []reading
	for _, cs := range []Charset{CharsetUTF8, CharsetMARC8, CharsetWindows1258, CharsetLatin1, CharsetTCVN3, CharsetVNI, CharsetDoubleUTF8} {
		rds = append(rds, reading{cs: cs}, reading{cs: cs, via: true})
	}
	return rds
}()

// checkDecoder compares textDecoder with the plain converters for every
// reading of b: the same text, the same warnings, and ok exactly when
// there are none.
func checkDecoder(t *testing.T, d *textDecoder, b []byte) {
	t.Helper()
	for _, rd := range allReadings {
		want, wantWarn := readingRef(rd, b, false)
		got, warn := d.convert(rd, b)
		if got != want || !reflect.DeepEqual(warn, wantWarn) {
			t.Fatalf("%+v % X: %+q %q, want %+q %q", rd, b, got, warn, want, wantWarn)
		}
		// After text a mark could join: the reading must not.
		out, ok := d.appendReading([]byte("xA"), rd, b, nil)
		if string(out) != "xA"+want || ok != (len(wantWarn) == 0) {
			t.Fatalf("%+v % X quiet: %+q %v, want %+q with warnings %q", rd, b, out, ok, want, wantWarn)
		}
	}
}

// TestTextDecoderFiles: every subfield of every test file, read every way.
func TestTextDecoderFiles(t *testing.T) {
	var d textDecoder
	n := 0
	for _, c := range pinCases(t) {
		if c.cs != CharsetAuto || c.f != FormatISO2709 {
			continue
		}
		data := c.data
		for len(data) > 0 {
			end := bytes.IndexByte(data, recordTerminator)
			if end < 0 {
				end = len(data) - 1
			}
			for _, p := range bytes.FieldsFunc(data[:end], func(r rune) bool { return r == fieldTerminator || r == subfieldDelim }) {
				checkDecoder(t, &d, p)
				n++
			}
			data = data[end+1:]
		}
	}
	if n < 10000 {
		t.Errorf("only %d pieces of text tried", n)
	}
}

func TestSingleByteTable(t *testing.T) {
	for r := rune(0); r < 0x110000; r++ {
		want, wok := singleByteRef[r]
		if got, ok := singleByteOf(r); got != want || ok != wok {
			t.Fatalf("singleByteOf(%U) = %X %v, want %X %v", r, got, ok, want, wok)
		}
	}
}

func FuzzTextDecoder(f *testing.F) {
	for _, s := range []string{"Nguy\xea\xden Du", "Truy\xd6n Ki\xd2u", "Nguy\xe3\xe4en \x1b(NmOS", "Nguy\xe1\xbb n", latin1("ÑAÏI VIEÄT"),
		dtDouble(dtTitle), "A\xb8\xa2\xca", "\x1b$1!0", "\xf2\xe3o\xe8", "\xff\xfe\x81"} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile(rwTestdata("vietnamese", "encodings", "mixed.mrc")); err == nil {
		for _, p := range bytes.Split(data, []byte{fieldTerminator})[:40] {
			f.Add(p)
		}
	}
	var d textDecoder
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecoder(t, &d, b)
	})
}

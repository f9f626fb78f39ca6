package marc

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
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

// TestDetectorKeepsReadings: the detector keeps the readings it scores,
// each the text the first converters make (for every test file and the
// random records), and the reading it chooses for a field of the labelled
// set is among them, so that the reader need not decode it again.
func TestDetectorKeepsReadings(t *testing.T) {
	kept, missing, checked := 0, 0, 0
	for _, c := range pinCases(t) {
		if c.cs != CharsetAuto || c.f != FormatISO2709 {
			continue
		}
		labelled := strings.HasPrefix(c.name, "vietnamese/encodings/")
		r := newSequentialISO2709Reader(bytes.NewReader(c.data), ReaderOptions{})
		for {
			r.det.out = nil
			if _, err := r.Next(); err == io.EOF || err != nil && !errors.As(err, new(*RecordError)) {
				break
			}
			d := &r.det
			if d.out == nil {
				continue // not through the detector
			}
			for f := range d.out {
				for j := d.starts[f]; j < len(d.parts) && (f+1 == len(d.starts) || j < d.starts[f+1]); j++ {
					pt := d.read.parts[j]
					for slot, sp := range pt.texts {
						if sp.set == 0 {
							continue
						}
						rd := reading{cs: detectEncodings[slot/2], via: slot%2 == 1}
						want, warn := readingRef(rd, d.parts[j], false)
						if got := string(d.read.text[sp.a:sp.b]); got != want || (sp.set == 1) != (len(warn) == 0) {
							t.Fatalf("%s: %+v of %q kept as %q (%d), want %q %q", c.name, rd, d.parts[j], got, sp.set, want, warn)
						}
						checked++
					}
					if labelled && !isPlainASCII(d.parts[j]) && d.kinds[f] >= kindLegacy {
						if pt.texts[readingSlot(d.out[f])].set == 0 {
							missing++
						} else {
							kept++
						}
					}
				}
			}
		}
	}
	t.Logf("%d readings checked; labelled set: %d pieces of text kept, %d read again", checked, kept, missing)
	if missing > kept/100 {
		t.Errorf("%d pieces of text read again, %d kept", missing, kept)
	}
}

package marc

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The readers' output, field by field, with detection and with every
// charset setting, over every MARC file in testdata and a set of records
// of random legacy bytes, is pinned to the digests in
// testdata/detect-pin.golden: the output of the plain detector (every
// reading decoded with convertText and scored with vnortho.Measure, the
// chosen one decoded again). A faster detector must give the same text,
// the same warnings and the same Origin for every record.

var updatePin = flag.Bool("update-pin", false, "rewrite testdata/detect-pin.golden from the readers' output")

const pinGolden = "testdata/detect-pin.golden"

// pinCase is one file read with one charset setting.
type pinCase struct {
	name string
	data []byte
	f    Format
	cs   Charset
}

func pinCases(t *testing.T) []pinCase {
	var files []string
	for _, pat := range []string{"marc/*/*.mrc", "marc/*/*.marc", "marc/*/*.xml", "marc8/*.marc",
		"vietnamese/*.mrc", "vietnamese/*.xml", "vietnamese/src/*.xml", "vietnamese/encodings/*.mrc"} {
		m, err := filepath.Glob(rwTestdata(pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) < 100 {
		t.Fatalf("only %d test files found", len(files))
	}
	settings := []Charset{CharsetAuto, CharsetLabel}
	legacy := []Charset{CharsetUTF8, CharsetMARC8, CharsetWindows1258, CharsetLatin1, CharsetTCVN3, CharsetVNI, CharsetDoubleUTF8}
	var cases []pinCase
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := Sniff(data)
		name := filepath.ToSlash(strings.TrimPrefix(path, rwTestdata()+string(filepath.Separator)))
		cs := settings
		if strings.HasPrefix(name, "vietnamese/") {
			cs = append(cs, legacy...)
		}
		for _, c := range cs {
			cases = append(cases, pinCase{name, data, f, c})
		}
	}
	random := pinRandomRecords()
	for _, c := range append(settings, legacy...) {
		cases = append(cases, pinCase{"random", random, FormatISO2709, c})
	}
	return cases
}

// pinRandomRecords returns records whose fields are random mixtures of
// ASCII, high bytes, MARC-8 escapes and pieces of Vietnamese in every
// legacy form: what no real file holds, to reach the decoders' and the
// detector's odd corners. The generator is seeded; changing it changes
// the golden digests.
func pinRandomRecords() []byte {
	rng := rand.New(rand.NewPCG(16, 2026))
	pieces := []string{
		"Truy\xd6n Ki\xd2u", "Nguy\xd4n Du", "H\xb5 N\xe9i", "V\xa8n h\xe4c", // TCVN3
		latin1("Truyeän Kieàu"), latin1("Nguyeãn Du"), latin1("Haø Noäi"), latin1("ÑAÏI VIEÄT"), // VNI
		"Truy\xea\xf2n Ki\xea\xccu", "Nguy\xea\xden Du", "\xd0\xe3\xccng", // Windows-1258
		dtDouble(dtTitle), dtDouble(dtAuthor), dtDouble("Đại Việt sử ký"), // double-encoded
		"Nghe\xf2\xe3 An", "\xf2\xe3o", "\x1b(B\x1b)Ea", "\x1bb1\x1bs", "\x1b$1!0", "\xe8u", // MARC-8
		dtTitle, "Nghe\u0323\u0302 An", "a\u0301\u0323", "Société", "Straße", "海豚", // UTF-8
		"\x01\x02\x14", "A\xb8", "\xa2\xca", "\xff\xfe", "\xc3", "\xe2\x80", "\xc2\x81",
	}
	var out []byte
	for n := 0; n < 400; n++ {
		label := " a"[rng.IntN(2)]
		var fields []rwRawField
		fields = append(fields, rwRawField{"001", fmt.Sprintf("R%d", n)})
		for j, nf := 0, 1+rng.IntN(6); j < nf; j++ {
			var b []byte
			for k, np := 0, 1+rng.IntN(4); k < np; k++ {
				switch rng.IntN(4) {
				case 0:
					for m := rng.IntN(6); m > 0; m-- {
						b = append(b, byte(0x80+rng.IntN(0x80)))
					}
				case 1:
					b = append(b, " ,.:;/-'()"[rng.IntN(10)])
					b = append(b, "abcdeoyuADEGNOUY"[rng.IntN(16)])
				default:
					b = append(b, pieces[rng.IntN(len(pieces))]...)
				}
				if rng.IntN(3) == 0 {
					b = append(b, ' ')
				}
			}
			b = bytes.ReplaceAll(bytes.ReplaceAll(bytes.ReplaceAll(b, []byte{0x1d}, nil), []byte{0x1e}, nil), []byte{0x1f}, nil)
			fields = append(fields, rwRawField{fmt.Sprintf("%03d", 100+rng.IntN(700)), "1 \x1fa" + string(b) + "\x1fbx" + string(b[:len(b)/2])})
		}
		out = append(out, rwBuildISO("00000nam "+string(label)+"2200000 a 4500", fields...)...)
	}
	return out
}

// pinDigest reads a case and digests every record's fields, warnings,
// Origin and errors.
func pinDigest(t *testing.T, c pinCase) (string, int) {
	r := NewReader(bytes.NewReader(c.data), c.f, ReaderOptions{Charset: c.cs})
	recs, warns, errs := rwReadAll(t, r)
	h := sha256.New()
	for i, rec := range recs {
		fmt.Fprintf(h, "record %d %q\n", i, rec.Leader)
		for _, f := range rec.Fields {
			fmt.Fprintf(h, "%s %q %c%c", f.Tag, f.Value, f.Ind1, f.Ind2)
			for _, sf := range f.Subfields {
				fmt.Fprintf(h, " $%c%q", sf.Code, sf.Value)
			}
			fmt.Fprintln(h)
		}
		for _, w := range warns[i] {
			fmt.Fprintf(h, "warning %s\n", w)
		}
		if o := rec.Origin; o != nil {
			fmt.Fprintf(h, "origin %s %s %s %v %v %d %d %x %s\n", o.Encoding(), o.Charset, o.Label, o.Override, o.Mixed,
				o.Fields, o.Replaced, sha256.Sum256(o.Received), o.ReceivedFormat)
		}
	}
	for _, e := range errs {
		fmt.Fprintf(h, "error %v\n", e)
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:12]), len(recs)
}

func TestDetectionPinned(t *testing.T) {
	var got strings.Builder
	for _, c := range pinCases(t) {
		d, n := pinDigest(t, c)
		cs := c.cs
		if cs == "" {
			cs = "auto"
		}
		fmt.Fprintf(&got, "%s %s %d %s\n", c.name, cs, n, d)
	}
	if *updatePin {
		if err := os.WriteFile(pinGolden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(pinGolden)
	if err != nil {
		t.Fatal(err)
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(got.String(), "\n")
	if len(wl) != len(gl) {
		t.Fatalf("%d cases, the golden file has %d", len(gl)-1, len(wl)-1)
	}
	bad := 0
	for i := range wl {
		if wl[i] != gl[i] {
			bad++
			t.Errorf("output differs: %s\n\twas %s", gl[i], wl[i])
		}
	}
	t.Logf("%d cases pinned, %d differ", len(gl)-1, bad)
}

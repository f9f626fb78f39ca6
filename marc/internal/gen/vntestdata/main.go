// Command vntestdata builds the constructed Vietnamese test records in
// testdata/vietnamese from their hand-written sources, src/*.mrk (MarcEdit
// mnemonic text in NFC). Each source becomes one library's export in the
// encoding that library is meant to use:
//
//	src/na-tinh.mrk     -> na-tinh.xml      MARCXML, UTF-8 NFC
//	src/vinh.mrk        -> vinh.mrc         ISO 2709, UTF-8 NFD, leader/09 'a'
//	src/dien-chau.mrk   -> dien-chau.mrc    ISO 2709, MARC-8, leader/09 blank
//	src/xa-nghi-loc.mrk -> xa-nghi-loc.mrc  ISO 2709, Windows-1258, leader/09 'a'
//	                                        (mislabelled on purpose)
//
// and, for the three ISO 2709 files, src/<name>.xml: the same records as
// MARCXML in NFC, the text the decoders must reproduce.
//
// Usage, from the repository root:
//
//	go run ./marc/internal/gen/vntestdata -dir testdata/vietnamese
//
// It checks what it can while writing: NFC sources, 40-character 008s, ISBN
// check digits, and every character encodable in the target charset.
package main

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

type subfield struct {
	code  byte
	value string
}

type field struct {
	tag        string
	value      string // control fields
	ind1, ind2 byte
	subs       []subfield
}

type record struct {
	leader string
	fields []field
}

func isControl(tag string) bool { return strings.HasPrefix(tag, "00") }

// parseMRK reads MarcEdit mnemonic records: "=LDR  ...", "=TAG  value" or
// "=TAG  ii$aValue$bValue", with '\' for a blank indicator; records are
// separated by blank lines.
func parseMRK(name string, text string) ([]record, error) {
	if !norm.NFC.IsNormalString(text) {
		return nil, fmt.Errorf("%s: source is not NFC", name)
	}
	var recs []record
	var cur *record
	for n, line := range strings.Split(text, "\n") {
		at := fmt.Sprintf("%s:%d", name, n+1)
		if strings.TrimSpace(line) == "" {
			cur = nil
			continue
		}
		if len(line) < 6 || line[0] != '=' || line[4:6] != "  " {
			return nil, fmt.Errorf("%s: not a mnemonic line: %q", at, line)
		}
		tag, rest := line[1:4], line[6:]
		if tag == "LDR" {
			if len(rest) != 24 {
				return nil, fmt.Errorf("%s: leader is %d characters", at, len(rest))
			}
			recs = append(recs, record{leader: rest})
			cur = &recs[len(recs)-1]
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s: field before leader", at)
		}
		if isControl(tag) {
			if tag == "008" && len([]rune(rest)) != 40 {
				return nil, fmt.Errorf("%s: 008 is %d characters", at, len([]rune(rest)))
			}
			cur.fields = append(cur.fields, field{tag: tag, value: rest})
			continue
		}
		if len(rest) < 4 || rest[2] != '$' {
			return nil, fmt.Errorf("%s: data field needs two indicators and a subfield", at)
		}
		f := field{tag: tag, ind1: blank(rest[0]), ind2: blank(rest[1])}
		for _, s := range strings.Split(rest[3:], "$") {
			if s == "" {
				return nil, fmt.Errorf("%s: empty subfield", at)
			}
			f.subs = append(f.subs, subfield{s[0], s[1:]})
		}
		if tag == "020" {
			for _, s := range f.subs {
				if s.code == 'a' {
					if err := checkISBN(s.value); err != nil {
						return nil, fmt.Errorf("%s: %v", at, err)
					}
				}
			}
		}
		cur.fields = append(cur.fields, f)
	}
	return recs, nil
}

func blank(c byte) byte {
	if c == '\\' {
		return ' '
	}
	return c
}

// checkISBN verifies the ISBN-13 at the start of v (hyphens allowed, a
// qualifier may follow).
func checkISBN(v string) error {
	var d []int
	for _, c := range v {
		if c >= '0' && c <= '9' {
			d = append(d, int(c-'0'))
		} else if c != '-' {
			break
		}
	}
	if len(d) != 13 {
		return fmt.Errorf("ISBN %q: %d digits", v, len(d))
	}
	sum := 0
	for i, x := range d[:12] {
		sum += x * (1 + 2*(i%2))
	}
	if (10-sum%10)%10 != d[12] {
		return fmt.Errorf("ISBN %q: bad check digit", v)
	}
	return nil
}

// encoder turns NFC text into the bytes of a target charset.
type encoder func(string) ([]byte, error)

func utf8NFD(s string) ([]byte, error) { return []byte(norm.NFD.String(s)), nil }

// marc8Vietnamese encodes the Vietnamese repertoire (ASCII, Đ đ, Ơ ơ Ư ư
// and the combining marks Vietnamese uses) in MARC-8: ANSEL letters and
// diacritics, each diacritic before its base letter.
func marc8Vietnamese(s string) ([]byte, error) {
	letters := map[rune]byte{'Đ': 0xA3, 'đ': 0xB3, 'Ơ': 0xAC, 'Ư': 0xAD, 'ơ': 0xBC, 'ư': 0xBD}
	marks := map[rune]byte{0x0300: 0xE1, 0x0301: 0xE2, 0x0302: 0xE3, 0x0303: 0xE4, 0x0306: 0xE6, 0x0309: 0xE0, 0x0323: 0xF2}
	rs := []rune(norm.NFD.String(s))
	var out []byte
	for i := 0; i < len(rs); {
		base, j := rs[i], i+1
		var ms []rune
		for ; j < len(rs) && norm.NFD.PropertiesString(string(rs[j])).CCC() != 0; j++ {
			ms = append(ms, rs[j])
		}
		// The horn makes a spacing letter: o + U+031B is ơ (0xBC).
		if len(ms) > 0 && ms[0] == 0x031B {
			base = []rune(norm.NFC.String(string([]rune{base, 0x031B})))[0]
			ms = ms[1:]
		}
		for _, m := range ms {
			b, ok := marks[m]
			if !ok {
				return nil, fmt.Errorf("MARC-8: no diacritic for %U in %q", m, s)
			}
			out = append(out, b)
		}
		switch b, ok := letters[base]; {
		case ok:
			out = append(out, b)
		case base >= 0x20 && base < 0x7F:
			out = append(out, byte(base))
		default:
			return nil, fmt.Errorf("MARC-8: cannot encode %q in %q", base, s)
		}
		i = j
	}
	return out, nil
}

// cp1258 encodes in Windows-1258 the way Windows does: a letter the code
// page has precomposed is one byte; otherwise the base letter (with its
// circumflex, breve or horn, which the code page has) plus a combining tone
// mark byte.
func cp1258(s string) ([]byte, error) {
	cm := charmap.Windows1258
	var out []byte
	for _, r := range s {
		if b, ok := cm.EncodeRune(r); ok {
			out = append(out, b)
			continue
		}
		// Split off the five tone marks; the rest (circumflex, breve,
		// horn) compose with the base letter.
		var letter, tones []rune
		for _, m := range norm.NFD.String(string(r)) {
			switch m {
			case 0x0300, 0x0301, 0x0303, 0x0309, 0x0323:
				tones = append(tones, m)
			default:
				letter = append(letter, m)
			}
		}
		c := []rune(norm.NFC.String(string(letter)))
		if len(c) != 1 {
			return nil, fmt.Errorf("Windows-1258: cannot encode %q in %q", r, s)
		}
		base, ms := c[0], tones
		b, ok := cm.EncodeRune(base)
		if !ok {
			return nil, fmt.Errorf("Windows-1258: cannot encode %q in %q", r, s)
		}
		out = append(out, b)
		for _, m := range ms {
			b, ok := cm.EncodeRune(m)
			if !ok {
				return nil, fmt.Errorf("Windows-1258: cannot encode %U of %q", m, s)
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// iso2709 serialises records with leader/09 set to coding.
func iso2709(recs []record, enc encoder, coding byte) ([]byte, error) {
	var out bytes.Buffer
	for _, r := range recs {
		var dir, data bytes.Buffer
		for _, f := range r.fields {
			start := data.Len()
			if isControl(f.tag) {
				b, err := enc(f.value)
				if err != nil {
					return nil, err
				}
				data.Write(b)
			} else {
				data.WriteByte(f.ind1)
				data.WriteByte(f.ind2)
				for _, s := range f.subs {
					b, err := enc(s.value)
					if err != nil {
						return nil, err
					}
					data.WriteByte(0x1F)
					data.WriteByte(s.code)
					data.Write(b)
				}
			}
			data.WriteByte(0x1E)
			fmt.Fprintf(&dir, "%s%04d%05d", f.tag, data.Len()-start, start)
		}
		base := 24 + dir.Len() + 1
		total := base + data.Len() + 1
		if total > 99999 {
			return nil, fmt.Errorf("record %q too long", r.fields[0].value)
		}
		fmt.Fprintf(&out, "%05d%s%c%s%05d%s", total, r.leader[5:9], coding, r.leader[10:12], base, r.leader[17:])
		out.Write(dir.Bytes())
		out.WriteByte(0x1E)
		out.Write(data.Bytes())
		out.WriteByte(0x1D)
	}
	return out.Bytes(), nil
}

// marcXML writes records as a MARCXML collection in NFC, with leaders
// whose lengths are those of the UTF-8 ISO 2709 form.
func marcXML(recs []record) ([]byte, error) {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n")
	for _, r := range recs {
		iso, err := iso2709([]record{r}, func(s string) ([]byte, error) { return []byte(s), nil }, 'a')
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "  <record>\n    <leader>%s</leader>\n", iso[:24])
		for _, f := range r.fields {
			if isControl(f.tag) {
				fmt.Fprintf(&b, "    <controlfield tag=\"%s\">%s</controlfield>\n", f.tag, esc(f.value))
				continue
			}
			fmt.Fprintf(&b, "    <datafield tag=\"%s\" ind1=\"%c\" ind2=\"%c\">\n", f.tag, f.ind1, f.ind2)
			for _, s := range f.subs {
				fmt.Fprintf(&b, "      <subfield code=\"%c\">%s</subfield>\n", s.code, esc(s.value))
			}
			b.WriteString("    </datafield>\n")
		}
		b.WriteString("  </record>\n")
	}
	b.WriteString("</collection>\n")
	return b.Bytes(), nil
}

func main() {
	dir := flag.String("dir", "testdata/vietnamese", "directory holding src/*.mrk")
	flag.Parse()
	load := func(name string) []record {
		p := filepath.Join(*dir, "src", name+".mrk")
		text, err := os.ReadFile(p)
		if err != nil {
			log.Fatal(err)
		}
		recs, err := parseMRK(p, string(text))
		if err != nil {
			log.Fatal(err)
		}
		return recs
	}
	write := func(name string, data []byte, err error) {
		if err != nil {
			log.Fatalf("vntestdata: %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d bytes\n", name, len(data))
	}
	x, err := marcXML(load("na-tinh"))
	write("na-tinh.xml", x, err)
	for _, out := range []struct {
		name   string
		enc    encoder
		coding byte
	}{
		{"vinh", utf8NFD, 'a'},
		{"dien-chau", marc8Vietnamese, ' '},
		{"xa-nghi-loc", cp1258, 'a'},
	} {
		recs := load(out.name)
		iso, err := iso2709(recs, out.enc, out.coding)
		write(out.name+".mrc", iso, err)
		x, err := marcXML(recs)
		write(filepath.Join("src", out.name+".xml"), x, err)
	}
}

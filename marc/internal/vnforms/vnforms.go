// Package vnforms builds the constructed Vietnamese test records in the
// forms libraries export them in: it reads their hand-written sources
// (MarcEdit mnemonic text in NFC), encodes the text in a charset and
// writes ISO 2709 or MARCXML. The fixture generator (gen/vntestdata) and
// the tests that check the fixtures against the oracles share it.
package vnforms

import (
	"bytes"
	"encoding/xml"
	"fmt"
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

type Record struct {
	leader string
	fields []field
}

func isControl(tag string) bool { return strings.HasPrefix(tag, "00") }

// ParseMRK reads MarcEdit mnemonic records: "=LDR  ...", "=TAG  value" or
// "=TAG  ii$aValue$bValue", with '\' for a blank indicator; records are
// separated by blank lines.
func ParseMRK(name string, text string) ([]Record, error) {
	if !norm.NFC.IsNormalString(text) {
		return nil, fmt.Errorf("%s: source is not NFC", name)
	}
	var recs []Record
	var cur *Record
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
			recs = append(recs, Record{leader: rest})
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

// Encoder turns NFC text into the bytes of a target charset.
type Encoder func(string) ([]byte, error)

func UTF8NFD(s string) ([]byte, error) { return []byte(norm.NFD.String(s)), nil }

// MARC8Vietnamese encodes the Vietnamese repertoire (ASCII, Đ đ, Ơ ơ Ư ư
// and the combining marks Vietnamese uses) in MARC-8: ANSEL letters and
// diacritics, each diacritic before its base letter.
func MARC8Vietnamese(s string) ([]byte, error) {
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

// CP1258 encodes in Windows-1258 the way Windows does: a letter the code
// page has precomposed is one byte; otherwise the base letter (with its
// circumflex, breve or horn, which the code page has) plus a combining tone
// mark byte.
func CP1258(s string) ([]byte, error) {
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

// ISO2709 serialises records with leader/09 set to coding.
func ISO2709(recs []Record, enc Encoder, coding byte) ([]byte, error) {
	return ISO2709By(recs, func(int, int) Encoder { return enc }, func(int) byte { return coding })
}

// ISO2709By serialises records with an encoder per field (record index,
// field index) and a leader/09 per record.
func ISO2709By(recs []Record, enc func(rec, field int) Encoder, coding func(rec int) byte) ([]byte, error) {
	var out bytes.Buffer
	for ri, r := range recs {
		var dir, data bytes.Buffer
		for fi, f := range r.fields {
			start := data.Len()
			e := enc(ri, fi)
			if isControl(f.tag) {
				b, err := e(f.value)
				if err != nil {
					return nil, err
				}
				data.Write(b)
			} else {
				data.WriteByte(f.ind1)
				data.WriteByte(f.ind2)
				for _, s := range f.subs {
					b, err := e(s.value)
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
		fmt.Fprintf(&out, "%05d%s%c%s%05d%s", total, r.leader[5:9], coding(ri), r.leader[10:12], base, r.leader[17:])
		out.Write(dir.Bytes())
		out.WriteByte(0x1E)
		out.Write(data.Bytes())
		out.WriteByte(0x1D)
	}
	return out.Bytes(), nil
}

// Texts returns every text of the records (control field values and
// subfield values), for encoders that convert them in one batch.
func Texts(recs []Record) []string {
	var out []string
	for _, r := range recs {
		for _, f := range r.fields {
			if isControl(f.tag) {
				out = append(out, f.value)
			}
			for _, s := range f.subs {
				out = append(out, s.value)
			}
		}
	}
	return out
}

// MARCXML writes records as a MARCXML collection in NFC, with leaders
// whose lengths are those of the UTF-8 ISO 2709 form.
func MARCXML(recs []Record) ([]byte, error) {
	var b bytes.Buffer
	esc := func(s string) string {
		var e bytes.Buffer
		xml.EscapeText(&e, []byte(s))
		return e.String()
	}
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n")
	for _, r := range recs {
		iso, err := ISO2709([]Record{r}, func(s string) ([]byte, error) { return []byte(s), nil }, 'a')
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

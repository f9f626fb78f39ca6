package vnforms

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/internal/testpeer"
)

// Form is one way a library exports the labelled test records: the
// charset the text is in and what leader/09 claims.
type Form struct {
	Name   string
	Coding byte // leader/09
	Doc    string
}

// Forms are the forms of the labelled test set, in the order the mixed
// file cycles through them. Each legacy form is made by an oracle, never
// by unicat's own decoders run backwards.
var Forms = []Form{
	{"nfc", 'a', "UTF-8 NFC"},
	{"nfd", 'a', "UTF-8 NFD (decomposed)"},
	{"tcvn3-utf8", 'a', "TCVN3 as the npm package vietnamese-conversion writes it (capitals VN3 lacks: base letter + toned small letter), labelled UTF-8"},
	{"tcvn3-marc8", ' ', "TCVN3 as glibc iconv -t TCVN5712-1 writes it (capitals VN3 lacks: VN1's codes, some in C0), labelled MARC-8"},
	{"vni", ' ', "VNI-Windows as vietnamese-conversion writes it (ỷ ỹ Ỷ Ỹ as y+û, y+õ: see VNIFixups), labelled MARC-8"},
	{"windows-1258", 'a', "Windows-1258 as glibc iconv -t WINDOWS-1258 writes it (base letter + combining tone byte), labelled UTF-8"},
	{"utf-8-double", 'a', "UTF-8 read as Windows-1252 (glibc iconv; the five bytes it leaves undefined as the C1 controls of the same number) and written back as UTF-8"},
	{"marc-8", ' ', "MARC-8 (ANSEL letters and diacritics, written by MARC8Vietnamese)"},
}

// VNIFixups are the letters the oracle writes with another letter's bytes
// (ỷ as ë, ỹ as ì, which are VNI's ặ-mark and ì): they are written as
// VNI-Windows does in Unikey's and OpenKey's tables instead.
var VNIFixups = map[rune]string{'ỷ': "y\xfb", 'ỹ': "y\xf5", 'Ỷ': "Y\xdb", 'Ỹ': "Y\xd5"}

// Oracles are the independent converters the legacy forms come from.
type Oracles struct {
	vc    *testpeer.VNConv
	iconv string
}

// NewOracles finds node with vietnamese-conversion and glibc's iconv.
func NewOracles(vc *testpeer.VNConv) (*Oracles, error) {
	iconv, err := exec.LookPath("iconv")
	if err != nil {
		return nil, err
	}
	return &Oracles{vc: vc, iconv: iconv}, nil
}

// Encoder returns the encoder of form for the texts of recs: the oracles
// convert every text at once, the encoder looks the results up.
func (o *Oracles) Encoder(form string, recs []Record) (Encoder, error) {
	switch form {
	case "nfc":
		return func(s string) ([]byte, error) { return []byte(s), nil }, nil
	case "nfd":
		return UTF8NFD, nil
	case "marc-8":
		return MARC8Vietnamese, nil
	}
	texts := Texts(recs)
	var out [][]byte
	var err error
	switch form {
	case "tcvn3-utf8":
		out, err = o.vc.Encode("tcvn3", texts)
	case "vni":
		out, err = o.vni(texts)
	case "tcvn3-marc8":
		out, err = o.iconvEach("TCVN5712-1", texts)
	case "windows-1258":
		out, err = o.iconvEach("WINDOWS-1258", texts)
	case "utf-8-double":
		out, err = o.double(texts)
	default:
		return nil, fmt.Errorf("vnforms: unknown form %q", form)
	}
	if err != nil {
		return nil, fmt.Errorf("vnforms: %s: %w", form, err)
	}
	m := make(map[string][]byte, len(texts))
	for i, t := range texts {
		m[t] = out[i]
	}
	return func(s string) ([]byte, error) {
		b, ok := m[s]
		if !ok {
			return nil, fmt.Errorf("vnforms: %s: text %q was not converted", form, s)
		}
		return b, nil
	}, nil
}

// vni converts with the oracle, writing VNIFixups' letters itself.
func (o *Oracles) vni(texts []string) ([][]byte, error) {
	var pieces []string
	for _, t := range texts {
		pieces = append(pieces, splitFixups(t)...)
	}
	enc, err := o.vc.Encode("vni", pieces)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(texts))
	k := 0
	for i, t := range texts {
		var b []byte
		for _, p := range splitFixups(t) {
			if f, ok := VNIFixups[[]rune(p)[0]]; ok && len([]rune(p)) == 1 {
				b = append(b, f...)
			} else {
				b = append(b, enc[k]...)
			}
			k++
		}
		out[i] = b
	}
	return out, nil
}

// splitFixups cuts s around the letters of VNIFixups, each on its own.
func splitFixups(s string) []string {
	var out []string
	var cur strings.Builder
	for _, r := range s {
		if _, ok := VNIFixups[r]; ok {
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			out = append(out, string(r))
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 || len(out) == 0 {
		out = append(out, cur.String())
	}
	return out
}

// iconvEach converts every text with glibc iconv, in one run: the texts
// are joined by line feeds, which every charset here writes as 0x0A and
// no text holds.
func (o *Oracles) iconvEach(charset string, texts []string) ([][]byte, error) {
	for _, t := range texts {
		if strings.ContainsRune(t, '\n') {
			return nil, errors.New("a text holds a line feed")
		}
	}
	cmd := exec.Command(o.iconv, "-f", "UTF-8", "-t", charset)
	cmd.Stdin = strings.NewReader(norm.NFC.String(strings.Join(texts, "\n")))
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("iconv -t %s: %w", charset, err)
	}
	parts := bytes.Split(out, []byte{'\n'})
	if len(parts) != len(texts) {
		return nil, fmt.Errorf("iconv -t %s: %d texts back for %d", charset, len(parts), len(texts))
	}
	return parts, nil
}

// double reads each text's UTF-8 bytes as Windows-1252 (glibc's table,
// byte by byte) and writes the characters back as UTF-8.
func (o *Oracles) double(texts []string) ([][]byte, error) {
	var table [256]string
	for c := 0; c < 256; c++ {
		if c < 0x80 {
			table[c] = string(rune(c))
			continue
		}
		cmd := exec.Command(o.iconv, "-f", "CP1252", "-t", "UTF-8")
		cmd.Stdin = bytes.NewReader([]byte{byte(c)})
		out, err := cmd.Output()
		if err != nil {
			table[c] = string(rune(c)) // undefined: the C1 control, as Windows reads it
			continue
		}
		table[c] = string(out)
	}
	out := make([][]byte, len(texts))
	for i, t := range texts {
		var b []byte
		for _, c := range []byte(t) {
			b = append(b, table[c]...)
		}
		out[i] = b
	}
	return out, nil
}

// Build writes recs in one form as ISO 2709.
func Build(o *Oracles, form string, recs []Record) ([]byte, error) {
	f, ok := formNamed(form)
	if !ok {
		return nil, fmt.Errorf("vnforms: unknown form %q", form)
	}
	enc, err := o.Encoder(form, recs)
	if err != nil {
		return nil, err
	}
	return ISO2709(recs, enc, f.Coding)
}

func formNamed(name string) (Form, bool) {
	for _, f := range Forms {
		if f.Name == name {
			return f, true
		}
	}
	return Form{}, false
}

// MixedForms says how Mixed writes record i: its main form (Forms
// cycled), and for every third record a second form for its fields from
// 245 on (a record catalogued in one system and completed in another).
func MixedForms(i int) (main, rest Form) {
	main = Forms[i%len(Forms)]
	rest = main
	if i%3 == 2 {
		rest = Forms[(i+3)%len(Forms)]
	}
	return main, rest
}

// Mixed writes one file mixing the forms (see MixedForms); leader/09 is
// the main form's.
func Mixed(o *Oracles, recs []Record) ([]byte, error) {
	encs := map[string]Encoder{}
	for _, f := range Forms {
		e, err := o.Encoder(f.Name, recs)
		if err != nil {
			return nil, err
		}
		encs[f.Name] = e
	}
	return ISO2709By(recs, func(ri, fi int) Encoder {
		main, rest := MixedForms(ri)
		if recs[ri].fields[fi].tag >= "245" {
			return encs[rest.Name]
		}
		return encs[main.Name]
	}, func(ri int) byte {
		main, _ := MixedForms(ri)
		return main.Coding
	})
}

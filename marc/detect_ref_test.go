package marc

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/vnortho"
)

// decideRef is the detector's decision as first written: every sampled
// field read every way, the totals weighed. decide must reach the same
// readings, however it gets there.
func (d *detector) decideRef(label Charset) []reading {
	d.label = label
	n := len(d.starts)
	out := make([]reading, n)
	kinds := make([]fieldKind, n)
	for i := 0; i < n; i++ {
		out[i] = reading{cs: label}
		kinds[i] = classify(d.field(i))
		if kinds[i] == kindUnicode {
			out[i].cs = CharsetUTF8
		}
	}
	base := encodingIndex(label)
	for _, k := range []fieldKind{kindLegacy, kindBytes} {
		var totals [numEncodings]vnortho.Score
		var evs []fieldEvidence
		rest := -1
		for i := 0; i < n; i++ {
			if kinds[i] != k {
				continue
			}
			if len(evs) == sampleFields {
				rest = i
				break
			}
			ev := d.measure(i, k)
			evs = append(evs, ev)
			for e := range totals {
				totals[e].Add(ev.scores[e])
			}
		}
		if len(evs) == 0 {
			continue
		}
		rec := choose(&totals, base, k)
		for _, ev := range evs {
			e := choose(&ev.scores, rec, k)
			out[ev.field] = reading{cs: detectEncodings[e], via: ev.via[e]}
		}
		for i := rest; i >= 0 && i < n; i++ {
			if kinds[i] != k {
				continue
			}
			if rd, ok := d.clean(i, rec, k); ok {
				out[i] = rd
				continue
			}
			ev := d.measure(i, k)
			e := choose(&ev.scores, rec, k)
			out[i] = reading{cs: detectEncodings[e], via: ev.via[e]}
		}
	}
	return out
}

// checkDecideRef compares the readings the detector last decided with
// decideRef's.
func checkDecideRef(t *testing.T, d *detector, what string) bool {
	t.Helper()
	if d.out == nil || len(d.out) != len(d.starts) {
		return false // no decision since the last check
	}
	defer func() { d.out = nil }()
	got := append([]reading(nil), d.out...)
	want := d.decideRef(d.label)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: readings %+v, want %+v", what, got, want)
	}
	return true
}

// TestDecideRef: for every record of the test files and the random ones
// that goes through the detector, the readings decideRef gives.
func TestDecideRef(t *testing.T) {
	n := 0
	for _, c := range pinCases(t) {
		if c.cs != CharsetAuto {
			continue
		}
		if c.f == FormatMARCXML {
			r := newSequentialXMLReader(bytes.NewReader(c.data), ReaderOptions{})
			for {
				if _, err := r.Next(); err == io.EOF || err != nil && !errors.As(err, new(*RecordError)) {
					break
				}
				if checkDecideRef(t, &r.b.det, c.name) {
					n++
				}
			}
			continue
		}
		r := newSequentialISO2709Reader(bytes.NewReader(c.data), ReaderOptions{})
		for {
			if _, err := r.Next(); err == io.EOF {
				break
			}
			if checkDecideRef(t, &r.det, c.name) {
				n++
			}
		}
	}
	t.Logf("%d records decided", n)
	if n < 900 {
		t.Errorf("only %d records went through the detector", n)
	}
}

// anyLegacyFieldRef is the ISO 2709 reader's test for a record to weigh
// (isoText.weigh), as first written: a part of a field that classifyPart
// finds legacy.
func anyLegacyFieldRef(rec []byte, ents []dirEntry) bool {
	for i := range ents {
		f := rec[ents[i].start:ents[i].end]
		if isASCIIBytes(f) {
			continue
		}
		for j, p := range bytes.Split(f, []byte{subfieldDelim}) {
			if j > 0 && len(p) > 0 {
				p = p[1:]
			}
			if !isASCIIBytes(p) && classifyPart(p) == kindLegacy {
				return true
			}
		}
	}
	return false
}

// classifyPartRef is classifyPart as first written.
func classifyPartRef(p []byte) fieldKind {
	if !utf8.Valid(p) {
		return kindBytes
	}
	vietnamese := true
	for _, r := range string(p) {
		if r < 0x18 && tcvn3Low[byte(r)] != 0 {
			return kindBytes
		}
		if r >= utf8.RuneSelf {
			if _, ok := singleByteRef[r]; !ok {
				return kindUnicode
			}
			vietnamese = vietnamese && vnortho.Letter(r)
		}
	}
	if vietnamese {
		if sc := vnortho.Measure(string(p)); sc.Vietnamese > 0 && sc.Foreign == 0 && sc.Junk == 0 {
			return kindUnicode
		}
	}
	return kindLegacy
}

// FuzzWeighed: the ISO 2709 reader weighs a valid NFC UTF-8 record (its
// fields' readings decided by the detector) exactly when
// anyLegacyFieldRef says a part of it may be UTF-8 encoded twice, the
// field fuzzed as a data field and as a control field, after an ASCII one.
func FuzzWeighed(f *testing.F) {
	for _, s := range []string{"10\x1faTô Hoài\x1fb" + dtDouble("Hà Nội"), "\x1f", "\x1f\x1f", "", "\x1fa", dtDouble(dtTitle) + "\x1f",
		"10\x1faSociété\x1fcDie Straße", "\x1f\xc3\xa9", "abc\x01def", "\x14\xc3\xa9", "\xc3\xa9\x01", "T\xf4 Ho\xe0i",
		"1\xc3\xa9\x1faSociété", "\xc3\xa9", "00\x1faSociété", "10\x1faSociété – Paris"} {
		f.Add([]byte(s))
	}
	var it norm.Iter
	f.Fuzz(func(t *testing.T, field []byte) {
		if got, want := classifyPart(field), classifyPartRef(field); got != want {
			t.Fatalf("classifyPart(%q) = %v, want %v", field, got, want)
		}
		if bytes.ContainsAny(field, "\x1d\x1e") {
			return // not one field
		}
		for _, tag := range []string{"245", "005"} {
			raw := rwBuildISO("00000nam a2200000 a 4500", rwRawField{"001", "W1"}, rwRawField{tag, string(field)})
			end := len(raw) - 2 // the field terminator, then the record's
			want := anyLegacyFieldRef(raw, []dirEntry{{start: end - len(field), end: end}})
			r := newSequentialISO2709Reader(bytes.NewReader(raw), ReaderOptions{})
			if _, err := r.Next(); err != nil {
				continue
			}
			if ok, _ := checkUTF8NFC(&it, raw); ok && (r.det.out != nil) != want {
				t.Fatalf("%s %q: weighed %v, want %v", tag, field, r.det.out != nil, want)
			}
		}
	})
}

// anyLegacyRef is xmlRecBuilder.anyLegacy as first written: each field's
// parts given to the detector, and classify asked.
func (b *xmlRecBuilder) anyLegacyRef() bool {
	for i := range b.fields {
		d := &b.det
		d.reset()
		d.addField()
		b.addParts(&b.fields[i])
		if classify(d.field(0)) == kindLegacy {
			return true
		}
	}
	return false
}

// FuzzXMLAnyLegacy: anyLegacy answers as anyLegacyRef for a MARCXML
// record's valid UTF-8 text: each line of the input a field, a control
// field when it starts with "c", else a data field whose subfields the
// delimiters (0x1F) separate.
func FuzzXMLAnyLegacy(f *testing.F) {
	for _, s := range []string{"Tô Hoài\x1f" + dtDouble("Hà Nội"), "cSociété", "Société\x1fNguyễn", "Nguyễn\x1fSociété",
		"Société\x1f\x14é", "\x14é\x1fSociété", "abc\x1bdef\x1fé", "Thơ\nGarcía", "\x1f\x1f", "", "c", "Văn học\x1fThơ", "Société – Paris"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		if !utf8.Valid(text) {
			return // anyLegacy is asked of valid UTF-8 text only
		}
		b := &xmlRecBuilder{text: text}
		at := 0
		for _, line := range bytes.Split(text, []byte{'\n'}) {
			if len(line) > 0 && line[0] == 'c' {
				b.fields = append(b.fields, xfield{control: true, value: span{at + 1, at + len(line)}})
			} else {
				xf := xfield{sub0: len(b.subs)}
				p := at
				for _, part := range bytes.Split(line, []byte{subfieldDelim}) {
					b.subs = append(b.subs, xsub{code: 'a', val: span{p, p + len(part)}})
					p += len(part) + 1
				}
				xf.sub1 = len(b.subs)
				b.fields = append(b.fields, xf)
			}
			at += len(line) + 1
		}
		if got, want := b.anyLegacy(), b.anyLegacyRef(); got != want {
			t.Fatalf("anyLegacy(%q) = %v, want %v", text, got, want)
		}
	})
}

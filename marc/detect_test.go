package marc

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// Byte forms of "Truyện Kiều" / "Nguyễn Du" / "Hà Nội" / "Văn học".
const (
	dtTitle  = "Truyện Kiều /"
	dtAuthor = "Nguyễn Du."
	dtPlace  = "Hà Nội :"
	dtPub    = "Văn học,"
)

func dtDouble(s string) string { // UTF-8 read as Windows-1252 and written back
	var b strings.Builder
	for _, c := range []byte(s) {
		r := charmap.Windows1252.DecodeByte(c)
		if r == '\uFFFD' {
			r = rune(c) // Windows' reading of the five undefined bytes
		}
		b.WriteRune(r)
	}
	return b.String()
}

func dtRecord(label byte, title, author, place, pub string) []byte {
	leader := "00000nam " + string(label) + "2200000 a 4500"
	return rwBuildISO(leader,
		rwRawField{"001", "DT1"},
		rwRawField{"245", "10\x1fa" + title + "\x1fc" + author},
		rwRawField{"260", "  \x1fa" + place + "\x1fb" + pub + "\x1fc2015."})
}

func TestDetectForms(t *testing.T) {
	tcvn3 := []string{"Truy\xd6n Ki\xd2u /", "Nguy\xd4n Du.", "H\xb5 N\xe9i :", "V\xa8n h\xe4c,"}
	vni := []string{latin1("Truyeän Kieàu /"), latin1("Nguyeãn Du."), latin1("Haø Noäi :"), latin1("Vaên hoïc,")}
	cp1258 := []string{"Truy\xea\xf2n Ki\xea\xccu /", "Nguy\xea\xden Du.", "Ha\xcc N\xf4\xf2i :", "V\xe3n ho\xf2c,"}
	nfd := []string{norm.NFD.String(dtTitle), norm.NFD.String(dtAuthor), norm.NFD.String(dtPlace), norm.NFD.String(dtPub)}
	double := []string{dtDouble(dtTitle), dtDouble(dtAuthor), dtDouble(dtPlace), dtDouble(dtPub)}
	tests := []struct {
		name    string
		label   byte
		f       []string
		want    string // Origin.Encoding()
		wantLbl Charset
	}{
		{"UTF-8 NFC", 'a', []string{dtTitle, dtAuthor, dtPlace, dtPub}, "", ""},
		{"UTF-8 NFD", 'a', nfd, "utf-8-nfd", CharsetUTF8},
		{"TCVN3 labelled UTF-8", 'a', tcvn3, "tcvn3", CharsetUTF8},
		{"TCVN3 labelled MARC-8", ' ', tcvn3, "tcvn3", CharsetMARC8},
		{"VNI labelled MARC-8", ' ', vni, "vni", CharsetMARC8},
		{"VNI labelled UTF-8", 'a', vni, "vni", CharsetUTF8},
		{"Windows-1258 labelled UTF-8", 'a', cp1258, "windows-1258", CharsetUTF8},
		{"double-encoded UTF-8", 'a', double, "utf-8-double", CharsetUTF8},
		{"UTF-8 labelled MARC-8", ' ', []string{dtTitle, dtAuthor, dtPlace, dtPub}, "", ""},
		{"mixed: TCVN3 title, UTF-8 imprint", 'a', []string{tcvn3[0], tcvn3[1], dtPlace, dtPub}, "mixed", CharsetUTF8},
		{"mixed: TCVN3 and VNI fields", ' ', []string{tcvn3[0], tcvn3[1], vni[2], vni[3]}, "mixed", CharsetMARC8},
	}
	for _, tc := range tests {
		raw := dtRecord(tc.label, tc.f[0], tc.f[1], tc.f[2], tc.f[3])
		recs, _, errs := rwReadBytes(t, raw)
		if len(recs) != 1 || len(errs) != 0 {
			t.Fatalf("%s: %d records, %v", tc.name, len(recs), errs)
		}
		rec := recs[0]
		f245, f260 := rec.First("245"), rec.First("260")
		if f245.Sub('a') != dtTitle || f245.Sub('c') != dtAuthor || f260.Sub('a') != dtPlace || f260.Sub('b') != dtPub {
			t.Errorf("%s: read %q %q %q %q", tc.name, f245.Sub('a'), f245.Sub('c'), f260.Sub('a'), f260.Sub('b'))
		}
		if tc.want == "" {
			if rec.Origin != nil && tc.label == 'a' {
				t.Errorf("%s: Origin %+v for text needing no change", tc.name, rec.Origin)
			}
			continue
		}
		o := rec.Origin
		if o == nil {
			t.Errorf("%s: no Origin", tc.name)
			continue
		}
		if tc.want == "utf-8-nfd" {
			// The same characters: nothing to keep.
			if o.Received != nil || o.Label != CharsetUTF8 {
				t.Errorf("%s: received %d bytes, label %s", tc.name, len(o.Received), o.Label)
			}
			continue
		}
		if o.Encoding() != tc.want || o.Label != tc.wantLbl || o.Override || !bytes.Equal(o.Received, raw) || o.ReceivedFormat != FormatISO2709 {
			t.Errorf("%s: Origin %s label %s override %v, received %d bytes of %d", tc.name, o.Encoding(), o.Label, o.Override, len(o.Received), len(raw))
		}
		// What was received reads back to the same record.
		again, err := DecodeISO2709(o.Received, ReaderOptions{})
		if err != nil || again.First("245").Sub('a') != dtTitle || again.Origin.Encoding() != tc.want {
			t.Errorf("%s: received bytes read back as %v %v", tc.name, again, err)
		}
	}
}

// TestDetectKeeps: text in other languages keeps the reading its label
// gives, even where a legacy reading would make a Vietnamese syllable.
func TestDetectKeeps(t *testing.T) {
	for _, tc := range []struct {
		label byte
		title string
		want  string
	}{
		{'a', "Die Straße nach München", "Die Straße nach München"},
		{'a', "Société des gens de lettres à Paris", "Société des gens de lettres à Paris"},
		{'a', "Kuo chia ti chen chü", "Kuo chia ti chen chü"},         // chü read as TCVN3 would be chỹ
		{'a', "Ung på ö", "Ung på ö"},                                 // through TCVN3: Ung pồ ử, all syllables
		{' ', "Soci\xe2et\xe2e g\xe2en\xe2erale", "Société générale"}, // MARC-8
		{' ', "M\xe8uller, J\xe8urgen", "Müller, Jürgen"},             // MARC-8 umlaut
		{'a', "abc\xffdef", "abc\uFFFDdef"},                           // no reading gives it a meaning
		{'a', "Soci\xe9t\xe9 g\xe9n\xe9rale", "Société générale"},     // Latin-1 bytes labelled UTF-8: rescued
	} {
		raw := rwBuildISO("00000nam "+string(tc.label)+"2200000 a 4500", rwRawField{"245", "10\x1fa" + tc.title})
		recs, _, _ := rwReadBytes(t, raw)
		if got := recs[0].First("245").Sub('a'); got != tc.want {
			t.Errorf("%q (leader/09 %q) read as %q, want %q", tc.title, tc.label, got, tc.want)
		}
	}
}

// TestDetectTwoSyllables: valid UTF-8 with no junk in it and two
// syllables in another reading stays as it came (prefers): a Chinese name
// in 100 and 245$c (Yü, which reads Ỹ through TCVN3; the bench corpus has
// it from a real record), and, the price, UTF-8 encoded twice with no
// junk (LÃª VÄƒn) alone; beside a title encoded twice too, whose junk
// shows what happened, that is repaired.
func TestDetectTwoSyllables(t *testing.T) {
	double := dtDouble("Lê Văn") // LÃª VÄƒn: letters only
	for _, tc := range []struct {
		name, title, want string
	}{
		{"Yü, Tsu-yao,", "Principles of rice farming /\x1fcTsu-yao Yü.", "Yü, Tsu-yao,"},
		{double, "", double},
		{double, dtDouble(dtTitle), "Lê Văn"},
	} {
		fields := []rwRawField{{"001", "X1"}, {"100", "1 \x1fa" + tc.name}}
		if tc.title != "" {
			fields = append(fields, rwRawField{"245", "10\x1fa" + tc.title})
		}
		recs, _, _ := rwReadBytes(t, rwBuildISO("00000nam a2200000 a 4500", fields...))
		if got := recs[0].First("100").Sub('a'); got != tc.want {
			t.Errorf("%q with title %q read as %q, want %q", tc.name, tc.title, got, tc.want)
		}
	}
}

// TestDetectOverride: a charset setting overrides detection, and
// CharsetLabel trusts leader/09 alone.
func TestDetectOverride(t *testing.T) {
	raw := dtRecord('a', "Truy\xd6n Ki\xd2u /", "Nguy\xd4n Du.", "H\xb5 N\xe9i :", "V\xa8n h\xe4c,")
	rec, err := DecodeISO2709(raw, ReaderOptions{Charset: CharsetTCVN3})
	if err != nil || rec.First("245").Sub('a') != dtTitle || rec.Origin == nil || !rec.Origin.Override || rec.Origin.Label != CharsetTCVN3 {
		t.Fatalf("tcvn3 setting: %v %+v", err, rec)
	}
	rec, _ = DecodeISO2709(raw, ReaderOptions{Charset: CharsetLabel})
	if got := rec.First("245").Sub('a'); !strings.Contains(got, "\uFFFD") {
		t.Errorf("label setting read TCVN3 as %q, want replacement characters", got)
	}
	if rec.Origin == nil || rec.Origin.Encoding() != "utf-8-invalid" || rec.Origin.Replaced == 0 {
		t.Errorf("label setting: Origin %+v", rec.Origin)
	}
}

// TestDetectXML: MARCXML text is Unicode; TCVN3 bytes that went through
// Windows-1258 (a harvester's repair of bad UTF-8) or a document declared
// Windows-1252 are recognised, and the text as parsed is kept.
func TestDetectXML(t *testing.T) {
	via := func(cm *charmap.Charmap, b string) string {
		s, _ := cm.NewDecoder().String(b)
		return s
	}
	for _, tc := range []struct{ name, title, author, want string }{
		{"TCVN3 through Windows-1258", via(charmap.Windows1258, "Truy\xd6n Ki\xd2u /"), via(charmap.Windows1258, "Nguy\xd4n Du."), "tcvn3"},
		{"VNI through Windows-1252", via(charmap.Windows1252, latin1("Truyeän Kieàu /")), via(charmap.Windows1252, latin1("Nguyeãn Du.")), "vni"},
		{"double-encoded", dtDouble(dtTitle), dtDouble(dtAuthor), "utf-8-double"},
		{"NFC", dtTitle, dtAuthor, ""},
	} {
		doc := `<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader>` +
			`<controlfield tag="001">X1</controlfield><datafield tag="245" ind1="1" ind2="0"><subfield code="a">` +
			tc.title + `</subfield><subfield code="c">` + tc.author + `</subfield></datafield></record>`
		rec, err := NewXMLReader(strings.NewReader(doc), ReaderOptions{}).Next()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := rec.First("245").Sub('a'); got != dtTitle {
			t.Errorf("%s: title %q", tc.name, got)
		}
		if tc.want == "" {
			if rec.Origin != nil {
				t.Errorf("%s: Origin %+v", tc.name, rec.Origin)
			}
			continue
		}
		if rec.Origin == nil || rec.Origin.ReceivedFormat != FormatMARCXML || !bytes.Contains(rec.Origin.Received, []byte(tc.title)) {
			t.Fatalf("%s: Origin %+v", tc.name, rec.Origin)
		}
		if rec.Origin.Encoding() != tc.want {
			t.Errorf("%s: read as %s", tc.name, rec.Origin.Encoding())
		}
		again, err := DecodeISO2709(rec.Origin.Received, ReaderOptions{})
		if err != nil || again.First("245").Sub('a') != dtTitle {
			t.Errorf("%s: received frame reads back as %v %v", tc.name, again, err)
		}
	}
}

func FuzzDetect(f *testing.F) {
	for _, s := range []string{"Truy\xd6n Ki\xd2u", latin1("Truyeän"), dtDouble(dtTitle), "Soci\xe2et\xe2e", "\xff\xfe"} {
		f.Add([]byte(s), byte('a'))
	}
	f.Add([]byte("Truy\xd6n|Ki\xd2u|"+latin1("Nguyeãn")+"|Du|H\xb5 N\xe9i|V\xa8n h\xe4c"), byte(' '))
	f.Add([]byte(dtDouble(dtTitle)+"|"+dtDouble(dtAuthor)+"|abc\xe9|"+dtDouble(dtPlace)+"|"+dtDouble(dtPub)), byte('a'))
	f.Fuzz(func(t *testing.T, text []byte, label byte) {
		// '|' separates fields, so that some are sampled and some not.
		text = bytes.ReplaceAll(bytes.ReplaceAll(text, []byte{0x1e}, nil), []byte{0x1d}, nil)
		var fields []rwRawField
		for i, f := range bytes.Split(text, []byte("|")) {
			fields = append(fields, rwRawField{fmt.Sprintf("%03d", 245+i), "10\x1fa" + string(f)})
		}
		raw := rwBuildISO("00000nam "+string(label&0x7f|0x20)+"2200000 a 4500", fields...)
		r := &ISO2709Reader{window: window{buf: raw, end: len(raw), eof: true}}
		rec, err := r.Next()
		if err != nil {
			return
		}
		checkDecideRef(t, &r.det, "fuzz")
		for _, f := range rec.Fields {
			for _, sf := range f.Subfields {
				if !norm.NFC.IsNormalString(sf.Value) {
					t.Fatalf("not NFC: %q", sf.Value)
				}
			}
		}
		if rec.Origin != nil && rec.Origin.Received == nil {
			// Only normalised (an NFD accent, U+2001 to U+2003): the
			// characters are those received, and nothing is kept.
			if rec.Origin.Encoding() != "utf-8-nfd" {
				t.Fatalf("read as %s, and nothing received kept", rec.Origin.Encoding())
			}
			return
		}
		if rec.Origin != nil {
			if !bytes.Equal(rec.Origin.Received, raw) {
				t.Fatal("received bytes differ from the input")
			}
			again, err := DecodeISO2709(rec.Origin.Received, ReaderOptions{})
			if err != nil || len(again.Fields) != len(rec.Fields) {
				t.Fatalf("received bytes do not read back: %v", err)
			}
		}
	})
}

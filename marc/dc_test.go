package marc

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/unicat/unicat/internal/testpeer"
)

func TestToDC(t *testing.T) {
	got := ToDC(accFullRecord())
	want := DC{
		Title:       []string{"Truyện Kiều : bản chú giải. Tập 1", "Đoạn trường tân thanh"},
		Creator:     []string{"Nguyễn Du, 1765-1820"},
		Subject:     []string{"Văn học cổ điển -- Việt Nam -- Truyện thơ", "Truyện thơ", "895.9223"},
		Description: []string{"Đầu bìa sách ghi: Tủ sách Văn học cổ điển", "Truyện thơ lục bát <kinh điển> & được chú giải"},
		Publisher:   []string{"Văn học"},
		Contributor: []string{"Đào, Duy Anh, 1904-1988", "Hội Kiều học Việt Nam"},
		Date:        []string{"2019"},
		Type:        []string{"Text", "Thơ lục bát"},
		Format:      []string{"text/html"},
		Identifier:  []string{"urn:isbn:9786042123457", "http://thuvien.nghean.gov.vn/opac/123"},
		Language:    []string{"vie", "eng"},
		Relation:    []string{"Tủ sách Văn học cổ điển Việt Nam", "(VN-NaTV)000001"},
		Coverage:    []string{"Nghệ An (Việt Nam) -- Văn hóa"},
		Rights:      []string{"Hạn chế: chỉ đọc tại chỗ"},
	}
	if !reflect.DeepEqual(got, want) {
		gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
		for i := 0; i < gv.NumField(); i++ {
			if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
				t.Errorf("ToDC().%s = %q, want %q", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
			}
		}
	}
}

func TestToDCOtherFields(t *testing.T) {
	r := &Record{Leader: "00000nas a2200000 a 4500", Fields: []Field{
		accCtl("008", "250101c19959999vm mr p       0   a0vie d"),
		accField("022", '0', ' ', "a", "0866-708x"),
		accField("024", '7', ' ', "a", "10.1000/xyz123", "2", "doi"),
		accField("245", '0', '0', "a", "Tạp chí Văn học."),
		accField("264", ' ', '1', "a", "Hà Nội :", "b", "Viện Văn học,", "c", "1995-"),
		accField("340", ' ', ' ', "a", "giấy"),
		accField("530", ' ', ' ', "a", "Có bản điện tử."),
		accField("534", ' ', ' ', "p", "Nguyên bản:", "t", "Tạp chí Văn học (1960)."),
		accField("540", ' ', ' ', "a", "CC BY 4.0"),
		accField("648", ' ', '7', "a", "1945-1975."),
		accField("662", ' ', ' ', "a", "Việt Nam", "b", "Nghệ An", "d", "Vinh."),
		accField("720", ' ', ' ', "a", "Ban biên tập."),
		accField("786", '0', ' ', "t", "Văn học và đời sống", "o", "(VN-NaTV)42"),
	}}
	d := ToDC(r)
	checks := []struct {
		name      string
		got, want []string
	}{
		{"Identifier", d.Identifier, []string{"urn:issn:0866-708X", "10.1000/xyz123"}},
		{"Date", d.Date, []string{"1995"}},
		{"Type", d.Type, []string{"Text"}},
		{"Format", d.Format, []string{"giấy"}},
		{"Relation", d.Relation, []string{"Có bản điện tử", "Văn học và đời sống", "(VN-NaTV)42"}},
		{"Source", d.Source, []string{"Tạp chí Văn học (1960)", "Văn học và đời sống", "(VN-NaTV)42"}},
		{"Description", d.Description, []string{"Nguyên bản: Tạp chí Văn học (1960)"}},
		{"Rights", d.Rights, []string{"CC BY 4.0"}},
		{"Coverage", d.Coverage, []string{"1945-1975", "Việt Nam -- Nghệ An -- Vinh"}},
		{"Contributor", d.Contributor, []string{"Ban biên tập"}},
		{"Publisher", d.Publisher, []string{"Viện Văn học"}},
		{"Language", d.Language, []string{"vie"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("ToDC().%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestDCType(t *testing.T) {
	tests := []struct {
		leader string
		want   []string
	}{
		{"00000nam a2200000 a 4500", []string{"Text"}},
		{"00000ntm a2200000 a 4500", []string{"Text"}},
		{"00000ncm a2200000 a 4500", []string{"Text"}},
		{"00000nem a2200000 a 4500", []string{"StillImage"}},
		{"00000nkm a2200000 a 4500", []string{"StillImage"}},
		{"00000ngm a2200000 a 4500", []string{"MovingImage"}},
		{"00000nim a2200000 a 4500", []string{"Sound"}},
		{"00000njm a2200000 a 4500", []string{"Sound"}},
		{"00000nmm a2200000 a 4500", []string{"Software"}},
		{"00000nrm a2200000 a 4500", []string{"PhysicalObject"}},
		{"00000npc a2200000 a 4500", []string{"Collection"}},
		{"00000nac a2200000 a 4500", []string{"Text", "Collection"}},
		{"00000nom a2200000 a 4500", nil},
		{"00000n", nil},
	}
	for _, tt := range tests {
		if got := ToDC(&Record{Leader: tt.leader}).Type; !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ToDC(leader %q).Type = %q, want %q", tt.leader, got, tt.want)
		}
	}
}

// dcNasty holds values that must be escaped or filtered.
var dcNasty = DC{
	Title:       []string{`Tom & Jerry <"nhất"> 'tập' 1`, "a\x01b\x0bc\x7fd", "bad \xff\xfe bytes \uFFFE\uFFFF end", "line1\r\nline2\ttab"},
	Creator:     []string{"   "}, // blank: left out
	Description: []string{"]]> is fine in text"},
}

func TestDCAppendXMLSchema(t *testing.T) {
	xmllint := testpeer.Need(t, "xmllint")
	schema := filepath.Join("..", "testdata", "schemas", "oai_dc.xsd")
	docs := map[string]DC{
		"full":  ToDC(accFullRecord()),
		"empty": ToDC(&Record{}),
		"nasty": dcNasty,
	}
	dir := t.TempDir()
	for name, d := range docs {
		out := append([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"), d.AppendXML(nil, RootOAIDC, true)...)
		path := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(xmllint, "--noout", "--nonet", "--schema", schema, path)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: oai_dc output does not validate: %v\n%s\n%s", name, err, msg, out)
		}
	}
	// A document that breaks the schema must fail, or the check above
	// proves nothing.
	bad := filepath.Join(dir, "bad.xml")
	broken := strings.Replace(string(ToDC(accFullRecord()).AppendXML(nil, RootOAIDC, true)), "dc:title", "dc:titel", 2)
	if err := os.WriteFile(bad, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(xmllint, "--noout", "--nonet", "--schema", schema, bad).Run(); err == nil {
		t.Errorf("xmllint accepted an invalid oai_dc document")
	}
}

// dcElem is one decoded child of the DC root.
type dcElem struct {
	Space, Local, Text string
}

// decodeDC parses a DC document, returning the root name and the children.
func decodeDC(t *testing.T, doc []byte) (xml.Name, []dcElem) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var root xml.Name
	var out []dcElem
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("decode %s: %v", doc, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 1:
				root = tk.Name
			case 2, 3:
				if depth == 3 {
					t.Fatalf("nested element %v in %s", tk.Name, doc)
				}
				out = append(out, dcElem{Space: tk.Name.Space, Local: tk.Name.Local})
			}
		case xml.CharData:
			if depth == 2 {
				out[len(out)-1].Text += string(tk)
			}
		case xml.EndElement:
			depth--
		}
	}
	return root, out
}

func TestDCAppendXMLSRU(t *testing.T) {
	d := ToDC(accFullRecord())
	prefix := []byte("<!-- kept -->")
	doc := d.AppendXML(prefix, RootSRWDC, true)
	if !bytes.HasPrefix(doc, prefix) {
		t.Fatalf("AppendXML lost dst's content")
	}
	s := string(doc)
	for _, want := range []string{
		`<srw_dc:dc xmlns:srw_dc="info:srw/schema/1/dc-schema"`,
		`xmlns:dc="http://purl.org/dc/elements/1.1/"`,
		`xsi:schemaLocation="info:srw/schema/1/dc-schema http://www.loc.gov/standards/sru/recordSchemas/dc-schema.xsd"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("srw_dc output lacks %s:\n%s", want, s)
		}
	}
	root, elems := decodeDC(t, doc)
	if root.Space != NamespaceSRWDC || root.Local != "dc" {
		t.Errorf("root = %v", root)
	}
	checkDCElems(t, d, elems)
}

// checkDCElems compares decoded elements with d, in DCMES order.
func checkDCElems(t *testing.T, d DC, elems []dcElem) {
	t.Helper()
	var want []dcElem
	v := reflect.ValueOf(d)
	for i := 0; i < v.NumField(); i++ {
		for _, s := range v.Field(i).Interface().([]string) {
			if strings.TrimSpace(s) == "" {
				continue
			}
			want = append(want, dcElem{NamespaceDC, strings.ToLower(v.Type().Field(i).Name), xmlChars(s)})
		}
	}
	if !reflect.DeepEqual(elems, want) {
		t.Errorf("decoded elements:\n got %q\nwant %q", elems, want)
	}
}

// xmlChars models the writer independently: each run of invalid UTF-8
// becomes U+FFFD, and what XML 1.0 cannot carry is dropped.
func xmlChars(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestDCAppendXMLEscaping(t *testing.T) {
	doc := dcNasty.AppendXML(nil, "", true)
	if !bytes.HasPrefix(doc, []byte("<oai_dc:dc ")) {
		t.Errorf("default root is not oai_dc:dc: %s", doc)
	}
	if !utf8.Valid(doc) {
		t.Errorf("output is not UTF-8: %q", doc)
	}
	root, elems := decodeDC(t, doc)
	if root.Space != NamespaceOAIDC {
		t.Errorf("root = %v", root)
	}
	checkDCElems(t, dcNasty, elems)
	if len(elems) != 5 {
		t.Errorf("%d elements, want 5 (blank creator left out)", len(elems))
	}
}

func TestDCAppendXMLNoDecl(t *testing.T) {
	d := ToDC(accFullRecord())
	inner := d.AppendXML(nil, RootOAIDC, false)
	if bytes.Contains(inner, []byte("xmlns")) {
		t.Errorf("nsDecl=false wrote declarations: %s", inner)
	}
	// Inside an OAI-PMH <metadata> that declares the prefixes it parses.
	doc := append([]byte(`<metadata xmlns:oai_dc="`+NamespaceOAIDC+`" xmlns:dc="`+NamespaceDC+`">`), inner...)
	doc = append(doc, "</metadata>"...)
	dec := xml.NewDecoder(bytes.NewReader(doc))
	n := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("decode: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == NamespaceDC {
			n++
		}
	}
	want := 0
	v := reflect.ValueOf(d)
	for i := 0; i < v.NumField(); i++ {
		want += v.Field(i).Len()
	}
	if n != want || want == 0 {
		t.Errorf("%d dc elements, want %d", n, want)
	}
}

func FuzzDCAppendXML(f *testing.F) {
	f.Add("Truyện Kiều", "a & b <c>", "\x00\x01\xff")
	f.Add("", " ", "]]>\r\n")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		d := DC{Title: []string{a, b}, Subject: []string{c}, Rights: []string{a + c}}
		doc := d.AppendXML(nil, RootSRWDC, true)
		_, elems := decodeDC(t, doc)
		checkDCElems(t, d, elems)
	})
}

func BenchmarkToDCXML(b *testing.B) {
	r := accFullRecord()
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = ToDC(r).AppendXML(buf[:0], RootOAIDC, true)
	}
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "records/s")
	}
}

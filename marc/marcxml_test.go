package marc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/internal/testpeer"
)

func rwXMLFiles(t testing.TB) []string {
	t.Helper()
	files := []string{rwTestdata("marc", "zebra", "collection-opera-43.xml")}
	m, err := filepath.Glob(rwTestdata("marc", "recordmanager", "*.xml"))
	if err != nil || len(m) < 7 {
		t.Fatalf("recordmanager files: %v %v", m, err)
	}
	return append(files, m...)
}

// TestXMLMatchesYaz reads the real MARCXML files and compares with
// yaz-marcdump -i marcxml on the same file.
func TestXMLMatchesYaz(t *testing.T) {
	testpeer.Need(t, "yaz-marcdump")
	total := 0
	for _, path := range rwXMLFiles(t) {
		recs, warns, errs := rwReadFile(t, path, FormatMARCXML)
		if len(errs) > 0 {
			t.Errorf("%s: %v", path, errs)
		}
		want := rwYazJSON(t, "-i", "marcxml", "-o", "json", path)
		if len(recs) != len(want) {
			t.Errorf("%s: %d records, yaz-marcdump finds %d", path, len(recs), len(want))
			continue
		}
		// yaz's MARCXML rendering, parsed with encoding/xml, says the same.
		out, err := exec.Command("yaz-marcdump", "-i", "marcxml", "-o", "marcxml", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		wantXML, err := rwParseXMLStd(out)
		if err != nil || len(wantXML) != len(recs) {
			t.Fatalf("%s: yaz -o marcxml: %d records, %v", path, len(wantXML), err)
		}
		for i := range recs {
			if d := rwDiff(recs[i], wantXML[i], true); d != "" {
				t.Errorf("%s record %d (yaz marcxml): %s", path, i+1, d)
			}
		}
		for i := range recs {
			if d := rwDiff(recs[i], want[i], true); d != "" {
				t.Errorf("%s record %d: %s\n warnings: %v", path, i+1, d, warns[i])
			}
			if want[i].Leader[9] == ' ' && recs[i].Leader[9] != 'a' {
				t.Errorf("%s record %d: leader/09 not set", path, i+1)
			}
		}
		total += len(recs)
	}
	if total < 50 {
		t.Errorf("only %d records compared", total)
	}
}

// TestXMLReadsYazOutput reads yaz's MARCXML rendering of every UTF-8 ISO
// 2709 file with our XML reader and compares with our ISO reading.
func TestXMLReadsYazOutput(t *testing.T) {
	testpeer.Need(t, "yaz-marcdump")
	compared := 0
	for _, path := range rwISOFiles(t) {
		isoRecs, isoWarns, errs := rwReadFile(t, path, FormatISO2709)
		if len(errs) > 0 || len(isoRecs) == 0 {
			continue
		}
		// Only files of UTF-8 records that yaz and we read alike.
		clean := true
		for i := range isoRecs {
			clean = clean && len(isoWarns[i]) == 0
		}
		data, _ := os.ReadFile(path)
		if !clean || data[9] != 'a' {
			continue
		}
		out, err := exec.Command("yaz-marcdump", "-o", "marcxml", path).Output()
		if err != nil {
			t.Fatal(err)
		}
		recs, _, xerrs := rwReadAll(t, NewXMLReader(bytes.NewReader(out), ReaderOptions{Source: path + " (yaz marcxml)"}))
		if len(xerrs) > 0 || len(recs) != len(isoRecs) {
			t.Errorf("%s: %d records, %v from yaz's MARCXML; %d from ISO 2709", path, len(recs), xerrs, len(isoRecs))
			continue
		}
		for i := range recs {
			if d := rwDiff(recs[i], isoRecs[i], true); d != "" {
				t.Errorf("%s record %d: %s", path, i+1, d)
			}
			if recs[i].Leader[5:9]+recs[i].Leader[17:20] != isoRecs[i].Leader[5:9]+isoRecs[i].Leader[17:20] {
				t.Errorf("%s record %d: leader %q, ISO %q", path, i+1, recs[i].Leader, isoRecs[i].Leader)
			}
		}
		compared += len(recs)
	}
	if compared < 40 {
		t.Errorf("only %d records compared", compared)
	}
}

// TestXMLBroken: marc-broken.xml is well-formed and its one record reads
// without a size limit, but it is far too long for ISO 2709, which must
// say so; under the default limit the reader rejects it, giving its size.
func TestXMLBroken(t *testing.T) {
	path := rwTestdata("marc", "recordmanager", "marc-broken.xml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, errs := rwReadAll(t, NewXMLReader(bytes.NewReader(data), ReaderOptions{}))
	if len(recs) != 0 || len(errs) != 1 || !errors.Is(errs[0], ErrRecordTooLarge) ||
		!strings.Contains(errs[0].Error(), "more than the 99999 allowed") || errs[0].Index != 1 {
		t.Fatalf("default limit: %d records, errors %v", len(recs), errs)
	}
	size, _ := strconv.Atoi(regexp.MustCompile(`(\d+) bytes as ISO 2709`).FindStringSubmatch(errs[0].Error())[1])
	recs, _, errs = rwReadFile(t, path, FormatMARCXML)
	if len(recs) != 1 || len(errs) != 0 {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	// The size the reader gave is the record's as ISO 2709 (UTF-8 NFC
	// can differ from the text as read by a few bytes).
	if n := recs[0].Size(); size < n-n/100 || size > n+n/100 {
		t.Errorf("reader said %d bytes, the record is %d as ISO 2709", size, n)
	}
	_, err = EncodeISO2709(recs[0])
	if !errors.Is(err, ErrTooLong) {
		t.Fatalf("EncodeISO2709: %v, want ErrTooLong", err)
	}
	if !strings.Contains(err.Error(), "bytes") {
		t.Errorf("error does not give the size: %v", err)
	}
}

func rwReadXMLString(t *testing.T, doc string) ([]*Record, [][]Warning, []*RecordError, error) {
	t.Helper()
	r := NewXMLReader(strings.NewReader(doc), ReaderOptions{Source: "doc"})
	var recs []*Record
	var warns [][]Warning
	var errs []*RecordError
	for i := 0; i < 1000; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, warns, errs, nil
		}
		var re *RecordError
		if errors.As(err, &re) {
			errs = append(errs, re)
			continue
		}
		if err != nil {
			// Fatal errors repeat.
			if _, err2 := r.Next(); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("after fatal %v, Next gives %v", err, err2)
			}
			return recs, warns, errs, err
		}
		recs = append(recs, rec)
		warns = append(warns, r.Warnings())
	}
	t.Fatal("reader does not stop")
	return nil, nil, nil, nil
}

const rwRecA = `<leader>00000nam a2200000 a 4500</leader><controlfield tag="001">A1</controlfield>` +
	`<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Title &amp; more</subfield></datafield>`

func TestXMLShapes(t *testing.T) {
	ns := `xmlns="http://www.loc.gov/MARC21/slim"`
	cases := []struct {
		name string
		doc  string
		n    int
	}{
		{"collection", `<?xml version="1.0"?><collection ` + ns + `><record>` + rwRecA + `</record><record>` + rwRecA + `</record></collection>`, 2},
		{"bare record", `<record ` + ns + `>` + rwRecA + `</record>`, 1},
		{"prefix", `<marc:collection xmlns:marc="http://www.loc.gov/MARC21/slim"><marc:record>` +
			strings.NewReplacer("</", "</marc:", "<", "<marc:").Replace(rwRecA) + `</marc:record></marc:collection>`, 1},
		{"no namespace", `<collection><record>` + rwRecA + `</record></collection>`, 1},
		{"oai-pmh", `<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>` +
			`<record><header><identifier>x</identifier></header><metadata><record ` + ns + `>` + rwRecA + `</record></metadata></record>` +
			`<record><header status="deleted"><identifier>y</identifier></header></record>` +
			`<record><header><identifier>z</identifier></header><metadata><m:record xmlns:m="http://www.loc.gov/MARC21/slim">` +
			strings.NewReplacer("</", "</m:", "<", "<m:").Replace(rwRecA) + `</m:record></metadata></record>` +
			`</ListRecords></OAI-PMH>`, 2},
		{"sru no namespace", `<searchRetrieveResponse><records><record><recordSchema>marcxml</recordSchema><recordData>` +
			`<record>` + rwRecA + `</record></recordData><recordPosition>1</recordPosition></record></records></searchRetrieveResponse>`, 1},
		{"comments, PI, CDATA, doctype", `<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE collection [<!ELEMENT x ANY>]><!-- c --><collection ` + ns + `><?pi x?><record><!-- c -->` +
			`<leader>00000nam a2200000 a 4500</leader><controlfield tag="001"><![CDATA[A<1>]]></controlfield></record></collection>`, 1},
		{"marcxchange", `<collection xmlns="info:lc/xmlns/marcxchange-v1"><record>` + rwRecA + `</record></collection>`, 1},
		{"empty collection", `<collection ` + ns + `/>`, 0},
		{"self-closing fields", `<record ` + ns + `><leader>00000nam a2200000 a 4500</leader><controlfield tag="001"/><datafield tag="245" ind1=" " ind2=" "/></record>`, 1},
	}
	for _, c := range cases {
		recs, warns, errs, err := rwReadXMLString(t, c.doc)
		if err != nil || len(errs) > 0 || len(recs) != c.n {
			t.Errorf("%s: %d records, errors %v, fatal %v; want %d", c.name, len(recs), errs, err, c.n)
			continue
		}
		for i, rec := range recs {
			if rec.Leader != "00000nam a2200000 a 4500" {
				t.Errorf("%s: leader %q", c.name, rec.Leader)
			}
			if f := rec.First("245"); strings.Contains(c.doc, "Title") && (f == nil || f.Sub('a') != "Title & more") {
				t.Errorf("%s: 245 %+v", c.name, f)
			}
			if c.name == "comments, PI, CDATA, doctype" && rec.ControlNumber() != "A<1>" {
				t.Errorf("%s: 001 %q (warnings %v)", c.name, rec.ControlNumber(), warns[i])
			}
		}
	}
}

func TestXMLText(t *testing.T) {
	doc := "<record xmlns='http://www.loc.gov/MARC21/slim'>\r\n<leader>00000nam  2200000 a 4500</leader>" +
		"<datafield tag='245' ind1='1' ind2=''>" +
		"<subfield code='a'>Nghe\u0302\u0323 An &lt;x&gt; &#x1EC7;&#7879; a\r\nb &quot;q&apos; &#1;\x01</subfield>" +
		"<subfield code='b'>x<!-- split -->y</subfield>" +
		"<subfield code='cd'>dropped</subfield>" +
		"</datafield></record>"
	recs, warns, errs, err := rwReadXMLString(t, doc)
	if err != nil || len(errs) > 0 || len(recs) != 1 {
		t.Fatalf("%v %v %d", err, errs, len(recs))
	}
	f := recs[0].First("245")
	if want := "Nghệ An <x> ệệ a\nb \"q' "; f.Sub('a') != want {
		t.Errorf("$a = %q, want %q", f.Sub('a'), want)
	}
	if f.Sub('b') != "xy" || len(f.Subfields) != 2 || f.Ind2 != ' ' {
		t.Errorf("field %+v", f)
	}
	if recs[0].Leader[9] != 'a' {
		t.Errorf("leader %q", recs[0].Leader)
	}
	if !rwHasWarning(warns[0], "not allowed in XML") || !rwHasWarning(warns[0], "code \"cd\"") {
		t.Errorf("warnings %v", warns[0])
	}
}

func TestXMLRecordErrors(t *testing.T) {
	ns := `xmlns="http://www.loc.gov/MARC21/slim"`
	bad := []struct{ name, rec string }{
		{"no leader", `<record><controlfield tag="001">x</controlfield></record>`},
		{"no tag", `<record><leader>00000nam a2200000 a 4500</leader><datafield ind1=" " ind2=" "><subfield code="a">x</subfield></datafield></record>`},
		{"long tag", `<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="0011">x</controlfield></record>`},
		{"no code", `<record><leader>00000nam a2200000 a 4500</leader><datafield tag="245" ind1=" " ind2=" "><subfield>x</subfield></datafield></record>`},
		{"element in text", `<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">x<b>y</b></controlfield></record>`},
		{"empty record", `<record/>`},
	}
	for _, b := range bad {
		doc := `<collection ` + ns + `><record>` + rwRecA + `</record>` + b.rec + `<record>` + rwRecA + `</record></collection>`
		recs, _, errs, err := rwReadXMLString(t, doc)
		if err != nil || len(recs) != 2 || len(errs) != 1 {
			t.Errorf("%s: %d records, errors %v, fatal %v", b.name, len(recs), errs, err)
			continue
		}
		if errs[0].Index != 2 || errs[0].Source != "doc" {
			t.Errorf("%s: error %+v", b.name, errs[0])
		}
		if want := int64(strings.Index(doc, b.rec)); errs[0].Offset != want {
			t.Errorf("%s: offset %d, want %d", b.name, errs[0].Offset, want)
		}
	}
}

// TestXMLRecordSyntaxErrors: XML that is not well-formed inside a record
// costs that record only; the reader names it and reads the next.
func TestXMLRecordSyntaxErrors(t *testing.T) {
	ns := `xmlns="http://www.loc.gov/MARC21/slim"`
	good := `<record>` + rwRecA + `</record>`
	cases := []struct{ name, bad, msg string }{
		{"mismatched", "\n<record><leader>x</leadr></record>", "does not match"},
		{"bad entity", `<record><leader>&nbsp;</leader></record>`, "entity"},
		{"unquoted", `<record><controlfield tag=001>x</controlfield></record>`, "not quoted"},
		{"lt in attribute", `<record><controlfield tag="<">x</controlfield></record>`, "'<'"},
		{"unclosed field", `<record><datafield tag="245"><subfield code="a">x</datafield></record>`, "does not match"},
		{"unclosed record", `<record><leader>x</leader>`, "no end tag"},
		{"long name", `<record><` + strings.Repeat("x", 2000) + `/></record>`, "longer than"},
		{"deep", `<record>` + strings.Repeat("<x>", 2000) + `</record>`, "nested more than"},
		{"bad reference", `<record><leader>&#xZZ;</leader></record>`, "entity"},
		{"record in a field", `<record><datafield tag="245"><subfield code="a">x`, "no end tag"},
	}
	for _, c := range cases {
		doc := `<collection ` + ns + `>` + good + c.bad + good + "\n" + good + `</collection>`
		recs, _, errs, err := rwReadXMLString(t, doc)
		if err != nil || len(recs) != 3 || len(errs) != 1 {
			t.Errorf("%s: %d records, errors %v, fatal %v", c.name, len(recs), errs, err)
			continue
		}
		var se *XMLSyntaxError
		if !errors.As(errs[0], &se) || !strings.Contains(errs[0].Error(), c.msg) {
			t.Errorf("%s: error %v, want a syntax error with %q", c.name, errs[0], c.msg)
			continue
		}
		at := int64(strings.Index(doc, strings.TrimSpace(c.bad)))
		if errs[0].Index != 2 || errs[0].Offset != at || se.Offset < at || se.Line < 1 {
			t.Errorf("%s: record %d at %d (syntax error at %d, line %d), want record 2 at %d",
				c.name, errs[0].Index, errs[0].Offset, se.Offset, se.Line, at)
		}
		for i, rec := range recs {
			if rec.ControlNumber() != "A1" {
				t.Errorf("%s: record %d has 001 %q", c.name, i+1, rec.ControlNumber())
			}
		}
	}
}

func TestXMLSyntaxErrors(t *testing.T) {
	ns := `xmlns="http://www.loc.gov/MARC21/slim"`
	good := `<record>` + rwRecA + `</record>`
	cases := []struct{ name, doc, msg string }{
		{"unterminated", `<collection ` + ns + `>` + good + `<record><leader>x`, "input ends"},
		{"text outside", `00123nam a22` + good, "text outside"},
		{"bad root", `<collection ` + ns + `>` + good + "\n</collecton>", "does not match"},
		{"comment", `<collection ` + ns + `>` + good + `<!-- open`, "unterminated comment"},
		{"stray end", `<collection ` + ns + `>` + good + `</collection></x>`, "without a start tag"},
		{"encoding", `<?xml version="1.0" encoding="EBCDIC"?><x/>`, "unsupported encoding"},
	}
	for _, c := range cases {
		recs, _, _, err := rwReadXMLString(t, c.doc)
		var se *XMLSyntaxError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %v, want syntax error with %q", c.name, err, c.msg)
			continue
		}
		if se.Line < 1 || se.Offset < 0 || se.Offset > int64(len(c.doc)) || se.Source != "doc" {
			t.Errorf("%s: position %+v", c.name, se)
		}
		if c.name == "bad root" && (len(recs) != 1 || se.Line != 2) {
			t.Errorf("%s: %d records before the error, line %d", c.name, len(recs), se.Line)
		}
	}
}

func TestXMLEncodings(t *testing.T) {
	body := `<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader>` +
		"<datafield tag=\"245\" ind1=\" \" ind2=\" \"><subfield code=\"a\">Ti\u1EBFng Vi\u1EC7t café</subfield></datafield></record>"
	want := "Tiếng Việt café"
	// Windows-1258 writes ế as e + circumflex + combining acute (0xEA 0xEC).
	w1258 := strings.NewReplacer("\u1EBF", "\xEA\xEC", "\u1EC7", "\xEA\xF2", "é", "\xE9").Replace(body)
	latin := strings.NewReplacer("Ti\u1EBFng Vi\u1EC7t ", "", "é", "\xE9").Replace(body)
	utf16 := []byte{0xFF, 0xFE}
	for _, r := range `<?xml version="1.0" encoding="UTF-16"?>` + body {
		utf16 = append(utf16, byte(r), byte(r>>8))
	}
	cases := []struct {
		name, doc, want string
	}{
		{"utf-8 bom", "\xEF\xBB\xBF" + body, want},
		{"windows-1258", `<?xml version="1.0" encoding="windows-1258"?>` + w1258, want},
		{"latin-1", `<?xml version='1.0' encoding='ISO-8859-1'?>` + latin, "café"},
		{"utf-16", string(utf16), want},
	}
	for _, c := range cases {
		recs, _, errs, err := rwReadXMLString(t, c.doc)
		if err != nil || len(errs) > 0 || len(recs) != 1 {
			t.Errorf("%s: %d records, %v %v", c.name, len(recs), errs, err)
			continue
		}
		if got := recs[0].First("245").Sub('a'); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestXMLChunked feeds a document one byte at a time and with a huge text
// node, so that every token crosses a buffer boundary somewhere.
func TestXMLChunked(t *testing.T) {
	data, err := os.ReadFile(rwTestdata("marc", "zebra", "collection-opera-43.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := rwReadAll(t, NewXMLReader(bytes.NewReader(data), ReaderOptions{}))
	got, _, _ := rwReadAll(t, NewXMLReader(io.LimitReader(&oneByteReader{data}, int64(len(data))), ReaderOptions{}))
	if len(got) != len(want) || len(got) != 43 {
		t.Fatalf("%d records byte by byte, %d at once", len(got), len(want))
	}
	for i := range got {
		if d := rwDiff(got[i], want[i], true); d != "" {
			t.Fatalf("record %d: %s", i+1, d)
		}
	}
	big := strings.Repeat("Nghệ An &amp; ", 20000)
	doc := `<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader>` +
		`<datafield tag="520" ind1=" " ind2=" "><subfield code="a">` + big + `</subfield></datafield></record>`
	recs, _, _ := rwReadAll(t, NewXMLReader(strings.NewReader(doc), ReaderOptions{MaxRecordBytes: -1}))
	if len(recs) != 1 || recs[0].First("520").Sub('a') != strings.Repeat("Nghệ An & ", 20000) {
		t.Fatalf("big text not read back")
	}
}

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

// TestXMLReaderOAIEnvelope reads MARC records embedded in an OAI-PMH
// response, as the harvester does: every record comes back as read from a
// plain collection, and a record without a leader costs only itself.
func TestXMLReaderOAIEnvelope(t *testing.T) {
	data, err := os.ReadFile(rwTestdata("marc", "zebra", "collection-opera-43.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := rwReadAll(t, NewXMLReader(bytes.NewReader(data), ReaderOptions{}))
	// Wrap each record in an OAI-PMH envelope.
	var doc strings.Builder
	doc.WriteString(`<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>`)
	for _, rec := range want {
		doc.WriteString(`<record><header><identifier>x</identifier></header><metadata>`)
		b, _ := AppendMARCXML(nil, rec, true)
		doc.Write(b)
		doc.WriteString(`</metadata></record>`)
	}
	doc.WriteString(`<record><metadata><record xmlns="http://www.loc.gov/MARC21/slim"><controlfield tag="001">x</controlfield></record></metadata></record>`)
	doc.WriteString(`</ListRecords></OAI-PMH>`)
	r := NewXMLReader(strings.NewReader(doc.String()), ReaderOptions{})
	var got []*Record
	var recErrs int
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *RecordError
		if errors.As(err, &re) {
			recErrs++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec)
	}
	if len(got) != len(want) || recErrs != 1 {
		t.Fatalf("%d records and %d errors, want %d and 1", len(got), recErrs, len(want))
	}
	for i := range got {
		if d := rwDiff(got[i], want[i], true); d != "" || got[i].Leader != want[i].Leader {
			t.Errorf("record %d: %s", i+1, d)
		}
	}
}

// rwParseXMLStd is a plain encoding/xml MARCXML parser used as an oracle
// for yaz's MARCXML output. Values are put in NFC.
func rwParseXMLStd(data []byte) ([]*Record, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var recs []*Record
	var rec *Record
	var text strings.Builder
	var code byte
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attr := func(n string) string {
				for _, a := range tok.Attr {
					if a.Name.Local == n {
						return a.Value
					}
				}
				return ""
			}
			text.Reset()
			switch tok.Name.Local {
			case "record":
				rec = &Record{}
				recs = append(recs, rec)
			case "controlfield":
				rec.Fields = append(rec.Fields, Field{Tag: attr("tag")})
			case "datafield":
				i1, i2 := attr("ind1")+" ", attr("ind2")+" "
				rec.Fields = append(rec.Fields, Field{Tag: attr("tag"), Ind1: i1[0], Ind2: i2[0]})
			case "subfield":
				code = (attr("code") + "?")[0]
			}
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			v := norm.NFC.String(text.String())
			switch tok.Name.Local {
			case "leader":
				rec.Leader = v
			case "controlfield":
				rec.Fields[len(rec.Fields)-1].Value = v
			case "subfield":
				f := &rec.Fields[len(rec.Fields)-1]
				f.Subfields = append(f.Subfields, Subfield{Code: code, Value: v})
			}
		}
	}
}

func TestXMLLeaderRepairs(t *testing.T) {
	doc := `<record xmlns="http://www.loc.gov/MARC21/slim"><leader>01234nam</leader>` +
		`<controlfield tag="010">not a control tag</controlfield>` +
		`<datafield tag="245" ind1="ab" ind2="1"><subfield code="a">x</subfield><subfield code="b"/></datafield></record>`
	recs, warns, errs, err := rwReadXMLString(t, doc)
	if err != nil || len(errs) > 0 || len(recs) != 1 {
		t.Fatalf("%v %v", err, errs)
	}
	rec := recs[0]
	if rec.Leader != "01234nam a"+strings.Repeat(" ", 14) {
		t.Errorf("leader %q", rec.Leader)
	}
	f := rec.First("245")
	if f.Ind1 != ' ' || f.Ind2 != '1' || len(f.Subfields) != 2 || f.Sub('b') != "" {
		t.Errorf("245 %+v", f)
	}
	if rec.First("010").Value != "not a control tag" {
		t.Errorf("010 %+v", rec.First("010"))
	}
	for _, w := range []string{"leader is 8 bytes", "ind1", "data field tag"} {
		if !rwHasWarning(warns[0], w) {
			t.Errorf("no warning %q: %v", w, warns[0])
		}
	}
}

func TestXMLReadError(t *testing.T) {
	data, err := os.ReadFile(rwTestdata("marc", "zebra", "collection-opera-43.xml"))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("connection reset")
	r := NewXMLReader(io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(boom)), ReaderOptions{Source: "opera"})
	n := 0
	for {
		_, err := r.Next()
		if err == nil {
			n++
			continue
		}
		if !errors.Is(err, boom) {
			t.Fatalf("error %v, want the read error", err)
		}
		break
	}
	if n < 10 || n >= 43 {
		t.Errorf("%d records before the read error", n)
	}
}

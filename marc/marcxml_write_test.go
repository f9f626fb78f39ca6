package marc

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unicat/unicat/internal/testpeer"
)

// rwXMLLint validates a MARCXML file against MARC21slim.xsd.
func rwXMLLint(t *testing.T, path string) {
	t.Helper()
	testpeer.Need(t, "xmllint")
	out, err := exec.Command("xmllint", "--noout", "--schema", rwTestdata("schemas", "MARC21slim.xsd"), path).CombinedOutput()
	if err != nil {
		msg := string(out)
		if len(msg) > 2000 {
			msg = msg[:2000]
		}
		t.Fatalf("xmllint: %v\n%s", err, msg)
	}
}

// rwAllRecords is every record of every real test file, ISO 2709 and
// MARCXML.
func rwAllRecords(t *testing.T) []*Record {
	recs, _, _ := rwAllISORecords(t)
	for _, path := range rwXMLFiles(t) {
		r, _, _ := rwReadFile(t, path, FormatMARCXML)
		recs = append(recs, r...)
	}
	return recs
}

// TestMARCXMLRoundTrip writes every real record as MARCXML, validates the
// collection against the schema and reads it back: records the writer did
// not have to change come back equal.
func TestMARCXMLRoundTrip(t *testing.T) {
	recs := rwAllRecords(t)
	path := filepath.Join(t.TempDir(), "all.xml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewXMLWriter(f)
	changed := map[int]bool{}
	for i, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if _, warns := AppendMARCXML(nil, rec, false); len(warns) > 0 {
			changed[i] = true
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	rwXMLLint(t, path)

	back, _, errs := rwReadFile(t, path, FormatMARCXML)
	if len(back) != len(recs) || len(errs) > 0 {
		t.Fatalf("%d records back of %d, %v", len(back), len(recs), errs)
	}
	same := 0
	for i := range recs {
		if changed[i] {
			continue
		}
		if d := rwSameRecord(back[i], recs[i]); d != "" {
			t.Errorf("record %d (%s): %s", i, recs[i].ControlNumber(), d)
		}
		same++
	}
	if same < len(recs)*3/4 {
		t.Errorf("only %d of %d records compared", same, len(recs))
	}
	t.Logf("%d records, %d written unchanged and compared", len(recs), same)

	// The same through the standalone form used inside OAI-PMH and SRU.
	for i, rec := range recs[:20] {
		b, _ := AppendMARCXML(nil, rec, true)
		got, _, errs, err := rwReadXMLString(t, string(b))
		if err != nil || len(errs) > 0 || len(got) != 1 {
			t.Fatalf("record %d standalone: %v %v", i, err, errs)
		}
		if d := rwSameRecord(got[0], rec); d != "" && !changed[i] {
			t.Errorf("record %d standalone: %s", i, d)
		}
	}
}

// TestMARCXMLWriterRepairs feeds the writer what MARCXML cannot hold; the
// output must still validate and each change must be reported.
func TestMARCXMLWriterRepairs(t *testing.T) {
	rec := &Record{Leader: "01234 a^ a22  0^^ i 45 0", Fields: []Field{
		{Tag: "001", Value: "ctl\x01\x1f-&<>\"'\r\n\t"},
		{Tag: "245", Ind1: '#', Ind2: 'A', Subfields: []Subfield{
			{Code: 'a', Value: "Nghệ An & <Vinh> \"q\" \x0b \uFFFE caf\xe9"},
			{Code: '@', Value: "bad code"},
			{Code: '&', Value: "amp code"},
		}},
		{Tag: "500", Ind1: ' ', Ind2: ' '},
		{Tag: "0aB", Ind1: ' ', Ind2: ' ', Subfields: []Subfield{{Code: 'a', Value: "mixed-case tag"}}},
		{Tag: "005", Value: "late control field"},
		{Tag: "001", Ind1: ' ', Ind2: ' ', Subfields: []Subfield{{Code: 'a', Value: "danish"}}},
	}}
	var buf bytes.Buffer
	w := NewXMLWriter(&buf)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	_, warns := AppendMARCXML(nil, rec, false)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "repairs.xml")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rwXMLLint(t, path)
	for _, want := range []string{"not allowed in XML dropped", "invalid UTF-8", "indicator '#'", "lower case",
		"code '@'", "without subfields", "tag MARCXML does not allow", "leader/07", "before them"} {
		if !rwHasWarning(warns, want) {
			t.Errorf("no warning %q in %v", want, warns)
		}
	}
	recs, _, errs, err := rwReadXMLString(t, buf.String())
	if err != nil || len(errs) > 0 || len(recs) != 1 {
		t.Fatalf("%v %v", err, errs)
	}
	got := recs[0]
	if got.Leader != "01234 a  a22  0   i 4500" {
		t.Errorf("leader %q", got.Leader)
	}
	if v := got.First("001").Value; v != "ctl-&<>\"'\r\n\t" {
		t.Errorf("001 %q", v)
	}
	if got.Fields[1].Tag != "005" {
		t.Errorf("control fields not first: %v", rwTags(got))
	}
	f := got.First("245")
	if f.Ind1 != ' ' || f.Ind2 != 'a' || f.Sub('a') != "Nghệ An & <Vinh> \"q\"   caf\uFFFD" || f.Sub('&') != "amp code" || len(f.Subfields) != 2 {
		t.Errorf("245 %+v", f)
	}
	if got.First("500") != nil || got.First("0aB") != nil || len(got.Fields) != 3 {
		t.Errorf("fields %v", rwTags(got))
	}
}

func TestMARCXMLWriterEmpty(t *testing.T) {
	var buf bytes.Buffer
	w := NewXMLWriter(&buf)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Record{}); err == nil {
		t.Error("write after close accepted")
	}
	var doc struct {
		XMLName xml.Name
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil || doc.XMLName.Local != "collection" || doc.XMLName.Space != MARCXMLNamespace {
		t.Errorf("%v %+v %q", err, doc, buf.String())
	}
	if !strings.HasPrefix(buf.String(), "<?xml") {
		t.Errorf("%q", buf.String())
	}
}

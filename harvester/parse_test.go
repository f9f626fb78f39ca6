package harvester

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRepairXML(t *testing.T) {
	for _, c := range []struct{ in, out, desc string }{
		{"<a>plain &amp; &#233; &lt;</a>", "<a>plain &amp; &#233; &lt;</a>", ""},
		{"<a>&eacute;&nbsp;&amp;</a>", "<a>\u00e9\u00a0&amp;</a>", "2 HTML entities replaced"},
		{"<a>x\x01y\x1f</a>", "<a>xy</a>", "2 characters not allowed in XML dropped"},
		{"<a>&#1;&#x1F;&#xFFFE;&#xD800;ok&#x10FFFF;</a>", "<a>ok&#x10FFFF;</a>", "4 characters not allowed in XML dropped"},
		{"<a>Tom & Jerry &bogus; &#xZZ; &</a>", "<a>Tom &amp; Jerry &amp;bogus; &amp;#xZZ; &amp;</a>", "4 bare '&' escaped"},
		{"<a>Vi\xea\xf2t</a>", "<a>Vi\u00ea\u0323t</a>", "2 bytes of broken UTF-8 read as Windows-1258"},
		{"<a><![CDATA[a & b \x02]]> & <!-- & --><?pi & ?></a>", "<a><![CDATA[a & b ]]> &amp; <!-- & --><?pi & ?></a>", "1 characters not allowed in XML dropped, 1 bare '&' escaped"},
		{"<a>\xef\xbf\xbe</a>", "<a></a>", "1 characters not allowed in XML dropped"},
	} {
		got, reps := repairXML([]byte(c.in))
		if string(got) != c.out {
			t.Errorf("repairXML(%q) = %q, want %q", c.in, got, c.out)
		}
		if d := describeRepairs(reps, 0, len(got)+1); d != c.desc {
			t.Errorf("repairXML(%q) repairs %q, want %q", c.in, d, c.desc)
		}
	}
	clean := []byte("<a>Nguyễn &amp; Du</a>")
	if got, _ := repairXML(clean); &got[0] != &clean[0] {
		t.Error("clean input was copied")
	}
}

func TestDeclaredEncoding(t *testing.T) {
	doc := []byte("<?xml version='1.0' encoding='ISO-8859-1'?><OAI-PMH><responseDate>2024-01-01T00:00:00Z</responseDate><error code=\"x\">caf\xe9</error></OAI-PMH>")
	p, err := parseOAI(doc, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Errors) != 1 || p.Errors[0].Msg != "café" {
		t.Errorf("errors %+v", p.Errors)
	}
	if _, err := parseOAI([]byte(`<?xml version="1.0" encoding="x-klingon"?><OAI-PMH/>`), ""); err == nil {
		t.Error("unknown encoding accepted")
	}
}

func TestParseOAIShapes(t *testing.T) {
	// A prefixed envelope, a MARCXML collection around the record, a
	// deleted header, a record of another format, a header without
	// identifier, and a resumption token with completeListSize.
	doc := `<?xml version="1.0"?>
<oai:OAI-PMH xmlns:oai="http://www.openarchives.org/OAI/2.0/" xmlns:marc="http://www.loc.gov/MARC21/slim">
<oai:responseDate>2024-05-01T10:00:00Z</oai:responseDate>
<oai:ListRecords>
 <oai:record><oai:header><oai:identifier>a</oai:identifier><oai:datestamp>2024-04-01</oai:datestamp></oai:header>
  <oai:metadata><marc:collection><marc:record><marc:leader>00000nam a2200000 a 4500</marc:leader><marc:controlfield tag="001">1</marc:controlfield></marc:record></marc:collection></oai:metadata></oai:record>
 <oai:record><oai:header status="deleted"><oai:identifier>b</oai:identifier><oai:datestamp>2024-04-02T01:02:03Z</oai:datestamp></oai:header></oai:record>
 <oai:record><oai:header><oai:identifier>c</oai:identifier><oai:datestamp>2024-04-03</oai:datestamp></oai:header>
  <oai:metadata><dc xmlns="http://purl.org/dc/elements/1.1/"><title>x</title></dc></oai:metadata></oai:record>
 <oai:record><oai:header><oai:datestamp>2024-04-03</oai:datestamp></oai:header><oai:metadata><marc:record><marc:leader>x</marc:leader></marc:record></oai:metadata></oai:record>
 <oai:resumptionToken completeListSize="1000" cursor="0"> tok 1 </oai:resumptionToken>
</oai:ListRecords></oai:OAI-PMH>`
	p, err := parseOAI([]byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	if p.ResponseDate != "2024-05-01T10:00:00Z" || p.Token != "tok 1" || p.CompleteListSize != 1000 || len(p.Records) != 4 {
		t.Fatalf("parsed %+v", p)
	}
	r := p.Records
	if r[0].ID != "a" || r[0].Record == nil || r[0].Record.ControlNumber() != "1" || r[0].Datestamp.Format("2006-01-02") != "2024-04-01" {
		t.Errorf("record a: %+v", r[0])
	}
	if !r[1].Deleted || r[1].Err != "" || r[1].Datestamp.Second() != 3 {
		t.Errorf("record b: %+v", r[1])
	}
	if r[2].Reason != "not-marcxml" || r[3].Reason != "no-id" {
		t.Errorf("records c, 4: %+v %+v", r[2], r[3])
	}
	for _, bad := range []string{"", "<html><body>Service Unavailable</body></html>", "<OAI-PMH><responseDate>x</responseDate>"} {
		if _, err := parseOAI([]byte(bad), ""); err == nil {
			t.Errorf("parseOAI(%q) succeeded", bad)
		}
	}
}

// FuzzParseOAI: any input is parsed or refused without panicking, and
// every record returned is usable, deleted or rejected with a reason.
func FuzzParseOAI(f *testing.F) {
	f.Add([]byte(`<OAI-PMH><ListRecords><record><header><identifier>x</identifier></header><metadata><record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader></record></metadata></record><resumptionToken>t</resumptionToken></ListRecords></OAI-PMH>`))
	f.Add([]byte("<OAI-PMH><ListRecords><record><header><identifier>x</identifier></header><metadata><record><leader>\x01&</leader></record></metadata></record></ListRecords></OAI-PMH>"))
	f.Add([]byte(`<OAI-PMH><error code="badResumptionToken">expired</error></OAI-PMH>`))
	f.Add([]byte(`<OAI-PMH><Identify><granularity>YYYY-MM-DD</granularity></Identify></OAI-PMH>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseOAI(data, "")
		if err != nil {
			return
		}
		for _, r := range p.Records {
			if r.Err == "" && !r.Deleted && r.Record == nil && r.ID != "" && strings.Contains(string(data), "ListRecords") {
				t.Fatalf("record %q neither usable, deleted nor rejected", r.ID)
			}
			if r.Err != "" && r.Reason == "" {
				t.Fatalf("rejected without a reason: %q", r.Err)
			}
		}
	})
}

// FuzzParseSRU: as FuzzParseOAI for searchRetrieve responses.
func FuzzParseSRU(f *testing.F) {
	f.Add([]byte(`<searchRetrieveResponse><numberOfRecords>1</numberOfRecords><records><record><recordData><record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader></record></recordData><recordPosition>1</recordPosition></record></records></searchRetrieveResponse>`))
	f.Add([]byte(`<searchRetrieveResponse><numberOfRecords>0</numberOfRecords><diagnostics><diagnostic><uri>info:srw/diagnostic/1/10</uri></diagnostic></diagnostics></searchRetrieveResponse>`))
	f.Add([]byte(`<searchRetrieveResponse><records><record><recordData>&lt;record&gt;&lt;leader&gt;x&lt;/leader&gt;&lt;/record&gt;</recordData></record></records></searchRetrieveResponse>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := parseSRU(data, "")
		if err != nil {
			return
		}
		for _, r := range p.Records {
			if (r.Record == nil) == (r.Err == "") {
				t.Fatalf("record %d: record %v, error %q", r.Position, r.Record != nil, r.Err)
			}
		}
	})
}

// FuzzRepairXML: the repaired document is UTF-8 with only characters XML
// allows, repairing it again changes nothing, and a document encoding/xml
// could read before still reads the same.
func FuzzRepairXML(f *testing.F) {
	f.Add([]byte("<a b=\"&amp;\">x\x01&#2;&y; \xff <![CDATA[&\x03]]></a>"))
	f.Add([]byte("<a>Nguy\xea\xecn</a>"))
	if b, err := os.ReadFile("../testdata/vietnamese/na-tinh.xml"); err == nil {
		f.Add(b[:min(len(b), 400)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, reps := repairXML(data)
		if !utf8.Valid(out) {
			t.Fatalf("not UTF-8: %q", out)
		}
		for _, r := range string(out) {
			if !isXMLChar(r) {
				t.Fatalf("%U left in %q", r, out)
			}
		}
		if again, reps2 := repairXML(out); !bytes.Equal(again, out) || len(reps2) != 0 {
			t.Fatalf("second repair changed %q to %q", out, again)
		}
		if len(reps) == 0 && !bytes.Equal(out, data) {
			t.Fatal("changed without a repair")
		}
		if len(reps) == 0 {
			return
		}
		// Input encoding/xml accepted must mean the same after repair.
		before, errBefore := tokens(data)
		if errBefore != nil {
			return
		}
		after, err := tokens(out)
		if err != nil || after != before {
			t.Fatalf("repair of readable XML changed it:\n%q\n%q\n%v", before, after, err)
		}
	})
}

func tokens(b []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Entity = xml.HTMLEntity
	var s strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return s.String(), nil
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			s.WriteString(string(t))
		case xml.StartElement:
			s.WriteString("<" + t.Name.Local + ">")
		}
	}
}

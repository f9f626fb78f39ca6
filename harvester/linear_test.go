package harvester

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/unicat/unicat/harvester/harvesttest"
	"github.com/unicat/unicat/internal/lineartest"
	"github.com/unicat/unicat/marc"
)

// The OAI-PMH and SRU response parsers are linear in their input: on
// pages built to be as hard as the limits allow, a byte costs at most
// maxSlowdown times what it costs in an ordinary page (see the readers'
// TestXMLReaderLinear). A 1.09 MB page of 100,000 attributes took 33 s.
const maxSlowdown = 12

// pageInput is about how many bytes each shape is.
const pageInput = 1 << 20

// pageReader reads a page with parse, failing the test on an error, and
// returns the records it handed over.
func pageReader(t *testing.T, parse func([]byte) (int, error)) func([]byte) int {
	return func(page []byte) int {
		n, err := parse(page)
		if err != nil {
			t.Fatalf("%v", err)
		}
		return n
	}
}

func oaiRecords(page []byte) (int, error) {
	p, err := readOAIPage(&Body{mem: page, n: int64(len(page))}, "ListRecords", marc.ReaderOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	err = p.each(func(*oaiRecord, int, int64) error { n++; return nil })
	return n, err
}

func sruRecords(page []byte) (int, error) {
	p, err := readSRUPage(&Body{mem: page, n: int64(len(page))}, marc.ReaderOptions{})
	if err != nil {
		return 0, err
	}
	n := 0
	err = p.each(func(*sruRecord, int, int64) error { n++; return nil })
	return n, err
}

func attrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, ` a%d="x"`, i)
	}
	return b.String()
}

func TestOAIParserLinear(t *testing.T) {
	const head = `<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate><ListRecords>`
	const tail = `<resumptionToken>t</resumptionToken></ListRecords></OAI-PMH>`
	rec := func(header, metadata string) string {
		return `<record><header` + header + `><identifier>oai:x:1</identifier><datestamp>2024-01-01</datestamp></header><metadata>` + metadata + "</metadata></record>\n"
	}
	var book bytes.Buffer
	harvesttest.BookRecord(&book, 1, 800)
	marcRec := func(inside string) string {
		return `<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">1</controlfield>` + inside + `</record>`
	}
	var decls strings.Builder
	for i := range 4000 {
		fmt.Fprintf(&decls, ` xmlns:p%d="http://example.org/%d"`, i, i)
	}
	shapes := []lineartest.Shape{
		{Name: "attributes on the root", Input: lineartest.Fill(`<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"`+attrs(60000)+`><ListRecords>`, rec("", book.String()), tail, pageInput)},
		{Name: "attributes on headers", Input: lineartest.Fill(head, rec(attrs(20000), book.String()), tail, pageInput)},
		{Name: "attributes in records", Input: lineartest.Fill(head, rec("", marcRec(`<datafield tag="500" ind1=" " ind2=" "`+attrs(20000)+`><subfield code="a">x</subfield></datafield>`)), tail, pageInput)},
		{Name: "deep nesting in headers", Input: lineartest.Fill(head, `<record><header><identifier>i</identifier>`+strings.Repeat("<x>", 5000)+strings.Repeat("</x>", 5000)+`</header><metadata>`+book.String()+`</metadata></record>`, tail, pageInput)},
		{Name: "deep nesting in records", Input: lineartest.Fill(head, rec("", marcRec(strings.Repeat("<x>", 1000)+strings.Repeat("</x>", 1000))), tail, pageInput)},
		{Name: "long names", Input: lineartest.Fill(head, rec("", marcRec(strings.Repeat("<"+strings.Repeat("n", 1000)+"/>", 100))), tail, pageInput)},
		{Name: "tiny records", Input: lineartest.Fill(head, `<record><header status="deleted"><identifier>i</identifier></header></record>`, tail, pageInput)},
		{Name: "repairs", Input: lineartest.Fill(head, rec("", marcRec(`<datafield tag="500" ind1=" " ind2=" "><subfield code="a">`+strings.Repeat("& \x01", 5000)+`</subfield></datafield>`)), tail, pageInput)},
		{Name: "namespace declarations", Input: lineartest.Fill(`<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"`+decls.String()+`><ListRecords>`, `<record><header status="deleted"><identifier>i</identifier></header></record>`, tail, pageInput)},
		{Name: "broken records", Input: lineartest.Fill(head, rec("", marcRec(`<datafield tag="500"><subfield code="a">&bogus;</datafeld>`))+rec("", book.String()), tail, pageInput)},
		// A comment between <record> and <header>: records the items'
		// shape misses, read with the envelope, each with a repair.
		{Name: "records in the envelope", Input: lineartest.Fill(head, `<record><!-- --><header><identifier>i & j</identifier></header><metadata>`+marcRec("")+`</metadata></record>`, tail, pageInput)},
	}
	lineartest.Check(t, "an ordinary page", maxSlowdown, lineartest.Fill(head, rec("", book.String()), tail, pageInput), 500, shapes, pageReader(t, oaiRecords))
}

func TestSRUParserLinear(t *testing.T) {
	const head = `<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/"><version>1.2</version><numberOfRecords>100</numberOfRecords><records>`
	const tail = `</records><nextRecordPosition>11</nextRecordPosition></searchRetrieveResponse>`
	var book bytes.Buffer
	harvesttest.BookRecord(&book, 1, 800)
	rec := func(data string) string {
		return `<record><recordSchema>marcxml</recordSchema><recordPacking>xml</recordPacking><recordData>` + data + `</recordData><recordPosition>1</recordPosition></record>` + "\n"
	}
	shapes := []lineartest.Shape{
		{Name: "attributes on the root", Input: lineartest.Fill(`<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/"`+attrs(60000)+`><numberOfRecords>1</numberOfRecords><records>`, rec(book.String()), tail, pageInput)},
		{Name: "attributes on records", Input: lineartest.Fill(head, `<record`+attrs(20000)+`><recordSchema>marcxml</recordSchema><recordData>`+book.String()+`</recordData></record>`, tail, pageInput)},
		{Name: "deep nesting in records", Input: lineartest.Fill(head, `<record><recordSchema>marcxml</recordSchema>`+strings.Repeat("<x>", 5000)+strings.Repeat("</x>", 5000)+`<recordData>`+book.String()+`</recordData></record>`, tail, pageInput)},
		{Name: "escaped records", Input: lineartest.Fill(head, rec(strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(book.String())), tail, pageInput)},
		{Name: "tiny records", Input: lineartest.Fill(head, rec(`<record xmlns="http://www.loc.gov/MARC21/slim"><leader>x</leader></record>`), tail, pageInput)},
	}
	lineartest.Check(t, "an ordinary page", maxSlowdown, lineartest.Fill(head, rec(book.String()), tail, pageInput), 500, shapes, pageReader(t, sruRecords))
}

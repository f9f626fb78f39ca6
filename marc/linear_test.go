package marc

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/unicat/unicat/internal/lineartest"
)

// The readers' time is linear in their input whatever its shape: on input
// built to be as hard as the reader's limits allow (a start tag of twenty
// thousand attributes, a thousand nested elements, names of a thousand
// bytes, thousands of one-letter subfields, broken records one after
// another, a leader lying about every record's length), a byte costs at
// most maxSlowdown times what it costs in a real catalogue. A reader
// quadratic in anything (attributes, depth, declarations, fields) goes
// far past that: the attribute check these tests were written for cost
// 187 times a catalogue's byte at twenty thousand attributes.
const maxSlowdown = 12

// linearInput is about this many bytes of each shape.
const linearInput = 2 << 20

// drain reads every record, skipping record errors, and returns how many
// results (records and record errors) there were; a fatal error ends it.
func drain(r Reader) int {
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n
		}
		n++
		if _, ok := err.(*RecordError); err != nil && !ok {
			return n
		}
	}
}

func TestXMLReaderLinear(t *testing.T) {
	opera, err := os.ReadFile(rwTestdata("marc", "zebra", "collection-opera-43.xml"))
	if err != nil {
		t.Fatal(err)
	}
	first, last := bytes.Index(opera, []byte("<record")), bytes.LastIndex(opera, []byte("</collection>"))
	head := `<collection xmlns="http://www.loc.gov/MARC21/slim">`
	rec := func(body string) string { return `<record>` + rwRecA + body + `</record>` + "\n" }
	var attrs strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&attrs, ` a%d="x"`, i)
	}
	var decls strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&decls, `<x xmlns:a%d="u%d" xmlns:b%d="u" xmlns:c%d="u" xmlns:d%d="u">`, i, i, i, i, i)
	}
	long := strings.Repeat("n", 1000)
	shapes := []lineartest.Shape{
		{Name: "many attributes", Input: lineartest.Fill(head, rec(`<datafield tag="500" ind1=" " ind2=" "`+attrs.String()+`><subfield code="a">x</subfield></datafield>`), `</collection>`, linearInput)},
		{Name: "deep nesting", Input: lineartest.Fill(head, rec(strings.Repeat("<x>", 1000)+strings.Repeat("</x>", 1000)), `</collection>`, linearInput)},
		// Four thousand declarations in force, none of them the prefix
		// the records use.
		{Name: "namespace declarations", Input: lineartest.Fill(`<collection xmlns:m="http://www.loc.gov/MARC21/slim">`+decls.String(),
			strings.Repeat("<m:x/>", 20)+`<m:record><m:leader>00000nam a2200000 a 4500</m:leader><m:controlfield tag="001">1</m:controlfield></m:record>`,
			strings.Repeat("</x>", 1000)+`</collection>`, linearInput)},
		{Name: "long names", Input: lineartest.Fill(head, rec(strings.Repeat("<"+long+"/>", 200)), `</collection>`, linearInput)},
		{Name: "tiny subfields", Input: lineartest.Fill(head, rec(`<datafield tag="500" ind1=" " ind2=" ">`+strings.Repeat(`<subfield code="a">x</subfield>`, 9000)+`</datafield>`), `</collection>`, linearInput)},
		{Name: "references", Input: lineartest.Fill(head, rec(`<datafield tag="500" ind1=" " ind2=" "><subfield code="a">`+strings.Repeat("&#x1EC7;&amp;", 5000)+`</subfield></datafield>`), `</collection>`, linearInput)},
		{Name: "broken records", Input: lineartest.Fill(head, rec(`<datafield tag="500"><subfield code="a">&bogus;</subfield></datafield>`)+rec(""), `</collection>`, linearInput)},
		{Name: "comments and CDATA", Input: lineartest.Fill(head, rec(`<datafield tag="500" ind1=" " ind2=" "><subfield code="a">`+strings.Repeat("<!--c--><![CDATA[d]]>", 3000)+`</subfield></datafield>`), `</collection>`, linearInput)},
		{Name: "records over the size limit", Input: lineartest.Fill(head, rec(`<datafield tag="500" ind1=" " ind2=" "><subfield code="a">`+strings.Repeat("x", 300<<10)+`</subfield></datafield>`), `</collection>`, linearInput)},
	}
	for i := range shapes {
		shapes[i].MinResults = 2 // the reader went on past the first record
	}
	read := func(b []byte) int { return drain(NewXMLReader(bytes.NewReader(b), ReaderOptions{})) }
	lineartest.Check(t, "a catalogue", maxSlowdown, lineartest.Fill(head, string(opera[first:last]), `</collection>`, linearInput), 400, shapes, read)
}

func TestISO2709ReaderLinear(t *testing.T) {
	sample, err := os.ReadFile(rwTestdata("marc", "zebra", "sample-marc.mrc"))
	if err != nil {
		t.Fatal(err)
	}
	tiny := make([]rwRawField, 0, 7000)
	for range 7000 {
		tiny = append(tiny, rwRawField{"500", "a"})
	}
	manyFields := rwBuildISO("00000nam a2200000 a 4500", tiny...)
	subs := rwBuildISO("00000nam a2200000 a 4500", rwRawField{"001", "S"}, rwRawField{"500", "  " + strings.Repeat("\x1fa", 4990)})
	lying := rwSampleRecord("L")
	copy(lying, "99999")
	badDir := rwSampleRecord("D")
	copy(badDir[LeaderLen+3:], "0099") // 001's length: the fields are taken in order
	shapes := []lineartest.Shape{
		{Name: "digits without terminator", Input: lineartest.Fill("", "0123456789", "", linearInput)},
		{Name: "leaders lying about length", Input: lineartest.Fill("", string(lying), "", linearInput)},
		{Name: "seven thousand fields", Input: lineartest.Fill("", string(manyFields), "", linearInput)},
		{Name: "five thousand subfields", Input: lineartest.Fill("", string(subs), "", linearInput)},
		{Name: "wrong directory", Input: lineartest.Fill("", string(badDir), "", linearInput)},
		{Name: "NUL stretches", Input: lineartest.Fill("", string(rwSampleRecord("N"))+string(make([]byte, 600)), "", linearInput)},
	}
	read := func(b []byte) int { return drain(NewISO2709Reader(bytes.NewReader(b), ReaderOptions{})) }
	lineartest.Check(t, "a catalogue", maxSlowdown, lineartest.Fill("", string(sample), "", linearInput), 1000, shapes, read)
}

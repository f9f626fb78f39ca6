package marc

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
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

// fillTo repeats unit until the whole is at least n bytes, between head
// and tail.
func fillTo(head, unit, tail string, n int) []byte {
	var b bytes.Buffer
	b.WriteString(head)
	for b.Len() < n {
		b.WriteString(unit)
	}
	b.WriteString(tail)
	return b.Bytes()
}

// nsPerByte reads data to its end with read, taking the fastest of three
// rounds so that a busy moment on a shared machine does not count.
func nsPerByte(t *testing.T, data []byte, read func(io.Reader) int) (float64, int) {
	t.Helper()
	best, n := time.Duration(1<<62), 0
	for range 3 {
		start := time.Now()
		n = read(bytes.NewReader(data))
		best = min(best, time.Since(start))
	}
	return float64(best.Nanoseconds()) / float64(len(data)), n
}

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
	shapes := []struct {
		name string
		doc  []byte
	}{
		{"many attributes", fillTo(head, rec(`<datafield tag="500" ind1=" " ind2=" "`+attrs.String()+`><subfield code="a">x</subfield></datafield>`), `</collection>`, linearInput)},
		{"deep nesting", fillTo(head, rec(strings.Repeat("<x>", 1000)+strings.Repeat("</x>", 1000)), `</collection>`, linearInput)},
		// Four thousand declarations in force, none of them the prefix
		// the records use.
		{"namespace declarations", fillTo(`<collection xmlns:m="http://www.loc.gov/MARC21/slim">`+decls.String(),
			strings.Repeat("<m:x/>", 20)+`<m:record><m:leader>00000nam a2200000 a 4500</m:leader><m:controlfield tag="001">1</m:controlfield></m:record>`,
			strings.Repeat("</x>", 1000)+`</collection>`, linearInput)},
		{"long names", fillTo(head, rec(strings.Repeat("<"+long+"/>", 200)), `</collection>`, linearInput)},
		{"tiny subfields", fillTo(head, rec(`<datafield tag="500" ind1=" " ind2=" ">`+strings.Repeat(`<subfield code="a">x</subfield>`, 9000)+`</datafield>`), `</collection>`, linearInput)},
		{"references", fillTo(head, rec(`<datafield tag="500" ind1=" " ind2=" "><subfield code="a">`+strings.Repeat("&#x1EC7;&amp;", 5000)+`</subfield></datafield>`), `</collection>`, linearInput)},
		{"broken records", fillTo(head, rec(`<datafield tag="500"><subfield code="a">&bogus;</subfield></datafield>`)+rec(""), `</collection>`, linearInput)},
		{"comments and CDATA", fillTo(head, rec(`<datafield tag="500" ind1=" " ind2=" "><subfield code="a">`+strings.Repeat("<!--c--><![CDATA[d]]>", 3000)+`</subfield></datafield>`), `</collection>`, linearInput)},
		{"records over the size limit", fillTo(head, rec(`<datafield tag="500" ind1=" " ind2=" "><subfield code="a">`+strings.Repeat("x", 300<<10)+`</subfield></datafield>`), `</collection>`, linearInput)},
	}
	read := func(r io.Reader) int { return drain(NewXMLReader(r, ReaderOptions{})) }
	normal, n := nsPerByte(t, fillTo(head, string(opera[first:last]), `</collection>`, linearInput), read)
	if n < 400 {
		t.Fatalf("the normal catalogue gave %d records", n)
	}
	for _, s := range shapes {
		ns, n := nsPerByte(t, s.doc, read)
		t.Logf("%-28s %6.1f ns/byte, %5.1f× a catalogue's %.1f (%d results)", s.name, ns, ns/normal, normal, n)
		if n < 2 {
			t.Errorf("%s: %d results: the input was not read through", s.name, n)
		}
		if ns > maxSlowdown*normal {
			t.Errorf("%s: %.1f ns/byte, %.0f× a catalogue's %.1f (at most %d×)", s.name, ns, ns/normal, normal, maxSlowdown)
		}
	}
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
	shapes := []struct {
		name string
		data []byte
	}{
		{"digits without terminator", fillTo("", "0123456789", "", linearInput)},
		{"leaders lying about length", fillTo("", string(lying), "", linearInput)},
		{"seven thousand fields", fillTo("", string(manyFields), "", linearInput)},
		{"five thousand subfields", fillTo("", string(subs), "", linearInput)},
		{"wrong directory", fillTo("", string(badDir), "", linearInput)},
		{"NUL stretches", fillTo("", string(rwSampleRecord("N"))+string(make([]byte, 600)), "", linearInput)},
	}
	read := func(r io.Reader) int { return drain(NewISO2709Reader(r, ReaderOptions{})) }
	normal, n := nsPerByte(t, fillTo("", string(sample), "", linearInput), read)
	if n < 1000 {
		t.Fatalf("the normal catalogue gave %d records", n)
	}
	for _, s := range shapes {
		ns, n := nsPerByte(t, s.data, read)
		t.Logf("%-28s %6.1f ns/byte, %5.1f× a catalogue's %.1f (%d results)", s.name, ns, ns/normal, normal, n)
		if n < 1 {
			t.Errorf("%s: no results", s.name)
		}
		if ns > maxSlowdown*normal {
			t.Errorf("%s: %.1f ns/byte, %.0f× a catalogue's %.1f (at most %d×)", s.name, ns, ns/normal, normal, maxSlowdown)
		}
	}
}

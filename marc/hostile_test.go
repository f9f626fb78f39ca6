package marc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/unicat/unicat/internal/heapwatch"
)

// repeatReader yields pattern over and over: input of any size without
// holding it.
type repeatReader struct {
	pattern []byte
	off     int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.pattern[r.off:])
		n += c
		r.off = (r.off + c) % len(r.pattern)
	}
	return n, nil
}

func repeated(pattern string, n int64) io.Reader {
	return io.LimitReader(&repeatReader{pattern: []byte(pattern)}, n)
}

// A 50 MB stretch without a record terminator between two records is one
// rejection naming where it starts and how long it is, read in bounded
// memory; both records are kept.
func TestISO2709JunkStretchIsOneError(t *testing.T) {
	a, b := rwSampleRecord("A"), rwSampleRecord("B")
	const junk = 50 << 20
	var recs []*Record
	var errs []*RecordError
	peak := heapwatch.Peak(func() {
		in := io.MultiReader(bytes.NewReader(a), repeated("no record here ", junk), bytes.NewReader(b))
		recs, _, errs = rwReadAll(t, NewISO2709Reader(in, ReaderOptions{Source: "junk.mrc"}))
	})
	if len(recs) != 2 || recs[0].ControlNumber() != "A" || recs[1].ControlNumber() != "B" {
		t.Fatalf("%d records", len(recs))
	}
	if len(errs) != 1 || errs[0].Offset != int64(len(a)) || errs[0].Index != 2 ||
		!strings.Contains(errs[0].Error(), fmt.Sprintf("%d bytes without a record terminator", junk)) {
		t.Fatalf("errors %v", errs)
	}
	t.Logf("peak heap %d KB", peak>>10)
	if peak > 8<<20 {
		t.Errorf("reading 50 MB of junk took %d MB of heap at its peak, want under 8", peak>>20)
	}
}

// A stretch of NUL bytes between records (a zeroed part of a file) is
// reported once with its offset and length; short NUL padding is not.
func TestISO2709NULStretch(t *testing.T) {
	a, b := rwSampleRecord("A"), rwSampleRecord("B")
	for _, c := range []struct {
		nuls    int
		between string
		report  bool
	}{{300 << 10, "", true}, {nulStretch, "\n", true}, {nulStretch - 1, "", false}, {100, "\r\n", false}} {
		data := append(append(append([]byte{}, a...), c.between...), make([]byte, c.nuls)...)
		data = append(data, b...)
		recs, _, errs := rwReadBytes(t, data)
		if len(recs) != 2 {
			t.Fatalf("%d NULs: %d records", c.nuls, len(recs))
		}
		if !c.report {
			if len(errs) != 0 {
				t.Errorf("%d NULs reported: %v", c.nuls, errs)
			}
			continue
		}
		want := fmt.Sprintf("%d NUL bytes between records skipped", c.nuls)
		if len(errs) != 1 || errs[0].Offset != int64(len(a)) || !strings.Contains(errs[0].Error(), want) {
			t.Errorf("%d NULs: errors %v, want one at %d saying %q", c.nuls, errs, len(a), want)
		}
	}
	// At the end of the input too.
	data := append(rwSampleRecord("A"), make([]byte, 4096)...)
	if recs, _, errs := rwReadBytes(t, data); len(recs) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "4096 NUL") {
		t.Errorf("trailing NULs: %d records, %v", len(recs), errs)
	}
}

// MaxRecordBytes rejects a larger record, saying how large, and the next
// record is read.
func TestMaxRecordBytes(t *testing.T) {
	small := rwSampleRecord("S")
	big := rwBuildISO("00000nam a2200000 a 4500", rwRawField{"001", "BIG"}, rwRawField{"520", "  \x1fa" + strings.Repeat("x", 2000)})
	data := append(append(append([]byte{}, small...), big...), small...)
	recs, _, errs := rwReadAll(t, NewISO2709Reader(bytes.NewReader(data), ReaderOptions{MaxRecordBytes: 1000}))
	want := fmt.Sprintf("%d bytes, more than the 1000 allowed", len(big))
	if len(recs) != 2 || len(errs) != 1 || !errors.Is(errs[0], ErrRecordTooLarge) || !strings.Contains(errs[0].Error(), want) ||
		errs[0].Offset != int64(len(small)) {
		t.Fatalf("ISO 2709: %d records, %v", len(recs), errs)
	}
	if recs, _, errs := rwReadAll(t, NewISO2709Reader(bytes.NewReader(data), ReaderOptions{})); len(recs) != 3 || len(errs) != 0 {
		t.Fatalf("ISO 2709, default limit: %d records, %v", len(recs), errs)
	}

	ns := `xmlns="http://www.loc.gov/MARC21/slim"`
	bigXML := `<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">BIG</controlfield>` +
		`<datafield tag="520" ind1=" " ind2=" "><subfield code="a">` + strings.Repeat("x", 2000) + `</subfield></datafield></record>`
	doc := `<collection ` + ns + `><record>` + rwRecA + `</record>` + bigXML + `<record>` + rwRecA + `</record></collection>`
	recs, _, errs = rwReadAll(t, NewXMLReader(strings.NewReader(doc), ReaderOptions{MaxRecordBytes: 1000}))
	// leader 24, 001: 12+1+3, 520: 12+1+2+2+2000, terminators 2.
	if len(recs) != 2 || len(errs) != 1 || !errors.Is(errs[0], ErrRecordTooLarge) ||
		!strings.Contains(errs[0].Error(), "2059 bytes as ISO 2709, more than the 1000 allowed") ||
		errs[0].Offset != int64(strings.Index(doc, bigXML)) {
		t.Fatalf("MARCXML: %d records, %v", len(recs), errs)
	}
}

// A MARCXML record with a 50 MB subfield is rejected while it is read:
// the reader never holds it, and the record after it is read.
func TestXMLHugeSubfield(t *testing.T) {
	ns := `xmlns="http://www.loc.gov/MARC21/slim"`
	const huge = 50 << 20
	head := `<collection ` + ns + `><record>` + rwRecA + `<datafield tag="520" ind1=" " ind2=" "><subfield code="a">`
	tail := `</subfield></datafield></record><record>` + rwRecA + `</record></collection>`
	var recs []*Record
	var errs []*RecordError
	peak := heapwatch.Peak(func() {
		in := io.MultiReader(strings.NewReader(head), repeated("Nghệ An &amp; ", huge), strings.NewReader(tail))
		recs, _, errs = rwReadAll(t, NewXMLReader(in, ReaderOptions{Source: "huge.xml"}))
	})
	if len(recs) != 1 || recs[0].ControlNumber() != "A1" {
		t.Fatalf("%d records", len(recs))
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrRecordTooLarge) || errs[0].Offset != int64(len(`<collection `+ns+`>`)) {
		t.Fatalf("errors %v", errs)
	}
	var size int
	if _, err := fmt.Sscanf(errs[0].Err.Error()[strings.Index(errs[0].Err.Error(), ": ")+2:], "%d bytes", &size); err != nil || size < huge*9/14 {
		t.Errorf("size given %d (%v) in %v", size, err, errs[0])
	}
	t.Logf("peak heap %d KB", peak>>10)
	if peak > 16<<20 {
		t.Errorf("a 50 MB subfield took %d MB of heap at its peak, want under 16", peak>>20)
	}
}

// One record broken anywhere in a collection of 1,002 costs that record:
// the 1,001 others are read, whatever the fault.
func TestXMLBrokenRecordKeepsTheRest(t *testing.T) {
	ns := `xmlns="http://www.loc.gov/MARC21/slim"`
	for _, fault := range []struct{ name, from, to string }{
		{"undefined entity", "Title &amp; more", "Title &bogus; more"},
		{"mismatched end tag", "</subfield></datafield>", "</subfield></datafeld>"},
		{"unclosed field", "</subfield></datafield>", "</subfield>"},
		{"unclosed record", "</datafield></record>", "</datafield>"},
		{"bad attribute", `tag="245"`, `tag=245`},
	} {
		var doc strings.Builder
		doc.WriteString(`<collection ` + ns + `>`)
		for i := 1; i <= 1002; i++ {
			rec := `<record>` + strings.Replace(rwRecA, "A1", fmt.Sprint(i), 1) + "</record>\n"
			if i == 2 {
				rec = strings.Replace(rec, fault.from, fault.to, 1)
			}
			doc.WriteString(rec)
		}
		doc.WriteString(`</collection>`)
		recs, _, errs := rwReadAll(t, NewXMLReader(strings.NewReader(doc.String()), ReaderOptions{Source: "f.xml"}))
		if len(recs) != 1001 || len(errs) != 1 || errs[0].Index != 2 {
			t.Errorf("%s: %d records, errors %v", fault.name, len(recs), errs)
			continue
		}
		if recs[0].ControlNumber() != "1" || recs[1].ControlNumber() != "3" || recs[1000].ControlNumber() != "1002" {
			t.Errorf("%s: records %s, %s, ..., %s", fault.name, recs[0].ControlNumber(), recs[1].ControlNumber(), recs[1000].ControlNumber())
		}
	}
}

// Size is the length AppendISO2709 writes.
func TestRecordSize(t *testing.T) {
	recs, _, _ := rwReadFile(t, rwTestdata("marc", "zebra", "sample-marc.mrc"), FormatISO2709)
	if len(recs) < 5 {
		t.Fatalf("%d records", len(recs))
	}
	recs = append(recs, &Record{Leader: "00000nam a2200000 a 4500"},
		&Record{Leader: "00000nam a2200000 a 4500", Fields: []Field{{Tag: "001", Value: "x"}, {Tag: "500", Ind1: '1'}}})
	for i, rec := range recs {
		raw, err := EncodeISO2709(rec)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Size() != len(raw) {
			t.Errorf("record %d: Size %d, encoded %d bytes", i+1, rec.Size(), len(raw))
		}
	}
}

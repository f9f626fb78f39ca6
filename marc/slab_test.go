package marc

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
)

// slabTestRecords are records of every size around the slab's limits: a
// field count from 1 to past slabFields/4 (which gets an array of its own)
// and as many subfields as fields, or twice as many.
func slabTestRecords() []*Record {
	var out []*Record
	for n := 1; n <= slabFields/4+3; n += 5 {
		for _, subs := range []int{1, 2} {
			r := &Record{Leader: "00000nam a2200000 a 4500"}
			r.Fields = append(r.Fields, Field{Tag: "001", Value: fmt.Sprintf("rec-%d-%d", n, subs)})
			for i := 1; i < n; i++ {
				f := Field{Tag: "500", Ind1: ' ', Ind2: ' '}
				for j := 0; j < subs; j++ {
					f.Subfields = append(f.Subfields, Subfield{Code: 'a' + byte(j), Value: fmt.Sprintf("field %d of %d, subfield %d: Nghệ An", i, n, j)})
				}
				r.Fields = append(r.Fields, f)
			}
			out = append(out, r)
		}
	}
	// Text before a field's first delimiter is kept as a subfield of its
	// own: a record with more subfields than delimiters. The reader is
	// given it with "\x1fa" made "xx" in ISO 2709 (TestRecordSlab).
	stray := &Record{Leader: "00000nam a2200000 a 4500", Fields: []Field{{Tag: "001", Value: "stray"}}}
	for i := 0; i < 20; i++ {
		stray.Fields = append(stray.Fields, Field{Tag: "500", Ind1: ' ', Ind2: ' ', Subfields: []Subfield{{Code: 'a', Value: "STRAY"}, {Code: 'b', Value: "after"}}})
	}
	// Twice over, so that several records share each slab array.
	out = append(out, stray)
	return append(out, out...)
}

// TestSlabSize: a slab's first array is what the first record asks for
// (a reader of one record allocates no more than without a slab), each
// next one twice the last, never past the limit, never short of the
// request.
func TestSlabSize(t *testing.T) {
	for _, c := range []struct {
		asks []int // requests that each need a new array
		want []int // the arrays' sizes
	}{
		{[]int{1}, []int{1}},
		{[]int{20}, []int{20}},
		{[]int{1, 1, 1, 1, 1, 1, 1, 1}, []int{1, 2, 4, 8, 16, 32, 64, 64}},
		{[]int{14, 14, 14, 14, 14}, []int{14, 28, 56, 64, 64}},
		{[]int{3, 40, 2}, []int{3, 40, 64}},
		{[]int{60, 64}, []int{60, 64}},
	} {
		next := 0
		var got []int
		for _, n := range c.asks {
			got = append(got, slabSize(n, &next, 64))
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("asks %v: arrays %v, want %v", c.asks, got, c.want)
		}
	}
}

// cloneRecord copies r into arrays of its own, empty slices staying empty
// and nil ones nil, so that the copy is reflect.DeepEqual to r. Its Origin
// is r's: no reader reuses one.
func cloneRecord(r *Record) *Record {
	c := &Record{Leader: r.Leader, Origin: r.Origin}
	if r.Fields != nil {
		c.Fields = make([]Field, len(r.Fields))
	}
	for i, f := range r.Fields {
		c.Fields[i] = f
		if f.Subfields != nil {
			c.Fields[i].Subfields = append(make([]Subfield, 0, len(f.Subfields)), f.Subfields...)
		}
	}
	return c
}

// TestRecordSlab reads records carved from shared arrays, from ISO 2709
// and from MARCXML, and grows each in turn (a field appended to the
// record, a subfield to each field): no other record may change.
func TestRecordSlab(t *testing.T) {
	recs := slabTestRecords()
	var iso, xml []byte
	xml = append(xml, `<collection xmlns="http://www.loc.gov/MARC21/slim">`...)
	for _, r := range recs {
		var err error
		if iso, err = AppendISO2709(iso, r); err != nil {
			t.Fatal(err)
		}
		xml, _ = AppendMARCXML(xml, r, false)
	}
	xml = append(xml, "</collection>"...)
	// The stray text is ISO 2709's alone.
	iso = bytes.ReplaceAll(iso, []byte("\x1faSTRAY"), []byte("xxSTRAY"))
	for _, c := range []struct {
		f      Format
		stream []byte
		stray  string
	}{{FormatISO2709, iso, "xxSTRAY"}, {FormatMARCXML, xml, "STRAY"}} {
		want := make([]*Record, len(recs))
		for i, r := range recs {
			want[i] = cloneRecord(r)
			for j := range want[i].Fields {
				if f := &want[i].Fields[j]; len(f.Subfields) > 0 && f.Subfields[0].Value == "STRAY" {
					f.Subfields[0].Value = c.stray
				}
			}
		}
		checkSlabRecords(t, c.f, c.stream, want)
	}
}

func checkSlabRecords(t *testing.T, f Format, stream []byte, want []*Record) {
	t.Helper()
	got, _, errs := rwReadAll(t, NewReader(bytes.NewReader(stream), f, ReaderOptions{Source: "slab"}))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", f, errs[0])
	}
	if len(got) != len(want) {
		t.Fatalf("%s: read %d records, wrote %d", f, len(got), len(want))
	}
	kept := make([]*Record, len(got))
	for i, r := range got {
		if !reflect.DeepEqual(r.Fields, want[i].Fields) {
			t.Fatalf("%s: record %d: read %+v, wrote %+v", f, i, r.Fields, want[i].Fields)
		}
		kept[i] = cloneRecord(r)
	}
	for i, r := range got {
		r.Fields = append(r.Fields, Field{Tag: "999", Ind1: ' ', Ind2: ' ', Subfields: []Subfield{{Code: 'z', Value: "added"}}})
		for j := range r.Fields {
			if !r.Fields[j].IsControl() {
				r.Fields[j].Subfields = append(r.Fields[j].Subfields, Subfield{Code: 'y', Value: "grown"})
			}
		}
		for k := i + 1; k < len(got); k++ {
			if !reflect.DeepEqual(got[k].Fields, kept[k].Fields) {
				t.Fatalf("%s: growing record %d changed record %d", f, i, k)
			}
		}
	}
}

package marc

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"runtime"
	"testing"
)

// reuseRead is what a caller reusing records sees of a stream: a copy of
// each record made before the next call to Next, the warnings, and the
// strings of each record as handed out (not copied: they must stay
// valid).
type reuseRead struct {
	recs  []*Record
	warns [][]Warning
	errs  []string
	strs  [][]string
}

func readReusing(t *testing.T, r WarningReader) reuseRead {
	t.Helper()
	var out reuseRead
	for i := 0; ; i++ {
		if i > 1e6 {
			t.Fatal("reader does not stop")
		}
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		var re *RecordError
		if errors.As(err, &re) {
			out.errs = append(out.errs, err.Error())
			continue
		}
		if err != nil {
			t.Fatalf("fatal error: %v", err)
		}
		out.recs = append(out.recs, cloneRecord(rec))
		out.warns = append(out.warns, r.Warnings())
		out.strs = append(out.strs, recordStrings(rec))
	}
}

// allocatedReading reads r through and returns the bytes allocated
// meanwhile.
func allocatedReading(t *testing.T, r WarningReader) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil && !errors.As(err, new(*RecordError)) {
			t.Fatalf("fatal error: %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// recordStrings are the strings of r, as they are.
func recordStrings(r *Record) []string {
	s := []string{r.Leader}
	for _, f := range r.Fields {
		s = append(s, f.Tag, f.Value)
		for _, sf := range f.Subfields {
			s = append(s, sf.Value)
		}
	}
	return s
}

// TestReuseRecords: a reader reusing records returns, call by call, the
// records, warnings and errors a reader without reuse returns (read
// ahead and one record at a time, ISO 2709 and MARCXML), allocates at
// most half the bytes doing so (the arrays records are carved from are
// lent again, not made anew), and leaves the strings of every record it
// returned as they were. The stream is long enough that reading ahead
// (which holds up to aheadDepth+1 batches of records at once) reuses
// arrays too.
func TestReuseRecords(t *testing.T) {
	var many []*Record
	for len(many) < 24*aheadRecords {
		many = append(many, slabTestRecords()...)
	}
	var iso, xml []byte
	xml = append(xml, `<collection xmlns="http://www.loc.gov/MARC21/slim">`...)
	for i, r := range many {
		var err error
		if iso, err = AppendISO2709(iso, r); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 { // a quarter of them: MARCXML is six times the reading
			xml, _ = AppendMARCXML(xml, r, false)
		}
	}
	xml = append(xml, "</collection>"...)

	readers := func(f Format, data []byte, opts ReaderOptions) map[string]WarningReader {
		if f == FormatMARCXML {
			ahead := NewXMLReader(bytes.NewReader(data), opts)
			if ahead.ahead == nil {
				ahead.ahead = &xmlAhead{depth: aheadDepth(2)}
			}
			return map[string]WarningReader{"MARCXML ahead": ahead,
				"MARCXML sequentially": newSequentialXMLReader(bytes.NewReader(data), opts)}
		}
		ahead := NewISO2709Reader(bytes.NewReader(data), opts)
		if ahead.ahead == nil {
			ahead.ahead = &readAhead{depth: aheadDepth(2), end: io.EOF}
		}
		return map[string]WarningReader{"ISO 2709 ahead": ahead,
			"ISO 2709 sequentially": newSequentialISO2709Reader(bytes.NewReader(data), opts)}
	}
	check := func(name string, f Format, data []byte, opts ReaderOptions, shared bool) {
		t.Helper()
		reuse := opts
		reuse.ReuseRecords = true
		for how, r := range readers(f, data, reuse) {
			want := readReusing(t, readers(f, data, opts)[how])
			got := readReusing(t, r)
			if !reflect.DeepEqual(got.errs, want.errs) || len(got.recs) != len(want.recs) {
				t.Fatalf("%s, %s: %d records and errors %q reusing records, %d and %q without",
					name, how, len(got.recs), got.errs, len(want.recs), want.errs)
			}
			for i := range want.recs {
				if !reflect.DeepEqual(got.recs[i], want.recs[i]) || !reflect.DeepEqual(got.warns[i], want.warns[i]) {
					t.Fatalf("%s, %s: record %d reusing records:\n %+v %v\nwithout:\n %+v %v",
						name, how, i+1, got.recs[i], got.warns[i], want.recs[i], want.warns[i])
				}
				if !reflect.DeepEqual(got.strs[i], want.strs[i]) {
					t.Fatalf("%s, %s: the strings of record %d changed after it was handed out", name, how, i+1)
				}
			}
			if !shared {
				continue
			}
			// The least of three: what other goroutines allocate
			// meanwhile counts too.
			reused, fresh := allocatedReading(t, readers(f, data, reuse)[how]), allocatedReading(t, readers(f, data, opts)[how])
			for range 2 {
				reused = min(reused, allocatedReading(t, readers(f, data, reuse)[how]))
			}
			if reused > fresh/2 {
				t.Errorf("%s, %s: reading allocated %d bytes reusing records, %d without", name, how, reused, fresh)
			}
		}
	}
	check("many records", FormatISO2709, iso, ReaderOptions{}, true)
	check("many records", FormatMARCXML, xml, ReaderOptions{}, true)
	for _, c := range pinCases(t) {
		check(c.name, c.f, c.data, ReaderOptions{Source: c.name, Charset: c.cs}, false)
	}
}

// TestSlabLendsOnlyUnderReuse: a slab lends its arrays again only to
// records read with reuse; a record built without reuse, after records
// built with it, is never carved from a lent array.
func TestSlabLendsOnlyUnderReuse(t *testing.T) {
	var s recordSlab
	// Two rounds to reach the arrays' full size: the first arrays are
	// small (slabSize), and replaced by larger ones as they come round.
	for round := 0; round < 2; round++ {
		s.reset(true)
		for i := 0; i < 2*slabFields; i++ {
			s.fieldArray(1)
		}
	}
	s.reset(true)
	first := s.fieldArray(3)
	first[0].Tag = "245"
	s.reset(true)
	again := s.fieldArray(3)
	if &again[0] != &first[0] {
		t.Fatalf("with reuse the slab carved a new array")
	}
	s.reset(false)
	kept := s.fieldArray(3)
	kept[0].Tag = "100"
	s.reset(true)
	for i := 0; i < slabFields; i++ {
		s.fieldArray(1)[0].Tag = "001"
	}
	if kept[0].Tag != "100" {
		t.Fatalf("a field read without reuse was written over by a later reading with reuse")
	}
}

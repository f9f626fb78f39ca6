package marc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// compareXMLReads reads MARCXML data ahead and one record at a time, with
// and without reusing records, and reports the first difference.
func compareXMLReads(t *testing.T, name string, data []byte, opts ReaderOptions, failAfter int) int {
	t.Helper()
	return compareReadsOf(t, name, data, opts, failAfter,
		func(src io.Reader, opts ReaderOptions) offsetReader { return newSequentialXMLReader(src, opts) },
		func(src io.Reader, opts ReaderOptions) offsetReader {
			r := NewXMLReader(src, opts)
			if r.ahead == nil {
				r.ahead = &xmlAhead{depth: aheadDepth(2)}
			}
			return r
		})
}

// TestXMLReadAheadSameAsSequential: every MARCXML test file under every
// charset setting, whole, damaged and cut off by a read error, and one
// long collection with broken records in it, read the same ahead as one
// record at a time: records, errors, warnings, offsets, and the error
// that ends the document.
func TestXMLReadAheadSameAsSequential(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 1))
	results := 0
	for _, c := range pinCases(t) {
		if c.f != FormatMARCXML {
			continue
		}
		opts := ReaderOptions{Source: c.name, Charset: c.cs}
		results += compareXMLReads(t, c.name, c.data, opts, -1)
		results += compareXMLReads(t, c.name+" damaged", damage(rng, c.data), opts, -1)
		results += compareXMLReads(t, c.name+" read error", c.data, opts, rng.IntN(len(c.data)+1))
	}
	var long []byte
	long = append(long, `<collection xmlns="http://www.loc.gov/MARC21/slim">`...)
	for i := 0; i < 3000; i++ {
		switch {
		case i%97 == 13:
			long = append(long, `<record><leader>00000nam a2200000 a 4500</leader><datafield tag="245"><subfield code="a">&nosuch;</subfield></datafield></record>`...)
		case i%89 == 7:
			long = append(long, `<record><controlfield tag="001">no leader</controlfield></record>`...)
		case i%5 == 3: // a warning
			long = append(long, `<record><leader>00000nam a2200000 a 4500</leader><note>ignored</note></record>`...)
		default:
			long = append(long, fmt.Sprintf(`<record><leader>00000nam a2200000 a 4500</leader><controlfield tag="001">r%d</controlfield>`+
				`<datafield tag="245" ind1="1" ind2="0"><subfield code="a">Truyện Kiều %d</subfield><subfield code="c">%s</subfield></datafield></record>`,
				i, i, []string{"Nguyễn Du", "García Márquez", dtDouble("Hà Nội")}[i%3])...)
		}
	}
	long = append(long, "</collection>"...)
	n := compareXMLReads(t, "long collection", long, ReaderOptions{Source: "long"}, -1)
	if n != 3000 {
		t.Errorf("the long collection read as %d results, want 3000", n)
	}
	results += n + compareXMLReads(t, "long collection cut", long, ReaderOptions{Source: "long"}, len(long)/2)
	// Ended by XML that is not well-formed after the last record: the
	// error comes with no record's warnings, though every record had one.
	warned := `<collection xmlns="http://www.loc.gov/MARC21/slim">` + strings.Repeat(
		`<record><leader>00000nam a2200000 a 4500</leader><note>ignored</note></record>`, 1000) + `</collection><`
	results += compareXMLReads(t, "warned collection, broken after it", []byte(warned), ReaderOptions{Source: "warned"}, -1)
	t.Logf("%d results compared", results)
}

// TestXMLReadAheadAbandoned: a caller that stops calling Next leaves no
// goroutine running once the batches in flight are finished.
func TestXMLReadAheadAbandoned(t *testing.T) {
	data := []byte(`<collection xmlns="http://www.loc.gov/MARC21/slim">` + strings.Repeat(
		`<record><leader>00000nam a2200000 a 4500</leader><datafield tag="245" ind1="1" ind2="0">`+
			`<subfield code="a">Truyện Kiều</subfield></datafield></record>`, 5000) + `</collection>`)
	before := runtime.NumGoroutine()
	for range 5 {
		r := NewXMLReader(bytes.NewReader(data), ReaderOptions{})
		if r.ahead == nil {
			r.ahead = &xmlAhead{depth: aheadDepth(2)}
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if len(r.ahead.pending) == 0 {
			t.Fatal("nothing read ahead")
		}
	}
	waitGoroutines(t, before)
}

// TestXMLReadAheadPanicIsRecordError: a panic while finishing a record
// ahead ends as that record's error, and the records after it are still
// made.
func TestXMLReadAheadPanicIsRecordError(t *testing.T) {
	opts := ReaderOptions{Source: "panics.xml"}
	broken := newXMLRecBuilder(opts)
	broken.text = []byte("00000nam a2200000 a 4500")
	broken.leader, broken.nlead = span{0, 24}, 1
	broken.fields = []xfield{{tag: span{100, 103}, control: true}} // past the text
	good := newXMLRecBuilder(opts)
	good.text = []byte("00000nam a2200000 a 4500001x1")
	good.leader, good.nlead = span{0, 24}, 1
	good.fields = []xfield{{tag: span{24, 27}, value: span{27, 29}, control: true}}
	bt := &xmlBatch{done: make(chan struct{}), items: []xmlItem{{b: broken, index: 1, off: 3}, {b: good, index: 2, off: 9}}}
	bt.finishAll(opts)
	<-bt.done
	var re *RecordError
	if !errors.As(bt.items[0].err, &re) || re.Index != 1 || re.Offset != 3 || !strings.Contains(re.Error(), "internal error") {
		t.Errorf("first item: error %v, want a RecordError saying internal error", bt.items[0].err)
	}
	if it := bt.items[1]; it.err != nil || it.rec == nil || it.rec.ControlNumber() != "x1" {
		t.Errorf("second item: %+v, %v", it.rec, it.err)
	}
}

// TestDecodeMARCXML: DecodeMARCXML returns the first result a reader of
// the document returns, for every MARCXML test file and charset setting.
func TestDecodeMARCXML(t *testing.T) {
	n := 0
	for _, c := range pinCases(t) {
		if c.f != FormatMARCXML {
			continue
		}
		opts := ReaderOptions{Source: c.name, Charset: c.cs}
		want, wantErr := NewXMLReader(bytes.NewReader(c.data), opts).Next()
		got, err := DecodeMARCXML(c.data, opts)
		if fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s (%s): DecodeMARCXML gave %v, %v; the reader %v, %v", c.name, c.cs, got, err, want, wantErr)
		}
		n++
	}
	if n < 10 {
		t.Errorf("only %d MARCXML cases", n)
	}
}

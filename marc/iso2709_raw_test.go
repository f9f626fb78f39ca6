package marc

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"testing"
)

// checkCanonical holds CanonicalISO2709 to its promise on raw: when it
// says yes, decoding raw and encoding the record again gives raw back,
// each field's data is what AppendFieldData makes of the decoded field,
// and AppendISO2709Fields re-assembles raw from the parts. It returns
// whether raw was canonical.
func checkCanonical(t *testing.T, raw []byte) bool {
	t.Helper()
	leader, fields, ok := CanonicalISO2709(raw, nil)
	if !ok {
		return false
	}
	rec, err := DecodeISO2709(raw, ReaderOptions{Charset: CharsetUTF8})
	if err != nil {
		t.Fatalf("canonical record does not decode: %v\n%q", err, raw)
	}
	again, err := AppendISO2709(nil, rec)
	if err != nil {
		t.Fatalf("canonical record does not encode again: %v\n%q", err, raw)
	}
	if !bytes.Equal(again, raw) {
		t.Fatalf("canonical record changes on decoding and encoding:\n%q\n%q", raw, again)
	}
	if len(fields) != len(rec.Fields) {
		t.Fatalf("%d raw fields, %d decoded", len(fields), len(rec.Fields))
	}
	for i := range fields {
		data, err := AppendFieldData(nil, &rec.Fields[i])
		if err != nil || fields[i].Tag != rec.Fields[i].Tag || !bytes.Equal(data, fields[i].Data) {
			t.Fatalf("field %d: raw %s %q, decoded %s encodes to %q (%v)", i+1, fields[i].Tag, fields[i].Data, rec.Fields[i].Tag, data, err)
		}
	}
	back, err := AppendISO2709Fields(nil, leader, fields)
	if err != nil || !bytes.Equal(back, raw) {
		t.Fatalf("re-assembled record differs (%v):\n%q\n%q", err, raw, back)
	}
	if l2, f2, ok := SplitCanonicalISO2709(raw, nil); !ok || !bytes.Equal(l2, leader) || !reflect.DeepEqual(f2, fields) {
		t.Fatalf("SplitCanonicalISO2709 splits otherwise: %v", ok)
	}
	fromFields, err := DecodeFields(leader, fields)
	if err != nil || !reflect.DeepEqual(fromFields, rec) {
		t.Fatalf("DecodeFields (%v):\n%#v\nDecodeISO2709:\n%#v", err, fromFields, rec)
	}
	return true
}

// TestCanonicalISO2709 runs the check over every record of the test files
// as read (most are not as we write them) and as written by
// AppendISO2709 (all of which must be canonical).
func TestCanonicalISO2709(t *testing.T) {
	asRead, asWritten, total := 0, 0, 0
	for _, path := range rwISOFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rd := NewISO2709Reader(bytes.NewReader(data), ReaderOptions{})
		for {
			start := rd.Offset()
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			var re *RecordError
			if errors.As(err, &re) {
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			total++
			if end := rd.Offset(); end > start && end <= int64(len(data)) && checkCanonical(t, data[start:end]) {
				asRead++
			}
			raw, err := AppendISO2709(nil, rec)
			if err != nil {
				continue // too long, or text ISO 2709 cannot hold
			}
			if !checkCanonical(t, raw) {
				t.Fatalf("%s: a record AppendISO2709 wrote is not canonical:\n%q", path, raw)
			}
			asWritten++
		}
	}
	t.Logf("%d records: %d canonical as read, %d written", total, asRead, asWritten)
	if asWritten < 100 || asRead == 0 {
		t.Fatalf("only %d records written and %d as read checked", asWritten, asRead)
	}
}

// TestCanonicalISO2709Refuses lists what must be decoded instead: each
// case changes when read (or is not what we write).
func TestCanonicalISO2709Refuses(t *testing.T) {
	good := func(fields ...Field) []byte {
		raw, err := AppendISO2709(nil, &Record{Leader: "00000nam a2200000 a 4500", Fields: fields})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	title := Field{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []Subfield{{Code: 'a', Value: "Truyện Kiều"}}}
	base := good(Field{Tag: "001", Value: "x1"}, title)
	if !checkCanonical(t, base) {
		t.Fatalf("plain record refused: %q", base)
	}
	// A value that starts with a mark its reading left unattached is NFC,
	// though the record as a whole is not: the mark joins its code's letter.
	mark := good(Field{Tag: "001", Value: "x1"},
		Field{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []Subfield{{Code: 'a', Value: "\u0309Ù"}}})
	if !checkCanonical(t, mark) {
		t.Fatalf("record with a value starting with a mark refused: %q", mark)
	}
	edit := func(what string, f func(b []byte) []byte) {
		b := f(bytes.Clone(base))
		if _, _, ok := CanonicalISO2709(b, nil); ok {
			t.Errorf("%s: accepted %q", what, b)
		}
	}
	edit("MARC-8 leader", func(b []byte) []byte { b[9] = ' '; return b })
	edit("three indicators", func(b []byte) []byte { b[10] = '3'; return b })
	edit("wrong length", func(b []byte) []byte { b[4]++; return b })
	edit("no record terminator", func(b []byte) []byte { return b[:len(b)-1] })
	edit("wrong base address", func(b []byte) []byte { b[16]++; return b })
	edit("decomposed text", func(b []byte) []byte {
		return good(Field{Tag: "001", Value: "x1"}, Field{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []Subfield{{Code: 'a', Value: "Truye\u0323\u0302n Kie\u0300u"}}})
	})
	edit("invalid UTF-8", func(b []byte) []byte {
		b[bytes.Index(b, []byte("Truy"))] = 0xFF
		return b
	})
	edit("text before the first subfield", func(b []byte) []byte {
		return good(Field{Tag: "245", Value: "Truyện Kiều"})
	})
	edit("delimiter in a control field", func(b []byte) []byte {
		i := bytes.Index(b, []byte("x1"))
		b[i] = 0x1f
		return b
	})
	edit("empty subfield", func(b []byte) []byte {
		i := bytes.Index(b, []byte("\x1faTruy"))
		b[i+1] = 0x1f
		return b
	})
	edit("indicator not printable", func(b []byte) []byte {
		i := bytes.Index(b, []byte("10\x1fa"))
		b[i] = 0x07
		return b
	})
	edit("field out of place", func(b []byte) []byte {
		b[LeaderLen+12+3+4+4]++ // the 245 entry's start, one on
		return b
	})
}

// FuzzCanonicalISO2709 checks the promise on any bytes, and that whatever
// the reader makes of them comes out canonical when written.
func FuzzCanonicalISO2709(f *testing.F) {
	rwSeedFiles(f, "yaz/*.marc", "zebra/*.mrc")
	f.Add(rwSampleRecord("F1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkCanonical(t, data)
		rec, err := NewISO2709Reader(bytes.NewReader(data), ReaderOptions{}).Next()
		if err != nil {
			return
		}
		if raw, err := AppendISO2709(nil, rec); err == nil && !checkCanonical(t, raw) {
			t.Fatalf("written record not canonical: %q", raw)
		}
	})
}

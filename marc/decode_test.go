package marc

import (
	"bytes"
	"io"
	"os"
	"reflect"
	"testing"
)

func TestDecodeISO2709(t *testing.T) {
	data, err := os.ReadFile("../testdata/marc/zebra/sample-marc.mrc")
	if err != nil {
		t.Fatal(err)
	}
	rd := NewISO2709Reader(bytes.NewReader(data), ReaderOptions{})
	n := 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			continue
		}
		raw, err := AppendISO2709(nil, rec)
		if err != nil {
			t.Fatal(err)
		}
		keep := bytes.Clone(raw)
		got, err := DecodeISO2709(raw, ReaderOptions{Charset: CharsetUTF8})
		if err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
		want, _ := NewISO2709Reader(bytes.NewReader(raw), ReaderOptions{Charset: CharsetUTF8}).Next()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("record %d: DecodeISO2709 differs from the reader", n)
		}
		if !bytes.Equal(raw, keep) {
			t.Errorf("record %d: raw was modified", n)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d records", n)
	}
	if _, err := DecodeISO2709(nil, ReaderOptions{}); err != io.EOF {
		t.Errorf("empty: %v", err)
	}
}

func BenchmarkDecodeISO2709(b *testing.B) {
	rec := &Record{Leader: "00000nam a2200000 a 4500", Fields: []Field{{Tag: "001", Value: "x"},
		{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []Subfield{{Code: 'a', Value: "Truyện Kiều"}}}}}
	raw, _ := AppendISO2709(nil, rec)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeISO2709(raw, ReaderOptions{Charset: CharsetUTF8}); err != nil {
			b.Fatal(err)
		}
	}
}

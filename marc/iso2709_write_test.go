package marc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

// rwSameRecord reports how a differs from b, field by field and byte for
// byte, ignoring the leader positions writers recompute (lengths, base
// address, 09-11, 20-23).
func rwSameRecord(a, b *Record) string {
	if len(a.Leader) != LeaderLen || len(b.Leader) != LeaderLen {
		return fmt.Sprintf("leaders %q and %q", a.Leader, b.Leader)
	}
	if a.Leader[5:9] != b.Leader[5:9] || a.Leader[17:20] != b.Leader[17:20] {
		return fmt.Sprintf("leader %q, want %q", a.Leader, b.Leader)
	}
	if len(a.Fields) != len(b.Fields) {
		return fmt.Sprintf("%d fields, want %d", len(a.Fields), len(b.Fields))
	}
	for i := range a.Fields {
		x, y := a.Fields[i], b.Fields[i]
		if x.Tag != y.Tag || x.Value != y.Value || x.Ind1 != y.Ind1 || x.Ind2 != y.Ind2 || len(x.Subfields) != len(y.Subfields) {
			return fmt.Sprintf("field %d: %+v, want %+v", i+1, x, y)
		}
		for j := range x.Subfields {
			if x.Subfields[j] != y.Subfields[j] {
				return fmt.Sprintf("field %d (%s) subfield %d: %+v, want %+v", i+1, x.Tag, j+1, x.Subfields[j], y.Subfields[j])
			}
		}
	}
	return ""
}

// rwAllISORecords reads every record of every real ISO 2709 file, with its
// raw bytes and warnings.
func rwAllISORecords(t testing.TB) (recs []*Record, raws [][]byte, warns [][]Warning) {
	t.Helper()
	for _, path := range rwISOFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r := NewISO2709Reader(bytes.NewReader(data), ReaderOptions{Source: path})
		for {
			rec, err := r.Next()
			if err != nil {
				break // errors are tested elsewhere; EOF ends the file
			}
			off := r.Offset()
			end := bytes.IndexByte(data[off:], recordTerminator)
			if end < 0 {
				end = len(data) - int(off) - 1
			}
			recs = append(recs, rec)
			raws = append(raws, data[off:off+int64(end)+1])
			warns = append(warns, r.Warnings())
		}
	}
	return
}

// rwCanonicalISO rebuilds a raw UTF-8 record with each field's text in
// NFC and the leader positions our writer fixes (10-11 "22", 20-23
// "4500"), independently of the writer.
func rwCanonicalISO(t testing.TB, raw []byte) []byte {
	t.Helper()
	base := bytes.IndexByte(raw[LeaderLen:], fieldTerminator) + LeaderLen + 1
	var fields []rwRawField
	for e := LeaderLen; e+12 < base; e += 12 {
		l := rwAtoi(t, raw[e+3:e+7])
		s := rwAtoi(t, raw[e+7:e+12])
		fields = append(fields, rwRawField{string(raw[e : e+3]), norm.NFC.String(string(raw[base+s : base+s+l-1]))})
	}
	leader := []byte(string(raw[:LeaderLen]))
	copy(leader[10:], "22")
	copy(leader[20:], "4500")
	return rwBuildISO(string(leader), fields...)
}

func rwAtoi(t testing.TB, b []byte) int {
	t.Helper()
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", b)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// TestISO2709RoundTrip: every record read from the real files writes back
// and reads back the same; records that were well-formed UTF-8 NFC come
// back byte for byte.
func TestISO2709RoundTrip(t *testing.T) {
	recs, raws, warns := rwAllISORecords(t)
	identical := 0
	for i, rec := range recs {
		out, err := EncodeISO2709(rec)
		if err != nil {
			t.Errorf("record %d (%s): %v", i, rec.ControlNumber(), err)
			continue
		}
		back, w, errs := rwReadBytes(t, out)
		if len(back) != 1 || len(errs) > 0 || len(w[0]) > 0 {
			t.Errorf("record %d (%s): read back %d records, %v, warnings %v", i, rec.ControlNumber(), len(back), errs, w)
			continue
		}
		if d := rwSameRecord(back[0], rec); d != "" {
			t.Errorf("record %d (%s): %s", i, rec.ControlNumber(), d)
		}
		raw := raws[i]
		if len(warns[i]) > 0 || raw[9] != 'a' {
			continue
		}
		// What a well-formed UTF-8 record must come back as: the same
		// bytes, text in NFC (LC exports are often decomposed).
		want := rwCanonicalISO(t, raw)
		if !bytes.Equal(out, want) {
			t.Errorf("record %d (%s): not byte-identical:\n got %q\nwant %q", i, rec.ControlNumber(), out, want)
		}
		identical++
	}
	if identical < 50 {
		t.Errorf("only %d records compared byte for byte", identical)
	}
	t.Logf("%d records round-tripped, %d byte for byte", len(recs), identical)
}

func TestISO2709WriterErrors(t *testing.T) {
	base := func() *Record {
		return &Record{Leader: "00000nam a2200000 a 4500", Fields: []Field{
			{Tag: "001", Value: "x"},
			{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []Subfield{{Code: 'a', Value: "T"}}},
		}}
	}
	cases := []struct {
		name   string
		change func(r *Record)
		want   error
	}{
		{"too long", func(r *Record) {
			for i := 0; i < 20; i++ {
				r.Fields = append(r.Fields, Field{Tag: "500", Ind1: ' ', Ind2: ' ', Subfields: []Subfield{{Code: 'a', Value: strings.Repeat("x", 5000)}}})
			}
		}, ErrTooLong},
		{"field too long", func(r *Record) { r.Fields[1].Subfields[0].Value = strings.Repeat("y", 10000) }, ErrTooLong},
		{"short tag", func(r *Record) { r.Fields[0].Tag = "01" }, ErrInvalidRecord},
		{"terminator in value", func(r *Record) { r.Fields[0].Value = "a\x1eb" }, ErrInvalidRecord},
		{"delimiter in subfield", func(r *Record) { r.Fields[1].Subfields[0].Value = "a\x1fb" }, ErrInvalidRecord},
		{"not UTF-8", func(r *Record) { r.Fields[1].Subfields[0].Value = "caf\xe9" }, ErrInvalidRecord},
		{"bad code", func(r *Record) { r.Fields[1].Subfields[0].Code = ' ' }, ErrInvalidRecord},
		{"short leader", func(r *Record) { r.Leader = "00000nam" }, ErrInvalidRecord},
	}
	for _, c := range cases {
		rec := base()
		c.change(rec)
		var buf bytes.Buffer
		w := NewISO2709Writer(&buf)
		err := w.Write(rec)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if err := w.Flush(); err != nil || buf.Len() != 0 {
			t.Errorf("%s: %d bytes written", c.name, buf.Len())
		}
		if c.want == ErrTooLong && !strings.Contains(err.Error(), "bytes") {
			t.Errorf("%s: %v does not give the size", c.name, err)
		}
		dst := []byte("keep")
		if out, err := AppendISO2709(dst, rec); err == nil || string(out) != "keep" {
			t.Errorf("%s: Append changed dst to %q", c.name, out)
		}
	}
	// The largest record that fits.
	rec := base()
	rec.Fields = rec.Fields[:1]
	n, _ := EncodeISO2709(rec)
	room := MaxRecordLen - len(n)
	for room > 0 {
		v := min(room-12-5, 9990)
		if v < 1 {
			break
		}
		rec.Fields = append(rec.Fields, Field{Tag: "500", Ind1: ' ', Ind2: ' ', Subfields: []Subfield{{Code: 'a', Value: strings.Repeat("z", v)}}})
		room -= v + 12 + 5
	}
	out, err := EncodeISO2709(rec)
	if err != nil || len(out) > MaxRecordLen || len(out) < MaxRecordLen-20 {
		t.Fatalf("near-limit record: %d bytes, %v", len(out), err)
	}
	back, _, errs := rwReadBytes(t, out)
	if len(back) != 1 || len(errs) > 0 || rwSameRecord(back[0], rec) != "" {
		t.Fatalf("near-limit record does not read back")
	}
}

func TestISO2709WriterLeader(t *testing.T) {
	rec := &Record{Leader: "99999cam  9999999 i 4599", Fields: []Field{{Tag: "001", Value: "1"}, {Tag: "245", Subfields: []Subfield{{Code: 'a', Value: "x"}}}}}
	var buf bytes.Buffer
	w := NewISO2709Writer(&buf)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	out := buf.Bytes()
	one := len(out) / 2
	want := fmt.Sprintf("%05dcam a22%05d i 4500", one, LeaderLen+2*12+1)
	if string(out[:LeaderLen]) != want || !bytes.Equal(out[:one], out[one:]) {
		t.Errorf("leader %q, want %q", out[:LeaderLen], want)
	}
	// A data field with zero indicators is written with blanks.
	if !bytes.Contains(out, []byte("\x1e  \x1fax\x1e")) {
		t.Errorf("indicators: %q", out)
	}
}

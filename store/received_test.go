package store

import (
	"reflect"
	"testing"

	"github.com/unicat/unicat/marc"
)

// converted returns testRecord as a reader returns a record whose text
// was converted from enc.
func converted(id, title, enc string, received string) *marc.Record {
	r := testRecord(id, title)
	cs := marc.Charset(enc)
	r.Origin = &marc.Origin{Charset: cs, Label: marc.CharsetUTF8, Fields: 2, Received: []byte(received), ReceivedFormat: marc.FormatISO2709}
	return r
}

func wantEncodings(t *testing.T, s *Store, source string, want []EncodingCount) {
	t.Helper()
	var got []EncodingCount
	if err := s.View(func(tx *Tx) (err error) { got, err = tx.Encodings(source); return }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("encodings of %s: %+v, want %+v", source, got, want)
	}
}

func TestReceivedKept(t *testing.T) {
	s := openTest(t, "xa")
	in := func(r *marc.Record) Incoming { return Incoming{LocalID: r.ControlNumber(), Record: r} }
	res := mustApply(t, s, Batch{Source: "xa", Records: []Incoming{
		in(converted("1", "Truyện Kiều", "tcvn3", "TCVN3 bytes 1")),
		in(converted("2", "Số đỏ", "vni", "VNI bytes 2")),
		in(testRecord("3", "Tắt đèn")),
	}})
	wantResult(t, "first", res, Result{Added: 3})
	r1 := getRecord(t, s, "xa", "1")
	if r1.Encoding != "tcvn3" || string(r1.Received) != "TCVN3 bytes 1" || r1.ReceivedFormat != marc.FormatISO2709 || r1.Label != marc.CharsetUTF8 {
		t.Errorf("record 1: %q %q %q %q", r1.Encoding, r1.Received, r1.ReceivedFormat, r1.Label)
	}
	if r3 := getRecord(t, s, "xa", "3"); r3.Encoding != "" || r3.Received != nil || r3.ReceivedEncoding() != "utf-8" {
		t.Errorf("record 3 kept %q %q", r3.Encoding, r3.Received)
	}
	wantEncodings(t, s, "xa", []EncodingCount{{"utf-8", 1}, {"tcvn3", 1}, {"vni", 1}})

	// The same text received the same way changes nothing; received
	// another way (the library now exports UTF-8) it is an update.
	res = mustApply(t, s, Batch{Source: "xa", Records: []Incoming{
		in(converted("1", "Truyện Kiều", "tcvn3", "TCVN3 bytes 1")),
		in(testRecord("2", "Số đỏ")),
		in(converted("3", "Tắt đèn", "windows-1258", "1258 bytes 3")),
	}})
	wantResult(t, "second", res, Result{Unchanged: 1, Updated: 2})
	if r2 := getRecord(t, s, "xa", "2"); r2.Encoding != "" || r2.Received != nil {
		t.Errorf("record 2 still %q", r2.Encoding)
	}
	wantEncodings(t, s, "xa", []EncodingCount{{"utf-8", 1}, {"tcvn3", 1}, {"windows-1258", 1}})

	// A deleted record no longer counts; its tombstone keeps what it was.
	res = mustApply(t, s, Batch{Source: "xa", Deletions: []Deletion{{LocalID: "1"}}})
	wantResult(t, "delete", res, Result{Deleted: 1})
	if r1 := getRecord(t, s, "xa", "1"); !r1.Deleted || r1.Encoding != "tcvn3" {
		t.Errorf("tombstone: %+v", r1)
	}
	wantEncodings(t, s, "xa", []EncodingCount{{"utf-8", 1}, {"windows-1258", 1}})
}

package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"reflect"
	"testing"
	"time"

	"github.com/unicat/unicat/marc"
)

func sampleRecords() []*SourceRecord {
	raw := []byte("00026nam a2200025 a 4500\x1e\x1d")
	t0 := time.Date(2024, 5, 1, 10, 30, 15, 123456789, time.UTC)
	return []*SourceRecord{
		{Format: marc.FormatISO2709, Raw: raw, Hash: sha256.Sum256(raw), Datestamp: t0, FirstSeen: t0, LastSeen: t0.Add(time.Hour)},
		{Format: marc.FormatMARCXML, Raw: []byte("<record/>"), Deleted: true, LastSeen: t0},
		{Deleted: true, FirstSeen: t0, LastSeen: t0}, // tombstone of an id never stored
		{Format: marc.FormatISO2709, Raw: raw, Datestamp: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		// Converted text: what it arrived as is kept beside it.
		{Format: marc.FormatISO2709, Raw: raw, Hash: sha256.Sum256(raw), FirstSeen: t0, LastSeen: t0,
			Received: []byte("00026nam  2200025 a 4500\x1e\x1d"), ReceivedFormat: marc.FormatISO2709,
			Encoding: "tcvn3", Label: marc.CharsetMARC8},
		{Format: marc.FormatISO2709, Raw: raw, Deleted: true, LastSeen: t0,
			Received: []byte("00026nam a2200025 a 4500\x1e\x1d"), ReceivedFormat: marc.FormatMARCXML,
			Encoding: "vni", Label: marc.CharsetVNI, Override: true},
		{Format: marc.FormatISO2709, Raw: raw, LastSeen: t0, Encoding: "utf-8-double", Label: marc.CharsetUTF8}, // too long to keep
	}
}

func TestSourceRecordEncoding(t *testing.T) {
	for i, r := range sampleRecords() {
		b, err := encodeSourceRecord(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeSourceRecord(b)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, r)
		}
		// Every strict prefix is truncated, never a panic or a success.
		for n := range len(b) {
			if _, err := decodeSourceRecord(b[:n]); err == nil {
				t.Errorf("record %d: prefix of %d/%d bytes decoded", i, n, len(b))
			}
		}
		if _, err := decodeSourceRecord(append(b, 0)); err == nil {
			t.Errorf("record %d: trailing byte accepted", i)
		}
	}
	if _, err := encodeSourceRecord(nil, &SourceRecord{Format: "mods"}); err == nil {
		t.Error("unknown format encoded")
	}
	if _, err := encodeSourceRecord(nil, &SourceRecord{LastSeen: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("year 10000 encoded")
	}
	b, _ := encodeSourceRecord(nil, sampleRecords()[0])
	for _, bad := range [][]byte{
		append([]byte{3}, b[1:]...),                      // unknown version
		append([]byte{2}, b[1:]...),                      // version 2 without an origin
		append([]byte{1, 4}, b[2:]...),                   // unknown flag
		append([]byte{1, 0, 9}, b[3:]...),                // unknown format
		append([]byte{1, 0, 0}, b[3:]...),                // no format but a record
		append([]byte{1, 0, 1}, make([]byte, 32+6+1)...), // format but no record
	} {
		if _, err := decodeSourceRecord(bad); err == nil {
			t.Errorf("decoded % x", bad[:4])
		}
	}
}

func TestSourceInfoAndRunEncoding(t *testing.T) {
	info := SourceInfo{Name: "Thư viện huyện Diễn Châu", LibraryCode: "DC", Level: "district", Kind: "file"}
	got, err := decodeSourceInfo(encodeSourceInfo(nil, &info))
	if err != nil || got != info {
		t.Errorf("source info: %+v %v", got, err)
	}
	run := Run{Start: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC), End: time.Date(2024, 1, 2, 3, 9, 5, 0, time.UTC),
		Added: 1, Updated: 2, Unchanged: 300000, Deleted: 4, Rejected: 5, Pages: 6, Bytes: 1 << 40, Err: "oai: badResumptionToken"}
	b, err := encodeRun(nil, &run)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decodeRun(b); err != nil || got != run {
		t.Errorf("run: %+v %v", got, err)
	}
	if _, err := decodeRun(b[:len(b)-1]); err == nil {
		t.Error("truncated run decoded")
	}
	run.Notes = "guard: 503 Retry-After honoured twice"
	withNotes, err := encodeRun(nil, &run)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decodeRun(withNotes); err != nil || got != run {
		t.Errorf("run with notes: %+v %v", got, err)
	}
	// An explicit empty note is not the canonical form (absent is).
	if _, err := decodeRun(append(b, 0)); err == nil {
		t.Error("run with an empty trailing note decoded")
	}
	// Duplicates take the second layout; a run without keeps the first,
	// byte for byte.
	run.Duplicates = 7
	withDups, err := encodeRun(nil, &run)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := decodeRun(withDups); err != nil || got != run || withDups[0] != runEncV2 {
		t.Errorf("run with duplicates: %+v %v (version %d)", got, err, withDups[0])
	}
	if withNotes[0] != runEncV1 {
		t.Errorf("run without duplicates written in version %d", withNotes[0])
	}
	run.Duplicates = 0
	zero, _ := encodeRun(nil, &run)
	v2 := func(dups int64) []byte {
		b := append([]byte{runEncV2}, zero[1:len(zero)-len(run.Err)-len(run.Notes)-2]...)
		b = binary.AppendVarint(b, dups)
		b = appendString(b, run.Err)
		return appendString(b, run.Notes)
	}
	if got, err := decodeRun(v2(3)); err != nil || got.Duplicates != 3 {
		t.Errorf("version 2 run made by hand: %+v %v", got, err)
	}
	if _, err := decodeRun(v2(0)); err == nil {
		t.Error("version 2 run with no duplicates decoded")
	}
}

// FuzzDecodeSourceRecord feeds arbitrary bytes to the value decoders: they
// must return an error or a value that re-encodes to the same bytes (the
// encodings are canonical).
func FuzzDecodeSourceRecord(f *testing.F) {
	for _, r := range sampleRecords() {
		b, _ := encodeSourceRecord(nil, r)
		f.Add(b)
	}
	f.Add(encodeSourceInfo(nil, &SourceInfo{Name: "n", LibraryCode: "c"}))
	b, _ := encodeRun(nil, &Run{Added: 3, Err: "x"})
	f.Add(b)
	b, _ = encodeRun(nil, &Run{Added: 3, Duplicates: 2, Err: "x"})
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{1, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if r, err := decodeSourceRecord(data); err == nil {
			again, err := encodeSourceRecord(nil, r)
			if err != nil {
				t.Fatalf("decoded record does not encode: %v", err)
			}
			if !bytes.Equal(again, data) {
				t.Fatalf("re-encoding differs:\n% x\n% x", data, again)
			}
		}
		if s, err := decodeSourceInfo(data); err == nil {
			if again := encodeSourceInfo(nil, &s); !bytes.Equal(again, data) {
				t.Fatalf("source info re-encoding differs")
			}
		}
		if r, err := decodeRun(data); err == nil {
			again, err := encodeRun(nil, &r)
			if err != nil {
				t.Fatalf("decoded run does not encode: %v", err)
			}
			if !bytes.Equal(again, data) {
				t.Fatalf("run re-encoding differs")
			}
		}
		_, _, _ = SplitKey(data)
	})
}

func TestSameLiveRecord(t *testing.T) {
	recs := sampleRecords()
	plain, converted := recs[0], recs[4]
	vPlain, _ := encodeSourceRecord(nil, plain)
	vConv, _ := encodeSourceRecord(nil, converted)
	origin, _ := appendOrigin(nil, converted)
	other := *converted
	other.Encoding = "vni"
	otherOrigin, _ := appendOrigin(nil, &other)
	for _, tc := range []struct {
		name   string
		v      []byte
		hash   [32]byte
		origin []byte
		want   bool
	}{
		{"as received, same", vPlain, plain.Hash, nil, true},
		{"as received, now converted", vPlain, plain.Hash, origin, false},
		{"converted, same", vConv, converted.Hash, origin, true},
		{"converted, now as received", vConv, converted.Hash, nil, false},
		{"converted from something else", vConv, converted.Hash, otherOrigin, false},
		{"other hash", vConv, [32]byte{1}, origin, false},
	} {
		if got := sameLiveRecord(tc.v, &tc.hash, tc.origin); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

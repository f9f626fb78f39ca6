package store

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/unicat/unicat/marc"
)

// benchRecord is a catalogue record of typical size (about 1 KB encoded).
func benchRecord(id string) *marc.Record {
	r := testRecord(id, "Lịch sử Nghệ An từ khởi thủy đến năm 1945 "+id)
	sf := func(code byte, v string) marc.Subfield { return marc.Subfield{Code: code, Value: v} }
	r.Fields = append(r.Fields,
		marc.Field{Tag: "020", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "9786045512345"), sf('c', "120000đ")}},
		marc.Field{Tag: "041", Ind1: '0', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "vie")}},
		marc.Field{Tag: "082", Ind1: '0', Ind2: '4', Subfields: []marc.Subfield{sf('a', "959.742"), sf('2', "23")}},
		marc.Field{Tag: "100", Ind1: '1', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "Trần Văn Giàu"), sf('e', "chủ biên")}},
		marc.Field{Tag: "300", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "512 tr."), sf('b', "ảnh, bản đồ"), sf('c', "24 cm")}},
		marc.Field{Tag: "520", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "Trình bày quá trình hình thành và phát triển của vùng đất Nghệ An qua các thời kỳ lịch sử, từ thời tiền sử đến Cách mạng tháng Tám năm 1945, với nhiều tư liệu quý về văn hóa, kinh tế và xã hội.")}},
		marc.Field{Tag: "650", Ind1: ' ', Ind2: '7', Subfields: []marc.Subfield{sf('a', "Lịch sử"), sf('z', "Nghệ An"), sf('2', "Bộ TK TVQG")}},
		marc.Field{Tag: "651", Ind1: ' ', Ind2: '7', Subfields: []marc.Subfield{sf('a', "Nghệ An (Việt Nam)"), sf('x', "Lịch sử")}},
		marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "TVDC"), sf('b', "Kho mượn"), sf('j', "VV.012345")}},
	)
	return r
}

// BenchmarkApply commits batches of 1000 new records, with fsync on every
// commit (as in production) and without; and without fsync, records whose
// text was converted on reading, which keep what they were received as
// (here an ISO 2709 frame of the record's own size, as a TCVN3 or VNI
// export's is).
func BenchmarkApply(b *testing.B) {
	const batch = 1000
	for _, mode := range []string{"fsync", "nosync", "nosync-converted"} {
		noSync := mode != "fsync"
		b.Run(mode, func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{NoSync: noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if err := s.PutSource(SourceInfo{ID: "bench"}); err != nil {
				b.Fatal(err)
			}
			n := 0
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				recs := make([]Incoming, batch)
				for i := range recs {
					id := fmt.Sprintf("%09d", n)
					n++
					recs[i] = Incoming{LocalID: id, Record: benchRecord(id)}
					if mode == "nosync-converted" {
						raw, err := marc.EncodeISO2709(recs[i].Record)
						if err != nil {
							b.Fatal(err)
						}
						recs[i].Record.Origin = &marc.Origin{Charset: marc.CharsetTCVN3, Label: marc.CharsetUTF8,
							Fields: 9, Received: raw, ReceivedFormat: marc.FormatISO2709}
					}
				}
				b.StartTimer()
				res, err := s.Apply(Batch{Source: "bench", Records: recs, Checkpoint: []byte(fmt.Sprint(n))})
				if err != nil {
					b.Fatal(err)
				}
				if res.Added != batch {
					b.Fatalf("%+v", res)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
			if size, err := s.Size(); err == nil {
				b.ReportMetric(float64(size)/float64(n), "file-bytes/record")
			}
		})
	}
}

// BenchmarkApplyUnchanged re-applies the same 1000 stored records: the
// cost of a full re-import of an unchanged catalogue.
func BenchmarkApplyUnchanged(b *testing.B) {
	const batch = 1000
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.PutSource(SourceInfo{ID: "bench"}); err != nil {
		b.Fatal(err)
	}
	recs := make([]Incoming, batch)
	for i := range recs {
		id := fmt.Sprintf("%09d", i)
		recs[i] = Incoming{LocalID: id, Record: benchRecord(id)}
	}
	if _, err := s.Apply(Batch{Source: "bench", Records: recs}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := s.Apply(Batch{Source: "bench", Records: recs})
		if err != nil || res.Unchanged != batch {
			b.Fatal(res, err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
}

package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
)

// benchForms are the labelled test set's files (testdata/vietnamese/
// encodings) and the charset setting that reads each without detection.
var benchForms = []struct {
	name string
	cs   marc.Charset
}{
	{"nfc", marc.CharsetUTF8}, {"nfd", marc.CharsetUTF8}, {"tcvn3-utf8", marc.CharsetTCVN3},
	{"tcvn3-marc8", marc.CharsetTCVN3}, {"vni", marc.CharsetVNI}, {"windows-1258", marc.CharsetWindows1258},
	{"utf-8-double", marc.CharsetDoubleUTF8}, {"marc-8", marc.CharsetMARC8}, {"mixed", marc.CharsetLabel},
}

// decodeAll reads every record of data and returns how many there were.
func decodeAll(b *testing.B, data []byte, cs marc.Charset) int {
	rd := marc.NewISO2709Reader(bytes.NewReader(data), marc.ReaderOptions{Charset: cs})
	n := 0
	for {
		_, err := rd.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// decodeTimes returns what decoding data (n records) costs per record
// with detection and with the charset cs set: each the fastest of many
// short timings, taken in turn, so that both see the same machine and a
// busy moment of a shared one counts for neither. What detection costs
// is the difference, a few percent of either, so a slow moment in one of
// a few long timings would outweigh it.
func decodeTimes(b *testing.B, data []byte, cs marc.Charset, n int) (auto, set float64) {
	const tries, rounds = 25, 4
	best := func(cur time.Duration, cs marc.Charset) time.Duration {
		start := time.Now()
		for i := 0; i < rounds; i++ {
			decodeAll(b, data, cs)
		}
		return min(cur, time.Since(start))
	}
	ba, bs := time.Duration(1<<62), time.Duration(1<<62)
	for try := 0; try < tries; try++ {
		ba, bs = best(ba, ""), best(bs, cs)
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(rounds*n) }
	return per(ba), per(bs)
}

// BenchmarkDetect prints what detecting the encoding costs per record in
// each form of the labelled set (decoding with no charset set, minus
// decoding with the charset that form needs), and that cost as a share of
// what importing a record costs: a generated catalogue of clean Vietnamese
// records imported as unicat import does (read, store, deduplication,
// search index), per record.
func BenchmarkDetect(b *testing.B) {
	importNs := benchImport(b, 20000)
	b.Logf("import of a generated catalogue: %.0f ns/record (%.0f records/s)", importNs, 1e9/importNs)
	for _, f := range benchForms {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "vietnamese", "encodings", f.name+".mrc"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(f.name, func(b *testing.B) {
			n := decodeAll(b, data, "")
			var auto, set float64
			for i := 0; i < b.N; i++ {
				auto, set = decodeTimes(b, data, f.cs, n)
			}
			detect := max(auto-set, 0)
			b.ReportMetric(auto, "decode-ns/rec")
			b.ReportMetric(set, "set-ns/rec")
			b.ReportMetric(importNs, "import-ns/rec")
			b.ReportMetric(detect, "detect-ns/rec")
			b.ReportMetric(100*detect/importNs, "detect-%-of-import")
		})
	}
}

// benchImport imports n generated records (clean UTF-8, mostly
// Vietnamese, as unicat gen writes them) into a fresh store with
// deduplication and the search index, and returns the time per record.
func benchImport(b *testing.B, n int) float64 {
	g, err := corpus.New(corpus.Options{Records: n, Libraries: 10, Seed: 16})
	if err != nil {
		b.Fatal(err)
	}
	files := map[int]*bytes.Buffer{}
	for {
		it, err := g.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if files[it.Library] == nil {
			files[it.Library] = &bytes.Buffer{}
		}
		raw, err := marc.EncodeISO2709(it.Record)
		if err != nil {
			b.Fatal(err)
		}
		files[it.Library].Write(raw)
	}
	st, err := store.Open(filepath.Join(b.TempDir(), "bench.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	d := dedup.New(dedup.Options{})
	d.AddListener(search.New())
	if err := st.AddHook(d); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for lib, buf := range files {
		id := fmt.Sprintf("lib%d", lib)
		if err := st.PutSource(store.SourceInfo{ID: id, Name: id, LibraryCode: id, Level: "district", Kind: "file"}); err != nil {
			b.Fatal(err)
		}
		if _, err := ImportReader(context.Background(), st, bytes.NewReader(buf.Bytes()), id+".mrc", Options{Source: id}); err != nil {
			b.Fatal(err)
		}
	}
	return float64(time.Since(start).Nanoseconds()) / float64(n)
}

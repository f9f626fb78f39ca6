package search

import (
	"io"
	"testing"

	"github.com/unicat/unicat/corpus"
)

// benchDocs returns n generated records as documents.
func benchDocs(b testing.TB, n int) []Doc {
	g, err := corpus.New(corpus.Options{Records: n, Libraries: 10, Seed: 7})
	if err != nil {
		b.Fatal(err)
	}
	docs := make([]Doc, 0, n)
	for {
		it, err := g.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, Doc{ID: it.LocalID, Record: it.Record})
	}
	return docs
}

// BenchmarkDocKeys measures what indexing costs per document before any
// write: extracting the values and computing their term keys.
func BenchmarkDocKeys(b *testing.B) {
	docs := benchDocs(b, 2000)
	keys := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := &docs[i%len(docs)]
		keys += len(docKeys(extract(d)))
	}
	b.ReportMetric(float64(keys)/float64(b.N), "keys/doc")
}

// BenchmarkRebuildKeys measures a rebuild's term keys per document, the
// values extracted already: the keys, hashed and split over two shards.
func BenchmarkRebuildKeys(b *testing.B) {
	docs := benchDocs(b, 2000)
	vals := make([][]value, len(docs))
	for i := range docs {
		vals[i] = extract(&docs[i])
	}
	var kr keyer
	var sp splitter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%extractBatch == 0 {
			sp.reset()
		}
		sp.split(kr.keys(vals[i%len(vals)]), 2)
	}
}

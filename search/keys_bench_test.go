package search

import (
	"bytes"
	"io"
	"slices"
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

// BenchmarkDocKeys measures what an update costs per document before any
// write: extracting the values and computing their sorted term keys, on a
// keyer kept from one document to the next ("kept", as updates do) and on
// one made for each ("fresh").
func BenchmarkDocKeys(b *testing.B) {
	docs := benchDocs(b, 2000)
	for _, c := range []struct {
		name string
		kept bool
	}{{"kept", true}, {"fresh", false}} {
		b.Run(c.name, func(b *testing.B) {
			var kr keyer
			keys := 0
			for i := 0; b.Loop(); i++ {
				if !c.kept {
					kr = keyer{}
				}
				keys += len(kr.sortedKeys(extract(&docs[i%len(docs)])))
			}
			b.ReportMetric(float64(keys)/float64(b.N), "keys/doc")
		})
	}
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

// BenchmarkTermDictSorted sorts the term keys of a shard of 20,000
// generated documents: "prefixed" as a rebuild does (termDict.sorted),
// "whole" comparing every pair's bytes, as it did before.
func BenchmarkTermDictSorted(b *testing.B) {
	docs := benchDocs(b, 20000)
	var d termDict
	var kr keyer
	for i := range docs {
		for _, k := range kr.keys(extract(&docs[i])) {
			d.number(k, termHash(k.ix, k.kind, k.term))
		}
	}
	b.Run("prefixed", func(b *testing.B) {
		for b.Loop() {
			d.sorted()
		}
		b.ReportMetric(float64(d.len()), "keys")
	})
	b.Run("whole", func(b *testing.B) {
		order := make([]uint32, d.len())
		for b.Loop() {
			for i := range order {
				order[i] = uint32(i)
			}
			slices.SortFunc(order, func(x, y uint32) int { return bytes.Compare(d.key(x), d.key(y)) })
		}
		b.ReportMetric(float64(d.len()), "keys")
	})
}

// BenchmarkTempDoc writes and reads back a rebuild's temporary document,
// per generated document.
func BenchmarkTempDoc(b *testing.B) {
	docs := benchDocs(b, 2000)
	stored := make([]storedDoc, len(docs))
	for i := range docs {
		stored[i] = storedDoc{id: docs[i].ID, values: extract(&docs[i])}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := decodeTempDoc(encodeTempDoc(&stored[i%len(stored)])); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

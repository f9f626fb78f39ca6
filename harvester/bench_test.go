package harvester

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester/harvesttest"
	"github.com/unicat/unicat/store"
	"net/url"
)

// BenchmarkHarvestOAI harvests 2,000 real records in pages of 100 from
// the in-test OAI-PMH server (over loopback HTTP) into a fresh store, and
// reports pages/s, records/s and MB/s. "fsync" commits every page
// durably, as unicat does; "nosync" shows the harvester's own cost. The
// server runs in the same process, so its work (rendering MARCXML) is
// counted too.
func BenchmarkHarvestOAI(b *testing.B) {
	const n, page = 2000, 100
	its := items(b, n)
	for _, sync := range []bool{true, false} {
		name := "fsync"
		if !sync {
			name = "nosync"
		}
		b.Run(name, func(b *testing.B) {
			srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: page}, its)
			defer srv.Close()
			cfg, err := config.Parse([]byte(fmt.Sprintf(`
sources:
  - {id: src, name: S, library_code: S, level: district, kind: oai, url: %q}
`, srv.URL)), "")
			if err != nil {
				b.Fatal(err)
			}
			var bytes int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st, err := store.Open(filepath.Join(b.TempDir(), "unicat.db"), store.Options{NoSync: !sync})
				if err != nil {
					b.Fatal(err)
				}
				if err := st.PutSource(store.SourceInfo{ID: "src", Name: "S", LibraryCode: "S", Level: "district", Kind: "oai"}); err != nil {
					b.Fatal(err)
				}
				m, _ := NewMetrics(prometheus.NewRegistry())
				h := New(st, cfg, Options{Metrics: m})
				b.StartTimer()
				r, err := h.Run(context.Background(), "src", nil)
				if err != nil || r.Added != n {
					b.Fatalf("run %+v: %v", r, err)
				}
				bytes += r.Bytes
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N*n/page)/s, "pages/s")
			b.ReportMetric(float64(b.N*n)/s, "records/s")
			b.ReportMetric(float64(bytes)/s/1e6, "MB/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkParseOAIPage parses one ListRecords page of 100 real records,
// as received: the client's share of the work.
func BenchmarkParseOAIPage(b *testing.B) {
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 100}, items(b, 100))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "?" + url.Values{"verb": {"ListRecords"}, "metadataPrefix": {"marc21"}}.Encode())
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		p, err := parseOAI(page, "")
		if err != nil || len(p.Records) != 100 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}

package oaipmh

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/store"
)

// benchN is the number of union records of the harvest benchmarks:
// BENCH_N, or a million.
func benchN(b *testing.B) int {
	if s := os.Getenv("BENCH_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_N=%q", s)
		}
		return n
	}
	return 1_000_000
}

var benchWords = strings.Fields(`nghệ an quê hương lịch sử văn hóa truyện ngắn tiểu thuyết thơ ca dân gian
	kinh tế xã hội giáo dục khoa học kỹ thuật nông nghiệp y học địa lý chiến tranh hòa bình tình yêu gia đình
	con người thiên nhiên biển đảo núi rừng sông nước làng xóm thành phố mùa xuân mùa thu ký ức hành trình
	tuổi thơ người lính mẹ cha trẻ em học sinh thầy giáo công nhân nông dân phụ nữ anh hùng di sản`)

var benchNames = strings.Fields(`Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý
	An Bình Cường Dũng Giang Hải Khánh Lâm Minh Nam Phong Quang Sơn Thành Uyên Vân Xuân Yến Hòa Hùng Lan Mai`)

// benchRecord is a distinct book per n, with a long enough description
// to weigh what a real catalogue record weighs (about 1.5 KB of MARCXML).
func benchRecord(n int) *marc.Record {
	rng := rand.New(rand.NewPCG(uint64(n), 77))
	words := func(k int) string {
		w := make([]string, k)
		for i := range w {
			w[i] = benchWords[rng.IntN(len(benchWords))]
		}
		return strings.Join(w, " ")
	}
	name := benchNames[rng.IntN(16)] + " " + benchNames[16+rng.IntN(len(benchNames)-16)] + " " + benchNames[16+rng.IntN(len(benchNames)-16)]
	year := 1960 + rng.IntN(64)
	r := &marc.Record{Leader: "00000nam a2200000 a 4500"}
	r.Fields = []marc.Field{
		{Tag: "001", Value: fmt.Sprintf("b%08d", n)},
		{Tag: "008", Value: fmt.Sprintf("200101s%04d    vm            000 0 vie d", year)},
		{Tag: "041", Ind1: '0', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "vie")}},
		{Tag: "082", Ind1: '0', Ind2: '4', Subfields: []marc.Subfield{sf('a', fmt.Sprintf("895.922%03d", n%1000))}},
		{Tag: "100", Ind1: '1', Ind2: ' ', Subfields: []marc.Subfield{sf('a', name)}},
		{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{sf('a', fmt.Sprintf("%s %d", words(4), n)), sf('b', words(5)), sf('c', name)}},
		{Tag: "260", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "Vinh :"), sf('b', "Nxb. Nghệ An,"), sf('c', strconv.Itoa(year))}},
		{Tag: "300", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', fmt.Sprintf("%d tr. ;", 80+rng.IntN(400))), sf('c', "21 cm")}},
		{Tag: "520", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', words(40))}},
		{Tag: "650", Ind1: ' ', Ind2: '7', Subfields: []marc.Subfield{sf('a', words(2)), sf('z', "Nghệ An")}},
		{Tag: "650", Ind1: ' ', Ind2: '7', Subfields: []marc.Subfield{sf('a', words(2))}},
		{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "X"), sf('h', fmt.Sprintf("895.922 %d", n))}},
	}
	return r
}

// benchCatalog builds a store of n union records (spread over the three
// test sources), a day old, and returns the fixture.
func benchCatalog(b *testing.B, n int) *fixture {
	f := newFixture(b, 0)
	start := time.Now()
	const batch = 1000
	for i := 0; i < n; i += batch {
		src := testSources[(i/batch)%len(testSources)].ID
		bt := store.Batch{Source: src, Now: f.clock.Now()}
		for j := i; j < min(i+batch, n); j++ {
			bt.Records = append(bt.Records, store.Incoming{LocalID: fmt.Sprintf("b%08d", j), Record: benchRecord(j)})
		}
		if _, err := f.st.Apply(bt); err != nil {
			b.Fatal(err)
		}
		f.clock.add(time.Second)
		if (i/batch)%100 == 99 {
			b.Logf("built %d records in %v", i+batch, time.Since(start).Round(time.Second))
		}
	}
	f.clock.add(24 * time.Hour)
	// Serve from a freshly opened store, as after a restart: what building
	// left in memory (the Deduper's caches) is not the provider's.
	f.reopen()
	var live int
	f.st.View(func(tx *store.Tx) error {
		rd := oaiindex.NewReader(tx.Bolt())
		c, _ := rd.Count(&oaiindex.List{Spec: oaiindex.AllRecords, Cutoff: f.clock.Now().Unix()})
		live = int(c)
		return nil
	})
	b.Logf("catalog: %d source records, %d union records, built in %v", n, live, time.Since(start).Round(time.Millisecond))
	return f
}

// BenchmarkHarvest runs full ListRecords and ListIdentifiers harvests of
// BENCH_N union records over HTTP (loopback), as a harvester would, and
// reports records/s, the first and the last page's latency, and the
// process's peak RSS during the harvests (VmHWM, reset after building the
// catalog).
func BenchmarkHarvest(b *testing.B) {
	n := benchN(b)
	f := benchCatalog(b, n)
	hs := httptest.NewServer(f.srv)
	defer hs.Close()
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS(b)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.Logf("before harvesting: VmRSS %d MiB, anonymous %d MiB, Go heap %d MiB",
		procStatusKB(b, "VmRSS")/1024, procStatusKB(b, "RssAnon")/1024, ms.HeapAlloc>>20)
	for _, tc := range []struct {
		name, verb, prefix string
		gzip               bool
	}{
		{"ListRecords/marc21", "ListRecords", "marc21", false},
		{"ListRecords/marc21/gzip", "ListRecords", "marc21", true},
		{"ListRecords/oai_dc", "ListRecords", "oai_dc", false},
		{"ListIdentifiers", "ListIdentifiers", "oai_dc", false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var pages []time.Duration
			total := 0
			var heap uint64
			start := time.Now()
			for range b.N {
				pages, total, heap = harvestHTTP(b, hs.URL, tc.verb, tc.prefix, tc.gzip)
			}
			elapsed := time.Since(start)
			perHarvest := elapsed / time.Duration(b.N)
			rate := float64(total) / perHarvest.Seconds()
			b.ReportMetric(rate, "records/s")
			b.ReportMetric(float64(pages[0].Microseconds())/1000, "first-page-ms")
			b.ReportMetric(float64(pages[len(pages)-1].Microseconds())/1000, "last-page-ms")
			b.ReportMetric(float64(median(pages).Microseconds())/1000, "median-page-ms")
			b.ReportMetric(float64(procStatusKB(b, "VmHWM"))/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(procStatusKB(b, "RssAnon"))/1024, "anon-RSS-MiB")
			b.ReportMetric(float64(heap)/(1<<20), "max-heap-MiB")
			b.ReportMetric(0, "ns/op")
			fmt.Printf("%s: %d records in %d pages, %.0f records/s; pages: first %v, median %v, last %v; "+
				"peak RSS %d MiB (the bbolt file is mapped: its pages read count too), anonymous RSS %d MiB, max Go heap %.1f MiB\n",
				tc.name, total, len(pages), rate, pages[0].Round(time.Microsecond), median(pages).Round(time.Microsecond),
				pages[len(pages)-1].Round(time.Microsecond), procStatusKB(b, "VmHWM")/1024, procStatusKB(b, "RssAnon")/1024,
				float64(heap)/(1<<20))
			if total != n && tc.verb == "ListIdentifiers" {
				b.Errorf("harvested %d of %d", total, n)
			}
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

var (
	tokenStart = []byte("<resumptionToken")
	recordTag  = []byte("<header")
)

// harvestHTTP harvests a whole list through the HTTP server and returns
// each page's latency (request to last byte), the record count and the
// largest Go heap seen after a page. With gz the responses are compressed
// (and decompressed by the client).
func harvestHTTP(b *testing.B, base, verb, prefix string, gz bool) (pages []time.Duration, total int, maxHeap uint64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	q := "?verb=" + verb + "&metadataPrefix=" + prefix
	buf := bytes.NewBuffer(make([]byte, 0, 1<<20))
	for {
		t0 := time.Now()
		req, err := http.NewRequest(http.MethodGet, base+q, nil)
		if err != nil {
			b.Fatal(err)
		}
		if !gz {
			// Asking for identity stops the transport's transparent gzip.
			req.Header.Set("Accept-Encoding", "identity")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		if _, err := io.Copy(buf, res.Body); err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		pages = append(pages, time.Since(t0))
		metrics.Read(sample)
		maxHeap = max(maxHeap, sample[0].Value.Uint64())
		body := buf.Bytes()
		total += bytes.Count(body, recordTag)
		i := bytes.LastIndex(body, tokenStart)
		if i < 0 {
			if len(pages) > 1 {
				b.Fatalf("page %d without resumptionToken: %s", len(pages), clip(body))
			}
			return pages, total, maxHeap
		}
		rest := body[i:]
		gt := bytes.IndexByte(rest, '>')
		if gt < 0 || rest[gt-1] == '/' {
			return pages, total, maxHeap // the empty token ends the list
		}
		end := bytes.Index(rest, []byte("</resumptionToken>"))
		q = "?verb=" + verb + "&resumptionToken=" + url.QueryEscape(string(rest[gt+1:end]))
	}
}

// procStatusKB reads a field of /proc/self/status in kB.
func procStatusKB(b *testing.B, field string) int {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Logf("no /proc/self/status: %v", err)
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// resetPeakRSS makes VmHWM start again from the present RSS (Linux:
// writing 5 to clear_refs), so the harvests' peak excludes the build.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v): it includes building the catalog", err)
	}
}

package z3950

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/unicat/unicat/catalog/catalogtest"
	"github.com/unicat/unicat/marc"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchVocabulary are words added to generated titles, so that queries
// find hundreds of records in a large catalog, not the few of the base.
var benchVocabulary = strings.Fields("lịch sử văn hóa kinh tế địa lý giáo dục khoa học kỹ thuật nông nghiệp " +
	"y học toán học vật lý hóa học sinh học triết học âm nhạc hội họa kiến trúc pháp luật chính trị " +
	"history culture economy geography education science technology agriculture medicine music")

// synthCatalog makes n records from the test records: copies with their
// own control number, a title word from the vocabulary and a serial
// number, and their holding library varied.
func synthCatalog(t testing.TB, n int) []*marc.Record {
	base := testRecords(t)
	libs := []string{"NA-TINH", "NA-VINH", "NA-DIENCHAU", "NA-NGHILOC", "NA-QUYNHLUU", "NA-CUALO"}
	out := make([]*marc.Record, 0, n)
	for i := 0; i < n; i++ {
		src := base[i%len(base)]
		r := &marc.Record{Leader: src.Leader, Fields: make([]marc.Field, 0, len(src.Fields)+2)}
		r.Fields = append(r.Fields, marc.Field{Tag: "001", Value: fmt.Sprintf("B%07d", i)})
		for _, f := range src.Fields {
			switch f.Tag {
			case "001", "852":
				continue
			case "245":
				f.Subfields = append(slices.Clone(f.Subfields), marc.Subfield{Code: 'n',
					Value: benchVocabulary[(i*7)%len(benchVocabulary)] + " " + strconv.Itoa(i%97)})
			}
			r.Fields = append(r.Fields, f)
		}
		r.Fields = append(r.Fields, marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ',
			Subfields: []marc.Subfield{{Code: 'a', Value: libs[i%len(libs)]}}})
		out = append(out, r)
	}
	return out
}

var benchQueries = []string{
	`@attr 1=4 computer`,
	`@attr 1=4 "văn hóa"`,
	`@attr 1=4 @attr 5=1 hist`,
	`@attr 1=1003 "Nguyễn Du"`,
	`@attr 1=1003 collins`,
	`@attr 1=21 congresses`,
	`@attr 1=7 @attr 5=1 0879832355`,
	`@attr 1=1016 bible`,
	`@and @attr 1=4 "kinh tế" @attr 1=1044 NA-VINH`,
	`@and @attr 1=1003 @attr 2=3 @attr 3=3 @attr 4=2 @attr 5=100 @attr 6=1 du @attr 1=54 vie`,
	`@or @attr 1=4 music @attr 1=4 "âm nhạc"`,
	`@attr 1=31 1974`,
}

type loadResult struct {
	ops      int
	opsPerS  float64
	p50, p99 float64 // ms
	errors   int
}

// loadZ runs search + present (up to 10 USMARC records) from clients
// connections against target for dur. The load generator speaks the
// protocol with pre-encoded requests and does not decode the records it
// receives, so that the client's own work (on the same two cores) weighs
// little in the comparison.
func loadZ(target string, clients int, dur time.Duration) loadResult {
	addr, db, _ := ParseTarget(target)
	type queryPDUs struct{ search []byte }
	var qs []queryPDUs
	for _, q := range benchQueries {
		rpn, _ := ParsePQF(q)
		b, _ := EncodePDU(&SearchRequest{LargeSetLowerBound: 1, ReplaceIndicator: true, ResultSetName: "default",
			DatabaseNames: []string{db}, Query: Query{Type: QueryType1, RPN: rpn}})
		qs = append(qs, queryPDUs{b})
	}
	var present [11][]byte
	for n := 1; n <= 10; n++ {
		present[n], _ = EncodePDU(&PresentRequest{ResultSetID: "default", Start: 1, Count: n,
			ElementSetName: "F", PreferredRecordSyntax: OIDUSMARC})
	}
	initPDU, _ := EncodePDU(&InitRequest{ProtocolVersion: Version2 | Version3, Options: OptSearch | OptPresent,
		PreferredMessageSize: 4 << 20, ExceptionalRecordSize: 4 << 20})

	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	fail := func() { mu.Lock(); errs++; mu.Unlock() }
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				fail()
				return
			}
			defer c.Close()
			br := bufio.NewReaderSize(c, 64<<10)
			roundTrip := func(req []byte) ([]byte, error) {
				if _, err := c.Write(req); err != nil {
					return nil, err
				}
				return readFrame(br, 16<<20)
			}
			if _, err := roundTrip(initPDU); err != nil {
				fail()
				return
			}
			var mine []time.Duration
			for i := w; time.Now().Before(deadline); i++ {
				t0 := time.Now()
				frame, err := roundTrip(qs[i%len(qs)].search)
				if err != nil {
					fail()
					return
				}
				p, err := DecodePDU(frame)
				sr, ok := p.(*SearchResponse)
				if err != nil || !ok || !sr.SearchStatus {
					fail()
					continue
				}
				if n := min(sr.ResultCount, 10); n > 0 {
					frame, err := roundTrip(present[n])
					if err != nil {
						fail()
						return
					}
					if len(frame) < 2 || frame[0] != 0xA0|byte(TagPresentResponse) {
						fail()
						continue
					}
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	r := loadResult{ops: len(lat), errors: errs, opsPerS: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		r.p50 = float64(lat[len(lat)/2]) / 1e6
		r.p99 = float64(lat[len(lat)*99/100]) / 1e6
	}
	return r
}

// BenchmarkZ3950vsZebra indexes a catalog of BENCH_N records (default
// 5,000: generated from the test records) in unicat and in Zebra, and
// loads both Z39.50 servers with search + present of 10 records from
// BENCH_CLIENTS connections (default 8) for BENCH_SECONDS each (default
// 5). It reports throughput, latency and the ratio unicat/Zebra.
//
// It runs once whatever b.N is: the work is the measurement.
func BenchmarkZ3950vsZebra(b *testing.B) {
	n := envInt("BENCH_N", 5000)
	clients := envInt("BENCH_CLIENTS", 8)
	dur := time.Duration(envInt("BENCH_SECONDS", 5)) * time.Second
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }
	recs := synthCatalog(b, n)
	t0 := time.Now()
	c := newTestCatalog(b, recs, Config{MaxConnections: clients * 2})
	logf("unicat indexed %d records in %v", n, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	zeb := startZebra(b, recs)
	logf("Zebra indexed %d records in %v", n, time.Since(t0).Round(time.Millisecond))

	// The same questions get the same answers on both.
	ctx := context.Background()
	uc, err := Dial(ctx, c.addr+"/unicat", ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	zc, err := Dial(ctx, zeb.Addr+"/Default", ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	agree := 0
	for _, q := range benchQueries {
		un, uerr := uc.Search(ctx, q, "")
		zn, zerr := zc.Search(ctx, q, "")
		if uerr == nil && zerr == nil && un == zn {
			agree++
		} else {
			logf("  hits differ: %-70s unicat %d %v, Zebra %d %v", q, un, uerr, zn, zerr)
		}
	}
	uc.Close()
	zc.Close()
	logf("%d queries, %d with the same hit count on both", len(benchQueries), agree)

	// The same catalog served with the stored ISO 2709: USMARC records
	// sent as stored, not decoded and encoded again.
	raw := &catalogtest.Catalog{DB: c.cat.DB, ISO2709: func(_ string, stored []byte) ([]byte, error) { return stored, nil }}
	rawSrv, err := NewServer(Config{Catalog: raw, MaxConnections: clients * 2})
	if err != nil {
		b.Fatal(err)
	}
	rawLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go rawSrv.Serve(rawLn)
	defer rawLn.Close()

	b.ResetTimer()
	ur := loadZ(c.addr+"/unicat", clients, dur)
	rr := loadZ(rawLn.Addr().String()+"/unicat", clients, dur)
	zr := loadZ(zeb.Addr+"/Default", clients, dur)
	b.StopTimer()
	ratio := ur.opsPerS / zr.opsPerS
	logf("%-11s %12s %9s %9s %7s", "server", "search+show/s", "p50 ms", "p99 ms", "errors")
	logf("%-11s %12.0f %9.2f %9.2f %7d", "unicat", ur.opsPerS, ur.p50, ur.p99, ur.errors)
	logf("%-11s %12.0f %9.2f %9.2f %7d", "unicat raw", rr.opsPerS, rr.p50, rr.p99, rr.errors)
	logf("%-11s %12.0f %9.2f %9.2f %7d", "Zebra", zr.opsPerS, zr.p50, zr.p99, zr.errors)
	logf("throughput ratio unicat/Zebra: %.2f (target ≥ 5); with the stored ISO 2709 %.2f; %d clients, %d records",
		ratio, rr.opsPerS/zr.opsPerS, clients, n)
	b.ReportMetric(rr.opsPerS/zr.opsPerS, "raw-ratio")
	b.ReportMetric(ur.opsPerS, "unicat-ops/s")
	b.ReportMetric(zr.opsPerS, "zebra-ops/s")
	b.ReportMetric(ur.p99, "unicat-p99-ms")
	b.ReportMetric(zr.p99, "zebra-p99-ms")
	b.ReportMetric(ratio, "ratio")
}

// BenchmarkSearchPresent measures one connection's search + present of
// ten records against the in-process server, per operation.
func BenchmarkSearchPresent(b *testing.B) {
	c := newTestCatalog(b, synthCatalog(b, envInt("BENCH_N", 5000)), Config{})
	cl := c.dial(b, ClientOptions{})
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := cl.Search(ctx, benchQueries[i%len(benchQueries)], "")
		if err != nil {
			b.Fatal(err)
		}
		if n > 0 {
			if _, _, err := cl.Present(ctx, "", 1, min(n, 10), OIDUSMARC, "F"); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkDecodeSearchRequest measures the BER codec on a Koha-style
// search request.
func BenchmarkDecodeSearchRequest(b *testing.B) {
	q, _ := ParsePQF(`@and @attr 1=4 @attr 5=1 "truyện kiều" @attr 1=1003 "Nguyễn Du"`)
	raw, err := EncodePDU(&SearchRequest{ReplaceIndicator: true, ResultSetName: "default",
		DatabaseNames: []string{"unicat"}, Query: Query{Type: QueryType1, RPN: q}})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		if _, err := DecodePDU(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIdleConnectionsBounded opens 1,000 associations and leaves them
// idle: the server holds one goroutine and a few kilobytes per
// connection, and still answers a search at once.
func TestIdleConnectionsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 connections")
	}
	const conns = 1000
	c := newTestCatalog(t, testRecords(t), Config{MaxConnections: conns + 10, MaxPerClient: conns + 10})
	measure := func() (goroutines int, mem uint64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapInuse + ms.StackInuse
	}
	g0, m0 := measure()
	init, err := EncodePDU(&InitRequest{ProtocolVersion: Version2 | Version3, Options: OptSearch | OptPresent,
		PreferredMessageSize: 1 << 20, ExceptionalRecordSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	open := make([]net.Conn, 0, conns)
	defer func() {
		for _, cn := range open {
			cn.Close()
		}
	}()
	buf := make([]byte, 4096)
	for i := 0; i < conns; i++ {
		cn, err := net.Dial("tcp", c.addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		open = append(open, cn)
		cn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := cn.Write(init); err != nil {
			t.Fatal(err)
		}
		if _, err := cn.Read(buf); err != nil { // the Init response
			t.Fatalf("connection %d: %v", i, err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); c.srv.OpenConnections() != conns; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", c.srv.OpenConnections(), conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	g1, m1 := measure()
	perConn := float64(int64(m1)-int64(m0)) / conns
	t.Logf("%d idle associations: %d goroutines more, %.1f KiB of heap and stacks each", conns, g1-g0, perConn/1024)
	if g1-g0 > conns+20 {
		t.Errorf("%d goroutines for %d connections", g1-g0, conns)
	}
	if perConn > 48<<10 {
		t.Errorf("%.0f bytes per idle connection", perConn)
	}
	// Still answering.
	cl := c.dial(t, ClientOptions{})
	start := time.Now()
	if n := count(t, cl, "@attr 1=4 computer"); n == 0 || time.Since(start) > time.Second {
		t.Errorf("search with %d idle connections: %d hits in %v", conns, n, time.Since(start))
	}
	cl.Close()
	for _, cn := range open {
		cn.Close()
	}
	open = nil
	for deadline := time.Now().Add(10 * time.Second); c.srv.OpenConnections() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open after the clients left", c.srv.OpenConnections())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

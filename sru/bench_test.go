package sru

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/catalog/catalogtest"
	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/internal/zebrapeer"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/textnorm"
)

// BenchmarkSRUvsZebra builds a catalog of BENCH_N union records (default
// 1,000,000; real records from testdata plus generated variants), indexes
// it in unicat and in Zebra, and loads both SRU servers with the same
// mixed query set from BENCH_CLIENTS concurrent clients (default 4) for
// BENCH_SECONDS each (default 20). It reports indexing rate, index size
// per record, latency p50/p99, throughput and the ratio to Zebra.
//
// It runs once whatever b.N is: the work is the measurement.
func BenchmarkSRUvsZebra(b *testing.B) {
	testpeer.Need(b, "zebraidx")
	testpeer.Need(b, "zebrasrv")
	n := envInt("BENCH_N", 1_000_000)
	clients := envInt("BENCH_CLIENTS", 4)
	seconds := envInt("BENCH_SECONDS", 20)
	dir := b.TempDir()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }

	gen := newGenerator(b)
	logf("%d base records, %d words of vocabulary; building %d records", len(gen.base), len(gen.vocab), n)

	// The records, as Zebra reads them.
	mrc := filepath.Join(dir, "catalog.mrc")
	if err := gen.writeFile(mrc, n); err != nil {
		b.Fatal(err)
	}

	// unicat: rebuild the index (the bulk path) and keep the records.
	db, err := bbolt.Open(filepath.Join(dir, "unicat.db"), 0o644, &bbolt.Options{NoSync: true, InitialMmapSize: 16 << 30, FreelistType: bbolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ix := search.New()
	start := time.Now()
	indexed, err := ix.RebuildFrom(context.Background(), db, func(fn func(*search.Doc) error) error {
		return gen.each(db, n, fn)
	}, search.RebuildOptions{TempDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	rebuildTime := time.Since(start)
	indexBytes := bucketBytes(b, db, "search.")
	for _, name := range []string{"search.terms", "search.docs", "search.sort", "search.ids"} {
		nb := bucketBytes(b, db, name)
		logf("  %-13s %8.1f MB  %5.0f bytes/record", name, float64(nb)/1e6, float64(nb)/float64(n))
	}
	logf("unicat indexed %d records in %v (%.0f records/s), index %.1f MB (%.0f bytes/record)",
		indexed, rebuildTime.Round(time.Millisecond), float64(indexed)/rebuildTime.Seconds(),
		float64(indexBytes)/1e6, float64(indexBytes)/float64(indexed))

	// Incremental updates: batches of 1000 new records, as a harvest
	// delivers them, into the full index.
	incN := min(20000, n/10+1000)
	start = time.Now()
	for lo := 0; lo < incN; lo += 1000 {
		docs := make([]search.Doc, 0, 1000)
		for i := lo; i < min(lo+1000, incN); i++ {
			docs = append(docs, search.Doc{ID: fmt.Sprintf("inc%07d", i), Record: gen.record(n + i)})
		}
		if err := db.Update(func(tx *bbolt.Tx) error { return ix.Update(tx, docs) }); err != nil {
			b.Fatal(err)
		}
	}
	incTime := time.Since(start)
	// And out again, so both servers hold the same records.
	start = time.Now()
	for lo := 0; lo < incN; lo += 1000 {
		docs := make([]search.Doc, 0, 1000)
		for i := lo; i < min(lo+1000, incN); i++ {
			docs = append(docs, search.Doc{ID: fmt.Sprintf("inc%07d", i), Deleted: true})
		}
		if err := db.Update(func(tx *bbolt.Tx) error { return ix.Update(tx, docs) }); err != nil {
			b.Fatal(err)
		}
	}
	delTime := time.Since(start)
	logf("unicat incremental: %d records in batches of 1000: added %.0f records/s, deleted %.0f records/s",
		incN, float64(incN)/incTime.Seconds(), float64(incN)/delTime.Seconds())

	// Zebra.
	start = time.Now()
	z, err := zebrapeer.Start(zebrapeer.Options{ConfigDir: "../testdata/peers/zebra", WorkDir: filepath.Join(dir, "zebra"), Records: mrc})
	if err != nil {
		b.Fatal(err)
	}
	defer z.Stop()
	zebraIndexTime := time.Since(start)
	logf("Zebra indexed %d records in %v (%.0f records/s), register %.1f MB", n, zebraIndexTime.Round(time.Millisecond),
		float64(n)/zebraIndexTime.Seconds(), float64(dirBytes(filepath.Join(dir, "zebra", "reg")))/1e6)

	// unicat's SRU server on a loopback port.
	srv := New(Config{Catalog: &catalogtest.Catalog{DB: db}, MaxRecords: 100})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sru", srv)
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	defer hs.Close()
	unicatURL := "http://" + ln.Addr().String() + "/sru"

	queries := gen.queries()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2, MaxConnsPerHost: clients * 2}}
	// The same questions, the same answers (where the semantics match:
	// see zebra_test.go for the documented differences).
	agree := 0
	for _, q := range queries {
		u, _ := countAt(client, unicatURL, q)
		zc, _ := countAt(client, z.URL, q)
		if u == zc {
			agree++
		} else {
			logf("  counts differ: %-50s unicat %d, Zebra %d", q, u, zc)
		}
	}
	ua, _ := countAt(client, unicatURL, "cql.allRecords = 1")
	za, _ := countAt(client, z.URL, "cql.allRecords = 1")
	logf("%d queries, %d with the same hit count on both; all records: unicat %d, Zebra %d", len(queries), agree, ua, za)

	// Latency of each query alone (one client), slowest first.
	type qlat struct {
		q string
		d time.Duration
	}
	var single []qlat
	for _, q := range queries {
		t0 := time.Now()
		for k := 0; k < 5; k++ {
			sruGet(client, unicatURL, q, "10")
		}
		single = append(single, qlat{q, time.Since(t0) / 5})
	}
	slices.SortFunc(single, func(a, b qlat) int { return int(b.d - a.d) })
	for _, s := range single[:min(8, len(single))] {
		logf("  unicat alone: %6.2f ms  %s", float64(s.d)/1e6, s.q)
	}

	dur := time.Duration(seconds) * time.Second
	if prof := os.Getenv("BENCH_CPUPROFILE"); prof != "" {
		// The profile of unicat under load only, without the build.
		f, err := os.Create(prof)
		if err != nil {
			b.Fatal(err)
		}
		pprof.StartCPUProfile(f)
	}
	ur := load(client, unicatURL, queries, clients, dur)
	pprof.StopCPUProfile()
	zr := load(client, z.URL, queries, clients, dur)
	ratio := ur.qps / zr.qps
	logf("%-7s %10s %10s %10s %8s", "server", "queries/s", "p50 ms", "p99 ms", "errors")
	logf("%-7s %10.0f %10.2f %10.2f %8d", "unicat", ur.qps, ur.p50, ur.p99, ur.errors)
	logf("%-7s %10.0f %10.2f %10.2f %8d", "Zebra", zr.qps, zr.p50, zr.p99, zr.errors)
	logf("throughput ratio unicat/Zebra: %.2f (target ≥ 5); unicat p99 %.2f ms (target < 20)", ratio, ur.p99)

	b.ReportMetric(float64(indexed)/rebuildTime.Seconds(), "index-records/s")
	b.ReportMetric(float64(incN)/incTime.Seconds(), "update-records/s")
	b.ReportMetric(float64(indexBytes)/float64(indexed), "index-bytes/record")
	b.ReportMetric(float64(n)/zebraIndexTime.Seconds(), "zebra-index-records/s")
	b.ReportMetric(ur.qps, "unicat-q/s")
	b.ReportMetric(ur.p50, "unicat-p50-ms")
	b.ReportMetric(ur.p99, "unicat-p99-ms")
	b.ReportMetric(zr.qps, "zebra-q/s")
	b.ReportMetric(zr.p50, "zebra-p50-ms")
	b.ReportMetric(zr.p99, "zebra-p99-ms")
	b.ReportMetric(ratio, "ratio")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// generator makes variants of real records: the base record's fields
// with a unique 001 and ISBN, words from the catalog's own vocabulary
// (Zipf-distributed) added to the title and subjects, another year,
// sometimes another author, and one to three holding libraries.
type generator struct {
	base    []*marc.Record
	vocab   []string // words of the base records, most frequent first
	names   []string // personal names of the base records
	libs    []string
	zipfMax uint64
}

func newGenerator(tb testing.TB) *generator {
	g := &generator{}
	for _, pattern := range []string{"../testdata/vietnamese/*.xml", "../testdata/vietnamese/vinh.mrc",
		"../testdata/marc/zebra/*", "../testdata/marc/yaz/marccol*.marc", "../testdata/marc/openlibrary/*.mrc",
		"../testdata/marc/recordmanager/marc[0-9]*.xml"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			for _, r := range readMARCLenient(f) {
				if _, err := marc.AppendISO2709(nil, r); err == nil && r.First("245") != nil && validControl(r) {
					g.base = append(g.base, r)
				}
			}
		}
	}
	if len(g.base) < 100 {
		tb.Fatalf("only %d base records", len(g.base))
	}
	freq := map[string]int{}
	seenName := map[string]bool{}
	for _, r := range g.base {
		for _, f := range r.Fields {
			switch {
			case f.Tag == "245" || f.Tag == "650" || f.Tag == "520":
				for _, sf := range f.Subfields {
					for _, w := range textnorm.Words(sf.Value) {
						if len(w) > 2 && !isDigits(w) {
							freq[w]++
						}
					}
				}
			case f.Tag == "100" || f.Tag == "700":
				if nm := marc.CleanISBD(f.Sub('a')); nm != "" && !seenName[nm] {
					seenName[nm] = true
					g.names = append(g.names, nm)
				}
			}
		}
	}
	for w := range freq {
		g.vocab = append(g.vocab, w)
	}
	sort.Slice(g.vocab, func(i, j int) bool {
		if freq[g.vocab[i]] != freq[g.vocab[j]] {
			return freq[g.vocab[i]] > freq[g.vocab[j]]
		}
		return g.vocab[i] < g.vocab[j]
	})
	for i := 1; i <= 20; i++ {
		g.libs = append(g.libs, fmt.Sprintf("NA-LIB%02d", i))
	}
	g.zipfMax = uint64(len(g.vocab) - 1)
	return g
}

// validControl reports whether the record's control fields are plain
// values (some broken test records have an 008 with subfields).
func validControl(r *marc.Record) bool {
	for _, f := range r.Fields {
		if marc.IsControlTag(f.Tag) && len(f.Subfields) > 0 {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func readMARCLenient(path string) []*marc.Record {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	f, ok := marc.Sniff(data)
	if !ok {
		return nil
	}
	opts := marc.ReaderOptions{Source: path}
	if strings.Contains(path, "nghi-loc") {
		opts.Charset = marc.CharsetWindows1258
	}
	rd := marc.NewReader(bytes.NewReader(data), f, opts)
	var out []*marc.Record
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			if _, ok := err.(*marc.RecordError); ok {
				continue
			}
			return out
		}
		out = append(out, r)
	}
}

// record returns variant i; the same i always gives the same record.
func (g *generator) record(i int) *marc.Record {
	rng := rand.New(rand.NewPCG(uint64(i), 0x5eed))
	zipf := rand.NewZipf(rng, 1.2, 4, g.zipfMax)
	word := func() string { return g.vocab[zipf.Uint64()] }
	base := g.base[i%len(g.base)]
	r := &marc.Record{Leader: base.Leader}
	if len(r.Leader) == 24 {
		r.Leader = r.Leader[:9] + "a" + r.Leader[10:]
	}
	year := 1950 + rng.IntN(75)
	r.Fields = append(r.Fields, marc.Field{Tag: "001", Value: fmt.Sprintf("b%07d", i)})
	for _, f := range base.Fields {
		switch f.Tag {
		case "001", "003", "005", "020", "035", "852", "952":
			continue
		case "008":
			v := f.Value
			if len(v) < 40 {
				v += strings.Repeat(" ", 40-len(v))
			}
			f.Value = v[:7] + strconv.Itoa(year) + v[11:]
		case "245":
			f.Subfields = slices.Clone(f.Subfields)
			for k := range f.Subfields {
				if f.Subfields[k].Code == 'a' {
					f.Subfields[k].Value = strings.TrimRight(f.Subfields[k].Value, " /:;.") + " " + word() + " " + word()
					break
				}
			}
		case "100":
			if rng.IntN(3) == 0 && len(g.names) > 0 {
				f.Subfields = []marc.Subfield{{Code: 'a', Value: g.names[rng.IntN(len(g.names))]}}
			}
		}
		r.Fields = append(r.Fields, f)
	}
	if r.First("008") == nil {
		r.Fields = append(r.Fields, marc.Field{Tag: "008", Value: "000101s" + strconv.Itoa(year) + "    xx            000 0 und d"})
		slices.SortStableFunc(r.Fields, func(a, b marc.Field) int { return strings.Compare(a.Tag, b.Tag) })
	}
	r.Fields = append(r.Fields,
		marc.Field{Tag: "020", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: isbnOf(i)}}},
		marc.Field{Tag: "653", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: word()}}})
	for k, n := 0, 1+rng.IntN(3); k < n; k++ {
		r.Fields = append(r.Fields, marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ',
			Subfields: []marc.Subfield{{Code: 'a', Value: g.libs[rng.IntN(len(g.libs))]}, {Code: 'b', Value: "district"}}})
	}
	slices.SortStableFunc(r.Fields, func(a, b marc.Field) int { return strings.Compare(a.Tag, b.Tag) })
	return r
}

// isbnOf makes a valid ISBN-13 under 978-604 from i.
func isbnOf(i int) string {
	d := fmt.Sprintf("978604%06d", i%1_000_000)
	sum := 0
	for k := 0; k < 12; k++ {
		v := int(d[k] - '0')
		if k%2 == 1 {
			v *= 3
		}
		sum += v
	}
	return d + strconv.Itoa((10-sum%10)%10)
}

func (g *generator) writeFile(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := marc.NewISO2709Writer(bufio.NewWriterSize(f, 1<<20))
	for i := 0; i < n; i++ {
		if err := w.Write(g.record(i)); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// each yields the n records as documents and stores their ISO 2709 in
// the test records bucket for Fetch.
func (g *generator) each(db *bbolt.DB, n int, fn func(*search.Doc) error) error {
	const batch = 20000
	for lo := 0; lo < n; lo += batch {
		var raws [][]byte
		var ids []string
		for i := lo; i < min(lo+batch, n); i++ {
			r := g.record(i)
			id := fmt.Sprintf("b%07d", i)
			if err := fn(&search.Doc{ID: id, Record: r}); err != nil {
				return err
			}
			raw, err := marc.AppendISO2709(nil, r)
			if err != nil {
				return err
			}
			raws, ids = append(raws, raw), append(ids, id)
		}
		err := db.Update(func(tx *bbolt.Tx) error {
			for k := range ids {
				if err := catalogtest.PutRecord(tx, ids[k], raws[k]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// queries is the mixed query set: frequent, middling and rare title
// words, anywhere, phrases, truncation, authors, subjects, booleans,
// date ranges, ISBNs and holding libraries. Terms are spelled as in the
// records, so Zebra (which does not fold) finds what unicat finds.
func (g *generator) queries() []string {
	v := g.vocab
	pick := func(lo, hi, k int) []string {
		var out []string
		for i := 0; i < k && lo+i*((hi-lo)/k+1) < min(hi, len(v)); i++ {
			out = append(out, v[lo+i*((hi-lo)/k+1)])
		}
		return out
	}
	var qs []string
	for _, w := range pick(0, 10, 3) {
		qs = append(qs, "dc.title = "+quote(w))
	}
	for _, w := range pick(50, 300, 4) {
		qs = append(qs, "dc.title = "+quote(w), "cql.serverChoice = "+quote(w))
	}
	for _, w := range pick(1000, len(v), 4) {
		qs = append(qs, "dc.title = "+quote(w))
	}
	for _, w := range pick(20, 200, 3) {
		if r := []rune(w); len(r) > 4 {
			qs = append(qs, "dc.title = "+quote(string(r[:4])+"*"))
		}
	}
	for _, w := range pick(5, 100, 3) {
		qs = append(qs, "dc.subject = "+quote(w))
	}
	for i, nm := range g.names {
		if i%(len(g.names)/4+1) == 0 {
			qs = append(qs, "dc.creator = "+quote(nm))
		}
	}
	for _, r := range g.base[:min(len(g.base), 40)] {
		if t := r.First("245"); t != nil {
			ws := textnorm.Words(t.Sub('a'))
			if len(ws) >= 2 {
				qs = append(qs, "dc.title = "+quote(ws[0]+" "+ws[1]))
			}
		}
		if len(qs) > 40 {
			break
		}
	}
	qs = append(qs,
		"dc.title = "+quote(v[2])+" and dc.title = "+quote(v[60]),
		"dc.title = "+quote(v[100])+" or dc.title = "+quote(v[200]),
		"dc.title = "+quote(v[1])+" not dc.title = "+quote(v[3]),
		"dc.title = "+quote(v[30])+" and dc.date > 2000",
		"dc.date > 1960 and dc.date < 1965",
		"bath.isbn = "+isbnOf(4242),
		"bath.isbn = "+isbnOf(777777),
		"bath.possessingInstitution = NA-LIB07 and dc.title = "+quote(v[40]),
		"dc.language = vie and dc.title = "+quote(v[80]),
	)
	return qs
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

var countRe = regexp.MustCompile(`<zs:numberOfRecords>(\d+)</zs:numberOfRecords>`)

func countAt(client *http.Client, base, q string) (int, error) {
	body, err := sruGet(client, base, q, "0")
	if err != nil {
		return -1, err
	}
	m := countRe.FindSubmatch(body)
	if m == nil {
		return -1, fmt.Errorf("no numberOfRecords")
	}
	return strconv.Atoi(string(m[1]))
}

func sruGet(client *http.Client, base, q, max string) ([]byte, error) {
	params := url.Values{"version": {"1.2"}, "operation": {"searchRetrieve"}, "query": {q}, "maximumRecords": {max}}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"?"+params.Encode(), nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return body, err
}

type loadResult struct {
	qps, p50, p99 float64
	errors        int
}

// load sends the queries (ten MARCXML records each) from c clients for d
// and measures latency and throughput.
func load(client *http.Client, base string, queries []string, c int, d time.Duration) loadResult {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for k := 0; k < c; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			for i := k; time.Now().Before(stop); i++ {
				q := queries[(i*7+k)%len(queries)]
				t0 := time.Now()
				body, err := sruGet(client, base, q, "10")
				if err != nil || !bytes.Contains(body, []byte("numberOfRecords")) {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}(k)
	}
	wg.Wait()
	slices.Sort(lat)
	res := loadResult{errors: errs, qps: float64(len(lat)) / d.Seconds()}
	if len(lat) > 0 {
		res.p50 = float64(lat[len(lat)/2]) / 1e6
		res.p99 = float64(lat[len(lat)*99/100]) / 1e6
	}
	return res
}

func bucketBytes(tb testing.TB, db *bbolt.DB, prefix string) int64 {
	var n int64
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if strings.HasPrefix(string(name), prefix) {
				s := b.Stats()
				n += int64(s.LeafAlloc + s.BranchAlloc)
			}
			return nil
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// BenchmarkSearchRetrieve measures the server alone (no network): one
// searchRetrieve with ten MARCXML records per operation, over a catalog
// of BENCH_HANDLER_N generated records (default 20000), cycling through
// the mixed query set.
func BenchmarkSearchRetrieve(b *testing.B) {
	n := envInt("BENCH_HANDLER_N", 20000)
	gen := newGenerator(b)
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "unicat.db"), 0o644, &bbolt.Options{NoSync: true, InitialMmapSize: 4 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ix := search.New()
	if _, err := ix.RebuildFrom(context.Background(), db, func(fn func(*search.Doc) error) error { return gen.each(db, n, fn) },
		search.RebuildOptions{TempDir: b.TempDir()}); err != nil {
		b.Fatal(err)
	}
	srv := New(Config{Catalog: &catalogtest.Catalog{DB: db}})
	var reqs []*http.Request
	for _, q := range gen.queries() {
		params := url.Values{"version": {"1.2"}, "operation": {"searchRetrieve"}, "query": {q}, "maximumRecords": {"10"}}
		reqs = append(reqs, httptestRequest("/sru?"+params.Encode()))
	}
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		r := *reqs[i%len(reqs)]
		r.Form = nil
		srv.ServeHTTP(w, &r)
		i++
	}
}

func httptestRequest(target string) *http.Request {
	r, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		panic(err)
	}
	return r
}

// discardWriter is an http.ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

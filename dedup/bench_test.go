package dedup

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// The benchmark corpus: manifestations derived from the seeds (each seed
// title extended with words and given its own author, year and ISBN, so
// manifestations are distinct books that still look alike), each held by
// one to five of ten libraries, every copy re-catalogued by variant().
// Records are kept as ISO 2709 per source, as export files hold them.

var benchWords = strings.Fields(`mùa xuân hạ thu đông biển núi sông rừng làng phố quê hương đất nước
	người mẹ cha con em anh chị bạn thầy trò lính thợ nông dân ngày đêm sáng chiều tối trăng sao gió mưa
	nắng lửa nước hoa lá cây cỏ chim cá ngựa trâu đường cầu nhà cửa trường lớp sách vở bút mực giấy
	tình yêu nhớ thương buồn vui giận hờn hy vọng ước mơ kỷ niệm lịch sử văn hóa khoa học kỹ thuật
	kinh tế chính trị xã hội giáo dục y tế nghệ thuật âm nhạc hội họa điện ảnh thể thao du lịch ẩm thực
	phong tục tập quán truyền thống hiện đại tương lai quá khứ hôm nay ngày mai cuộc sống con đường
	bí mật phiêu lưu chiến tranh hòa bình độc lập tự do hạnh phúc khúc ca bản hùng ca câu chuyện`)

var (
	benchFamily = strings.Fields("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý")
	benchMiddle = strings.Fields("Văn Thị Hữu Đức Minh Quang Thanh Ngọc Xuân Thu Hồng Anh")
	benchGiven  = strings.Fields("An Bình Cường Dũng Giang Hà Hải Hạnh Hiếu Hòa Hùng Huy Khoa Lan Linh Long Mai Nam Nga Phong Phúc Quân Quỳnh Sơn Tâm Thảo Thủy Trang Trung Tuấn Vân Việt Yến")
)

var benchSources = []store.SourceInfo{
	{ID: "b-tinh", LibraryCode: "B-TINH", Level: "province"},
	{ID: "b-vinh", LibraryCode: "B-VINH", Level: "district"},
	{ID: "b-dienchau", LibraryCode: "B-DC", Level: "district"},
	{ID: "b-quynhluu", LibraryCode: "B-QL", Level: "district"},
	{ID: "b-nghiloc", LibraryCode: "B-NL", Level: "district"},
	{ID: "b-yenthanh", LibraryCode: "B-YT", Level: "district"},
	{ID: "b-doluong", LibraryCode: "B-DL", Level: "district"},
	{ID: "b-xa1", LibraryCode: "B-X1", Level: "commune"},
	{ID: "b-xa2", LibraryCode: "B-X2", Level: "commune"},
	{ID: "b-xa3", LibraryCode: "B-X3", Level: "commune"},
}

type benchCorpus struct {
	raw   map[string][]byte // source → ISO 2709 records
	count map[string]int
	label map[string]string // record key → manifestation
	total int
}

// makeBenchCorpus builds about n records.
func makeBenchCorpus(t testing.TB, n int) *benchCorpus {
	var seeds []*marc.Record
	for _, s := range loadBase(t) {
		if s.rec.Title() == "" || s.rec.First("245") == nil || excludedSeeds[fmt.Sprintf("%s#%d", s.file, s.index)] {
			continue
		}
		if raw, err := marc.AppendISO2709(nil, s.rec); err != nil || len(raw) > 8000 {
			continue
		}
		seeds = append(seeds, s.rec)
	}
	rng := rand.New(rand.NewPCG(20240501, 42))
	c := &benchCorpus{raw: map[string][]byte{}, count: map[string]int{}, label: map[string]string{}}
	for m := 0; c.total < n; m++ {
		seed := seeds[m%len(seeds)]
		man := manifestation(seed, m, rng)
		k := 1 + rng.IntN(5)
		for _, si := range rng.Perm(len(benchSources))[:k] {
			src := benchSources[si].ID
			v := man
			if rng.IntN(4) != 0 { // some libraries take the record as it is
				v = variant(man, rng)
			}
			id := fmt.Sprintf("m%07d", m)
			setControl(v, "001", id)
			raw, err := marc.AppendISO2709(nil, v)
			if err != nil {
				t.Fatalf("bench corpus: %v", err)
			}
			c.raw[src] = append(c.raw[src], raw...)
			c.count[src]++
			c.label[string(store.RecordKey(src, id))] = fmt.Sprint(m)
			c.total++
		}
	}
	return c
}

// manifestation derives the m-th distinct book from a seed.
func manifestation(seed *marc.Record, m int, rng *rand.Rand) *marc.Record {
	r := clone(seed)
	// A book of its own: none of the seed's identifiers (01X-03X) or
	// edition statement.
	dropTags(r, func(tag string) bool { return !(tag >= "010" && tag <= "039") && tag != "250" })
	words := []string{benchWords[m%len(benchWords)], benchWords[(m/len(benchWords))%len(benchWords)], benchWords[rng.IntN(len(benchWords))]}
	if f := r.First("245"); f != nil {
		for j := range f.Subfields {
			if f.Subfields[j].Code == 'a' {
				a := strings.TrimRight(f.Subfields[j].Value, " /:;=.,")
				trail := f.Subfields[j].Value[len(a):]
				f.Subfields[j].Value = a + " " + strings.Join(words, " ") + trail
				break
			}
		}
		f.Subfields = withoutCodes(f.Subfields, "c")
	}
	name := benchFamily[rng.IntN(len(benchFamily))] + ", " + benchMiddle[rng.IntN(len(benchMiddle))] + " " + benchGiven[rng.IntN(len(benchGiven))]
	dropTags(r, func(tag string) bool { return tag != "100" && tag != "110" && tag != "111" && tag != "700" })
	r.Fields = append(r.Fields, marc.Field{Tag: "100", Ind1: '1', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: name}}})
	setYear(r, 1990+rng.IntN(35))
	if rng.IntN(4) != 0 {
		r.Fields = append(r.Fields, marc.Field{Tag: "020", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: makeISBN(uint64(m))}}})
	}
	if len(r.Leader) != 24 {
		r.Leader = "00000nam a2200000 a 4500"
	}
	return r
}

// BenchmarkIngestDedup applies 100k+ records (10 libraries, batches of
// 1000, decoded from ISO 2709 as an import does) to a fresh store, with
// and without the dedup hook, and reports records/s; the dedup run also
// reports pairwise precision and recall against the generated truth.
func BenchmarkIngestDedup(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("DEDUP_BENCH_RECORDS")); err == nil && v > 0 {
		n = v // for quicker profiling runs
	}
	c := makeBenchCorpus(b, n)
	for _, withDedup := range []bool{false, true} {
		name := "store-only"
		if withDedup {
			name = "dedup"
		}
		b.Run(name, func(b *testing.B) {
			var st *store.Store
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				dir := b.TempDir()
				var err error
				st, err = store.Open(filepath.Join(dir, "bench.db"), store.Options{NoSync: true})
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range benchSources {
					s.Name, s.Kind = s.ID, "file"
					if err := st.PutSource(s); err != nil {
						b.Fatal(err)
					}
				}
				if withDedup {
					if err := st.AddHook(New(Options{})); err != nil {
						b.Fatal(err)
					}
				}
				writes0 := pageWrites(b, st)
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				ingestBench(b, st, c)
				elapsed, cpu := time.Since(start), cpuTime()-cpu0
				b.StopTimer()
				b.ReportMetric(float64(c.total)/elapsed.Seconds(), "records/s")
				// Exact where times are not: what the commits wrote.
				b.ReportMetric(float64(pageWrites(b, st)-writes0)/float64(c.total), "page-writes/record")
				// The machine is shared: CPU seconds say what wall time
				// cannot when other processes compete for the cores.
				b.ReportMetric(float64(c.total)/cpu.Seconds(), "records/cpu-s")
				if withDedup && i == b.N-1 {
					pred := clustersOf(b, st)
					conf := pairwise(pred, c.label)
					b.ReportMetric(conf.Precision(), "precision")
					b.ReportMetric(conf.Recall(), "recall")
					b.Logf("%d records, %d libraries: %v", c.total, len(benchSources), conf)
				}
				st.Close()
				b.StartTimer()
			}
		})
	}
}

// pageWrites returns the pages (or runs of overflow pages) the store's
// transactions have written so far.
func pageWrites(b *testing.B, st *store.Store) int64 {
	var n int64
	if err := st.View(func(tx *store.Tx) error {
		stats := tx.Bolt().DB().Stats()
		n = stats.TxStats.GetWrite()
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return n
}

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ingestBench interleaves the sources' batches as concurrent harvests
// would arrive, each batch prepared while the one before commits, as an
// import does (store.Pipeline).
func ingestBench(b testing.TB, st *store.Store, c *benchCorpus) {
	pl := st.NewPipeline()
	defer func() {
		if err := pl.Close(); err != nil {
			b.Fatal(err)
		}
	}()
	readers := map[string]*marc.ISO2709Reader{}
	for _, s := range benchSources {
		readers[s.ID] = marc.NewISO2709Reader(bytes.NewReader(c.raw[s.ID]), marc.ReaderOptions{Charset: marc.CharsetUTF8})
	}
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for done := false; !done; {
		done = true
		for _, s := range benchSources {
			var in []store.Incoming
			rd := readers[s.ID]
			for len(in) < benchBatch {
				rec, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				in = append(in, store.Incoming{LocalID: rec.ControlNumber(), Record: rec})
			}
			if len(in) == 0 {
				continue
			}
			done = false
			now = now.Add(time.Second)
			if err := pl.Submit(store.Batch{Source: s.ID, Records: in, Now: now}, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkIngestOneSourceCopies is the worst case of cmd/unicat's crash
// test: one source holding 40,000 records that are copies of 43 (same
// identifiers, own 001), so clusters of about a thousand members grow
// with every batch.
func BenchmarkIngestOneSourceCopies(b *testing.B) {
	var base []*marc.Record
	for _, s := range loadBase(b) {
		if s.file == "marc/zebra/sample-marc.mrc" || s.file == "marc/yaz/marccol1.u8.marc" {
			base = append(base, s.rec)
		}
	}
	var raw []byte
	const n = 40000
	for i := 0; i < n; i++ {
		r := clone(base[i%len(base)])
		setControl(r, "001", fmt.Sprintf("big%07d", i))
		var err error
		if raw, err = marc.AppendISO2709(raw, r); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; i < b.N; i++ {
		st, err := store.Open(filepath.Join(b.TempDir(), "big.db"), store.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.PutSource(store.SourceInfo{ID: "big", Name: "big", LibraryCode: "BIG", Level: "district", Kind: "file"}); err != nil {
			b.Fatal(err)
		}
		if err := st.AddHook(New(Options{})); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		rd := marc.NewISO2709Reader(bytes.NewReader(raw), marc.ReaderOptions{Charset: marc.CharsetUTF8})
		for {
			var in []store.Incoming
			for len(in) < 1000 {
				rec, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				in = append(in, store.Incoming{LocalID: rec.ControlNumber(), Record: rec})
			}
			if len(in) == 0 {
				break
			}
			if _, err := st.Apply(store.Batch{Source: "big", Records: in}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(n/time.Since(start).Seconds(), "records/s")
		var live int
		st.View(func(tx *store.Tx) error { live, _, err = Count(tx.Bolt()); return err })
		b.Logf("%d records → %d union records", n, live)
		st.Close()
	}
}

// benchBatch is the batch size of BenchmarkIngestDedup (DEDUP_BENCH_BATCH
// to change it; an import uses ingest.DefaultBatchSize).
var benchBatch = func() int {
	if v, err := strconv.Atoi(os.Getenv("DEDUP_BENCH_BATCH")); err == nil && v > 0 {
		return v
	}
	return 1000
}()

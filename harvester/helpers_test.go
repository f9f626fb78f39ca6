package harvester

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester/harvesttest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// realRecords reads the real MARCXML test records: the constructed
// Vietnamese province library, the Zebra opera collection and
// RecordManager's samples (see testdata/README.md).
func realRecords(t testing.TB) []*marc.Record {
	t.Helper()
	files := []string{"../testdata/vietnamese/na-tinh.xml", "../testdata/marc/zebra/collection-opera-43.xml"}
	for _, f := range []string{"marc1", "marc2", "marc3", "marc_alt_script", "marc_analytical", "marc_dewey"} {
		files = append(files, "../testdata/marc/recordmanager/"+f+".xml")
	}
	var out []*marc.Record
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		rd := marc.NewXMLReader(f, marc.ReaderOptions{Source: name})
		for {
			rec, err := rd.Next()
			if err != nil {
				break
			}
			out = append(out, rec)
		}
		f.Close()
	}
	if len(out) < 60 {
		t.Fatalf("read %d test records, want 62", len(out))
	}
	return out
}

var t0 = time.Date(2024, 3, 1, 8, 0, 0, 0, time.UTC)

// items makes n OAI items oai:test:00000... cycling through the real
// records, datestamped a minute apart from t0.
func items(t testing.TB, n int) []harvesttest.Item {
	recs := realRecords(t)
	out := make([]harvesttest.Item, n)
	for i := range out {
		out[i] = harvesttest.Item{ID: fmt.Sprintf("oai:test:%05d", i), Datestamp: t0.Add(time.Duration(i) * time.Minute), Record: recs[i%len(recs)]}
	}
	return out
}

// clock is a settable clock for the in-test servers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is a store, a configuration with one source and a harvester over
// them whose sleeps are recorded, not slept.
type env struct {
	t      testing.TB
	cfg    *config.Config
	src    *config.Source
	st     *store.Store
	h      *Harvester
	reg    *prometheus.Registry
	m      *Metrics
	mu     sync.Mutex
	sleeps []time.Duration
}

// newEnv configures one source from the YAML lines of its definition
// (after id, name, library_code and level).
func newEnv(t testing.TB, sourceYAML string) *env {
	t.Helper()
	dir := t.TempDir()
	doc := "data_dir: data\nharvest: {jitter: 1ms}\nsources:\n  - id: src\n    name: Test library\n    library_code: TEST\n    level: district\n"
	for _, l := range strings.Split(strings.TrimSpace(sourceYAML), "\n") {
		doc += "    " + strings.TrimSpace(l) + "\n"
	}
	cfg, err := config.Parse([]byte(doc), filepath.Join(dir, "unicat.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cfg: cfg, src: &cfg.Sources[0]}
	e.st, err = store.Open(cfg.StorePath(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	for _, s := range cfg.Sources {
		if err := e.st.PutSource(store.SourceInfo{ID: s.ID, Name: s.Name, LibraryCode: s.LibraryCode, Level: s.Level, Kind: s.Kind}); err != nil {
			t.Fatal(err)
		}
	}
	e.reg = prometheus.NewRegistry()
	if e.m, err = NewMetrics(e.reg); err != nil {
		t.Fatal(err)
	}
	e.h = New(e.st, cfg, Options{Metrics: e.m, Sleep: e.sleep})
	return e
}

func (e *env) sleep(ctx context.Context, d time.Duration) error {
	e.mu.Lock()
	e.sleeps = append(e.sleeps, d)
	e.mu.Unlock()
	return ctx.Err()
}

func (e *env) slept() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.sleeps)
}

// run harvests the source once.
func (e *env) run() (store.Run, error) {
	return e.h.Run(context.Background(), "src", nil)
}

// mustRun harvests the source and fails the test on an error.
func (e *env) mustRun() store.Run {
	e.t.Helper()
	r, err := e.run()
	if err != nil {
		e.t.Fatalf("harvest: %v\nnotes:\n%s", err, r.Notes)
	}
	return r
}

// records returns the stored records and tombstones of the source.
func (e *env) records() map[string]*store.SourceRecord {
	e.t.Helper()
	out := map[string]*store.SourceRecord{}
	err := e.st.View(func(tx *store.Tx) error {
		return tx.ForEachRecord("src", func(sr *store.SourceRecord) error {
			out[sr.LocalID] = sr
			return nil
		})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// live returns the ids of the live stored records, and checks the
// store's counters agree.
func (e *env) live() []string {
	e.t.Helper()
	var ids []string
	deleted := 0
	for id, sr := range e.records() {
		if sr.Deleted {
			deleted++
		} else {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	st, err := e.st.Stats()
	if err != nil {
		e.t.Fatal(err)
	}
	if s := st["src"]; s.Live != len(ids) || s.Deleted != deleted {
		e.t.Fatalf("stats say %d live, %d deleted; the records %d, %d", s.Live, s.Deleted, len(ids), deleted)
	}
	return ids
}

func (e *env) checkpoint() string {
	e.t.Helper()
	cp, err := e.st.Checkpoint("src")
	if err != nil {
		e.t.Fatal(err)
	}
	return string(cp)
}

// liveIDs are the ids of the items not deleted.
func liveIDs(its []harvesttest.Item) []string {
	var ids []string
	for _, it := range its {
		if !it.Deleted {
			ids = append(ids, it.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// sameRecord compares a stored record with the one served.
func sameRecord(t testing.TB, sr *store.SourceRecord, want *marc.Record) {
	t.Helper()
	got, err := sr.Record()
	if err != nil {
		t.Fatalf("%s: %v", sr.LocalID, err)
	}
	// The record length and base address (leader/00-04, 12-16) are the
	// encoding's, not the record's.
	norm := func(r *marc.Record) []byte {
		c := *r
		if len(c.Leader) == 24 {
			c.Leader = "00000" + c.Leader[5:12] + "00000" + c.Leader[17:]
		}
		x, _ := marc.AppendMARCXML(nil, &c, true)
		return x
	}
	a, b := norm(got), norm(want)
	if string(a) != string(b) {
		t.Errorf("%s: stored record differs from the one served:\n%s\nwant\n%s", sr.LocalID, a, b)
	}
}

// metricValue reads a counter's or gauge's value.
func metricValue(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	switch {
	case d.Counter != nil:
		return d.Counter.GetValue()
	case d.Gauge != nil:
		return d.Gauge.GetValue()
	}
	return 0
}

// driverFunc adapts a function to the Driver interface.
type driverFunc func(ctx context.Context, j *Job) error

func (f driverFunc) Harvest(ctx context.Context, j *Job) error { return f(ctx, j) }

// parseOAI reads a whole ListRecords (or other) response held in memory,
// both passes, as the harvest reads it page by page: the parser tests
// and the benchmark look at the whole response at once.
func parseOAI(body []byte, cs marc.Charset) (*oaiResponse, error) {
	verb := "ListRecords"
	if bytes.Contains(body, []byte("ListIdentifiers")) {
		verb = "ListIdentifiers"
	}
	p, err := readOAIPage(&Body{mem: body, n: int64(len(body))}, verb, marc.ReaderOptions{Charset: cs})
	if err != nil {
		return nil, err
	}
	var recs []oaiRecord
	if err := p.each(func(rec *oaiRecord, _ int, _ int64) error { recs = append(recs, *rec); return nil }); err != nil {
		return nil, err
	}
	resp := *p.oaiResponse
	resp.Records = recs
	return &resp, nil
}

// parseSRU reads a whole searchRetrieve response held in memory, both
// passes (see parseOAI).
func parseSRU(body []byte, cs marc.Charset) (*sruResponse, error) {
	p, err := readSRUPage(&Body{mem: body, n: int64(len(body))}, marc.ReaderOptions{Charset: cs})
	if err != nil {
		return nil, err
	}
	var recs []sruRecord
	if err := p.each(func(rec *sruRecord, _ int, _ int64) error { recs = append(recs, *rec); return nil }); err != nil {
		return nil, err
	}
	resp := *p.sruResponse
	resp.Records = recs
	return &resp, nil
}

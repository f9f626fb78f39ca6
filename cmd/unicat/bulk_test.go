package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/search"
)

// genCatalog writes a generated corpus of n records over libs libraries
// into dir and a configuration with a file source for each library, and
// returns the configuration's path.
func genCatalog(t *testing.T, dir string, n, libs int) string {
	t.Helper()
	if out, e, code := runUnicat(t, "gen", "-o", dir, "-n", fmt.Sprint(n), "-libraries", fmt.Sprint(libs), "-seed", "18"); code != 0 {
		t.Fatalf("gen exited %d: %s %s", code, out, e)
	}
	var b strings.Builder
	b.WriteString("data_dir: data\nsources:\n")
	for _, l := range corpus.Libraries(libs) {
		fmt.Fprintf(&b, "  - {id: %s, name: %q, library_code: %s, level: %s, kind: file, path: %s.mrc}\n",
			l.ID, l.Name, l.Code, l.Level, l.ID)
	}
	p := filepath.Join(dir, "unicat.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// seen is what a client can see of a catalog, with union ids replaced by
// the clusters they name (the record keys of their members), since a bulk
// load numbers its new clusters otherwise (catalog/bulk.go).
type seen struct {
	clusters map[string]string   // members → master, holdings and the record as served
	answers  map[string][]string // query → hits, as member lists, sorted
	totals   map[string]int      // query → hit count
	oaiSets  map[string]int      // set spec → live records listed
	live     int
	indexed  search.Status
}

// queries are CQL queries over every index a client uses, on words the
// generated corpus is made of.
var equivalenceQueries = []string{
	`title = "truyen"`, `title any "lich su"`, `dc.creator = "nguyen"`, `subject = "van hoc"`,
	`publisher = "kim dong"`, `date = 2015`, `title = "kieu" and dc.creator = "du"`,
	`cql.anywhere = "ha noi" sortBy dc.date/sort.descending`, `title = "the"`,
	`title = "truyen" not date = 2010`, `bath.isbn = "978604*"`, `dc.title = "viet*"`,
}

func look(t *testing.T, cfgPath string) seen {
	t.Helper()
	_, cat := openConfigured(t, cfgPath)
	defer cat.Close()
	s := seen{clusters: map[string]string{}, answers: map[string][]string{}, totals: map[string]int{}, oaiSets: map[string]int{}}
	members := map[string]string{} // union id → members
	ctx := context.Background()
	err := cat.View(ctx, func(snap catalog.Snapshot) error {
		if err := snap.ForEachUnion(ctx, func(u *dedup.UnionRecord) error {
			if u.Deleted {
				return nil
			}
			ex, err := snap.Explain(u.ID)
			if err != nil {
				return err
			}
			var keys []string
			master := ""
			for _, m := range ex.Members {
				keys = append(keys, m.Source+":"+m.LocalID)
				if m.Master {
					master = m.Source + ":" + m.LocalID
				}
			}
			sort.Strings(keys)
			key := strings.Join(keys, " ")
			xml, _ := marc.AppendMARCXML(nil, u.Record, false)
			s.clusters[key] = fmt.Sprintf("master %s\nlibraries %v levels %v\n%s", master, u.Libraries, u.Levels,
				strings.ReplaceAll(string(xml), u.ID, "ID"))
			members[u.ID] = key
			s.live++
			return nil
		}); err != nil {
			return err
		}
		for _, cql := range equivalenceQueries {
			q, err := search.ParseCQL(cql)
			if err != nil {
				return err
			}
			h, err := snap.Search(ctx, q, 0, 100000)
			if err != nil {
				return fmt.Errorf("%s: %w", cql, err)
			}
			s.totals[cql] = h.Total
			for _, id := range h.IDs {
				s.answers[cql] = append(s.answers[cql], members[id])
			}
			sort.Strings(s.answers[cql])
		}
		var err error
		if s.indexed, err = snap.IndexStatus(); err != nil {
			return err
		}
		libs, err := snap.Libraries()
		if err != nil {
			return err
		}
		specs := []string{oaiindex.AllRecords}
		for _, l := range libs {
			specs = append(specs, oaiindex.LibrarySet(l.Code))
		}
		for _, spec := range specs {
			list := &oaiindex.List{Spec: spec, Cutoff: time.Now().Unix() + 1}
			err := snap.OAI().Scan(list, 0, "", func(e oaiindex.Entry) bool {
				if !e.Deleted {
					s.oaiSets[spec]++
				}
				return true
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBulkLoadEquivalent loads one generated corpus batch by batch and in
// bulk, through `unicat import`, and compares what a client sees: the same
// clusters with the same masters, holdings and served records, the same
// search answers, the same OAI-PMH lists. Union ids are compared through
// the clusters they name (see catalog/bulk.go for why they differ).
func TestBulkLoadEquivalent(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 12,000 records twice")
	}
	base := t.TempDir()
	var cfgs [2]string
	for i, mode := range []string{"never", "always"} {
		dir := filepath.Join(base, mode)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cfgs[i] = genCatalog(t, dir, 12000, 6)
		out, e, code := runUnicat(t, "import", "--config", cfgs[i], "--all", "--bulk", mode)
		if code != 0 {
			t.Fatalf("import --bulk %s exited %d: %s %s", mode, code, out, e)
		}
		if got := strings.Contains(out, "bulk build: 12000 record(s)"); got != (mode == "always") {
			t.Errorf("import --bulk %s: bulk build reported %v:\n%s", mode, got, out)
		}
	}
	inc, bulk := look(t, cfgs[0]), look(t, cfgs[1])
	if inc.live < 7000 || inc.live != bulk.live {
		t.Errorf("live union records: %d batch by batch, %d in bulk", inc.live, bulk.live)
	}
	differ := 0
	for k, v := range inc.clusters {
		if bulk.clusters[k] != v {
			if differ++; differ <= 3 {
				t.Errorf("cluster %s:\nbatch by batch: %s\nin bulk: %s", k, v, bulk.clusters[k])
			}
		}
	}
	if differ > 0 || len(inc.clusters) != len(bulk.clusters) {
		t.Errorf("%d of %d clusters differ; %d clusters in bulk", differ, len(inc.clusters), len(bulk.clusters))
	}
	hits := 0
	for _, q := range equivalenceQueries {
		hits += inc.totals[q]
		if inc.totals[q] != bulk.totals[q] || strings.Join(inc.answers[q], "|") != strings.Join(bulk.answers[q], "|") {
			t.Errorf("%s: %d hits batch by batch, %d in bulk, or other records", q, inc.totals[q], bulk.totals[q])
		}
	}
	t.Logf("%d live union records, %d search hits over %d queries, OAI-PMH %v", inc.live, hits, len(equivalenceQueries), inc.oaiSets)
	if hits == 0 {
		t.Error("no query found anything: the comparison proves nothing")
	}
	if fmt.Sprint(inc.oaiSets) != fmt.Sprint(bulk.oaiSets) || inc.oaiSets[oaiindex.AllRecords] != inc.live {
		t.Errorf("OAI-PMH lists: batch by batch %v, in bulk %v", inc.oaiSets, bulk.oaiSets)
	}
	t.Run("killed", func(t *testing.T) { killBulkLoads(t, filepath.Join(base, "killed"), inc) })
}

// killBulkLoads kills bulk imports of the corpus at random moments: after
// each kill the catalog must open complete (the build a kill interrupted
// completed by the next open, `unicat status` saying it is pending until
// then), and the import run again to the end must give what the import
// batch by batch gave (want).
func killBulkLoads(t *testing.T, dir string, want seen) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := genCatalog(t, dir, 12000, 6)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 18))
	pendingSeen := 0
	for round := range 3 {
		delay := time.Duration(200+rng.IntN(2200)) * time.Millisecond
		finished, err := runAndKill(t, delay, "import", "--config", cfg, "--all", "--bulk", "always")
		if finished {
			t.Logf("round %d: import finished before the kill at %v (%v)", round, delay, err)
		}
		out, _, _ := runUnicat(t, "status", "--config", cfg)
		pending := strings.Contains(out, "a bulk load was interrupted before its build")
		if pending {
			pendingSeen++
		}
		got := look(t, cfg) // opens the catalog: completes a pending build
		t.Logf("round %d: killed after %v, build pending %v; %d live union records", round, delay, pending, got.live)
		if !got.indexed.Ready || int(got.indexed.Docs) != got.live || got.oaiSets[oaiindex.AllRecords] != got.live {
			t.Fatalf("round %d: opened after a kill: %d live union records, search index %+v, OAI-PMH lists %d",
				round, got.live, got.indexed, got.oaiSets[oaiindex.AllRecords])
		}
		if out, _, _ := runUnicat(t, "status", "--config", cfg); strings.Contains(out, "interrupted before its build") {
			t.Fatalf("round %d: still pending after an open:\n%s", round, out)
		}
	}
	if out, e, code := runUnicat(t, "import", "--config", cfg, "--all", "--bulk", "always"); code != 0 {
		t.Fatalf("final import exited %d: %s %s", code, out, e)
	}
	got := look(t, cfg)
	if got.live != want.live || fmt.Sprint(got.oaiSets) != fmt.Sprint(want.oaiSets) {
		t.Errorf("after the kills and a whole import: %d live, OAI-PMH %v; want %d, %v", got.live, got.oaiSets, want.live, want.oaiSets)
	}
	for k, v := range want.clusters {
		if got.clusters[k] != v {
			t.Fatalf("after the kills and a whole import, cluster %s differs:\n%s\nwant\n%s", k, got.clusters[k], v)
		}
	}
	t.Logf("%d of 3 kills left a build pending", pendingSeen)
}

// A --bulk value that is none of the three is refused before anything is
// read.
func TestImportBulkFlag(t *testing.T) {
	cfgPath := writeConfig(t, t.TempDir())
	out, e, code := runUnicat(t, "import", "--config", cfgPath, "--all", "--bulk", "sometimes")
	if code == 0 || !strings.Contains(e, `--bulk "sometimes": want auto, always or never`) {
		t.Errorf("--bulk sometimes: exit %d, %q %q", code, out, e)
	}
}

// The bulk policy counts a source's files in the format the import will
// read them in: --format, else the source's format:, else the file name.
func TestBulkEstimateFormat(t *testing.T) {
	for _, c := range []struct {
		flag, source, path string
		xml                bool
	}{
		{"auto", "", "a/lib.mrc", false},
		{"auto", "", "a/LIB.XML", true},
		{"auto", "marcxml", "a/export.dat", true},
		{"auto", "iso2709", "a/export.xml", false},
		{"marcxml", "iso2709", "a/export.mrc", true},
		{"iso2709", "marcxml", "a/export.xml", false},
	} {
		j := importJob{src: &config.Source{ID: "s", Format: c.source}, paths: []string{c.path}}
		if got := readsAsXML(j.format(c.flag), c.path); got != c.xml {
			t.Errorf("--format %s, source format %q, %s: MARCXML %v, want %v", c.flag, c.source, c.path, got, c.xml)
		}
	}
}

// limitMemory sets the memory limit and, unless GOGC is set, the
// collector's target for a bulk load, and puts both back.
func TestLimitMemory(t *testing.T) {
	gcPercent := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	limit := func() int64 { return debug.SetMemoryLimit(-1) } // a negative limit only reads it
	beforeGC, beforeLimit := gcPercent(), limit()
	for _, gogc := range []string{"", "50"} {
		t.Setenv("GOMEMLIMIT", "")
		t.Setenv("GOGC", gogc)
		restore := limitMemory(900)
		wantGC := bulkGCPercent
		if gogc != "" {
			wantGC = beforeGC
		}
		if got := limit(); got != 900<<20 {
			t.Errorf("GOGC=%q: limit %d during the load", gogc, got)
		}
		if got := gcPercent(); got != wantGC {
			t.Errorf("GOGC=%q: GC percent %d during the load, want %d", gogc, got, wantGC)
		}
		restore()
		if gcPercent() != beforeGC || limit() != beforeLimit {
			t.Errorf("GOGC=%q: not restored: %d %d", gogc, gcPercent(), limit())
		}
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	restore := limitMemory(900)
	if gcPercent() != beforeGC || limit() != beforeLimit {
		t.Errorf("GOMEMLIMIT set: the load changed the collector: %d %d", gcPercent(), limit())
	}
	restore()
}

package dedup

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/unicat/unicat/store"
)

// confusion counts record pairs: TP both in one cluster and one label,
// FP one cluster but two labels, FN one label but two clusters.
type confusion struct {
	tp, fp, fn, tn int
}

func (c confusion) precision() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}

func (c confusion) recall() float64 {
	if c.tp+c.fn == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fn)
}

func (c confusion) f1() float64 {
	p, r := c.precision(), c.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func (c confusion) String() string {
	return fmt.Sprintf("pairs: TP %d FP %d FN %d TN %d; precision %.4f recall %.4f F1 %.4f",
		c.tp, c.fp, c.fn, c.tn, c.precision(), c.recall(), c.f1())
}

// pairwise compares predicted clusters with labels, both keyed by record.
func pairwise(pred, label map[string]string) confusion {
	// Count pairs through the (cluster, label) contingency table.
	cell := map[[2]string]int{}
	byPred := map[string]int{}
	byLabel := map[string]int{}
	for k, p := range pred {
		l := label[k]
		cell[[2]string{p, l}]++
		byPred[p]++
		byLabel[l]++
	}
	pairs := func(n int) int { return n * (n - 1) / 2 }
	var c confusion
	for _, n := range cell {
		c.tp += pairs(n)
	}
	samePred, sameLabel := 0, 0
	for _, n := range byPred {
		samePred += pairs(n)
	}
	for _, n := range byLabel {
		sameLabel += pairs(n)
	}
	c.fp = samePred - c.tp
	c.fn = sameLabel - c.tp
	c.tn = pairs(len(pred)) - c.tp - c.fp - c.fn
	return c
}

// ingestLabelled stores the set in a fresh store, one batch of up to
// batch records per source at a time, and returns the store and the
// record key → label map.
func ingestLabelled(t testing.TB, set []labelled, batch int, opts Options) (*store.Store, *Deduper, map[string]string) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "q.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bySource := map[string][]labelled{}
	var sources []string
	label := map[string]string{}
	for _, l := range set {
		if bySource[l.source] == nil {
			sources = append(sources, l.source)
		}
		bySource[l.source] = append(bySource[l.source], l)
		label[string(store.RecordKey(l.source, l.id))] = l.label
	}
	for _, s := range sources {
		if err := st.PutSource(store.SourceInfo{ID: s, Name: s, LibraryCode: "LIB-" + s, Level: "district", Kind: "file"}); err != nil {
			t.Fatal(err)
		}
	}
	d := New(opts)
	if err := st.AddHook(d); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// Round-robin over the sources, as harvests interleave.
	for pos := 0; ; pos += batch {
		any := false
		for _, s := range sources {
			recs := bySource[s]
			if pos >= len(recs) {
				continue
			}
			any = true
			end := min(pos+batch, len(recs))
			var in []store.Incoming
			for _, l := range recs[pos:end] {
				in = append(in, store.Incoming{LocalID: l.id, Record: l.rec})
			}
			now = now.Add(time.Second)
			if _, err := st.Apply(store.Batch{Source: s, Records: in, Now: now}); err != nil {
				t.Fatal(err)
			}
		}
		if !any {
			break
		}
	}
	return st, d, label
}

// clustersOf maps every member record key to its union id.
func clustersOf(t testing.TB, st *store.Store) map[string]string {
	t.Helper()
	pred := map[string]string{}
	err := st.View(func(tx *store.Tx) error {
		return tx.Bolt().Bucket(bucketMembers).ForEach(func(k, v []byte) error {
			pred[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return pred
}

// TestQualityLabelled measures pairwise precision and recall on the
// labelled set and holds them to the targets: precision ≥ 0.99, recall ≥
// 0.95. Run with -v to see the confusion counts and every mistake.
func TestQualityLabelled(t *testing.T) {
	set := buildLabelled(t)
	kinds := map[string]int{}
	for _, l := range set {
		kinds[l.kind]++
	}
	t.Logf("labelled set: %d records %v", len(set), kinds)
	st, _, label := ingestLabelled(t, set, 25, Options{})
	pred := clustersOf(t, st)
	if len(pred) != len(set) {
		t.Fatalf("%d records clustered, %d in the set", len(pred), len(set))
	}
	c := pairwise(pred, label)
	t.Logf("%v", c)
	reportMistakes(t, st, set, pred)
	if c.precision() < 0.99 || c.recall() < 0.95 {
		t.Errorf("precision %.4f (want ≥ 0.99), recall %.4f (want ≥ 0.95)", c.precision(), c.recall())
	}
	// A look-alike set must actually hold look-alikes and duplicates.
	if c.tp < 300 || c.tn < 100000 {
		t.Errorf("labelled set too small to mean anything: %v", c)
	}

	// Recomputing every cluster from scratch must agree with what the
	// batches built incrementally, and keep the ids.
	d2 := New(Options{})
	d2.RebuildOnInit(nil)
	if err := st.AddHook(d2); err != nil {
		t.Fatal(err)
	}
	stats, _ := d2.LastRebuild()
	after := clustersOf(t, st)
	moved := 0
	for k, id := range pred {
		if after[k] != id {
			moved++
		}
	}
	t.Logf("rebuild: %+v; %d records changed union", stats, moved)
	if moved != 0 || stats.Changed != 0 {
		t.Errorf("a rebuild changed %d union records and moved %d records: incremental and full clustering disagree", stats.Changed, moved)
	}
}

// reportMistakes logs the records wrongly merged and wrongly kept apart.
func reportMistakes(t testing.TB, st *store.Store, set []labelled, pred map[string]string) {
	byKey := map[string]labelled{}
	for _, l := range set {
		byKey[string(store.RecordKey(l.source, l.id))] = l
	}
	clusterLabels := map[string]map[string][]string{}
	labelClusters := map[string]map[string][]string{}
	for k, p := range pred {
		l := byKey[k].label
		if clusterLabels[p] == nil {
			clusterLabels[p] = map[string][]string{}
		}
		clusterLabels[p][l] = append(clusterLabels[p][l], k)
		if labelClusters[l] == nil {
			labelClusters[l] = map[string][]string{}
		}
		labelClusters[l][p] = append(labelClusters[l][p], k)
	}
	show := func(k string) string {
		l := byKey[k]
		var p *profile
		st.View(func(tx *store.Tx) error {
			if v := tx.Bolt().Bucket(bucketProfiles).Get([]byte(k)); v != nil {
				p, _ = decodeProfile(v)
			}
			return nil
		})
		if p == nil {
			return displayKey(k)
		}
		return fmt.Sprintf("%s [%s] %q a=%q y=%d pg=%d ed=%q vol=%v isbn=%v pub=%q", displayKey(k), l.kind, p.title, p.author, p.year, p.pages, p.edition, p.volumes, p.isbns, p.publisher)
	}
	var lines []string
	for _, ls := range clusterLabels {
		if len(ls) > 1 {
			s := "WRONG MERGE:"
			for _, ks := range ls {
				for _, k := range ks {
					s += "\n    " + show(k)
				}
			}
			lines = append(lines, s)
		}
	}
	for _, ps := range labelClusters {
		if len(ps) > 1 {
			s := "MISSED:"
			for _, ks := range ps {
				s += "\n  cluster:"
				for _, k := range ks {
					s += "\n    " + show(k)
				}
			}
			lines = append(lines, s)
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		t.Log(l)
	}
}

package dedup

import (
	"fmt"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/unicat/unicat/corpus"

	"github.com/unicat/unicat/store"
)

// pairwise compares predicted clusters with labels, both keyed by record.
func pairwise(pred, label map[string]string) corpus.PairScore {
	var pc corpus.PairCounter
	for k, p := range pred {
		pc.Add(p, label[k])
	}
	return pc.Score()
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
	if c.Precision() < 0.99 || c.Recall() < 0.95 {
		t.Errorf("precision %.4f (want ≥ 0.99), recall %.4f (want ≥ 0.95)", c.Precision(), c.Recall())
	}
	// A look-alike set must actually hold look-alikes and duplicates.
	if c.TP < 300 || c.TN < 100000 {
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

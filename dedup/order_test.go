package dedup

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/unicat/unicat/store"
)

// partition returns each record's cluster as the sorted list of its
// members, whatever the union ids.
func partition(t testing.TB, st *store.Store) map[string]string {
	t.Helper()
	groups := map[string][]string{}
	for k, seq := range clustersOf(t, st) {
		groups[seq] = append(groups[seq], k)
	}
	out := map[string]string{}
	for _, ks := range groups {
		sort.Strings(ks)
		sig := strings.Join(ks, " ")
		for _, k := range ks {
			out[k] = sig
		}
	}
	return out
}

// The clusters do not depend on the order records arrived in: 30,000
// records of 10 libraries ingested a batch at a time give exactly the
// clusters a rebuild makes of them at once (before components with a
// refused merge were made again whole, 9 union records changed).
func TestArrivalOrderIndependent(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests 30,000 records")
	}
	c := makeBenchCorpus(t, 30000)
	path := filepath.Join(t.TempDir(), "order.db")
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range benchSources {
		s.Name, s.Kind = s.ID, "file"
		if err := st.PutSource(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.AddHook(New(Options{})); err != nil {
		t.Fatal(err)
	}
	ingestBench(t, st, c)
	incremental := partition(t, st)
	st.Close()

	st, err = store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d := New(Options{})
	d.RebuildOnInit(nil)
	if err := st.AddHook(d); err != nil {
		t.Fatal(err)
	}
	stats, _ := d.LastRebuild()
	rebuilt := partition(t, st)
	differ := 0
	for k, sig := range incremental {
		if rebuilt[k] != sig {
			differ++
			if differ <= 5 {
				t.Errorf("%s: incrementally with %q, rebuilt with %q", displayKey(k), sig, rebuilt[k])
			}
		}
	}
	if differ > 0 || stats.Changed != 0 || len(rebuilt) != len(incremental) {
		t.Errorf("%d records clustered otherwise by a rebuild; it changed %d union records (%+v)", differ, stats.Changed, stats)
	}
}

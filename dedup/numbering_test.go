package dedup

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/unicat/unicat/store"
)

// TestNewClustersNumberedAlike: the three ways to make clusters give the
// clusters new to them the same union ids: batch by batch, Init's
// rebuild (a catalog under the bulk threshold whose rules changed, or
// whose clusters are missing) and the bulk Rebuild. Ids are allocated in
// order, so the order the clusters are settled in is the numbering.
//
// The component of tinh:1 splits: vinh:a and vinh:c, one source without
// an identifier, both match it and only one may join it. vinh:b, a work
// of its own, sorts between them. Component by component (the batches,
// the bulk Rebuild) vinh:c is numbered before vinh:b; the clusters of
// every record sorted together number vinh:b first.
func TestNewClustersNumberedAlike(t *testing.T) {
	a, b, c := kieu, book{id: "b", title: "Số đỏ", author: "Vũ, Trọng Phụng", year: 1936, pages: 200}, kieu
	a.id, a.isbn = "a", ""
	c.id, c.isbn = "c", ""
	load := func(ts *testStore) {
		ts.put("tinh", kieu)
		ts.put("vinh", a, b, c)
	}

	batches := newTestStore(t, Options{})
	load(batches)
	want := readRebuildView(t, batches.st)
	if len(want.clusters) != 3 {
		t.Fatalf("batch by batch: clusters %v, want three", want.clusters)
	}

	// The same records stored without clusters, copied for each rebuild.
	bare := &testStore{t: t, path: filepath.Join(t.TempDir(), "bare.db"), now: batches.now}
	bare.st = bare.openBare()
	load(bare)
	if err := bare.st.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(bare.path)
	if err != nil {
		t.Fatal(err)
	}
	copyOf := func(name string) *store.Store {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(path, store.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}

	initSt := copyOf("init.db")
	d := New(Options{})
	if err := initSt.AddHook(d); err != nil { // no clusters: Init rebuilds them
		t.Fatal(err)
	}
	if _, rebuilt := d.LastRebuild(); !rebuilt {
		t.Fatal("Init did not rebuild a store without clusters")
	}
	bulkSt := copyOf("bulk.db")
	if _, err := New(Options{}).Rebuild(context.Background(), bulkSt, nil); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]rebuildView{"Init's rebuild": readRebuildView(t, initSt), "the bulk Rebuild": readRebuildView(t, bulkSt)} {
		if !maps.Equal(got.clusters, want.clusters) {
			t.Errorf("%s: clusters %v, batch by batch %v", name, got.clusters, want.clusters)
		}
		for id, v := range want.unions {
			if got.unions[id] != v {
				t.Errorf("%s: union %s's value differs from the batches'", name, id)
			}
		}
		if len(got.unions) != len(want.unions) {
			t.Errorf("%s: %d union values, batch by batch %d", name, len(got.unions), len(want.unions))
		}
	}
}

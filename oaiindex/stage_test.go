package oaiindex_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/internal/marctest"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/store"
)

var stageSources = []store.SourceInfo{
	{ID: "tinh", Name: "Thư viện tỉnh Nghệ An", LibraryCode: "NA-TINH", Level: "province", Kind: "file"},
	{ID: "vinh", Name: "Thư viện thành phố Vinh", LibraryCode: "NA-VINH", Level: "district", Kind: "file"},
}

// stageCatalog is a catalog of n works, every third held by both
// libraries, every seventh of the province's deleted.
func stageCatalog(t *testing.T, n int) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Open(catalog.Options{Path: filepath.Join(t.TempDir(), "unicat.db"), NoSync: true, Sources: stageSources})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tinh, vinh := store.Batch{Source: "tinh"}, store.Batch{Source: "vinh"}
	for i := range n {
		rec := func(id string) store.Incoming {
			return store.Incoming{LocalID: id, Record: marctest.Record("001", id,
				"020", fmt.Sprintf("$a978604%07d", i), "100", "0 $aNguyễn Du",
				"245", fmt.Sprintf("10$aTruyện số %d", i), "260", "$aH. :$bVăn học,$c2015")}
		}
		tinh.Records = append(tinh.Records, rec(fmt.Sprintf("t%d", i)))
		if i%3 == 0 {
			vinh.Records = append(vinh.Records, rec(fmt.Sprintf("v%d", i)))
		}
	}
	del := store.Batch{Source: "tinh"}
	for i := 0; i < n; i += 7 {
		del.Deletions = append(del.Deletions, store.Deletion{LocalID: fmt.Sprintf("t%d", i)})
	}
	for _, b := range []store.Batch{tinh, vinh, del} {
		if _, err := c.Store().Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// oaiBuckets are the index's buckets. (A build that fell back to a
// rebuild would show in the meta's epoch.)
var oaiBuckets = []string{"oaipmh.entries", "oaipmh.items", "oaipmh.sets", "oaipmh.moved", "oaipmh.meta"}

// dumpIndex returns the contents of the index's buckets, and drops the
// whole index if drop is set.
func dumpIndex(t *testing.T, st *store.Store, drop bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := st.Update(func(tx *bbolt.Tx) error {
		for _, name := range oaiBuckets {
			var buf bytes.Buffer
			if b := tx.Bucket([]byte(name)); b != nil {
				b.ForEach(func(k, v []byte) error {
					fmt.Fprintf(&buf, "%x=%x\n", k, v)
					return nil
				})
			}
			out[name] = buf.String()
		}
		if drop {
			for _, name := range oaiBuckets {
				if err := tx.DeleteBucket([]byte(name)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stageFirstBuild reads the first build of st's index in a read
// transaction, which would fail any write, and stages it; nil when the
// index is not empty. The staging's progress must rise to its total.
func stageFirstBuild(st *store.Store, ix *oaiindex.Index) (*oaiindex.Staged, error) {
	var fb *oaiindex.FirstBuild
	err := st.View(func(tx *store.Tx) error {
		var err error
		fb, err = ix.ReadFirstBuild(tx.Bolt())
		return err
	})
	defer fb.Close()
	if err != nil || fb == nil {
		return nil, err
	}
	heard, total := []int{0}, -1
	staged, err := fb.Stage(st, func(done, all int) { heard, total = append(heard, done), all })
	if err == nil && (total <= 0 || heard[len(heard)-1] != total || !slices.IsSorted(heard)) {
		err = fmt.Errorf("the staging's progress: %v of %d", heard, total)
	}
	return staged, err
}

// TestStagedFirstBuild: a first build staged over several transactions
// and spilled runs writes the index a first build in one transaction
// does, readers see the empty index until the commit, and a batch
// committed in between is not lost.
func TestStagedFirstBuild(t *testing.T) {
	c := stageCatalog(t, 1500)
	st := c.Store()
	ix := oaiindex.New(nil)
	dumpIndex(t, st, true)
	if err := st.Update(ix.Sync); err != nil {
		t.Fatal(err)
	}
	want := dumpIndex(t, st, true)
	if len(want["oaipmh.entries"]) == 0 || len(want["oaipmh.items"]) == 0 {
		t.Fatal("the first build in one transaction wrote no entries")
	}

	defer oaiindex.SetBuildSizes(50, 1<<16)()
	staged, err := stageFirstBuild(st, ix)
	if err != nil || staged == nil {
		t.Fatalf("stage a first build: %v, %v", staged, err)
	}
	if got := dumpIndex(t, st, false); got["oaipmh.entries"] != "" || got["oaipmh.items"] != "" {
		t.Errorf("staged, not committed: the index shows entries")
	}
	if err := st.Update(staged.Commit); err != nil {
		t.Fatal(err)
	}
	got := dumpIndex(t, st, false)
	for _, name := range oaiBuckets {
		if got[name] != want[name] {
			t.Errorf("%s differs from the one-transaction build:\n%.400s\nwant\n%.400s", name, got[name], want[name])
		}
	}
	st.View(func(tx *store.Tx) error {
		if tx.Bolt().Bucket([]byte("oaipmh.staging")) != nil {
			t.Error("the staging bucket is left after the commit")
		}
		return nil
	})

	// An index that is not empty is brought up to date by Sync.
	if s, err := stageFirstBuild(st, ix); s != nil || err != nil {
		t.Errorf("a first build of a built index: %v, %v; want nil, nil", s, err)
	}

	// A batch between the staging and the commit writes into the empty
	// index: the commit drops the staged build and builds it again.
	dumpIndex(t, st, true)
	if staged, err = stageFirstBuild(st, ix); err != nil {
		t.Fatal(err)
	}
	b := store.Batch{Source: "vinh", Records: []store.Incoming{{LocalID: "late", Record: marctest.Record("001", "late",
		"020", "$a9786049690071", "100", "0 $aNguyễn Du", "245", "10$aTruyện Kiều", "260", "$aH. :$bVăn học,$c2015")}}}
	if _, err := st.Apply(b); err != nil {
		t.Fatal(err)
	}
	if err := st.Update(staged.Commit); err != nil {
		t.Fatal(err)
	}
	got = dumpIndex(t, st, false)
	if n, want := strings.Count(got["oaipmh.items"], "\n"), strings.Count(want["oaipmh.items"], "\n")+1; n != want {
		t.Errorf("a batch before the commit: %d items, want %d", n, want)
	}
	ok, err := oaiindex.Check(context.Background(), func(fn func(*bbolt.Tx) error) error {
		return st.View(func(tx *store.Tx) error { return fn(tx.Bolt()) })
	})
	if err != nil || !ok {
		t.Errorf("a batch before the commit: Check %v, %v", ok, err)
	}
}

package catalog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/internal/marctest"
	"github.com/unicat/unicat/store"
)

// TestBulkLoad: the batches of a bulk load store records only, readers
// see the catalog as it was until the build, and the build brings every
// part in step; a catalog closed before its build builds it on Open.
func TestBulkLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unicat.db")
	c := open(t, path)
	st := c.Store()
	if _, err := st.Apply(store.Batch{Source: "tinh", Records: []store.Incoming{kieu("t1")}}); err != nil {
		t.Fatal(err)
	}
	before := state{live: 1, kieuHits: 1, oaiLive: 1, oaiTinh: 1}
	if err := c.BeginBulk(); err != nil {
		t.Fatal(err)
	}
	if err := c.BeginBulk(); !errors.Is(err, ErrBulkRunning) {
		t.Errorf("a second BeginBulk: %v, want ErrBulkRunning", err)
	}
	if _, ok := c.Building(); !ok {
		t.Error("Building is false during a bulk load")
	}
	for _, b := range []store.Batch{
		{Source: "tinh", Records: []store.Incoming{soDo("t2")}},
		{Source: "vinh", Records: []store.Incoming{kieu("v1")}},
	} {
		if _, err := st.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(t, c); got != before {
		t.Errorf("during the load: %+v, want the catalog as before it, %+v", got, before)
	}
	stats, err := c.FinishBulk(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := state{live: 2, kieuHits: 1, oaiLive: 2, oaiTinh: 2}
	if got := read(t, c); got != want || stats.Dedup.Records != 3 || stats.Indexed != 2 {
		t.Errorf("after the build: %+v (%+v), want %+v, 3 records, 2 indexed", got, stats, want)
	}
	if _, ok := c.Building(); ok {
		t.Error("Building is true after the build")
	}
	// Batches go through the whole pipeline again.
	if _, err := st.Apply(store.Batch{Source: "tinh", Deletions: []store.Deletion{{LocalID: "t2"}}}); err != nil {
		t.Fatal(err)
	}
	want = state{live: 1, deleted: 1, kieuHits: 1, oaiLive: 1, oaiTinh: 2}
	if got := read(t, c); got != want {
		t.Errorf("a batch after the load: %+v, want %+v", got, want)
	}

	// A load cut short before its build (the process killed: Close is
	// as far as a test can go) is built by the next Open.
	if err := c.BeginBulk(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(store.Batch{Source: "vinh", Records: []store.Incoming{soDo("v2")}}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	c = open(t, path)
	defer c.Close()
	var pending bool
	c.Store().View(func(tx *store.Tx) error { pending = BuildPending(tx); return nil })
	want = state{live: 2, deleted: 1, kieuHits: 1, oaiLive: 2, oaiTinh: 2}
	if got := read(t, c); got != want || pending {
		t.Errorf("reopened after a load without its build: %+v (pending %v), want %+v", got, pending, want)
	}
}

// TestOpenRebuildsNewRulesInBulk: opened with other matching rules, a
// catalog of MinBulkRecords records or more is rebuilt by a bulk build
// (not by Init's one transaction), which leaves every part in step; a
// smaller one is still rebuilt by Init.
func TestOpenRebuildsNewRulesInBulk(t *testing.T) {
	for _, c := range []struct {
		works int
		bulk  bool
	}{{MinBulkRecords/2 + 10, true}, {20, false}} {
		path := filepath.Join(t.TempDir(), "unicat.db")
		cat := open(t, path)
		for _, b := range twoLibraries(c.works) {
			if _, err := cat.Store().Apply(b); err != nil {
				t.Fatal(err)
			}
		}
		before := read(t, cat)
		if before.live != c.works || before.oaiTinh != c.works {
			t.Fatalf("%d works: %+v", c.works, before)
		}
		cat.Close()

		cat, err := Open(Options{Path: path, NoSync: true, Sources: testSources,
			Dedup: dedup.Options{BadISBNs: []string{"9780000000002"}}})
		if err != nil {
			t.Fatal(err)
		}
		_, byInit := cat.Deduper().LastRebuild()
		var pending, stale bool
		cat.Store().View(func(tx *store.Tx) error {
			pending, stale = BuildPending(tx), cat.Deduper().RulesChanged(tx.Bolt())
			return nil
		})
		if byInit == c.bulk || pending || stale {
			t.Errorf("%d works: rebuilt by Init %v (want %v), build pending %v, rules still stale %v", c.works, byInit, !c.bulk, pending, stale)
		}
		if got := read(t, cat); got != before {
			t.Errorf("%d works, after the rebuild: %+v, want %+v", c.works, got, before)
		}
		cat.Close()
	}
}

func TestUseBulk(t *testing.T) {
	for _, c := range []struct {
		incoming, stored int64
		want             bool
	}{
		{0, 0, false},
		{MinBulkRecords - 1, 0, false}, // small: one batch or a few
		{MinBulkRecords, 0, true},      // a first load
		{1_000_000, 0, true},
		{200_000, 200_000, true},    // the catalog again
		{199_999, 200_000, false},   // less than it
		{1_000, 1_000_000, false},   // a harvest's batch
		{600_000, 1_000_000, false}, // a province reloaded into a larger catalog
		{MinBulkRecords, 100, true}, // into a nearly empty catalog
		{MinBulkRecords - 1, 10, false},
	} {
		if got := UseBulk(c.incoming, c.stored); got != c.want {
			t.Errorf("UseBulk(%d, %d) = %v, want %v", c.incoming, c.stored, got, c.want)
		}
	}
}

// TestFinishBulkStopsWhenCancelled: a build whose context is cancelled
// in any of its phases stops before the next, returns the context's
// error and leaves the store marked; the next Open completes it, to the
// catalog an uninterrupted build makes.
func TestFinishBulkStopsWhenCancelled(t *testing.T) {
	batches := twoLibraries(600)
	load := func(path string) *Catalog {
		c := open(t, path)
		if err := c.BeginBulk(); err != nil {
			t.Fatal(err)
		}
		for _, b := range batches {
			if _, err := c.Store().Apply(b); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	ref := load(filepath.Join(t.TempDir(), "unicat.db"))
	var phases []string
	if _, err := ref.FinishBulk(context.Background(), func(phase string, _, _ int) {
		if len(phases) == 0 || phases[len(phases)-1] != phase {
			phases = append(phases, phase)
		}
	}); err != nil {
		t.Fatal(err)
	}
	want := read(t, ref)
	ref.Close()
	if len(phases) < 5 {
		t.Fatalf("the build reported the phases %q", phases)
	}
	for i, stop := range phases[:len(phases)-1] { // "oai" is the last transaction
		path := filepath.Join(t.TempDir(), "unicat.db")
		c := load(path)
		ctx, cancel := context.WithCancel(context.Background())
		var after []string
		_, err := c.FinishBulk(ctx, func(phase string, _, _ int) {
			if phase == stop {
				cancel()
			} else if ctx.Err() != nil {
				after = append(after, phase)
			}
		})
		cancel()
		var pending bool
		c.Store().View(func(tx *store.Tx) error { pending = BuildPending(tx); return nil })
		if !errors.Is(err, context.Canceled) || !pending || len(after) > 0 {
			t.Errorf("cancelled in %q: %v, build pending %v, then the phases %q ran; want context.Canceled, pending, none",
				stop, err, pending, after)
		}
		c.Close()
		c = open(t, path)
		if got := read(t, c); got != want {
			t.Errorf("cancelled in %q (phase %d), then opened: %+v, want %+v", stop, i+1, got, want)
		}
		c.Close()
	}
}

// twoLibraries returns batches of tinh and vinh holding the same works
// (one ISBN and title each), t0… and v0…: each pair one cluster.
func twoLibraries(works int) []store.Batch {
	var tinh, vinh []store.Incoming
	for i := range works {
		rec := func(id string) store.Incoming {
			return store.Incoming{LocalID: id, Record: marctest.Record("001", id, "020", fmt.Sprintf("$a978604%07d", i),
				"100", "0 $aNguyễn Du", "245", fmt.Sprintf("10$aTruyện Kiều %d", i), "260", "$aH. :$bVăn học,$c2015")}
		}
		tinh, vinh = append(tinh, rec(fmt.Sprintf("t%d", i))), append(vinh, rec(fmt.Sprintf("v%d", i)))
	}
	return []store.Batch{{Source: "tinh", Records: tinh}, {Source: "vinh", Records: vinh}}
}

// interruptedBulkLoad returns the path of a store holding a bulk load of
// twoLibraries(600) whose build never ran, as a kill leaves it.
func interruptedBulkLoad(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "unicat.db")
	c := open(t, path)
	if err := c.BeginBulk(); err != nil {
		t.Fatal(err)
	}
	for _, b := range twoLibraries(600) {
		if _, err := c.Store().Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	return path
}

// TestOpenStopsWhenCancelled: the build Open completes stops once its
// context is done; OpenContext returns the context's error, the store
// stays marked, and the next Open completes the build.
func TestOpenStopsWhenCancelled(t *testing.T) {
	path := interruptedBulkLoad(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var phases []string
	_, err := OpenContext(ctx, Options{Path: path, NoSync: true, Sources: testSources,
		IndexProgress: func(phase string, _, _ int) {
			if len(phases) == 0 || phases[len(phases)-1] != phase {
				phases = append(phases, phase)
			}
			cancel()
		}})
	if !errors.Is(err, context.Canceled) || len(phases) != 1 {
		t.Fatalf("cancelled at the first progress: %v after the phases %q, want context.Canceled after one", err, phases)
	}
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatalf("the store after a cancelled Open: %v", err)
	}
	var pending bool
	st.View(func(tx *store.Tx) error { pending = BuildPending(tx); return nil })
	st.Close()
	if !pending {
		t.Error("a cancelled Open left no build pending")
	}
	c := open(t, path)
	defer c.Close()
	if got, want := read(t, c), (state{live: 600, kieuHits: 600, oaiLive: 600, oaiTinh: 600}); got != want {
		t.Errorf("opened after the cancelled Open: %+v, want %+v", got, want)
	}
}

// TestOpenBuildLater: with BuildLater, Open leaves a pending build to
// FinishOpen, and Building says so until it has run; without a pending
// build there is nothing to finish.
func TestOpenBuildLater(t *testing.T) {
	opts := Options{Path: interruptedBulkLoad(t), NoSync: true, Sources: testSources, BuildLater: true}
	c, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if phase, building := c.Building(); !building || phase != "" {
		t.Errorf("opened with a build left for later: Building() = %q, %v; want \"\", true", phase, building)
	}
	var pending bool
	c.Store().View(func(tx *store.Tx) error { pending = BuildPending(tx); return nil })
	if !pending {
		t.Error("Open with BuildLater ran the build")
	}
	var phases []string
	err = c.FinishOpen(context.Background(), func(string, int, int) {
		if phase, _ := c.Building(); len(phases) == 0 || phases[len(phases)-1] != phase {
			phases = append(phases, phase)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"dedup", "search", "oai"}; !slices.Equal(phases, want) {
		t.Errorf("Building's phases through FinishOpen: %q, want %q", phases, want)
	}
	if phase, building := c.Building(); building {
		t.Errorf("after FinishOpen: Building() = %q, true", phase)
	}
	if err := c.Checked(context.Background()); err != nil {
		t.Errorf("the OAI-PMH check after FinishOpen: %v", err)
	}
	if got, want := read(t, c), (state{live: 600, kieuHits: 600, oaiLive: 600, oaiTinh: 600}); got != want {
		t.Errorf("after FinishOpen: %+v, want %+v", got, want)
	}
	c.Close()

	c, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if phase, building := c.Building(); building {
		t.Errorf("opened with nothing to build: Building() = %q, true", phase)
	}
	if err := c.FinishOpen(context.Background(), nil); err != nil {
		t.Errorf("FinishOpen with nothing to build: %v", err)
	}
}

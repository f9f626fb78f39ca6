package catalog

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/internal/marctest"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
)

var testSources = []store.SourceInfo{
	{ID: "tinh", Name: "Thư viện tỉnh Nghệ An", LibraryCode: "NA-TINH", Level: "province", Kind: "file"},
	{ID: "vinh", Name: "Thư viện thành phố Vinh", LibraryCode: "NA-VINH", Level: "district", Kind: "file"},
}

func open(t *testing.T, path string) *Catalog {
	t.Helper()
	c, err := Open(Options{Path: path, NoSync: true, Sources: testSources,
		Libraries: []store.LibraryInfo{{Code: "NA-TINH", Name: "Thư viện tỉnh Nghệ An", Level: "province"}}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func kieu(id string) store.Incoming {
	return store.Incoming{LocalID: id, Record: marctest.Record("001", id, "020", "$a9786049690071",
		"100", "0 $aNguyễn Du", "245", "10$aTruyện Kiều", "260", "$aH. :$bVăn học,$c2015")}
}

func soDo(id string) store.Incoming {
	return store.Incoming{LocalID: id, Record: marctest.Record("001", id, "020", "$a9786041090923",
		"100", "1 $aVũ, Trọng Phụng", "245", "10$aSố đỏ", "260", "$aH. :$bVăn học,$c2016")}
}

// state is what a snapshot says of the catalog, through each of its
// parts.
type state struct {
	live, deleted int // union records
	kieuHits      int // search: title = "truyen kieu"
	oaiLive       int // OAI-PMH: live entries of the list of all records
	oaiTinh       int // OAI-PMH: entries of set library:NA-TINH, the gone included
}

func read(t *testing.T, c Reader) state {
	t.Helper()
	var s state
	err := c.View(context.Background(), func(snap Snapshot) error {
		var err error
		if s.live, s.deleted, err = snap.UnionCounts(); err != nil {
			return err
		}
		q, err := search.ParseCQL(`title = "truyen kieu"`)
		if err != nil {
			return err
		}
		h, err := snap.Search(context.Background(), q, 0, 10)
		if err != nil {
			return err
		}
		s.kieuHits = h.Total
		rd := snap.OAI()
		all := &oaiindex.List{Spec: oaiindex.AllRecords, Cutoff: time.Now().Unix() + 1}
		if err := rd.Scan(all, 0, "", func(e oaiindex.Entry) bool {
			if !e.Deleted {
				s.oaiLive++
			}
			return true
		}); err != nil {
			return err
		}
		n, err := rd.Count(&oaiindex.List{Spec: oaiindex.LibrarySet("NA-TINH"), Cutoff: time.Now().Unix() + 1})
		s.oaiTinh = int(n)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestApplyKeepsEveryPartInStep: a batch reaches the union records, the
// search index and the OAI-PMH lists in the one transaction, and a
// reopened catalog reads the same.
func TestApplyKeepsEveryPartInStep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unicat.db")
	c := open(t, path)
	st := c.Store()
	if _, err := st.Apply(store.Batch{Source: "tinh", Records: []store.Incoming{kieu("t1"), soDo("t2")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(store.Batch{Source: "vinh", Records: []store.Incoming{kieu("v1")}}); err != nil {
		t.Fatal(err)
	}
	want := state{live: 2, kieuHits: 1, oaiLive: 2, oaiTinh: 2}
	if got := read(t, c); got != want {
		t.Fatalf("after two batches: %+v, want %+v", got, want)
	}
	// The province library withdraws both: Truyện Kiều stays (Vinh holds
	// it) but leaves the province's set, Số đỏ is deleted everywhere.
	if _, err := st.Apply(store.Batch{Source: "tinh", Deletions: []store.Deletion{{LocalID: "t1"}, {LocalID: "t2"}}}); err != nil {
		t.Fatal(err)
	}
	want = state{live: 1, deleted: 1, kieuHits: 1, oaiLive: 1, oaiTinh: 2}
	if got := read(t, c); got != want {
		t.Fatalf("after the withdrawal: %+v, want %+v", got, want)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = open(t, path)
	defer c.Close()
	if got := read(t, c); got != want {
		t.Errorf("reopened: %+v, want %+v", got, want)
	}
}

// TestOpenRebuildsAMissingIndex: a store whose search index is gone gets
// it back on Open.
func TestOpenRebuildsAMissingIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unicat.db")
	c := open(t, path)
	if _, err := c.Store().Apply(store.Batch{Source: "tinh", Records: []store.Incoming{kieu("t1"), soDo("t2")}}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	db, err := bbolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		var names [][]byte
		tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
			if len(name) > 7 && string(name[:7]) == "search." {
				names = append(names, append([]byte(nil), name...))
			}
			return nil
		})
		if len(names) == 0 {
			return errors.New("no search buckets")
		}
		for _, n := range names {
			if err := tx.DeleteBucket(n); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	c = open(t, path)
	defer c.Close()
	if got := read(t, c); got.kieuHits != 1 || got.live != 2 {
		t.Errorf("after reopening without an index: %+v", got)
	}
}

// TestViewRefusesADoneContext: a client that has gone away gets no
// snapshot, and a search under a cancelled context stops.
func TestViewRefusesADoneContext(t *testing.T) {
	c := open(t, filepath.Join(t.TempDir(), "unicat.db"))
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := c.View(ctx, func(Snapshot) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("View with a cancelled context: %v, fn called %v", err, called)
	}
	q, _ := search.ParseCQL(`title = "truyen kieu"`)
	err = c.View(context.Background(), func(snap Snapshot) error {
		_, err := snap.Search(ctx, q, 0, 10)
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("a search with a cancelled context: %v", err)
	}
}

// TestSettleWaitsForTheBatchInFlight: Settle returns only once the write
// transaction running when it was called has committed.
func TestSettleWaitsForTheBatchInFlight(t *testing.T) {
	c := open(t, filepath.Join(t.TempDir(), "unicat.db"))
	defer c.Close()
	started, release := make(chan struct{}), make(chan struct{})
	written := make(chan error, 1)
	go func() {
		written <- c.Store().Update(func(tx *bbolt.Tx) error {
			close(started)
			<-release
			_, err := tx.CreateBucketIfNotExists([]byte("test.settle"))
			return err
		})
	}()
	<-started
	settled := make(chan error, 1)
	go func() { settled <- c.Settle(context.Background()) }()
	select {
	case err := <-settled:
		t.Fatalf("Settle returned (%v) while a write was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	if err := <-settled; err != nil {
		t.Fatal(err)
	}
}

// TestCheckRepairsTheOAIIndex: an OAI-PMH index that lost an item opens
// as it is (Open does not read every item) and is rebuilt by the check
// that runs after Open.
func TestCheckRepairsTheOAIIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unicat.db")
	c := open(t, path)
	if _, err := c.Store().Apply(store.Batch{Source: "tinh", Records: []store.Incoming{kieu("t1"), soDo("t2")}}); err != nil {
		t.Fatal(err)
	}
	want := read(t, c)
	err := c.Store().Update(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket([]byte("oaipmh.items")).Cursor().First()
		return tx.Bucket([]byte("oaipmh.items")).Delete(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	c = open(t, path)
	defer c.Close()
	if err := c.Checked(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := read(t, c); got != want {
		t.Errorf("after the check: %+v, want %+v", got, want)
	}
	var ok bool
	err = c.Store().View(func(tx *store.Tx) error {
		var err error
		ok, err = oaiindex.Check(context.Background(), func(fn func(*bbolt.Tx) error) error { return fn(tx.Bolt()) })
		return err
	})
	if err != nil || !ok {
		t.Errorf("the index after the check: ok %v, %v", ok, err)
	}
}

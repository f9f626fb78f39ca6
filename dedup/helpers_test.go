package dedup

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// book describes a test record.
type book struct {
	id, isbn, title, sub, part, author, resp string
	year, pages                              int
	edition, publisher, lang                 string
	call                                     string // 852 $h
	extra                                    []marc.Field
}

func sf(code byte, v string) marc.Subfield { return marc.Subfield{Code: code, Value: v} }

func (b book) record() *marc.Record {
	lang := b.lang
	if lang == "" {
		lang = "vie"
	}
	year := "    "
	if b.year != 0 {
		year = fmt.Sprintf("%04d", b.year)
	}
	r := &marc.Record{Leader: "00000nam a2200000 a 4500"}
	r.Fields = append(r.Fields,
		marc.Field{Tag: "001", Value: b.id},
		marc.Field{Tag: "008", Value: "200101s" + year + "    vm            000 0 " + lang + " d"},
	)
	if b.isbn != "" {
		r.Fields = append(r.Fields, marc.Field{Tag: "020", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', b.isbn)}})
	}
	if b.author != "" {
		r.Fields = append(r.Fields, marc.Field{Tag: "100", Ind1: '1', Ind2: ' ', Subfields: []marc.Subfield{sf('a', b.author)}})
	}
	t := marc.Field{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{sf('a', b.title)}}
	if b.sub != "" {
		t.Subfields = append(t.Subfields, sf('b', b.sub))
	}
	if b.part != "" {
		t.Subfields = append(t.Subfields, sf('n', b.part))
	}
	if b.resp != "" {
		t.Subfields = append(t.Subfields, sf('c', b.resp))
	}
	r.Fields = append(r.Fields, t)
	if b.edition != "" {
		r.Fields = append(r.Fields, marc.Field{Tag: "250", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', b.edition)}})
	}
	pub := marc.Field{Tag: "260", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "H. :")}}
	if b.publisher != "" {
		pub.Subfields = append(pub.Subfields, sf('b', b.publisher))
	}
	if b.year != 0 {
		pub.Subfields = append(pub.Subfields, sf('c', fmt.Sprint(b.year)))
	}
	r.Fields = append(r.Fields, pub)
	if b.pages != 0 {
		r.Fields = append(r.Fields, marc.Field{Tag: "300", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', fmt.Sprintf("%d tr.", b.pages))}})
	}
	r.Fields = append(r.Fields, b.extra...)
	if b.call != "" {
		r.Fields = append(r.Fields, marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "X"), sf('h', b.call)}})
	}
	return r
}

// testStore is a store with three registered sources and the dedup hook.
type testStore struct {
	t    *testing.T
	st   *store.Store
	d    *Deduper
	path string
	now  time.Time
	seen []UnionRecord // every change the listener was told of
}

var testSources = []store.SourceInfo{
	{ID: "tinh", Name: "Tỉnh", LibraryCode: "NA-TINH", Level: "province", Kind: "file"},
	{ID: "vinh", Name: "Vinh", LibraryCode: "NA-VINH", Level: "district", Kind: "file"},
	{ID: "xa", Name: "Xã", LibraryCode: "NA-XA", Level: "commune", Kind: "file"},
	{ID: "xa2", Name: "Xã 2", LibraryCode: "NA-XA2", Level: "commune", Kind: "file"},
}

func newTestStore(t *testing.T, opts Options) *testStore {
	t.Helper()
	ts := &testStore{t: t, path: filepath.Join(t.TempDir(), "u.db"), now: time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)}
	ts.open(opts)
	return ts
}

func (ts *testStore) open(opts Options) {
	t := ts.t
	t.Helper()
	st := ts.openBare()
	ts.d = New(opts)
	ts.d.AddListener(listenerFunc(func(_ *bbolt.Tx, ch []UnionRecord) error {
		ts.seen = append(ts.seen, ch...)
		return nil
	}))
	if err := st.AddHook(ts.d); err != nil {
		t.Fatal(err)
	}
	ts.st = st
	t.Cleanup(func() { st.Close() })
}

// openBare opens the store at ts.path with the test sources registered
// and no deduplication.
func (ts *testStore) openBare() *store.Store {
	t := ts.t
	t.Helper()
	st, err := store.Open(ts.path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range testSources {
		if err := st.PutSource(s); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func (ts *testStore) reopen(opts Options) {
	ts.t.Helper()
	if err := ts.st.Close(); err != nil {
		ts.t.Fatal(err)
	}
	ts.open(opts)
}

type listenerFunc func(*bbolt.Tx, []UnionRecord) error

func (f listenerFunc) UnionChanged(tx *bbolt.Tx, ch []UnionRecord) error { return f(tx, ch) }

// batch is a batch of records of one source, a minute after the last.
func (ts *testStore) batch(source string, books ...book) store.Batch {
	ts.now = ts.now.Add(time.Minute)
	var in []store.Incoming
	for _, b := range books {
		in = append(in, store.Incoming{LocalID: b.id, Record: b.record()})
	}
	return store.Batch{Source: source, Records: in, Now: ts.now}
}

// put applies records of one source in one batch.
func (ts *testStore) put(source string, books ...book) {
	ts.t.Helper()
	if _, err := ts.st.Apply(ts.batch(source, books...)); err != nil {
		ts.t.Fatal(err)
	}
}

// deletion is a batch deleting records of one source.
func (ts *testStore) deletion(source string, ids ...string) store.Batch {
	ts.now = ts.now.Add(time.Minute)
	var dl []store.Deletion
	for _, id := range ids {
		dl = append(dl, store.Deletion{LocalID: id})
	}
	return store.Batch{Source: source, Deletions: dl, Now: ts.now}
}

func (ts *testStore) del(source string, ids ...string) {
	ts.t.Helper()
	if _, err := ts.st.Apply(ts.deletion(source, ids...)); err != nil {
		ts.t.Fatal(err)
	}
}

// explain explains the cluster of source:local, failing when it has none.
func (ts *testStore) explain(source, local string) *Explanation {
	ts.t.Helper()
	var ex *Explanation
	err := ts.st.View(func(tx *store.Tx) error {
		var err error
		ex, err = Explain(tx.Bolt(), source+":"+local)
		return err
	})
	if err != nil || ex == nil {
		ts.t.Fatalf("explain %s:%s: %v (nil: %v)", source, local, err, ex == nil)
	}
	return ex
}

// unionOf returns the union record holding source:local.
func (ts *testStore) unionOf(source, local string) *UnionRecord {
	ts.t.Helper()
	var u *UnionRecord
	err := ts.st.View(func(tx *store.Tx) error {
		ex, err := Explain(tx.Bolt(), source+":"+local)
		if err != nil || ex == nil {
			return err
		}
		u = ex.Union
		return nil
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	return u
}

func (ts *testStore) get(id string) *UnionRecord {
	ts.t.Helper()
	var u *UnionRecord
	err := ts.st.View(func(tx *store.Tx) error {
		var err error
		u, err = Get(tx.Bolt(), id)
		return err
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	return u
}

func (ts *testStore) counts() (live, deleted int) {
	ts.t.Helper()
	err := ts.st.View(func(tx *store.Tx) error {
		var err error
		live, deleted, err = Count(tx.Bolt())
		return err
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	return live, deleted
}

// all returns every union record by id.
func (ts *testStore) all() map[string]*UnionRecord {
	ts.t.Helper()
	out := map[string]*UnionRecord{}
	err := ts.st.View(func(tx *store.Tx) error {
		return ForEachUnion(tx.Bolt(), func(u *UnionRecord) error { out[u.ID] = u; return nil })
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	return out
}

func subfieldsOf(r *marc.Record, tag string, code byte) []string {
	var out []string
	for _, f := range r.FieldsByTag(tag) {
		out = append(out, f.Subs(string(code))...)
	}
	return out
}

func normISBN(s string) (string, bool) { return marc.NormalizeISBN(s) }

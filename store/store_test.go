package store

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/marc"
)

func testRecord(id, title string) *marc.Record {
	return &marc.Record{
		Leader: "00000nam a2200000 a 4500",
		Fields: []marc.Field{
			{Tag: "001", Value: id},
			{Tag: "008", Value: "240101s2024    vm            000 0 vie d"},
			{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{{Code: 'a', Value: title}, {Code: 'c', Value: "Nguyễn Văn A"}}},
			{Tag: "260", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "Vinh"}, {Code: 'b', Value: "Nghệ An"}, {Code: 'c', Value: "2024"}}},
		},
	}
}

func openTest(t testing.TB, sources ...string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "db", "unicat.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, id := range sources {
		if err := s.PutSource(SourceInfo{ID: id, Name: "Thư viện " + id, LibraryCode: strings.ToUpper(id), Level: "district", Kind: "file"}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func mustApply(t testing.TB, s *Store, b Batch) Result {
	t.Helper()
	res, err := s.Apply(b)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantResult(t *testing.T, step string, got, want Result) {
	t.Helper()
	want.Changes = want.Added + want.Updated + want.Deleted
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: result %+v, want %+v", step, got, want)
	}
}

func wantStats(t *testing.T, s *Store, source string, want SourceStats) {
	t.Helper()
	all, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if all[source] != want {
		t.Errorf("stats of %s = %+v, want %+v", source, all[source], want)
	}
	// The counters must agree with the records themselves.
	var got SourceStats
	err = s.View(func(tx *Tx) error {
		return tx.ForEachRecord(source, func(r *SourceRecord) error {
			if r.Deleted {
				got.Deleted++
			} else {
				got.Live++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("records of %s count %+v, want %+v", source, got, want)
	}
}

func getRecord(t *testing.T, s *Store, source, id string) *SourceRecord {
	t.Helper()
	var r *SourceRecord
	err := s.View(func(tx *Tx) error {
		var err error
		r, err = tx.Record(source, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestApplyOutcomes(t *testing.T) {
	s := openTest(t, "dc")
	t0 := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	in := func(id, title string) Incoming {
		return Incoming{LocalID: id, Record: testRecord(id, title), Datestamp: t0.Add(-time.Hour)}
	}

	res := mustApply(t, s, Batch{Source: "dc", Now: t0, Records: []Incoming{in("1", "Truyện Kiều"), in("2", "Lục Vân Tiên"), in("3", "Chí Phèo")}})
	wantResult(t, "first import", res, Result{Added: 3})
	wantStats(t, s, "dc", SourceStats{Live: 3})
	r := getRecord(t, s, "dc", "2")
	if r.Source != "dc" || r.LocalID != "2" || r.Deleted || r.Format != marc.FormatISO2709 || !r.FirstSeen.Equal(t0) || !r.LastSeen.Equal(t0) || !r.Datestamp.Equal(t0.Add(-time.Hour)) {
		t.Errorf("stored record: %+v", r)
	}
	if len(r.Raw) == 0 || r.Hash == [32]byte{} {
		t.Errorf("stored record has no raw/hash")
	}

	t1 := t0.Add(24 * time.Hour)
	res = mustApply(t, s, Batch{Source: "dc", Now: t1, Records: []Incoming{in("1", "Truyện Kiều"), in("2", "Lục Vân Tiên"), in("3", "Chí Phèo")}})
	wantResult(t, "re-import", res, Result{Unchanged: 3})
	if r := getRecord(t, s, "dc", "1"); !r.LastSeen.Equal(t0) {
		t.Errorf("unchanged record was rewritten: LastSeen %v", r.LastSeen)
	}

	res = mustApply(t, s, Batch{Source: "dc", Now: t1, Records: []Incoming{in("1", "Truyện Kiều"), in("2", "Lục Vân Tiên (bản mới)")}})
	wantResult(t, "update", res, Result{Updated: 1, Unchanged: 1})
	r2 := getRecord(t, s, "dc", "2")
	if !r2.FirstSeen.Equal(t0) || !r2.LastSeen.Equal(t1) || r2.Hash == r.Hash {
		t.Errorf("updated record: FirstSeen %v LastSeen %v, hash changed %v", r2.FirstSeen, r2.LastSeen, r2.Hash != r.Hash)
	}

	t2 := t1.Add(time.Hour)
	res = mustApply(t, s, Batch{Source: "dc", Now: t2, Deletions: []Deletion{{LocalID: "2", Datestamp: t2}, {LocalID: "99", Datestamp: t2}}})
	wantResult(t, "delete", res, Result{Deleted: 2})
	wantStats(t, s, "dc", SourceStats{Live: 2, Deleted: 2})
	tomb := getRecord(t, s, "dc", "2")
	if !tomb.Deleted || !bytes.Equal(tomb.Raw, r2.Raw) || tomb.Hash != r2.Hash || !tomb.LastSeen.Equal(t2) || !tomb.FirstSeen.Equal(t0) || !tomb.Datestamp.Equal(t2) {
		t.Errorf("tombstone does not keep the last record: %+v", tomb)
	}
	unknown := getRecord(t, s, "dc", "99")
	if !unknown.Deleted || unknown.Raw != nil || unknown.Format != "" || !unknown.FirstSeen.Equal(t2) {
		t.Errorf("tombstone of an unknown id: %+v", unknown)
	}
	if _, err := unknown.Record(); err == nil {
		t.Error("Record() of a tombstone without a record: no error")
	}
	if rec, err := tomb.Record(); err != nil || rec.ControlNumber() != "2" {
		t.Errorf("Record() of a tombstone: %v, %v", rec, err)
	}

	res = mustApply(t, s, Batch{Source: "dc", Now: t2, Deletions: []Deletion{{LocalID: "2"}, {LocalID: "99"}}})
	wantResult(t, "delete tombstones", res, Result{Unchanged: 2})

	t3 := t2.Add(time.Hour)
	res = mustApply(t, s, Batch{Source: "dc", Now: t3, Records: []Incoming{in("2", "Lục Vân Tiên (bản mới)"), in("99", "Số Đỏ")}})
	wantResult(t, "resurrect", res, Result{Updated: 2})
	wantStats(t, s, "dc", SourceStats{Live: 4})
	back := getRecord(t, s, "dc", "2")
	if back.Deleted || !back.FirstSeen.Equal(t0) || !back.LastSeen.Equal(t3) || back.Hash != r2.Hash {
		t.Errorf("resurrected record: %+v", back)
	}
	rec, err := back.Record()
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.First("245").Sub('a'); got != "Lục Vân Tiên (bản mới)" {
		t.Errorf("decoded 245$a = %q", got)
	}
}

func TestApplyDuplicateIDs(t *testing.T) {
	s := openTest(t, "dc")
	res := mustApply(t, s, Batch{Source: "dc", Records: []Incoming{
		{LocalID: "1", Record: testRecord("1", "first")},
		{LocalID: "2", Record: testRecord("2", "two")},
		{LocalID: "1", Record: testRecord("1", "last")},
	}})
	wantResult(t, "duplicates", res, Result{Added: 2, Duplicates: 1})
	rec, err := getRecord(t, s, "dc", "1").Record()
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.First("245").Sub('a'); got != "last" {
		t.Errorf("duplicate id: kept %q, want the last", got)
	}
	// A deletion comes after the records of the same batch.
	res = mustApply(t, s, Batch{Source: "dc",
		Records:   []Incoming{{LocalID: "3", Record: testRecord("3", "x")}},
		Deletions: []Deletion{{LocalID: "3"}, {LocalID: "3"}},
	})
	wantResult(t, "record and deletion", res, Result{Deleted: 1})
	wantStats(t, s, "dc", SourceStats{Live: 2, Deleted: 1})
}

func TestApplyValidation(t *testing.T) {
	s := openTest(t, "dc")
	rec := testRecord("1", "x")
	for _, tc := range []struct {
		name string
		b    Batch
		want string
	}{
		{"empty source", Batch{Records: []Incoming{{LocalID: "1", Record: rec}}}, "empty source id"},
		{"unregistered source", Batch{Source: "nope", Records: []Incoming{{LocalID: "1", Record: rec}}}, `source "nope" is not registered`},
		{"source with NUL", Batch{Source: "d\x00c"}, "contains 0x00"},
	} {
		_, err := s.Apply(tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	wantStats(t, s, "dc", SourceStats{})
}

// A record or deletion the store cannot keep is left out of its batch
// with the reason; the rest of the batch is stored.
func TestApplyRejectsRecordsNotBatches(t *testing.T) {
	s := openTest(t, "dc")
	rec := func(id string) *marc.Record { return testRecord(id, "x") }
	long := strings.Repeat("9", 40<<10)
	noTag := &marc.Record{Leader: "00000nam a2200000 a 4500", Fields: []marc.Field{{Tag: "1", Value: "x"}}}
	b := Batch{Source: "dc", Records: []Incoming{
		{LocalID: "1", Record: rec("1")},
		{LocalID: "", Record: rec("e")},
		{LocalID: "a\x00b", Record: rec("n")},
		{LocalID: long, Record: rec("l")},
		{LocalID: "7"},
		{LocalID: "8", Record: rec("8"), Datestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{LocalID: "9", Record: noTag},
		{LocalID: "2", Record: rec("2")},
	}, Deletions: []Deletion{{LocalID: "x\x00"}, {LocalID: "3"}}}
	res, err := s.Apply(b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"empty local id", `local id "a\x00b" contains 0x00`, "40960 bytes long, more than the 4096 allowed",
		`record "7": nil record`, `record "8": datestamp`, `record "9":`, `local id "x\x00" contains 0x00`}
	if len(res.Rejected) != len(want) {
		t.Fatalf("rejected %+v", res.Rejected)
	}
	for _, w := range want {
		found := false
		for _, r := range res.Rejected {
			found = found || strings.Contains(r.Err.Error(), w)
		}
		if !found {
			t.Errorf("no rejection says %q: %+v", w, res.Rejected)
		}
	}
	if res.Added != 2 || res.Deleted != 1 {
		t.Errorf("result %+v, want records 1 and 2 added, 3 deleted", res)
	}
	wantStats(t, s, "dc", SourceStats{Live: 2, Deleted: 1})
	if err := s.PutSource(SourceInfo{}); err == nil {
		t.Error("PutSource with empty id: no error")
	}
}

func TestSourcesDoNotCollide(t *testing.T) {
	s := openTest(t, "a", "ab", "b")
	for _, src := range []string{"b", "a", "ab"} {
		var recs []Incoming
		for _, id := range []string{"10", "1", "2"} {
			recs = append(recs, Incoming{LocalID: id, Record: testRecord(id, src+" "+id)})
		}
		wantResult(t, src, mustApply(t, s, Batch{Source: src, Records: recs}), Result{Added: 3})
	}
	var keys []string
	err := s.View(func(tx *Tx) error {
		if err := tx.ForEachRecord("a", func(r *SourceRecord) error {
			keys = append(keys, r.Source+"/"+r.LocalID)
			return nil
		}); err != nil {
			return err
		}
		keys = append(keys, "|")
		if err := tx.ForEachRecordFrom("ab", "10", func(r *SourceRecord) error {
			keys = append(keys, r.Source+"/"+r.LocalID)
			return nil
		}); err != nil {
			return err
		}
		keys = append(keys, "|")
		return tx.ForEachRecord("", func(r *SourceRecord) error {
			keys = append(keys, r.Source+"/"+r.LocalID)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "a/1 a/10 a/2 | ab/10 ab/2 | a/1 a/10 a/2 ab/1 ab/10 ab/2 b/1 b/10 b/2"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("iteration order:\n got %s\nwant %s", got, want)
	}
	rec, err := getRecord(t, s, "ab", "1").Record()
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.First("245").Sub('a'); got != "ab 1" {
		t.Errorf("ab/1 holds %q", got)
	}
	stop := errors.New("stop")
	n := 0
	err = s.View(func(tx *Tx) error {
		return tx.ForEachRecord("", func(*SourceRecord) error { n++; return stop })
	})
	if err != stop || n != 1 {
		t.Errorf("ForEachRecord did not stop at the callback's error: %v after %d", err, n)
	}
	err = s.View(func(tx *Tx) error { _, err := tx.Record("a", "nope"); return err })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing record: %v, want ErrNotFound", err)
	}
}

// failingHook writes to its own bucket, then fails when told to.
type failingHook struct {
	fail  bool
	calls int
	seen  []Change
}

var hookBucket = []byte("test-hook")

func (h *failingHook) Init(tx *bbolt.Tx) error {
	_, err := tx.CreateBucketIfNotExists(hookBucket)
	return err
}

func (h *failingHook) ApplyChanges(tx *bbolt.Tx, changes []Change) error {
	h.calls++
	h.seen = changes
	b := tx.Bucket(hookBucket)
	for _, c := range changes {
		if err := b.Put(c.Key, []byte(c.Outcome.String())); err != nil {
			return err
		}
		// Hooks see the batch's own writes.
		r, err := WrapTx(tx).Record(c.Source, c.LocalID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(r, c.New) {
			return fmt.Errorf("hook reads %+v, change has %+v", r, c.New)
		}
	}
	if h.fail {
		return errors.New("index full")
	}
	return nil
}

func TestHookRollsBackBatch(t *testing.T) {
	s := openTest(t, "dc")
	h := &failingHook{}
	if err := s.AddHook(h); err != nil {
		t.Fatal(err)
	}
	res := mustApply(t, s, Batch{Source: "dc", Checkpoint: []byte("page-1"), Records: []Incoming{
		{LocalID: "1", Record: testRecord("1", "a")}, {LocalID: "2", Record: testRecord("2", "b")},
	}})
	wantResult(t, "first", res, Result{Added: 2})
	if len(h.seen) != 2 || h.seen[0].Old != nil || h.seen[0].New == nil || h.seen[0].Outcome != Added || h.seen[0].LocalID != "1" || string(h.seen[0].Key) != "dc\x001" {
		t.Errorf("hook saw %+v", h.seen)
	}

	h.fail = true
	_, err := s.Apply(Batch{Source: "dc", Checkpoint: []byte("page-2"),
		Records:   []Incoming{{LocalID: "1", Record: testRecord("1", "changed")}, {LocalID: "3", Record: testRecord("3", "c")}},
		Deletions: []Deletion{{LocalID: "2"}},
	})
	if err == nil || !strings.Contains(err.Error(), "index full") || !strings.Contains(err.Error(), "failingHook") {
		t.Fatalf("failing hook: error %v", err)
	}
	if h.seen[0].Old == nil || h.seen[0].Outcome != Updated || h.seen[1].Outcome != Deleted || h.seen[2].Outcome != Added {
		t.Errorf("hook saw %+v", h.seen)
	}
	// Nothing of the failed batch may remain.
	if cp, _ := s.Checkpoint("dc"); string(cp) != "page-1" {
		t.Errorf("checkpoint after rollback = %q", cp)
	}
	wantStats(t, s, "dc", SourceStats{Live: 2})
	rec, err := getRecord(t, s, "dc", "1").Record()
	if err != nil || rec.First("245").Sub('a') != "a" {
		t.Errorf("record 1 after rollback: %v %v", rec, err)
	}
	err = s.View(func(tx *Tx) error {
		if _, err := tx.Record("dc", "3"); !errors.Is(err, ErrNotFound) {
			t.Errorf("record 3 after rollback: %v", err)
		}
		if n := tx.Bolt().Bucket(hookBucket).Stats().KeyN; n != 2 {
			t.Errorf("hook bucket holds %d keys after rollback, want 2", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Hooks are not called for a batch that changes nothing.
	h.fail = false
	calls := h.calls
	res = mustApply(t, s, Batch{Source: "dc", Checkpoint: []byte("page-2"), Records: []Incoming{{LocalID: "1", Record: testRecord("1", "a")}}})
	wantResult(t, "unchanged", res, Result{Unchanged: 1})
	if h.calls != calls {
		t.Error("hook called for a batch without changes")
	}
	if cp, _ := s.Checkpoint("dc"); string(cp) != "page-2" {
		t.Errorf("checkpoint of an unchanged batch = %q", cp)
	}
}

func TestCheckpoint(t *testing.T) {
	s := openTest(t, "dc")
	if cp, err := s.Checkpoint("dc"); cp != nil || err != nil {
		t.Errorf("initial checkpoint %q %v", cp, err)
	}
	mustApply(t, s, Batch{Source: "dc", Checkpoint: []byte{}})
	if cp, _ := s.Checkpoint("dc"); cp == nil || len(cp) != 0 {
		t.Errorf("empty checkpoint read back as %#v", cp)
	}
	mustApply(t, s, Batch{Source: "dc", Checkpoint: []byte("token")})
	mustApply(t, s, Batch{Source: "dc"}) // nil: unchanged
	if cp, _ := s.Checkpoint("dc"); string(cp) != "token" {
		t.Errorf("checkpoint = %q", cp)
	}
	if err := s.SetCheckpoint("dc", nil); err != nil {
		t.Fatal(err)
	}
	if cp, _ := s.Checkpoint("dc"); cp != nil {
		t.Errorf("checkpoint after reset = %q", cp)
	}
	if err := s.SetCheckpoint("other", []byte("x")); err == nil || !strings.Contains(err.Error(), `"other" is not registered`) {
		t.Errorf("SetCheckpoint of an unregistered source: %v", err)
	}
}

func TestLargeRecordIsMARCXML(t *testing.T) {
	s := openTest(t, "dc")
	rec := testRecord("big", "Tuyển tập")
	note := strings.Repeat("Ghi chú dài về tài liệu. ", 200) // ~5 KB per field
	for range 25 {
		rec.Fields = append(rec.Fields, marc.Field{Tag: "500", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: note}}})
	}
	small := testRecord("small", "Nhỏ")
	mustApply(t, s, Batch{Source: "dc", Records: []Incoming{{LocalID: "big", Record: rec}, {LocalID: "small", Record: small}}})
	r := getRecord(t, s, "dc", "big")
	if r.Format != marc.FormatMARCXML || len(r.Raw) <= marc.MaxRecordLen {
		t.Fatalf("record of %d bytes stored as %s", len(r.Raw), r.Format)
	}
	got, err := r.Record()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Fields, rec.Fields) {
		t.Errorf("MARCXML record did not round-trip: %d fields, want %d", len(got.Fields), len(rec.Fields))
	}
	if r := getRecord(t, s, "dc", "small"); r.Format != marc.FormatISO2709 {
		t.Errorf("small record stored as %s", r.Format)
	}
	got, err = getRecord(t, s, "dc", "small").Record()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Fields, small.Fields) {
		t.Errorf("ISO 2709 record did not round-trip:\n got %+v\nwant %+v", got.Fields, small.Fields)
	}
	// Re-applying the same large record is recognised as unchanged.
	res := mustApply(t, s, Batch{Source: "dc", Records: []Incoming{{LocalID: "big", Record: rec}}})
	wantResult(t, "large again", res, Result{Unchanged: 1})

	// A large record MARCXML cannot hold unchanged is refused, not altered.
	bad := *rec
	bad.Fields = append(slices.Clone(rec.Fields), marc.Field{Tag: "9#9", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "x"}}})
	res, err = s.Apply(Batch{Source: "dc", Records: []Incoming{{LocalID: "big", Record: &bad}}})
	if err != nil || len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0].Err.Error(), `record "big"`) ||
		!strings.Contains(res.Rejected[0].Err.Error(), "MARCXML would alter it") {
		t.Errorf("large record with a tag MARCXML cannot hold: %v %+v", err, res.Rejected)
	}
}

// TestConcurrentReader checks snapshot isolation: every batch adds exactly
// k records, so a reader must never count a partial batch.
func TestConcurrentReader(t *testing.T) {
	s := openTest(t, "dc")
	const k, batches = 50, 40
	done := make(chan error, 1)
	go func() {
		for b := range batches {
			recs := make([]Incoming, k)
			for i := range recs {
				id := fmt.Sprintf("%06d", b*k+i)
				recs[i] = Incoming{LocalID: id, Record: testRecord(id, "x")}
			}
			if _, err := s.Apply(Batch{Source: "dc", Records: recs, Checkpoint: fmt.Appendf(nil, "%d", b+1)}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	reads := 0
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		default:
		}
		err := s.View(func(tx *Tx) error {
			n := 0
			if err := tx.ForEachRecord("dc", func(*SourceRecord) error {
				n++
				time.Sleep(time.Microsecond) // let the writer commit mid-iteration
				return nil
			}); err != nil {
				return err
			}
			st, err := tx.Stats("dc")
			if err != nil {
				return err
			}
			cp := string(tx.Checkpoint("dc"))
			if n%k != 0 || st.Live != n || (n > 0 && cp != fmt.Sprint(n/k)) {
				t.Errorf("reader saw %d records, stats %+v, checkpoint %q: not a whole number of batches", n, st, cp)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		reads++
	}
	wantStats(t, s, "dc", SourceStats{Live: k * batches})
	t.Logf("%d consistent reads during %d batches", reads, batches)
}

// titlePreparer is a Preparer that decodes each record and returns its
// title, tagged with its own name, and remembers what ApplyChanges got.
type titlePreparer struct {
	name     string
	prepared int
	got      map[string]any // local id → Change.Prepared
}

func (p *titlePreparer) Prepare(sr *SourceRecord) any {
	rec, err := sr.Record()
	if err != nil {
		return err
	}
	p.prepared++ // Prepare runs concurrently: tests use small batches
	return p.name + ":" + rec.Title()
}

func (p *titlePreparer) ApplyChanges(_ *bbolt.Tx, changes []Change) error {
	p.got = map[string]any{}
	for _, c := range changes {
		p.got[c.LocalID] = c.Prepared
	}
	return nil
}

// TestPrepareCommit checks the two halves of Apply: each Preparer gets
// its own results back in Change.Prepared, a plain hook gets nil, records
// identical to the stored ones are not prepared, a deletion has nothing
// prepared, and a record stored between Prepare and Commit is counted by
// what the store holds at Commit.
func TestPrepareCommit(t *testing.T) {
	s := openTest(t, "dc")
	a, b := &titlePreparer{name: "a"}, &titlePreparer{name: "b"}
	plain := &failingHook{}
	for _, h := range []Hook{a, plain, b} {
		if err := s.AddHook(h); err != nil {
			t.Fatal(err)
		}
	}
	mustApply(t, s, Batch{Source: "dc", Records: []Incoming{{LocalID: "1", Record: testRecord("1", "Truyện Kiều")}}})
	if a.got["1"] != "a:Truyện Kiều" || b.got["1"] != "b:Truyện Kiều" {
		t.Fatalf("prepared values %v / %v", a.got, b.got)
	}
	for _, c := range plain.seen {
		if c.Prepared != nil {
			t.Errorf("a hook that does not prepare got %v", c.Prepared)
		}
	}

	// An unchanged record is not prepared; a changed one and a new one are.
	a.prepared = 0
	p, err := s.Prepare(Batch{Source: "dc", Records: []Incoming{
		{LocalID: "1", Record: testRecord("1", "Truyện Kiều")},
		{LocalID: "2", Record: testRecord("2", "Số đỏ")},
	}, Deletions: []Deletion{{LocalID: "3"}}})
	if err != nil {
		t.Fatal(err)
	}
	if a.prepared != 1 {
		t.Errorf("%d records prepared, want 1 (the new one)", a.prepared)
	}
	// Record 2 arrives by another batch before this one commits: this
	// one's copy is then unchanged, whatever was prepared.
	mustApply(t, s, Batch{Source: "dc", Records: []Incoming{{LocalID: "2", Record: testRecord("2", "Số đỏ")}}})
	res, err := s.Commit(p)
	if err != nil {
		t.Fatal(err)
	}
	wantResult(t, "prepared before another commit", res, Result{Unchanged: 2, Deleted: 1})
	if v, ok := a.got["3"]; !ok || v != nil {
		t.Errorf("deletion: prepared %v (present %v), want nil", v, ok)
	}
	if _, ok := a.got["2"]; ok {
		t.Errorf("record 2 handed to the hook although unchanged at commit")
	}
}

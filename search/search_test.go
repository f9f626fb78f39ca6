package search

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"go.etcd.io/bbolt"
	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/internal/marctest"
	"github.com/unicat/unicat/marc"
)

// rec builds a record from tag/value pairs (see marctest.Record).
func rec(fields ...string) *marc.Record { return marctest.Record(fields...) }

func openTestDB(t testing.TB) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "test.db"), 0o644, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// indexed remembers, per test database, the version of each document the
// index was last given: the index keeps only a checksum of it, and is
// given it back as Doc.Previous when the document changes (as dedup keeps
// the previous union record).
var indexed = struct {
	sync.Mutex
	docs map[*bbolt.DB]map[string]Doc
}{docs: map[*bbolt.DB]map[string]Doc{}}

func remember(db *bbolt.DB, docs ...Doc) {
	indexed.Lock()
	defer indexed.Unlock()
	m := indexed.docs[db]
	if m == nil {
		m = map[string]Doc{}
		indexed.docs[db] = m
	}
	for _, d := range docs {
		if d.Deleted || d.Record == nil {
			delete(m, d.ID)
		} else {
			d.Previous = nil
			m[d.ID] = d
		}
	}
}

// withPrevious gives each document the version of it indexed in db.
func withPrevious(db *bbolt.DB, docs []Doc) []Doc {
	indexed.Lock()
	defer indexed.Unlock()
	docs = slices.Clone(docs)
	for i := range docs {
		if p, ok := indexed.docs[db][docs[i].ID]; ok {
			docs[i].Previous = func() (*Doc, error) { return &p, nil }
		}
	}
	return docs
}

func index(t testing.TB, db *bbolt.DB, docs ...Doc) {
	t.Helper()
	docs = withPrevious(db, docs)
	if err := db.Update(func(tx *bbolt.Tx) error { return New().Update(tx, docs) }); err != nil {
		t.Fatal(err)
	}
	remember(db, docs...)
}

// query runs CQL and returns the sorted ids of every hit.
func query(t testing.TB, db *bbolt.DB, cql string) []string {
	t.Helper()
	ids, err := tryQuery(db, cql, 0, 1000)
	if err != nil {
		t.Fatalf("%s: %v", cql, err)
	}
	slices.Sort(ids)
	return ids
}

func tryQuery(db *bbolt.DB, cql string, offset, limit int) ([]string, error) {
	q, err := ParseCQL(cql)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = db.View(func(tx *bbolt.Tx) error {
		h, err := New().Search(context.Background(), tx, q, offset, limit)
		if err != nil {
			return err
		}
		if limit >= h.Total && len(h.IDs) != h.Total-offset && offset < h.Total {
			return fmt.Errorf("total %d but %d ids", h.Total, len(h.IDs))
		}
		ids = h.IDs
		return nil
	})
	return ids, err
}

var testDocs = []Doc{
	{ID: "u1", Record: rec("001", "u1", "008", "150101s2015    vm            000 0 vie d",
		"020", "$a978-604-69-2437-1", "100", "0 $aNguyễn Du,$d1765-1820.", "245", "10$aTruyện Kiều :$bthơ /$cNguyễn Du.",
		"260", "$aH. :$bVăn học,$c2015.", "650", " 7$aVăn học Việt Nam$xThơ", "852", "$aNA-TINH$bprovince")},
	{ID: "u2", Record: rec("001", "u2", "008", "110101s2011    vm            000 0 vie d",
		"100", "1 $aĐặng, Thai Mai.", "245", "10$aVăn thơ cách mạng", "260", "$bGiáo dục,$c2011",
		"852", "$aNA-VINH$bdistrict")},
	{ID: "u3", Record: rec("001", "u3", "008", "990101s1999    xxu           000 0 eng d",
		"020", "$a0-19-852663-6", "100", "1 $aDang, John.", "245", "14$aThe history of computing",
		"260", "$bOxford University Press,$c1999", "650", " 0$aComputers$xHistory.", "852", "$aNA-TINH$bprovince")},
	{ID: "u4", Record: rec("001", "u4", "008", "160101s2016    vm            000 0 vie d",
		"100", "1 $aTolstoy, Lev.", "245", "10$aChiến tranh và hoà bình.$nTập 1", "260", "$bVăn học,$c2016",
		"852", "$aNA-DIENCHAU$bdistrict")},
	{ID: "u5", Record: rec("001", "u5", "008", "160101s2016    vm            000 0 vie d",
		"100", "1 $aTolstoy, Lev.", "245", "10$aChiến tranh và hòa bình.$nTập 2", "260", "$bVăn học,$c2016",
		"852", "$aNA-VINH$bdistrict")},
	{ID: "u6", Record: rec("001", "u6", "008", "200101s2020    vm            000 0 vie d",
		"100", "0 $aĐoàn Giỏi.", "245", "10$aĐất rừng phương Nam", "260", "$bKim Đồng,$c2020",
		"650", " 7$aVăn học thiếu nhi", "852", "$aNA-CUALO$bcommune"), Levels: []string{"commune"}},
	{ID: "u7", Record: rec("001", "u7", "008", "000101s2000    xxu           000 0 eng d",
		"100", "1 $aAbbott, Edwin A.", "245", "10$aFlatland :$ba romance of many dimensions", "260", "$bDover,$c2000",
		"852", "$aNA-TINH$bprovince")},
}

func testIndex(t *testing.T) *bbolt.DB {
	db := openTestDB(t)
	index(t, db, testDocs...)
	return db
}

func TestSearchSemantics(t *testing.T) {
	db := testIndex(t)
	for _, c := range []struct {
		cql  string
		want string
	}{
		// Folding: no diacritics, đ → d, case, NFD input.
		{"nguyen du", "u1"},
		{"Nguyễn Du", "u1"},
		{norm.NFD.String("Nguyễn Du"), "u1"},
		{"dang", "u2 u3"},
		{"dc.creator = dang", "u2 u3"},
		{`dc.creator = "Đặng"`, "u2 u3"}, // = ignores accents
		{`dc.creator =/respectAccents "Đặng"`, "u2"},
		{`dc.creator =/respectAccents "Dang"`, "u3"},
		{`dc.creator == "Đặng, Thai Mai"`, "u2"},
		// Phrases: adjacency (word pairs), all, any.
		{`dc.title = "chiến tranh"`, "u4 u5"},
		{`dc.title = "tranh chiến"`, ""},
		{`dc.title all "tranh chiến"`, "u4 u5"},
		{`dc.title any "flatland computing"`, "u3 u7"},
		{`dc.title adj "history of computing"`, "u3"},
		// Old and new tone placement are one exact form.
		{`dc.title =/respectAccents "hòa bình"`, "u4 u5"},
		{`dc.title =/respectAccents "hoà bình"`, "u4 u5"},
		{`dc.title =/respectAccents "hoa binh"`, ""},
		// Whole field, accents respected by ==.
		{`dc.title == "Truyện Kiều"`, "u1"},
		{`dc.title == "Truyen Kieu"`, ""},
		{`dc.title ==/ignoreAccents "Truyen Kieu"`, "u1"},
		{`dc.title exact "truyện kiều : thơ"`, "u1"},
		{`dc.title == "Truyện"`, ""},
		// Anchoring.
		{`dc.title = "^truyện"`, "u1"},
		{`dc.title = "^kiều"`, ""},
		{`dc.title = "^truyện kiều^"`, "u1"},
		{`dc.title = "^the history"`, "u3"},
		// Masking.
		{"dc.title = hist*", "u3"},
		{"dc.title = *tory", "u3"},
		{"dc.title = fl?tland", "u7"},
		{"dc.title = flat?and", "u7"},
		{`dc.title = "fl\?tland"`, ""},
		{`dc.title =/unmasked "hist*"`, ""},
		{"dc.creator = dan*", "u2 u3"},
		{`dc.creator =/respectAccents "Đặn*"`, "u2"},
		{`dc.creator =/respectAccents "Dan*"`, "u3"},
		// Booleans.
		{"dc.title = chiến and dc.date = 2016", "u4 u5"},
		{"tolstoy not dc.title = 2", "u4"},
		{"flatland or computing", "u3 u7"},
		{"(flatland or computing) and dc.language = eng", "u3 u7"},
		{"cql.allRecords = 1 not dc.language = vie", "u3 u7"},
		// Numbers and ranges.
		{"dc.date = 2016", "u4 u5"},
		{"dc.date > 2015", "u4 u5 u6"},
		{"dc.date >= 2015", "u1 u4 u5 u6"},
		{"dc.date < 2000", "u3"},
		{"dc.date <= 2000", "u3 u7"},
		{"dc.date <> 2016", "u1 u2 u3 u6 u7"},
		{"dc.date = 201*", "u1 u2 u4 u5"},
		// Two comparisons on one index: one walk over the range.
		{"dc.date > 2000 and dc.date < 2016", "u1 u2"},
		{"dc.date >= 2015 and dc.date <= 2015", "u1"},
		{"dc.date < 2016 and dc.date > 2011", "u1"},
		{"dc.date > 2016 and dc.date < 2000", ""},
		{"dc.date > 1999 and dc.date >= 2011", "u1 u2 u4 u5 u6"},
		{"dc.date <= 2000 and dc.date < 2000", "u3"},
		{"dc.date > 2000 and dc.date < x", "error 36"},
		{"dc.date within \"2000 2010\"", "error 19"},
		{"dc.date = abc", "error 36"},
		// Identifiers: ISBN with and without hyphens, ISBN-10 finds -13.
		{"bath.isbn = 9786046924371", "u1"},
		{"bath.isbn = 978-604-69-2437-1", "u1"},
		{"bath.isbn = 0198526636", "u3"},
		{"bath.isbn = 9780198526636", "u3"},
		{"bath.isbn = 978-0-19-852663-6", "u3"},
		{"bath.isbn = 978604*", "u1"},
		{"dc.identifier = 0-19-852663-6", "u3"},
		{"rec.id = u3", "u3"},
		// Codes.
		{"unicat.library = NA-TINH", "u1 u3 u7"},
		{"bath.possessingInstitution = na-vinh", "u2 u5"},
		{"unicat.library any \"NA-VINH NA-CUALO\"", "u2 u5 u6"},
		{"unicat.level = commune", "u6"},
		{"dc.type = book", "u1 u2 u3 u4 u5 u6 u7"},
		{"dc.language = vie", "u1 u2 u4 u5 u6"},
		{"dc.publisher = \"văn học\"", "u1 u4 u5"},
		{"dc.subject = history", "u3"},
		{`dc.subject == "Văn học Việt Nam"`, "u1"},
		// Proximity.
		{"chiến prox tranh", "u4 u5"},
		{"tranh prox chiến", "u4 u5"},
		{"tranh prox/unit=word/distance<=1/ordered chiến", ""},
		{"chiến prox/distance<3 tranh", "error 41"},
		{"chiến prox/unit=sentence tranh", "error 42"},
		// Diagnostics.
		{"dc.nosuch = x", "error 16"},
		{"foo.title = x", "error 15"},
		{`dc.title = ""`, "error 27"},
		{"dc.title =/stem x", "error 20"},
		{"dc.title =/respectCase x", "error 20"},
		{"dc.title =/ignoreAccents/respectAccents x", "error 21"},
		{`dc.title = "a^b"`, "error 32"},
		{`dc.title = "kiều^"`, "error 32"},
		{"a and/rel.combine=sum b", "error 46"},
		{"(a", "error 10"},
		{"cql.resultSetId = x", "error 50"},
		{"dc.title < m", "u4 u5 u6 u7"},
		{"cql.serverChoice <> x", "error 22"},
		{"title = flatland", "u7"},
		{"> dc = \"info:srw/cql-context-set/1/dc-v1.1\" dc.title = flatland", "u7"},
		{"> x = \"info:srw/cql-context-set/1/dc-v1.1\" x.title = flatland", "u7"},
		{"> x = \"info:nosuch\" x.title = flatland", "error 15"},
	} {
		ids, err := tryQuery(db, c.cql, 0, 100)
		got := strings.Join(sorted(ids), " ")
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Errorf("%s: system error %v", c.cql, err)
				continue
			}
			got = fmt.Sprintf("error %d", se.Code)
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.cql, got, c.want)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestSort(t *testing.T) {
	db := testIndex(t)
	for _, c := range []struct {
		cql  string
		want string
	}{
		// Vietnamese collation: Đ after D, "Chiến" before "Đất".
		{"dc.language = vie sortBy dc.title", "u4 u5 u6 u1 u2"},
		{"dc.language = vie sortBy dc.title/sort.descending", "u2 u1 u6 u5 u4"},
		{"cql.allRecords = 1 sortBy dc.creator", "u7 u3 u2 u6 u1 u4 u5"}, // Đặng, Đoàn, Nguyễn
		{"cql.allRecords = 1 sortBy dc.date/sort.descending dc.title", "u6 u4 u5 u1 u2 u7 u3"},
		{"cql.allRecords = 1 sortBy dc.date dc.title/sort.descending", "u3 u7 u2 u1 u5 u4 u6"},
		// Non-filing characters: "The history" files under H.
		{"dc.language = eng sortBy dc.title", "u7 u3"},
	} {
		ids, err := tryQuery(db, c.cql, 0, 100)
		if err != nil {
			t.Errorf("%s: %v", c.cql, err)
			continue
		}
		if got := strings.Join(ids, " "); got != c.want {
			t.Errorf("%s: got %s, want %s", c.cql, got, c.want)
		}
	}
	// Paging through a sorted result gives the same order.
	all, _ := tryQuery(db, "cql.allRecords = 1 sortBy dc.creator", 0, 100)
	var paged []string
	for off := 0; off < len(all); off += 2 {
		ids, err := tryQuery(db, "cql.allRecords = 1 sortBy dc.creator", off, 2)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, ids...)
	}
	if !slices.Equal(all, paged) {
		t.Errorf("paged %v, all at once %v", paged, all)
	}
}

func TestRelevance(t *testing.T) {
	db := testIndex(t)
	// "history" is in u3's title and subject; the relevance order puts
	// title hits first.
	index(t, db, Doc{ID: "u8", Record: rec("001", "u8", "245", "10$aComputers", "500", "$aA note on history.")})
	ids, err := tryQuery(db, "history", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, " ") != "u3 u8" {
		t.Errorf("relevance order %v, want u3 u8", ids)
	}
}

// TestUpdateConsistency changes, deletes and re-adds records and checks
// that the stored postings always equal those of a fresh index of the
// same records.
func TestUpdateConsistency(t *testing.T) {
	db := testIndex(t)
	steps := [][]Doc{
		{{ID: "u1", Record: rec("001", "u1", "245", "10$aTruyện Kiều mới", "100", "0 $aNguyễn Du", "852", "$aNA-VINH")}},
		{{ID: "u2", Deleted: true}, {ID: "u9", Record: rec("001", "u9", "245", "10$aHòa bình")}},
		{{ID: "u4", Record: rec("001", "u4", "245", "10$aHoà bình", "100", "1 $aTolstoy")}, {ID: "u4", Deleted: true}},
		{{ID: "u2", Record: rec("001", "u2", "245", "10$aĐặng trở lại", "852", "$aNA-TINH")}},
		{{ID: "nosuch", Deleted: true}},
	}
	current := map[string]Doc{}
	for _, d := range testDocs {
		current[d.ID] = d
	}
	for i, step := range steps {
		index(t, db, step...)
		for _, d := range step {
			if d.Deleted {
				delete(current, d.ID)
			} else {
				current[d.ID] = d
			}
		}
		fresh := openTestDB(t)
		var docs []Doc
		for _, d := range current {
			docs = append(docs, d)
		}
		index(t, fresh, docs...)
		for _, q := range []string{"hoa binh", "dc.title =/respectAccents \"hòa\"", "dc.title =/respectAccents hoa",
			"dang", "unicat.library = NA-TINH", "cql.allRecords = 1", "tolstoy", "kieu", "dc.title = ^hoa"} {
			if got, want := query(t, db, q), query(t, fresh, q); !slices.Equal(got, want) {
				t.Errorf("step %d: %s: updated index %v, fresh index %v", i, q, got, want)
			}
		}
		checkPostings(t, db)
	}
}

// checkPostings recomputes every document's keys and compares them with
// the stored postings.
func checkPostings(t *testing.T, db *bbolt.DB) {
	t.Helper()
	err := db.View(func(tx *bbolt.Tx) error {
		b := openBuckets(tx)
		want := map[string][]uint32{}
		indexed.Lock()
		docs := indexed.docs[db]
		indexed.Unlock()
		if n := b.docs.Stats().KeyN; n != len(docs) {
			t.Errorf("%d documents stored, %d indexed", n, len(docs))
		}
		for id, d := range docs {
			v := b.ids.Get([]byte(id))
			if len(v) != 4 {
				t.Errorf("%s indexed, not stored", id)
				continue
			}
			no := uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
			sd, err := decodeDoc(b.docs.Get(v))
			if err != nil {
				return err
			}
			if vals := extract(&d); sd.id != id || sd.sum != valuesSum(vals) {
				t.Errorf("document %d: stored for %s with sum %x, indexed %s with %x", no, sd.id, sd.sum, id, valuesSum(vals))
			}
			for _, tk := range new(keyer).sortedKeys(extract(&d)) {
				key := string(termKeyBytes(nil, tk.ix, tk.kind, uint16(no>>chunkBits), tk.term))
				want[key] = append(want[key], no)
			}
		}
		got := map[string][]uint32{}
		err := b.terms.ForEach(func(k, v []byte) error {
			bm := newBitmap()
			if err := decodePostings(bm, uint16(k[2])<<8|uint16(k[3]), v); err != nil {
				return err
			}
			got[string(k)] = bm.ToArray()
			// Stored as its bitmap encodes: no document twice.
			if enc, err := encodePostings(bm); err != nil || !bytes.Equal(enc, v) {
				t.Errorf("postings %q: stored %x, its bitmap encodes as %x (%v)", k, v, enc, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for k, w := range want {
			slices.Sort(w)
			if !slices.Equal(got[k], w) {
				t.Errorf("postings %q: stored %v, want %v", k, got[k], w)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("postings %q stored for no document", k)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestScan(t *testing.T) {
	db := testIndex(t)
	scan := func(req ScanRequest) []ScanTerm {
		var out []ScanTerm
		err := db.View(func(tx *bbolt.Tx) error {
			var err error
			out, err = New().Scan(context.Background(), tx, req)
			return err
		})
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		return out
	}
	got := scan(ScanRequest{Index: "dc.creator", From: "dang", Position: 1, Count: 3})
	if len(got) != 3 || got[0].Value != "dang" || got[0].Count != 2 || got[0].Display != "đặng" {
		t.Errorf("scan creator from dang: %+v", got)
	}
	got = scan(ScanRequest{Index: "dc.creator", From: "dang", Position: 2, Count: 3})
	if len(got) != 3 || got[0].Value != "abbott" || got[1].Value != "dang" {
		t.Errorf("scan with position 2: %+v", got)
	}
	got = scan(ScanRequest{Index: "dc.title", Phrases: true, From: "chien", Position: 1, Count: 2})
	if len(got) != 2 || got[0].Value != "chien tranh va hoa binh" || got[0].Count != 2 {
		t.Errorf("scan title phrases: %+v", got)
	}
	got = scan(ScanRequest{Index: "dc.date", From: "2015", Position: 1, Count: 10})
	var dates []string
	for _, s := range got {
		dates = append(dates, fmt.Sprintf("%s:%d", s.Value, s.Count))
	}
	if strings.Join(dates, " ") != "2015:1 2016:2 2020:1" {
		t.Errorf("scan dates: %v", dates)
	}
	got = scan(ScanRequest{Index: "dc.creator", From: "dang", Position: 0, Count: 2})
	if len(got) != 2 || got[0].Value == "dang" || got[0].Value < "dang" {
		t.Errorf("scan with position 0 (after dang): %+v", got)
	}
	got = scan(ScanRequest{Index: "unicat.library", From: "zzz", Position: 3, Count: 3})
	if len(got) != 2 || got[1].Value != "na-vinh" {
		t.Errorf("scan past the end: %+v", got)
	}
}

// eachOf yields docs, as RebuildFrom's each does.
func eachOf(docs []Doc) func(fn func(*Doc) error) error {
	return func(fn func(*Doc) error) error {
		for i := range docs {
			if err := fn(&docs[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestRebuildMatchesUpdates(t *testing.T) {
	db := testIndex(t)
	rebuilt := openTestDB(t)
	n, err := New().RebuildFrom(context.Background(), rebuilt, eachOf(testDocs), RebuildOptions{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	remember(rebuilt, testDocs...)
	if n != len(testDocs) {
		t.Fatalf("rebuilt %d documents, want %d", n, len(testDocs))
	}
	for _, q := range []string{"nguyen du", "dang", "cql.allRecords = 1 sortBy dc.title", "dc.date > 2000 sortBy dc.date",
		"dc.title == \"Truyện Kiều\"", "hist*"} {
		a, err := tryQuery(db, q, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		b, err := tryQuery(rebuilt, q, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a, b) {
			t.Errorf("%s: updated %v, rebuilt %v", q, a, b)
		}
	}
	checkPostings(t, rebuilt)
	// Updates keep working on a rebuilt index.
	index(t, rebuilt, Doc{ID: "u1", Deleted: true})
	checkPostings(t, rebuilt)
}

// TestVietnameseTestdata indexes the constructed Vietnamese records (the
// ISO 2709 NFD export of vinh) and searches them the way users type.
func TestVietnameseTestdata(t *testing.T) {
	recs := readMARC(t, "../testdata/vietnamese/vinh.mrc")
	db := openTestDB(t)
	var docs []Doc
	for i, r := range recs {
		docs = append(docs, Doc{ID: fmt.Sprintf("v%d", i), Record: r})
	}
	index(t, db, docs...)
	count := func(q string) int {
		ids, err := tryQuery(db, q, 0, 100)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return len(ids)
	}
	// Every spelling of a name finds what the accented one finds.
	for _, q := range []string{`dc.creator = "Tô Hoài"`, `dc.title = "chiến tranh và hòa bình"`, `dc.title = "nỗi buồn"`} {
		n := count(q)
		if n == 0 {
			t.Errorf("%s: no hits in vinh.mrc", q)
		}
		for _, variant := range []string{norm.NFD.String(q), foldQuery(q)} {
			if m := count(variant); m != n {
				t.Errorf("%s: %d hits, but %s: %d", q, n, variant, m)
			}
		}
	}
	// vinh spells "hoà" the old way: the exact search finds it either way.
	if count(`dc.title =/respectAccents "hòa bình"`) != count(`dc.title =/respectAccents "hoà bình"`) {
		t.Error("old and new tone placement differ in exact searches")
	}
}

func foldQuery(q string) string {
	i := strings.IndexByte(q, '"')
	return q[:i] + strings.ToLower(strings.NewReplacer("ô", "o", "à", "a", "ế", "e", "ạ", "a", "ò", "o", "ì", "i", "ỗ", "o", "ồ", "o").Replace(q[i:]))
}

func readMARC(t testing.TB, path string) []*marc.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := marc.NewISO2709Reader(f, marc.ReaderOptions{Source: path})
	var out []*marc.Record
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, r)
	}
}

func newBitmap() *roaring.Bitmap { return roaring.New() }

// TestStaleIndexDetected checks that an update whose previous version is
// not what was indexed is caught: Update refuses it, and UnionChanged
// marks the index for a rebuild rather than holding up harvesting or
// leaving postings of text no record has.
func TestStaleIndexDetected(t *testing.T) {
	db := testIndex(t)
	other := Doc{ID: "u1", Record: rec("001", "u1", "245", "10$aSomething else entirely")}
	changed := Doc{ID: "u1", Record: rec("001", "u1", "245", "10$aTruyện Kiều, bản mới")}
	for _, prev := range []func() (*Doc, error){
		nil,
		func() (*Doc, error) { return &other, nil },
		func() (*Doc, error) { return nil, nil },
	} {
		d := changed
		d.Previous = prev
		err := db.Update(func(tx *bbolt.Tx) error { return New().Update(tx, []Doc{d}) })
		if !errors.Is(err, errStale) {
			t.Errorf("update with a wrong previous version: %v, want errStale", err)
		}
	}
	if _, err := tryQuery(db, "kieu", 0, 10); err != nil {
		t.Fatalf("the refused updates left the index unusable: %v", err)
	}
	// Through the listener: the batch goes through, the index is marked.
	err := db.Update(func(tx *bbolt.Tx) error {
		return New().UnionChanged(tx, []dedup.UnionRecord{{ID: "u1", Record: changed.Record}})
	})
	if err != nil {
		t.Fatalf("UnionChanged: %v", err)
	}
	if _, err := tryQuery(db, "kieu", 0, 10); !errors.Is(err, ErrNeedsRebuild) {
		t.Errorf("search after a stale update: %v, want ErrNeedsRebuild", err)
	}
}

// Search folds letters as deduplication does (textnorm): what is merged
// as one name is found by either spelling.
func TestSearchFoldsAsDedup(t *testing.T) {
	db := openTestDB(t)
	index(t, db,
		Doc{ID: "k1", Record: rec("001", "k1", "100", "1 $aKierkegaard, Søren.", "245", "10$aEnten – eller")},
		Doc{ID: "k2", Record: rec("001", "k2", "100", "1 $aStraße, Hans.", "245", "10$aŁódź i okolice")},
	)
	for _, c := range []struct{ cql, want string }{
		{"soren", "k1"}, {"Søren", "k1"}, {"dc.creator = soren", "k1"},
		{"strasse", "k2"}, {"lodz", "k2"}, {"dc.title = lodz", "k2"},
	} {
		ids, err := tryQuery(db, c.cql, 0, 10)
		if err != nil || strings.Join(ids, " ") != c.want {
			t.Errorf("%s: %v %v, want %s", c.cql, ids, err, c.want)
		}
	}
}

// TestSearchCancelled: a search whose context is done stops with the
// context's error instead of answering.
func TestSearchCancelled(t *testing.T) {
	db := openTestDB(t)
	index(t, db, testDocs...)
	if ids := query(t, db, `title = "t*"`); len(ids) == 0 {
		t.Fatal("the query finds nothing even with a live context")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q, err := ParseCQL(`title = "t*"`)
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bbolt.Tx) error {
		_, err := New().Search(ctx, tx, q, 0, 10)
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("search with a cancelled context: %v, want context.Canceled", err)
	}
}

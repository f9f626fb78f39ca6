package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"go.etcd.io/bbolt"
)

// TestSortWalkMatchesFullSort checks the sort-bucket walk used for large
// results against sorting every hit's keys.
func TestSortWalkMatchesFullSort(t *testing.T) {
	db := openTestDB(t)
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"Đặng", "Dung", "Ăn", "Ân", "an", "Bình", "Anh", "hoà", "hòa", "Zoo", "Ơn", "Ôn", "ư"}
	var docs []Doc
	for i := 0; i < 2500; i++ {
		id := fmt.Sprintf("d%03d", i)
		w := func() string { return words[rng.IntN(len(words))] }
		fields := []string{"001", id, "245", "10$a" + w() + " " + w(), "100", "1 $a" + w()}
		if rng.IntN(5) > 0 {
			fields = append(fields, "260", fmt.Sprintf("$c%d", 1990+rng.IntN(10)))
		}
		docs = append(docs, Doc{ID: id, Record: rec(fields...)})
	}
	// Long titles that agree beyond the sort bucket's key prefix.
	for i := 0; i < 40; i++ {
		id := fmt.Sprintf("long%02d", i)
		docs = append(docs, Doc{ID: id, Record: rec("001", id,
			"245", fmt.Sprintf("10$aLịch sử Việt Nam thời kỳ hiện đại và đương đại.$nTập %d", (i*7)%40), "100", "1 $aĐặng")})
	}
	index(t, db, docs...)
	// A rebuild (parallel extraction, several batches, its sort entries
	// spilled in sorted runs) gives the same index as the updates.
	rebuilt := openTestDB(t)
	defer func(b int) { sortBudget = b }(sortBudget)
	sortBudget = 1
	if _, err := New().RebuildFrom(context.Background(), rebuilt, eachOf(docs), RebuildOptions{TempDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	remember(rebuilt, docs...)
	checkPostings(t, rebuilt)
	if a, b := bucketPairs(t, db, bucketSort), bucketPairs(t, rebuilt, bucketSort); !slices.Equal(a, b) || len(a) < 5000 {
		t.Errorf("sort entries: %d updated, %d rebuilt, or they differ", len(a), len(b))
	}
	for _, q := range []string{"cql.allRecords = 1 sortBy dc.title dc.creator dc.date", "an", "dc.date > 1994", "dc.title = ^hòa"} {
		a, _ := tryQuery(db, q, 0, 3000)
		b, _ := tryQuery(rebuilt, q, 0, 3000)
		if !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s: updated %d hits, rebuilt %d hits, or order differs", q, len(a), len(b))
		}
	}
	for _, q := range []string{
		"cql.allRecords = 1 sortBy dc.title",
		"cql.allRecords = 1 sortBy dc.title/sort.descending",
		"cql.allRecords = 1 sortBy dc.creator dc.date/sort.descending",
		"cql.allRecords = 1 sortBy dc.date dc.title",
		"cql.allRecords = 1 sortBy dc.date/sort.descending",
		"an or ăn sortBy dc.creator/sort.descending dc.title",
		"cql.allRecords = 1 sortBy dc.title/sort.descending",
		"lich or an sortBy dc.title",
	} {
		full, err := tryQuery(db, q, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range [][2]int{{0, 1}, {0, 5}, {3, 7}, {100, 10}} {
			got, err := tryQuery(db, q, page[0], page[1])
			if err != nil {
				t.Fatal(err)
			}
			want := full[min(page[0], len(full)):min(page[0]+page[1], len(full))]
			if !slices.Equal(got, want) {
				t.Errorf("%s [%d:+%d]: walk %v, full sort %v", q, page[0], page[1], got, want)
			}
		}
	}
}

// FuzzParseCQL: any input either fails with a diagnostic or runs; never
// a panic or a system error.
func FuzzParseCQL(f *testing.F) {
	for _, s := range []string{"nguyen du", `dc.title == "Truyện Kiều"`, "a and (b or c) not d", "dc.date > 2000 sortBy dc.title/sort.descending",
		"a prox/distance<=1/unit=word b", `> dc = "info:srw/cql-context-set/1/dc-v1.1" dc.title = x`, `dc.title = "^a*b?\*^"`,
		"bath.isbn = 978-604*", "dc.date <> 19", "cql.allRecords = 1", "title all \"a b\"", "\"\"", "a=/b=c/d e"} {
		f.Add(s)
	}
	db := openTestDB(f)
	index(f, db, testDocs...)
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseCQL(s)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("%q: parse error of type %T: %v", s, err, err)
			}
			return
		}
		err = db.View(func(tx *bbolt.Tx) error {
			_, err := New().Search(context.Background(), tx, q, 0, 10)
			return err
		})
		var se *Error
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("%q: system error %v", s, err)
		}
	})
}

// TestRankTieredMatchesScoring compares the tiered ranking of large
// results with scoring every document.
func TestRankTieredMatchesScoring(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 20; round++ {
		hits := roaring.New()
		for i := 0; i < 5000; i++ {
			hits.Add(uint32(rng.IntN(200000)))
		}
		var sets []scoreSet
		weights := []float32{1, 2, 0.5, 1, 3.25}
		for j := 0; j < 1+rng.IntN(6); j++ {
			bm := roaring.New()
			it := hits.Iterator()
			for it.HasNext() {
				if d := it.Next(); rng.IntN(4) == 0 {
					bm.Add(d)
				}
			}
			sets = append(sets, scoreSet{bm, weights[rng.IntN(len(weights))]})
		}
		docs := hits.ToArray()
		scores := make([]float32, len(docs))
		for _, ss := range sets {
			addScores(docs, scores, ss.docs, ss.weight)
		}
		top := topN(len(docs), len(docs), func(i, j int) bool {
			if scores[i] != scores[j] {
				return scores[i] > scores[j]
			}
			return docs[i] < docs[j]
		})
		for _, need := range []int{1, 10, 333, len(docs)} {
			got := rankTiered(hits, sets, need)
			for k := 0; k < need; k++ {
				if got[k] != docs[top[k]] {
					t.Fatalf("round %d need %d: position %d: tiered %d, scored %d", round, need, k, got[k], docs[top[k]])
				}
			}
		}
	}
}

// bucketPairs returns every key and value of a bucket of db.
func bucketPairs(t *testing.T, db *bbolt.DB, name []byte) []string {
	t.Helper()
	var out []string
	if err := db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(name).ForEach(func(k, v []byte) error {
			out = append(out, fmt.Sprintf("%x=%x", k, v))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

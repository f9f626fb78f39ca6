package main

import (
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/store"
)

func TestToPQF(t *testing.T) {
	got := toPQF([]string{
		`dc.title = "lịch sử"`,
		`dc.title = "kỹ*"`,
		`dc.title = "a" and dc.date > 2010`,
		`dc.title = "x" sortBy dc.date/sort.descending`,
		`bath.isbn = 9786040000008`,
	})
	want := []string{
		`@attr 1=4 "lịch sử"`,
		`@attr 1=4 @attr 5=1 "kỹ"`,
		`@and @attr 1=4 "a" @attr 1=31 @attr 2=5 2010`,
		`@attr 1=4 "x"`,
		`@attr 1=7 9786040000008`,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("toPQF #%d = %q, want %q", i, got[i], want[i])
		}
	}
}

// TestDedupQuality: pairwise counts from a members bucket and a truth.
func TestDedupQuality(t *testing.T) {
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "u.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Works: w1 = {a, b, c}, w2 = {d}, w3 = {e}. Predicted: {a, b}, {c}, {d, e}.
	pred := map[[2]string]string{{"l1", "a"}: "u1", {"l2", "b"}: "u1", {"l3", "c"}: "u2", {"l1", "d"}: "u3", {"l2", "e"}: "u3"}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("dedup.members"))
		if err != nil {
			return err
		}
		for k, u := range pred {
			if err := b.Put(store.RecordKey(k[0], k[1]), []byte(u)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	truth := corpus.TruthHeader + "\nl1\ta\tw1\toriginal\t\nl2\tb\tw1\tcopy\t\nl3\tc\tw1\tcopy\t\nl1\td\tw2\toriginal\t\nl2\te\tw3\tlook-alike\t\n"
	tp := filepath.Join(dir, "truth.tsv")
	os.WriteFile(tp, []byte(truth), 0o644)
	c, err := dedupQuality(filepath.Join(dir, "u.db"), tp)
	if err != nil {
		t.Fatal(err)
	}
	// True pairs ab ac bc; found ab de: TP 1 (ab), FP 1 (de), FN 2 (ac, bc).
	if c.TP != 1 || c.FP != 1 || c.FN != 2 {
		t.Errorf("got %+v, want TP 1 FP 1 FN 2", c)
	}
	if c.Precision() != 0.5 || c.Recall() != 1.0/3 {
		t.Errorf("precision %v recall %v", c.Precision(), c.Recall())
	}
	// A truth record the store does not know is an error, not a silent miss.
	os.WriteFile(tp, []byte(truth+"l9\tz\tw9\toriginal\t\n"), 0o644)
	if _, err := dedupQuality(filepath.Join(dir, "u.db"), tp); err == nil {
		t.Error("a record missing from the store was not reported")
	}
}

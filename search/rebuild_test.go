package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestRebuildReadStops: a rebuild whose reading fails or is cancelled
// while a batch before is still being extracted stops with that error,
// and leaves the index as it was (the reading comes before the reset).
func TestRebuildReadStops(t *testing.T) {
	docs := make([]Doc, 3*extractBatch+10)
	for i := range docs {
		id := fmt.Sprintf("r%05d", i)
		docs[i] = Doc{ID: id, Record: rec("001", id, "245", fmt.Sprintf("10$aRebuilt %d", i))}
	}
	readFailed := errors.New("disk read failed")
	for _, c := range []struct {
		name string
		want error
		// at is called before document i is yielded; its error ends each.
		at func(i int, cancel context.CancelFunc) error
	}{
		{"read error", readFailed, func(i int, _ context.CancelFunc) error {
			if i == 2*extractBatch+extractBatch/2 {
				return readFailed
			}
			return nil
		}},
		// Cancelled after two batches: the third one's flush sees it.
		{"cancelled", context.Canceled, func(i int, cancel context.CancelFunc) error {
			if i == 2*extractBatch {
				cancel()
			}
			return nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openTestDB(t)
			index(t, db, testDocs...)
			before := query(t, db, `title = "t*"`)
			if len(before) == 0 {
				t.Fatal("the index finds nothing before the rebuild")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			each := func(fn func(*Doc) error) error {
				for i := range docs {
					if err := c.at(i, cancel); err != nil {
						return err
					}
					if err := fn(&docs[i]); err != nil {
						return err
					}
				}
				return nil
			}
			n, err := New().RebuildFrom(ctx, db, each, RebuildOptions{TempDir: t.TempDir()})
			if !errors.Is(err, c.want) {
				t.Fatalf("rebuild: %d documents, %v; want %v", n, err, c.want)
			}
			if after := query(t, db, `title = "t*"`); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("after the failed rebuild: %v, before it %v", after, before)
			}
			if got := query(t, db, "rebuilt"); len(got) != 0 {
				t.Errorf("documents of the failed rebuild are found: %v", got)
			}
		})
	}
}

// failingWriter fails every write after its first n bytes.
type failingWriter struct{ n int }

var errWriteFailed = errors.New("temporary file: no space left")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errWriteFailed
	}
	w.n -= len(p)
	return len(p), nil
}

// TestExtractWriteFails: when writing a batch fails while the next one is
// read, the reading stops at the next batch with that error rather than
// going on to the end.
func TestExtractWriteFails(t *testing.T) {
	long := strings.Repeat("Truyện Kiều ", 200) // 2.6 KB: a batch is past the write buffer
	docs := make([]Doc, 6*extractBatch)
	for i := range docs {
		id := fmt.Sprintf("w%05d", i)
		docs[i] = Doc{ID: id, Record: rec("001", id, "245", "10$a"+long)}
	}
	rb := rebuild{ctx: context.Background(), workers: make([]rebuildWorker, 2), progress: func(string, int) {}}
	for i := range rb.workers {
		rb.workers[i].sk = newSortKeyer()
	}
	yielded := 0
	n, err := rb.extract(&failingWriter{n: 1 << 20}, func(fn func(*Doc) error) error {
		for i := range docs {
			if err := fn(&docs[i]); err != nil {
				return err
			}
			yielded++
		}
		return nil
	})
	if !errors.Is(err, errWriteFailed) {
		t.Fatalf("extract: %d documents, %v; want %v", n, err, errWriteFailed)
	}
	if yielded == len(docs) {
		t.Errorf("every document was read after the write failed")
	}
}

package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestRebuildReadStops: a rebuild whose reading fails or is cancelled
// while a batch before is still being extracted stops with that error,
// and leaves the index as it was (the reading comes before the reset).
func TestRebuildReadStops(t *testing.T) {
	docs := numberedDocs(3*extractBatch+10, "r", "Rebuilt")
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

// numberedDocs returns n documents, their ids prefix and a number, their
// titles title and the same number.
func numberedDocs(n int, prefix, title string) []Doc {
	docs := make([]Doc, n)
	for i := range docs {
		id := fmt.Sprintf("%s%05d", prefix, i)
		docs[i] = Doc{ID: id, Record: rec("001", id, "245", fmt.Sprintf("10$a%s %d", title, i))}
	}
	return docs
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

// TestRebuildBeside: the caller's work beside a rebuild runs once, after
// every document was read, may read the store while the rebuild writes,
// and is waited for; its error is the rebuild's. With no documents it
// runs as well. The sort entries' progress ends at every document.
func TestRebuildBeside(t *testing.T) {
	docs := numberedDocs(2*extractBatch+10, "b", "Beside")
	besideFailed := errors.New("the other index failed")
	for _, c := range []struct {
		name string
		docs []Doc
		err  error
	}{
		{"documents", docs, nil},
		{"no documents", nil, nil},
		{"beside fails", docs, besideFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := openTestDB(t)
			index(t, db, testDocs...)
			yielded, calls := 0, 0
			var finished atomic.Bool
			beside := func() error {
				calls++
				if yielded != len(c.docs) {
					t.Errorf("beside ran after %d of %d documents were read", yielded, len(c.docs))
				}
				// A read transaction while the rebuild's writer commits.
				if err := db.View(func(tx *bbolt.Tx) error { return nil }); err != nil {
					return err
				}
				time.Sleep(20 * time.Millisecond)
				finished.Store(true)
				return c.err
			}
			each := func(fn func(*Doc) error) error {
				for i := range c.docs {
					yielded++
					if err := fn(&c.docs[i]); err != nil {
						return err
					}
				}
				return nil
			}
			lastSort := -1
			progress := func(phase string, done int) {
				if phase == "sort" {
					lastSort = done
				}
			}
			n, err := New().RebuildFrom(context.Background(), db, each,
				RebuildOptions{TempDir: t.TempDir(), Beside: beside, Progress: progress})
			if !errors.Is(err, c.err) {
				t.Fatalf("rebuild: %d documents, %v; want %v", n, err, c.err)
			}
			if calls != 1 || !finished.Load() {
				t.Errorf("beside: %d calls, finished %v before the rebuild returned; want 1, true", calls, finished.Load())
			}
			if c.err == nil && (n != len(c.docs) || lastSort != n) {
				t.Errorf("rebuild: %d documents, the sort entries' progress ending at %d; want %d, %[3]d", n, lastSort, len(c.docs))
			}
		})
	}
}

package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCompact fills a store, rewrites most of it (leaving free pages),
// compacts it and checks that every record is there in a smaller file,
// and that a store in use is refused.
func TestCompact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutSource(SourceInfo{ID: "dc", Name: "dc", LibraryCode: "DC", Level: "district", Kind: "file"}); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	for round := 0; round < 3; round++ {
		var in []Incoming
		for i := 0; i < n; i++ {
			id := fmt.Sprint(i)
			in = append(in, Incoming{LocalID: id, Record: testRecord(id, fmt.Sprintf("round %d title %d %s", round, i, strings.Repeat("x", 300)))})
		}
		mustApply(t, s, Batch{Source: "dc", Records: in})
	}
	if _, err := Compact(path, nil); err == nil {
		t.Fatal("compact of a store in use: no error")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The compacted file keeps the original's mode (a temporary file
	// would be 0600).
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	var reports int
	var lastWritten, lastInUse int64
	stats, err := Compact(path, func(written, inUse int64) { reports++; lastWritten, lastInUse = written, inUse })
	if err != nil {
		t.Fatal(err)
	}
	if reports == 0 || lastWritten != stats.After || lastInUse != stats.After {
		t.Errorf("progress: %d reports, the last %d of %d bytes (copy %d, original %d)", reports, lastWritten, lastInUse, stats.After, stats.Before)
	}
	fi, _ := os.Stat(path)
	if stats.After >= stats.Before || fi.Size() != stats.After {
		t.Errorf("compact: %d → %d bytes, file now %d", stats.Before, stats.After, fi.Size())
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("compacted file mode %v, want %v", fi.Mode().Perm(), os.FileMode(0o640))
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*compact*")); len(left) != 0 {
		t.Errorf("compact left %v", left)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantStats(t, s, "dc", SourceStats{Live: n})
	rec, err := getRecord(t, s, "dc", "2999").Record()
	if err != nil || !strings.HasPrefix(rec.Title(), "round 2 title 2999") {
		t.Errorf("record after compaction: %v %v", rec, err)
	}
	t.Logf("compact: %d → %d bytes", stats.Before, stats.After)
}

// A process that waits for the store's lock while Compact replaces the
// file opens the new file, not the old one it found (which is unlinked:
// what it wrote there would be lost).
func TestOpenAfterReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.db")
	holder, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	// The replacement, as Compact writes it: the same store with one more
	// source.
	next := filepath.Join(dir, "next.db")
	ns, err := Open(next, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.PutSource(SourceInfo{ID: "new", Name: "new", LibraryCode: "NEW", Level: "commune", Kind: "file"}); err != nil {
		t.Fatal(err)
	}
	ns.Close()
	opened := make(chan *Store, 1)
	go func() {
		s, err := Open(path, Options{NoSync: true, Timeout: 30 * time.Second})
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	time.Sleep(200 * time.Millisecond) // let it wait for the lock (if not yet, it opens the new file directly)
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
	holder.Close()
	s := <-opened
	if s == nil {
		return
	}
	defer s.Close()
	if err := s.View(func(tx *Tx) error { _, err := tx.Source("new"); return err }); err != nil {
		t.Errorf("the store opened is not the file now at %s: %v", path, err)
	}
}

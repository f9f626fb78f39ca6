package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// Tests of the file itself: reopening, schema versions, locking, open
// errors, use after Close, the run history it keeps, and backups.

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unicat.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := SourceInfo{ID: "tv-nghean", Name: "Thư viện tỉnh Nghệ An", LibraryCode: "NA", Level: "province", Kind: "oai"}
	if err := s.PutSource(info); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, Batch{Source: info.ID, Checkpoint: []byte("cp"),
		Records:   []Incoming{{LocalID: "1", Record: testRecord("1", "a")}, {LocalID: "2", Record: testRecord("2", "b")}},
		Deletions: []Deletion{{LocalID: "3"}},
	})
	run := Run{Start: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2024, 1, 1, 0, 5, 0, 0, time.UTC), Added: 2, Deleted: 1, Pages: 1, Bytes: 12345, Err: "timeout"}
	if err := s.PutRun(info.ID, run); err != nil {
		t.Fatal(err)
	}
	before := getRecord(t, s, info.ID, "1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wantStats(t, s, info.ID, SourceStats{Live: 2, Deleted: 1})
	if cp, _ := s.Checkpoint(info.ID); string(cp) != "cp" {
		t.Errorf("checkpoint after reopen = %q", cp)
	}
	if after := getRecord(t, s, info.ID, "1"); !reflect.DeepEqual(before, after) {
		t.Errorf("record changed across reopen:\n%+v\n%+v", before, after)
	}
	err = s.View(func(tx *Tx) error {
		got, err := tx.Source(info.ID)
		if err != nil || got != info {
			t.Errorf("source after reopen: %+v %v", got, err)
		}
		all, err := tx.Sources()
		if err != nil || len(all) != 1 || all[0] != info {
			t.Errorf("sources after reopen: %+v %v", all, err)
		}
		if _, err := tx.Source("x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown source: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(info.ID, 10)
	if err != nil || len(runs) != 1 || runs[0] != run {
		t.Errorf("runs after reopen: %+v %v", runs, err)
	}
}

// TestSchemaVersion: a file of another schema version, older (written
// before the first release) or newer, is refused and left as it is.
func TestSchemaVersion(t *testing.T) {
	for _, version := range []byte{1, 7} {
		path := filepath.Join(t.TempDir(), "unicat.db")
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		db, err := bbolt.Open(path, 0o644, nil)
		if err != nil {
			t.Fatal(err)
		}
		err = db.Update(func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, version})
		})
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		_, err = Open(path, Options{})
		want := fmt.Sprintf("store: %s has schema version %d, this unicat understands %d", path, version, SchemaVersion)
		if err == nil || err.Error() != want {
			t.Errorf("schema %d: error %v, want %q", version, err, want)
		}
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "unicat.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	s2, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if err == nil {
		s2.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if !strings.Contains(err.Error(), "database is locked by another process") || !strings.Contains(err.Error(), path) {
		t.Errorf("second Open: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v", d)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(notDir, "unicat.db"), Options{}); err == nil || !strings.Contains(err.Error(), "store: open") {
		t.Errorf("Open below a file: %v", err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a bolt file "), 1024), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(garbage, Options{}); err == nil || !strings.Contains(err.Error(), garbage) {
		t.Errorf("Open of a non-bbolt file: %v", err)
	}
}

func TestClosed(t *testing.T) {
	s := openTest(t, "dc")
	s.Close()
	_, err := s.Apply(Batch{Source: "dc"})
	if err == nil || !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), "not open") {
		t.Errorf("Apply on a closed store: %v", err)
	}
	if err := s.View(func(*Tx) error { return nil }); err == nil {
		t.Error("View on a closed store: no error")
	}
}

func TestRuns(t *testing.T) {
	s := openTest(t, "dc")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range MaxRuns + 5 {
		if err := s.PutRun("dc", Run{Start: t0.Add(time.Duration(i) * time.Hour), Added: i}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Runs("dc", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != MaxRuns || all[0].Added != MaxRuns+4 || all[len(all)-1].Added != 5 {
		t.Errorf("kept %d runs, newest %d, oldest %d", len(all), all[0].Added, all[len(all)-1].Added)
	}
	few, _ := s.Runs("dc", 3)
	if len(few) != 3 || few[2].Added != MaxRuns+2 || !few[0].Start.Equal(t0.Add(time.Duration(MaxRuns+4)*time.Hour)) {
		t.Errorf("Runs(3) = %+v", few)
	}
	if none, err := s.Runs("other", 3); none != nil || err != nil {
		t.Errorf("runs of a source without runs: %v %v", none, err)
	}
	if err := s.PutRun("other", Run{}); err == nil {
		t.Error("PutRun for an unregistered source: no error")
	}
}

func TestBackup(t *testing.T) {
	s := openTest(t, "dc")
	mustApply(t, s, Batch{Source: "dc", Records: []Incoming{{LocalID: "1", Record: testRecord("1", "a")}}})
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if err != nil {
		t.Fatal(err)
	}
	size, err := s.Size()
	if err != nil || n != size || int64(buf.Len()) != n {
		t.Errorf("backup wrote %d bytes (buffer %d), size %d %v", n, buf.Len(), size, err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	wantStats(t, b, "dc", SourceStats{Live: 1})
	if s.Path() == b.Path() {
		t.Error("Path is not the opened path")
	}
}

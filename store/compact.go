package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"
)

// CompactStats says what Compact did.
type CompactStats struct {
	Before, After int64 // file sizes in bytes
}

// Compact rewrites the store file at path with every page full and no
// free pages, and replaces it. A bbolt file never shrinks: each commit
// writes the pages it changed to free pages and frees the old ones, so
// after a large import the file holds about as much free space as data,
// and random updates leave pages half full. Compact needs the file to
// itself (the service stopped); it writes the copy beside the file,
// checks it and renames it into place, so a crash leaves the old file.
//
// progress, if not nil, is called about every half second while the copy
// is written, with the bytes written so far and the bytes the original
// holds in use (an upper bound of the copy's size), and once at the end
// with the copy's size twice.
func Compact(path string, progress func(written, inUse int64)) (CompactStats, error) {
	var stats CompactStats
	fi, err := os.Stat(path)
	if err != nil {
		return stats, fmt.Errorf("store: compact: %w", err)
	}
	stats.Before = fi.Size()
	src, err := openAlone(path)
	if err != nil {
		return stats, err
	}
	defer src.Close()
	tmp, err := createCopyFile(path, fi)
	if err != nil {
		return stats, err
	}
	defer os.Remove(tmp) // after a successful rename, a no-op
	if progress != nil {
		// The last report: the copy written whole, its size now known.
		defer func() {
			if stats.After > 0 {
				progress(stats.After, stats.After)
			}
		}()
	}
	if err := writeCopy(tmp, fi.Mode().Perm(), src, path, progress); err != nil {
		return stats, err
	}
	if fi, err := os.Stat(tmp); err == nil {
		stats.After = fi.Size()
	}
	if err := os.Rename(tmp, path); err != nil {
		return stats, fmt.Errorf("store: compact: %w", err)
	}
	// The rename is durable once the directory is synced; until then a
	// power cut may bring back the old file (whole, so nothing is lost).
	if err := syncDir(filepath.Dir(path)); err != nil {
		return stats, fmt.Errorf("store: compact: %w", err)
	}
	return stats, nil
}

// openAlone opens the store at path for writing, so that its lock keeps
// every other process out while it is copied.
func openAlone(path string) (*bbolt.DB, error) {
	db, err := bbolt.Open(path, 0o644, &bbolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, bberrors.ErrTimeout) {
		return nil, fmt.Errorf("store: compact %s: the file is in use by another process (stop the service first)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("store: compact %s: %w", path, err)
	}
	return db, nil
}

// createCopyFile creates the file the copy of the store at path (whose
// FileInfo fi is) is written to, beside it, and returns its name.
func createCopyFile(path string, fi os.FileInfo) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".compact.*")
	if err != nil {
		return "", fmt.Errorf("store: compact: %w", err)
	}
	// The copy takes the original's mode and owner: CreateTemp makes it
	// 0600 and owned by whoever runs compact (often root), which would
	// lock the service's own user out of its store.
	err = matchFile(f, fi)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("store: compact: %w", err)
	}
	return f.Name(), nil
}

// writeCopy copies src (the store at path) into the file tmp, every page
// full, syncs the copy and checks it.
func writeCopy(tmp string, mode os.FileMode, src *bbolt.DB, path string, progress func(written, inUse int64)) error {
	dst, err := bbolt.Open(tmp, mode, &bbolt.Options{NoSync: true, FreelistType: bbolt.FreelistArrayType})
	if err != nil {
		return fmt.Errorf("store: compact: %w", err)
	}
	stopWatch := func() {}
	if progress != nil {
		stopWatch = watchSize(tmp, bytesInUse(src), progress)
	}
	// Transactions of 64 MiB bound the memory a copy holds at once.
	err = bbolt.Compact(dst, src, 64<<20)
	stopWatch()
	if err != nil {
		dst.Close()
		return fmt.Errorf("store: compact %s: %w", path, err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return fmt.Errorf("store: compact: sync: %w", err)
	}
	err = dst.View(checkPages)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: compact %s: the copy does not check: %w", path, err)
	}
	return nil
}

// bytesInUse is the size of the pages of db in use: up to the
// high-water mark less the free ones (the file may extend past the mark:
// bbolt grows it ahead of need).
func bytesInUse(db *bbolt.DB) int64 {
	var inUse int64
	db.View(func(tx *bbolt.Tx) error { inUse = tx.Size(); return nil })
	return inUse - int64(db.Stats().FreeAlloc)
}

// checkPages checks every page of tx's database. Check reports from its
// own goroutine until it has walked every page: read to the end, keep the
// first error.
func checkPages(tx *bbolt.Tx) error {
	var first error
	for err := range tx.Check() {
		if first == nil {
			first = err
		}
	}
	return first
}

// watchSize reports the size of the file at path to progress every half
// second until the returned stop is called (bbolt.Compact has no progress
// of its own; the copy grows as it is written).
func watchSize(path string, total int64, progress func(written, total int64)) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if fi, err := os.Stat(path); err == nil {
					progress(fi.Size(), total)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/admin"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/store"
)

// runBackup writes a consistent copy of the store to FILE. When the
// service is stopped it opens the store itself; when `unicat serve` holds
// the file (bbolt's lock keeps a second process out) it asks the running
// service for the copy through the admin API (POST /admin/backup).
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("backup", stderr)
	base := fs.String("url", "", "the running service's base URL (default: http://http.addr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &exitError{2, errors.New("want exactly one FILE to write the backup to")}
	}
	out := fs.Arg(0)
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.StorePath()); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	how := "store file"
	write := func(w io.Writer) (int64, error) { return backupFile(cfg.StorePath(), w) }
	if locked(cfg.StorePath()) {
		how = "running service"
		write = func(w io.Writer) (int64, error) { return backupRemote(ctx, cfg, *base, w) }
	}
	start := time.Now()
	n, err := writeAtomically(out, write)
	if err != nil {
		return fmt.Errorf("backup from the %s: %w", how, err)
	}
	fmt.Fprintf(stdout, "backup of %s (from the %s): %d bytes in %v, written to %s\n",
		cfg.StorePath(), how, n, time.Since(start).Round(time.Millisecond), out)
	return nil
}

func backupFile(path string, w io.Writer) (int64, error) {
	st, err := store.Open(path, store.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.Backup(w)
}

// backupRemote streams the backup from the admin API; a response without
// the trailer that closes a complete copy is an error.
func backupRemote(ctx context.Context, cfg *config.Config, base string, w io.Writer) (int64, error) {
	resp, err := adminCall(ctx, cfg, base, http.MethodPost, "/admin/backup")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	req := "POST " + resp.Request.URL.String()
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("%s: after %d bytes: %w", req, n, err)
	}
	if t := resp.Trailer.Get(admin.BackupTrailer); t != strconv.FormatInt(n, 10) {
		return n, fmt.Errorf("%s: the copy was cut short (%d bytes received, service says %q)", req, n, t)
	}
	return n, nil
}

// writeAtomically writes to a temporary file beside out, syncs it, checks
// that it is a sound bbolt file and renames it into place, so that out is
// never a partial backup.
func writeAtomically(out string, write func(io.Writer) (int64, error)) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return 0, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename, a no-op
	n, err := write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if err := checkBolt(tmp); err != nil {
		return n, fmt.Errorf("the copy does not check: %w", err)
	}
	return n, os.Rename(tmp, out)
}

// checkBolt runs bbolt's consistency check over a file.
func checkBolt(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
}

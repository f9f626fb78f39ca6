package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/admin"
	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

const testToken = "backup-test-token-0123456789"

func backupConfig(t *testing.T, addr string) (string, *config.Config) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "unicat.yaml")
	doc := fmt.Sprintf("data_dir: data\nhttp: {addr: %q}\nadmin: {token: %q}\nsources:\n"+
		"  - {id: lib, name: Lib, library_code: LIB, level: district, kind: file, path: x.mrc}\n", addr, testToken)
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, cfg
}

func batchOf(n, size int) store.Batch {
	b := store.Batch{Source: "lib"}
	for i := range size {
		id := fmt.Sprintf("b%05d-%03d", n, i)
		b.Records = append(b.Records, store.Incoming{LocalID: id, Record: &marc.Record{
			Leader: "00000nam a2200000 a 4500",
			Fields: []marc.Field{{Tag: "001", Value: id},
				{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{{Code: 'a', Value: "Sách số " + id}}}},
		}})
	}
	return b
}

// restoreAndCount restores a backup as the README says (copy it to
// data_dir/unicat.db) and returns the local ids it holds.
func restoreAndCount(t *testing.T, backup string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(t.TempDir(), "data", "unicat.db")
	os.MkdirAll(filepath.Dir(restored), 0o755)
	if err := os.WriteFile(restored, data, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(restored, store.Options{})
	if err != nil {
		t.Fatalf("restored backup does not open: %v", err)
	}
	defer st.Close()
	ids := map[string]bool{}
	var live int
	err = st.View(func(tx *store.Tx) error {
		s, err := tx.Stats("lib")
		live = s.Live
		if err != nil {
			return err
		}
		return tx.ForEachRecord("lib", func(r *store.SourceRecord) error {
			if _, err := r.Record(); err != nil {
				return fmt.Errorf("%s: %w", r.LocalID, err)
			}
			ids[r.LocalID] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if live != len(ids) {
		t.Errorf("restored store counts %d live records but holds %d", live, len(ids))
	}
	return ids
}

// TestBackupUnderLoad takes a backup through the admin API (the store is
// held open, as by `unicat serve`) while batches keep committing, restores
// it and finds every record committed before the backup started, and no
// half batch.
func TestBackupUnderLoad(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfgPath, cfg := backupConfig(t, ln.Addr().String())
	cat, err := openCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	st := cat.Store()
	const size = 40
	for n := range 20 {
		if _, err := st.Apply(batchOf(n, size)); err != nil {
			t.Fatal(err)
		}
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	admin.New(admin.Options{Token: testToken, Catalog: cat, Config: func() *config.Config { return cfg },
		Log: slog.New(slog.DiscardHandler)}).Mount(r)
	srv := &http.Server{Handler: r}
	go srv.Serve(ln)
	defer srv.Close()

	var committed atomic.Int64 // batches 0 .. committed-1 are in the store
	committed.Store(20)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 20; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := st.Apply(batchOf(n, size)); err != nil {
				t.Error(err)
				return
			}
			committed.Store(int64(n + 1))
		}
	}()
	// Let the writer get going, so the backup overlaps commits.
	for committed.Load() < 25 {
		time.Sleep(time.Millisecond)
	}
	before := int(committed.Load())
	out := filepath.Join(t.TempDir(), "backup.db")
	var stdout, stderr bytes.Buffer
	code := run([]string{"backup", "--config", cfgPath, out}, &stdout, &stderr)
	close(stop)
	wg.Wait()
	after := int(committed.Load())
	if code != 0 || !strings.Contains(stdout.String(), "running service") {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	ids := restoreAndCount(t, out)
	for n := range before {
		for i := range size {
			if id := fmt.Sprintf("b%05d-%03d", n, i); !ids[id] {
				t.Fatalf("record %s, committed before the backup, is missing from it", id)
			}
		}
	}
	if len(ids)%size != 0 || len(ids) > after*size {
		t.Errorf("backup holds %d records: not whole batches of %d, or more than the %d batches committed", len(ids), size, after)
	}
	t.Logf("batches committed before the backup %d, in it %d, at the end %d", before, len(ids)/size, after)

	// Without the token the service refuses, and the command says why.
	stderr.Reset()
	os.Setenv(config.AdminTokenEnv, "wrong-token-wrong-token")
	defer os.Unsetenv(config.AdminTokenEnv)
	if code := run([]string{"backup", "--config", cfgPath, out + "2"}, io.Discard, &stderr); code == 0 || !strings.Contains(stderr.String(), "401") {
		t.Errorf("backup with a wrong token: exit %d, %s", code, stderr.String())
	}
	if _, err := os.Stat(out + "2"); !os.IsNotExist(err) {
		t.Errorf("a failed backup left a file: %v", err)
	}
}

// TestBackupStopped takes a backup with the service stopped: the command
// opens the store itself.
func TestBackupStopped(t *testing.T) {
	cfgPath, cfg := backupConfig(t, "127.0.0.1:1")
	fillStore(t, cfg).Close()
	out := filepath.Join(t.TempDir(), "b.db")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"backup", "--config", cfgPath, out}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "store file") {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if ids := restoreAndCount(t, out); len(ids) != 50 {
		t.Errorf("backup holds %d records, want 50", len(ids))
	}
}

// TestCompactCommand compacts a stopped store: the records stay, the
// search index and union records answer as before, and the file shrinks.
func TestCompactCommand(t *testing.T) {
	cfgPath, cfg := backupConfig(t, "127.0.0.1:1")
	cat := fillStore(t, cfg)
	var before, after int
	var err error
	cat.View(context.Background(), func(snap catalog.Snapshot) error { before, _, err = snap.UnionCounts(); return err })
	cat.Close()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"compact", "--config", cfgPath}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "compacted") {
		t.Fatalf("compact: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if ids := restoreAndCount(t, cfg.StorePath()); len(ids) != 50 {
		t.Errorf("compacted store holds %d records, want 50", len(ids))
	}
	cat, err = openCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	cat.View(context.Background(), func(snap catalog.Snapshot) error { after, _, err = snap.UnionCounts(); return err })
	if after != before || before == 0 {
		t.Errorf("union records: %d before, %d after compaction", before, after)
	}
}

// fillStore opens cfg's catalog and commits 50 records in 5 batches.
func fillStore(t *testing.T, cfg *config.Config) *catalog.Catalog {
	t.Helper()
	cat, err := openCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for n := range 5 {
		if _, err := cat.Store().Apply(batchOf(n, 10)); err != nil {
			cat.Close()
			t.Fatal(err)
		}
	}
	return cat
}

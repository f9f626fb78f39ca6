package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// The test binary doubles as the unicat command: with UNICAT_TEST_MAIN=1
// it runs main's logic on its arguments, so tests can run real child
// processes (and kill them) without building a second binary.
func TestMain(m *testing.M) {
	if os.Getenv("UNICAT_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func unicatCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "UNICAT_TEST_MAIN=1")
	return cmd
}

// writeConfig writes a one-source configuration into dir.
func writeConfig(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "unicat.yaml")
	doc := `data_dir: data
sources:
  - id: big
    name: "Big library"
    library_code: BIG
    level: district
    kind: file
    path: big.mrc
`
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// openConfigured loads the configuration at cfgPath and opens its
// catalog, which the caller closes.
func openConfigured(t *testing.T, cfgPath string) (*config.Config, *catalog.Catalog) {
	t.Helper()
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := openCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, cat
}

// readTestRecords reads every record of the given testdata files.
func readTestRecords(t *testing.T, files ...string) []*marc.Record {
	t.Helper()
	var out []*marc.Record
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 64)
		n, _ := fh.Read(head)
		fh.Seek(0, 0)
		format, _ := marc.Sniff(head[:n])
		rd := marc.NewReader(fh, format, marc.ReaderOptions{Source: f})
		for {
			rec, err := rd.Next()
			if err != nil {
				break
			}
			out = append(out, rec)
		}
		fh.Close()
	}
	if len(out) == 0 {
		t.Fatal("no test records read")
	}
	return out
}

// writeBigFile writes n records cycling through base, each with its own
// 001, and returns the set of control numbers.
func writeBigFile(t *testing.T, path string, base []*marc.Record, n int) {
	t.Helper()
	var buf []byte
	for i := 0; i < n; i++ {
		src := base[i%len(base)]
		rec := &marc.Record{Leader: src.Leader}
		rec.Fields = append(rec.Fields, marc.Field{Tag: "001", Value: fmt.Sprintf("big%07d", i)})
		// Every copy is made a different work (no shared identifiers, a
		// numbered title), so the test measures the store, not clusters
		// of thousands of copies of one book.
		for _, f := range src.Fields {
			switch f.Tag {
			case "001", "010", "015", "016", "020", "022", "024", "035":
				continue
			case "245":
				f.Subfields = append([]marc.Subfield{{Code: 'a', Value: fmt.Sprintf("Work %d: %s", i, f.Sub('a'))}}, f.Subfields...)
			}
			rec.Fields = append(rec.Fields, f)
		}
		var err error
		buf, err = marc.AppendISO2709(buf, rec)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// storeCounts opens the store and checks it is consistent: the per-source
// stats agree with the records actually there, and every record decodes.
func storeCounts(t *testing.T, cfgPath string) (live int) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.StorePath(), store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seen := map[string]bool{}
	err = st.View(func(tx *store.Tx) error {
		if err := tx.ForEachRecord("big", func(sr *store.SourceRecord) error {
			if seen[sr.LocalID] {
				return fmt.Errorf("record %s twice", sr.LocalID)
			}
			seen[sr.LocalID] = true
			rec, err := sr.Record()
			if err != nil {
				return fmt.Errorf("record %s does not decode: %v", sr.LocalID, err)
			}
			if rec.ControlNumber() != sr.LocalID {
				return fmt.Errorf("record %s holds 001 %q", sr.LocalID, rec.ControlNumber())
			}
			if !sr.Deleted {
				live++
			}
			return nil
		}); err != nil {
			return err
		}
		if s, err := tx.Stats("big"); err != nil || s.Live != live {
			return fmt.Errorf("stats say %d live records, store holds %d", s.Live, live)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return live
}

// TestImportSurvivesSIGKILL kills an import of a large file at random
// moments, several times over the same store. Every time the store must
// reopen consistent (whole batches only), and a final import must leave
// exactly one copy of every record.
func TestImportSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir)
	const n = 40000
	base := readTestRecords(t, "../../testdata/marc/zebra/sample-marc.mrc", "../../testdata/marc/yaz/marccol1.u8.marc")
	writeBigFile(t, filepath.Join(dir, "big.mrc"), base, n)

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	killedMidway := 0
	prev := 0
	for round := 0; round < 4; round++ {
		delay := time.Duration(1500+rng.Intn(4500)) * time.Millisecond
		if finished, err := runAndKill(t, delay, "import", "--config", cfgPath, "--source", "big", filepath.Join(dir, "big.mrc")); finished {
			t.Logf("round %d: import finished before the kill (%v)", round, err)
		}
		live := storeCounts(t, cfgPath)
		t.Logf("round %d: killed after %v with %d records committed", round, delay, live)
		if live < prev {
			t.Fatalf("round %d: store went back from %d to %d records", round, prev, live)
		}
		if live%ingest.DefaultBatchSize != 0 && live != n {
			t.Fatalf("round %d: %d records committed: not whole batches of %d", round, live, ingest.DefaultBatchSize)
		}
		if live > 0 && live < n {
			killedMidway++
			// status says the run was cut short, not that none ran.
			out, _, _ := runUnicat(t, "status", "--config", cfgPath)
			if !strings.Contains(out, "interrupted") {
				t.Errorf("round %d: status after a kill does not say the run was interrupted:\n%s", round, out)
			}
		}
		prev = live
	}
	cmd := unicatCmd("import", "--config", cfgPath, "--source", "big", filepath.Join(dir, "big.mrc"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("final import: %v\n%s", err, out)
	}
	if live := storeCounts(t, cfgPath); live != n {
		t.Fatalf("after re-import the store holds %d records, want %d", live, n)
	}
	want := fmt.Sprintf("read %d, added %d, updated 0, unchanged %d", n, n-prev, prev)
	if !strings.Contains(string(out), want) {
		t.Errorf("final import summary: want %q in\n%s", want, out)
	}
	if killedMidway == 0 {
		t.Logf("no round was killed mid-way (machine too fast or too slow); consistency still checked")
	}
}

// runAndKill runs unicat with args and kills it with SIGKILL after delay,
// unless it ends first; finished says whether it did, err how it ended.
func runAndKill(t *testing.T, delay time.Duration, args ...string) (finished bool, err error) {
	t.Helper()
	cmd := unicatCmd(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return true, err
	case <-time.After(delay):
		cmd.Process.Signal(syscall.SIGKILL)
		<-done
		return false, nil
	}
}

package store

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	crashEnvDB    = "UNICAT_STORE_CRASH_DB"
	crashEnvUntil = "UNICAT_STORE_CRASH_UNTIL"
	crashBatch    = 500
	crashSource   = "crash"
)

// TestHelperProcess is the child of TestCrashRecovery: it resumes from the
// checkpoint and applies batches of crashBatch new records, each with the
// number of committed batches as checkpoint, until killed (or until
// crashEnvUntil batches are committed).
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnvDB)
	if path == "" {
		t.Skip("helper process for TestCrashRecovery")
	}
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, format+"\n", args...)
		os.Exit(3)
	}
	until := -1
	if u := os.Getenv(crashEnvUntil); u != "" {
		until, _ = strconv.Atoi(u)
	}
	s, err := Open(path, Options{Timeout: 10 * time.Second})
	if err != nil {
		fail("%v", err)
	}
	if err := s.PutSource(SourceInfo{ID: crashSource, Name: "crash test"}); err != nil {
		fail("%v", err)
	}
	cp, err := s.Checkpoint(crashSource)
	if err != nil {
		fail("%v", err)
	}
	n := 0
	if cp != nil {
		if n, err = strconv.Atoi(string(cp)); err != nil {
			fail("checkpoint %q: %v", cp, err)
		}
	}
	for ; n != until; n++ {
		recs := make([]Incoming, crashBatch)
		for i := range recs {
			id := fmt.Sprintf("%09d", n*crashBatch+i)
			recs[i] = Incoming{LocalID: id, Record: testRecord(id, "Bản ghi số "+id)}
		}
		res, err := s.Apply(Batch{Source: crashSource, Records: recs, Checkpoint: strconv.AppendInt(nil, int64(n+1), 10)})
		if err != nil {
			fail("batch %d: %v", n, err)
		}
		// Resuming from the checkpoint must never meet a record of a batch
		// that was not checkpointed.
		if res.Added != crashBatch {
			fail("batch %d: %+v, want %d added", n, res, crashBatch)
		}
		fmt.Printf("committed %d\n", n+1)
	}
	if err := s.Close(); err != nil {
		fail("%v", err)
	}
	os.Exit(0)
}

func crashChild(t *testing.T, path string, until int) (*exec.Cmd, *bufio.Scanner, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvDB+"="+path)
	if until >= 0 {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", crashEnvUntil, until))
	}
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out), stderr
}

// checkCrashDB verifies that the store holds exactly the checkpointed
// batches: records 0 .. checkpoint*crashBatch-1, each once, and matching
// counters.
func checkCrashDB(t *testing.T, path string) int {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var batches int
	err = s.View(func(tx *Tx) error {
		cp := tx.Checkpoint(crashSource)
		if batches, err = strconv.Atoi(string(cp)); err != nil {
			return fmt.Errorf("checkpoint %q: %v", cp, err)
		}
		st, err := tx.Stats(crashSource)
		if err != nil {
			return err
		}
		if st != (SourceStats{Live: batches * crashBatch}) {
			t.Errorf("checkpoint %d batches, stats %+v", batches, st)
		}
		next := 0
		err = tx.ForEachRecord("", func(r *SourceRecord) error {
			if want := fmt.Sprintf("%09d", next); r.Source != crashSource || r.LocalID != want {
				return fmt.Errorf("record %s/%s where %s/%s was expected", r.Source, r.LocalID, crashSource, want)
			}
			rec, err := r.Record()
			if err != nil {
				return err
			}
			if rec.ControlNumber() != r.LocalID {
				return fmt.Errorf("record %s holds 001 %q", r.LocalID, rec.ControlNumber())
			}
			next++
			return nil
		})
		if err != nil {
			return err
		}
		if next != batches*crashBatch {
			t.Errorf("checkpoint %d batches, %d records stored", batches, next)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return batches
}

// TestCrashRecovery kills a writer with SIGKILL at random moments and
// checks that every batch is either wholly committed with its checkpoint or
// absent, and that resuming from the checkpoint adds each record once.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	for round := range 3 {
		cmd, out, stderr := crashChild(t, path, -1)
		// Wait for at least one commit so every round makes progress.
		if !out.Scan() {
			cmd.Wait()
			t.Fatalf("round %d: child committed nothing: %s", round, stderr)
		}
		go func() {
			for out.Scan() {
			}
		}()
		time.Sleep(time.Duration(50+rand.IntN(500)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended on its own (%v): %s", round, err, stderr)
		}
		t.Logf("round %d: killed after checkpoint %d", round, checkCrashDB(t, path))
	}
	before := checkCrashDB(t, path)
	cmd, out, stderr := crashChild(t, path, before+3)
	for out.Scan() {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("resuming child: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if after := checkCrashDB(t, path); after != before+3 {
		t.Errorf("resumed from %d to %d batches, want %d", before, after, before+3)
	}
}

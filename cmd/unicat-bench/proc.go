package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/marc"
)

// Files, ports and the memory of the processes measured.

func concat(dst string, files []string) error {
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	for _, f := range files {
		in, err := os.Open(f)
		if err != nil {
			out.Close()
			return err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}

func filesSize(files []string) int64 {
	var n int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

func dirBytes(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// readAll reads the files with unicat's codec, reusing records or
// keeping each (as import does).
func readAll(files []string, f marc.Format, reuse bool) (int, time.Duration, error) {
	t0 := time.Now()
	n := 0
	for _, path := range files {
		fh, err := os.Open(path)
		if err != nil {
			return 0, 0, err
		}
		rd := marc.NewReader(fh, f, marc.ReaderOptions{Source: path, ReuseRecords: reuse})
		for {
			_, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fh.Close()
				return 0, 0, err
			}
			n++
		}
		fh.Close()
	}
	return n, time.Since(t0), nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// writeConfig writes a unicat configuration with one file source per
// library, on free loopback ports.
func writeConfig(work string, libs []corpus.Library, files []string) (path, httpAddr, z3950Addr string, err error) {
	if httpAddr, err = freeAddr(); err != nil {
		return
	}
	if z3950Addr, err = freeAddr(); err != nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %s\nhttp: {addr: %q}\nz3950: {addr: %q, database: unicat}\n", filepath.Join(work, "data"), httpAddr, z3950Addr)
	fmt.Fprintf(&b, "oai:\n  repository_name: \"unicat bench\"\n  domain: bench.unicat.invalid\n  admin_email: bench@unicat.invalid\n  page_size: 200\nsources:\n")
	for i, l := range libs {
		fmt.Fprintf(&b, "  - {id: %s, name: %q, library_code: %s, level: %s, kind: file, path: %q}\n", l.ID, l.Name, l.Code, l.Level, files[i])
	}
	path = filepath.Join(work, "unicat.yaml")
	err = os.WriteFile(path, []byte(b.String()), 0o644)
	return
}

func maxRSS(ps *os.ProcessState) float64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) * 1024
	}
	return 0
}

// vmHWM is the peak resident set of process pid, in bytes.
func vmHWM(pid int) float64 { return procStatus(pid, "VmHWM:") }

// procStatus reads one kB figure of /proc/PID/status, in bytes.
func procStatus(pid int, field string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) * 1024
		}
	}
	return 0
}

// anonWatch samples a process's anonymous resident memory (heap, stacks:
// RssAnon) until stopped. The resident set also counts the pages of the
// memory-mapped store file, which are page cache the kernel takes back
// when it needs them; the anonymous part is what the process itself
// holds.
type anonWatch struct {
	stop chan struct{}
	done chan float64
}

func watchAnon(pid int) *anonWatch {
	w := &anonWatch{stop: make(chan struct{}), done: make(chan float64, 1)}
	go func() {
		peak := 0.0
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, procStatus(pid, "RssAnon:"))
			select {
			case <-w.stop:
				w.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// peak stops the sampling and returns the highest figure seen.
func (w *anonWatch) peak() float64 {
	close(w.stop)
	return <-w.done
}

// resetHWM starts a new peak-RSS measurement (Linux: clear_refs 5).
func resetHWM(pid int) {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0o644)
}

// Command unicat-bench measures unicat against the tools a library would
// otherwise use, on the same generated corpus in the same run, and prints
// one Markdown table: MARC reading against yaz-marcdump, ingest against
// zebraidx, deduplication quality against the corpus truth, SRU and
// Z39.50 search against zebrasrv, an OAI-PMH harvest, and the peak RSS of
// `unicat serve` in each phase. `make bench` runs it.
//
// Everything runs on loopback; every load loop is bounded in requests and
// time. It installs nothing: a missing peer is named with the Debian
// package to install, and its column reads "n/a".
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/internal/zebrapeer"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
	"github.com/unicat/unicat/z3950"
)

type options struct {
	unicat, work, zebraConf string
	n, libs, clients        int
	seconds                 time.Duration
	maxRequests             int
	keep                    bool
}

// row is one line of the result table.
type row struct {
	what, unit  string
	us, peer    float64
	hasPeer     bool
	usNA        string // why unicat's figure is missing
	peerNA      string // why the peer's figure is missing
	lowerBetter bool
	peerName    string
}

type bench struct {
	opts  options
	rows  []row
	notes []string
	logf  func(string, ...any)
}

func main() {
	var o options
	flag.StringVar(&o.unicat, "unicat", "bin/unicat", "the unicat binary")
	flag.StringVar(&o.work, "work", "", "working directory (default: a new temporary directory, removed afterwards)")
	flag.StringVar(&o.zebraConf, "zebra-config", "testdata/peers/zebra", "Zebra indexing rules and CQL mapping")
	flag.IntVar(&o.n, "n", envInt("BENCH_N", 1_000_000), "records (BENCH_N)")
	flag.IntVar(&o.libs, "libraries", envInt("BENCH_LIBRARIES", 40), "member libraries (BENCH_LIBRARIES)")
	flag.IntVar(&o.clients, "clients", envInt("BENCH_CLIENTS", 8), "concurrent search clients (BENCH_CLIENTS)")
	secs := flag.Int("seconds", envInt("BENCH_SECONDS", 15), "seconds of load per server and protocol (BENCH_SECONDS)")
	flag.IntVar(&o.maxRequests, "max-requests", 200000, "at most this many requests per load run")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.Parse()
	o.seconds = time.Duration(*secs) * time.Second
	b := &bench{opts: o, logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+f+"\n", a...) }}
	if err := b.run(); err != nil {
		fmt.Fprintln(os.Stderr, "unicat-bench:", err)
		os.Exit(1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// peers are the programs compared with and the Debian packages that have them.
var peers = map[string]string{"yaz-marcdump": "yaz", "zebraidx": "idzebra-2.0", "zebrasrv": "idzebra-2.0"}

func (b *bench) have(name string) bool {
	if _, err := exec.LookPath(name); err != nil {
		b.notes = append(b.notes, fmt.Sprintf("`%s` not found: `sudo apt-get install %s` to measure it", name, peers[name]))
		return false
	}
	return true
}

func (b *bench) run() error {
	o := b.opts
	start := time.Now()
	if _, err := os.Stat(o.unicat); err != nil {
		return fmt.Errorf("%s: %w (run `make build` first)", o.unicat, err)
	}
	work := o.work
	if work == "" {
		d, err := os.MkdirTemp("", "unicat-bench-")
		if err != nil {
			return err
		}
		work = d
		if !o.keep {
			defer os.RemoveAll(d)
		}
	}
	work, _ = filepath.Abs(work)
	unicat, _ := filepath.Abs(o.unicat)
	haveYaz, haveZebra := b.have("yaz-marcdump"), b.have("zebraidx") && b.have("zebrasrv")

	// The corpus, in both serialisations, and Zebra's single file.
	isoDir, xmlDir := filepath.Join(work, "iso"), filepath.Join(work, "xml")
	for _, c := range []struct{ dir, format string }{{isoDir, "iso2709"}, {xmlDir, "marcxml"}} {
		out, err := exec.Command(unicat, "gen", "-o", c.dir, "-n", strconv.Itoa(o.n), "-libraries", strconv.Itoa(o.libs), "-seed", "1", "-format", c.format).CombinedOutput()
		if err != nil {
			return fmt.Errorf("unicat gen: %v: %s", err, out)
		}
		b.logf("%s", bytes.TrimSpace(out))
	}
	libs := corpus.Libraries(o.libs)
	isoFiles, xmlFiles := make([]string, len(libs)), make([]string, len(libs))
	for i, l := range libs {
		isoFiles[i] = filepath.Join(isoDir, corpus.FileName(l, marc.FormatISO2709))
		xmlFiles[i] = filepath.Join(xmlDir, corpus.FileName(l, marc.FormatMARCXML))
	}
	all := filepath.Join(work, "all.mrc")
	if err := concat(all, isoFiles); err != nil {
		return err
	}

	// 1. Reading MARC.
	isoBytes, xmlBytes := filesSize(isoFiles), filesSize(xmlFiles)
	for _, c := range []struct {
		name  string
		f     marc.Format
		files []string
		size  int64
		yaz   []string
	}{{"MARC read, ISO 2709", marc.FormatISO2709, isoFiles, isoBytes, []string{"-n"}}, {"MARC read, MARCXML", marc.FormatMARCXML, xmlFiles, xmlBytes, []string{"-n", "-i", "marcxml"}}} {
		n, d, err := readAll(c.files, c.f)
		if err != nil {
			return err
		}
		if n != o.n {
			return fmt.Errorf("%s: read %d records, generated %d", c.name, n, o.n)
		}
		r := row{what: fmt.Sprintf("%s (%.0f MB)", c.name, float64(c.size)/1e6), unit: "records/s", us: float64(n) / d.Seconds(), peerName: "yaz-marcdump -n"}
		if haveYaz {
			t0 := time.Now()
			out, err := exec.Command("yaz-marcdump", append(c.yaz, c.files...)...).CombinedOutput()
			if err != nil {
				return fmt.Errorf("yaz-marcdump: %v: %.300s", err, out)
			}
			r.peer, r.hasPeer = float64(n)/time.Since(t0).Seconds(), true
		} else {
			r.peerNA = "yaz not installed"
		}
		b.rows = append(b.rows, r)
		b.logf("%s: unicat %.0f records/s, yaz %.0f", c.name, r.us, r.peer)
	}

	// 2. Ingest: unicat import (parse, store, dedup, index) vs zebraidx.
	cfg, httpAddr, z3950Addr, err := writeConfig(work, libs, isoFiles)
	if err != nil {
		return err
	}
	t0 := time.Now()
	imp := exec.Command(unicat, "import", "--config", cfg, "--all")
	var impOut bytes.Buffer
	imp.Stdout, imp.Stderr = &impOut, &impOut
	if err := imp.Start(); err != nil {
		return fmt.Errorf("unicat import: %w", err)
	}
	impWatch := watchAnon(imp.Process.Pid)
	if err := imp.Wait(); err != nil {
		impWatch.peak()
		return fmt.Errorf("unicat import: %v: %s", err, tail(impOut.String(), 2000))
	}
	impAnon := impWatch.peak()
	impTime := time.Since(t0)
	impRSS := maxRSS(imp.ProcessState)
	dataBytes := dirBytes(filepath.Join(work, "data"))
	b.logf("unicat import: %v, peak RSS %.0f MB (anonymous %.0f MB), %.1f MB on disk", impTime.Round(time.Millisecond), impRSS/1e6, impAnon/1e6, float64(dataBytes)/1e6)
	ingest := row{what: "Full ingest (parse+store+dedup+index)", unit: "records/s", us: float64(o.n) / impTime.Seconds(), peerName: "zebraidx init+update+commit"}
	disk := row{what: "Bytes on disk per record, after the import", unit: "bytes", us: float64(dataBytes) / float64(o.n), lowerBetter: true, peerName: "Zebra register"}
	// A bbolt file keeps the pages its commits freed: `unicat compact`
	// rewrites it without them.
	t0 = time.Now()
	if out, err := exec.Command(unicat, "compact", "--config", cfg).CombinedOutput(); err != nil {
		return fmt.Errorf("unicat compact: %v: %s", err, tail(string(out), 2000))
	}
	compactTime := time.Since(t0)
	compacted := dirBytes(filepath.Join(work, "data"))
	b.logf("unicat compact: %v, %.1f MB on disk", compactTime.Round(time.Millisecond), float64(compacted)/1e6)
	diskCompact := row{what: fmt.Sprintf("Bytes on disk per record, after `unicat compact` (%s)", compactTime.Round(time.Second)),
		unit: "bytes", us: float64(compacted) / float64(o.n), lowerBetter: true, peerName: "Zebra register"}
	var zs *zebrapeer.Server
	if haveZebra {
		zwork := filepath.Join(work, "zebra")
		var zlog bytes.Buffer
		t0 := time.Now()
		zs, err = zebrapeer.Start(zebrapeer.Options{ConfigDir: o.zebraConf, WorkDir: zwork, Records: all, IndexLog: &zlog})
		if err != nil {
			return fmt.Errorf("%v: %s", err, tail(zlog.String(), 2000))
		}
		defer zs.Stop()
		ingest.peer, ingest.hasPeer = float64(o.n)/time.Since(t0).Seconds(), true
		disk.peer, disk.hasPeer = float64(dirBytes(filepath.Join(zwork, "reg"))+dirBytes(filepath.Join(zwork, "shadow")))/float64(o.n), true
		diskCompact.peer, diskCompact.hasPeer = disk.peer, true
		b.logf("zebraidx: %v", time.Since(t0).Round(time.Millisecond))
	} else {
		ingest.peerNA, disk.peerNA, diskCompact.peerNA = "Zebra not installed", "Zebra not installed", "Zebra not installed"
	}
	b.rows = append(b.rows, ingest, disk, diskCompact, memRow("`unicat import`", impAnon, impRSS))

	// 3. Deduplication quality against the truth.
	c, err := dedupQuality(filepath.Join(work, "data", "unicat.db"), filepath.Join(isoDir, corpus.TruthFile))
	if err != nil {
		return err
	}
	b.logf("dedup: %s", c)
	for _, q := range []struct {
		name string
		v    float64
	}{{"precision", c.Precision()}, {"recall", c.Recall()}, {"F1", c.F1()}} {
		b.rows = append(b.rows, row{what: "Dedup " + q.name + fmt.Sprintf(" (pairs: %d true, %d found)", c.TP+c.FN, c.TP+c.FP), unit: "", us: q.v, peerNA: "truth"})
	}

	// 4. Serving: SRU, Z39.50, OAI-PMH, with the server's peak RSS per phase.
	srv := exec.Command(unicat, "serve", "--config", cfg)
	var srvLog bytes.Buffer
	srv.Stdout, srv.Stderr = &srvLog, &srvLog
	// If the bench is killed, the server goes with it.
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("unicat serve: %w", err)
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			srv.Process.Kill()
		}
	}()
	base := "http://" + httpAddr
	if err := waitHTTP(base+"/healthz", 5*time.Minute); err != nil {
		return fmt.Errorf("unicat serve: %v: %s", err, tail(srvLog.String(), 2000))
	}
	pid := srv.Process.Pid
	b.rows = append(b.rows, memRow("`unicat serve`, start-up", procStatus(pid, "RssAnon:"), vmHWM(pid)))

	queries := b.queries(isoFiles[0])
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	resetHWM(pid)
	watch := watchAnon(pid)
	us := loadSRU(client, base+"/sru", queries, o)
	srvAnon, srvRSS := watch.peak(), vmHWM(pid)
	var zr loadResult
	if zs != nil {
		zr = loadSRU(client, zs.URL, queries, o)
	}
	b.searchRows("SRU searchRetrieve", us, zr, zs != nil, "zebrasrv SRU")
	b.rows = append(b.rows, memRow("`unicat serve`, SRU load", srvAnon, srvRSS))

	pqfs := toPQF(queries)
	resetHWM(pid)
	watch = watchAnon(pid)
	uz := loadZ3950("tcp:"+z3950Addr+"/unicat", pqfs, o)
	zAnon, zRSS := watch.peak(), vmHWM(pid)
	var zz loadResult
	if zs != nil {
		zz = loadZ3950("tcp:"+zs.Addr+"/Default", pqfs, o)
	}
	b.searchRows("Z39.50 search+present", uz, zz, zs != nil, "zebrasrv Z39.50")
	b.rows = append(b.rows, memRow("`unicat serve`, Z39.50 load", zAnon, zRSS))

	resetHWM(pid)
	watch = watchAnon(pid)
	h, err := harvest(client, base+"/oai", o.n*2, 10*time.Minute)
	oaiAnon, oaiRSS := watch.peak(), vmHWM(pid)
	if err != nil {
		b.rows = append(b.rows, row{what: "OAI-PMH ListRecords harvest", usNA: err.Error(), peerNA: "no peer"})
	} else {
		b.rows = append(b.rows,
			row{what: fmt.Sprintf("OAI-PMH ListRecords full harvest (%d records, %d pages)", h.records, h.pages), unit: "records/s", us: float64(h.records) / h.total.Seconds(), peerNA: "no peer"},
			row{what: "OAI-PMH first page latency", unit: "ms", us: ms(h.first), lowerBetter: true, peerNA: "no peer"},
			row{what: "OAI-PMH last page latency", unit: "ms", us: ms(h.last), lowerBetter: true, peerNA: "no peer"},
		)
	}
	b.rows = append(b.rows, memRow("`unicat serve`, OAI-PMH harvest", oaiAnon, oaiRSS))

	b.print(os.Stdout, time.Since(start))
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// memRow reports a process's peak anonymous memory, with its peak
// resident set (which adds the store file's mapped pages) beside it.
func memRow(who string, anon, rss float64) row {
	return row{what: fmt.Sprintf("Peak memory of %s: anonymous (resident with the mapped store: %.0f MB)", who, rss/1e6),
		unit: "MB", us: anon / 1e6, lowerBetter: true, peerNA: "—"}
}

func (b *bench) searchRows(name string, us, peer loadResult, hasPeer bool, peerName string) {
	mk := func(what, unit string, u, p float64, lower bool) row {
		r := row{what: what, unit: unit, us: u, peer: p, hasPeer: hasPeer, lowerBetter: lower, peerName: peerName}
		if us.err != "" {
			r.usNA = us.err
		}
		if !hasPeer {
			r.peerNA = "Zebra not installed"
		} else if peer.err != "" {
			r.peerNA, r.hasPeer = peer.err, false
		}
		return r
	}
	cl := fmt.Sprintf("%d clients, %d queries", b.opts.clients, us.queries)
	b.rows = append(b.rows,
		mk(fmt.Sprintf("%s throughput (%s)", name, cl), "queries/s", us.qps, peer.qps, false),
		mk(name+" latency p50", "ms", us.p50, peer.p50, true),
		mk(name+" latency p99", "ms", us.p99, peer.p99, true),
	)
	if us.errors > 0 || peer.errors > 0 {
		b.notes = append(b.notes, fmt.Sprintf("%s: failed requests: unicat %d, %s %d (not counted in the latencies)", name, us.errors, peerName, peer.errors))
	}
	b.logf("%s: unicat %+v; peer %+v", name, us, peer)
}

func (b *bench) print(w io.Writer, took time.Duration) {
	fmt.Fprintf(w, "| measure | unit | unicat | peer | peer figure | unicat ÷ peer |\n|---|---|---:|---|---:|---:|\n")
	for _, r := range b.rows {
		us := fmtNum(r.us)
		if r.usNA != "" {
			us = "n/a (" + r.usNA + ")"
		}
		peer, ratio := "n/a", "—"
		if r.peerNA != "" {
			peer = r.peerNA
			if r.peerNA == "—" || r.peerNA == "truth" || r.peerNA == "no peer" {
				peer = "—"
			}
		}
		if r.hasPeer {
			peer = fmtNum(r.peer)
			if r.peer > 0 && r.usNA == "" {
				ratio = fmt.Sprintf("%.2f×", r.us/r.peer)
				if r.lowerBetter {
					ratio += " (lower is better)"
				}
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.what, r.unit, us, r.peerName, peer, ratio)
	}
	fmt.Fprintf(w, "\nN = %d records over %d libraries, %d search clients, %s of load per server; the whole run took %s.\n",
		b.opts.n, b.opts.libs, b.opts.clients, b.opts.seconds, took.Round(time.Second))
	for _, n := range b.notes {
		fmt.Fprintln(w, "- "+n)
	}
}

func fmtNum(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 1:
		return fmt.Sprintf("%.4f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// ------------------------------------------------------------- helpers

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

// readAll reads the files with unicat's codec, as import does.
func readAll(files []string, f marc.Format) (int, time.Duration, error) {
	t0 := time.Now()
	n := 0
	for _, path := range files {
		fh, err := os.Open(path)
		if err != nil {
			return 0, 0, err
		}
		rd := marc.NewReader(fh, f, marc.ReaderOptions{Source: path})
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

func waitHTTP(u string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer 200 within %s", u, limit)
}

// ------------------------------------------------------------- dedup

// dedupQuality compares the union records' membership (the dedup
// package's member → union id bucket) with the truth, pairwise.
func dedupQuality(dbPath, truthPath string) (corpus.PairScore, error) {
	var c corpus.PairScore
	db, err := bbolt.Open(dbPath, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		return c, fmt.Errorf("dedup quality: open %s: %w", dbPath, err)
	}
	defer db.Close()
	tf, err := os.Open(truthPath)
	if err != nil {
		return c, err
	}
	defer tf.Close()
	var pc corpus.PairCounter
	missing := 0
	err = db.View(func(tx *bbolt.Tx) error {
		members := tx.Bucket([]byte("dedup.members"))
		if members == nil {
			return errors.New("dedup quality: no dedup.members bucket in the store")
		}
		return corpus.ReadTruth(tf, func(r corpus.TruthRow) error {
			u := members.Get(store.RecordKey(r.Source, r.LocalID))
			if u == nil {
				missing++
				return nil
			}
			pc.Add(string(u), r.Work)
			return nil
		})
	})
	if err != nil {
		return c, err
	}
	if missing > 0 {
		return c, fmt.Errorf("dedup quality: %d records of the truth are in no union record", missing)
	}
	return pc.Score(), nil
}

// ------------------------------------------------------------- search

// queries is the fixed mixed query list, made from the vocabulary the
// corpus is generated from and from the first records of one library's
// file (an ISBN, an author): title words, a phrase, author, ISBN,
// subject, booleans, truncation, a year range and a sort.
func (b *bench) queries(file string) []string {
	var isbns, authors []string
	if fh, err := os.Open(file); err == nil {
		rd := marc.NewISO2709Reader(fh, marc.ReaderOptions{})
		for i := 0; i < 200; i++ {
			r, err := rd.Next()
			if err != nil {
				break
			}
			if v, _ := r.ISBNs(); len(v) > 0 && len(isbns) < 3 {
				isbns = append(isbns, v[0])
			}
			if f := r.First("100"); f != nil && len(authors) < 3 && !strings.Contains(f.Sub('a'), ",") {
				authors = append(authors, strings.TrimRight(f.Sub('a'), " ,."))
			}
		}
		fh.Close()
	}
	qs := []string{
		`dc.title = "lịch sử"`,
		`dc.title = "nghệ an"`,
		`dc.title = "giáo trình"`,
		`dc.title = "thủy sản"`,
		`dc.title = "introduction"`,
		`cql.serverChoice = "truyện"`,
		`dc.title = "ca dao tục ngữ"`,
		`dc.subject = "nông nghiệp"`,
		`dc.subject = "văn hóa"`,
		`dc.title = "kỹ*"`,
		`dc.title = "phong*"`,
		`dc.title = "văn hóa" and dc.title = "xứ nghệ"`,
		`dc.title = "sông lam" or dc.title = "núi hồng"`,
		`dc.title = "kinh tế" not dc.title = "nông thôn"`,
		`dc.title = "giáo dục" and dc.date > 2010`,
		`dc.language = vie and dc.title = "tiếng việt"`,
		`dc.title = "làng nghề" sortBy dc.date/sort.descending`,
	}
	for _, a := range authors {
		qs = append(qs, `dc.creator = "`+a+`"`)
	}
	for _, i := range isbns {
		qs = append(qs, "bath.isbn = "+i)
	}
	return qs
}

type loadResult struct {
	qps, p50, p99 float64
	queries       int
	errors        int
	err           string
}

var countRe = regexp.MustCompile(`numberOfRecords>(\d+)<`)

// loadSRU sends the queries (ten MARCXML records each) from the clients
// until the time or the request budget is used up.
func loadSRU(client *http.Client, base string, queries []string, o options) loadResult {
	return load(queries, o, func() (func(q string) error, func()) {
		return func(q string) error {
			params := url.Values{"version": {"1.2"}, "operation": {"searchRetrieve"}, "query": {q}, "maximumRecords": {"10"}}
			resp, err := client.Get(base + "?" + params.Encode())
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			if resp.StatusCode != 200 || !countRe.Match(body) {
				return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, body)
			}
			return nil
		}, func() {}
	})
}

// toPQF turns the CQL list into Bib-1 PQF, each index to its first Bib-1
// use attribute in search's index table (as the Zebra comparison's
// cql2pqf.properties, generated from the same table, maps it).
func toPQF(cql []string) []string {
	use := func(index string) string {
		if d, ok := search.LookupIndex(index); ok && len(d.Bib1) > 0 {
			return strconv.Itoa(d.Bib1[0])
		}
		return "1016" // any field: the benchmark's queries name known indexes
	}
	term := func(s string) string {
		idx, rest, _ := strings.Cut(s, " ")
		op, val, _ := strings.Cut(rest, " ")
		val = strings.TrimSpace(val)
		if i := strings.Index(val, " sortBy"); i >= 0 {
			val = val[:i]
		}
		attrs := "@attr 1=" + use(idx)
		switch op {
		case ">":
			attrs += " @attr 2=5"
		case "<":
			attrs += " @attr 2=1"
		}
		if strings.HasSuffix(strings.Trim(val, `"`), "*") {
			val = `"` + strings.TrimSuffix(strings.Trim(val, `"`), "*") + `"`
			attrs += " @attr 5=1"
		}
		return attrs + " " + val
	}
	var out []string
	for _, q := range cql {
		if i := strings.Index(q, " sortBy"); i >= 0 {
			q = q[:i]
		}
		for _, op := range []string{" and ", " or ", " not "} {
			if l, r, ok := strings.Cut(q, op); ok {
				q = "@" + strings.TrimSpace(op) + " " + term(l) + " " + term(r)
				goto done
			}
		}
		q = term(q)
	done:
		out = append(out, q)
	}
	return out
}

// loadZ3950 runs search + present (ten USMARC records) per query, one
// association per client.
func loadZ3950(target string, pqfs []string, o options) loadResult {
	ctx := context.Background()
	probe, err := z3950.Dial(ctx, target, z3950.ClientOptions{Charset: "utf-8", Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %s: %v\n", target, err)
		return loadResult{err: "no Z39.50 listener", queries: len(pqfs)}
	}
	probe.Close()
	return load(pqfs, o, func() (func(q string) error, func()) {
		c, err := z3950.Dial(ctx, target, z3950.ClientOptions{Charset: "utf-8", Timeout: 30 * time.Second})
		if err != nil {
			return func(string) error { return err }, func() {}
		}
		return func(q string) error {
			n, err := c.Search(ctx, q, "default")
			if err != nil {
				return err
			}
			if n > 0 {
				_, _, err = c.Present(ctx, "default", 1, min(n, 10), z3950.OIDUSMARC, "F")
			}
			return err
		}, func() { c.Close() }
	})
}

// load runs do from o.clients workers, each with its own session, until
// o.seconds pass or o.maxRequests were sent.
func load(queries []string, o options, session func() (do func(string) error, end func())) loadResult {
	var mu sync.Mutex
	var lat []time.Duration
	errs := 0
	var firstErr error
	stop := time.Now().Add(o.seconds)
	budget := o.maxRequests
	var wg sync.WaitGroup
	t0 := time.Now()
	for k := 0; k < o.clients; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			do, end := session()
			defer end()
			var mine []time.Duration
			bad := 0
			for i := k; time.Now().Before(stop); i++ {
				mu.Lock()
				if budget == 0 {
					mu.Unlock()
					break
				}
				budget--
				mu.Unlock()
				q := queries[(i*7+k)%len(queries)]
				t := time.Now()
				if err := do(q); err != nil {
					bad++
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", q, err)
					}
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}(k)
	}
	wg.Wait()
	el := time.Since(t0)
	slices.Sort(lat)
	res := loadResult{errors: errs, qps: float64(len(lat)) / el.Seconds(), queries: len(queries)}
	if len(lat) > 0 {
		res.p50 = ms(lat[len(lat)/2])
		res.p99 = ms(lat[len(lat)*99/100])
	} else if firstErr != nil {
		res.err = "every request failed: " + tail(firstErr.Error(), 120)
	}
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "bench: first failure: %v\n", firstErr)
	}
	return res
}

// ------------------------------------------------------------- OAI-PMH

type harvestResult struct {
	records, pages int
	first, last    time.Duration
	total          time.Duration
}

var (
	tokenRe  = regexp.MustCompile(`<resumptionToken[^>]*>([^<]+)</resumptionToken>`)
	recordRe = regexp.MustCompile(`<record>`)
	errorRe  = regexp.MustCompile(`<error code="([^"]+)"`)
)

// harvest runs a full ListRecords (marc21) harvest, following resumption
// tokens, bounded in pages and time.
func harvest(client *http.Client, base string, maxPages int, limit time.Duration) (harvestResult, error) {
	var h harvestResult
	t0 := time.Now()
	q := url.Values{"verb": {"ListRecords"}, "metadataPrefix": {"marc21"}}
	for h.pages < maxPages {
		if time.Since(t0) > limit {
			return h, fmt.Errorf("harvest not done after %s (%d records)", limit, h.records)
		}
		t := time.Now()
		resp, err := client.Get(base + "?" + q.Encode())
		if err != nil {
			return h, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return h, err
		}
		d := time.Since(t)
		if resp.StatusCode != 200 {
			return h, fmt.Errorf("OAI-PMH: HTTP %d", resp.StatusCode)
		}
		if m := errorRe.FindSubmatch(body); m != nil {
			return h, fmt.Errorf("OAI-PMH error %s", m[1])
		}
		h.pages++
		h.records += len(recordRe.FindAllIndex(body, -1))
		if h.pages == 1 {
			h.first = d
		}
		h.last = d
		m := tokenRe.FindSubmatch(body)
		if m == nil {
			break
		}
		q = url.Values{"verb": {"ListRecords"}, "resumptionToken": {string(m[1])}}
	}
	h.total = time.Since(t0)
	runtime.KeepAlive(client)
	return h, nil
}

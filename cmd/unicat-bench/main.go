// Command unicat-bench measures unicat against the tools a library would
// otherwise use, on the same generated corpus in the same run, and prints
// one Markdown table: MARC reading against yaz-marcdump, ingest against
// zebraidx, deduplication quality against the corpus truth, SRU and
// Z39.50 search against zebrasrv, an OAI-PMH harvest, how soon `unicat
// serve` answers after its start, incremental batches of 1,000 records
// into the loaded catalog, and the peak RSS of `unicat serve` in each
// phase. `make bench` runs it; -store-only and -reuse measure the start
// and the batches alone on a store loaded once.
//
// Everything runs on loopback; every load loop is bounded in requests and
// time. It installs nothing: a missing peer is named with the Debian
// package to install, and its column reads "n/a".
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"
)

type options struct {
	unicat, work, zebraConf string
	n, libs, clients        int
	seconds                 time.Duration
	maxRequests             int
	keep                    bool
	storeOnly, reuse        bool
	readOnly                bool
	cpuProfile              string
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
	flag.BoolVar(&o.storeOnly, "store-only", false, "only generate the corpus and import it into -work (kept), for -reuse runs")
	flag.BoolVar(&o.reuse, "reuse", false, "measure only `unicat serve`'s start and an incremental batch, on the store a -store-only run left in -work")
	flag.BoolVar(&o.readOnly, "read-only", false, "only generate the corpus and read it: unicat's codec and `unicat check` against yaz-marcdump")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (the incremental batches run in it) to this file")
	flag.Parse()
	o.seconds = time.Duration(*secs) * time.Second
	b := &bench{opts: o, logf: func(f string, a ...any) { fmt.Fprintf(os.Stderr, "bench: "+f+"\n", a...) }}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "unicat-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := b.run(); err != nil {
		pprof.StopCPUProfile()
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

// run measures every phase in turn and prints the table. The peers'
// servers and unicat serve stay up until the table is printed.
func (b *bench) run() error {
	o := b.opts
	start := time.Now()
	if _, err := os.Stat(o.unicat); err != nil {
		return fmt.Errorf("%s: %w (run `make build` first)", o.unicat, err)
	}
	work := o.work
	if work == "" && (o.storeOnly || o.reuse) {
		return fmt.Errorf("-store-only and -reuse need -work")
	}
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
	switch {
	case o.storeOnly:
		return b.storeOnly(unicat, work)
	case o.reuse:
		if err := b.reuseStore(unicat, work); err != nil {
			return err
		}
		b.print(os.Stdout, time.Since(start))
		return nil
	}
	haveYaz, haveZebra := b.have("yaz-marcdump"), b.have("zebraidx") && b.have("zebrasrv")

	c, err := b.generate(unicat, work, "iso2709", "marcxml")
	if err != nil {
		return err
	}
	// The corpus just written (2.6 GB at 1M) goes to disk now, not while
	// the readings are timed: yaz-marcdump's first reading of the ISO
	// 2709 files ran at 450,000-460,000 records/s with the writeback
	// under way, 740,000-760,000 once it was done.
	syscall.Sync()
	if err := b.readMARC(unicat, c, haveYaz); err != nil {
		return err
	}
	if o.readOnly {
		b.print(os.Stdout, time.Since(start))
		return nil
	}
	in, err := b.ingest(unicat, work, c, haveZebra)
	if err != nil {
		return err
	}
	if in.zebra != nil {
		defer in.zebra.Stop()
	}
	if err := b.dedup(work, c); err != nil {
		return err
	}
	if err := b.batchRows(in.config, c.libs, c.iso); err != nil {
		return err
	}
	stop, err := b.serve(unicat, in, c)
	if stop != nil {
		defer stop()
	}
	if err != nil {
		return err
	}
	b.print(os.Stdout, time.Since(start))
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/internal/progress"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// bulkMode is `unicat import --bulk`: auto, always or never.
type bulkMode string

func (m bulkMode) valid() error {
	switch m {
	case "auto", "always", "never":
		return nil
	}
	return fmt.Errorf("--bulk %q: want auto, always or never", string(m))
}

// chooseBulk decides whether the import of jobs (format as --format
// gives it) into cat goes in bulk (catalog.UseBulk).
func chooseBulk(m bulkMode, cat *catalog.Catalog, jobs []importJob, format string) (bool, error) {
	switch m {
	case "always":
		return true, nil
	case "never":
		return false, nil
	}
	var incoming int64
	for _, j := range jobs {
		for _, p := range j.paths {
			fi, err := os.Stat(p)
			if err != nil {
				continue // the import reports it
			}
			incoming += catalog.EstimateRecords(fi.Size(), readsAsXML(j.format(format), p))
		}
	}
	var stored int
	err := cat.Store().View(func(tx *store.Tx) error {
		var err error
		stored, err = tx.LiveRecords()
		return err
	})
	if err != nil {
		return false, err
	}
	return catalog.UseBulk(incoming, int64(stored)), nil
}

// readsAsXML reports whether a file read in format (auto: by its name)
// is MARCXML, whose records take about three times the bytes.
func readsAsXML(format, path string) bool {
	return format == string(marc.FormatMARCXML) || (format == "auto" && strings.HasSuffix(strings.ToLower(path), ".xml"))
}

// finishBulk builds the derived data of a bulk load, with a progress bar
// per phase on stderr, and prints what it did on stdout.
func finishBulk(ctx context.Context, cat *catalog.Catalog, stdout, stderr io.Writer) error {
	show, done := phaseBars(stderr, "build: ")
	stats, err := cat.FinishBulk(ctx, show)
	done()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bulk build: %d record(s) into %d union record(s) (%d deleted or merged away), %d indexed; dedup %s, search %s, OAI-PMH %s\n",
		stats.Dedup.Records, stats.Dedup.Live, stats.Dedup.Deleted, stats.Indexed,
		stats.Took["dedup"].Round(time.Millisecond), stats.Took["search"].Round(time.Millisecond), stats.Took["oai"].Round(time.Millisecond))
	return nil
}

// phaseBars returns a progress function of phases, which draws a bar on w
// per phase (labelled prefix+phase), and the function that ends the last.
func phaseBars(w io.Writer, prefix string) (func(phase string, done, total int), func()) {
	var bar *progress.Bar
	phase := ""
	show := func(p string, done, total int) {
		if p != phase || bar == nil {
			if bar != nil {
				bar.Finish()
			}
			bar, phase = progress.New(w, prefix+p, int64(total)), p
		}
		bar.Set(int64(done), int64(done))
	}
	return show, func() {
		if bar != nil {
			bar.Finish()
		}
	}
}

// limitMemory sets the Go runtime's soft memory limit to mb MiB for an
// import or rebuild (import.memory_mb; -1: none, and GOMEMLIMIT in the
// environment wins) and returns what restores the limit before it.
//
// Under that limit the collector's target is raised to bulkGCPercent
// (unless GOGC is set): the limit already bounds the heap, and with the
// default the collector also ran each time the heap doubled in the
// build's steps that hold little, a tenth of the import's CPU.
func limitMemory(mb int) func() {
	if mb <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(int64(mb) << 20)
	setGC := os.Getenv("GOGC") == ""
	var prevGC int
	if setGC {
		prevGC = debug.SetGCPercent(bulkGCPercent)
	}
	return func() {
		debug.SetMemoryLimit(prev)
		if setGC {
			debug.SetGCPercent(prevGC)
		}
	}
}

// bulkGCPercent is the collector's target during an import or rebuild
// under a memory limit. The 1M import, alternating with the default of
// 100: 104.0 and 113.1 s (149.9 and 160.9 user CPU-seconds) against
// 115.5 and 114.8 s (172.8 and 171.6), with the same peak anonymous
// memory, 898 MB, which the limit holds.
const bulkGCPercent = 300

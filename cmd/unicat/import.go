package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/internal/progress"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("import", stderr)
	sourceID := fs.String("source", "", "source id the records belong to")
	format := fs.String("format", "auto", "input format: auto, iso2709 or marcxml")
	all := fs.Bool("all", false, "import every enabled file source from its configured path")
	verbose := fs.Bool("v", false, "print a line for each record whose text was converted, saying from what")
	bulk := fs.String("bulk", "auto", "store the records first and build the union catalog from them once: auto (for a load large against the catalog), always or never")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkFormatFlag(*format); err != nil {
		return err
	}
	if err := bulkMode(*bulk).valid(); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	jobs, err := importJobs(cfg, *all, *sourceID, fs.Args())
	if err != nil {
		return err
	}

	defer limitMemory(cfg.Import.MemoryMB)()
	cat, err := openCatalog(ctx, cfg)
	if err != nil {
		return err
	}
	defer cat.Close()

	inBulk, err := chooseBulk(bulkMode(*bulk), cat, jobs, *format)
	if err != nil {
		return err
	}
	if inBulk {
		if err := cat.BeginBulk(); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "bulk load: records first, then the union catalog built from them once")
	}
	failed, err := runJobs(ctx, cat, jobs, *format, inBulk, *verbose, stdout, stderr)
	if err != nil {
		return err
	}
	if unknown, err := unknownHolders(ctx, cat, cfg); err == nil {
		printUnknownHolders(stdout, unknown)
	}
	if failed {
		return &exitError{code: 1, err: fmt.Errorf("some imports failed or imported nothing")}
	}
	return nil
}

// importJob is one source's files to import.
type importJob struct {
	src   *config.Source
	paths []string
}

// format is the format the job's files are read in: the command's
// --format, unless it is auto and the source configures one.
func (j importJob) format(flag string) string {
	if flag == "auto" && j.src.Format != "" {
		return j.src.Format
	}
	return flag
}

// importJobs lists what an import does: every enabled file source from
// its configured path (all), or the files of one source.
func importJobs(cfg *config.Config, all bool, sourceID string, files []string) ([]importJob, error) {
	switch {
	case all:
		if sourceID != "" || len(files) > 0 {
			return nil, fmt.Errorf("--all takes no --source and no files")
		}
		var jobs []importJob
		for i := range cfg.Sources {
			s := &cfg.Sources[i]
			if s.Kind == config.KindFile && !s.Disabled {
				jobs = append(jobs, importJob{s, []string{cfg.Resolve(s.Path)}})
			}
		}
		return jobs, nil
	case sourceID == "":
		return nil, fmt.Errorf("--source is required (or --all)")
	}
	src, ok := cfg.Source(sourceID)
	if !ok {
		return nil, fmt.Errorf("no source %q in %s", sourceID, cfg.Path)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no files to import")
	}
	return []importJob{{src, files}}, nil
}

// runJobs imports the jobs' files into cat, printing each summary, and in
// a bulk load builds the catalog at the end; failed says whether a job
// failed or imported nothing.
func runJobs(ctx context.Context, cat *catalog.Catalog, jobs []importJob, format string, inBulk, verbose bool, stdout, stderr io.Writer) (failed bool, err error) {
	for _, j := range jobs {
		f := j.format(format)
		var perRecord io.Writer
		if verbose {
			perRecord = stdout
		}
		sum, err := importSource(ctx, cat.Store(), j.src, j.paths, f, stderr, perRecord)
		printSummary(stdout, j.src.ID, sum, err)
		if err != nil || sum.Read == 0 || sum.Rejected == sum.Read {
			failed = true
		}
		if ctx.Err() != nil {
			break
		}
	}
	if inBulk {
		if err := ctx.Err(); err != nil {
			// The marker stays: the next open builds what was stored.
			return failed, fmt.Errorf("import interrupted: the union catalog is built at the next start: %w", err)
		}
		if err := finishBulk(ctx, cat, stdout, stderr); err != nil {
			if ctx.Err() != nil {
				return failed, fmt.Errorf("import interrupted during its build: the union catalog is built at the next start: %w", err)
			}
			return failed, err
		}
	}
	return failed, nil
}

// importSource imports one source's files; with perRecord set, a line per
// converted record goes there.
func importSource(ctx context.Context, st *store.Store, src *config.Source, paths []string, format string, stderr, perRecord io.Writer) (ingest.Summary, error) {
	files, err := ingest.Files(paths)
	if err != nil {
		return ingest.Summary{}, err
	}
	bar := progress.New(stderr, "import "+src.ID, filesSize(files))
	opts := ingest.Options{
		Source:         src.ID,
		Charset:        marc.Charset(src.Charset),
		MaxRecordBytes: src.MaxRecordBytes,
		Progress:       func(bytes, records int64) { bar.Set(bytes, records) },
	}
	if perRecord != nil {
		opts.Converted = func(file string, index int, id string, o *marc.Origin) {
			bar.Clear()
			fmt.Fprintf(perRecord, "%s: %s: record %d (%s): %s\n", src.ID, file, index, id, o)
		}
	}
	if format != "auto" {
		opts.Format = marc.Format(format)
	}
	start := time.Now()
	runKey, err := st.BeginRun(src.ID, start)
	if err != nil {
		return ingest.Summary{}, err
	}
	sum, err := ingest.Import(ctx, st, files, opts)
	bar.Finish()
	run := sum.Run(start, time.Now())
	if err != nil {
		run.Err = err.Error()
	}
	if c := ingest.ConvertedLine(sum.Converted); c != "" {
		run.Notes = "converted to UTF-8 NFC: " + c
	}
	if perr := st.EndRun(src.ID, runKey, run); perr != nil && err == nil {
		err = perr
	}
	return sum, err
}

// checkFormatFlag checks the --format of import and check.
func checkFormatFlag(format string) error {
	switch format {
	case "auto", "iso2709", "marcxml":
		return nil
	}
	return fmt.Errorf("--format %q: want auto, iso2709 or marcxml", format)
}

// filesSize is the files' size in all, for a progress bar: those it
// cannot stat count nothing (reading them reports why).
func filesSize(files []string) int64 {
	var total int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			total += fi.Size()
		}
	}
	return total
}

func printSummary(w io.Writer, source string, s ingest.Summary, err error) {
	fmt.Fprintf(w, "%s: %d file(s), %d bytes: read %d, added %d, updated %d, unchanged %d, deleted %d, rejected %d, duplicate %d\n",
		source, s.Files, s.Bytes, s.Read, s.Added, s.Updated, s.Unchanged, s.Deleted, s.Rejected, s.Duplicates)
	printDetails(w, s, err)
}

// printDetails writes what a summary holds record by record: the
// conversions, rejects, duplicates and warnings, and the error that ended
// the run.
func printDetails(w io.Writer, s ingest.Summary, err error) {
	if c := ingest.ConvertedLine(s.Converted); c != "" {
		fmt.Fprintf(w, "  converted to UTF-8 NFC: %s\n", c)
	}
	for _, r := range s.Rejects {
		fmt.Fprintf(w, "  rejected: %s\n", r)
	}
	if s.Rejected > len(s.Rejects) {
		fmt.Fprintf(w, "  ... and %d more rejected\n", s.Rejected-len(s.Rejects))
	}
	for _, r := range s.DuplicateRecords {
		fmt.Fprintf(w, "  duplicate: %s\n", r)
	}
	if s.Duplicates > len(s.DuplicateRecords) {
		fmt.Fprintf(w, "  ... and %d more duplicates\n", s.Duplicates-len(s.DuplicateRecords))
	}
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	if err != nil {
		fmt.Fprintf(w, "  error: %v\n", err)
	}
}

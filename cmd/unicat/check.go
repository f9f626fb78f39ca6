package main

import (
	"context"
	"fmt"
	"io"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/internal/progress"
	"github.com/unicat/unicat/marc"
)

// runCheck reads MARC files as `unicat import` would and stores nothing:
// what a library sent can be looked at before it is loaded, every record
// an import would reject listed with its file, number, offset and reason.
// With --source the files are read with that source's settings (charset,
// format, largest record). The exit status is 1 when a record would be
// rejected or the files hold none.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("check", stderr)
	sourceID := fs.String("source", "", "read the files with this source's settings (charset, format, max_record_bytes)")
	format := fs.String("format", "auto", "input format: auto, iso2709 or marcxml")
	charset := fs.String("charset", "", "the files' charset, overriding detection (as a source's charset setting)")
	verbose := fs.Bool("v", false, "print a line for each record whose text would be converted, saying from what")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkFormatFlag(*format); err != nil {
		return err
	}
	if *cfgPath != "" && *sourceID == "" {
		// A configuration holds no settings but a source's for check.
		return fmt.Errorf("--config %s: check reads a configuration only for --source's settings; name the source", *cfgPath)
	}
	if !config.ValidCharset(*charset) {
		return fmt.Errorf("--charset %q: not a charset setting (see a source's charset in the configuration)", *charset)
	}
	files, err := ingest.Files(fs.Args())
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no files to check")
	}
	label := "check"
	src := &config.Source{}
	if *sourceID != "" {
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		var ok bool
		if src, ok = cfg.Source(*sourceID); !ok {
			return fmt.Errorf("no source %q in %s", *sourceID, cfg.Path)
		}
		label = src.ID
	}
	opts := ingest.Options{Source: src.ID, Charset: marc.Charset(src.Charset), MaxRecordBytes: src.MaxRecordBytes}
	if *charset != "" {
		opts.Charset = marc.Charset(*charset)
	}
	if f := (importJob{src: src}).format(*format); f != "auto" {
		opts.Format = marc.Format(f)
	}
	bar := progress.New(stderr, label, filesSize(files))
	opts.Progress = func(bytes, records int64) { bar.Set(bytes, records) }
	if *verbose {
		opts.Converted = func(file string, index int, id string, o *marc.Origin) {
			bar.Clear()
			fmt.Fprintf(stdout, "%s: record %d (%s): %s\n", file, index, id, o)
		}
	}
	sum, err := ingest.Check(ctx, files, opts)
	bar.Finish()
	printCheck(stdout, label, sum, err)
	switch {
	case err != nil:
		return &exitError{code: 1, err: err}
	case sum.Read == 0:
		return &exitError{code: 1, err: fmt.Errorf("no records in %d file(s)", sum.Files)}
	case sum.Rejected > 0:
		return &exitError{code: 1, err: fmt.Errorf("%d of %d records would be rejected", sum.Rejected, sum.Read)}
	}
	return nil
}

// printCheck writes a check's summary as printSummary writes an import's.
func printCheck(w io.Writer, label string, s ingest.Summary, err error) {
	fmt.Fprintf(w, "%s: %d file(s), %d bytes: read %d, to import %d, rejected %d, duplicate %d\n",
		label, s.Files, s.Bytes, s.Read, s.Read-s.Rejected-s.Duplicates, s.Rejected, s.Duplicates)
	printDetails(w, s, err)
}

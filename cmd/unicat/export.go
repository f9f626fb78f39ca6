package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"github.com/unicat/unicat/admin"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/export"
	"github.com/unicat/unicat/marc"
)

// runExport writes the stored records of a source, of every source or the
// union records to a file. When the service is stopped it opens the store
// itself; when `unicat serve` holds the file it asks the running service
// through the admin API (POST /admin/export), with the same output.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("export", stderr)
	sourceID := fs.String("source", "", "export only this source (default: all sources)")
	format := fs.String("format", "iso2709", "output format: iso2709 or marcxml")
	out := fs.String("o", "", "output file (default: standard output)")
	union := fs.Bool("union", false, "export the union records (one per work, with every holding library) instead of the source records")
	base := fs.String("url", "", "the running service's base URL, when it holds the store (default: http://http.addr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	opts := export.Options{Source: *sourceID, Union: *union, Format: marc.Format(*format)}
	if opts.Format != marc.FormatISO2709 && opts.Format != marc.FormatMARCXML {
		return fmt.Errorf("--format %q: want iso2709 or marcxml", *format)
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *union && *sourceID != "" {
		return fmt.Errorf("--union and --source exclude each other")
	}
	if *sourceID != "" {
		if _, ok := cfg.Source(*sourceID); !ok {
			return fmt.Errorf("no source %q in %s", *sourceID, cfg.Path)
		}
	}
	skip := func(reason string) { fmt.Fprintf(stderr, "skipped %s\n", reason) }
	write := func(w io.Writer) (n, skipped int, err error) {
		cat, err := openCatalog(ctx, cfg)
		if err != nil {
			return 0, 0, err
		}
		defer cat.Close()
		n, err = export.Write(ctx, cat, opts, w, func(reason string) { skipped++; skip(reason) })
		return n, skipped, err
	}
	if locked(cfg.StorePath()) {
		write = func(w io.Writer) (int, int, error) { return exportRemote(ctx, cfg, *base, opts, w, skip) }
	}

	w := stdout
	var file *os.File
	if *out != "" {
		file, err = os.Create(*out)
		if err != nil {
			return err
		}
		defer file.Close()
		w = file
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	n, skipped, err := write(bw)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "exported %d record(s)", n)
	if skipped > 0 {
		fmt.Fprintf(stderr, ", %d skipped (see above)", skipped)
	}
	fmt.Fprintln(stderr)
	return nil
}

// exportRemote streams the export from the admin API into w and reports
// the records the service left out to skip; an answer without the
// trailers that close a complete export is an error.
func exportRemote(ctx context.Context, cfg *config.Config, base string, opts export.Options, w io.Writer, skip func(string)) (n, skipped int, err error) {
	q := url.Values{"format": {string(opts.Format)}}
	if opts.Source != "" {
		q.Set("source", opts.Source)
	}
	if opts.Union {
		q.Set("union", "1")
	}
	resp, err := adminCall(ctx, cfg, base, http.MethodPost, "/admin/export?"+q.Encode())
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	req := "POST " + resp.Request.URL.String()
	got, err := io.Copy(w, resp.Body)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: after %d bytes: %w", req, got, err)
	}
	tr := resp.Trailer
	if t := tr.Get(admin.ExportBytesTrailer); t != strconv.FormatInt(got, 10) {
		return 0, 0, fmt.Errorf("%s: the export was cut short (%d bytes received, service says %q)", req, got, t)
	}
	n, err1 := strconv.Atoi(tr.Get(admin.ExportRecordsTrailer))
	skipped, err2 := strconv.Atoi(tr.Get(admin.ExportSkippedCount))
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%s: no record counts in the answer's trailers", req)
	}
	named := tr.Values(admin.ExportSkippedTrailer)
	for _, reason := range named {
		skip(reason)
	}
	if more := skipped - len(named); more > 0 {
		skip(fmt.Sprintf("... and %d more records (the service names the first %d)", more, len(named)))
	}
	return n, skipped, nil
}

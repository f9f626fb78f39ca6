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

// rederiveRecords is `unicat reindex --records`: every source's records
// (or one source's) derived again from the bytes their source sent, with
// the source's charset setting as configured now, without harvesting
// again. The records that change are applied as ordinary updates, so the
// union catalog, the search index and OAI-PMH follow.
func rederiveRecords(ctx context.Context, cfg *config.Config, only string, verbose bool, stdout, stderr io.Writer) error {
	var sources []*config.Source
	for i := range cfg.Sources {
		if only == "" || cfg.Sources[i].ID == only {
			sources = append(sources, &cfg.Sources[i])
		}
	}
	if len(sources) == 0 {
		return fmt.Errorf("no source %q in the configuration", only)
	}
	cat, err := openCatalog(ctx, cfg)
	if err != nil {
		return err
	}
	defer cat.Close()
	for _, src := range sources {
		bar := progress.New(stderr, "reindex --records "+src.ID, 0)
		opts := ingest.RederiveOptions{Source: src.ID, Charset: marc.Charset(src.Charset),
			Progress: func(n int64) { bar.Set(n, n) }}
		if verbose {
			opts.Changed = func(id, was, now string) {
				bar.Clear()
				fmt.Fprintf(stdout, "%s: %s: %s, now %s\n", src.ID, id, was, now)
			}
		}
		sum, err := ingest.Rederive(ctx, cat.Store(), opts)
		bar.Finish()
		fmt.Fprintf(stdout, "%s: %d records read, %d updated, %d not decodable (kept)\n", src.ID, sum.Read, sum.Updated, sum.Failed)
		if c := ingest.ConvertedLine(sum.Converted); c != "" {
			fmt.Fprintf(stdout, "  converted to UTF-8 NFC: %s\n", c)
		}
		for _, f := range sum.Failures {
			fmt.Fprintf(stdout, "  not decodable: %s\n", f)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

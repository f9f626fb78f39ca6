package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/sru"
	"github.com/unicat/unicat/store"
)

// runReindex rebuilds the search index from the stored union records, or
// with --records derives the source records again from what their
// sources sent (see rederiveRecords).
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("reindex", stderr)
	records := fs.Bool("records", false, "derive every stored record again from what its source sent, with each source's charset setting and this build's detector, updating those that change")
	source := fs.String("source", "", "with --records: only this source")
	verbose := fs.Bool("v", false, "with --records: print a line per record that changes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *records {
		return rederiveRecords(ctx, cfg, *source, *verbose, stdout, stderr)
	}
	if *source != "" {
		return fmt.Errorf("--source goes with --records")
	}
	// The union records are only read: no deduplication hook is needed,
	// and none may run while the index is rebuilt.
	st, err := store.Open(cfg.StorePath(), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := rebuildIndex(ctx, st, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "indexed %d union record(s)\n", n)
	return nil
}

// rebuildIndex rebuilds the search index with a progress bar on w.
func rebuildIndex(ctx context.Context, st *store.Store, w io.Writer) (int, error) {
	show, done := phaseBars(w, "reindex: ")
	defer done()
	return catalog.RebuildIndex(ctx, st, show)
}

// sruHandler serves SRU over the catalog's union records; while
// unavailable (when not nil) gives a reason, searches and scans are
// answered with it (sru.Config.Unavailable).
func sruHandler(cat catalog.Reader, cfg *config.Config, unavailable func() string, log *slog.Logger) *sru.Server {
	return sru.New(sru.Config{
		Catalog:        cat,
		DefaultRecords: cfg.SRU.DefaultRecords,
		MaxRecords:     cfg.SRU.MaxRecords,
		Log:            log,
		Unavailable:    unavailable,
	})
}

// mountSRU serves s at /sru (GET and POST).
func mountSRU(r *gin.Engine, s *sru.Server) {
	r.GET("/sru", gin.WrapH(s))
	r.POST("/sru", gin.WrapH(s))
}

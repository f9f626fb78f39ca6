package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/gin-gonic/gin"
	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/internal/progress"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
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
	n, err := rebuildIndex(st, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "indexed %d union record(s)\n", n)
	return nil
}

// rebuildIndex rebuilds the index with a progress bar on w.
func rebuildIndex(st *store.Store, w io.Writer) (int, error) {
	var total int64
	err := st.View(func(tx *store.Tx) error {
		live, _, err := dedup.Count(tx.Bolt())
		total = int64(live)
		return err
	})
	if err != nil {
		return 0, err
	}
	var bar *progress.Bar
	phase := ""
	n, err := search.New().Rebuild(st, search.RebuildOptions{
		TempDir: filepath.Dir(st.Path()),
		Progress: func(p string, done int) {
			if p != phase {
				if bar != nil {
					bar.Finish()
				}
				label := map[string]string{"read": "reindex: read", "write": "reindex: write"}[p]
				bar, phase = progress.New(w, label, total), p
			}
			bar.Set(int64(done), int64(done))
		},
	})
	if bar != nil {
		bar.Finish()
	}
	return n, err
}

// ensureIndex rebuilds the search index when it is missing, was built by
// another version or does not hold every union record (a store from
// before the index existed), so that searches and incremental updates
// start from a complete index.
func ensureIndex(st *store.Store) error {
	var needed bool
	err := st.View(func(tx *store.Tx) error {
		var err error
		needed, err = search.New().NeedsRebuild(tx.Bolt())
		return err
	})
	if err != nil || !needed {
		return err
	}
	_, err = rebuildIndex(st, io.Discard)
	return err
}

// sruHandler serves SRU over the store's union records.
func sruHandler(st *store.Store, cfg *config.Config, log *slog.Logger) *sru.Server {
	return sru.New(sru.Config{
		Index: search.New(),
		View: func(fn func(*bbolt.Tx) error) error {
			return st.View(func(tx *store.Tx) error { return fn(tx.Bolt()) })
		},
		Fetch:          fetchUnion,
		DefaultRecords: cfg.SRU.DefaultRecords,
		MaxRecords:     cfg.SRU.MaxRecords,
		Log:            log,
	})
}

// fetchUnion returns the served record of a live union record.
func fetchUnion(tx *bbolt.Tx, id string) (*marc.Record, error) {
	u, err := dedup.Get(tx, id)
	if err != nil || u == nil || u.Deleted {
		return nil, err
	}
	return u.Record, nil
}

// mountSRU serves s at /sru (GET and POST).
func mountSRU(r *gin.Engine, s *sru.Server) {
	r.GET("/sru", gin.WrapH(s))
	r.POST("/sru", gin.WrapH(s))
}

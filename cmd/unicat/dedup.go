package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
)

// rebuildClusters recomputes every cluster, its union record and the
// indexes, as the build of a bulk load does (catalog.Catalog.FinishBulk),
// which keeps memory to a chunk of union records at a time and leaves the
// catalog marked as being built until the end.
func rebuildClusters(ctx context.Context, cat *catalog.Catalog, stdout, stderr io.Writer) error {
	if err := cat.BeginBulk(); err != nil {
		return err
	}
	show, done := phaseBars(stderr, "rebuild: ")
	stats, err := cat.FinishBulk(ctx, show)
	done()
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("rebuild interrupted: it is completed at the next start: %w", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rebuilt %d record(s) into %d union record(s) (%d deleted or merged away); %d changed\n",
		stats.Dedup.Records, stats.Dedup.Live, stats.Dedup.Deleted, stats.Dedup.Changed)
	return nil
}

// runDedup explains a cluster or rebuilds them all. While `unicat serve`
// holds the store, --explain asks the running service (GET
// /admin/explain); --rebuild needs the service stopped.
func runDedup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("dedup", stderr)
	explain := fs.String("explain", "", "print the cluster of a union id (u…) or a member record (source:localid)")
	rebuild := fs.Bool("rebuild", false, "recompute every cluster from the stored records, keeping union ids where possible")
	base := fs.String("url", "", "the running service's base URL, for --explain when it holds the store (default: http://http.addr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if (*explain == "") == !*rebuild {
		return &exitError{code: 2, err: fmt.Errorf("give exactly one of --explain ID and --rebuild")}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if *explain != "" && locked(cfg.StorePath()) {
		return explainRemote(ctx, cfg, *base, *explain, stdout)
	}
	cat, err := openCatalog(ctx, cfg)
	if err != nil {
		return err
	}
	defer cat.Close()
	if *rebuild {
		defer limitMemory(cfg.Import.MemoryMB)()
		return rebuildClusters(ctx, cat, stdout, stderr)
	}
	return cat.View(ctx, func(snap catalog.Snapshot) error {
		ex, err := snap.Explain(*explain)
		if err != nil {
			return err
		}
		if ex == nil {
			return fmt.Errorf("no union record or member record %q", *explain)
		}
		return ex.Write(stdout)
	})
}

// explainRemote asks the running service for the explanation of id
// (GET /admin/explain) and prints it as --explain does.
func explainRemote(ctx context.Context, cfg *config.Config, base, id string, stdout io.Writer) error {
	resp, err := adminCall(ctx, cfg, base, http.MethodGet, "/admin/explain?id="+url.QueryEscape(id))
	var ae *adminError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return fmt.Errorf("no union record or member record %q", id)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(stdout, resp.Body)
	return err
}

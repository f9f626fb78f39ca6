package main

import (
	"context"
	"fmt"
	"io"

	"github.com/unicat/unicat/oaipmh"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/internal/progress"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// runDedup explains a cluster or rebuilds them all.
func runDedup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("dedup", stderr)
	explain := fs.String("explain", "", "print the cluster of a union id (u…) or a member record (source:localid)")
	rebuild := fs.Bool("rebuild", false, "recompute every cluster from the stored records, keeping union ids where possible")
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
	d := dedup.New(dedup.OptionsFromConfig(cfg))
	var bar *progress.Bar
	if *rebuild {
		d.RebuildOnInit(func(done, total int) {
			if bar == nil {
				bar = progress.New(stderr, "rebuild", int64(total))
			}
			bar.Set(int64(done), int64(done))
		})
	}
	st, err := openStoreWith(cfg, d, oaipmh.NewIndex())
	if err != nil {
		return err
	}
	defer st.Close()
	if *rebuild {
		if bar != nil {
			bar.Finish()
		}
		stats, _ := d.LastRebuild()
		fmt.Fprintf(stdout, "rebuilt %d record(s) into %d union record(s) (%d deleted or merged away); %d changed\n",
			stats.Records, stats.Live, stats.Deleted, stats.Changed)
		return nil
	}
	return st.View(func(tx *store.Tx) error {
		ex, err := dedup.Explain(tx.Bolt(), *explain)
		if err != nil {
			return err
		}
		if ex == nil {
			return fmt.Errorf("no union record or member record %q", *explain)
		}
		return ex.Write(stdout)
	})
}

// exportUnion writes every live union record in one read transaction.
// source is unused (the flags exclude it); it keeps exportRecords' shape.
func exportUnion(ctx context.Context, st *store.Store, _ string, format marc.Format, w io.Writer, stderr io.Writer) (n, skipped int, err error) {
	var xw *marc.XMLWriter
	if format == marc.FormatMARCXML {
		xw = marc.NewXMLWriter(w)
	}
	var buf []byte
	err = st.View(func(tx *store.Tx) error {
		return dedup.ForEachUnion(tx.Bolt(), func(u *dedup.UnionRecord) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if u.Deleted {
				return nil
			}
			if xw != nil {
				if err := xw.Write(u.Record); err != nil {
					return err
				}
			} else {
				buf, err = marc.AppendISO2709(buf[:0], u.Record)
				if err != nil {
					skipped++
					fmt.Fprintf(stderr, "skipped %s: %v (export it as marcxml)\n", u.ID, err)
					return nil
				}
				if _, err := w.Write(buf); err != nil {
					return err
				}
			}
			n++
			return nil
		})
	})
	if err == nil && xw != nil {
		err = xw.Close()
	}
	return n, skipped, err
}

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("export", stderr)
	sourceID := fs.String("source", "", "export only this source (default: all sources)")
	format := fs.String("format", "iso2709", "output format: iso2709 or marcxml")
	out := fs.String("o", "", "output file (default: standard output)")
	union := fs.Bool("union", false, "export the union records (one per work, with every holding library) instead of the source records")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *format != "iso2709" && *format != "marcxml" {
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
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()

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
	export := exportRecords
	if *union {
		export = exportUnion
	}
	n, skipped, err := export(ctx, st, *sourceID, marc.Format(*format), bw, stderr)
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

// exportRecords writes every live record of source ("" = all) in one read
// transaction, so the export is a consistent snapshot even while a
// harvest writes.
func exportRecords(ctx context.Context, st *store.Store, source string, format marc.Format, w io.Writer, stderr io.Writer) (n, skipped int, err error) {
	var xw *marc.XMLWriter
	if format == marc.FormatMARCXML {
		xw = marc.NewXMLWriter(w)
	}
	var buf []byte
	err = st.View(func(tx *store.Tx) error {
		return tx.ForEachRecord(source, func(sr *store.SourceRecord) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if sr.Deleted {
				return nil
			}
			rec, err := sr.Record()
			if err != nil {
				skipped++
				fmt.Fprintf(stderr, "skipped %s/%s: %v\n", sr.Source, sr.LocalID, err)
				return nil
			}
			if xw != nil {
				if err := xw.Write(rec); err != nil {
					return err
				}
			} else {
				buf, err = marc.AppendISO2709(buf[:0], rec)
				if err != nil {
					// Too long for ISO 2709: say so and carry on.
					skipped++
					fmt.Fprintf(stderr, "skipped %s/%s: %v (export it as marcxml)\n", sr.Source, sr.LocalID, err)
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

// Package export writes the stored records out as MARC files: one
// source's records, every source's, or the union records with their
// holdings, in ISO 2709 or MARCXML, from one read transaction, so that an
// export is a consistent snapshot even while a harvest writes. `unicat
// export` runs it on the store file; the admin API runs it inside the
// service (POST /admin/export), which `unicat export` asks while the
// service holds the store.
package export

import (
	"context"
	"fmt"
	"io"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// Options say what to export.
type Options struct {
	Source string      // one source's records; "" every source's
	Union  bool        // the union records instead (Source must be "")
	Format marc.Format // marc.FormatISO2709 or marc.FormatMARCXML
}

// Check reports what is wrong with opts, in the words of the command's
// flags.
func (o Options) Check() error {
	if o.Format != marc.FormatISO2709 && o.Format != marc.FormatMARCXML {
		return fmt.Errorf("format %q: want iso2709 or marcxml", o.Format)
	}
	if o.Union && o.Source != "" {
		return fmt.Errorf("union and source exclude each other")
	}
	return nil
}

// Write writes the records opts name to w and returns how many it wrote.
// A record that cannot be written (it does not decode, or is too long for
// ISO 2709) is left out and reported to skip, with its id and why; the
// export goes on.
func Write(ctx context.Context, cat catalog.Reader, opts Options, w io.Writer, skip func(reason string)) (int, error) {
	if err := opts.Check(); err != nil {
		return 0, err
	}
	rw := &recordWriter{w: w, skip: skip}
	if opts.Format == marc.FormatMARCXML {
		rw.xw = marc.NewXMLWriter(w)
	}
	err := cat.View(ctx, func(snap catalog.Snapshot) error {
		if opts.Union {
			return snap.ForEachUnion(ctx, func(u *dedup.UnionRecord) error {
				if u.Deleted {
					return nil
				}
				return rw.write(u.ID, u.Record)
			})
		}
		return snap.ForEachRecord(ctx, opts.Source, func(sr *store.SourceRecord) error {
			if sr.Deleted {
				return nil
			}
			id := sr.Source + "/" + sr.LocalID
			rec, err := sr.Record()
			if err != nil {
				skip(fmt.Sprintf("%s: %v", id, err))
				return nil
			}
			return rw.write(id, rec)
		})
	})
	if err == nil && rw.xw != nil {
		err = rw.xw.Close()
	}
	return rw.n, err
}

// recordWriter writes records in one format, counting them.
type recordWriter struct {
	w    io.Writer
	xw   *marc.XMLWriter // nil: ISO 2709
	buf  []byte
	n    int
	skip func(string)
}

func (rw *recordWriter) write(id string, rec *marc.Record) error {
	if rw.xw != nil {
		if err := rw.xw.Write(rec); err != nil {
			return err
		}
		rw.n++
		return nil
	}
	var err error
	rw.buf, err = marc.AppendISO2709(rw.buf[:0], rec)
	if err != nil {
		// Too long for ISO 2709: say so and carry on.
		rw.skip(fmt.Sprintf("%s: %v (export it as marcxml)", id, err))
		return nil
	}
	if _, err := rw.w.Write(rw.buf); err != nil {
		return err
	}
	rw.n++
	return nil
}

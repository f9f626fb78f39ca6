package corpus

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/unicat/unicat/marc"
)

// TruthFile and LibrariesFile are the names WriteDir gives the truth and
// the library list.
const (
	TruthFile     = "truth.tsv"
	LibrariesFile = "libraries.tsv"
)

// TruthHeader is the first line of a truth file. Each following line is
// one record: source id, local id (001), work, kind, variation.
const TruthHeader = "source\tlocal_id\twork\tkind\tvariation"

// FileName returns the name of library lib's export file in a corpus
// directory.
func FileName(lib Library, f marc.Format) string {
	if f == marc.FormatMARCXML {
		return lib.ID + ".xml"
	}
	return lib.ID + ".mrc"
}

// WriteDir generates the corpus of opts into dir: one export file per
// library (see FileName), the truth (TruthFile) and the libraries
// (LibrariesFile). progress, when not nil, is called every 10,000
// records.
func WriteDir(dir string, opts Options, format marc.Format, progress func(done int)) (Stats, error) {
	g, err := New(opts)
	if err != nil {
		return Stats{}, err
	}
	if format != marc.FormatISO2709 && format != marc.FormatMARCXML {
		return Stats{}, fmt.Errorf("corpus: unknown format %q", format)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Stats{}, fmt.Errorf("corpus: %w", err)
	}
	var closers []func() error
	fail := func(err error) (Stats, error) {
		for _, c := range closers {
			c()
		}
		return Stats{}, err
	}
	create := func(name string) (*os.File, error) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		closers = append(closers, f.Close)
		return f, nil
	}
	libs := g.Libraries()
	lf, err := create(LibrariesFile)
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(lf, "source\tcode\torg\tlevel\tname\tfile")
	for _, l := range libs {
		fmt.Fprintf(lf, "%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Code, l.Org, l.Level, l.Name, FileName(l, format))
	}
	tf, err := create(TruthFile)
	if err != nil {
		return fail(err)
	}
	truth := bufio.NewWriterSize(tf, 64<<10)
	fmt.Fprintln(truth, TruthHeader)
	type out struct {
		write func(*marc.Record) error
		end   func() error
	}
	outs := make([]out, len(libs))
	for i, l := range libs {
		f, err := create(FileName(l, format))
		if err != nil {
			return fail(err)
		}
		if format == marc.FormatMARCXML {
			w := marc.NewXMLWriter(f)
			outs[i] = out{w.Write, w.Close}
		} else {
			w := marc.NewISO2709Writer(f)
			outs[i] = out{w.Write, w.Flush}
		}
	}
	for {
		it, err := g.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		if err := outs[it.Library].write(it.Record); err != nil {
			return fail(fmt.Errorf("corpus: write %s %s: %w", libs[it.Library].ID, it.LocalID, err))
		}
		fmt.Fprintf(truth, "%s\t%s\t%s\t%s\t%s\n", libs[it.Library].ID, it.LocalID, it.Work, it.Kind, strings.ReplaceAll(it.Variation, "\t", " "))
		if progress != nil && g.stats.Records%10000 == 0 {
			progress(g.stats.Records)
		}
	}
	for _, o := range outs {
		if err := o.end(); err != nil {
			return fail(fmt.Errorf("corpus: %w", err))
		}
	}
	if err := truth.Flush(); err != nil {
		return fail(fmt.Errorf("corpus: %w", err))
	}
	for _, c := range closers {
		if err := c(); err != nil {
			return Stats{}, fmt.Errorf("corpus: %w", err)
		}
	}
	return g.Stats(), nil
}

// TruthRow is one line of a truth file.
type TruthRow struct {
	Source, LocalID, Work, Kind, Variation string
}

// ReadTruth calls fn for every row of a truth file, in order.
func ReadTruth(r io.Reader, fn func(TruthRow) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			if sc.Text() != TruthHeader {
				return fmt.Errorf("corpus: truth: line 1 is %q, not the header", sc.Text())
			}
			continue
		}
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 5 {
			return fmt.Errorf("corpus: truth: line %d has %d columns, want 5", line, len(p))
		}
		if err := fn(TruthRow{p[0], p[1], p[2], p[3], p[4]}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("corpus: truth: %w", err)
	}
	if line == 0 {
		return errors.New("corpus: truth: empty file")
	}
	return nil
}

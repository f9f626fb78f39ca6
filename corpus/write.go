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
	w := &dirWriter{dir: dir, format: format, libs: g.Libraries()}
	err = w.open()
	if err == nil {
		err = w.writeRecords(g, progress)
	}
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		w.abort()
		return Stats{}, err
	}
	if err := w.close(); err != nil {
		return Stats{}, err
	}
	return g.Stats(), nil
}

// dirWriter writes the files of a corpus directory.
type dirWriter struct {
	dir     string
	format  marc.Format
	libs    []Library
	closers []func() error // of every file created, in order
	truth   *bufio.Writer
	exports []recordWriter // by library
}

// recordWriter writes one library's export file.
type recordWriter struct {
	write func(*marc.Record) error
	end   func() error
}

func (w *dirWriter) create(name string) (*os.File, error) {
	f, err := os.Create(filepath.Join(w.dir, name))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	w.closers = append(w.closers, f.Close)
	return f, nil
}

// open writes the library list and creates the truth and every export
// file.
func (w *dirWriter) open() error {
	lf, err := w.create(LibrariesFile)
	if err != nil {
		return err
	}
	fmt.Fprintln(lf, "source\tcode\torg\tlevel\tname\tfile")
	for _, l := range w.libs {
		fmt.Fprintf(lf, "%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Code, l.Org, l.Level, l.Name, FileName(l, w.format))
	}
	tf, err := w.create(TruthFile)
	if err != nil {
		return err
	}
	w.truth = bufio.NewWriterSize(tf, 64<<10)
	fmt.Fprintln(w.truth, TruthHeader)
	w.exports = make([]recordWriter, len(w.libs))
	for i, l := range w.libs {
		f, err := w.create(FileName(l, w.format))
		if err != nil {
			return err
		}
		if w.format == marc.FormatMARCXML {
			xw := marc.NewXMLWriter(f)
			w.exports[i] = recordWriter{xw.Write, xw.Close}
		} else {
			iw := marc.NewISO2709Writer(f)
			w.exports[i] = recordWriter{iw.Write, iw.Flush}
		}
	}
	return nil
}

// writeRecords writes every record of g to its library's file and its
// line of the truth.
func (w *dirWriter) writeRecords(g *Generator, progress func(done int)) error {
	for {
		it, err := g.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		lib := w.libs[it.Library]
		if err := w.exports[it.Library].write(it.Record); err != nil {
			return fmt.Errorf("corpus: write %s %s: %w", lib.ID, it.LocalID, err)
		}
		fmt.Fprintf(w.truth, "%s\t%s\t%s\t%s\t%s\n", lib.ID, it.LocalID, it.Work, it.Kind, strings.ReplaceAll(it.Variation, "\t", " "))
		if progress != nil && g.stats.Records%10000 == 0 {
			progress(g.stats.Records)
		}
	}
}

// flush ends every export file and writes out the truth.
func (w *dirWriter) flush() error {
	for _, e := range w.exports {
		if err := e.end(); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	if err := w.truth.Flush(); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	return nil
}

// close closes every file, reporting the first that fails.
func (w *dirWriter) close() error {
	for _, c := range w.closers {
		if err := c(); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	return nil
}

// abort closes every file after a failure, whose error is the one
// reported.
func (w *dirWriter) abort() {
	for _, c := range w.closers {
		c()
	}
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

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/unicat/unicat/corpus"
	"github.com/unicat/unicat/marc"
)

// runGen writes a generated corpus (package corpus): one export file per
// member library, the truth and the library list.
func runGen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs, _ := newFlags("gen", stderr)
	n := fs.Int("n", 10000, "number of records")
	libs := fs.Int("libraries", 20, "number of member libraries")
	seed := fs.Uint64("seed", 1, "seed: one seed, one corpus")
	format := fs.String("format", "iso2709", "iso2709 | marcxml")
	out := fs.String("o", "", "output directory (required)")
	dup := fs.Float64("dup", 0.3, "share of records that re-catalogue a work another library holds")
	look := fs.Float64("lookalike", 0.05, "share of records that are look-alikes (other edition, volume, author, reprint)")
	vocab := fs.String("vocab", "testdata/vietnamese,testdata/marc", "comma-separated MARC files or directories whose titles, names and subjects join the built-in vocabulary (missing ones are skipped)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return errors.New("usage: unicat gen -o DIR [-n N] [-libraries M] [-seed S] [-format iso2709|marcxml]")
	}
	f := marc.Format(*format)
	if f != marc.FormatISO2709 && f != marc.FormatMARCXML {
		return fmt.Errorf("unknown format %q (iso2709 or marcxml)", *format)
	}
	// Zero means "the default" to corpus.Options; here 0 means none.
	neg := func(x float64) float64 {
		if x == 0 {
			return -1
		}
		return x
	}
	v := corpus.Builtin()
	var paths []string
	for _, p := range strings.Split(*vocab, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintf(stderr, "unicat gen: vocabulary %s skipped: %v\n", p, err)
			continue
		}
		paths = append(paths, p)
	}
	used, err := v.FromFiles(paths...)
	if err != nil {
		return err
	}
	start := time.Now()
	st, err := corpus.WriteDir(*out, corpus.Options{
		Records: *n, Libraries: *libs, Seed: *seed,
		DuplicateShare: neg(*dup), LookAlikeShare: neg(*look), Vocabulary: v,
	}, f, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d records (%d originals, %d copies, %d look-alikes; %d works) over %d libraries in %s, %s; vocabulary from %d real records; %.1fs\n",
		st.Records, st.Originals, st.Copies, st.LookAlike, st.Works, *libs, *out, f, used, time.Since(start).Seconds())
	return nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/unicat/unicat/internal/progress"
	"github.com/unicat/unicat/store"
)

// runCompact rewrites the store file without its free space (the service
// must be stopped: the file lock keeps it out meanwhile).
func runCompact(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("compact", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	path := cfg.StorePath()
	fmt.Fprintf(stderr, "compacting %s (about a minute per million records)\n", path)
	start := time.Now()
	bar := progress.New(stderr, "compact", 0)
	bar.SetUnit("MB")
	st, err := store.Compact(path, func(written, inUse int64) {
		bar.SetTotal(inUse)
		bar.Set(written, written/1e6)
	})
	bar.Finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "compacted %s: %.1f MB → %.1f MB in %v\n", path,
		float64(st.Before)/1e6, float64(st.After)/1e6, time.Since(start).Round(time.Millisecond))
	return nil
}

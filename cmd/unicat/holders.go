package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/dedup"
)

// unknownHolders returns the holding libraries of the union catalog the
// configuration does not describe (codes a source of many libraries
// reports, kept as they are), with the union records each holds.
func unknownHolders(ctx context.Context, cat catalog.Reader, cfg *config.Config) (map[string]int, error) {
	var all map[string]dedup.LibraryCount
	err := cat.View(ctx, func(snap catalog.Snapshot) error {
		var err error
		all, err = snap.LibraryCounts()
		return err
	})
	return undescribed(all, cfg), err
}

// undescribed returns the union records of each holder in all that cfg
// does not describe.
func undescribed(all map[string]dedup.LibraryCount, cfg *config.Config) map[string]int {
	counts := map[string]int{}
	for code, n := range all {
		if _, ok := cfg.Library(code); !ok {
			counts[code] = n.Union
		}
	}
	return counts
}

// printUnknownHolders reports the holders unknownHolders finds, if any.
func printUnknownHolders(w io.Writer, counts map[string]int) {
	if len(counts) == 0 {
		return
	}
	codes := make([]string, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var parts []string
	for _, c := range codes {
		unit := "union records"
		if counts[c] == 1 {
			unit = "union record"
		}
		parts = append(parts, fmt.Sprintf("%s (%d %s)", c, counts[c], unit))
	}
	fmt.Fprintf(w, "holding libraries the configuration does not describe (kept as sent; describe them under libraries:, "+
		"or map them with a source's holder_codes): %s\n", strings.Join(parts, ", "))
}

// unknownMetricRe is a line of /metrics naming a holder of unknown level.
var unknownMetricRe = regexp.MustCompile(`^unicat_library_union_records\{level="unknown",library="((?:[^"\\]|\\.)*)"\} (\d+)`)

// fetchUnknownHolders reads unknownHolders from a running service's
// /metrics, which reports those holders with level "unknown".
func fetchUnknownHolders(ctx context.Context, url string) (map[string]int, error) {
	out := map[string]int{}
	err := fetchService(ctx, url, func(r io.Reader) error {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := unknownMetricRe.FindStringSubmatch(sc.Text()); m != nil {
				if code, err := strconv.Unquote(`"` + m[1] + `"`); err == nil {
					out[code], _ = strconv.Atoi(m[2])
				}
			}
		}
		return sc.Err()
	})
	return out, err
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/store"
)

// runStatus prints every source's last harvest. While `unicat serve` holds
// the store it asks the service instead, which also knows the states and
// the exact next runs.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("status", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	ss, unknown, err := readStatus(ctx, cfg)
	var building serviceBuilding
	if errors.As(err, &building) {
		fmt.Fprintf(stdout, "union catalog: the service is building it (%s); the sources' status follows once it serves\n", building.phase)
		return nil
	}
	if err != nil {
		return err
	}
	if err := harvester.WriteStatus(stdout, ss, time.Now()); err != nil {
		return err
	}
	if buildPending(cfg) {
		fmt.Fprintln(stdout, "union catalog: a bulk load was interrupted before its build: the next start (serve, import, harvest) builds it")
	}
	printUnknownHolders(stdout, unknown)
	return nil
}

// buildPending reports whether the store holds a bulk load whose build
// has not completed (catalog.BuildPending); false when the store cannot be
// read (the service holds it, and readStatus asks it).
func buildPending(cfg *config.Config) bool {
	if _, err := os.Stat(cfg.StorePath()); err != nil {
		return false
	}
	st, err := store.Open(cfg.StorePath(), store.Options{Timeout: time.Second})
	if err != nil {
		return false
	}
	defer st.Close()
	pending := false
	st.View(func(tx *store.Tx) error { pending = catalog.BuildPending(tx); return nil })
	return pending
}

// readStatus returns the sources' status and the holding libraries the
// configuration does not describe, from the store, or from the service
// holding it.
func readStatus(ctx context.Context, cfg *config.Config) ([]harvester.SourceStatus, map[string]int, error) {
	path := cfg.StorePath()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// Nothing harvested yet: show the sources, not an empty store.
		ss := make([]harvester.SourceStatus, 0, len(cfg.Sources))
		for _, s := range cfg.Sources {
			ss = append(ss, harvester.SourceStatus{ID: s.ID, Name: s.Name, Kind: s.Kind, Disabled: s.Disabled, Schedule: s.Schedule})
		}
		return ss, nil, nil
	}
	st, err := store.Open(path, store.Options{Timeout: time.Second})
	if err == nil {
		defer st.Close()
		ss, err := harvester.ReadStatus(st, cfg)
		if err != nil {
			return nil, nil, err
		}
		var all map[string]dedup.LibraryCount
		err = st.View(func(tx *store.Tx) error {
			all, err = dedup.LibraryCounts(tx.Bolt())
			return err
		})
		return ss, undescribed(all, cfg), err
	}
	base := "http://" + cfg.HTTP.Addr
	if phase, ok := buildingService(ctx, base); ok {
		return nil, nil, serviceBuilding{phase}
	}
	ss, herr := fetchStatus(ctx, base+harvestStatusPath)
	if herr != nil {
		return nil, nil, fmt.Errorf("%w; asking the service: %v", err, herr)
	}
	unknown, herr := fetchUnknownHolders(ctx, base+"/metrics")
	if herr != nil {
		return nil, nil, fmt.Errorf("asking the service: %v", herr)
	}
	return ss, unknown, nil
}

// serviceBuilding is readStatus's answer while the service holding the
// store builds the union catalog, and serves nothing else.
type serviceBuilding struct{ phase string }

func (e serviceBuilding) Error() string {
	return "the service is building the union catalog (" + e.phase + ")"
}

// buildingService reports whether the service at base is building the
// union catalog (its /readyz answers 503 naming a build), and the phase.
func buildingService(ctx context.Context, base string) (phase string, ok bool) {
	// A service that does not answer is not building: readStatus's
	// next request says what is wrong.
	_ = askService(ctx, base+"/readyz", func(resp *http.Response) error {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		if m := readyBuildingRe.FindSubmatch(body); resp.StatusCode == http.StatusServiceUnavailable && m != nil {
			phase, ok = string(m[1]), true
		}
		return nil
	})
	return phase, ok
}

// readyBuildingRe reads the phase out of /readyz's answer during a build
// (newRouter).
var readyBuildingRe = regexp.MustCompile(`^building the union catalog \(([^)]*)\)`)

func fetchStatus(ctx context.Context, url string) ([]harvester.SourceStatus, error) {
	var ss []harvester.SourceStatus
	err := fetchService(ctx, url, func(r io.Reader) error { return json.NewDecoder(r).Decode(&ss) })
	return ss, err
}

// fetchService GETs url from the running service and hands the body of
// a 200 answer to read, within ten seconds.
func fetchService(ctx context.Context, url string, read func(io.Reader) error) error {
	return askService(ctx, url, func(resp *http.Response) error {
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		if err := read(resp.Body); err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		return nil
	})
}

// askService GETs url from the running service and hands its answer to
// fn, within ten seconds.
func askService(ctx context.Context, url string, fn func(*http.Response) error) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return fn(resp)
}

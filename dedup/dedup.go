package dedup

import (
	"sync"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/marc"
)

// Source describes one member library's feed, as deduplication needs it.
type Source struct {
	LibraryCode string // written to the union record's 852 $a
	Level       string // province, district or commune: 852 $b and OAI sets
	// Holdings names the tag the source's holdings are read from: "852"
	// (default) or "952" (Koha items).
	Holdings string
	// Priority breaks ties between equally complete master candidates:
	// the higher wins.
	Priority int
}

// Options configure a Deduper.
type Options struct {
	// Sources by source id. A source missing here is described from its
	// store registration (library code and level) with default holdings
	// and priority.
	Sources map[string]Source
	// BadISBNs are ISBNs libraries are known to reuse wrongly (a publisher
	// printing one ISBN in many books, a placeholder typed into every
	// record). They are ignored for matching. Any form NormalizeISBN
	// accepts.
	BadISBNs []string
	// LevelPriority gives the priority of sources not in Sources by level,
	// highest first; nil means province, district, commune.
	LevelPriority []string
}

// Deduper maintains the union catalog: it is a store.Hook that
// re-evaluates the clusters a batch touches inside the batch's
// transaction. Create it with New, add listeners, then register it with
// store.AddHook.
type Deduper struct {
	opts      Options
	badISBN   map[string]bool
	listeners []Listener

	// cache holds decoded profiles across batches; a profile is read for
	// every candidate comparison. It is valid while gen matches the
	// generation stored in the file: a batch that rolls back leaves the
	// stored generation behind, and the next batch starts afresh.
	cache map[string]*profile
	gen   uint64
	// cands is the candidate index (candidates.go), valid for the
	// generation it records.
	cands *candIndex
	// registered holds the descriptions of sources missing from the
	// options, as read from their registration by the last batch (source
	// id → Source), for Prepare, which runs outside transactions.
	registered sync.Map

	forceRebuild bool
	progress     func(done, total int)
	lastRebuild  RebuildStats
	rebuilt      bool
}

// New returns a Deduper configured by opts.
func New(opts Options) *Deduper {
	d := &Deduper{opts: opts, badISBN: map[string]bool{}, cache: map[string]*profile{}}
	for _, s := range opts.BadISBNs {
		if n, _ := marc.NormalizeISBN(s); n != "" {
			d.badISBN[n] = true
		}
	}
	if d.opts.LevelPriority == nil {
		d.opts.LevelPriority = []string{"province", "district", "commune"}
	}
	return d
}

// OptionsFromConfig describes every configured source (library code,
// level, holdings tag, priority from dedup.source_priority) and takes the
// known-bad ISBNs from the configuration.
func OptionsFromConfig(cfg *config.Config) Options {
	opts := Options{Sources: map[string]Source{}, BadISBNs: cfg.Dedup.BadISBNs}
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		opts.Sources[s.ID] = Source{LibraryCode: s.LibraryCode, Level: s.Level, Holdings: s.Holdings, Priority: cfg.Priority(s)}
	}
	if len(cfg.Dedup.SourcePriority) > 0 {
		opts.LevelPriority = cfg.Dedup.SourcePriority
	}
	return opts
}

package dedup

import (
	"sync"
	"sync/atomic"

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
	// set holds the options in use; Prepare reads them outside any
	// transaction, so they are replaced whole (SetOptions, adoptOptions).
	set       atomic.Pointer[settings]
	listeners []Listener

	// cache holds decoded profiles across batches; a profile is read for
	// every candidate comparison. It is valid while gen matches the
	// generation stored in the file: a batch that rolls back leaves the
	// stored generation behind, and the next batch starts afresh.
	cache profileCache
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

	// next holds the options given to SetOptions until the next batch
	// adopts them (adoptOptions).
	next atomic.Pointer[Options]
}

// settings are options with what is derived from them, never modified
// once in use.
type settings struct {
	opts    Options
	badISBN map[string]bool
}

func newSettings(opts Options) *settings {
	set := &settings{opts: opts, badISBN: map[string]bool{}}
	for _, s := range opts.BadISBNs {
		if n, _ := marc.NormalizeISBN(s); n != "" {
			set.badISBN[n] = true
		}
	}
	if set.opts.LevelPriority == nil {
		set.opts.LevelPriority = []string{"province", "district", "commune"}
	}
	return set
}

// New returns a Deduper configured by opts.
func New(opts Options) *Deduper {
	d := &Deduper{}
	d.set.Store(newSettings(opts))
	return d
}

func (d *Deduper) settings() *settings { return d.set.Load() }

// SetOptions replaces the options (a configuration reload) from the next
// batch on; the batch running now, if any, finishes with the old ones. It
// is safe to call while batches run. The new options apply to what is
// computed from then on: a record's match keys and holdings when it is
// next stored, a union record's holding libraries, levels and master when
// its cluster is next rebuilt. Nothing already stored is recomputed: a
// source's description stored in dedup.meta stays the one its records
// were derived with, or becomes "mixed" once a batch derives some with
// another, so the next Init re-derives the records of each source whose
// description changed (and rebuilds every cluster only when the
// known-bad ISBNs or level priorities did).
func (d *Deduper) SetOptions(opts Options) { d.next.Store(&opts) }

// adoptOptions takes the options of the last SetOptions, if any. Batches
// (and Init) run one at a time, so only the one starting calls it.
func (d *Deduper) adoptOptions() {
	if o := d.next.Swap(nil); o != nil {
		d.set.Store(newSettings(*o))
	}
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

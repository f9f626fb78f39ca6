package dedup

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/marc"
)

// Source describes one member library's feed, as deduplication needs it.
type Source struct {
	// LibraryCode is the library holding the source's records (852 $a),
	// or, for a source of many libraries (Holder set), holding its
	// records that name no holder.
	LibraryCode string
	Level       string // province, district or commune: OAI sets level:…
	// OrgCode is the MARC organization code of the source's library, the
	// prefix of the 035 a union record gives each of its records
	// ("(VN-NAVINH)000457"); "" means its Library's, else LibraryCode.
	OrgCode string
	// Holdings names the tag the source's holdings are read from: "852"
	// (default) or "952" (Koha items).
	Holdings string
	// Holder is the subfield of a holdings field naming its holding
	// library, for a source of many libraries (another union catalog, a
	// consortium's Koha); 0 when the source is one library. HolderCodes
	// maps the codes found there to the network's (holdings.go).
	Holder      byte
	HolderCodes map[string]string
	// Barcodes copies Koha item barcodes (952 $p) into 852 $p.
	Barcodes bool
	// Priority breaks ties between equally complete master candidates:
	// the higher wins.
	Priority int
}

// equal reports whether a and b describe a source alike.
func (a Source) equal(b Source) bool {
	return a.LibraryCode == b.LibraryCode && a.Level == b.Level && a.OrgCode == b.OrgCode &&
		a.Holdings == b.Holdings && a.Holder == b.Holder && maps.Equal(a.HolderCodes, b.HolderCodes) &&
		a.Barcodes == b.Barcodes && a.Priority == b.Priority
}

// Library describes a library of the network as deduplication needs it:
// holders are named by their code, and union records take their level
// (the OAI sets level:…) and their MARC organization code from here.
type Library struct {
	Level   string
	OrgCode string // "" means the code
}

// Options configure a Deduper.
type Options struct {
	// Sources by source id. A source missing here is described from its
	// store registration (library code and level) with default holdings
	// and priority.
	Sources map[string]Source
	// Libraries by code: the network's libraries, every source's own
	// among them. A holder not here (a code a source of many libraries
	// carries that the configuration does not know) has no level.
	Libraries map[string]Library
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
	// libPrio orders the holders of a union record: a source's own
	// library ranks as its source (the highest of them), another by its
	// level.
	libPrio map[string]int
}

func newSettings(opts Options) *settings {
	set := &settings{opts: opts, badISBN: map[string]bool{}, libPrio: map[string]int{}}
	for _, s := range opts.BadISBNs {
		if n, _ := marc.NormalizeISBN(s); n != "" {
			set.badISBN[n] = true
		}
	}
	if set.opts.LevelPriority == nil {
		set.opts.LevelPriority = []string{"province", "district", "commune"}
	}
	for _, s := range opts.Sources {
		if p, ok := set.libPrio[s.LibraryCode]; !ok || s.Priority > p {
			set.libPrio[s.LibraryCode] = s.Priority
		}
	}
	return set
}

// orgCode returns the MARC organization code of a library.
func (set *settings) orgCode(code string) string {
	if l := set.opts.Libraries[code]; l.OrgCode != "" {
		return l.OrgCode
	}
	return code
}

// holder returns the level and priority of a holding library, found in a
// record of src: the network's description of it, else src's when it is
// src's own library; none for a code the network does not know.
func (set *settings) holder(code string, src Source) (level string, prio int) {
	if l, ok := set.opts.Libraries[code]; ok {
		p, ok := set.libPrio[code]
		if !ok {
			p = set.levelPriority(l.Level)
		}
		return l.Level, p
	}
	if code == src.LibraryCode {
		return src.Level, src.Priority
	}
	return "", 0
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
// level, organization code, holdings settings, priority from
// dedup.source_priority) and library, and takes the known-bad ISBNs from
// the configuration.
func OptionsFromConfig(cfg *config.Config) Options {
	opts := Options{Sources: map[string]Source{}, Libraries: map[string]Library{}, BadISBNs: cfg.Dedup.BadISBNs}
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		src := Source{LibraryCode: s.LibraryCode, Level: s.Level, OrgCode: cfg.SourceOrgCode(s),
			Holdings: s.Holdings, HolderCodes: s.HolderCodes, Barcodes: s.Barcodes, Priority: cfg.Priority(s)}
		if s.Holder != "" {
			src.Holder = s.Holder[0]
		}
		opts.Sources[s.ID] = src
	}
	for _, l := range cfg.LibraryList() {
		opts.Libraries[l.Code] = Library{Level: l.Level, OrgCode: l.OrgCode}
	}
	if len(cfg.Dedup.SourcePriority) > 0 {
		opts.LevelPriority = cfg.Dedup.SourcePriority
	}
	return opts
}

// configured returns the description of a source given in the options.
func (set *settings) configured(id string) (Source, bool) {
	s, ok := set.opts.Sources[id]
	return set.withDefaults(id, s), ok
}

// described returns what is known of a source outside a transaction: the
// options, or its registration as the last batch read it. ApplyChanges
// checks what Prepare used against the registration in the transaction.
func (d *Deduper) described(set *settings, id string) (Source, bool) {
	if s, ok := set.configured(id); ok {
		return s, true
	}
	if v, ok := d.registered.Load(id); ok {
		return v.(Source), true
	}
	return Source{}, false
}

func (set *settings) withDefaults(id string, s Source) Source {
	if s.LibraryCode == "" {
		s.LibraryCode = id
	}
	if s.OrgCode == "" {
		s.OrgCode = set.orgCode(s.LibraryCode)
	}
	if s.Holdings == "" {
		s.Holdings = "852"
	}
	return s
}

func (set *settings) levelPriority(level string) int {
	for i, l := range set.opts.LevelPriority {
		if l == level {
			return len(set.opts.LevelPriority) - i
		}
	}
	return 0
}

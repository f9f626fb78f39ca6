package config

import (
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/unicat/unicat/marc"
)

// Sources, each a member library's feed, and their checks; the
// harvesting settings are in harvest.go.

// Source kinds.
const (
	KindFile  = "file"
	KindOAI   = "oai"
	KindSRU   = "sru"
	KindZ3950 = "z3950"
)

// Library levels in the provincial network.
const (
	LevelProvince = "province"
	LevelDistrict = "district"
	LevelCommune  = "commune"
)

// Source is one member library's feed.
type Source struct {
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	LibraryCode string `yaml:"library_code"`
	Level       string `yaml:"level"`
	Kind        string `yaml:"kind"`
	// Disabled sources are kept in the store but never harvested.
	Disabled bool `yaml:"disabled"`

	Path           string `yaml:"path"`            // kind file
	URL            string `yaml:"url"`             // kind oai, sru, z3950
	MetadataPrefix string `yaml:"metadata_prefix"` // kind oai
	Set            string `yaml:"set"`             // kind oai
	Schedule       string `yaml:"schedule"`        // cron expression

	// Format of file sources: auto, iso2709 or marcxml.
	Format string `yaml:"format"`
	// Charset says how the source's text is encoded, overriding the
	// detection that runs without it ("": see package marc): utf-8,
	// marc-8, windows-1258, iso-8859-1, tcvn3, vni, utf-8-double, or label
	// (leader/09 alone, as before detection existed).
	Charset string `yaml:"charset"`
	// MaxRecordBytes rejects, as it is read, a record larger than this
	// as ISO 2709 (leader, directory and field data), in files, uploads
	// and harvests alike (default 99,999, what ISO 2709 can hold;
	// 1,000 to 16 MiB). It is a setting of the source because what is
	// too large depends on what a library sends: a source of records
	// with hundreds of items may need more, and its larger records are
	// then stored as MARCXML.
	MaxRecordBytes int `yaml:"max_record_bytes"`
	// Holdings names the tag holdings are read from: 852 (default) or 952
	// (Koha items).
	Holdings string `yaml:"holdings"`
	// OrgCode is the MARC organization code of the source's library, the
	// prefix of the 035 each of its records gets in the union record;
	// default: its libraries entry's, else library_code.
	OrgCode string `yaml:"org_code"`
	// Holder, when set, makes the source one of many libraries (another
	// union catalog, a consortium's Koha): it is the subfield of each
	// holdings field that names the field's holding library (852 $a, 952
	// $a home branch or $b holding branch). Unset, every record is held by
	// library_code. HolderCodes maps the source's codes to the network's
	// library codes; a code it does not map is kept as it is (and reported
	// when no library of the network has it). A record with no holdings
	// field is held by library_code.
	Holder      string            `yaml:"holder"`
	HolderCodes map[string]string `yaml:"holder_codes"`
	// Barcodes copies Koha's item barcodes (952 $p) into the union record's
	// 852 $p; without it items of one shelf and call number are counted
	// into one 852.
	Barcodes bool `yaml:"barcodes"`

	// Harvesting over the network (kinds oai, sru, z3950). A failed
	// request (network error, HTTP 5xx, a truncated response) is retried
	// MaxRetries times (default 5; 0: never), waiting RetryWait (default
	// 10s) and twice as long after each further failure; Timeout bounds
	// each request (default 60s). MaxRetriesSet is the max_retries the
	// file gives, nil when it gives none.
	MaxRetries    int           `yaml:"-"`
	MaxRetriesSet *int          `yaml:"max_retries"`
	RetryWait     time.Duration `yaml:"retry_wait"`
	Timeout       time.Duration `yaml:"timeout"`
	// MaxPages and MaxRunTime bound one run (defaults 100,000 pages and
	// 12h): a peer answering page after page without end, or so slowly
	// that a run never ends, fails the run there; the next run resumes
	// from the last page committed.
	MaxPages   int           `yaml:"max_pages"`
	MaxRunTime time.Duration `yaml:"max_run_time"`
	// FollowRedirects lists the hosts (host or host:port) a request may
	// be redirected to besides the URL's own; a redirect anywhere else is
	// an error, not followed. Every redirect followed is logged.
	FollowRedirects []string `yaml:"follow_redirects"`
	// SecretParams names query parameters of URL whose values are secret
	// (an API key), besides DefaultSecretParams: with the URL's password
	// they are replaced by "***" wherever the URL, or an error or answer
	// quoting it, is shown, logged or stored (secrets.go).
	SecretParams []string `yaml:"secret_params"`
	// MaxEmptyPages stops an OAI-PMH or SRU harvest, as failed, after that
	// many pages in a row without a new record (default 10): without any,
	// or, in OAI-PMH, with only identifiers the list gave already.
	MaxEmptyPages int `yaml:"max_empty_pages"`
	// Deletions (kind oai) is "" or list-identifiers: for servers that do
	// not report deletions, a full ListIdentifiers pass after each harvest
	// marks the records that disappeared as deleted.
	Deletions string `yaml:"deletions"`
	// Kind sru: the CQL query selecting the records (default
	// cql.allRecords=1), the date index for incremental harvests (""
	// harvests everything each time and marks records that disappeared as
	// deleted), maximumRecords per request (default 100) and the SRU
	// version to speak: 1.1, 1.2 (default) or 2.0. Kind z3950: the PQF
	// query, and page_size records per Present request (default 50, at
	// most 1000: the target sends fewer when they do not fit its message
	// size).
	Query      string `yaml:"query"`
	DateIndex  string `yaml:"date_index"`
	PageSize   int    `yaml:"page_size"`
	SRUVersion string `yaml:"sru_version"`
	// FullExport (kind file) says each file is the library's whole
	// catalog: records missing from a new file are marked deleted.
	FullExport bool `yaml:"full_export"`
}

// ValidCharset reports whether name is a charset setting a source may
// have (its charset key).
func ValidCharset(name string) bool { return oneOf(name, validCharsets) }

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	validLevels    = []string{LevelProvince, LevelDistrict, LevelCommune}
	validKinds     = []string{KindFile, KindOAI, KindSRU, KindZ3950}
	validFormats   = []string{"", "auto", "iso2709", "marcxml"}
	validCharsets  = []string{"", "utf-8", "marc-8", "windows-1258", "iso-8859-1", "tcvn3", "vni", "utf-8-double", "label"}
	validHoldings  = []string{"", "852", "952"}
	scheduleParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// ParseSchedule parses a source's cron expression.
func ParseSchedule(expr string) (cron.Schedule, error) {
	return scheduleParser.Parse(expr)
}

func (v *validator) validateSource(c *Config, i int, seenID map[string]int) {
	s := &c.Sources[i]
	at := func(field string) []any { return []any{"sources", i, field} }
	v.validateSourceID(s, i, seenID, at)
	v.validateDescription(s, at)
	v.validateHolder(c, s, at)
	v.validateKind(s, at)
	if s.Kind != KindOAI && s.Set != "" {
		v.add(at("set"), "is only used by kind oai")
	}
	if s.Kind != KindOAI && s.MetadataPrefix != "" {
		v.add(at("metadata_prefix"), "is only used by kind oai")
	}
	if s.Schedule != "" {
		if _, err := ParseSchedule(s.Schedule); err != nil {
			v.add(at("schedule"), "%q: %v", s.Schedule, err)
		}
	}
	v.validateHarvest(s, at)
}

// validateSourceID checks the id of source i, and that no source before
// it (in seenID, which it joins) has it.
func (v *validator) validateSourceID(s *Source, i int, seenID map[string]int, at func(string) []any) {
	switch {
	case s.ID == "":
		v.add(at("id"), "is required")
	case !idPattern.MatchString(s.ID):
		v.add(at("id"), "%q must use only a-z, 0-9 and '-' and start with a letter or digit", s.ID)
	default:
		if j, dup := seenID[s.ID]; dup {
			v.add(at("id"), "%q is already used by sources[%d]", s.ID, j)
		} else {
			seenID[s.ID] = i
		}
	}
}

// validateDescription checks what the source says of the library and of
// its records: name, library code, level, format, charset, record size
// limit and holdings field.
func (v *validator) validateDescription(s *Source, at func(string) []any) {
	if s.Name == "" {
		v.add(at("name"), "is required")
	}
	if s.LibraryCode == "" {
		v.add(at("library_code"), "is required (it goes into the holdings)")
	} else if strings.ContainsAny(s.LibraryCode, " \t\r\n") {
		v.add(at("library_code"), "%q must not contain white space", s.LibraryCode)
	}
	if !oneOf(s.Level, validLevels) {
		v.add(at("level"), "%q is not one of %s", s.Level, quoteList(validLevels))
	}
	if !oneOf(s.Format, validFormats) {
		v.add(at("format"), "%q is not one of %s", s.Format, quoteList(validFormats))
	}
	if !oneOf(s.Charset, validCharsets) {
		v.add(at("charset"), "%q is not one of %s", s.Charset, quoteList(validCharsets))
	}
	if s.MaxRecordBytes < minMaxRecordBytes || s.MaxRecordBytes > maxMaxRecordBytes {
		v.add(at("max_record_bytes"), "must be between %d and %d, got %d", minMaxRecordBytes, maxMaxRecordBytes, s.MaxRecordBytes)
	}
	if !oneOf(s.Holdings, validHoldings) {
		v.add(at("holdings"), "%q is not one of %s", s.Holdings, quoteList(validHoldings))
	}
}

// validateKind checks the kind and where the records are got from: the
// path of a file source, the URL of the others.
func (v *validator) validateKind(s *Source, at func(string) []any) {
	switch s.Kind {
	case KindFile:
		if s.Path == "" {
			v.add(at("path"), "is required for kind file")
		}
		if s.URL != "" {
			v.add(at("url"), "is not used by kind file")
		}
	case KindOAI, KindSRU, KindZ3950:
		if s.URL == "" {
			v.add(at("url"), "is required for kind %s", s.Kind)
		} else if err := checkURL(s.Kind, s.URL); err != "" {
			v.add(at("url"), "%s", err)
		}
		if s.Path != "" {
			v.add(at("path"), "is only used by kind file")
		}
	default:
		v.add(at("kind"), "%q is not one of %s", s.Kind, quoteList(validKinds))
	}
}

// The size limit of a record (max_record_bytes). The default is what
// ISO 2709 can hold, its record length having five digits; the most
// keeps what a record being read may cost bounded.
const (
	DefaultMaxRecordBytes = marc.DefaultMaxRecordBytes
	minMaxRecordBytes     = 1000
	maxMaxRecordBytes     = 16 << 20
)

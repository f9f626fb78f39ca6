// Package config loads and validates unicat's YAML configuration.
//
// Loading is strict: every problem in the file is reported at once, each
// with its field path and line, and unknown keys are errors, because a typo
// in a source definition must not silently disable that source.
//
// A running service reloads its file (unicat serve on SIGHUP): ForReload
// keeps the sections only a restart can change (RestartOnly) and names the
// settings the new file changes in them; SourceChanges lists the sources
// added, removed and changed.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/unicat/unicat/marc"
	"go.yaml.in/yaml/v3"
)

// Config is the whole configuration file.
type Config struct {
	DataDir string        `yaml:"data_dir"`
	HTTP    HTTPConfig    `yaml:"http"`
	Z3950   Z3950Config   `yaml:"z3950"`
	Harvest HarvestConfig `yaml:"harvest"`
	SRU     SRUConfig     `yaml:"sru"`
	OAI     OAIConfig     `yaml:"oai"`
	Sources []Source      `yaml:"sources"`
	// Libraries describes the network's libraries that are no source's
	// own (libraries.go).
	Libraries []Library   `yaml:"libraries"`
	Dedup     DedupConfig `yaml:"dedup"`
	Admin     AdminConfig `yaml:"admin"` // ops.go

	// Path is the file the configuration was read from ("" when parsed
	// from bytes). Relative paths in the file are resolved against its
	// directory.
	Path string `yaml:"-"`
}

// HTTPConfig configures the HTTP server (SRU, OAI-PMH, web, metrics).
type HTTPConfig struct {
	Addr string `yaml:"addr"`
	// Limits of every request (see ops.go for defaults): the largest
	// request body but admin uploads, and the time to read a request and
	// to write its answer.
	MaxBodyBytes int64         `yaml:"max_body_bytes"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
}

// Z3950Config configures the Z39.50 listener. The limits keep a flood of
// connections from locking cataloguers out (see z3950.Config): at most
// MaxConnections open (default 500; when all are taken, a new one
// displaces the oldest that has not sent its Init), MaxPerClient from one
// address (default 20), InitTimeout to complete the Init (default 30s)
// and IdleTimeout between requests (default 10m).
type Z3950Config struct {
	Addr           string        `yaml:"addr"`
	Database       string        `yaml:"database"`
	MaxConnections int           `yaml:"max_connections"`
	MaxPerClient   int           `yaml:"max_per_client"`
	InitTimeout    time.Duration `yaml:"init_timeout"`
	IdleTimeout    time.Duration `yaml:"idle_timeout"`
}

// SRUConfig configures the SRU server at /sru.
type SRUConfig struct {
	// DefaultRecords is maximumRecords when a request does not say
	// (default 10); MaxRecords caps what a request may ask (default 100).
	DefaultRecords int `yaml:"default_records"`
	MaxRecords     int `yaml:"max_records"`
}

// HarvestConfig holds defaults shared by every source's harvests.
type HarvestConfig struct {
	// MaxConcurrent limits how many harvests run at once.
	MaxConcurrent int `yaml:"max_concurrent"`
	// Jitter is the longest random delay before a scheduled harvest starts,
	// so that the many sources sharing a schedule do not all fire in the
	// same second (default 1m).
	Jitter time.Duration `yaml:"jitter"`
	// UserAgent is sent with every harvesting request.
	UserAgent string `yaml:"user_agent"`
}

// OAIConfig describes the OAI-PMH data provider served at /oai.
type OAIConfig struct {
	// RepositoryName is Identify's repositoryName.
	RepositoryName string `yaml:"repository_name"`
	// Domain is the repository identifier of the oai-identifier scheme:
	// records are named oai:<domain>:<union id>. It must be a DNS name
	// with at least one dot, and should never change.
	Domain string `yaml:"domain"`
	// AdminEmail is Identify's adminEmail.
	AdminEmail string `yaml:"admin_email"`
	// PageSize is how many records, headers or sets one response holds
	// before a resumption token.
	PageSize int `yaml:"page_size"`
	// BaseURL is the public URL of the endpoint as harvesters reach it
	// (behind a proxy); "" derives it from each request.
	BaseURL string `yaml:"base_url"`
}

// DedupConfig tunes deduplication (package dedup).
type DedupConfig struct {
	// BadISBNs are ISBNs member libraries are known to reuse wrongly (a
	// publisher's one number printed in many books, a placeholder typed
	// into every record); they are ignored for matching.
	BadISBNs []string `yaml:"bad_isbns"`
	// SourcePriority lists levels (province, district, commune) and/or
	// source ids, highest first. It breaks ties between equally complete
	// master candidates; a source id outranks its level's position.
	// Default: province, district, commune.
	SourcePriority []string `yaml:"source_priority"`
}

// DefaultSourcePriority is the master tie-break order without
// dedup.source_priority.
var DefaultSourcePriority = []string{LevelProvince, LevelDistrict, LevelCommune}

// Priority returns the master priority of a source: the higher wins ties.
// A source named in dedup.source_priority ranks by its own position,
// others by their level's; unlisted sources get 0.
func (c *Config) Priority(s *Source) int {
	list := c.Dedup.SourcePriority
	if len(list) == 0 {
		list = DefaultSourcePriority
	}
	for _, key := range []string{s.ID, s.Level} {
		for i, v := range list {
			if v == key {
				return len(list) - i
			}
		}
	}
	return 0
}

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
	// MaxRetries times (default 5), waiting RetryWait (default 10s) and
	// twice as long after each further failure; Timeout bounds each
	// request (default 60s).
	MaxRetries int           `yaml:"max_retries"`
	RetryWait  time.Duration `yaml:"retry_wait"`
	Timeout    time.Duration `yaml:"timeout"`
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

var (
	idPattern       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	validLevels     = []string{LevelProvince, LevelDistrict, LevelCommune}
	validKinds      = []string{KindFile, KindOAI, KindSRU, KindZ3950}
	validFormats    = []string{"", "auto", "iso2709", "marcxml"}
	validCharsets   = []string{"", "utf-8", "marc-8", "windows-1258", "iso-8859-1", "tcvn3", "vni", "utf-8-double", "label"}
	validHoldings   = []string{"", "852", "952"}
	validDeletions  = []string{"", DeletionsListIdentifiers}
	validSRUVersion = []string{"1.1", "1.2", "2.0"}
	scheduleParser  = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	defaultDataDir  = "data"
	defaultHTTPAddr = "127.0.0.1:8080"

	// The oai-identifier scheme's repositoryIdentifier, and the e-mail
	// pattern of the OAI-PMH schema (the domain needs a dot).
	oaiDomainPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$`)
	oaiEmailPattern  = regexp.MustCompile(`^[^\s@]+@([^\s@.]+\.)+[^\s@.]+$`)
)

// OAI-PMH defaults. The domain and address are placeholders: a deployment
// harvested by others sets its own.
const (
	DefaultOAIRepositoryName = "unicat union catalog"
	DefaultOAIDomain         = "unicat.localdomain"
	DefaultOAIAdminEmail     = "admin@unicat.localdomain"
	DefaultOAIPageSize       = 200
	maxOAIPageSize           = 10000
)

// Harvesting defaults and limits.
const (
	DeletionsListIdentifiers = "list-identifiers"
	DefaultSRUQuery          = "cql.allRecords=1"
	DefaultHarvestJitter     = time.Minute
	DefaultUserAgent         = "unicat-harvester/1"
	defaultMaxRetries        = 5
	defaultRetryWait         = 10 * time.Second
	defaultTimeout           = 60 * time.Second
	defaultMaxEmptyPages     = 10
	defaultSRUPageSize       = 100
	defaultZ3950PageSize     = 50
	maxZ3950PageSize         = 1000
	defaultSRUVersion        = "1.2"
)

// The size limit of a record (max_record_bytes). The default is what
// ISO 2709 can hold, its record length having five digits; the most
// keeps what a record being read may cost bounded.
const (
	DefaultMaxRecordBytes = marc.DefaultMaxRecordBytes
	minMaxRecordBytes     = 1000
	maxMaxRecordBytes     = 16 << 20
)

// Problem is one thing wrong with a configuration file.
type Problem struct {
	Line  int    // 1-based; 0 when unknown
	Field string // dotted path, e.g. sources[2].kind
	Msg   string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem found in a configuration file.
type Error struct {
	Path     string
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	name := e.Path
	if name == "" {
		name = "config"
	}
	fmt.Fprintf(&b, "%s: %d problem(s)", name, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Load reads, parses and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// Parse parses and validates configuration bytes. name labels errors and
// anchors relative paths (its directory); it may be "".
func Parse(data []byte, name string) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &Error{Path: name, Problems: []Problem{yamlProblem(err)}}
	}
	cfg := &Config{Path: name}
	if root.Kind == 0 { // empty document
		return nil, &Error{Path: name, Problems: []Problem{{Msg: "file is empty"}}}
	}
	// KnownFields makes unknown keys errors; decoding the tree reports all
	// of them (and type errors) together.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var problems []Problem
	if err := dec.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, msg := range te.Errors {
				problems = append(problems, typeErrorProblem(msg))
			}
		} else {
			problems = append(problems, yamlProblem(err))
		}
	}
	v := validator{root: &root}
	if len(problems) == 0 {
		cfg.applyDefaults()
		v.validate(cfg)
	}
	problems = append(problems, v.problems...)
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
		return nil, &Error{Path: name, Problems: problems}
	}
	cfg.Path = name
	return cfg, nil
}

var lineRe = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func typeErrorProblem(msg string) Problem {
	if m := lineRe.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscanf(m[1], "%d", &line)
		return Problem{Line: line, Msg: m[2]}
	}
	return Problem{Msg: msg}
}

func yamlProblem(err error) Problem {
	return typeErrorProblem(err.Error())
}

func (c *Config) applyDefaults() {
	if c.DataDir == "" {
		c.DataDir = defaultDataDir
	}
	if c.HTTP.Addr == "" {
		c.HTTP.Addr = defaultHTTPAddr
	}
	c.applyOpsDefaults()
	if c.Z3950.Database == "" {
		c.Z3950.Database = "unicat"
	}
	if c.SRU.DefaultRecords == 0 {
		c.SRU.DefaultRecords = 10
	}
	if c.SRU.MaxRecords == 0 {
		c.SRU.MaxRecords = 100
	}
	if c.Harvest.MaxConcurrent == 0 {
		c.Harvest.MaxConcurrent = 2
	}
	if c.Harvest.Jitter == 0 {
		c.Harvest.Jitter = DefaultHarvestJitter
	}
	if c.Harvest.UserAgent == "" {
		c.Harvest.UserAgent = DefaultUserAgent
	}
	if c.OAI.RepositoryName == "" {
		c.OAI.RepositoryName = DefaultOAIRepositoryName
	}
	if c.OAI.Domain == "" {
		c.OAI.Domain = DefaultOAIDomain
	}
	if c.OAI.AdminEmail == "" {
		c.OAI.AdminEmail = DefaultOAIAdminEmail
	}
	if c.OAI.PageSize == 0 {
		c.OAI.PageSize = DefaultOAIPageSize
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Kind == KindOAI && s.MetadataPrefix == "" {
			s.MetadataPrefix = "marc21"
		}
		if s.Format == "" {
			s.Format = "auto"
		}
		if s.Holdings == "" {
			s.Holdings = "852"
		}
		if s.MaxRecordBytes == 0 {
			s.MaxRecordBytes = DefaultMaxRecordBytes
		}
		s.applyHarvestDefaults()
	}
}

// applyHarvestDefaults fills the harvesting settings of the kinds that use
// them, so that a value set for another kind is still caught as misplaced.
func (s *Source) applyHarvestDefaults() {
	if s.Kind != KindOAI && s.Kind != KindSRU && s.Kind != KindZ3950 {
		return
	}
	if s.MaxRetries == 0 {
		s.MaxRetries = defaultMaxRetries
	}
	if s.RetryWait == 0 {
		s.RetryWait = defaultRetryWait
	}
	if s.Timeout == 0 {
		s.Timeout = defaultTimeout
	}
	if s.Kind == KindZ3950 {
		if s.PageSize == 0 {
			s.PageSize = defaultZ3950PageSize
		}
		return
	}
	if s.MaxEmptyPages == 0 {
		s.MaxEmptyPages = defaultMaxEmptyPages
	}
	if s.Kind == KindSRU {
		if s.Query == "" {
			s.Query = DefaultSRUQuery
		}
		if s.PageSize == 0 {
			s.PageSize = defaultSRUPageSize
		}
		if s.SRUVersion == "" {
			s.SRUVersion = defaultSRUVersion
		}
	}
}

// Source returns the source with the given id.
func (c *Config) Source(id string) (*Source, bool) {
	for i := range c.Sources {
		if c.Sources[i].ID == id {
			return &c.Sources[i], true
		}
	}
	return nil, false
}

// Resolve makes a path from the file relative to the configuration file's
// directory. Absolute paths are returned unchanged.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.Path), p)
}

// StorePath is the bbolt file inside the data directory.
func (c *Config) StorePath() string {
	return filepath.Join(c.Resolve(c.DataDir), "unicat.db")
}

// ParseSchedule parses a source's cron expression.
func ParseSchedule(expr string) (cron.Schedule, error) {
	return scheduleParser.Parse(expr)
}

// validator checks values after decoding; it finds line numbers by walking
// the YAML node tree along the same field path.
type validator struct {
	root     *yaml.Node
	problems []Problem
}

func (v *validator) add(path []any, format string, args ...any) {
	v.problems = append(v.problems, Problem{
		Line:  v.line(path),
		Field: pathString(path),
		Msg:   fmt.Sprintf(format, args...),
	})
}

func pathString(path []any) string {
	var b strings.Builder
	for _, p := range path {
		switch p := p.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(p)
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		}
	}
	return b.String()
}

// line finds the node at path (map keys as strings, sequence indexes as
// ints); when a key is missing it returns the line of the nearest parent.
func (v *validator) line(path []any) int {
	n := v.root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	if n != nil {
		line = n.Line
	}
	for _, p := range path {
		if n == nil {
			break
		}
		var next *yaml.Node
		switch p := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == p {
						line = n.Content[i].Line
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && p < len(n.Content) {
				next = n.Content[p]
				line = next.Line
			}
		}
		n = next
	}
	return line
}

func oneOf(s string, allowed []string) bool {
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	return false
}

func quoteList(allowed []string) string {
	var out []string
	for _, a := range allowed {
		if a != "" {
			out = append(out, a)
		}
	}
	return strings.Join(out, ", ")
}

func (v *validator) validate(c *Config) {
	if c.Harvest.MaxConcurrent < 0 {
		v.add([]any{"harvest", "max_concurrent"}, "must be positive, got %d", c.Harvest.MaxConcurrent)
	}
	if c.Harvest.Jitter < 0 || c.Harvest.Jitter > time.Hour {
		v.add([]any{"harvest", "jitter"}, "must be between 0s and 1h, got %v", c.Harvest.Jitter)
	}
	if strings.ContainsFunc(c.Harvest.UserAgent, func(r rune) bool { return r < 0x20 || r == 0x7F }) {
		v.add([]any{"harvest", "user_agent"}, "%q must not contain control characters", c.Harvest.UserAgent)
	}
	if c.SRU.DefaultRecords < 0 || c.SRU.MaxRecords < 0 {
		v.add([]any{"sru"}, "default_records and max_records must not be negative")
	} else if c.SRU.DefaultRecords > c.SRU.MaxRecords {
		v.add([]any{"sru", "default_records"}, "%d is more than max_records (%d)", c.SRU.DefaultRecords, c.SRU.MaxRecords)
	}
	if !validHostPort(c.HTTP.Addr) {
		v.add([]any{"http", "addr"}, "want host:port, got %q", c.HTTP.Addr)
	}
	if c.Z3950.Addr != "" && !validHostPort(c.Z3950.Addr) {
		v.add([]any{"z3950", "addr"}, "want host:port, got %q", c.Z3950.Addr)
	}
	v.validateZ3950Limits(&c.Z3950)
	v.validateOAI(&c.OAI)
	v.validateOps(c)
	seenID := map[string]int{}
	for i := range c.Sources {
		v.validateSource(c, i, seenID)
	}
	v.validateLibraries(c)
	v.validateDedup(c)
}

func (v *validator) validateDedup(c *Config) {
	for i, isbn := range c.Dedup.BadISBNs {
		if n, _ := marc.NormalizeISBN(isbn); n == "" {
			v.add([]any{"dedup", "bad_isbns", i}, "%q is not an ISBN", isbn)
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Dedup.SourcePriority {
		_, isSource := c.Source(p)
		switch {
		case seen[p]:
			v.add([]any{"dedup", "source_priority", i}, "%q is listed twice", p)
		case !isSource && !oneOf(p, validLevels):
			v.add([]any{"dedup", "source_priority", i}, "%q is neither a level (%s) nor a source id", p, quoteList(validLevels))
		}
		seen[p] = true
	}
}

func (v *validator) validateOAI(o *OAIConfig) {
	at := func(field string) []any { return []any{"oai", field} }
	if strings.TrimSpace(o.RepositoryName) == "" {
		v.add(at("repository_name"), "must not be blank")
	}
	if !oaiDomainPattern.MatchString(o.Domain) {
		v.add(at("domain"), "%q must be a DNS name with at least one dot, each label starting with a letter (the oai-identifier repositoryIdentifier)", o.Domain)
	}
	if !oaiEmailPattern.MatchString(o.AdminEmail) {
		v.add(at("admin_email"), "%q is not an e-mail address (user@domain.tld)", o.AdminEmail)
	}
	if o.PageSize < 1 || o.PageSize > maxOAIPageSize {
		v.add(at("page_size"), "must be between 1 and %d, got %d", maxOAIPageSize, o.PageSize)
	}
	if o.BaseURL != "" {
		u, err := url.Parse(o.BaseURL)
		switch {
		case err != nil:
			v.add(at("base_url"), "%q: %v", o.BaseURL, err)
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			v.add(at("base_url"), "%q must be an absolute http:// or https:// URL", o.BaseURL)
		case u.RawQuery != "" || u.Fragment != "":
			v.add(at("base_url"), "%q must not have a query or fragment", o.BaseURL)
		}
	}
}

func validHostPort(s string) bool {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || i == len(s)-1 {
		return false
	}
	for _, c := range s[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (v *validator) validateSource(c *Config, i int, seenID map[string]int) {
	s := &c.Sources[i]
	at := func(field string) []any { return []any{"sources", i, field} }
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
	v.validateHolder(c, s, at)
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

// validateHarvest checks the harvesting settings: each is used by some
// kinds only, and is in range.
func (v *validator) validateHarvest(s *Source, at func(string) []any) {
	network := s.Kind == KindOAI || s.Kind == KindSRU || s.Kind == KindZ3950
	paged := s.Kind == KindOAI || s.Kind == KindSRU
	only := func(field, kinds string, used, set bool) bool {
		if set && !used {
			v.add(at(field), "is only used by kind %s", kinds)
		}
		return used && set
	}
	if only("max_retries", "oai, sru or z3950", network, s.MaxRetries != 0) && (s.MaxRetries < 0 || s.MaxRetries > 100) {
		v.add(at("max_retries"), "must be between 0 and 100, got %d", s.MaxRetries)
	}
	if only("retry_wait", "oai, sru or z3950", network, s.RetryWait != 0) && (s.RetryWait < 100*time.Millisecond || s.RetryWait > time.Hour) {
		v.add(at("retry_wait"), "must be between 100ms and 1h, got %v (write a unit: 10s)", s.RetryWait)
	}
	if only("timeout", "oai, sru or z3950", network, s.Timeout != 0) && (s.Timeout < time.Second || s.Timeout > time.Hour) {
		v.add(at("timeout"), "must be between 1s and 1h, got %v (write a unit: 60s)", s.Timeout)
	}
	if only("max_empty_pages", "oai or sru", paged, s.MaxEmptyPages != 0) && (s.MaxEmptyPages < 1 || s.MaxEmptyPages > 1000) {
		v.add(at("max_empty_pages"), "must be between 1 and 1000, got %d", s.MaxEmptyPages)
	}
	if only("deletions", "oai", s.Kind == KindOAI, s.Deletions != "") && !oneOf(s.Deletions, validDeletions) {
		v.add(at("deletions"), "%q is not one of %s (or empty)", s.Deletions, quoteList(validDeletions))
	}
	sru := s.Kind == KindSRU
	// z3950 sources take a PQF query (the default lists Zebra's and
	// unicat's whole database; other targets need their own).
	if only("query", "sru or z3950", sru || s.Kind == KindZ3950, s.Query != "") && strings.TrimSpace(s.Query) == "" {
		v.add(at("query"), "must not be blank")
	}
	if only("date_index", "sru", sru, s.DateIndex != "") && strings.ContainsAny(s.DateIndex, " \t\r\n\"()<>=/") {
		v.add(at("date_index"), "%q is not a CQL index name", s.DateIndex)
	}
	if only("page_size", "sru or z3950", sru || s.Kind == KindZ3950, s.PageSize != 0) {
		limit := 10000
		if s.Kind == KindZ3950 {
			limit = maxZ3950PageSize
		}
		if s.PageSize < 1 || s.PageSize > limit {
			v.add(at("page_size"), "must be between 1 and %d, got %d", limit, s.PageSize)
		}
	}
	if only("sru_version", "sru", sru, s.SRUVersion != "") && !oneOf(s.SRUVersion, validSRUVersion) {
		v.add(at("sru_version"), "%q is not one of %s", s.SRUVersion, quoteList(validSRUVersion))
	}
	only("full_export", "file", s.Kind == KindFile, s.FullExport)
}

func checkURL(kind, u string) string {
	switch kind {
	case KindOAI, KindSRU:
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			return fmt.Sprintf("%q must be an http:// or https:// URL", u)
		}
	case KindZ3950:
		// host:port/database, optionally with a tcp: or z3950:// prefix.
		rest := strings.TrimPrefix(strings.TrimPrefix(u, "z3950://"), "tcp:")
		hostport, _, _ := strings.Cut(rest, "/")
		if !validHostPort(hostport) {
			return fmt.Sprintf("%q must be host:port/database", u)
		}
	}
	return ""
}

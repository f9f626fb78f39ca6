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
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"

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
	Libraries []Library    `yaml:"libraries"`
	Dedup     DedupConfig  `yaml:"dedup"`
	Admin     AdminConfig  `yaml:"admin"`  // ops.go
	Import    ImportConfig `yaml:"import"` // ops.go

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
	// MaxRetryAfter caps how long a server's Retry-After is honoured
	// (default 5m): a peer asking for days must not stall its source, nor,
	// as a harvest waiting keeps no slot of max_concurrent, any other.
	MaxRetryAfter time.Duration `yaml:"max_retry_after"`
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

var (
	defaultDataDir  = "data"
	defaultHTTPAddr = "127.0.0.1:8080"
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
	if c.Harvest.MaxRetryAfter == 0 {
		c.Harvest.MaxRetryAfter = DefaultMaxRetryAfter
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

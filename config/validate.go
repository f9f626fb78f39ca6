package config

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/unicat/unicat/marc"
	"go.yaml.in/yaml/v3"
)

// Problems and how they are found: the validator walks the YAML node tree
// along each setting's path to name its line.

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

// The oai-identifier scheme's repositoryIdentifier, and the e-mail
// pattern of the OAI-PMH schema (the domain needs a dot).
var (
	oaiDomainPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$`)
	oaiEmailPattern  = regexp.MustCompile(`^[^\s@]+@([^\s@.]+\.)+[^\s@.]+$`)
)

// validate checks the whole configuration, its defaults applied.
func (v *validator) validate(c *Config) {
	if c.Harvest.MaxConcurrent < 0 {
		v.add([]any{"harvest", "max_concurrent"}, "must be positive, got %d", c.Harvest.MaxConcurrent)
	}
	if c.Harvest.Jitter < 0 || c.Harvest.Jitter > time.Hour {
		v.add([]any{"harvest", "jitter"}, "must be between 0s and 1h, got %v", c.Harvest.Jitter)
	}
	if c.Harvest.MaxRetryAfter < time.Second || c.Harvest.MaxRetryAfter > 24*time.Hour {
		v.add([]any{"harvest", "max_retry_after"}, "must be between 1s and 24h, got %v", c.Harvest.MaxRetryAfter)
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

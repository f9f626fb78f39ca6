package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The harvesting settings of sources over the network (kinds oai, sru
// and z3950): their defaults and their checks.

// Harvesting defaults and limits.
const (
	DeletionsListIdentifiers = "list-identifiers"
	DefaultSRUQuery          = "cql.allRecords=1"
	DefaultHarvestJitter     = time.Minute
	DefaultMaxRetryAfter     = 5 * time.Minute
	DefaultUserAgent         = "unicat-harvester/1"
	defaultMaxRetries        = 5
	defaultMaxPages          = 100000
	defaultMaxRunTime        = 12 * time.Hour
	defaultRetryWait         = 10 * time.Second
	defaultTimeout           = 60 * time.Second
	defaultMaxEmptyPages     = 10
	defaultSRUPageSize       = 100
	defaultZ3950PageSize     = 50
	maxZ3950PageSize         = 1000
	defaultSRUVersion        = "1.2"
)

var (
	validDeletions  = []string{"", DeletionsListIdentifiers}
	validSRUVersion = []string{"1.1", "1.2", "2.0"}
)

// applyHarvestDefaults fills the harvesting settings of the kinds that use
// them, so that a value set for another kind is still caught as misplaced.
func (s *Source) applyHarvestDefaults() {
	if s.Kind != KindOAI && s.Kind != KindSRU && s.Kind != KindZ3950 {
		return
	}
	s.MaxRetries = defaultMaxRetries
	if s.MaxRetriesSet != nil {
		s.MaxRetries = *s.MaxRetriesSet
	}
	if s.MaxPages == 0 {
		s.MaxPages = defaultMaxPages
	}
	if s.MaxRunTime == 0 {
		s.MaxRunTime = defaultMaxRunTime
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

// validateHarvest checks the harvesting settings: each is used by some
// kinds only, and is in range. The checks are flat, one per setting, in
// the order the errors are reported in.
func (v *validator) validateHarvest(s *Source, at func(string) []any) {
	v.validateRequests(s, at)
	v.validateLists(s, at)
	v.validateQuery(s, at)
	v.only(at, "full_export", "file", s.Kind == KindFile, s.FullExport)
}

// only reports a setting set for a kind that does not use it, and
// whether it is set and used: to be checked.
func (v *validator) only(at func(string) []any, field, kinds string, used, set bool) bool {
	if set && !used {
		v.add(at(field), "is only used by kind %s", kinds)
	}
	return used && set
}

// validateRequests checks how a network source's requests are made:
// retries, limits, redirects, waits, secrets and timeout.
func (v *validator) validateRequests(s *Source, at func(string) []any) {
	network := s.Kind == KindOAI || s.Kind == KindSRU || s.Kind == KindZ3950
	if v.only(at, "max_retries", "oai, sru or z3950", network, s.MaxRetriesSet != nil) && (s.MaxRetries < 0 || s.MaxRetries > 100) {
		v.add(at("max_retries"), "must be between 0 and 100, got %d", s.MaxRetries)
	}
	if v.only(at, "max_pages", "oai, sru or z3950", network, s.MaxPages != 0) && (s.MaxPages < 1 || s.MaxPages > 100000000) {
		v.add(at("max_pages"), "must be between 1 and 100000000, got %d", s.MaxPages)
	}
	if v.only(at, "max_run_time", "oai, sru or z3950", network, s.MaxRunTime != 0) && (s.MaxRunTime < time.Second || s.MaxRunTime > 30*24*time.Hour) {
		v.add(at("max_run_time"), "must be between 1s and 720h, got %v", s.MaxRunTime)
	}
	if v.only(at, "follow_redirects", "oai or sru", s.Kind == KindOAI || s.Kind == KindSRU, len(s.FollowRedirects) > 0) {
		for i, h := range s.FollowRedirects {
			if h == "" || strings.ContainsAny(h, "/ \t") {
				v.add(append(at("follow_redirects"), i), "%q is not a host or host:port", h)
			}
		}
	}
	if v.only(at, "retry_wait", "oai, sru or z3950", network, s.RetryWait != 0) && (s.RetryWait < 100*time.Millisecond || s.RetryWait > time.Hour) {
		v.add(at("retry_wait"), "must be between 100ms and 1h, got %v (write a unit: 10s)", s.RetryWait)
	}
	if v.only(at, "secret_params", "oai, sru or z3950", network, len(s.SecretParams) > 0) && slices.Contains(s.SecretParams, "") {
		v.add(at("secret_params"), "a parameter name must not be empty")
	}
	if v.only(at, "timeout", "oai, sru or z3950", network, s.Timeout != 0) && (s.Timeout < time.Second || s.Timeout > time.Hour) {
		v.add(at("timeout"), "must be between 1s and 1h, got %v (write a unit: 60s)", s.Timeout)
	}
}

// validateLists checks how OAI-PMH and SRU lists are walked: the empty
// pages tolerated and how OAI-PMH deletions are found.
func (v *validator) validateLists(s *Source, at func(string) []any) {
	paged := s.Kind == KindOAI || s.Kind == KindSRU
	if v.only(at, "max_empty_pages", "oai or sru", paged, s.MaxEmptyPages != 0) && (s.MaxEmptyPages < 1 || s.MaxEmptyPages > 1000) {
		v.add(at("max_empty_pages"), "must be between 1 and 1000, got %d", s.MaxEmptyPages)
	}
	if v.only(at, "deletions", "oai", s.Kind == KindOAI, s.Deletions != "") && !oneOf(s.Deletions, validDeletions) {
		v.add(at("deletions"), "%q is not one of %s (or empty)", s.Deletions, quoteList(validDeletions))
	}
}

// validateQuery checks the search of SRU and Z39.50 sources: the query,
// the date index, the page size and the SRU version.
func (v *validator) validateQuery(s *Source, at func(string) []any) {
	sru := s.Kind == KindSRU
	// z3950 sources take a PQF query (the default lists Zebra's and
	// unicat's whole database; other targets need their own).
	if v.only(at, "query", "sru or z3950", sru || s.Kind == KindZ3950, s.Query != "") && strings.TrimSpace(s.Query) == "" {
		v.add(at("query"), "must not be blank")
	}
	if v.only(at, "date_index", "sru", sru, s.DateIndex != "") && strings.ContainsAny(s.DateIndex, " \t\r\n\"()<>=/") {
		v.add(at("date_index"), "%q is not a CQL index name", s.DateIndex)
	}
	if v.only(at, "page_size", "sru or z3950", sru || s.Kind == KindZ3950, s.PageSize != 0) {
		limit := 10000
		if s.Kind == KindZ3950 {
			limit = maxZ3950PageSize
		}
		if s.PageSize < 1 || s.PageSize > limit {
			v.add(at("page_size"), "must be between 1 and %d, got %d", limit, s.PageSize)
		}
	}
	if v.only(at, "sru_version", "sru", sru, s.SRUVersion != "") && !oneOf(s.SRUVersion, validSRUVersion) {
		v.add(at("sru_version"), "%q is not one of %s", s.SRUVersion, quoteList(validSRUVersion))
	}
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

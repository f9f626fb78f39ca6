package oaiindex

import (
	"slices"
	"strings"

	"github.com/unicat/unicat/dedup"
)

// Set specs. Every union record is in library:<code> for each library
// holding it and in level:<level> for each level of those libraries. The
// parent sets "library" and "level" (a setSpec a:b is a subset of a) hold
// every record that has a holding library, which is every live record: a
// harvest of either is the harvest of all records.
const (
	SetLibrary = "library"
	SetLevel   = "level"
)

// LibrarySet returns the set spec of a holding library. Characters a set
// spec cannot hold are written ~XX (hex), as is '~' itself, so distinct
// codes always give distinct specs.
func LibrarySet(code string) string { return SetLibrary + ":" + escapeSpec(code) }

// LevelSet returns the set spec of a library level.
func LevelSet(level string) string { return SetLevel + ":" + escapeSpec(level) }

// Sets returns the specs of the sets a live union record is in, in order.
func Sets(u *dedup.UnionRecord) []string {
	var out []string
	for _, code := range u.Libraries {
		out = append(out, LibrarySet(code))
	}
	for _, l := range u.Levels {
		out = append(out, LevelSet(l))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// specChar reports whether c may appear in a set spec component
// (OAI-PMH setSpecType: [A-Za-z0-9\-_\.!~\*'\(\)]), '~' excepted since it
// escapes.
func specChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("-_.!*'()", c) >= 0
}

func escapeSpec(s string) string {
	if s == "" {
		return "~"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if specChar(c) {
			b.WriteByte(c)
			continue
		}
		const hex = "0123456789ABCDEF"
		b.WriteByte('~')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ValidSpec reports whether s is a syntactically valid set spec.
func ValidSpec(s string) bool {
	for _, part := range strings.Split(s, ":") {
		if part == "" {
			return false
		}
		for i := 0; i < len(part); i++ {
			if !specChar(part[i]) && part[i] != '~' {
				return false
			}
		}
	}
	return true
}

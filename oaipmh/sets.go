package oaipmh

import (
	"slices"
	"strings"

	"github.com/unicat/unicat/store"
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

// validSpec reports whether s is a syntactically valid set spec.
func validSpec(s string) bool {
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

// indexSpec maps a requested set to the index's list: the parent sets are
// the list of all records.
func indexSpec(set string) string {
	if set == "" || set == SetLibrary || set == SetLevel {
		return allSet
	}
	return set
}

var levelNames = map[string]string{
	"province": "Thư viện cấp tỉnh (province libraries)",
	"district": "Thư viện cấp huyện (district libraries)",
	"commune":  "Phòng đọc cấp xã (commune reading rooms)",
}

type setInfo struct{ spec, name string }

// allSets lists every set: the parents, the sets of the registered
// libraries (the network's: every source's own and those described
// beside them, such as the holders an upstream union catalog reports)
// and their levels, and any other set the index has seen (a library no
// longer configured still has its deletions), by spec.
func allSets(r *reader, libraries []store.LibraryInfo, sources []store.SourceInfo) []setInfo {
	names := map[string]string{
		SetLibrary: "Theo thư viện giữ bản (by holding library)",
		SetLevel:   "Theo cấp thư viện (by library level)",
	}
	add := func(spec, name string) {
		switch old, ok := names[spec]; {
		case !ok || old == "":
			names[spec] = name
		case name != "" && !strings.Contains(old, name):
			names[spec] = old + "; " + name
		}
	}
	for _, l := range libraries {
		add(LibrarySet(l.Code), l.Name)
		if l.Level != "" {
			add(LevelSet(l.Level), levelNames[l.Level])
		}
	}
	for _, s := range sources {
		if s.LibraryCode != "" {
			add(LibrarySet(s.LibraryCode), s.Name)
		}
		if s.Level != "" {
			add(LevelSet(s.Level), levelNames[s.Level])
		}
	}
	r.specs(func(spec string) { add(spec, "") })
	out := make([]setInfo, 0, len(names))
	for spec, name := range names {
		if name == "" {
			name = spec
			if code, ok := strings.CutPrefix(spec, SetLevel+":"); ok && levelNames[code] != "" {
				name = levelNames[code]
			}
		}
		out = append(out, setInfo{spec, name})
	}
	slices.SortFunc(out, func(a, b setInfo) int { return strings.Compare(a.spec, b.spec) })
	return out
}

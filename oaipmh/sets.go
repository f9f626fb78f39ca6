package oaipmh

import (
	"slices"
	"strings"

	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/store"
)

// indexSpec maps a requested set to the index's list: the parent sets are
// the list of all records.
func indexSpec(set string) string {
	if set == "" || set == oaiindex.SetLibrary || set == oaiindex.SetLevel {
		return oaiindex.AllRecords
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
func allSets(r *oaiindex.Reader, libraries []store.LibraryInfo, sources []store.SourceInfo) []setInfo {
	names := map[string]string{
		oaiindex.SetLibrary: "Theo thư viện giữ bản (by holding library)",
		oaiindex.SetLevel:   "Theo cấp thư viện (by library level)",
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
		add(oaiindex.LibrarySet(l.Code), l.Name)
		if l.Level != "" {
			add(oaiindex.LevelSet(l.Level), levelNames[l.Level])
		}
	}
	for _, s := range sources {
		if s.LibraryCode != "" {
			add(oaiindex.LibrarySet(s.LibraryCode), s.Name)
		}
		if s.Level != "" {
			add(oaiindex.LevelSet(s.Level), levelNames[s.Level])
		}
	}
	r.Specs(func(spec string) { add(spec, "") })
	out := make([]setInfo, 0, len(names))
	for spec, name := range names {
		if name == "" {
			name = spec
			if code, ok := strings.CutPrefix(spec, oaiindex.SetLevel+":"); ok && levelNames[code] != "" {
				name = levelNames[code]
			}
		}
		out = append(out, setInfo{spec, name})
	}
	slices.SortFunc(out, func(a, b setInfo) int { return strings.Compare(a.spec, b.spec) })
	return out
}

package config

import (
	"reflect"
	"strings"
)

// RestartOnly names the top-level sections a running service cannot
// change: the store's place, the listeners and the protocol servers, which
// are built once at start. A reload (SIGHUP) keeps their running values
// and reports every setting in them that the new file changes. Everything
// else (sources, harvest, dedup; import, which only the commands read) is
// applied by a reload.
var RestartOnly = []string{"data_dir", "http", "z3950", "sru", "oai", "admin"}

// ForReload returns the configuration a running service adopts when its
// file is reloaded: next, but with the RestartOnly sections of running,
// and the settings next changes in them (e.g. "http.addr"), which need a
// restart. Neither argument is modified. The names carry no values: the
// admin token must not end up in a log.
func ForReload(running, next *Config) (*Config, []string) {
	eff := *next
	var restart []string
	rv, nv, ev := reflect.ValueOf(running).Elem(), reflect.ValueOf(next).Elem(), reflect.ValueOf(&eff).Elem()
	t := rv.Type()
	for i := range t.NumField() {
		name := yamlName(t.Field(i))
		if !isRestartOnly(name) {
			continue
		}
		restart = appendChanged(restart, name, rv.Field(i), nv.Field(i))
		ev.Field(i).Set(rv.Field(i))
	}
	return &eff, restart
}

func isRestartOnly(name string) bool {
	for _, r := range RestartOnly {
		if r == name {
			return true
		}
	}
	return false
}

// appendChanged adds the dotted names of the settings that differ between
// a and b (the leaves of nested sections).
func appendChanged(out []string, name string, a, b reflect.Value) []string {
	if a.Kind() != reflect.Struct {
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			out = append(out, name)
		}
		return out
	}
	for i := range a.NumField() {
		f := a.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		out = appendChanged(out, name+"."+yamlName(f), a.Field(i), b.Field(i))
	}
	return out
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

// SourceChanges compares the sources of two configurations by id: the
// ones only in next (added), only in prev (removed), and in both with any
// setting different (changed), each in the order of its file.
func SourceChanges(prev, next *Config) (added, removed, changed []string) {
	for i := range next.Sources {
		s := &next.Sources[i]
		p, ok := prev.Source(s.ID)
		switch {
		case !ok:
			added = append(added, s.ID)
		case !reflect.DeepEqual(*p, *s):
			changed = append(changed, s.ID)
		}
	}
	for i := range prev.Sources {
		if _, ok := next.Source(prev.Sources[i].ID); !ok {
			removed = append(removed, prev.Sources[i].ID)
		}
	}
	return added, removed, changed
}

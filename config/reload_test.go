package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every top-level section is either applied by a reload or restart-only:
// a new section must be put on one side.
func TestReloadSectionsClassified(t *testing.T) {
	reloadable := []string{"harvest", "sources", "libraries", "dedup", "import", "-"}
	ct := reflect.TypeOf(Config{})
	for i := range ct.NumField() {
		name := yamlName(ct.Field(i))
		if !slices.Contains(reloadable, name) && !isRestartOnly(name) {
			t.Errorf("section %q is neither reloadable nor in RestartOnly", name)
		}
	}
}

// Each setting of a restart-only section that the new file changes is
// reported by its name and keeps its running value; the reloadable ones
// are applied without a report.
func TestForReload(t *testing.T) {
	running, err := Parse([]byte(good), "/etc/unicat/unicat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// One setting at a time, every leaf of every restart-only section.
	rv := reflect.ValueOf(running).Elem()
	leaves := 0
	for i := range rv.NumField() {
		top := yamlName(rv.Type().Field(i))
		if !isRestartOnly(top) {
			continue
		}
		forEachLeaf(top, rv.Field(i), func(name string, path []int) {
			leaves++
			next := *running
			f := reflect.ValueOf(&next).Elem().Field(i)
			if len(path) > 0 {
				f = f.FieldByIndex(path)
			}
			bump(f)
			eff, restart := ForReload(running, &next)
			if !slices.Equal(restart, []string{name}) {
				t.Errorf("changing %s reports %q", name, restart)
			}
			if !reflect.DeepEqual(reflect.ValueOf(eff).Elem().Field(i).Interface(), rv.Field(i).Interface()) {
				t.Errorf("changing %s: the running value was not kept", name)
			}
		})
	}
	if leaves < 16 {
		t.Errorf("only %d restart-only settings found", leaves)
	}

	next, err := Parse([]byte(strings.NewReplacer(
		`addr: "127.0.0.1:8080"`, `addr: "0.0.0.0:80"`,
		`schedule: "@daily"`, `schedule: "@every 6h"`,
	).Replace(good)+"harvest: {max_concurrent: 5}\n"), "/etc/unicat/unicat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	eff, restart := ForReload(running, next)
	if !slices.Equal(restart, []string{"http.addr"}) {
		t.Errorf("restart %q, want http.addr", restart)
	}
	if eff.HTTP.Addr != "127.0.0.1:8080" || eff.Sources[0].Schedule != "@every 6h" || eff.Harvest.MaxConcurrent != 5 {
		t.Errorf("effective: http %q, schedule %q, max_concurrent %d", eff.HTTP.Addr, eff.Sources[0].Schedule, eff.Harvest.MaxConcurrent)
	}
	if running.Sources[0].Schedule != "@daily" || next.HTTP.Addr != "0.0.0.0:80" {
		t.Error("ForReload modified its arguments")
	}
}

// forEachLeaf calls fn with the dotted name and field index path of every
// non-struct setting below v (v itself when it is not a struct).
func forEachLeaf(name string, v reflect.Value, fn func(string, []int)) {
	var walk func(name string, v reflect.Value, path []int)
	walk = func(name string, v reflect.Value, path []int) {
		if v.Kind() != reflect.Struct {
			fn(name, path)
			return
		}
		for i := range v.NumField() {
			walk(name+"."+yamlName(v.Type().Field(i)), v.Field(i), append(slices.Clone(path), i))
		}
	}
	walk(name, v, nil)
}

func bump(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + int64(time.Second))
	case reflect.Bool:
		v.SetBool(!v.Bool())
	default:
		panic("bump: " + v.Kind().String())
	}
}

func TestSourceChanges(t *testing.T) {
	prev, err := Parse([]byte(good), "")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(good, "    set: books\n", "    set: serials\n", 1)
	doc = strings.Replace(doc, "  - id: na-tinh", `  - id: cua-lo
    name: "Phòng đọc phường Cửa Lò"
    library_code: NA-CUALO
    level: commune
    kind: file
    path: cua-lo/
  - id: na-tinh-old`, 1)
	next, err := Parse([]byte(doc), "")
	if err != nil {
		t.Fatal(err)
	}
	added, removed, changed := SourceChanges(prev, next)
	if !slices.Equal(added, []string{"cua-lo", "na-tinh-old"}) || !slices.Equal(removed, []string{"na-tinh"}) || !slices.Equal(changed, []string{"vinh-oai"}) {
		t.Errorf("added %q removed %q changed %q", added, removed, changed)
	}
	if a, r, c := SourceChanges(prev, prev); a != nil || r != nil || c != nil {
		t.Errorf("no change: %q %q %q", a, r, c)
	}
}

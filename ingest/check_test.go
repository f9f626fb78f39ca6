package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
)

// TestCheckSameAsImport: Check reports what Import into an empty store
// does with the same files (records read, rejects and duplicates with
// where they were read, conversions, warnings), and counts as to import
// what Import adds.
func TestCheckSameAsImport(t *testing.T) {
	glob := func(pattern string) []string {
		files, err := filepath.Glob(filepath.Join("..", "testdata", pattern))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v %v", pattern, files, err)
		}
		return files
	}
	isoBad, _ := export(t, marc.FormatISO2709, record("vn\x00bad", "NUL in 001"), record(strings.Repeat("9", 9000), "long 001"))
	xmlBad, _ := export(t, marc.FormatMARCXML, record(strings.Repeat("8", 40<<10), "40 KB 001"))
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.mrc"), filepath.Join(dir, "b.mrc")
	writeFile(t, a, record("1", "one"), record("1", "one again"), record("2", "two"))
	writeFile(t, b, record("2", "two again"), record("3", "three"))
	for _, c := range []struct {
		name    string
		files   []string
		charset marc.Charset
	}{
		{"Vietnamese exports", glob("vietnamese/*.mrc"), ""},
		{"Vietnamese exports read as TCVN3", glob("vietnamese/*.mrc"), marc.CharsetTCVN3},
		{"yaz's test records", glob("marc/yaz/*.marc"), ""},
		{"bad control numbers", []string{isoBad, xmlBad}, ""},
		{"duplicates", []string{a, b}, ""},
	} {
		var imported, checked []string
		note := func(to *[]string) func(string, int, string, *marc.Origin) {
			return func(file string, index int, id string, o *marc.Origin) {
				*to = append(*to, fmt.Sprintf("%s %d %s %s", file, index, id, o))
			}
		}
		want, err := Import(context.Background(), openStore(t), c.files,
			Options{Source: "vinh", Charset: c.charset, Converted: note(&imported)})
		if err != nil {
			t.Fatalf("%s: import: %v", c.name, err)
		}
		got, err := Check(context.Background(), c.files, Options{Charset: c.charset, Converted: note(&checked)})
		if err != nil {
			t.Fatalf("%s: check: %v", c.name, err)
		}
		if toImport := got.Read - got.Rejected - got.Duplicates; toImport != want.Added {
			t.Errorf("%s: check finds %d to import, import added %d", c.name, toImport, want.Added)
		}
		if got.Added+got.Updated+got.Unchanged+got.Deleted != 0 {
			t.Errorf("%s: check counts records stored: %+v", c.name, got)
		}
		got.Added = want.Added
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: check\n %+v\nimport\n %+v", c.name, got, want)
		}
		if !reflect.DeepEqual(checked, imported) || len(imported) == 0 && c.name != "duplicates" && c.name != "bad control numbers" {
			t.Errorf("%s: conversions noted by check\n %q\nby import\n %q", c.name, checked, imported)
		}
	}
}

package config

import (
	"strings"
	"testing"
)

// max_record_bytes is a setting of every kind of source, 99,999 unless
// set, and within its bounds.
func TestMaxRecordBytes(t *testing.T) {
	cfg, err := Parse([]byte(`
sources:
  - {id: o, name: O, library_code: O, level: commune, kind: oai, url: "http://x/oai"}
  - {id: f, name: F, library_code: F, level: commune, kind: file, path: x, max_record_bytes: 2000000}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	o, _ := cfg.Source("o")
	f, _ := cfg.Source("f")
	if o.MaxRecordBytes != 99999 || f.MaxRecordBytes != 2000000 {
		t.Errorf("max_record_bytes %d and %d, want 99999 and 2000000", o.MaxRecordBytes, f.MaxRecordBytes)
	}
	got := problems(t, `sources:
  - {id: a, name: A, library_code: A, level: commune, kind: file, path: x, max_record_bytes: 10}
  - {id: b, name: B, library_code: B, level: commune, kind: sru, url: "http://x/sru", max_record_bytes: 17000000}
`)
	want := []string{
		"line 2: sources[0].max_record_bytes: must be between 1000 and 16777216, got 10",
		"line 3: sources[1].max_record_bytes: must be between 1000 and 16777216, got 17000000",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

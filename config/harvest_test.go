package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestHarvestDefaults(t *testing.T) {
	cfg, err := Parse([]byte(`
sources:
  - {id: o, name: O, library_code: O, level: commune, kind: oai, url: "http://x/oai"}
  - {id: s, name: S, library_code: S, level: commune, kind: sru, url: "http://x/sru"}
  - {id: f, name: F, library_code: F, level: commune, kind: file, path: x}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Harvest.Jitter != DefaultHarvestJitter || cfg.Harvest.UserAgent != DefaultUserAgent {
		t.Errorf("harvest defaults: %+v", cfg.Harvest)
	}
	o, _ := cfg.Source("o")
	if o.MaxRetries != 5 || o.RetryWait != 10*time.Second || o.Timeout != time.Minute || o.MaxEmptyPages != 10 || o.Query != "" || o.PageSize != 0 {
		t.Errorf("oai defaults: %+v", o)
	}
	s, _ := cfg.Source("s")
	if s.Query != DefaultSRUQuery || s.PageSize != 100 || s.SRUVersion != "1.2" || s.MaxEmptyPages != 10 {
		t.Errorf("sru defaults: %+v", s)
	}
	f, _ := cfg.Source("f")
	if f.MaxRetries != 0 || f.Timeout != 0 || f.MaxEmptyPages != 0 {
		t.Errorf("file source got network defaults: %+v", f)
	}
}

func TestHarvestSettings(t *testing.T) {
	cfg, err := Parse([]byte(`
harvest: {max_concurrent: 4, jitter: 30s, user_agent: "unicat (Nghe An)"}
sources:
  - id: koha
    name: K
    library_code: K
    level: district
    kind: oai
    url: "http://koha/cgi-bin/koha/oai.pl"
    metadata_prefix: marcxml
    deletions: list-identifiers
    max_retries: 2
    retry_wait: 500ms
    timeout: 2m
    max_empty_pages: 3
  - id: s
    name: S
    library_code: S
    level: commune
    kind: sru
    url: "http://x/sru"
    query: "dc.title=a"
    date_index: rec.lastModificationDate
    page_size: 50
    sru_version: "2.0"
  - {id: f, name: F, library_code: F, level: commune, kind: file, path: x, full_export: true}
`), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Harvest.Jitter != 30*time.Second || cfg.Harvest.MaxConcurrent != 4 {
		t.Errorf("harvest: %+v", cfg.Harvest)
	}
	k, _ := cfg.Source("koha")
	if k.Deletions != DeletionsListIdentifiers || k.MaxRetries != 2 || k.RetryWait != 500*time.Millisecond || k.Timeout != 2*time.Minute || k.MaxEmptyPages != 3 {
		t.Errorf("koha: %+v", k)
	}
	s, _ := cfg.Source("s")
	if s.Query != "dc.title=a" || s.DateIndex != "rec.lastModificationDate" || s.PageSize != 50 || s.SRUVersion != "2.0" {
		t.Errorf("sru: %+v", s)
	}
	if f, _ := cfg.Source("f"); !f.FullExport {
		t.Errorf("file: %+v", f)
	}
}

func TestHarvestProblems(t *testing.T) {
	got := problems(t, `harvest: {jitter: 2h, user_agent: "a\tb"}
sources:
  - id: o
    name: O
    library_code: O
    level: commune
    kind: oai
    url: "http://x/oai"
    deletions: sometimes
    max_retries: -1
    retry_wait: 1ms
    timeout: 100ms
    max_empty_pages: 5000
    query: "x=1"
    full_export: true
  - id: f
    name: F
    library_code: F
    level: commune
    kind: file
    path: x
    max_retries: 3
    deletions: list-identifiers
    page_size: 10
  - id: s
    name: S
    library_code: S
    level: commune
    kind: sru
    url: "http://x/sru"
    query: "   "
    date_index: "a b"
    page_size: 20000
    sru_version: "3.0"
`)
	want := []string{
		"line 1: harvest.jitter: must be between 0s and 1h, got 2h0m0s",
		"line 1: harvest.user_agent: \"a\\tb\" must not contain control characters",
		"line 9: sources[0].deletions: \"sometimes\" is not one of list-identifiers (or empty)",
		"line 10: sources[0].max_retries: must be between 0 and 100, got -1",
		"line 11: sources[0].retry_wait: must be between 100ms and 1h, got 1ms (write a unit: 10s)",
		"line 12: sources[0].timeout: must be between 1s and 1h, got 100ms (write a unit: 60s)",
		"line 13: sources[0].max_empty_pages: must be between 1 and 1000, got 5000",
		"line 14: sources[0].query: is only used by kind sru",
		"line 15: sources[0].full_export: is only used by kind file",
		"line 22: sources[1].max_retries: is only used by kind oai, sru or z3950",
		"line 23: sources[1].deletions: is only used by kind oai",
		"line 24: sources[1].page_size: is only used by kind sru",
		"line 31: sources[2].query: must not be blank",
		"line 32: sources[2].date_index: \"a b\" is not a CQL index name",
		"line 33: sources[2].page_size: must be between 1 and 10000, got 20000",
		"line 34: sources[2].sru_version: \"3.0\" is not one of 1.1, 1.2, 2.0",
	}
	joined := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("missing problem %q in:\n%s", w, joined)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), joined)
	}

	// A duration without a unit is a type error with its line, not 10ns.
	got = problems(t, `sources:
  - {id: o, name: O, library_code: O, level: commune, kind: oai, url: "http://x/oai", retry_wait: 10}
`)
	if len(got) != 1 || !strings.Contains(got[0], "line 2") {
		t.Errorf("retry_wait: 10: got %q", got)
	}
}

func TestZ3950SourceTakesAQuery(t *testing.T) {
	doc := `sources:
  - {id: z, name: Z, library_code: Z, level: commune, kind: z3950, url: "127.0.0.1:210/Default", query: "@attr 1=4 kieu"}
`
	cfg, err := Parse([]byte(doc), "z.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sources[0].Query != "@attr 1=4 kieu" {
		t.Errorf("query = %q", cfg.Sources[0].Query)
	}
	if _, err := Parse([]byte(strings.Replace(doc, "kind: z3950, url: \"127.0.0.1:210/Default\"", "kind: file, path: x", 1)), "z.yaml"); err == nil || !strings.Contains(err.Error(), "query: is only used by kind sru or z3950") {
		t.Errorf("query on a file source: %v", err)
	}
}

// TestZ3950PageSize: page_size is records per Present for kind z3950,
// 50 unless set, between 1 and 1000.
func TestZ3950PageSize(t *testing.T) {
	cfg, err := Parse([]byte(`sources:
  - {id: z, name: Z, library_code: Z, level: commune, kind: z3950, url: "127.0.0.1:210/Default"}
  - {id: y, name: Y, library_code: Y, level: commune, kind: z3950, url: "127.0.0.1:210/Default", page_size: 200}
`), "z.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if z, _ := cfg.Source("z"); z.PageSize != 50 {
		t.Errorf("default page_size = %d, want 50", z.PageSize)
	}
	if y, _ := cfg.Source("y"); y.PageSize != 200 {
		t.Errorf("page_size = %d, want 200", y.PageSize)
	}
	got := problems(t, `sources:
  - {id: z, name: Z, library_code: Z, level: commune, kind: z3950, url: "127.0.0.1:210/Default", page_size: 1001}
  - {id: y, name: Y, library_code: Y, level: commune, kind: z3950, url: "127.0.0.1:210/Default", page_size: -1}
  - {id: o, name: O, library_code: O, level: commune, kind: oai, url: "http://x/oai", page_size: 10}
`)
	want := []string{
		"line 2: sources[0].page_size: must be between 1 and 1000, got 1001",
		"line 3: sources[1].page_size: must be between 1 and 1000, got -1",
		"line 4: sources[2].page_size: is only used by kind sru or z3950",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

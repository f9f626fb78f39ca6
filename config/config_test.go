package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const good = `
data_dir: data
http:   {addr: "127.0.0.1:8080"}
z3950:  {addr: "127.0.0.1:2100", database: unicat}
sources:
  - id: na-tinh
    name: "Thư viện tỉnh Nghệ An"
    library_code: NA-TINH
    level: province
    kind: file
    path: ../testdata/vietnamese/na-tinh.xml
    schedule: "@daily"
  - id: vinh-oai
    name: "Thư viện thành phố Vinh"
    library_code: NA-VINH
    level: district
    kind: oai
    url: "http://127.0.0.1:9999/oai"
    set: books
    schedule: "0 2 * * *"
`

func TestParseGood(t *testing.T) {
	cfg, err := Parse([]byte(good), "/etc/unicat/unicat.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) != 2 {
		t.Fatalf("got %d sources, want 2", len(cfg.Sources))
	}
	s, ok := cfg.Source("vinh-oai")
	if !ok || s.MetadataPrefix != "marc21" || s.Holdings != "852" {
		t.Errorf("defaults not applied: %+v", s)
	}
	if got, want := cfg.Resolve(cfg.Sources[0].Path), "/etc/testdata/vietnamese/na-tinh.xml"; got != want {
		t.Errorf("Resolve = %q, want %q", got, want)
	}
	if got, want := cfg.StorePath(), "/etc/unicat/data/unicat.db"; got != want {
		t.Errorf("StorePath = %q, want %q", got, want)
	}
}

// problems parses doc and returns the problems as strings.
func problems(t *testing.T, doc string) []string {
	t.Helper()
	_, err := Parse([]byte(doc), "test.yaml")
	if err == nil {
		t.Fatalf("config accepted, want errors:\n%s", doc)
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %T is not *config.Error: %v", err, err)
	}
	var out []string
	for _, p := range ce.Problems {
		out = append(out, p.String())
	}
	return out
}

func TestErrorsNameLineAndField(t *testing.T) {
	doc := `data_dir: data
sources:
  - id: Bad_ID
    name: x
    library_code: X
    level: village
    kind: file
  - id: ok
    nmae: typo
    name: y
    library_code: Y
    level: district
    kind: oai
    url: ftp://example
    schedule: "every tuesday"
`
	got := problems(t, doc)
	// Unknown keys stop value validation (the structure is wrong), so only
	// the typo is reported first.
	if len(got) != 1 || !strings.Contains(got[0], "line 9") || !strings.Contains(got[0], "nmae") {
		t.Fatalf("unknown key: got %q", got)
	}

	doc = strings.Replace(doc, "    nmae: typo\n", "", 1)
	got = problems(t, doc)
	want := []string{
		"line 3: sources[0].id: \"Bad_ID\"",
		"line 6: sources[0].level: \"village\" is not one of province, district, commune",
		"line 3: sources[0].path: is required for kind file",
		"line 13: sources[1].url: \"ftp://example\" must be an http:// or https:// URL",
		"line 14: sources[1].schedule: \"every tuesday\"",
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
}

func TestDuplicateIDAndTypeErrors(t *testing.T) {
	got := problems(t, `
sources:
  - {id: a, name: A, library_code: A, level: commune, kind: file, path: x}
  - {id: a, name: B, library_code: B, level: commune, kind: file, path: y}
`)
	if len(got) != 1 || !strings.Contains(got[0], `line 4: sources[1].id: "a" is already used by sources[0]`) {
		t.Errorf("duplicate id: got %q", got)
	}
	got = problems(t, "http: {addr: [1, 2]}\n")
	if len(got) != 1 || !strings.Contains(got[0], "line 1") {
		t.Errorf("type error: got %q", got)
	}
	got = problems(t, "sources: [\n")
	if len(got) != 1 || !strings.Contains(got[0], "line") {
		t.Errorf("syntax error: got %q", got)
	}
	got = problems(t, "")
	if len(got) != 1 || !strings.Contains(got[0], "empty") {
		t.Errorf("empty: got %q", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load of missing file: %v", err)
	}
}

// The demo configuration in the repository must always load.
func TestDemoConfigLoads(t *testing.T) {
	cfg, err := Load("demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Sources) == 0 {
		t.Fatal("demo config has no sources")
	}
	for _, s := range cfg.Sources {
		if s.Kind == KindFile {
			if _, err := os.Stat(cfg.Resolve(s.Path)); err != nil {
				t.Errorf("source %s: %v", s.ID, err)
			}
		}
	}
}

func TestDedupSection(t *testing.T) {
	doc := good + `
dedup:
  bad_isbns: ["978-604-0-00000-0", "0-19-852663-6"]
  source_priority: [vinh-oai, province]
`
	cfg, err := Parse([]byte(doc), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Dedup.BadISBNs) != 2 {
		t.Errorf("bad_isbns = %q", cfg.Dedup.BadISBNs)
	}
	vinh, _ := cfg.Source("vinh-oai")
	tinh, _ := cfg.Source("na-tinh")
	if pv, pt := cfg.Priority(vinh), cfg.Priority(tinh); pv <= pt || pt == 0 {
		t.Errorf("priorities vinh-oai %d, na-tinh %d: want the listed source first, then the province", pv, pt)
	}
	// Without the section: province > district.
	cfg, err = Parse([]byte(good), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	vinh, _ = cfg.Source("vinh-oai")
	tinh, _ = cfg.Source("na-tinh")
	if cfg.Priority(tinh) <= cfg.Priority(vinh) {
		t.Errorf("default priorities: province %d, district %d", cfg.Priority(tinh), cfg.Priority(vinh))
	}

	bad := good + `
dedup:
  bad_isbns: ["not an isbn"]
  source_priority: [district, nowhere, district]
`
	got := strings.Join(problems(t, bad), "\n")
	for _, want := range []string{`dedup.bad_isbns[0]: "not an isbn" is not an ISBN`, `dedup.source_priority[1]: "nowhere" is neither`, `dedup.source_priority[2]: "district" is listed twice`} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
}

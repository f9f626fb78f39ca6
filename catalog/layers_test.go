package catalog

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// frontEnds are the packages that serve the catalog. They read it
// through Reader only and never import each other.
var frontEnds = []string{"sru", "z3950", "oaipmh", "web", "admin"}

// imports returns what a package's non-test files import.
func imports(t *testing.T, dir string) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no Go files (%v)", dir, err)
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range af.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			out[p] = true
		}
	}
	return out
}

// TestFrontEndsReadThroughTheCatalog: no front end opens a bbolt
// transaction of its own or imports another front end.
func TestFrontEndsReadThroughTheCatalog(t *testing.T) {
	const module = "github.com/unicat/unicat/"
	for _, fe := range frontEnds {
		imp := imports(t, fe)
		if !imp[module+"catalog"] {
			t.Errorf("%s does not import catalog", fe)
		}
		for p := range imp {
			if strings.HasPrefix(p, "go.etcd.io/bbolt") {
				t.Errorf("%s imports %s: front ends read through catalog.Reader", fe, p)
			}
			for _, other := range frontEnds {
				if other != fe && p == module+other {
					t.Errorf("%s imports the front end %s", fe, other)
				}
			}
		}
	}
}

// TestArchitectureDocListsEveryPackage keeps docs/architecture.md's
// package table true: one row per package `go list` finds, each naming the
// module packages its non-test files import, no more and no fewer.
func TestArchitectureDocListsEveryPackage(t *testing.T) {
	const module = "github.com/unicat/unicat"
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}|{{join .Imports " "}}`, "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	listed := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imps, _ := strings.Cut(line, "|")
		var own []string
		for _, p := range strings.Fields(imps) {
			if rest, ok := strings.CutPrefix(p, module+"/"); ok {
				own = append(own, rest)
			}
		}
		sort.Strings(own)
		listed[strings.TrimPrefix(strings.TrimPrefix(path, module), "/")] = strings.Join(own, ", ")
	}

	doc, err := os.ReadFile("../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := packageTable(t, string(doc))
	for pkg, imps := range listed {
		got, ok := documented[pkg]
		switch {
		case !ok:
			t.Errorf("docs/architecture.md: package %s is not in the table", pkg)
		case got != imps:
			t.Errorf("docs/architecture.md: %s imports %q, the table says %q", pkg, imps, got)
		}
	}
	for pkg := range documented {
		if _, ok := listed[pkg]; !ok {
			t.Errorf("docs/architecture.md: the table names %s, which go list does not find", pkg)
		}
	}
}

// packageTable reads the rows of the table headed "| package |": the
// package (in backquotes) and its imports ("—" for none), sorted.
func packageTable(t *testing.T, doc string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	in := false
	for _, line := range strings.Split(doc, "\n") {
		switch {
		case strings.HasPrefix(line, "| package |"):
			in = true
			continue
		case !in || strings.HasPrefix(line, "|---"):
			continue
		case !strings.HasPrefix(line, "|"):
			in = false
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) != 3 {
			t.Fatalf("docs/architecture.md: row %q has %d cells, want 3", line, len(cells))
		}
		pkg := strings.Trim(strings.TrimSpace(cells[0]), "`")
		var imps []string
		for _, p := range strings.Split(cells[2], ",") {
			if p = strings.TrimSpace(p); p != "" && p != "—" {
				imps = append(imps, p)
			}
		}
		sort.Strings(imps)
		if _, dup := rows[pkg]; dup {
			t.Errorf("docs/architecture.md: %s has two rows", pkg)
		}
		rows[pkg] = strings.Join(imps, ", ")
	}
	if len(rows) == 0 {
		t.Fatal("docs/architecture.md: no package table")
	}
	return rows
}

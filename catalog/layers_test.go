package catalog

import (
	"go/parser"
	"go/token"
	"path/filepath"
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

package search

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/search.md")

const (
	tableStart = "<!-- index table: generated from search.Indexes by `go test ./search -run IndexTableDoc -update` -->"
	tableEnd   = "<!-- end of index table -->"
)

// indexTableMarkdown renders the index table for the documentation.
func indexTableMarkdown() string {
	var b strings.Builder
	b.WriteString("| index | CQL names | Bib-1 use | kind | sort | MARC fields |\n|---|---|---|---|---|---|\n")
	for _, d := range Indexes() {
		var uses []string
		for _, u := range d.Bib1 {
			uses = append(uses, fmt.Sprint(u))
		}
		sortable := ""
		if d.Sort != 0 {
			sortable = d.Sort.String()
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s |\n", d.Title, strings.Join(d.CQL, "`, `"),
			strings.Join(uses, ", "), d.Kind, sortable, strings.ReplaceAll(d.Fields, "|", "\\|"))
	}
	return b.String()
}

// TestIndexTableDoc keeps the index table of docs/search.md what the code
// declares.
func TestIndexTableDoc(t *testing.T) {
	checkGenerated(t, "../docs/search.md", tableStart, tableEnd, indexTableMarkdown(), "IndexTableDoc")
}

// checkGenerated fails unless the part of the file at path between the
// lines start and end is generated (or, with -update, rewrites it).
func checkGenerated(t *testing.T, path, start, end, generated, test string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, start), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the markers of its generated part", path)
	}
	want := s[:i+len(start)] + "\n" + generated + s[j:]
	if want == s {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: its generated part differs from search.Indexes; run go test ./search -run %s -update", path, test)
}

const (
	pqfStart = "# index lines: generated from search.Indexes by `go test ./search -run PQFProperties -update`"
	pqfEnd   = "# end of index lines"
)

// pqfIndexLines maps every CQL name of an index with a Bib-1 use
// attribute to the first, as YAZ's cql2rpn reads it.
func pqfIndexLines() string {
	var b strings.Builder
	for _, d := range Indexes() {
		if len(d.Bib1) == 0 {
			continue
		}
		for _, name := range d.CQL {
			fmt.Fprintf(&b, "index.%-32s = 1=%d\n", name, d.Bib1[0])
		}
	}
	return b.String()
}

// TestPQFProperties keeps the CQL mapping of the Zebra comparison
// (testdata/peers/zebra/cql2pqf.properties) the index table's.
func TestPQFProperties(t *testing.T) {
	checkGenerated(t, "../testdata/peers/zebra/cql2pqf.properties", pqfStart, pqfEnd, pqfIndexLines(), "PQFProperties")
}

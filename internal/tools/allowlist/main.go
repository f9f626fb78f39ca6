// Command allowlist holds a linter's findings against a checked-in list of
// the findings accepted, each with its reason, for the hygiene gate of
// make vet (internal/tools/hygiene.sh runs deadcode and staticcheck
// through it):
//
//	linter | allowlist LIST
//
// Each line on standard input is one finding, in a form without line
// numbers so that entries survive edits elsewhere in a file. Each line of
// LIST that is neither blank nor a comment (#) is an entry: the finding,
// " # ", and why it stays; an entry without a reason is an error. An entry
// ending in "*" accepts every finding that begins with what comes before
// the star (a package of test helpers, say).
//
// allowlist prints the findings no entry accepts and the entries that
// accept no finding, and exits 1 if there is any, so the list never
// outlives what it excuses. An entry whose reason begins "pending:" (code
// being reworked on another branch) that accepts nothing is only noted:
// that branch landing removes the finding first.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// entry is one accepted finding, or prefix of findings.
type entry struct {
	line    int
	finding string
	prefix  bool
	reason  string
	used    bool
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: allowlist LIST < findings")
		os.Exit(2)
	}
	name := os.Args[1]
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "allowlist:", err)
		os.Exit(2)
	}
	entries, err := parseList(f)
	f.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "allowlist: %s:%v\n", name, err)
		os.Exit(2)
	}
	findings, err := readFindings(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "allowlist:", err)
		os.Exit(2)
	}
	if !report(os.Stdout, name, entries, findings) {
		os.Exit(1)
	}
}

// parseList reads the entries of a list.
func parseList(r io.Reader) ([]*entry, error) {
	var out []*entry
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndex(l, " # ")
		if i < 0 || strings.TrimSpace(l[i+3:]) == "" {
			return nil, fmt.Errorf("%d: %q has no reason (finding # why it stays)", n, l)
		}
		e := &entry{line: n, finding: strings.TrimSpace(l[:i]), reason: strings.TrimSpace(l[i+3:])}
		e.finding, e.prefix = strings.CutSuffix(e.finding, "*")
		out = append(out, e)
	}
	return out, sc.Err()
}

// readFindings returns the non-blank lines of r, trimmed.
func readFindings(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// report writes what the list does not accept and what in it accepts
// nothing, and says whether the findings pass.
func report(w io.Writer, name string, entries []*entry, findings []string) bool {
	ok := true
	for _, f := range findings {
		accepted := false
		for _, e := range entries {
			if f == e.finding || e.prefix && strings.HasPrefix(f, e.finding) {
				e.used, accepted = true, true
			}
		}
		if !accepted {
			fmt.Fprintf(w, "%s: not accepted: %s\n", name, f)
			ok = false
		}
	}
	for _, e := range entries {
		switch {
		case e.used:
		case strings.HasPrefix(e.reason, "pending:"):
			fmt.Fprintf(w, "%s:%d: note: %s no longer found; remove the entry\n", name, e.line, e.pattern())
		default:
			fmt.Fprintf(w, "%s:%d: %s no longer found: remove the entry\n", name, e.line, e.pattern())
			ok = false
		}
	}
	return ok
}

func (e *entry) pattern() string {
	if e.prefix {
		return e.finding + "*"
	}
	return e.finding
}

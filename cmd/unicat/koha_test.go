package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/textnorm"
)

// kohaRecord is a record as the Koha client script prints it.
type kohaRecord struct {
	id, title, sysnos, classes, holdings string
}

// kohaAnswer is the script's answer to one search form.
type kohaAnswer struct {
	query   string
	hits    int
	err     string // "code message addinfo" of a diagnostic
	records []kohaRecord
}

// kohaSearch fills in Koha's Z39.50 search form once per element of
// forms and sends it to the Z39.50 target at addr with Koha's client
// library, Net::Z3950::ZOOM (testdata/peers/koha/z3950-search.pl).
func kohaSearch(t *testing.T, perl, addr, db string, forms []map[string]string) []kohaAnswer {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	var in strings.Builder
	for _, f := range forms {
		var boxes []string
		for k, v := range f {
			boxes = append(boxes, k+"="+v)
		}
		in.WriteString(strings.Join(boxes, "\t") + "\n")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, perl, "../../testdata/peers/koha/z3950-search.pl", host, port, db, "USMARC")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("z3950-search.pl: %v\n%s", err, out)
	}
	var answers []kohaAnswer
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if f[0] == "query" {
			answers = append(answers, kohaAnswer{query: f[1]})
			continue
		}
		if len(answers) == 0 {
			t.Fatalf("z3950-search.pl: %q before a query:\n%s", line, out)
		}
		a := &answers[len(answers)-1]
		switch {
		case f[0] == "hits" && len(f) == 2:
			a.hits, _ = strconv.Atoi(f[1])
		case f[0] == "error":
			a.err = strings.Join(f[1:], " ")
		case f[0] == "record" && len(f) == 6:
			a.records = append(a.records, kohaRecord{f[1], f[2], f[3], f[4], f[5]})
		default:
			t.Fatalf("z3950-search.pl: unexpected line %q:\n%s", line, out)
		}
	}
	if len(answers) != len(forms) {
		t.Fatalf("z3950-search.pl: %d answers to %d searches:\n%s", len(answers), len(forms), out)
	}
	return answers
}

// sruIDs returns the union ids an SRU search of the service finds.
func sruIDs(t *testing.T, httpAddr, cql string) []string {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/sru?version=1.2&operation=searchRetrieve&maximumRecords=100&query=" +
		url.QueryEscape(cql))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "numberOfRecords>") || strings.Contains(string(body), "diagnostic>") {
		t.Fatalf("SRU %s:\n%s", cql, body)
	}
	var ids []string
	for _, m := range regexp.MustCompile(`<controlfield tag="001">([^<]+)<`).FindAllStringSubmatch(string(body), -1) {
		ids = append(ids, m[1])
	}
	slices.Sort(ids)
	return ids
}

// classOf says whether one of a record's class or call numbers, with
// spaces dropped, starts with prefix.
func classOf(r kohaRecord, prefix string) bool {
	for _, c := range strings.FieldsFunc(r.classes+";"+r.holdings, func(r rune) bool { return r == ';' || r == '=' }) {
		if strings.HasPrefix(strings.ReplaceAll(c, " ", ""), prefix) {
			return true
		}
	}
	return false
}

// TestKohaCopyCataloguing searches a running `unicat serve` over the demo
// libraries the way a Koha cataloguer does: Koha's Z39.50 search form
// filled in (its boxes joined with @and, the dewey and LC call number
// boxes among them), sent by Koha's client library, asynchronous, element
// set F, USMARC. Each search is asked over SRU too, as CQL: the same
// union records must come back, and every record found must be what the
// boxes asked for.
func TestKohaCopyCataloguing(t *testing.T) {
	perl := testpeer.NeedPerl(t, "ZOOM", "MARC::Record")
	cfg := demoConfig(t)
	if _, e, code := runUnicat(t, "import", "--config", cfg, "--all"); code != 0 {
		t.Fatal(e)
	}
	_, addrs := startServe(t, cfg, z3950AddrRe, httpAddrRe)
	zaddr, haddr := addrs[0], addrs[1]
	title := func(words string) func(kohaRecord) bool {
		return func(r kohaRecord) bool { return strings.Contains(textnorm.Fold(r.title), words) }
	}
	class := func(prefix string) func(kohaRecord) bool {
		return func(r kohaRecord) bool { return classOf(r, prefix) }
	}
	searches := []struct {
		form  map[string]string // Koha's boxes
		cql   string            // the same question in CQL
		wants []func(kohaRecord) bool
	}{
		{map[string]string{"title": "Truyện Kiều", "author": "Nguyễn Du", "dewey": "895.9221", "lccall": "895.922"},
			`dc.title = "Truyện Kiều" and dc.creator = "Nguyễn Du" and unicat.callNumber = 895.9221 and unicat.callNumber = "^895.922*"`,
			[]func(kohaRecord) bool{title("truyen kieu"), class("895.9221")}},
		// The number as Vinh writes it, a space every three digits.
		{map[string]string{"dewey": "895.922 1"}, `unicat.callNumber = "895.922 1"`,
			[]func(kohaRecord) bool{class("895.9221")}},
		{map[string]string{"lccall": "895.922 3", "subject": "văn học"},
			`unicat.callNumber = "^895.922 3*" and dc.subject = "văn học"`,
			[]func(kohaRecord) bool{class("895.9223")}},
		{map[string]string{"lccall": "TK5105", "srchany": "internet"},
			`unicat.callNumber = "^TK5105*" and cql.anywhere = internet`,
			[]func(kohaRecord) bool{class("TK5105"), title("internet")}},
		{map[string]string{"isbn": "978-604-69-2437-1", "title": "kiều", "publicationyear": "2015"},
			`bath.isbn = 9786046924371 and dc.title = kiều and dc.date = 2015`,
			[]func(kohaRecord) bool{title("kieu")}},
		// An OCLC number in the control number and standard identifier
		// boxes, in two of its forms.
		{map[string]string{"controlnumber": "(OCoLC)ocm08638218", "stdid": "8638218"},
			`rec.id = "(OCoLC)ocm08638218" and dc.identifier = 8638218`,
			[]func(kohaRecord) bool{func(r kohaRecord) bool { return strings.Contains(r.sysnos, "(OCoLC)8638218") }}},
	}
	var forms []map[string]string
	for _, s := range searches {
		forms = append(forms, s.form)
	}
	answers := kohaSearch(t, perl, zaddr, "unicat", forms)
	for i, s := range searches {
		a := answers[i]
		if a.err != "" || a.hits == 0 || a.hits != len(a.records) {
			t.Errorf("%s: %d hits, %d records, diagnostic %q", a.query, a.hits, len(a.records), a.err)
			continue
		}
		var ids []string
		for _, r := range a.records {
			ids = append(ids, r.id)
			for _, want := range s.wants {
				if !want(r) {
					t.Errorf("%s: found %+v, which is not what the boxes ask for", a.query, r)
				}
			}
		}
		slices.Sort(ids)
		if want := sruIDs(t, haddr, s.cql); !slices.Equal(ids, want) {
			t.Errorf("%s: Koha finds %q, SRU %s finds %q", a.query, ids, s.cql, want)
		}
		t.Logf("%s: %d records %q", a.query, a.hits, ids)
	}
	// The Dewey box found both spellings of one number.
	spaced := slices.ContainsFunc(answers[1].records, func(r kohaRecord) bool { return strings.Contains(r.classes, "895.922 1") })
	joined := slices.ContainsFunc(answers[1].records, func(r kohaRecord) bool { return strings.Contains(r.classes, "895.9221") })
	if !spaced || !joined {
		t.Errorf("dewey 895.922 1 finds 082 895.922 1: %v, 082 895.9221: %v", spaced, joined)
	}
	// The query is built as Koha builds it: boxes in name order, one @and
	// per box but the first.
	if want := `@and @and @and @attr 1=1003 "Nguyễn Du" @attr 1=16 "895.9221" ` +
		`@attr 1=16 @attr 2=3 @attr 3=1 @attr 4=1 @attr 5=1 @attr 6=1 "895.922" @attr 1=4 "Truyện Kiều" `; answers[0].query != want {
		t.Errorf("query %q, want %q", answers[0].query, want)
	}
}

package z3950

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/sru"
)

// clientQueries are the searches cataloguers' clients send: Koha's Z39.50
// search form, Bath profile level 0 (keyword) and level 1, each with the
// CQL a SRU client would send for the same question.
var clientQueries = []struct {
	name, pqf, cql string
}{
	{"koha isbn-10", `@attr 1=7 @attr 5=1 0879832355`, `bath.isbn = 0879832355`},
	{"koha isbn-13", `@attr 1=7 @attr 5=1 9786046924371`, `bath.isbn = 9786046924371`},
	{"koha isbn hyphens", `@attr 1=7 @attr 5=1 978-604-69-2437-1`, `bath.isbn = 9786046924371`},
	{"koha issn", `@attr 1=8 @attr 5=1 1064-3923`, `bath.issn = 1064-3923*`},
	{"koha title", `@attr 1=4 computer`, `dc.title = computer`},
	{"koha title phrase", `@attr 1=4 "how to program"`, `dc.title = "how to program"`},
	{"koha author", `@attr 1=1003 "Nguyễn Du"`, `dc.creator = "Nguyễn Du"`},
	{"koha author folded", `@attr 1=1003 "nguyen du"`, `dc.creator = "nguyen du"`},
	{"koha subject", `@attr 1=21 "văn học"`, `dc.subject = "văn học"`},
	{"koha control number", `@attr 1=12 NAT00010231`, `rec.id = NAT00010231`},
	{"koha keyword", `@attr 1=1016 computer`, `cql.anywhere = computer`},
	{"koha date", `@attr 1=31 1991`, `dc.date = 1991`},
	{"koha publisher", `@attr 1=1018 "văn học"`, `dc.publisher = "văn học"`},
	{"koha standard id", `@attr 1=1007 9786046924371`, `dc.identifier = 9786046924371`},
	{"koha language", `@attr 1=54 vie`, `dc.language = vie`},
	{"koha library", `@attr 1=1044 NA-TINH`, `bath.possessingInstitution = NA-TINH`},
	{"koha lccn", `@attr 1=9 73090924`, `bath.lccn = 73090924`},
	{"koha dewey", `@attr 1=16 "895.9221"`, `unicat.callNumber = "895.9221"`},
	{"koha dewey 1=13", `@attr 1=13 "895.9221"`, `unicat.dewey = "895.9221"`},
	{"koha lccall", `@attr 1=16 @attr 2=3 @attr 3=1 @attr 4=1 @attr 5=1 @attr 6=1 "TK5105"`, `unicat.callNumber = "^TK5105*"`},
	{"koha lccall dewey", `@attr 1=16 @attr 2=3 @attr 3=1 @attr 4=1 @attr 5=1 @attr 6=1 "895.922"`, `unicat.callNumber = "^895.922*"`},
	{"koha title and author", `@and @attr 1=4 computer @attr 1=1003 collins`, `dc.title = computer and dc.creator = collins`},
	{"koha title and author vi", `@and @attr 1=4 "truyện kiều" @attr 1=1003 "nguyễn du"`, `dc.title = "truyện kiều" and dc.creator = "nguyễn du"`},
	{"dewey segmentation", `@attr 1=13 616.0757502854`, `unicat.dewey = 616.0757502854`},
	{"koha title and dewey", `@and @attr 1=4 "truyện kiều" @attr 1=16 "895.9221"`, `dc.title = "truyện kiều" and unicat.callNumber = "895.9221"`},
	{"koha isbn or title", `@or @attr 1=7 @attr 5=1 0879832355 @attr 1=4 bible`, `bath.isbn = 0879832355 or dc.title = bible`},
	{"bath0 author keyword", `@attr 1=1003 @attr 2=3 @attr 3=3 @attr 4=2 @attr 5=100 @attr 6=1 collins`, `dc.creator = collins`},
	{"bath0 title keyword", `@attr 1=4 @attr 2=3 @attr 3=3 @attr 4=2 @attr 5=100 @attr 6=1 computer`, `dc.title = computer`},
	{"bath0 subject keyword", `@attr 1=21 @attr 2=3 @attr 3=3 @attr 4=2 @attr 5=100 @attr 6=1 congresses`, `dc.subject = congresses`},
	{"bath0 any keyword", `@attr 1=1016 @attr 2=3 @attr 3=3 @attr 4=2 @attr 5=100 @attr 6=1 kiều`, `cql.anywhere = kiều`},
	{"bath1 title first words", `@attr 1=4 @attr 2=3 @attr 3=1 @attr 4=1 @attr 5=1 @attr 6=1 "how to prog"`, `dc.title = "^how to prog*"`},
	{"bath1 title exact", `@attr 1=4 @attr 2=3 @attr 3=1 @attr 4=1 @attr 5=100 @attr 6=3 "How to program a computer"`, `dc.title == "How to program a computer"`},
	{"bath1 author exact", `@attr 1=1003 @attr 2=3 @attr 3=1 @attr 4=1 @attr 5=100 @attr 6=3 "Jack Collins"`, `dc.creator == "Jack Collins"`},
	{"title right truncation", `@attr 1=4 @attr 5=1 comput`, `dc.title = comput*`},
	{"year range", `@and @attr 1=31 @attr 2=4 1970 @attr 1=31 @attr 2=2 1980`, `dc.date >= 1970 and dc.date <= 1980`},
}

// yazClient runs yaz-client with commands (after "open target") and
// returns its transcript.
func yazClient(t testing.TB, target string, cmds ...string) string {
	t.Helper()
	bin := testpeer.Need(t, "yaz-client")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	// A UTF-8 locale, so that yaz-client prints text records as text.
	cmd.Env = append(cmd.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
	cmd.Stdin = strings.NewReader("open " + target + "\n" + strings.Join(cmds, "\n") + "\nquit\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("yaz-client: %v\n%s", err, out)
	}
	return string(out)
}

var (
	hitsRe = regexp.MustCompile(`Number of hits: (\d+)`)
	diagRe = regexp.MustCompile(`\[(\d+)\] [^\n]*`)
)

// searchResults splits a transcript into the answers of its "find"
// commands: hits, or -code for a diagnostic.
func searchResults(out string) []int {
	var res []int
	for _, part := range strings.Split(out, "Sent searchRequest.")[1:] {
		if m := hitsRe.FindStringSubmatch(part); m != nil && !strings.Contains(part, "bloomin' failure") {
			n, _ := strconv.Atoi(m[1])
			res = append(res, n)
			continue
		}
		if m := diagRe.FindStringSubmatch(part); m != nil {
			n, _ := strconv.Atoi(m[1])
			res = append(res, -n)
			continue
		}
		res = append(res, -1)
	}
	return res
}

// yazEscape writes s as yaz-client prints SUTRS records.
func yazEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 32 && c <= 126 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "\\X%02X", c)
		}
	}
	return b.String()
}

// sruCount asks the SRU server over the same index for a CQL query's hits.
func sruCount(t testing.TB, base, cql string) int {
	t.Helper()
	resp, err := http.Get(base + "?version=1.2&operation=searchRetrieve&maximumRecords=0&query=" + url.QueryEscape(cql))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`<(?:\w+:)?numberOfRecords>(\d+)<`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("SRU %s: no numberOfRecords in\n%s", cql, body)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestYAZClient drives yaz-client, the client Koha and most ILSs use
// underneath, against the server: every client query, compared with the
// same question over SRU on the same index.
func TestYAZClient(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	sruSrv := httptest.NewServer(sru.New(sru.Config{Catalog: c.cat}))
	defer sruSrv.Close()

	var cmds []string
	for _, q := range clientQueries {
		cmds = append(cmds, "find "+q.pqf)
	}
	out := yazClient(t, "tcp:"+c.addr+"/unicat", cmds...)
	if !strings.Contains(out, "Connection accepted by v3 target") || !strings.Contains(out, "ID     : unicat") {
		t.Fatalf("init:\n%s", out)
	}
	got := searchResults(out)
	if len(got) != len(clientQueries) {
		t.Fatalf("%d answers to %d searches:\n%s", len(got), len(clientQueries), out)
	}
	for i, q := range clientQueries {
		want := sruCount(t, sruSrv.URL, q.cql)
		if got[i] != want || want == 0 {
			t.Errorf("%s: %s: yaz-client %d hits, SRU %q %d", q.name, q.pqf, got[i], q.cql, want)
		}
	}
}

// TestYAZClientSession is a cataloguer's session: search, show in every
// record syntax, scan, reuse of named result sets, sort, an unsupported
// attribute, a record syntax the server does not have.
func TestYAZClientSession(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	out := yazClient(t, "tcp:"+c.addr+"/Default",
		"set_auto_wait 1",
		"charset UTF-8 UTF-8",
		"find @attr 1=4 \"truyện kiều\"", // set 1
		"format usmarc", "show 1",
		"format xml", "show 1",
		"elements marcxml", "show 1", // Koha's element set for MARCXML
		"format usmarc", "show 1", // marcxml with USMARC: diagnostic 25, as Zebra
		"format sutrs", "elements B", "show 1",
		"format opac", "elements F", "show 1",
		"find @attr 1=4 computer", // set 2
		"format usmarc", "elements B", "show 1+2",
		"show 1+1+1", // the first result set, still there: result-set reuse
		"find @and @set 2 @attr 1=1003 collins",
		"scan @attr 1=4 truy",
		"find @attr 1=1032 641.5",
		"find @attr 1=4 @attr 2=100 x",
		"find @attr 1=4 @attr 4=104 x",
		"find @attr 1=4 @attr 5=102 x",
		"find @attr 1=4 @attr 6=9 x",
		"find @attr 1=4 @attr 3=9 x",
		"find @attr 1=4 @attr 4=4 2000",
		"find @attr 8=1 x",
		"find @attr 1=4 computer",
		"format grs-1", "show 1",
		"format usmarc", "show 99",
		"sort 1=31 >",
		"format usmarc", "show 1",
	)
	for _, want := range []string{
		"Connection accepted by v3 target",
		"Character set negotiation : UTF-8",
		"Record type: USmarc",
		"245 10 $a Truyện Kiều /",
		"Record type: XML",
		`<datafield tag="245" ind1="1" ind2="0">`,
		"Record type: SUTRS",
		yazEscape("Title: Truyện Kiều"), // yaz-client shows SUTRS octets past ASCII as \XNN
		"Record type: OPAC",
		"nucCode: NA-TINH",
		"callNumber: 895.9221 NG-D",
		"truyện (",
		"[114] Unsupported Use attribute -- v3 addinfo '1032'",
		"[117] Unsupported Relation attribute -- v3 addinfo '100'",
		"[118] Unsupported Structure attribute -- v3 addinfo '104'",
		"[120] Unsupported Truncation attribute -- v3 addinfo '102'",
		"[122] Unsupported Completeness attribute -- v3 addinfo '9'",
		"[119] Unsupported Position attribute -- v3 addinfo '9'",
		"[123] Unsupported attribute combination",
		"[113] Unsupported attribute type -- v3 addinfo '8'",
		"[239] Record syntax not supported -- v3 addinfo '1.2.840.10003.5.105'",
		"[13] Present request out of range",
		"[25] Specified element set name not valid for specified database -- v3 addinfo 'marcxml'",
		"Received SortResponse: status=success",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	if n := strings.Count(out, "Record type: XML"); n != 2 {
		t.Errorf("%d XML records, want 2 (element sets F and marcxml)", n)
	}
	res := searchResults(out)
	if len(res) != 12 || res[0] <= 0 || res[1] <= 0 || res[2] <= 0 || res[2] > res[1] {
		t.Errorf("searches: %v", res)
	}
	if t.Failed() {
		t.Logf("transcript:\n%s", out)
	}
}

package sru

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"testing"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/internal/zebrapeer"
)

// Expected relation of unicat's hits to Zebra's for one query.
const (
	same     = "same"     // same count, same records
	superset = "superset" // unicat finds Zebra's records and more (a documented difference)
	subset   = "subset"   // unicat finds fewer (a documented difference)
)

// zebraQueries are run against unicat and Zebra over the same union
// records. Each deliberate difference says why.
var zebraQueries = []struct {
	cql, want, why string
}{
	// Title words, phrases, booleans.
	{"dc.title = computer", same, ""},
	{"dc.title = \"puget sound\"", same, ""},
	{"dc.title = \"how to program\"", same, ""},
	{"dc.title = computer and dc.title = program", same, ""},
	{"dc.title = computer or dc.title = opera", same, ""},
	{"dc.title = computer not dc.title = program", same, ""},
	{"dc.title all \"computer program\"", same, ""},
	{"dc.title any \"computer opera\"", same, ""},
	{"computer", superset, "one serial has the word only in 780 $t (preceding entry), which Zebra's Any (all any) does not find; unicat's anywhere indexes every data field but 035/852"},
	// Truncation.
	{"dc.title = comput*", same, ""},
	{"dc.title = progr*", same, ""},
	{"dc.creator = coll*", same, ""},
	// Authors.
	{"dc.creator = collins", same, ""},
	{"dc.creator = \"jack collins\"", same, ""},
	{"dc.author = verdi", same, ""},
	// Subjects.
	{"dc.subject = opera", same, ""},
	{"dc.subject = \"operas\"", same, ""},
	// Dates.
	{"dc.date = 1991", same, ""},
	{"dc.date > 1990 and dc.date < 2000", subset, "Zebra compares 008/07-10 as strings, so \"19uu\" (decade known, year not) falls between 1990 and 2000; unicat's dc.date is a number and 19uu is no year"},
	{"dc.date >= 2015", subset, "Zebra also finds 008 dates of 9999 (miscoded); unicat treats 9999 as no year and falls back to 260/264 $c"},
	// ISBNs: unicat stores every valid ISBN as ISBN-13 without hyphens;
	// Zebra matches the ISBN as written.
	{"bath.isbn = 9786046924371", same, ""},
	{"bath.isbn = 978-604-69-2437-1", superset, "the union record writes this ISBN without hyphens: Zebra needs the same spelling"},
	{"bath.isbn = 9780486266893", superset, "the record has the ISBN-10 0486266893: unicat finds it by its ISBN-13, Zebra does not"},
	{"bath.isbn = 0-486-26689-3", superset, "hyphens: Zebra splits the number into words that are not adjacent in the record"},
	{"rec.id = u0000001*", same, ""},
	{"dc.language = vie", same, ""},
	{"dc.language = eng", superset, "041 $a \"grchebeng\" runs three codes together: unicat splits it into grc, heb, eng; Zebra indexes one word"},
	{"bath.possessingInstitution = NA-TINH", same, ""},
	{"bath.possessingInstitution = NA-QUYNHLUU and dc.title = computer", same, ""},
	// Classification: Koha's LC call number box (first in field, right
	// truncated) and Dewey numbers.
	{"unicat.callNumber = \"^895.922*\"", same, ""},
	{"unicat.callNumber = \"^BS1*\"", same, ""},
	{"unicat.dewey = 895.9221", superset, "Vinh writes DDC with a space every three digits (895.922 1): unicat reads it as 895.9221, Zebra as the words 895 922 1"},
	{"unicat.dewey = 891.733", same, ""},
	// Vietnamese: Zebra's string.chr neither folds diacritics nor maps đ.
	{"dc.creator = \"Nguyễn Du\"", same, "accents typed: both match"},
	{"dc.creator = \"nguyen du\"", superset, "unicat folds diacritics; Zebra (string.chr) does not, so finds nothing"},
	{"dc.publisher = \"kim dong\"", superset, "đ → d folding"},
	{"dc.title = \"Dế Mèn\"", same, ""},
	{"dc.title = truy*", same, ""},
	{"dc.subject = \"văn học\"", same, ""},
	{"dc.subject = \"van hoc\"", superset, "diacritic folding"},
	{"dc.title = \"hòa bình\"", superset, "one library writes hoà (old tone placement): unicat folds both to hoa; Zebra matches the spelling typed"},
}

// TestCompareWithZebra indexes the same union records in unicat and in
// Zebra and runs zebraQueries against both.
func TestCompareWithZebra(t *testing.T) {
	testpeer.Need(t, "zebraidx")
	testpeer.Need(t, "zebrasrv")
	st, srv := demoCatalog(t)
	dir := t.TempDir()
	mrc := filepath.Join(dir, "union.mrc")
	n := exportUnion(t, st, mrc)
	if n < 50 {
		t.Fatalf("only %d union records", n)
	}
	z, err := zebrapeer.Start(zebrapeer.Options{ConfigDir: "../testdata/peers/zebra", WorkDir: filepath.Join(dir, "zebra"), Records: mrc})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Stop()

	// Both hold every record.
	zt, _, zd := zebraIDs(t, z, "cql.allRecords = 1")
	ut, _, _ := unicatIDs(t, srv, "cql.allRecords = 1")
	if zt != n || ut != n {
		t.Fatalf("all records: Zebra %d (%v), unicat %d, exported %d", zt, zd, ut, n)
	}
	for _, q := range zebraQueries {
		ut, uids, ud := unicatIDs(t, srv, q.cql)
		zt, zids, zd := zebraIDs(t, z, q.cql)
		if len(ud) > 0 || len(zd) > 0 {
			t.Errorf("%s: diagnostics unicat %v, Zebra %v", q.cql, ud, zd)
			continue
		}
		slices.Sort(uids)
		slices.Sort(zids)
		t.Logf("%-60s unicat %3d  Zebra %3d  %s", q.cql, ut, zt, q.want)
		if q.want != same && testing.Verbose() {
			t.Logf("  only unicat %v, only Zebra %v", minus(uids, zids), minus(zids, uids))
		}
		switch q.want {
		case same:
			if ut != zt || !slices.Equal(uids, zids) {
				t.Errorf("%s: unicat %d %v, Zebra %d %v", q.cql, ut, uids, zt, zids)
			}
			if ut == 0 {
				t.Errorf("%s: no hits on either side: the query tests nothing", q.cql)
			}
		case subset:
			for _, id := range uids {
				if !slices.Contains(zids, id) {
					t.Errorf("%s: unicat finds %s, Zebra does not (%s)", q.cql, id, q.why)
				}
			}
			if ut >= zt {
				t.Errorf("%s: unicat %d, Zebra %d: the documented difference (%s) no longer shows", q.cql, ut, zt, q.why)
			}
		case superset:
			for _, id := range zids {
				if !slices.Contains(uids, id) {
					t.Errorf("%s: Zebra finds %s, unicat does not (%s)", q.cql, id, q.why)
				}
			}
			if ut <= zt {
				t.Errorf("%s: unicat %d, Zebra %d: the documented difference (%s) no longer shows", q.cql, ut, zt, q.why)
			}
		}
	}
}

func zebraIDs(t testing.TB, z *zebrapeer.Server, q string) (int, []string, []string) {
	t.Helper()
	body, err := z.SRU(context.Background(), http.DefaultClient, url.Values{
		"version": {"1.2"}, "operation": {"searchRetrieve"}, "query": {q}, "maximumRecords": {"1000"},
	})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	n, err := parseXML(body)
	if err != nil {
		t.Fatalf("Zebra's answer to %s: %v", q, err)
	}
	return idsOf(t, n)
}

func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

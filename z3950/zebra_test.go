package z3950

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/internal/zebrapeer"
	"github.com/unicat/unicat/marc"
)

// startZebra runs Zebra over recs, written as one ISO 2709 (UTF-8) file,
// with the repository's Zebra configuration (testdata/peers/zebra: the
// same Bib-1 use attributes over the same MARC fields as unicat's index
// table).
func startZebra(t testing.TB, recs []*marc.Record) *zebrapeer.Server {
	t.Helper()
	return startZebraWith(t, recs, zebrapeer.Options{})
}

// startZebraWith is startZebra with options (opts' ConfigDir, WorkDir and
// Records are filled in).
func startZebraWith(t testing.TB, recs []*marc.Record, opts zebrapeer.Options) *zebrapeer.Server {
	t.Helper()
	testpeer.Need(t, "zebraidx")
	testpeer.Need(t, "zebrasrv")
	dir := t.TempDir()
	data := filepath.Join(dir, "data.mrc")
	var buf []byte
	for i, r := range recs {
		var err error
		if buf, err = marc.AppendISO2709(buf, r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	if err := os.WriteFile(data, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	opts.ConfigDir, opts.WorkDir, opts.Records = "../testdata/peers/zebra", filepath.Join(dir, "zebra"), data
	srv, err := zebrapeer.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// zebraExpect says how unicat's answer to a client query relates to
// Zebra's on the same records; "" is the same records. Each difference
// says why: they come from unicat folding Vietnamese diacritics and
// normalising standard numbers, which Zebra's stock character maps do not.
var zebraExpect = map[string]struct{ rel, why string }{
	"koha isbn hyphens":    {superset, "unicat normalises ISBNs (hyphens, ISBN-10/13); Zebra matches the ISBN as written"},
	"koha isbn-13":         {superset, "one library writes this ISBN with hyphens: unicat normalises it, Zebra splits it into words"},
	"koha standard id":     {superset, "as koha isbn-13"},
	"koha author folded":   {superset, "unicat folds diacritics; Zebra's string.chr does not, so finds nothing"},
	"koha keyword":         {superset, "one serial has the word only in 780 $t, which Zebra's Any (all any) does not index; unicat's any field does"},
	"koha dewey":           {superset, "one library writes DDC with a space every three digits (895.922 1): unicat reads it as 895.9221, Zebra as the words 895 922 1"},
	"koha dewey 1=13":      {superset, "as koha dewey"},
	"koha title and dewey": {superset, "as koha dewey"},
	"dewey segmentation":   {superset, "unicat drops DDC's segmentation marks (616.07/575/02854); Zebra splits the number into words at them"},
	"bath1 title exact":    {zebraUnsupported, "the Zebra configuration has no complete-field (phrase) register for titles"},
	"bath1 author exact":   {zebraUnsupported, "nor for authors"},
}

const (
	same     = "same"
	superset = "superset" // unicat finds Zebra's records and more
	subset   = "subset"   // unicat finds fewer

	zebraUnsupported = "zebra-114" // Zebra answers diagnostic 114, unicat answers
)

// TestCompareWithZebra sends the client queries to unicat and to Zebra
// over Z39.50, on the same records, and compares the records found.
func TestCompareWithZebra(t *testing.T) {
	recs := testRecords(t)
	zeb := startZebra(t, recs)
	c := newTestCatalog(t, recs, Config{})
	ctx := context.Background()
	uc := c.dial(t, ClientOptions{})
	zc, err := Dial(ctx, zeb.Addr+"/Default", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	for _, q := range clientQueries {
		exp := zebraExpect[q.name]
		un, uerr := uc.Search(ctx, q.pqf, "")
		zn, zerr := zc.Search(ctx, q.pqf, "")
		if exp.rel == zebraUnsupported && uerr == nil && un > 0 && isDiag(zerr, DiagUnsupportedUse) {
			t.Logf("%-28s unicat %3d  Zebra 114  %s", q.name, un, exp.why)
			continue
		}
		if uerr != nil || zerr != nil {
			t.Errorf("%s: %s: unicat %v, Zebra %v", q.name, q.pqf, uerr, zerr)
			continue
		}
		ukeys, zkeys := recordKeys(t, uc, un), recordKeys(t, zc, zn)
		if exp.rel == "" {
			exp.rel = same
		}
		var ok bool
		switch exp.rel {
		case same:
			ok = slices.Equal(ukeys, zkeys)
		case superset:
			ok = len(ukeys) > len(zkeys) && containsAll(ukeys, zkeys)
		case subset:
			ok = len(ukeys) < len(zkeys) && containsAll(zkeys, ukeys)
		}
		if !ok {
			t.Errorf("%s: %s: unicat %d hits, Zebra %d; want %s (%s)\nunicat %q\nZebra  %q",
				q.name, q.pqf, un, zn, exp.rel, exp.why, ukeys, zkeys)
		} else {
			t.Logf("%-28s unicat %3d  Zebra %3d  %s %s", q.name, un, zn, exp.rel, exp.why)
		}
	}
	// Both answer an unsupported use attribute with diagnostic 114.
	for _, cl := range []*Client{uc, zc} {
		_, err := cl.Search(ctx, "@attr 1=1032 x", "")
		var d *Diagnostic
		if !errors.As(err, &d) || d.Condition != DiagUnsupportedUse {
			t.Errorf("@attr 1=1032: %v", err)
		}
	}
}

// recordKeys presents every record of the default set and returns their
// identities (001 and 245 $a), sorted.
func recordKeys(t testing.TB, cl *Client, n int) []string {
	t.Helper()
	var keys []string
	err := cl.Retrieve(context.Background(), "", 1, n, 20, OIDUSMARC, "F", func(r Record) error {
		m, err := r.MARC(marc.CharsetAuto)
		if err != nil {
			return err
		}
		key := m.ControlNumber() + "|"
		if f := m.First("245"); f != nil {
			key += f.Sub('a')
		}
		keys = append(keys, key)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", cl.Database(), err)
	}
	slices.Sort(keys)
	return keys
}

func containsAll(big, small []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}

// TestElementSetsLikeKohasZebra asks unicat and a Zebra configured as
// Koha's for one record in each record syntax and element set a client
// may combine, and compares the answers: a record (of the same syntax)
// or the same diagnostic. The element set marcxml is MARCXML with the XML
// syntax, and diagnostic 25 with USMARC. With SUTRS and OPAC, which
// Koha's Zebra does not serve at all (239), unicat answers 25: it serves
// those syntaxes, but marcxml is no element set of theirs.
func TestElementSetsLikeKohasZebra(t *testing.T) {
	recs := testRecords(t)
	zeb := startZebraWith(t, recs, zebrapeer.Options{KohaRetrieval: true})
	c := newTestCatalog(t, recs, Config{})
	ctx := context.Background()
	uc := c.dial(t, ClientOptions{})
	zc, err := Dial(ctx, zeb.Addr+"/Default", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	for _, cl := range []*Client{uc, zc} {
		if n, err := cl.Search(ctx, `@attr 1=4 "truyện kiều"`, ""); err != nil || n == 0 {
			t.Fatalf("%s: %d hits, %v", cl.Database(), n, err)
		}
	}
	// answer is what a present of record 1 gives: the syntax of the
	// record and its 245 $a, or the diagnostic.
	answer := func(cl *Client, syntax OID, esn string) string {
		recs, _, err := cl.Present(ctx, "", 1, 1, syntax, esn)
		var d *Diagnostic
		switch {
		case errors.As(err, &d):
			return fmt.Sprintf("diagnostic %d %q", d.Condition, d.AddInfo)
		case err != nil:
			t.Fatalf("%s: %s %s: %v", cl.Database(), syntax, esn, err)
		case len(recs) != 1 || recs[0].Diagnostic != nil:
			t.Fatalf("%s: %s %s: %+v", cl.Database(), syntax, esn, recs)
		}
		m, err := recs[0].MARC(marc.CharsetAuto)
		if err != nil {
			return fmt.Sprintf("%s record that is no MARC: %v", recs[0].Syntax, err)
		}
		return fmt.Sprintf("%s record %q", recs[0].Syntax, m.First("245").Sub('a'))
	}
	for _, c := range []struct {
		syntax OID
		esn    string
		unicat string // "": as Zebra
	}{
		{OIDXML, "marcxml", ""},
		{OIDXML, "MARCXML", ""},
		{OIDUSMARC, "marcxml", ""},
		{OIDUSMARC, "F", ""},
		{OIDXML, "B", ""},
		{OIDSUTRS, "marcxml", `diagnostic 25 "marcxml"`},
		{OIDOPAC, "marcxml", `diagnostic 25 "marcxml"`},
	} {
		z := answer(zc, c.syntax, c.esn)
		u := answer(uc, c.syntax, c.esn)
		want := c.unicat
		if want == "" {
			want = z
		}
		if u != want {
			t.Errorf("%s %s: unicat %s, want %s (Zebra: %s)", c.syntax, c.esn, u, want, z)
		} else {
			t.Logf("%-24s %-8s unicat %s; Zebra %s", c.syntax, c.esn, u, z)
		}
	}
}

// TestSystemNumbersLikeZebra asks unicat and Zebra for OCLC and other
// system numbers (035 $a) the way Koha's control number (1=12) and
// standard identifier (1=1007) boxes send them, on records from the Open
// Library test suite that carry them. Zebra matches the words as
// written; unicat reads every form of an OCLC number as one number.
func TestSystemNumbersLikeZebra(t *testing.T) {
	var recs []*marc.Record
	for _, f := range []string{"0descriptionofta1682unit_meta", "710_org_name_in_direct_order", "880_Nihon_no_chasho",
		"880_publisher_unlinked", "engineercorpsofh00sher_meta", "ithaca_two_856u", "bpl_0486266893"} {
		recs = append(recs, readMARCFile(t, "../testdata/marc/openlibrary/"+f+".mrc", marc.CharsetAuto)...)
	}
	zeb := startZebra(t, recs)
	c := newTestCatalog(t, recs, Config{})
	ctx := context.Background()
	uc := c.dial(t, ClientOptions{})
	zc, err := Dial(ctx, zeb.Addr+"/Default", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer zc.Close()
	const oclcForms = "unicat reads every form of an OCLC number as one number; Zebra matches the word as written"
	for _, q := range []struct{ pqf, rel, why string }{
		{`@attr 1=12 "(OCoLC)8638218"`, same, ""},
		{`@attr 1=12 8638218`, same, ""},
		{`@attr 1=12 ocm08638218`, same, ""}, // its 001
		{`@attr 1=12 "(OCoLC)08638218"`, superset, oclcForms},
		{`@attr 1=12 ocm71247531`, same, ""},
		{`@attr 1=12 71247531`, superset, oclcForms},
		{`@attr 1=12 "(OCoLC)71247531"`, superset, oclcForms},
		{`@attr 1=12 "(OCoLC)ocm11931583"`, same, ""},
		{`@attr 1=12 11931583`, superset, oclcForms},
		{`@attr 1=12 ocn502869803`, same, ""},
		{`@attr 1=12 ocn767498970`, same, ""},
		{`@attr 1=12 767498970`, superset, oclcForms},
		{`@attr 1=12 01751424`, same, ""},
		{`@attr 1=12 329765`, same, ""},
		{`@attr 1=1007 "(OCoLC)8638218"`, same, ""},
		{`@attr 1=1007 ocm00000008638218`, superset, oclcForms},
		{`@attr 1=1007 71247531`, superset, oclcForms},
		{`@attr 1=1007 01751424`, subset, "unicat's standard identifier takes only OCLC numbers from 035; Zebra's takes every 035 $a"},
	} {
		un, uerr := uc.Search(ctx, q.pqf, "")
		zn, zerr := zc.Search(ctx, q.pqf, "")
		if uerr != nil || zerr != nil {
			t.Errorf("%s: unicat %v, Zebra %v", q.pqf, uerr, zerr)
			continue
		}
		ukeys, zkeys := recordKeys(t, uc, un), recordKeys(t, zc, zn)
		var ok bool
		switch q.rel {
		case same:
			ok = un > 0 && slices.Equal(ukeys, zkeys)
		case superset:
			ok = len(ukeys) > len(zkeys) && containsAll(ukeys, zkeys)
		case subset:
			ok = len(ukeys) < len(zkeys) && containsAll(zkeys, ukeys)
		}
		if !ok {
			t.Errorf("%s: unicat %q, Zebra %q; want %s (%s)", q.pqf, ukeys, zkeys, q.rel, q.why)
		} else {
			t.Logf("%-36s unicat %d  Zebra %d  %s", q.pqf, un, zn, q.rel)
		}
	}
}

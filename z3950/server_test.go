package z3950

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/textnorm"
)

// countRecords counts the test records satisfying pred: the oracle the
// searches are checked against, computed from the records, not the index.
func countRecords(recs []*marc.Record, pred func(*marc.Record) bool) int {
	n := 0
	for _, r := range recs {
		if pred(r) {
			n++
		}
	}
	return n
}

func hasSub(r *marc.Record, tag string, code byte, want string) bool {
	for _, f := range r.FieldsByTag(tag) {
		for _, v := range f.Subs(string(code)) {
			if v == want {
				return true
			}
		}
	}
	return false
}

func hasISBN(r *marc.Record, isbn string) bool {
	n, _ := marc.NormalizeISBN(isbn)
	valid, _ := r.ISBNs()
	return slices.Contains(valid, n)
}

// wordIn reports whether a subfield of codes of a tag field has the
// folded word.
func wordIn(r *marc.Record, tag, codes, word string) bool {
	w := textnorm.Fold(word)
	for _, f := range r.FieldsByTag(tag) {
		for _, v := range f.Subs(codes) {
			for _, x := range textnorm.Words(v) {
				if textnorm.Fold(x) == w {
					return true
				}
			}
		}
	}
	return false
}

// containsWord reports whether the folded text of the given fields has the
// folded word.
func containsWord(r *marc.Record, tags []string, word string) bool {
	w := textnorm.Fold(word)
	for _, t := range tags {
		for _, f := range r.FieldsByTag(t) {
			for _, sf := range f.Subfields {
				for _, x := range textnorm.Words(sf.Value) {
					if textnorm.Fold(x) == w {
						return true
					}
				}
			}
		}
	}
	return false
}

func TestSearchAgainstRecords(t *testing.T) {
	recs := testRecords(t)
	c := newTestCatalog(t, recs, Config{})
	cl := c.dial(t, ClientOptions{})
	for _, q := range []struct {
		pqf  string
		want int
	}{
		{`@attr 1=7 @attr 5=1 0879832355`, countRecords(recs, func(r *marc.Record) bool { return hasISBN(r, "0879832355") })},
		{`@attr 1=7 @attr 5=1 978-604-69-2437-1`, countRecords(recs, func(r *marc.Record) bool { return hasISBN(r, "9786046924371") })},
		{`@attr 1=8 @attr 5=1 1064-3923`, countRecords(recs, func(r *marc.Record) bool { return hasSub(r, "022", 'a', "1064-3923") })},
		{`@attr 1=1044 NA-TINH`, countRecords(recs, func(r *marc.Record) bool { return hasSub(r, "852", 'a', "NA-TINH") })},
		{`@attr 1=1044 NA-VINH`, countRecords(recs, func(r *marc.Record) bool { return hasSub(r, "852", 'a', "NA-VINH") })},
		{`@attr 1=12 NAT00010231`, countRecords(recs, func(r *marc.Record) bool { return r.ControlNumber() == "NAT00010231" })},
		{`@attr 1=4 computer`, countRecords(recs, func(r *marc.Record) bool {
			return wordIn(r, "245", "abfgknps", "computer") || wordIn(r, "246", "abnp", "computer") ||
				wordIn(r, "440", "a", "computer") || wordIn(r, "490", "a", "computer") || wordIn(r, "740", "anp", "computer")
		})},
		{`@attr 1=1003 @attr 2=3 @attr 3=3 @attr 4=2 @attr 5=100 @attr 6=1 du`, countRecords(recs, func(r *marc.Record) bool {
			return containsWord(r, []string{"100", "110", "111", "700", "710", "711", "720", "800", "810", "811"}, "du") ||
				wordIn(r, "245", "c", "du")
		})},
		{`@attr 1=54 vie`, countRecords(recs, func(r *marc.Record) bool { return slices.Contains(r.Languages(), "vie") })},
		{`@attr 1=31 1974`, countRecords(recs, func(r *marc.Record) bool { return r.YearString() == "1974" })},
		{`@attr 1=31 @attr 2=4 2015`, countRecords(recs, func(r *marc.Record) bool { return r.Year() >= 2015 })},
		{`@attr 1=31 @attr 2=1 1980`, countRecords(recs, func(r *marc.Record) bool { return r.Year() > 0 && r.Year() < 1980 })},
	} {
		if q.want == 0 {
			t.Fatalf("%s: the oracle finds no record; the test data changed", q.pqf)
		}
		if got := count(t, cl, q.pqf); got != q.want {
			t.Errorf("%s: %d hits, want %d", q.pqf, got, q.want)
		}
	}
	// Diacritics fold: "nguyen du" finds Nguyễn Du, NFC or NFD.
	folded, exact := count(t, cl, `@attr 1=1003 "nguyen du"`), count(t, cl, `@attr 1=1003 "Nguyễn Du"`)
	if folded == 0 || folded != exact {
		t.Errorf("nguyen du: %d hits, Nguyễn Du: %d", folded, exact)
	}
}

// TestPresentSyntaxes presents one record in every record syntax and
// element set.
func TestPresentSyntaxes(t *testing.T) {
	recs := testRecords(t)
	c := newTestCatalog(t, recs, Config{})
	cl := c.dial(t, ClientOptions{})
	ctx := context.Background()
	n, err := cl.Search(ctx, `@attr 1=12 NAT00010231`, "kieu")
	if err != nil || n != 1 {
		t.Fatalf("search: %d %v", n, err)
	}
	var want *marc.Record
	for _, r := range recs {
		if r.ControlNumber() == "NAT00010231" {
			want = r
		}
	}
	one := func(syntax OID, esn string) Record {
		t.Helper()
		rs, next, err := cl.Present(ctx, "kieu", 1, 1, syntax, esn)
		if err != nil || len(rs) != 1 || next != 0 {
			t.Fatalf("present %s %s: %d records, next %d, %v", syntax, esn, len(rs), next, err)
		}
		if rs[0].Diagnostic != nil {
			t.Fatalf("present %s: %v", syntax, rs[0].Diagnostic)
		}
		if !rs[0].Syntax.Equal(syntax) {
			t.Errorf("record syntax %s, want %s", rs[0].Syntax, syntax)
		}
		return rs[0]
	}
	for _, syntax := range []OID{OIDUSMARC, OIDXML, OIDApplicationXML} {
		r := one(syntax, "F")
		got, err := r.MARC(marc.CharsetAuto)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title() != want.Title() || len(got.Fields) != len(want.Fields) {
			t.Errorf("%s: %q with %d fields, want %q with %d", syntax, got.Title(), len(got.Fields), want.Title(), len(want.Fields))
		}
		if syntax.Equal(OIDUSMARC) && r.Data[9] != 'a' {
			t.Errorf("USMARC leader/09 %q, want 'a' (UTF-8)", r.Data[9])
		}
	}
	brief, err := one(OIDUSMARC, "B").MARC(marc.CharsetAuto)
	if err != nil {
		t.Fatal(err)
	}
	if brief.First("245") == nil || brief.First("650") != nil || len(brief.Fields) >= len(want.Fields) {
		t.Errorf("brief record: %d fields, 245 %v, 650 %v", len(brief.Fields), brief.First("245"), brief.First("650"))
	}
	sutrs := string(one(OIDSUTRS, "F").Data)
	if !strings.Contains(sutrs, "245 10 $a Truyện Kiều /") || !strings.HasPrefix(sutrs, "LDR ") {
		t.Errorf("SUTRS F:\n%s", sutrs)
	}
	if b := string(one(OIDSUTRS, "B").Data); !strings.Contains(b, "Title: Truyện Kiều") || !strings.Contains(b, "Held by: NA-TINH") {
		t.Errorf("SUTRS B:\n%s", b)
	}
	opac := one(OIDOPAC, "F")
	bib, holdings, err := DecodeOPAC(opac.External)
	if err != nil {
		t.Fatal(err)
	}
	if !bib.DirectReference.Equal(OIDUSMARC) || len(holdings) != len(want.FieldsByTag("852")) {
		t.Fatalf("OPAC: bib %s, %d holdings", bib.DirectReference, len(holdings))
	}
	if h := holdings[0]; h.NUCCode != "NA-TINH" || h.CallNumber != "895.9221 NG-D" || h.LocalLocation != "Kho đọc" {
		t.Errorf("OPAC holding %+v", h)
	}
}

// TestUnionHoldingsInOPAC presents a union record with several holding
// libraries: the OPAC record lists each.
func TestUnionHoldingsInOPAC(t *testing.T) {
	rec := &marc.Record{Leader: "00000nam a2200000 a 4500", Fields: []marc.Field{
		{Tag: "001", Value: "u00000001"},
		{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{{Code: 'a', Value: "Truyện Kiều"}}},
		{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "NA-TINH"}, {Code: 'b', Value: "province"}, {Code: 'h', Value: "895.9221"}}},
		{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "NA-VINH"}, {Code: 'b', Value: "district"}, {Code: 'b', Value: "Kho mượn"}, {Code: 't', Value: "1-3"}}},
		{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "NA-NGHILOC"}, {Code: 'b', Value: "commune"}}},
	}}
	c := newTestCatalog(t, []*marc.Record{rec}, Config{})
	cl := c.dial(t, ClientOptions{})
	if n := count(t, cl, `@attr 1=1044 NA-VINH`); n != 1 {
		t.Fatalf("library search: %d", n)
	}
	rs, _, err := cl.Present(context.Background(), "", 1, 1, OIDOPAC, "B")
	if err != nil {
		t.Fatal(err)
	}
	_, hs, err := DecodeOPAC(rs[0].External)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hs {
		got = append(got, h.NUCCode+"|"+h.LocalLocation+"|"+h.CallNumber+"|"+h.CopyNumber)
	}
	want := []string{"NA-TINH|province|895.9221|", "NA-VINH|district, Kho mượn||1-3", "NA-NGHILOC|commune||"}
	if !slices.Equal(got, want) {
		t.Errorf("holdings\n%q\nwant\n%q", got, want)
	}
}

func TestResultSets(t *testing.T) {
	recs := testRecords(t)
	c := newTestCatalog(t, recs, Config{})
	cl := c.dial(t, ClientOptions{})
	ctx := context.Background()
	all, err := cl.Search(ctx, `@attr 1=1016 @attr 5=1 a`, "all")
	if err != nil || all <= firstPage+5 {
		t.Fatalf("all: %d %v", all, err)
	}
	nt, err := cl.Search(ctx, `@attr 1=1044 NA-TINH`, "tinh")
	if err != nil || nt == 0 {
		t.Fatalf("tinh: %d %v", nt, err)
	}
	// Both sets stay: present from each, beyond the kept first page too.
	var ids []string
	err = cl.Retrieve(ctx, "all", 1, all, 7, OIDUSMARC, "B", func(r Record) error {
		m, err := r.MARC(marc.CharsetAuto)
		if err != nil {
			return err
		}
		ids = append(ids, m.ControlNumber())
		return nil
	})
	if err != nil || len(ids) != all {
		t.Fatalf("retrieve all: %d of %d, %v", len(ids), all, err)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] && id != "" {
			t.Errorf("%s presented twice", id)
		}
		seen[id] = true
	}
	rs, _, err := cl.Present(ctx, "tinh", nt, 1, OIDUSMARC, "F")
	if err != nil || len(rs) != 1 {
		t.Fatalf("present tinh: %v", err)
	}
	// A result set as an operand.
	n, err := cl.Search(ctx, `@and @set tinh @attr 1=1003 "Nguyễn Du"`, "both")
	want := count(t, cl, `@and @attr 1=1044 NA-TINH @attr 1=1003 "Nguyễn Du"`)
	if err != nil || n != want || n == 0 {
		t.Errorf("@set operand: %d %v, want %d", n, err, want)
	}
	// replaceIndicator off on an existing name: diagnostic 21.
	_, err = cl.SearchQuery(ctx, &Query{Type: QueryType1, RPN: mustPQF(t, "x")}, "tinh")
	if err != nil {
		t.Fatal(err) // the client always replaces
	}
	resp := rawSearch(t, c, &SearchRequest{ReplaceIndicator: false, ResultSetName: "a", DatabaseNames: []string{"unicat"},
		Query: Query{Type: QueryType1, RPN: mustPQF(t, "x")}},
		&SearchRequest{ReplaceIndicator: false, ResultSetName: "a", DatabaseNames: []string{"unicat"},
			Query: Query{Type: QueryType1, RPN: mustPQF(t, "y")}})
	if d := resp[1].Records.Diagnostics; len(d) != 1 || d[0].Condition != DiagResultSetExists || resp[1].SearchStatus {
		t.Errorf("replace off: %+v", resp[1])
	}
	// Out of range, unknown set, syntax, element set.
	for _, c := range []struct {
		set        string
		start, n   int
		syntax     OID
		esn        string
		want       int
		wantInfo   string
		wantErrMsg string
	}{
		{"tinh", nt + 1, 1, OIDUSMARC, "F", DiagPresentOutOfRange, "", ""},
		{"tinh", 0, 1, OIDUSMARC, "F", DiagPresentOutOfRange, "", ""},
		{"nosuch", 1, 1, OIDUSMARC, "F", DiagResultSetMissing, "nosuch", ""},
		{"tinh", 1, 1, OID{1, 2, 840, 10003, 5, 105}, "F", DiagSyntaxUnsupported, "1.2.840.10003.5.105", ""},
		{"tinh", 1, 1, OIDUSMARC, "Z", DiagElementSetNotValid, "Z", ""},
	} {
		_, _, err := cl.Present(ctx, c.set, c.start, c.n, c.syntax, c.esn)
		var d *Diagnostic
		if !errors.As(err, &d) || d.Condition != c.want || (c.wantInfo != "" && d.AddInfo != c.wantInfo) {
			t.Errorf("present %s %d+%d %s %s: %v, want diagnostic %d", c.set, c.start, c.n, c.syntax, c.esn, err, c.want)
		}
	}
	// Delete one set, then all.
	if _, err := cl.Search(ctx, "@attr 1=4 computer", "other"); err != nil {
		t.Fatal(err)
	}
	sts, err := cl.DeleteResultSets(ctx, "tinh", "nosuch")
	if err != nil || len(sts) != 2 || sts[0].Status != DeleteSuccess || sts[1].Status != DeleteResultSetDidNotExist {
		t.Errorf("delete: %+v %v", sts, err)
	}
	if _, _, err := cl.Present(ctx, "tinh", 1, 1, nil, ""); !isDiag(err, DiagResultSetMissing) {
		t.Errorf("deleted set: %v", err)
	}
	if _, _, err := cl.Present(ctx, "other", 1, 1, nil, ""); err != nil {
		t.Errorf("set not deleted: %v", err)
	}
	if _, err := cl.DeleteResultSets(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cl.Present(ctx, "other", 1, 1, nil, ""); !isDiag(err, DiagResultSetMissing) {
		t.Errorf("after deleting all: %v", err)
	}
}

func TestScanAndSort(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	cl := c.dial(t, ClientOptions{})
	ctx := context.Background()
	entries, pos, err := cl.Scan(ctx, "@attr 1=4 tru", 5, 1)
	if err != nil || len(entries) != 5 || pos != 1 {
		t.Fatalf("scan: %d entries, position %d, %v", len(entries), pos, err)
	}
	if got := string(entries[0].Term.Bytes); got != "trung" {
		t.Errorf("first term %q", got)
	}
	var terms []string
	for _, e := range entries {
		terms = append(terms, string(e.Term.Bytes))
		// Every term's count is what a search for it finds.
		if n := count(t, cl, fmt.Sprintf("@attr 1=4 %q", string(e.Term.Bytes))); n != e.Occurrences {
			t.Errorf("term %q: scan says %d, search finds %d", e.Term.Bytes, e.Occurrences, n)
		}
	}
	if !slices.IsSorted(terms) {
		t.Errorf("terms not in order: %q", terms)
	}
	if entries[2].DisplayTerm != "truyện" {
		t.Errorf("display form %q", entries[2].DisplayTerm)
	}
	// Position 3: two terms before.
	entries, pos, err = cl.Scan(ctx, "@attr 1=4 truyen", 5, 3)
	if err != nil || pos != 3 || string(entries[2].Term.Bytes) != "truyen" {
		t.Errorf("scan at 3: %v %d %v", terms, pos, err)
	}
	// The end of the list: fewer terms, partial-5.
	resp := rawPDUs(t, c, &ScanRequest{DatabaseNames: []string{"unicat"}, Count: 10, StepSize: -1,
		Term:              AttributesPlusTerm{Attributes: []Attribute{{Type: 1, Value: 4}}, Term: Term{Kind: TermGeneral, Bytes: []byte("zzzz")}},
		PreferredPosition: 3, HasPosition: true},
		&ScanRequest{DatabaseNames: []string{"unicat"}, Count: 10, StepSize: 2,
			Term: AttributesPlusTerm{Term: Term{Kind: TermGeneral, Bytes: []byte("a")}}},
		&ScanRequest{DatabaseNames: []string{"unicat"}, Count: 10, StepSize: -1,
			Term: AttributesPlusTerm{Attributes: []Attribute{{Type: 1, Value: 1032}}, Term: Term{Kind: TermGeneral, Bytes: []byte("a")}}})
	if sr := resp[0].(*ScanResponse); sr.Status != ScanPartial5 || len(sr.Entries) != 2 || sr.PositionOfTerm != 0 {
		t.Errorf("scan at the end: status %d, %d entries", sr.Status, len(sr.Entries))
	}
	if sr := resp[1].(*ScanResponse); sr.Status != ScanFailure || sr.Diagnostics[0].Condition != DiagZeroStepOnly {
		t.Errorf("step size: %+v", sr)
	}
	if sr := resp[2].(*ScanResponse); sr.Status != ScanFailure || sr.Diagnostics[0].Condition != DiagUnsupportedUse {
		t.Errorf("scan 1=1032: %+v", sr)
	}
	// Sort by date, descending, into a new set.
	n, err := cl.Search(ctx, "@attr 1=1016 @attr 5=1 a", "in")
	if err != nil {
		t.Fatal(err)
	}
	sorted := rawPDUs(t, c, &SearchRequest{ReplaceIndicator: true, ResultSetName: "in", DatabaseNames: []string{"unicat"},
		Query: Query{Type: QueryType1, RPN: mustPQF(t, "@attr 1=1016 @attr 5=1 a")}},
		&SortRequest{Inputs: []string{"in"}, Output: "out", Keys: []SortKeySpec{{Attributes: []Attribute{{Type: 1, Value: 31}}, Relation: 1}}},
		&PresentRequest{ResultSetID: "out", Start: 1, Count: n, PreferredRecordSyntax: OIDUSMARC},
		&SortRequest{Inputs: []string{"in"}, Output: "x", Keys: []SortKeySpec{{Field: "shelfmark"}}},
		&SortRequest{Inputs: []string{"in", "out"}, Output: "x", Keys: []SortKeySpec{{Field: "title"}}})
	if sr := sorted[1].(*SortResponse); sr.Status != SortSuccess || sr.ResultCount != n {
		t.Fatalf("sort: %+v", sr)
	}
	var years []int
	for _, npr := range sorted[2].(*PresentResponse).Records.Records {
		rec, err := (&Record{Data: npr.Record.Octets}).MARC(marc.CharsetAuto)
		if err != nil {
			t.Fatal(err)
		}
		years = append(years, rec.Year())
	}
	if !slices.IsSortedFunc(years, func(a, b int) int { return b - a }) || len(years) != n {
		t.Errorf("years not descending: %v", years)
	}
	if sr := sorted[3].(*SortResponse); sr.Status != SortFailure || sr.Diagnostics[0].Condition != DiagSortSequence {
		t.Errorf("sort by shelfmark: %+v", sr)
	}
	if sr := sorted[4].(*SortResponse); sr.Status != SortFailure || sr.Diagnostics[0].Condition != DiagSortTooManyInputs {
		t.Errorf("sort two sets: %+v", sr)
	}
}

// TestSameAsSearchCore checks that a Z39.50 search and the equivalent
// query tree run directly through the index agree.
func TestSameAsSearchCore(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	cl := c.dial(t, ClientOptions{})
	for _, pqf := range []string{`@attr 1=4 computer`, `@attr 1=1003 "nguyen du"`, `@or @attr 1=21 "văn học" @attr 1=4 bible`} {
		q, err := translatePQFT(pqf)
		if err != nil {
			t.Fatal(err)
		}
		var want int
		c.cat.View(context.Background(), func(snap catalog.Snapshot) error {
			h, err := snap.Search(context.Background(), q, 0, 0)
			if err == nil {
				want = h.Total
			}
			return err
		})
		if got := count(t, cl, pqf); got != want || want == 0 {
			t.Errorf("%s: %d over Z39.50, %d in the index", pqf, got, want)
		}
	}
}

func translatePQFT(pqf string) (*search.Query, error) {
	q, err := ParsePQF(pqf)
	if err != nil {
		return nil, err
	}
	return TranslateQuery(&Query{Type: QueryType1, RPN: q}, nil)
}

// TestFetchRaw checks the pass-through of stored ISO 2709: the same bytes
// as decoding and encoding the record, and the ordinary way for element
// set B, other syntaxes and records not stored as UTF-8 ISO 2709.
func TestFetchRaw(t *testing.T) {
	recs := testRecords(t)
	var rawCalls int
	c := newTestCatalog(t, recs, Config{})
	c.cat.ISO2709 = func(id string, v []byte) ([]byte, error) {
		rawCalls++
		if id == testID(1) {
			// Stored in another form: a MARC-8 leader.
			b := slices.Clone(v)
			b[9] = ' '
			return b, nil
		}
		return v, nil
	}
	plain := newTestCatalog(t, recs, Config{})
	ctx := context.Background()
	for _, syntax := range []OID{OIDUSMARC, OIDXML} {
		for _, esn := range []string{"F", "B"} {
			var got [2][]Record
			for i, cat := range []*testCatalog{c, plain} {
				cl := cat.dial(t, ClientOptions{})
				n, err := cl.Search(ctx, "@attr 1=1016 @attr 5=1 a", "")
				if err != nil {
					t.Fatal(err)
				}
				err = cl.Retrieve(ctx, "", 1, n, 10, syntax, esn, func(r Record) error {
					got[i] = append(got[i], r)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(got[0]) != len(got[1]) || len(got[0]) < 20 {
				t.Fatalf("%s %s: %d and %d records", syntax, esn, len(got[0]), len(got[1]))
			}
			for i := range got[0] {
				if !bytes.Equal(got[0][i].Data, got[1][i].Data) {
					t.Errorf("%s %s record %d differs:\n%q\n%q", syntax, esn, i+1, got[0][i].Data, got[1][i].Data)
				}
			}
		}
	}
	if rawCalls == 0 {
		t.Error("FetchRaw never used")
	}
}

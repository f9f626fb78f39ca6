package z3950

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

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

func mustPQF(t testing.TB, s string) *RPNQuery {
	t.Helper()
	q, err := ParsePQF(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// rawConn is a TCP connection speaking PDUs directly.
type rawConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(p PDU) {
	r.t.Helper()
	b, err := EncodePDU(p)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawConn) recv() PDU {
	r.t.Helper()
	b, err := readFrame(r.br, 1<<24)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	p, err := DecodePDU(b)
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// closed reports whether the server closed the connection.
func (r *rawConn) closed() bool {
	r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := r.br.ReadByte()
	return errors.Is(err, io.EOF)
}

func (r *rawConn) init() *InitResponse {
	r.t.Helper()
	r.send(&InitRequest{ProtocolVersion: Version2 | Version3, Options: OptSearch | OptPresent | OptNamedResultSets,
		PreferredMessageSize: 1 << 20, ExceptionalRecordSize: 1 << 20})
	ir, ok := r.recv().(*InitResponse)
	if !ok || !ir.Result {
		r.t.Fatalf("init: %#v", ir)
	}
	return ir
}

// rawPDUs sends each PDU after an Init and returns the answers.
func rawPDUs(t testing.TB, c *testCatalog, pdus ...PDU) []PDU {
	t.Helper()
	r := dialRaw(t, c.addr)
	r.init()
	var out []PDU
	for _, p := range pdus {
		r.send(p)
		out = append(out, r.recv())
	}
	return out
}

func rawSearch(t testing.TB, c *testCatalog, reqs ...*SearchRequest) []*SearchResponse {
	t.Helper()
	var pdus []PDU
	for _, r := range reqs {
		pdus = append(pdus, r)
	}
	var out []*SearchResponse
	for _, p := range rawPDUs(t, c, pdus...) {
		sr, ok := p.(*SearchResponse)
		if !ok {
			t.Fatalf("got %s", p.Tag())
		}
		out = append(out, sr)
	}
	return out
}

func TestInitNegotiation(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{MaxMessageSize: 1 << 20, Version: "9.9"})
	r := dialRaw(t, c.addr)
	r.send(&InitRequest{ReferenceID: []byte("i"), ProtocolVersion: Version1 | Version2 | Version3,
		Options:              OptSearch | OptPresent | OptScan | OptSort | OptConcurrentOps | OptNamedResultSets | OptNegotiationModel,
		PreferredMessageSize: 8 << 20, ExceptionalRecordSize: 16 << 20,
		OtherInfo: []OtherInfo{charsetProposalFor("UTF-8")}})
	ir := r.recv().(*InitResponse)
	if !ir.Result || ir.ProtocolVersion&Version3 == 0 || string(ir.ReferenceID) != "i" {
		t.Errorf("init: %+v", ir)
	}
	if ir.PreferredMessageSize != 1<<20 || ir.ExceptionalRecordSize != 1<<20 {
		t.Errorf("sizes %d %d, want the 1 MiB cap", ir.PreferredMessageSize, ir.ExceptionalRecordSize)
	}
	if ir.Options&OptConcurrentOps != 0 || ir.Options&OptScan == 0 || ir.Options&OptNegotiationModel == 0 {
		t.Errorf("options %b", ir.Options)
	}
	if ir.ImplementationID != "unicat" || ir.ImplementationVersion != "9.9" {
		t.Errorf("implementation %q %q", ir.ImplementationID, ir.ImplementationVersion)
	}
	if cs := selectedCharset(ir.OtherInfo); cs != "utf-8" {
		t.Errorf("charset %q", cs)
	}
	// A client proposing only MARC-8: no charset selected (records are
	// UTF-8 all the same).
	cl := c.dial(t, ClientOptions{Charset: "MARC-8"})
	if cl.Charset() != "" {
		t.Errorf("MARC-8 proposal: selected %q", cl.Charset())
	}
	cl = c.dial(t, ClientOptions{Charset: "utf-8"})
	if cl.Charset() != "utf-8" {
		t.Errorf("UTF-8 proposal: selected %q", cl.Charset())
	}
	// Version 2: diagnostics' addinfo is a VisibleString.
	r2 := dialRaw(t, c.addr)
	r2.send(&InitRequest{ProtocolVersion: Version1 | Version2, Options: OptSearch, PreferredMessageSize: 1 << 16, ExceptionalRecordSize: 1 << 16})
	if ir := r2.recv().(*InitResponse); !ir.Result || ir.ProtocolVersion&Version3 != 0 {
		t.Errorf("v2 init: %+v", ir)
	}
	r2.send(&SearchRequest{ReplaceIndicator: true, ResultSetName: "default", DatabaseNames: []string{"unicat"},
		Query: Query{Type: QueryType1, RPN: mustPQF(t, "@attr 1=1032 x")}})
	if sr := r2.recv().(*SearchResponse); sr.Records == nil || !sr.Records.V2 || sr.Records.Diagnostics[0].Condition != DiagUnsupportedUse {
		t.Errorf("v2 diagnostic: %+v", sr.Records)
	}
	// No version in common: rejected, then closed.
	r3 := dialRaw(t, c.addr)
	r3.send(&InitRequest{ProtocolVersion: 1 << 5, PreferredMessageSize: 1, ExceptionalRecordSize: 1})
	if ir := r3.recv().(*InitResponse); ir.Result {
		t.Errorf("init without a common version accepted")
	}
	if !r3.closed() {
		t.Errorf("rejected association left open")
	}
}

func TestDatabaseNames(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	for _, db := range []string{"unicat", "Default", "UNICAT", "default"} {
		cl, err := Dial(context.Background(), c.addr+"/"+db, ClientOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := cl.Search(context.Background(), "@attr 1=4 computer", ""); err != nil || n == 0 {
			t.Errorf("%s: %d %v", db, n, err)
		}
		cl.Close()
	}
	cl, err := Dial(context.Background(), c.addr+"/other", ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	d := diagOf(t, cl, "@attr 1=4 computer")
	if d.Condition != DiagDatabaseMissing || d.AddInfo != "other" {
		t.Errorf("unknown database: %v", d)
	}
}

func TestPiggyback(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	small := rawSearch(t, c, &SearchRequest{SmallSetUpperBound: 10, LargeSetLowerBound: 20, MediumSetPresentNumber: 3,
		ReplaceIndicator: true, ResultSetName: "default", DatabaseNames: []string{"unicat"},
		SmallSetElementSetName: "B", MediumSetElementSetName: "F", PreferredRecordSyntax: OIDXML,
		Query: Query{Type: QueryType1, RPN: mustPQF(t, "@attr 1=1044 NA-DIENCHAU")}},
		&SearchRequest{SmallSetUpperBound: 2, LargeSetLowerBound: 100, MediumSetPresentNumber: 3,
			ReplaceIndicator: true, ResultSetName: "m", DatabaseNames: []string{"unicat"},
			Query: Query{Type: QueryType1, RPN: mustPQF(t, "@attr 1=4 computer")}},
		&SearchRequest{SmallSetUpperBound: 0, LargeSetLowerBound: 1, MediumSetPresentNumber: 3,
			ReplaceIndicator: true, ResultSetName: "l", DatabaseNames: []string{"unicat"},
			Query: Query{Type: QueryType1, RPN: mustPQF(t, "@attr 1=4 computer")}})
	s := small[0]
	if s.ResultCount == 0 || s.NumberOfRecordsReturned != s.ResultCount || s.Records == nil ||
		len(s.Records.Records) != s.ResultCount || s.NextResultSetPosition != 0 || s.PresentStatus != PresentSuccess {
		t.Errorf("small set: %+v", s)
	} else if !s.Records.Records[0].Record.DirectReference.Equal(OIDXML) {
		t.Errorf("small set syntax %s", s.Records.Records[0].Record.DirectReference)
	}
	if m := small[1]; m.NumberOfRecordsReturned != 3 || m.NextResultSetPosition != 4 {
		t.Errorf("medium set: %d returned, next %d", m.NumberOfRecordsReturned, m.NextResultSetPosition)
	}
	if l := small[2]; l.NumberOfRecordsReturned != 0 || l.Records != nil || l.PresentStatus != -1 {
		t.Errorf("large set: %+v", l)
	}
}

// TestMessageSize checks that presents stay within the negotiated
// preferredMessageSize, and that one record larger than it comes as the
// right diagnostic.
func TestMessageSize(t *testing.T) {
	recs := testRecords(t)
	big := &marc.Record{Leader: "00000nam a2200000 a 4500", Fields: []marc.Field{{Tag: "001", Value: "BIG"},
		{Tag: "245", Ind1: '0', Ind2: '0', Subfields: []marc.Subfield{{Code: 'a', Value: "Bigrecord"}}}}}
	for i := 0; i < 40; i++ { // 40 notes of 3,000 bytes: too long for ISO 2709
		big.Fields = append(big.Fields, marc.Field{Tag: "500", Ind1: ' ', Ind2: ' ',
			Subfields: []marc.Subfield{{Code: 'a', Value: strings.Repeat("chữ ", 750)}}})
	}
	small := &marc.Record{Leader: big.Leader, Fields: big.Fields[:2]}
	var bigID string
	c := newTestCatalog(t, append(recs, small), Config{})
	bigID = testID(len(recs))
	// The stored copy is small (ISO 2709 cannot hold the big one); Fetch
	// returns the big record, as the store does for MARCXML-stored unions.
	c.cat.Record = func(id string, stored *marc.Record) (*marc.Record, error) {
		if id == bigID {
			return big, nil
		}
		return stored, nil
	}
	r := dialRaw(t, c.addr)
	r.send(&InitRequest{ProtocolVersion: Version3, Options: OptSearch | OptPresent,
		PreferredMessageSize: 3000, ExceptionalRecordSize: 200000})
	if ir := r.recv().(*InitResponse); ir.PreferredMessageSize != 3000 || ir.ExceptionalRecordSize != 200000 {
		t.Fatalf("sizes %d %d", ir.PreferredMessageSize, ir.ExceptionalRecordSize)
	}
	r.send(&SearchRequest{ReplaceIndicator: true, ResultSetName: "default", DatabaseNames: []string{"unicat"},
		Query: Query{Type: QueryType1, RPN: mustPQF(t, "@attr 1=1016 @attr 5=1 a")}})
	total := r.recv().(*SearchResponse).ResultCount
	r.send(&PresentRequest{ResultSetID: "default", Start: 1, Count: total, PreferredRecordSyntax: OIDUSMARC})
	pr := r.recv().(*PresentResponse)
	b, _ := EncodePDU(pr)
	if pr.PresentStatus != PresentPartial2 || pr.NumberOfRecordsReturned == 0 || pr.NumberOfRecordsReturned >= total ||
		pr.NextResultSetPosition != 1+pr.NumberOfRecordsReturned || len(b) > 3000 {
		t.Errorf("present of %d in 3000 bytes: status %d, %d records, next %d, %d bytes",
			total, pr.PresentStatus, pr.NumberOfRecordsReturned, pr.NextResultSetPosition, len(b))
	}
	// The big record: too long for USMARC (238); as XML larger than the
	// preferred size, but one record asked for may use the exceptional
	// size; two asked for cannot (16).
	r.send(&SearchRequest{ReplaceIndicator: true, ResultSetName: "big", DatabaseNames: []string{"unicat"},
		Query: Query{Type: QueryType1, RPN: mustPQF(t, "@attr 1=4 bigrecord")}})
	if n := r.recv().(*SearchResponse).ResultCount; n != 1 {
		t.Fatalf("big: %d", n)
	}
	for _, c := range []struct {
		syntax OID
		want   int // 0: the record
	}{{OIDUSMARC, DiagRecordNotInSyntax}, {OIDXML, 0}} {
		r.send(&PresentRequest{ResultSetID: "big", Start: 1, Count: 1, PreferredRecordSyntax: c.syntax})
		pr := r.recv().(*PresentResponse)
		npr := pr.Records.Records[0]
		switch {
		case c.want == 0 && (npr.Record == nil || len(npr.Record.Octets) < 100000):
			t.Errorf("%s: %+v", c.syntax, npr.Diagnostic)
		case c.want != 0 && (npr.Diagnostic == nil || npr.Diagnostic.Condition != c.want || pr.PresentStatus != PresentPartial4):
			t.Errorf("%s: %+v, status %d", c.syntax, npr, pr.PresentStatus)
		}
	}
	r.send(&SearchRequest{ReplaceIndicator: true, ResultSetName: "two", DatabaseNames: []string{"unicat"},
		Query: Query{Type: QueryType1, RPN: mustPQF(t, "@or @attr 1=4 bigrecord @attr 1=12 NAT00010231")}})
	r.recv()
	r.send(&PresentRequest{ResultSetID: "two", Start: 1, Count: 2, PreferredRecordSyntax: OIDXML})
	pr = r.recv().(*PresentResponse)
	if d := pr.Records.Records[0].Diagnostic; d == nil || d.Condition != DiagRecordTooLargePref {
		t.Errorf("two records, the first too big: %+v", pr.Records.Records[0])
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

// TestProtocolErrors checks that what is wrong on the wire ends that
// connection (with a Close saying why) and nothing else.
func TestProtocolErrors(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	bystander := c.dial(t, ClientOptions{})
	expectClose := func(name string, r *rawConn, reason int) {
		t.Helper()
		p := r.recv()
		cl, ok := p.(*Close)
		if !ok || cl.Reason != reason {
			t.Errorf("%s: got %#v, want Close reason %d", name, p, reason)
		}
		if !r.closed() {
			t.Errorf("%s: connection left open", name)
		}
	}
	// Search before init.
	r := dialRaw(t, c.addr)
	r.send(&SearchRequest{DatabaseNames: []string{"unicat"}, Query: Query{Type: QueryType1, RPN: mustPQF(t, "x")}})
	expectClose("search before init", r, CloseProtocolError)
	// Malformed BER: a length running past the end, then garbage.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xBF, 0x16, 0x82, 0x01})
	r.c.Write([]byte{0x00, 0xA0, 0x80, 0x04, 0x81, 0x00, 0x00, 0x00})
	// (0xA0 0x80 … is inside the announced 256 bytes; the stream never
	// completes it, so close the write side to end it.)
	r.c.(*net.TCPConn).CloseWrite()
	if !r.closed() {
		t.Errorf("truncated PDU: connection left open")
	}
	// Indefinite length on a primitive value: malformed at once.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0x9F, 0x16, 0x80, 0x00, 0x00})
	expectClose("malformed BER", r, CloseProtocolError)
	// A PDU larger than the cap.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xBF, 0x16, 0x84, 0x10, 0x00, 0x00, 0x00})
	expectClose("huge PDU", r, CloseResources)
	// Valid BER, not a valid search request.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xB6, 0x03, 0x02, 0x01, 0x05})
	expectClose("bad search request", r, CloseProtocolError)
	// An access control request: not supported, closed properly.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xBF, 0x1C, 0x04, 0x82, 0x02, 'x', 'y'})
	p := r.recv()
	if cl, ok := p.(*Close); !ok || cl.Reason != CloseProtocolError || string(cl.ReferenceID) != "xy" {
		t.Errorf("access control: %#v", p)
	}
	// Extended services: a failed response with diagnostic 221; the
	// association goes on.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xBF, 0x2E, 0x03, 0x83, 0x01, 0x01})
	if es, ok := r.recv().(*ExtendedServicesResponse); !ok || es.Status != 3 || es.Diagnostics[0].Condition != DiagESNotSupported {
		t.Errorf("extended services: %#v", es)
	}
	r.send(&Close{Reason: CloseFinished})
	expectClose("close", r, CloseFinished)
	// The bystander did not notice anything.
	if n := count(t, bystander, "@attr 1=4 computer"); n == 0 {
		t.Errorf("bystander: no hits")
	}
}

func TestPanicContained(t *testing.T) {
	recs := testRecords(t)
	c := newTestCatalog(t, recs, Config{})
	c.cat.Record = func(id string, stored *marc.Record) (*marc.Record, error) {
		if id == testID(0) {
			panic("fetch exploded")
		}
		return stored, nil
	}
	bystander := c.dial(t, ClientOptions{})
	r := dialRaw(t, c.addr)
	r.init()
	r.send(&SearchRequest{ReplaceIndicator: true, ResultSetName: "default", DatabaseNames: []string{"unicat"},
		Query: Query{Type: QueryType1, RPN: mustPQF(t, "@attr 1=12 "+recs[0].ControlNumber())}})
	if sr := r.recv().(*SearchResponse); sr.ResultCount != 1 {
		t.Fatalf("search: %d", sr.ResultCount)
	}
	r.send(&PresentRequest{ResultSetID: "default", Start: 1, Count: 1})
	if cl, ok := r.recv().(*Close); !ok || cl.Reason != CloseSystemProblem {
		t.Errorf("after the panic: %#v", cl)
	}
	if !r.closed() {
		t.Error("connection left open after a panic")
	}
	if n := count(t, bystander, "@attr 1=4 computer"); n == 0 {
		t.Error("bystander: no hits")
	}
	if got := c.srv.OpenConnections(); got != 1 {
		t.Errorf("%d connections open, want the bystander's", got)
	}
}

func TestIdleTimeoutAndLimits(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{IdleTimeout: 200 * time.Millisecond, MaxConnections: 2})
	r := dialRaw(t, c.addr)
	r.init()
	if cl, ok := r.recv().(*Close); !ok || cl.Reason != CloseLackOfActivity {
		t.Errorf("idle: %#v", cl)
	}
	if !r.closed() {
		t.Error("idle connection left open")
	}
	// Two connections fill the server; a third is told why it is dropped.
	a, b := dialRaw(t, c.addr), dialRaw(t, c.addr)
	a.init()
	b.init()
	x := dialRaw(t, c.addr)
	if cl, ok := x.recv().(*Close); !ok || cl.Reason != CloseResources {
		t.Errorf("over the limit: %#v", cl)
	}
	if !x.closed() {
		t.Error("refused connection left open")
	}
}

func TestShutdownClosesSessions(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	r := dialRaw(t, c.addr)
	r.init()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- c.srv.Shutdown(ctx)
	}()
	if cl, ok := r.recv().(*Close); !ok || cl.Reason != CloseShutdown {
		t.Errorf("shutdown: %#v", cl)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", c.addr, time.Second); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestMetrics(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	cl := c.dial(t, ClientOptions{})
	count(t, cl, "@attr 1=4 computer")
	diagOf(t, cl, "@attr 1=1032 x")
	diagOf(t, cl, "@attr 1=1032 y")
	fams, err := c.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string, labels ...string) float64 {
		for _, f := range fams {
			if f.GetName() != name {
				continue
			}
			for _, m := range f.Metric {
				if matchLabels(m, labels) {
					switch {
					case m.Counter != nil:
						return m.Counter.GetValue()
					case m.Gauge != nil:
						return m.Gauge.GetValue()
					case m.Histogram != nil:
						return float64(m.Histogram.GetSampleCount())
					}
				}
			}
		}
		return -1
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"unicat_z3950_pdus_total", []string{"direction", "in", "type", "searchRequest"}, 3},
		{"unicat_z3950_pdus_total", []string{"direction", "out", "type", "initResponse"}, 1},
		{"unicat_z3950_diagnostics_total", []string{"code", "114"}, 2},
		{"unicat_z3950_connections", []string{"state", "open"}, 1},
		{"unicat_z3950_connections_total", []string{"outcome", "accepted"}, 1},
		{"unicat_z3950_search_duration_seconds", nil, 3},
	} {
		if got := get(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func matchLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
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

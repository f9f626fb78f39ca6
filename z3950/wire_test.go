package z3950

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/marc"
)

// Tests that speak the protocol over a raw connection: Init negotiation,
// database names, piggybacked presents and message sizes.

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

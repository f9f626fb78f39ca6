package z3950

import (
	"bytes"
	"reflect"
	"testing"
)

func samplePDUs(t testing.TB) []PDU {
	q, err := ParsePQF(`@and @attr 1=4 @attr 5=1 "comp sci" @or @attr 1=1003 knuth @prox 0 1 1 2 k 2 a b`)
	if err != nil {
		t.Fatal(err)
	}
	marcRec := &External{DirectReference: OIDUSMARC, Octets: []byte("00024nam a2200025 a 4500\x1e\x1d")}
	sutrs := &External{DirectReference: OIDSUTRS, Single: generalString("Title: x\n")}
	return []PDU{
		&InitRequest{ReferenceID: []byte("r1"), ProtocolVersion: Version1 | Version2 | Version3,
			Options:              OptSearch | OptPresent | OptScan | OptNamedResultSets | OptNegotiationModel,
			PreferredMessageSize: 1 << 20, ExceptionalRecordSize: 2 << 20,
			Auth:             &IDAuthentication{User: "u", Password: "p"},
			ImplementationID: "81", ImplementationName: "YAZ", ImplementationVersion: "5.34",
			OtherInfo: []OtherInfo{charsetProposalFor("UTF-8"), {CharacterInfo: "hello"}}},
		&InitRequest{ProtocolVersion: Version2, Auth: &IDAuthentication{Open: "user/pw"}},
		&InitResponse{ReferenceID: []byte("r1"), ProtocolVersion: Version1 | Version2 | Version3,
			Options: serverOptions, PreferredMessageSize: 1 << 20, ExceptionalRecordSize: 1 << 20, Result: true,
			ImplementationID: "unicat", ImplementationName: "unicat", ImplementationVersion: "1"},
		&SearchRequest{ReferenceID: []byte{0, 1}, SmallSetUpperBound: 0, LargeSetLowerBound: 1,
			ReplaceIndicator: true, ResultSetName: "default", DatabaseNames: []string{"unicat", "Default"},
			SmallSetElementSetName: "B", MediumSetElementSetName: "F", PreferredRecordSyntax: OIDXML,
			Query: Query{Type: QueryType1, RPN: q}},
		&SearchRequest{ResultSetName: "s2", DatabaseNames: []string{"x"},
			Query: Query{Type: QueryType104, External: &External{DirectReference: OIDCQL, Single: generalString("dc.title=x")}}},
		&SearchResponse{ReferenceID: []byte("a"), ResultCount: 42, NumberOfRecordsReturned: 2, NextResultSetPosition: 3,
			SearchStatus: true, PresentStatus: PresentPartial4,
			Records: &Records{Records: []NamePlusRecord{{Database: "unicat", Record: marcRec},
				{Diagnostic: &Diagnostic{Set: OIDDiagBib1, Condition: 238, AddInfo: "x"}}}}},
		&SearchResponse{SearchStatus: false, ResultSetStatus: ResultSetNone, PresentStatus: PresentFailure,
			Records: &Records{Diagnostics: []Diagnostic{{Set: OIDDiagBib1, Condition: 114, AddInfo: "13"}}}},
		&SearchResponse{SearchStatus: false, ResultSetStatus: ResultSetNone, PresentStatus: -1,
			Records: &Records{V2: true, Diagnostics: []Diagnostic{{Set: OIDDiagBib1, Condition: 1}, {Set: OIDDiagBib1, Condition: 2, AddInfo: "y"}}}},
		&PresentRequest{ReferenceID: []byte("p"), ResultSetID: "default", Start: 1, Count: 10,
			ElementSetName: "F", PreferredRecordSyntax: OIDUSMARC},
		&PresentRequest{ResultSetID: "x", Start: 3, Count: 1, AdditionalRanges: []Range{{5, 2}},
			CompSpec: &CompSpec{SelectAlternativeSyntax: true, ElementSetName: "B", RecordSyntaxes: []OID{OIDOPAC, OIDXML}}},
		&PresentResponse{NumberOfRecordsReturned: 1, NextResultSetPosition: 0, PresentStatus: PresentSuccess,
			Records: &Records{Records: []NamePlusRecord{{Database: "unicat", Record: sutrs}}}},
		&DeleteResultSetRequest{ReferenceID: []byte("d"), Names: []string{"a", "b"}},
		&DeleteResultSetRequest{All: true},
		&DeleteResultSetResponse{Status: DeleteNotAllRequested, Statuses: []ListStatus{{"a", 0}, {"b", 1}}},
		&ScanRequest{DatabaseNames: []string{"unicat"}, AttributeSet: OIDBib1,
			Term:     AttributesPlusTerm{Attributes: []Attribute{{Type: 1, Value: 4}}, Term: Term{Kind: TermGeneral, Bytes: []byte("tru")}},
			StepSize: 0, Count: 20, PreferredPosition: 1, HasPosition: true},
		&ScanResponse{Status: ScanPartial5, PositionOfTerm: 2, Entries: []ScanEntry{
			{Term: Term{Kind: TermGeneral, Bytes: []byte("dang")}, DisplayTerm: "đặng", Occurrences: 3},
			{Term: Term{Kind: TermGeneral, Bytes: []byte("true")}, Occurrences: -1},
			{Diagnostic: &Diagnostic{Set: OIDDiagBib1, Condition: 1}, Occurrences: -1}}},
		&ScanResponse{Status: ScanFailure, Diagnostics: []Diagnostic{{Set: OIDDiagBib1, Condition: 114, AddInfo: "13"}}},
		&SortRequest{Inputs: []string{"default"}, Output: "sorted", Keys: []SortKeySpec{
			{Field: "title", Relation: 1, Case: 1}, {Attributes: []Attribute{{Type: 1, Value: 1003}}, AttrSet: OIDBib1}}},
		&SortResponse{Status: SortSuccess, ResultCount: 7},
		&SortResponse{Status: SortFailure, ResultCount: -1, Diagnostics: []Diagnostic{{Set: OIDDiagBib1, Condition: 207, AddInfo: "x"}}},
		&ExtendedServicesResponse{Status: 3, Diagnostics: []Diagnostic{{Set: OIDDiagBib1, Condition: 221}}},
		&Close{ReferenceID: []byte("c"), Reason: CloseProtocolError, Diagnostic: "bad"},
	}
}

// TestPDURoundTrip encodes every PDU type, decodes it and checks that the
// decoded value is the same and encodes to the same bytes.
func TestPDURoundTrip(t *testing.T) {
	for _, p := range samplePDUs(t) {
		b, err := EncodePDU(p)
		if err != nil {
			t.Fatalf("%s: encode: %v", p.Tag(), err)
		}
		if tag := int(p.Tag()); (tag < 31 && b[0] != 0xA0|byte(tag)) || (tag >= 31 && (b[0] != 0xBF || int(b[1]) != tag)) {
			t.Errorf("%s: starts % x, want [CONTEXT %d] constructed", p.Tag(), b[:2], p.Tag())
		}
		got, err := DecodePDU(b)
		if err != nil {
			t.Fatalf("%s: decode: %v", p.Tag(), err)
		}
		b2, err := EncodePDU(got)
		if err != nil {
			t.Fatalf("%s: re-encode: %v", p.Tag(), err)
		}
		if !bytes.Equal(b, b2) {
			t.Errorf("%s: re-encoded differently\n% x\n% x", p.Tag(), b, b2)
		}
		if !hasPackets(p) && !reflect.DeepEqual(normalize(p), normalize(got)) {
			t.Errorf("%s: decoded\n%#v\nwant\n%#v", p.Tag(), got, p)
		}
	}
}

// hasPackets reports PDUs holding raw BER packets, which DeepEqual cannot
// compare (they are compared by their encoding).
func hasPackets(p PDU) bool {
	switch p := p.(type) {
	case *SearchRequest:
		return p.Query.External != nil
	case *PresentResponse, *InitRequest, *InitResponse:
		return true
	}
	return false
}

// normalize clears what decoding sets that the samples leave zero.
func normalize(p PDU) PDU {
	switch p := p.(type) {
	case *SearchResponse:
		c := *p
		if c.Records != nil {
			r := *c.Records
			r.V2 = false
			c.Records = &r
		}
		return &c
	case *ScanResponse:
		c := *p
		c.V2 = false
		return &c
	}
	return p
}

// TestKnownEncoding checks a PDU against bytes worked out by hand from the
// ASN.1: a Close with reason protocolError and a referenceId.
func TestKnownEncoding(t *testing.T) {
	b, err := EncodePDU(&Close{ReferenceID: []byte("ab"), Reason: CloseProtocolError})
	if err != nil {
		t.Fatal(err)
	}
	// [48] constructed: 0xBF 0x30; referenceId [2] IMPLICIT OCTET STRING:
	// 0x82; closeReason [211] IMPLICIT INTEGER: 0x9F 0x81 0x53.
	want := []byte{0xBF, 0x30, 0x09, 0x82, 0x02, 'a', 'b', 0x9F, 0x81, 0x53, 0x01, 0x06}
	if !bytes.Equal(b, want) {
		t.Errorf("got  % x\nwant % x", b, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, b := range map[string][]byte{
		"universal sequence": {0x30, 0x00},
		"primitive apdu":     {0x9F, 0x30, 0x00},
		"init missing bits":  {0xBF, 0x14, 0x00},
		"truncated":          {0xBF, 0x14, 0x05, 0x83},
	} {
		if _, err := DecodePDU(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A PDU the package has no type for comes back as UnsupportedPDU
	// with its reference id, so that it can be answered.
	p, err := DecodePDU([]byte{0xBF, 0x1C, 0x04, 0x82, 0x02, 'x', 'y'}) // [28] accessControlRequest
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := p.(*UnsupportedPDU); !ok || u.PDUTag != TagAccessControlRequest || string(u.ReferenceID) != "xy" {
		t.Errorf("got %#v", p)
	}
}

func TestOID(t *testing.T) {
	for _, s := range []string{"1.2.840.10003.5.10", "1.0.10646.1.0.8", "2.999.1", "0.39"} {
		o, err := ParseOID(s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := encodeOIDContent(o)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decodeOIDContent(b)
		if err != nil || back.String() != s {
			t.Errorf("%s: round trip %v, %v", s, back, err)
		}
	}
	if b, _ := encodeOIDContent(OIDUSMARC); !bytes.Equal(b, []byte{0x2A, 0x86, 0x48, 0xCE, 0x13, 0x05, 0x0A}) {
		t.Errorf("USMARC OID encodes as % x", b)
	}
	for _, s := range []string{"", "1", "3.1", "1.40", "1.a"} {
		if _, err := ParseOID(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

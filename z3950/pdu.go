package z3950

import (
	"bytes"
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// PDUTag is the context tag of an APDU in the Z39.50 PDU CHOICE.
type PDUTag int

// APDU tags (Z39.50-2003, PDU ::= CHOICE).
const (
	TagInitRequest               PDUTag = 20
	TagInitResponse              PDUTag = 21
	TagSearchRequest             PDUTag = 22
	TagSearchResponse            PDUTag = 23
	TagPresentRequest            PDUTag = 24
	TagPresentResponse           PDUTag = 25
	TagDeleteResultSetRequest    PDUTag = 26
	TagDeleteResultSetResponse   PDUTag = 27
	TagAccessControlRequest      PDUTag = 28
	TagAccessControlResponse     PDUTag = 29
	TagResourceControlRequest    PDUTag = 30
	TagResourceControlResponse   PDUTag = 31
	TagTriggerResourceControl    PDUTag = 32
	TagResourceReportRequest     PDUTag = 33
	TagResourceReportResponse    PDUTag = 34
	TagScanRequest               PDUTag = 35
	TagScanResponse              PDUTag = 36
	TagSortRequest               PDUTag = 43
	TagSortResponse              PDUTag = 44
	TagSegmentRequest            PDUTag = 45
	TagExtendedServicesRequest   PDUTag = 46
	TagExtendedServicesResponse  PDUTag = 47
	TagClose                     PDUTag = 48
	TagDuplicateDetectionRequest PDUTag = 49
	TagDuplicateDetectionResp    PDUTag = 50
)

var pduNames = map[PDUTag]string{
	TagInitRequest: "initRequest", TagInitResponse: "initResponse",
	TagSearchRequest: "searchRequest", TagSearchResponse: "searchResponse",
	TagPresentRequest: "presentRequest", TagPresentResponse: "presentResponse",
	TagDeleteResultSetRequest: "deleteResultSetRequest", TagDeleteResultSetResponse: "deleteResultSetResponse",
	TagAccessControlRequest: "accessControlRequest", TagAccessControlResponse: "accessControlResponse",
	TagResourceControlRequest: "resourceControlRequest", TagResourceControlResponse: "resourceControlResponse",
	TagTriggerResourceControl: "triggerResourceControlRequest",
	TagResourceReportRequest:  "resourceReportRequest", TagResourceReportResponse: "resourceReportResponse",
	TagScanRequest: "scanRequest", TagScanResponse: "scanResponse",
	TagSortRequest: "sortRequest", TagSortResponse: "sortResponse",
	TagSegmentRequest:          "segmentRequest",
	TagExtendedServicesRequest: "extendedServicesRequest", TagExtendedServicesResponse: "extendedServicesResponse",
	TagClose:                     "close",
	TagDuplicateDetectionRequest: "duplicateDetectionRequest", TagDuplicateDetectionResp: "duplicateDetectionResponse",
}

func (t PDUTag) String() string {
	if n, ok := pduNames[t]; ok {
		return n
	}
	return fmt.Sprintf("pdu%d", int(t))
}

// PDU is one Z39.50 APDU.
type PDU interface {
	Tag() PDUTag
	encode() (*ber.Packet, error)
}

// EncodePDU returns the BER encoding of p.
func EncodePDU(p PDU) ([]byte, error) {
	pk, err := p.encode()
	if err != nil {
		return nil, fmt.Errorf("z3950: encode %s: %w", p.Tag(), err)
	}
	pk.ClassType, pk.TagType, pk.Tag = ber.ClassContext, ber.TypeConstructed, ber.Tag(p.Tag())
	return marshal(make([]byte, 0, encodedLen(pk)), pk), nil
}

// DecodeError is a PDU that is well-formed BER but not a valid APDU.
type DecodeError struct {
	Tag PDUTag // 0 when not even the APDU tag was understood
	Err error
}

func (e *DecodeError) Error() string {
	if e.Tag == 0 {
		return "z3950: decode PDU: " + e.Err.Error()
	}
	return fmt.Sprintf("z3950: decode %s: %v", e.Tag, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// DecodePDU decodes one APDU. A PDU the package has no type for (access
// control, resource control, segment, duplicate detection, ...) comes
// back as *UnsupportedPDU, so that the server can answer it.
func DecodePDU(b []byte) (PDU, error) {
	p, err := ber.DecodePacketErr(b)
	if err != nil {
		return nil, &DecodeError{Err: err}
	}
	if p.ClassType != ber.ClassContext || p.TagType != ber.TypeConstructed {
		return nil, &DecodeError{Err: fmt.Errorf("not an APDU: %s", describe(p))}
	}
	tag := PDUTag(p.Tag)
	dec, ok := decoders[tag]
	if !ok {
		return &UnsupportedPDU{PDUTag: tag, ReferenceID: refIDOf(p)}, nil
	}
	pdu, err := dec(p)
	if err != nil {
		return nil, &DecodeError{Tag: tag, Err: err}
	}
	return pdu, nil
}

var decoders map[PDUTag]func(*ber.Packet) (PDU, error)

func init() {
	decoders = map[PDUTag]func(*ber.Packet) (PDU, error){
		TagInitRequest:              func(p *ber.Packet) (PDU, error) { return decodeInitRequest(p) },
		TagInitResponse:             func(p *ber.Packet) (PDU, error) { return decodeInitResponse(p) },
		TagSearchRequest:            func(p *ber.Packet) (PDU, error) { return decodeSearchRequest(p) },
		TagSearchResponse:           func(p *ber.Packet) (PDU, error) { return decodeSearchResponse(p) },
		TagPresentRequest:           func(p *ber.Packet) (PDU, error) { return decodePresentRequest(p) },
		TagPresentResponse:          func(p *ber.Packet) (PDU, error) { return decodePresentResponse(p) },
		TagDeleteResultSetRequest:   func(p *ber.Packet) (PDU, error) { return decodeDeleteRequest(p) },
		TagDeleteResultSetResponse:  func(p *ber.Packet) (PDU, error) { return decodeDeleteResponse(p) },
		TagScanRequest:              func(p *ber.Packet) (PDU, error) { return decodeScanRequest(p) },
		TagScanResponse:             func(p *ber.Packet) (PDU, error) { return decodeScanResponse(p) },
		TagSortRequest:              func(p *ber.Packet) (PDU, error) { return decodeSortRequest(p) },
		TagSortResponse:             func(p *ber.Packet) (PDU, error) { return decodeSortResponse(p) },
		TagExtendedServicesResponse: func(p *ber.Packet) (PDU, error) { return decodeESResponse(p) },
		TagClose:                    func(p *ber.Packet) (PDU, error) { return decodeClose(p) },
	}
}

// refIDOf returns the referenceId of an APDU without decoding the rest.
func refIDOf(p *ber.Packet) []byte {
	if len(p.Children) > 0 && isCtx(p.Children[0], 2) && p.Children[0].TagType == ber.TypePrimitive {
		return bytes.Clone(p.Children[0].Data.Bytes())
	}
	return nil
}

// UnsupportedPDU is an APDU the package does not decode. The server
// answers it with a Close (or, for an extended services request, a
// failed ExtendedServicesResponse).
type UnsupportedPDU struct {
	PDUTag      PDUTag
	ReferenceID []byte
}

func (u *UnsupportedPDU) Tag() PDUTag { return u.PDUTag }
func (u *UnsupportedPDU) encode() (*ber.Packet, error) {
	return seq(refID(u.ReferenceID)), nil
}

func refID(b []byte) *ber.Packet {
	if b == nil {
		return nil
	}
	return ctxBytes(2, b)
}

func takeRefID(r *fieldReader) []byte {
	if p := r.take(2); p != nil {
		b, err := content(p)
		r.fail(err)
		return bytes.Clone(b)
	}
	return nil
}

// ---------------------------------------------------------------- OtherInformation

// OtherInfo is one element of OtherInformation; exactly one of its
// information fields is set.
type OtherInfo struct {
	CharacterInfo string
	BinaryInfo    []byte
	External      *External
	OID           OID
}

func encodeOtherInfo(list []OtherInfo) (*ber.Packet, error) {
	if len(list) == 0 {
		return nil, nil
	}
	out := cons(201)
	for _, oi := range list {
		var info *ber.Packet
		switch {
		case oi.External != nil:
			ext, err := oi.External.encodeAs(ber.ClassContext, 4)
			if err != nil {
				return nil, err
			}
			info = ext
		case oi.OID != nil:
			p, err := oidPacket(ber.ClassContext, 5, oi.OID)
			if err != nil {
				return nil, err
			}
			info = p
		case oi.BinaryInfo != nil:
			info = ctxBytes(3, oi.BinaryInfo)
		default:
			info = ctxStr(2, oi.CharacterInfo)
		}
		add(out, seq(info))
	}
	return out, nil
}

func takeOtherInfo(r *fieldReader) []OtherInfo {
	p := r.take(201)
	if p == nil {
		return nil
	}
	var out []OtherInfo
	for _, el := range p.Children {
		er := newFields("otherInfo", el)
		er.take(1) // category
		var oi OtherInfo
		switch v := er.peek(); {
		case isCtx(v, 2):
			oi.CharacterInfo = er.str(2)
		case isCtx(v, 3):
			b, err := content(er.take(3))
			er.fail(err)
			oi.BinaryInfo = bytes.Clone(b)
			if oi.BinaryInfo == nil {
				oi.BinaryInfo = []byte{}
			}
		case isCtx(v, 4):
			ext, err := decodeExternal(er.take(4))
			er.fail(err)
			oi.External = ext
		case isCtx(v, 5):
			oi.OID = er.oid(5)
		default:
			er.fail(fmt.Errorf("unexpected %s", describe(v)))
		}
		if err := er.done(); err != nil {
			r.fail(err)
			return nil
		}
		out = append(out, oi)
	}
	return out
}

// ---------------------------------------------------------------- EXTERNAL

// External is an ASN.1 EXTERNAL: a value of the type its direct
// reference names, encoded as a BER value (Single), as octets (Octets)
// or as bits (Arbitrary).
type External struct {
	DirectReference OID
	Single          *ber.Packet
	Octets          []byte
	Arbitrary       []byte
}

func (e *External) encode() (*ber.Packet, error) {
	return e.encodeAs(ber.ClassUniversal, int(ber.TagExternal))
}

// encodeAs encodes e with an IMPLICIT tag (UNIVERSAL 8 by default).
func (e *External) encodeAs(class ber.Class, tag int) (*ber.Packet, error) {
	p := ber.Encode(class, ber.TypeConstructed, ber.Tag(tag), nil, "")
	if e.DirectReference != nil {
		o, err := oidPacket(ber.ClassUniversal, ber.TagObjectIdentifier, e.DirectReference)
		if err != nil {
			return nil, err
		}
		add(p, o)
	}
	switch {
	case e.Single != nil:
		add(p, cons(0, e.Single))
	case e.Arbitrary != nil:
		add(p, ctxBytes(2, e.Arbitrary))
	default:
		add(p, ctxBytes(1, e.Octets))
	}
	return p, nil
}

func decodeExternal(p *ber.Packet) (*External, error) {
	r := newFields("EXTERNAL", p)
	e := &External{}
	if o := r.takeUni(ber.TagObjectIdentifier); o != nil {
		v, err := getOID(o)
		r.fail(err)
		e.DirectReference = v
	}
	r.takeUni(ber.TagInteger)          // indirect-reference
	r.takeUni(ber.TagObjectDescriptor) // data-value-descriptor
	switch v := r.peek(); {
	case isCtx(v, 0):
		r.take(0)
		if len(v.Children) != 1 {
			r.fail(fmt.Errorf("single-ASN1-type holds %d values", len(v.Children)))
		} else {
			e.Single = v.Children[0]
		}
	case isCtx(v, 1):
		b, err := content(r.take(1))
		r.fail(err)
		e.Octets = bytes.Clone(b)
		if e.Octets == nil {
			e.Octets = []byte{}
		}
	case isCtx(v, 2):
		b, err := content(r.take(2))
		r.fail(err)
		e.Arbitrary = bytes.Clone(b)
	default:
		r.fail(fmt.Errorf("no encoding, found %s", describe(v)))
	}
	return e, r.done()
}

// ---------------------------------------------------------------- Diagnostics

// Diagnostic is a DefaultDiagFormat diagnostic record (nearly always from
// the Bib-1 diagnostic set). It is also the error type of the package's
// query translation and of the client for diagnostics a target returns.
type Diagnostic struct {
	Set       OID // nil means Bib-1
	Condition int
	AddInfo   string
}

func (d *Diagnostic) Error() string {
	set := "bib-1"
	if d.Set != nil && !d.Set.Equal(OIDDiagBib1) {
		set = d.Set.String()
	}
	msg := fmt.Sprintf("z3950: diagnostic %s %d: %s", set, d.Condition, Bib1Message(d.Condition))
	if d.AddInfo != "" {
		msg += ": " + d.AddInfo
	}
	return msg
}

func (d *Diagnostic) set() OID {
	if d.Set == nil {
		return OIDDiagBib1
	}
	return d.Set
}

// encodeDefault encodes DefaultDiagFormat's contents; v2 selects the
// version-2 addinfo (VisibleString).
func (d *Diagnostic) encodeDefault(class ber.Class, tag int, v2 bool) *ber.Packet {
	p := ber.Encode(class, ber.TypeConstructed, ber.Tag(tag), nil, "")
	set, err := oidPacket(ber.ClassUniversal, ber.TagObjectIdentifier, d.set())
	if err != nil {
		set = uniOID(OIDDiagBib1) // a Set no one can encode: say Bib-1
	}
	add(p, set)
	add(p, uniInt(d.Condition))
	if v2 {
		add(p, visibleString(d.AddInfo))
	} else {
		add(p, generalString(d.AddInfo))
	}
	return p
}

func decodeDefaultDiag(p *ber.Packet) (*Diagnostic, error) {
	d, _, err := decodeDefaultDiagV(p)
	return d, err
}

// decodeDefaultDiagV also reports whether addinfo was a version-2
// VisibleString.
func decodeDefaultDiagV(p *ber.Packet) (*Diagnostic, bool, error) {
	r := newFields("DefaultDiagFormat", p)
	d := &Diagnostic{}
	if o := r.takeUni(ber.TagObjectIdentifier); o != nil {
		v, err := getOID(o)
		r.fail(err)
		d.Set = v
	} else {
		r.fail(fmt.Errorf("missing diagnosticSetId, found %s", describe(r.peek())))
	}
	if c := r.takeUni(ber.TagInteger); c != nil {
		v, err := getInt(c)
		r.fail(err)
		d.Condition = v
	} else {
		r.fail(fmt.Errorf("missing condition, found %s", describe(r.peek())))
	}
	v2 := false
	if a := r.peek(); a != nil && a.ClassType == ber.ClassUniversal {
		r.i++
		s, err := getStr(a)
		r.fail(err)
		d.AddInfo = s
		v2 = a.Tag == ber.TagVisibleString
	}
	return d, v2, r.done()
}

// DiagRec ::= CHOICE { defaultFormat DefaultDiagFormat, externallyDefined EXTERNAL }
func decodeDiagRec(p *ber.Packet) (*Diagnostic, error) {
	switch {
	case isUni(p, ber.TagSequence):
		return decodeDefaultDiag(p)
	case isUni(p, ber.TagExternal):
		ext, err := decodeExternal(p)
		if err != nil {
			return nil, err
		}
		return &Diagnostic{Set: ext.DirectReference, Condition: 100, AddInfo: "externally defined diagnostic"}, nil
	}
	return nil, fmt.Errorf("DiagRec: unexpected %s", describe(p))
}

// ---------------------------------------------------------------- Close

// Close reasons.
const (
	CloseFinished          = 0
	CloseShutdown          = 1
	CloseSystemProblem     = 2
	CloseCostLimit         = 3
	CloseResources         = 4
	CloseSecurityViolation = 5
	CloseProtocolError     = 6
	CloseLackOfActivity    = 7
	ClosePeerAbort         = 8
	CloseUnspecified       = 9
)

// Close ends an association, from either side.
type Close struct {
	ReferenceID []byte
	Reason      int
	Diagnostic  string // diagnosticInformation
}

func (*Close) Tag() PDUTag { return TagClose }

func (m *Close) encode() (*ber.Packet, error) {
	return seq(refID(m.ReferenceID), ctxInt(211, m.Reason), optStr(3, m.Diagnostic)), nil
}

func decodeClose(p *ber.Packet) (*Close, error) {
	r := newFields("close", p)
	m := &Close{ReferenceID: takeRefID(r)}
	m.Reason = r.int(211, "closeReason")
	m.Diagnostic = r.str(3)
	r.take(4)
	r.take(5)
	takeOtherInfo(r)
	return m, r.done()
}

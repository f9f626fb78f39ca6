package z3950

import (
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// ---------------------------------------------------------------- Init

// Protocol versions (ProtocolVersion bits).
const (
	Version1 = 1 << 0
	Version2 = 1 << 1
	Version3 = 1 << 2
)

// Options bits (Init options).
const (
	OptSearch             = 1 << 0
	OptPresent            = 1 << 1
	OptDelSet             = 1 << 2
	OptResourceReport     = 1 << 3
	OptTriggerResourceCtl = 1 << 4
	OptResourceCtl        = 1 << 5
	OptAccessCtl          = 1 << 6
	OptScan               = 1 << 7
	OptSort               = 1 << 8
	OptExtendedServices   = 1 << 10
	OptLevel1Segmentation = 1 << 11
	OptLevel2Segmentation = 1 << 12
	OptConcurrentOps      = 1 << 13
	OptNamedResultSets    = 1 << 14
	OptEncapsulation      = 1 << 15
	OptResultCount        = 1 << 16
	OptNegotiationModel   = 1 << 17
	OptDuplicateDetection = 1 << 18
	OptQueryType104       = 1 << 19
	OptPQESCorrection     = 1 << 20
	OptStringSchema       = 1 << 21
)

const (
	versionBits = 3
	optionBits  = 22
)

// IDAuthentication is Init's idAuthentication: open (a single string),
// idPass, or anonymous.
type IDAuthentication struct {
	Open      string
	Group     string
	User      string
	Password  string
	Anonymous bool
}

// InitRequest opens an association.
type InitRequest struct {
	ReferenceID           []byte
	ProtocolVersion       uint64 // Version1|Version2|Version3 bits
	Options               uint64 // Opt* bits
	PreferredMessageSize  int
	ExceptionalRecordSize int
	Auth                  *IDAuthentication
	ImplementationID      string
	ImplementationName    string
	ImplementationVersion string
	OtherInfo             []OtherInfo
}

func (*InitRequest) Tag() PDUTag { return TagInitRequest }

func (m *InitRequest) encode() (*ber.Packet, error) {
	var auth *ber.Packet
	if a := m.Auth; a != nil {
		switch {
		case a.Anonymous:
			auth = cons(7, ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagNULL, nil, ""))
		case a.Open != "":
			auth = cons(7, visibleString(a.Open))
		default:
			auth = cons(7, seq(optStr(0, a.Group), optStr(1, a.User), optStr(2, a.Password)))
		}
	}
	oi, err := encodeOtherInfo(m.OtherInfo)
	if err != nil {
		return nil, err
	}
	return seq(refID(m.ReferenceID),
		ctxBits(3, m.ProtocolVersion, versionBits),
		ctxBits(4, m.Options, optionBits),
		ctxInt(5, m.PreferredMessageSize),
		ctxInt(6, m.ExceptionalRecordSize),
		auth,
		optStr(110, m.ImplementationID),
		optStr(111, m.ImplementationName),
		optStr(112, m.ImplementationVersion),
		oi), nil
}

func decodeInitRequest(p *ber.Packet) (*InitRequest, error) {
	r := newFields("initRequest", p)
	m := &InitRequest{ReferenceID: takeRefID(r)}
	m.ProtocolVersion = r.bits(3, "protocolVersion")
	m.Options = r.bits(4, "options")
	m.PreferredMessageSize = r.int(5, "preferredMessageSize")
	m.ExceptionalRecordSize = r.int(6, "exceptionalRecordSize")
	if a := r.take(7); a != nil {
		m.Auth = decodeAuth(r, a)
	}
	m.ImplementationID = r.str(110)
	m.ImplementationName = r.str(111)
	m.ImplementationVersion = r.str(112)
	r.take(11) // userInformationField: not used
	m.OtherInfo = takeOtherInfo(r)
	return m, r.done()
}

func decodeAuth(r *fieldReader, a *ber.Packet) *IDAuthentication {
	if len(a.Children) != 1 {
		r.fail(fmt.Errorf("idAuthentication: %d values", len(a.Children)))
		return nil
	}
	v := a.Children[0]
	out := &IDAuthentication{}
	switch {
	case isUni(v, ber.TagNULL):
		out.Anonymous = true
	case isUni(v, ber.TagVisibleString), isUni(v, ber.TagGeneralString), isUni(v, ber.TagOctetString):
		s, err := getStr(v)
		r.fail(err)
		out.Open = s
	case isUni(v, ber.TagSequence):
		ir := newFields("idPass", v)
		out.Group, out.User, out.Password = ir.str(0), ir.str(1), ir.str(2)
		r.fail(ir.done())
	case isUni(v, ber.TagExternal):
		// "other": access-control formats; treated as anonymous.
		out.Anonymous = true
	default:
		r.fail(fmt.Errorf("idAuthentication: unexpected %s", describe(v)))
	}
	return out
}

func (r *fieldReader) bits(tag int, name string) uint64 {
	p := r.need(tag, name)
	if p == nil {
		return 0
	}
	v, err := getBits(p)
	r.fail(err)
	return v
}

// InitResponse accepts or rejects an association.
type InitResponse struct {
	ReferenceID           []byte
	ProtocolVersion       uint64
	Options               uint64
	PreferredMessageSize  int
	ExceptionalRecordSize int
	Result                bool
	ImplementationID      string
	ImplementationName    string
	ImplementationVersion string
	OtherInfo             []OtherInfo
}

func (*InitResponse) Tag() PDUTag { return TagInitResponse }

func (m *InitResponse) encode() (*ber.Packet, error) {
	oi, err := encodeOtherInfo(m.OtherInfo)
	if err != nil {
		return nil, err
	}
	return seq(refID(m.ReferenceID),
		ctxBits(3, m.ProtocolVersion, versionBits),
		ctxBits(4, m.Options, optionBits),
		ctxInt(5, m.PreferredMessageSize),
		ctxInt(6, m.ExceptionalRecordSize),
		ctxBool(12, m.Result),
		optStr(110, m.ImplementationID),
		optStr(111, m.ImplementationName),
		optStr(112, m.ImplementationVersion),
		oi), nil
}

func decodeInitResponse(p *ber.Packet) (*InitResponse, error) {
	r := newFields("initResponse", p)
	m := &InitResponse{ReferenceID: takeRefID(r)}
	m.ProtocolVersion = r.bits(3, "protocolVersion")
	m.Options = r.bits(4, "options")
	m.PreferredMessageSize = r.int(5, "preferredMessageSize")
	m.ExceptionalRecordSize = r.int(6, "exceptionalRecordSize")
	m.Result = r.bool(12, "result")
	m.ImplementationID = r.str(110)
	m.ImplementationName = r.str(111)
	m.ImplementationVersion = r.str(112)
	r.take(11)
	m.OtherInfo = takeOtherInfo(r)
	return m, r.done()
}

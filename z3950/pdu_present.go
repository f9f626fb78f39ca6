package z3950

import (
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// ---------------------------------------------------------------- Present

// Range is one additional range of a present request.
type Range struct{ Start, Count int }

// PresentRequest asks for records of a result set.
type PresentRequest struct {
	ReferenceID           []byte
	ResultSetID           string
	Start                 int
	Count                 int
	AdditionalRanges      []Range
	ElementSetName        string // simple composition, generic name
	CompSpec              *CompSpec
	PreferredRecordSyntax OID
}

// CompSpec is the complex record composition, as far as the server uses
// it: a generic element set name and a list of record syntaxes.
type CompSpec struct {
	SelectAlternativeSyntax bool
	ElementSetName          string
	Schema                  OID
	RecordSyntaxes          []OID
}

func (*PresentRequest) Tag() PDUTag { return TagPresentRequest }

func (m *PresentRequest) encode() (*ber.Packet, error) {
	var ranges, comp, syntax *ber.Packet
	if len(m.AdditionalRanges) > 0 {
		ranges = cons(212)
		for _, rg := range m.AdditionalRanges {
			add(ranges, seq(ctxInt(1, rg.Start), ctxInt(2, rg.Count)))
		}
	}
	switch {
	case m.CompSpec != nil:
		cs := m.CompSpec
		var spec, syntaxes *ber.Packet
		if cs.ElementSetName != "" || cs.Schema != nil {
			var schema, es *ber.Packet
			if cs.Schema != nil {
				o, err := oidPacket(ber.ClassContext, 1, cs.Schema)
				if err != nil {
					return nil, err
				}
				schema = o
			}
			if cs.ElementSetName != "" {
				es = cons(2, ctxStr(1, cs.ElementSetName))
			}
			spec = cons(2, schema, es)
		}
		if len(cs.RecordSyntaxes) > 0 {
			syntaxes = cons(4)
			for _, o := range cs.RecordSyntaxes {
				op, err := oidPacket(ber.ClassUniversal, ber.TagObjectIdentifier, o)
				if err != nil {
					return nil, err
				}
				add(syntaxes, op)
			}
		}
		comp = cons(209, ctxBool(1, cs.SelectAlternativeSyntax), spec, syntaxes)
	case m.ElementSetName != "":
		comp = elementSetNames(19, m.ElementSetName)
	}
	if m.PreferredRecordSyntax != nil {
		o, err := oidPacket(ber.ClassContext, 104, m.PreferredRecordSyntax)
		if err != nil {
			return nil, err
		}
		syntax = o
	}
	return seq(refID(m.ReferenceID),
		ctxStr(31, m.ResultSetID),
		ctxInt(30, m.Start),
		ctxInt(29, m.Count),
		ranges, comp, syntax), nil
}

func decodePresentRequest(p *ber.Packet) (*PresentRequest, error) {
	r := newFields("presentRequest", p)
	m := &PresentRequest{ReferenceID: takeRefID(r)}
	m.ResultSetID = r.reqStr(31, "resultSetId")
	m.Start = r.int(30, "resultSetStartPoint")
	m.Count = r.int(29, "numberOfRecordsRequested")
	if rg := r.take(212); rg != nil {
		for _, el := range rg.Children {
			er := newFields("Range", el)
			m.AdditionalRanges = append(m.AdditionalRanges, Range{Start: er.int(1, "startingPosition"), Count: er.int(2, "numberOfRecords")})
			r.fail(er.done())
		}
	}
	switch v := r.peek(); {
	case isCtx(v, 19):
		m.ElementSetName = takeElementSetNames(r, 19)
	case isCtx(v, 209):
		r.take(209)
		cs, err := decodeCompSpec(v)
		r.fail(err)
		m.CompSpec = cs
	}
	m.PreferredRecordSyntax = r.oid(104)
	r.take(204)
	r.take(206)
	r.take(207)
	takeOtherInfo(r)
	return m, r.done()
}

func decodeCompSpec(p *ber.Packet) (*CompSpec, error) {
	r := newFields("CompSpec", p)
	cs := &CompSpec{}
	cs.SelectAlternativeSyntax = r.bool(1, "selectAlternativeSyntax")
	if g := r.take(2); g != nil {
		gr := newFields("Specification", g)
		cs.Schema = gr.oid(1)
		gr.take(300)
		if es := gr.take(2); es != nil {
			if len(es.Children) == 1 && isCtx(es.Children[0], 1) {
				s, err := getStr(es.Children[0])
				gr.fail(err)
				cs.ElementSetName = s
			} else {
				gr.fail(fmt.Errorf("elementSpec: only elementSetName is supported"))
			}
		}
		r.fail(gr.done())
	}
	if db := r.take(3); db != nil && cs.ElementSetName == "" {
		// Database-specific: take the first specification's name.
		for _, el := range db.Children {
			if len(el.Children) == 2 {
				sr := newFields("Specification", el.Children[1])
				sr.oid(1)
				sr.take(300)
				if es := sr.take(2); es != nil && len(es.Children) == 1 && isCtx(es.Children[0], 1) {
					cs.ElementSetName, _ = getStr(es.Children[0])
				}
				break
			}
		}
	}
	if rs := r.take(4); rs != nil {
		for _, o := range rs.Children {
			if !isUni(o, ber.TagObjectIdentifier) {
				r.fail(fmt.Errorf("recordSyntax: unexpected %s", describe(o)))
				break
			}
			v, err := getOID(o)
			r.fail(err)
			cs.RecordSyntaxes = append(cs.RecordSyntaxes, v)
		}
	}
	return cs, r.done()
}

// PresentResponse carries the records asked for.
type PresentResponse struct {
	ReferenceID             []byte
	NumberOfRecordsReturned int
	NextResultSetPosition   int
	PresentStatus           int
	Records                 *Records
}

func (*PresentResponse) Tag() PDUTag { return TagPresentResponse }

func (m *PresentResponse) encode() (*ber.Packet, error) {
	recs, err := m.Records.encode()
	if err != nil {
		return nil, err
	}
	return seq(refID(m.ReferenceID),
		ctxInt(24, m.NumberOfRecordsReturned),
		ctxInt(25, m.NextResultSetPosition),
		ctxInt(27, m.PresentStatus),
		recs), nil
}

func decodePresentResponse(p *ber.Packet) (*PresentResponse, error) {
	r := newFields("presentResponse", p)
	m := &PresentResponse{ReferenceID: takeRefID(r)}
	m.NumberOfRecordsReturned = r.int(24, "numberOfRecordsReturned")
	m.NextResultSetPosition = r.int(25, "nextResultSetPosition")
	m.PresentStatus = r.int(27, "presentStatus")
	m.Records = takeRecords(r)
	takeOtherInfo(r)
	return m, r.done()
}

// ---------------------------------------------------------------- Delete

// Delete statuses.
const (
	DeleteSuccess              = 0
	DeleteResultSetDidNotExist = 1
	DeleteSystemProblem        = 3
	DeleteNotAllRequested      = 9
)

// DeleteResultSetRequest deletes named result sets, or all of them.
type DeleteResultSetRequest struct {
	ReferenceID []byte
	All         bool // deleteFunction all (1); else list (0)
	Names       []string
}

func (*DeleteResultSetRequest) Tag() PDUTag { return TagDeleteResultSetRequest }

func (m *DeleteResultSetRequest) encode() (*ber.Packet, error) {
	fn := 0
	if m.All {
		fn = 1
	}
	var list *ber.Packet
	if len(m.Names) > 0 {
		list = seq()
		for _, n := range m.Names {
			add(list, ctxStr(31, n))
		}
	}
	return seq(refID(m.ReferenceID), ctxInt(32, fn), list), nil
}

func decodeDeleteRequest(p *ber.Packet) (*DeleteResultSetRequest, error) {
	r := newFields("deleteResultSetRequest", p)
	m := &DeleteResultSetRequest{ReferenceID: takeRefID(r)}
	switch fn := r.int(32, "deleteFunction"); fn {
	case 0:
	case 1:
		m.All = true
	default:
		r.fail(fmt.Errorf("deleteFunction %d", fn))
	}
	if l := r.takeUni(ber.TagSequence); l != nil {
		for _, c := range l.Children {
			if !isCtx(c, 31) {
				r.fail(fmt.Errorf("resultSetList: unexpected %s", describe(c)))
				break
			}
			s, err := getStr(c)
			r.fail(err)
			m.Names = append(m.Names, s)
		}
	}
	takeOtherInfo(r)
	return m, r.done()
}

// ListStatus is the outcome of deleting one result set.
type ListStatus struct {
	Name   string
	Status int
}

// DeleteResultSetResponse answers a DeleteResultSetRequest.
type DeleteResultSetResponse struct {
	ReferenceID []byte
	Status      int
	Statuses    []ListStatus // deleteListStatuses
}

func (*DeleteResultSetResponse) Tag() PDUTag { return TagDeleteResultSetResponse }

func (m *DeleteResultSetResponse) encode() (*ber.Packet, error) {
	var list *ber.Packet
	if len(m.Statuses) > 0 {
		list = cons(1)
		for _, s := range m.Statuses {
			add(list, seq(ctxStr(31, s.Name), ctxInt(33, s.Status)))
		}
	}
	return seq(refID(m.ReferenceID), ctxInt(0, m.Status), list), nil
}

func decodeDeleteResponse(p *ber.Packet) (*DeleteResultSetResponse, error) {
	r := newFields("deleteResultSetResponse", p)
	m := &DeleteResultSetResponse{ReferenceID: takeRefID(r)}
	m.Status = r.int(0, "deleteOperationStatus")
	if l := r.take(1); l != nil {
		for _, el := range l.Children {
			er := newFields("ListStatus", el)
			st := ListStatus{Name: er.str(31)}
			st.Status = er.int(33, "status")
			r.fail(er.done())
			m.Statuses = append(m.Statuses, st)
		}
	}
	r.take(34)
	r.take(35)
	r.take(36)
	takeOtherInfo(r)
	return m, r.done()
}

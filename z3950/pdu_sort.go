package z3950

import (
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// ---------------------------------------------------------------- Sort

// SortKeySpec is one sort key: a field name (sortfield) or Bib-1
// attributes (sortAttributes), and a direction.
type SortKeySpec struct {
	Field       string      // sortfield
	Attributes  []Attribute // sortAttributes (attribute set Bib-1)
	AttrSet     OID
	Relation    int    // 0 ascending, 1 descending, 3/4 by frequency
	Case        int    // 0 sensitive, 1 insensitive
	Unsupported string // a sort element the codec does not model
}

// SortRequest sorts result sets into a new one.
type SortRequest struct {
	ReferenceID []byte
	Inputs      []string
	Output      string
	Keys        []SortKeySpec
}

func (*SortRequest) Tag() PDUTag { return TagSortRequest }

func (m *SortRequest) encode() (*ber.Packet, error) {
	in := cons(3)
	for _, s := range m.Inputs {
		add(in, generalString(s))
	}
	keys := cons(5)
	for _, k := range m.Keys {
		var key *ber.Packet
		if k.Field != "" {
			key = ctxStr(0, k.Field)
		} else {
			set := k.AttrSet
			if set == nil {
				set = OIDBib1
			}
			al, err := encodeAttributes(k.Attributes)
			if err != nil {
				return nil, err
			}
			key = cons(2, uniOID(set), al)
		}
		add(keys, seq(cons(1, key), ctxInt(1, k.Relation), ctxInt(2, k.Case)))
	}
	return seq(refID(m.ReferenceID), in, ctxStr(4, m.Output), keys), nil
}

func decodeSortRequest(p *ber.Packet) (*SortRequest, error) {
	r := newFields("sortRequest", p)
	m := &SortRequest{ReferenceID: takeRefID(r)}
	if in := r.need(3, "inputResultSetNames"); in != nil {
		for _, c := range in.Children {
			s, err := getStr(c)
			r.fail(err)
			m.Inputs = append(m.Inputs, s)
		}
	}
	m.Output = r.reqStr(4, "sortedResultSetName")
	if ks := r.need(5, "sortSequence"); ks != nil {
		for _, el := range ks.Children {
			kr := newFields("SortKeySpec", el)
			var k SortKeySpec
			switch e := kr.peek(); {
			case isCtx(e, 1) && len(e.Children) == 1:
				kr.i++
				key := e.Children[0]
				switch {
				case isCtx(key, 0):
					s, err := getStr(key)
					kr.fail(err)
					k.Field = s
				case isCtx(key, 2):
					ar := newFields("sortAttributes", key)
					if o := ar.takeUni(ber.TagObjectIdentifier); o != nil {
						v, err := getOID(o)
						ar.fail(err)
						k.AttrSet = v
					}
					if al := ar.need(44, "list"); al != nil {
						attrs, err := decodeAttributes(al)
						ar.fail(err)
						k.Attributes = attrs
					}
					kr.fail(ar.done())
				default:
					k.Unsupported = "elementSpec"
				}
			case isCtx(e, 2):
				kr.i++
				k.Unsupported = "databaseSpecific"
			default:
				kr.fail(fmt.Errorf("sortElement: unexpected %s", describe(e)))
			}
			k.Relation = kr.int(1, "sortRelation")
			k.Case = kr.int(2, "caseSensitivity")
			kr.take(3)
			r.fail(kr.done())
			m.Keys = append(m.Keys, k)
		}
	}
	takeOtherInfo(r)
	return m, r.done()
}

// Sort statuses.
const (
	SortSuccess  = 0
	SortPartial1 = 1
	SortFailure  = 2
)

// SortResponse answers a SortRequest.
type SortResponse struct {
	ReferenceID []byte
	Status      int
	Diagnostics []Diagnostic
	ResultCount int // -1: absent
	V2          bool
}

func (*SortResponse) Tag() PDUTag { return TagSortResponse }

func (m *SortResponse) encode() (*ber.Packet, error) {
	var diags, count *ber.Packet
	if len(m.Diagnostics) > 0 {
		diags = cons(5)
		for i := range m.Diagnostics {
			add(diags, m.Diagnostics[i].encodeDefault(ber.ClassUniversal, int(ber.TagSequence), m.V2))
		}
	}
	if m.ResultCount >= 0 {
		count = ctxInt(6, m.ResultCount)
	}
	return seq(refID(m.ReferenceID), ctxInt(3, m.Status), diags, count), nil
}

func decodeSortResponse(p *ber.Packet) (*SortResponse, error) {
	r := newFields("sortResponse", p)
	m := &SortResponse{ReferenceID: takeRefID(r), ResultCount: -1}
	m.Status = r.int(3, "sortStatus")
	r.take(4)
	if d := r.take(5); d != nil {
		for _, el := range d.Children {
			dg, err := decodeDiagRec(el)
			r.fail(err)
			if dg != nil {
				m.Diagnostics = append(m.Diagnostics, *dg)
			}
		}
	}
	if v, ok := r.optInt(6); ok {
		m.ResultCount = v
	}
	takeOtherInfo(r)
	return m, r.done()
}

// ---------------------------------------------------------------- Extended services

// ExtendedServicesResponse is what the server answers every extended
// services request with: failure and a diagnostic.
type ExtendedServicesResponse struct {
	ReferenceID []byte
	Status      int // 1 done, 2 accepted, 3 failure
	Diagnostics []Diagnostic
	V2          bool
}

func (*ExtendedServicesResponse) Tag() PDUTag { return TagExtendedServicesResponse }

func (m *ExtendedServicesResponse) encode() (*ber.Packet, error) {
	var diags *ber.Packet
	if len(m.Diagnostics) > 0 {
		diags = cons(4)
		for i := range m.Diagnostics {
			add(diags, m.Diagnostics[i].encodeDefault(ber.ClassUniversal, int(ber.TagSequence), m.V2))
		}
	}
	return seq(refID(m.ReferenceID), ctxInt(3, m.Status), diags), nil
}

func decodeESResponse(p *ber.Packet) (*ExtendedServicesResponse, error) {
	r := newFields("extendedServicesResponse", p)
	m := &ExtendedServicesResponse{ReferenceID: takeRefID(r)}
	m.Status = r.int(3, "operationStatus")
	if d := r.take(4); d != nil {
		for _, el := range d.Children {
			dg, err := decodeDiagRec(el)
			r.fail(err)
			if dg != nil {
				m.Diagnostics = append(m.Diagnostics, *dg)
			}
		}
	}
	r.take(5)
	takeOtherInfo(r)
	return m, r.done()
}

package z3950

import (
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// ---------------------------------------------------------------- Scan

// ScanRequest asks for index terms around a start term.
type ScanRequest struct {
	ReferenceID       []byte
	DatabaseNames     []string
	AttributeSet      OID
	Term              AttributesPlusTerm
	StepSize          int // -1: absent
	Count             int // numberOfTermsRequested
	PreferredPosition int // preferredPositionInResponse; 0 with HasPosition false: absent
	HasPosition       bool
}

func (*ScanRequest) Tag() PDUTag { return TagScanRequest }

func (m *ScanRequest) encode() (*ber.Packet, error) {
	var set, step, pos *ber.Packet
	if m.AttributeSet != nil {
		o, err := oidPacket(ber.ClassUniversal, ber.TagObjectIdentifier, m.AttributeSet)
		if err != nil {
			return nil, err
		}
		set = o
	}
	apt, err := m.Term.encode()
	if err != nil {
		return nil, err
	}
	if m.StepSize >= 0 {
		step = ctxInt(5, m.StepSize)
	}
	if m.HasPosition {
		pos = ctxInt(7, m.PreferredPosition)
	}
	return seq(refID(m.ReferenceID), databaseNames(3, m.DatabaseNames), set, apt, step,
		ctxInt(6, m.Count), pos), nil
}

func decodeScanRequest(p *ber.Packet) (*ScanRequest, error) {
	r := newFields("scanRequest", p)
	m := &ScanRequest{ReferenceID: takeRefID(r), StepSize: -1}
	m.DatabaseNames = takeDatabaseNames(r, 3)
	if o := r.takeUni(ber.TagObjectIdentifier); o != nil {
		v, err := getOID(o)
		r.fail(err)
		m.AttributeSet = v
	}
	if t := r.need(102, "termListAndStartPoint"); t != nil {
		apt, err := decodeAPT(t)
		r.fail(err)
		if apt != nil {
			m.Term = *apt
		}
	}
	if v, ok := r.optInt(5); ok {
		m.StepSize = v
	}
	m.Count = r.int(6, "numberOfTermsRequested")
	m.PreferredPosition, m.HasPosition = r.optInt(7)
	takeOtherInfo(r)
	return m, r.done()
}

// Scan statuses.
const (
	ScanSuccess  = 0
	ScanPartial4 = 4 // fewer terms than asked: cut by the target's limit
	ScanPartial5 = 5 // fewer terms than asked: the term list ends
	ScanFailure  = 6
)

// ScanEntry is one term of a scan response, or a surrogate diagnostic.
type ScanEntry struct {
	Term        Term
	DisplayTerm string
	Occurrences int // globalOccurrences; -1: absent
	Diagnostic  *Diagnostic
}

// ScanResponse lists terms.
type ScanResponse struct {
	ReferenceID    []byte
	Status         int
	PositionOfTerm int // 0: absent
	Entries        []ScanEntry
	Diagnostics    []Diagnostic // non-surrogate
	V2             bool
}

func (*ScanResponse) Tag() PDUTag { return TagScanResponse }

func (m *ScanResponse) encode() (*ber.Packet, error) {
	var pos, entries *ber.Packet
	if m.PositionOfTerm > 0 {
		pos = ctxInt(6, m.PositionOfTerm)
	}
	if len(m.Entries) > 0 || len(m.Diagnostics) > 0 {
		entries = cons(7)
		if len(m.Entries) > 0 {
			list := cons(1)
			for _, e := range m.Entries {
				if e.Diagnostic != nil {
					add(list, cons(2, e.Diagnostic.encodeDefault(ber.ClassUniversal, int(ber.TagSequence), m.V2)))
					continue
				}
				t, err := e.Term.encode()
				if err != nil {
					return nil, err
				}
				var occ *ber.Packet
				if e.Occurrences >= 0 {
					occ = ctxInt(2, e.Occurrences)
				}
				add(list, cons(1, t, optStr(0, e.DisplayTerm), occ))
			}
			add(entries, list)
		}
		if len(m.Diagnostics) > 0 {
			list := cons(2)
			for i := range m.Diagnostics {
				add(list, m.Diagnostics[i].encodeDefault(ber.ClassUniversal, int(ber.TagSequence), m.V2))
			}
			add(entries, list)
		}
	}
	return seq(refID(m.ReferenceID), ctxInt(4, m.Status), ctxInt(5, len(m.Entries)), pos, entries), nil
}

func decodeScanResponse(p *ber.Packet) (*ScanResponse, error) {
	r := newFields("scanResponse", p)
	m := &ScanResponse{ReferenceID: takeRefID(r)}
	r.take(3)
	m.Status = r.int(4, "scanStatus")
	n := r.int(5, "numberOfEntriesReturned")
	m.PositionOfTerm, _ = r.optInt(6)
	if e := r.take(7); e != nil {
		er := newFields("ListEntries", e)
		if l := er.take(1); l != nil {
			for _, el := range l.Children {
				switch {
				case isCtx(el, 1):
					tr := newFields("TermInfo", el)
					var se ScanEntry
					if t := tr.peek(); t != nil {
						tr.i++
						term, err := decodeTerm(t)
						tr.fail(err)
						se.Term = term
					}
					se.DisplayTerm = tr.str(0)
					tr.take(44)
					tr.take(4)
					se.Occurrences = -1
					if v, ok := tr.optInt(2); ok {
						se.Occurrences = v
					}
					tr.take(3)
					takeOtherInfo(tr)
					er.fail(tr.done())
					m.Entries = append(m.Entries, se)
				case isCtx(el, 2) && len(el.Children) == 1:
					d, err := decodeDiagRec(el.Children[0])
					er.fail(err)
					m.Entries = append(m.Entries, ScanEntry{Diagnostic: d, Occurrences: -1})
				default:
					er.fail(fmt.Errorf("Entry: unexpected %s", describe(el)))
				}
			}
		}
		if l := er.take(2); l != nil {
			for _, el := range l.Children {
				d, err := decodeDiagRec(el)
				er.fail(err)
				if d != nil {
					m.Diagnostics = append(m.Diagnostics, *d)
				}
			}
		}
		r.fail(er.done())
	}
	r.take(8)
	takeOtherInfo(r)
	if r.err == nil && n != len(m.Entries) {
		r.fail(fmt.Errorf("numberOfEntriesReturned %d, but %d entries", n, len(m.Entries)))
	}
	return m, r.done()
}

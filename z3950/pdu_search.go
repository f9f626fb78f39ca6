package z3950

import (
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// ---------------------------------------------------------------- Search

// SearchRequest runs a query into a named result set.
type SearchRequest struct {
	ReferenceID             []byte
	SmallSetUpperBound      int
	LargeSetLowerBound      int
	MediumSetPresentNumber  int
	ReplaceIndicator        bool
	ResultSetName           string
	DatabaseNames           []string
	SmallSetElementSetName  string // generic element set names only
	MediumSetElementSetName string
	PreferredRecordSyntax   OID
	Query                   Query
}

func (*SearchRequest) Tag() PDUTag { return TagSearchRequest }

func (m *SearchRequest) encode() (*ber.Packet, error) {
	q, err := m.Query.encode()
	if err != nil {
		return nil, err
	}
	var syntax *ber.Packet
	if m.PreferredRecordSyntax != nil {
		if syntax, err = oidPacket(ber.ClassContext, 104, m.PreferredRecordSyntax); err != nil {
			return nil, err
		}
	}
	return seq(refID(m.ReferenceID),
		ctxInt(13, m.SmallSetUpperBound),
		ctxInt(14, m.LargeSetLowerBound),
		ctxInt(15, m.MediumSetPresentNumber),
		ctxBool(16, m.ReplaceIndicator),
		ctxStr(17, m.ResultSetName),
		databaseNames(18, m.DatabaseNames),
		elementSetNames(100, m.SmallSetElementSetName),
		elementSetNames(101, m.MediumSetElementSetName),
		syntax,
		q), nil
}

func databaseNames(tag int, names []string) *ber.Packet {
	p := cons(tag)
	for _, n := range names {
		add(p, ctxStr(105, n))
	}
	return p
}

// elementSetNames encodes [tag] ElementSetNames with a generic name.
func elementSetNames(tag int, name string) *ber.Packet {
	if name == "" {
		return nil
	}
	return cons(tag, ctxStr(0, name))
}

func decodeSearchRequest(p *ber.Packet) (*SearchRequest, error) {
	r := newFields("searchRequest", p)
	m := &SearchRequest{ReferenceID: takeRefID(r)}
	m.SmallSetUpperBound = r.int(13, "smallSetUpperBound")
	m.LargeSetLowerBound = r.int(14, "largeSetLowerBound")
	m.MediumSetPresentNumber = r.int(15, "mediumSetPresentNumber")
	m.ReplaceIndicator = r.bool(16, "replaceIndicator")
	m.ResultSetName = r.reqStr(17, "resultSetName")
	m.DatabaseNames = takeDatabaseNames(r, 18)
	m.SmallSetElementSetName = takeElementSetNames(r, 100)
	m.MediumSetElementSetName = takeElementSetNames(r, 101)
	m.PreferredRecordSyntax = r.oid(104)
	if q := r.need(21, "query"); q != nil {
		dq, err := decodeQuery(q)
		r.fail(err)
		if dq != nil {
			m.Query = *dq
		}
	}
	r.take(203) // additionalSearchInfo
	takeOtherInfo(r)
	return m, r.done()
}

// maxDatabaseNames bounds the database list of a request.
const maxDatabaseNames = 64

func takeDatabaseNames(r *fieldReader, tag int) []string {
	p := r.need(tag, "databaseNames")
	if p == nil {
		return nil
	}
	if len(p.Children) > maxDatabaseNames {
		r.fail(fmt.Errorf("%d database names (at most %d)", len(p.Children), maxDatabaseNames))
		return nil
	}
	out := []string{}
	for _, c := range p.Children {
		if !isCtx(c, 105) {
			r.fail(fmt.Errorf("databaseNames: unexpected %s", describe(c)))
			return nil
		}
		s, err := getStr(c)
		r.fail(err)
		out = append(out, s)
	}
	return out
}

// takeElementSetNames reads [tag] ElementSetNames: the generic name, or
// the first database-specific one.
func takeElementSetNames(r *fieldReader, tag int) string {
	p := r.take(tag)
	if p == nil {
		return ""
	}
	name, err := decodeElementSetNames(p)
	r.fail(err)
	return name
}

func decodeElementSetNames(p *ber.Packet) (string, error) {
	if len(p.Children) != 1 {
		return "", fmt.Errorf("ElementSetNames: %d values", len(p.Children))
	}
	v := p.Children[0]
	switch {
	case isCtx(v, 0):
		return getStr(v)
	case isCtx(v, 1):
		for _, pair := range v.Children {
			if len(pair.Children) == 2 && isCtx(pair.Children[1], 103) {
				return getStr(pair.Children[1])
			}
		}
		return "", fmt.Errorf("databaseSpecific element set names: no name")
	}
	return "", fmt.Errorf("ElementSetNames: unexpected %s", describe(v))
}

// Result set status and present status values.
const (
	ResultSetSubset   = 1
	ResultSetInterim  = 2
	ResultSetNone     = 3
	ResultSetEstimate = 4

	PresentSuccess  = 0
	PresentPartial1 = 1 // access control
	PresentPartial2 = 2 // message size
	PresentPartial3 = 3 // resource control at origin
	PresentPartial4 = 4 // resource control at target / some records are diagnostics
	PresentFailure  = 5
)

// SearchResponse answers a SearchRequest. PresentStatus and
// ResultSetStatus are encoded only when non-negative (use -1 to omit).
type SearchResponse struct {
	ReferenceID             []byte
	ResultCount             int
	NumberOfRecordsReturned int
	NextResultSetPosition   int
	SearchStatus            bool
	ResultSetStatus         int // 0: absent
	PresentStatus           int // -1: absent
	Records                 *Records
}

func (*SearchResponse) Tag() PDUTag { return TagSearchResponse }

func (m *SearchResponse) encode() (*ber.Packet, error) {
	var rss, ps *ber.Packet
	if m.ResultSetStatus > 0 {
		rss = ctxInt(26, m.ResultSetStatus)
	}
	if m.PresentStatus >= 0 {
		ps = ctxInt(27, m.PresentStatus)
	}
	recs, err := m.Records.encode()
	if err != nil {
		return nil, err
	}
	return seq(refID(m.ReferenceID),
		ctxInt(23, m.ResultCount),
		ctxInt(24, m.NumberOfRecordsReturned),
		ctxInt(25, m.NextResultSetPosition),
		ctxBool(22, m.SearchStatus),
		rss, ps, recs), nil
}

func decodeSearchResponse(p *ber.Packet) (*SearchResponse, error) {
	r := newFields("searchResponse", p)
	m := &SearchResponse{ReferenceID: takeRefID(r), PresentStatus: -1}
	m.ResultCount = r.int(23, "resultCount")
	m.NumberOfRecordsReturned = r.int(24, "numberOfRecordsReturned")
	m.NextResultSetPosition = r.int(25, "nextResultSetPosition")
	m.SearchStatus = r.bool(22, "searchStatus")
	m.ResultSetStatus, _ = r.optInt(26)
	if v, ok := r.optInt(27); ok {
		m.PresentStatus = v
	}
	m.Records = takeRecords(r)
	r.take(203)
	takeOtherInfo(r)
	return m, r.done()
}

// ---------------------------------------------------------------- Records

// Records is what a search or present response carries: response
// records, or diagnostics in place of all of them.
type Records struct {
	Records     []NamePlusRecord
	Diagnostics []Diagnostic // non-surrogate diagnostics
	// V2 encodes diagnostics' addinfo as VisibleString (version 2).
	V2 bool
}

// NamePlusRecord is one record (or its surrogate diagnostic) and the
// database it came from.
type NamePlusRecord struct {
	Database   string
	Record     *External
	Diagnostic *Diagnostic // surrogate diagnostic, when Record is nil
}

func (rs *Records) encode() (*ber.Packet, error) {
	if rs == nil {
		return nil, nil
	}
	switch {
	case len(rs.Diagnostics) == 1:
		return rs.Diagnostics[0].encodeDefault(ber.ClassContext, 130, rs.V2), nil
	case len(rs.Diagnostics) > 1:
		p := cons(205)
		for i := range rs.Diagnostics {
			add(p, rs.Diagnostics[i].encodeDefault(ber.ClassUniversal, int(ber.TagSequence), rs.V2))
		}
		return p, nil
	}
	p := cons(28)
	for _, npr := range rs.Records {
		var rec *ber.Packet
		switch {
		case npr.Record != nil:
			ext, err := npr.Record.encode()
			if err != nil {
				return nil, err
			}
			rec = cons(1, cons(1, ext))
		case npr.Diagnostic != nil:
			rec = cons(1, cons(2, npr.Diagnostic.encodeDefault(ber.ClassUniversal, int(ber.TagSequence), rs.V2)))
		default:
			return nil, fmt.Errorf("NamePlusRecord without record or diagnostic")
		}
		add(p, seq(optStr(0, npr.Database), rec))
	}
	return p, nil
}

func takeRecords(r *fieldReader) *Records {
	v := r.peek()
	switch {
	case isCtx(v, 28):
		r.i++
		rs := &Records{Records: []NamePlusRecord{}}
		for _, el := range v.Children {
			npr, err := decodeNamePlusRecord(el)
			if err != nil {
				r.fail(err)
				return nil
			}
			rs.Records = append(rs.Records, npr)
		}
		return rs
	case isCtx(v, 130):
		r.i++
		d, v2, err := decodeDefaultDiagV(v)
		r.fail(err)
		if d == nil {
			return nil
		}
		return &Records{Diagnostics: []Diagnostic{*d}, V2: v2}
	case isCtx(v, 205):
		r.i++
		rs := &Records{}
		for _, el := range v.Children {
			var d *Diagnostic
			var err error
			if isUni(el, ber.TagSequence) {
				var v2 bool
				d, v2, err = decodeDefaultDiagV(el)
				rs.V2 = rs.V2 || v2
			} else {
				d, err = decodeDiagRec(el)
			}
			if err != nil {
				r.fail(err)
				return nil
			}
			rs.Diagnostics = append(rs.Diagnostics, *d)
		}
		if len(rs.Diagnostics) == 0 {
			r.fail(fmt.Errorf("multipleNonSurDiagnostics is empty"))
		}
		return rs
	}
	return nil
}

func decodeNamePlusRecord(p *ber.Packet) (NamePlusRecord, error) {
	r := newFields("NamePlusRecord", p)
	npr := NamePlusRecord{Database: r.str(0)}
	if rec := r.need(1, "record"); rec != nil {
		if len(rec.Children) != 1 {
			r.fail(fmt.Errorf("record: %d values", len(rec.Children)))
		} else {
			v := rec.Children[0]
			switch {
			case isCtx(v, 1) && len(v.Children) == 1:
				ext, err := decodeExternal(v.Children[0])
				r.fail(err)
				npr.Record = ext
			case isCtx(v, 2) && len(v.Children) == 1:
				d, err := decodeDiagRec(v.Children[0])
				r.fail(err)
				npr.Diagnostic = d
			default:
				// Fragments (segmentation) are not supported.
				r.fail(fmt.Errorf("record: unsupported %s", describe(v)))
			}
		}
	}
	return npr, r.done()
}

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

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

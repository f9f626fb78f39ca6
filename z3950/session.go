package z3950

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
)

// session is one association: what Init negotiated and the named result
// sets. It is used by its connection's goroutine only.
type session struct {
	srv  *Server
	conn net.Conn
	// ctx is done when the association ends, so a search running then
	// stops reading the index.
	ctx      context.Context
	cancel   context.CancelFunc
	remote   string
	client   string    // the address its limits count by (admission.go)
	accepted time.Time // when the connection was accepted

	// ready is set once Init succeeded; displaced when another connection
	// took its place before that. Both are read by the accepting goroutine.
	ready, displaced atomic.Bool
	v2               bool // version 2 in force: VisibleString addinfo
	prefSize         int  // preferredMessageSize in force
	exceptSize       int  // exceptionalRecordSize in force

	sets    map[string]*resultSet
	useTick uint64
}

// resultSet is a named result set. It keeps the query, not the hits:
// presenting beyond the first page runs the query again (the index is
// fast, and 1,000 connections each holding a million ids would not be);
// the first page of ids is kept for the common search-then-show.
type resultSet struct {
	query   *search.Query
	total   int
	first   []string // ids of positions 1..len(first)
	lastUse uint64
}

// firstPage is how many ids a search keeps.
const firstPage = 20

// maxPresent caps the records of one present (the message size usually
// stops earlier).
const maxPresent = 1000

func newSession(s *Server, c net.Conn) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{srv: s, conn: c, ctx: ctx, cancel: cancel, remote: c.RemoteAddr().String(),
		accepted: time.Now(), sets: map[string]*resultSet{}}
}

// handle answers one PDU; closeAfter ends the association.
func (ss *session) handle(p PDU) (out []PDU, closeAfter bool) {
	if init, ok := p.(*InitRequest); ok {
		resp := ss.init(init)
		return []PDU{resp}, !resp.Result
	}
	if !ss.ready.Load() {
		return []PDU{&Close{Reason: CloseProtocolError, Diagnostic: p.Tag().String() + " before init"}}, true
	}
	switch p := p.(type) {
	case *SearchRequest:
		return []PDU{ss.search(p)}, false
	case *PresentRequest:
		return []PDU{ss.present(p)}, false
	case *ScanRequest:
		return []PDU{ss.scan(p)}, false
	case *DeleteResultSetRequest:
		return []PDU{ss.deleteSets(p)}, false
	case *SortRequest:
		return []PDU{ss.sort(p)}, false
	case *Close:
		return []PDU{&Close{ReferenceID: p.ReferenceID, Reason: CloseFinished}}, true
	case *UnsupportedPDU:
		if p.PDUTag == TagExtendedServicesRequest {
			d := ss.diag(&Diagnostic{Condition: DiagESNotSupported})
			return []PDU{&ExtendedServicesResponse{ReferenceID: p.ReferenceID, Status: 3,
				Diagnostics: []Diagnostic{*d}, V2: ss.v2}}, false
		}
	}
	return []PDU{&Close{ReferenceID: refOf(p), Reason: CloseProtocolError,
		Diagnostic: "unsupported PDU " + p.Tag().String()}}, true
}

func refOf(p PDU) []byte {
	if u, ok := p.(*UnsupportedPDU); ok {
		return u.ReferenceID
	}
	return nil
}

// diag counts a diagnostic being sent and returns it.
func (ss *session) diag(d *Diagnostic) *Diagnostic {
	ss.srv.m.diagnostic(d.Condition)
	return d
}

// Options the server supports.
const serverOptions = OptSearch | OptPresent | OptDelSet | OptScan | OptSort | OptNamedResultSets |
	OptExtendedServices | OptNegotiationModel

func (ss *session) init(req *InitRequest) *InitResponse {
	cfg := ss.srv.cfg
	resp := &InitResponse{
		ReferenceID:           req.ReferenceID,
		ImplementationID:      "unicat",
		ImplementationName:    "unicat union catalog Z39.50 server",
		ImplementationVersion: cfg.Version,
	}
	switch {
	case req.ProtocolVersion&Version3 != 0:
		resp.ProtocolVersion = Version1 | Version2 | Version3
	case req.ProtocolVersion&(Version1|Version2) != 0:
		resp.ProtocolVersion = Version1 | Version2
		ss.v2 = true
	}
	// The sizes the client wants, within the server's cap; a record may
	// exceed the message size up to exceptionalRecordSize.
	pref := req.PreferredMessageSize
	if pref <= 0 || pref > cfg.MaxMessageSize {
		pref = cfg.MaxMessageSize
	}
	except := req.ExceptionalRecordSize
	if except < pref {
		except = pref
	}
	if except > cfg.MaxMessageSize {
		except = cfg.MaxMessageSize
	}
	ss.prefSize, ss.exceptSize = pref, except
	resp.PreferredMessageSize, resp.ExceptionalRecordSize = pref, except
	resp.Options = req.Options & serverOptions &^ OptNegotiationModel
	if prop, ok := findCharsetProposal(req.OtherInfo); ok && !ss.v2 {
		oi, _ := charsetResponse(prop)
		resp.OtherInfo = append(resp.OtherInfo, oi)
		resp.Options |= OptNegotiationModel
	}
	resp.Result = resp.ProtocolVersion != 0
	ss.ready.Store(resp.Result)
	return resp
}

// checkDatabases returns a diagnostic for the first database not served.
func (ss *session) checkDatabases(names []string) *Diagnostic {
	if len(names) == 0 {
		return &Diagnostic{Condition: DiagDatabaseMissing, AddInfo: "no database named"}
	}
	for _, n := range names {
		if !ss.srv.acceptsDatabase(n) {
			return &Diagnostic{Condition: DiagDatabaseMissing, AddInfo: n}
		}
	}
	return nil
}

func setName(name string) string {
	if name == "" {
		return "default"
	}
	return name
}

// lookupSet serves result set operands of queries.
func (ss *session) lookupSet(name string) (search.Node, bool) {
	if rs, ok := ss.sets[setName(name)]; ok {
		return rs.query.Root, true
	}
	return nil, false
}

// storeSet names a result set, dropping the least recently used one when
// the connection has too many.
func (ss *session) storeSet(name string, rs *resultSet) {
	ss.useTick++
	rs.lastUse = ss.useTick
	if _, ok := ss.sets[name]; !ok && len(ss.sets) >= ss.srv.cfg.MaxResultSets {
		var oldest string
		for n, s := range ss.sets {
			if oldest == "" || s.lastUse < ss.sets[oldest].lastUse {
				oldest = n
			}
		}
		delete(ss.sets, oldest)
	}
	ss.sets[name] = rs
}

// runSearch evaluates q and keeps its first page.
func (ss *session) runSearch(q *search.Query) (*resultSet, error) {
	rs := &resultSet{query: q}
	err := ss.srv.cfg.Catalog.View(ss.ctx, func(snap catalog.Snapshot) error {
		hits, err := snap.Search(ss.ctx, q, 0, firstPage)
		if err != nil {
			return err
		}
		rs.total, rs.first = hits.Total, hits.IDs
		return nil
	})
	return rs, err
}

// failure turns an error of translation or search into a diagnostic,
// logging system errors.
func (ss *session) failure(err error, what string) *Diagnostic {
	d, system := diagnosticFor(err)
	if system {
		ss.srv.cfg.Log.Error("z3950: "+what, "remote", ss.remote, "err", err)
	}
	return ss.diag(d)
}

func (ss *session) search(req *SearchRequest) *SearchResponse {
	start := time.Now()
	defer func() { ss.srv.m.searchTime.Observe(time.Since(start).Seconds()) }()
	resp := &SearchResponse{ReferenceID: req.ReferenceID, PresentStatus: -1}
	name := setName(req.ResultSetName)
	fail := func(d *Diagnostic) *SearchResponse {
		resp.SearchStatus = false
		resp.ResultSetStatus = ResultSetNone
		resp.PresentStatus = PresentFailure
		resp.Records = &Records{Diagnostics: []Diagnostic{*d}, V2: ss.v2}
		return resp
	}
	if d := ss.checkDatabases(req.DatabaseNames); d != nil {
		return fail(ss.diag(d))
	}
	if _, exists := ss.sets[name]; exists && !req.ReplaceIndicator {
		return fail(ss.diag(&Diagnostic{Condition: DiagResultSetExists, AddInfo: name}))
	}
	q, err := TranslateQuery(&req.Query, ss.lookupSet)
	if err != nil {
		delete(ss.sets, name)
		return fail(ss.failure(err, "translate query"))
	}
	rs, err := ss.runSearch(q)
	if err != nil {
		delete(ss.sets, name)
		return fail(ss.failure(err, "search"))
	}
	ss.storeSet(name, rs)
	resp.SearchStatus = true
	resp.ResultCount = rs.total
	resp.NextResultSetPosition = 1
	// Piggybacked records (Z39.50 3.2.2.1.4): a small set whole, a medium
	// set's first mediumSetPresentNumber records.
	n, esn := 0, ""
	switch {
	case rs.total <= req.SmallSetUpperBound:
		n, esn = rs.total, req.SmallSetElementSetName
	case rs.total < req.LargeSetLowerBound:
		n, esn = min(req.MediumSetPresentNumber, rs.total), req.MediumSetElementSetName
	}
	if n > 0 {
		pr := ss.records(rs, 1, n, req.PreferredRecordSyntax, nil, esn)
		resp.Records = pr.Records
		resp.PresentStatus = pr.PresentStatus
		resp.NumberOfRecordsReturned = pr.NumberOfRecordsReturned
		resp.NextResultSetPosition = pr.NextResultSetPosition
	}
	return resp
}

func (ss *session) present(req *PresentRequest) *PresentResponse {
	fail := func(d *Diagnostic) *PresentResponse {
		return &PresentResponse{ReferenceID: req.ReferenceID, PresentStatus: PresentFailure,
			Records: &Records{Diagnostics: []Diagnostic{*ss.diag(d)}, V2: ss.v2}}
	}
	rs, ok := ss.sets[setName(req.ResultSetID)]
	if !ok {
		return fail(&Diagnostic{Condition: DiagResultSetMissing, AddInfo: req.ResultSetID})
	}
	ss.useTick++
	rs.lastUse = ss.useTick
	if len(req.AdditionalRanges) > 0 {
		return fail(&Diagnostic{Condition: DiagAdditionalRanges})
	}
	esn := req.ElementSetName
	var syntaxes []OID
	if cs := req.CompSpec; cs != nil {
		esn = cs.ElementSetName
		syntaxes = cs.RecordSyntaxes
	}
	resp := ss.records(rs, req.Start, req.Count, req.PreferredRecordSyntax, syntaxes, esn)
	resp.ReferenceID = req.ReferenceID
	return resp
}

// records presents count records of rs from start: in the first record
// syntax of syntaxes the server renders, else in preferred (USMARC when
// nil), within the negotiated message size.
func (ss *session) records(rs *resultSet, start, count int, preferred OID, syntaxes []OID, esn string) *PresentResponse {
	resp := &PresentResponse{}
	fail := func(d *Diagnostic) *PresentResponse {
		resp.PresentStatus = PresentFailure
		resp.Records = &Records{Diagnostics: []Diagnostic{*ss.diag(d)}, V2: ss.v2}
		return resp
	}
	syntaxOID := chooseSyntax(preferred, syntaxes)
	syntax, ok := lookupSyntax(syntaxOID)
	if !ok {
		return fail(&Diagnostic{Condition: DiagSyntaxUnsupported, AddInfo: syntaxOID.String()})
	}
	brief, ok := lookupElementSet(esn, syntax)
	if !ok {
		return fail(&Diagnostic{Condition: DiagElementSetNotValid, AddInfo: esn})
	}
	if start < 1 || start > rs.total || count < 0 {
		return fail(&Diagnostic{Condition: DiagPresentOutOfRange,
			AddInfo: fmt.Sprintf("%d+%d of %d", start, count, rs.total)})
	}
	count = min(count, rs.total-start+1, maxPresent)
	var list []NamePlusRecord
	status := PresentSuccess
	// Room for the records: the message size less the response's own
	// few dozen bytes.
	budget := ss.prefSize - 64
	used := 0
	err := ss.srv.cfg.Catalog.View(ss.ctx, func(snap catalog.Snapshot) error {
		ids, err := ss.ids(snap, rs, start, count)
		if err != nil {
			return err
		}
		for _, id := range ids {
			npr, size, err := ss.record(snap, id, syntax, syntaxOID, brief)
			if err != nil {
				return err
			}
			switch {
			case used+size <= budget:
			case len(list) == 0 && count == 1 && size <= ss.exceptSize:
				// One record asked for may be as large as the
				// exceptional record size.
			case len(list) == 0:
				code := DiagRecordTooLargePref
				if size > ss.exceptSize {
					code = DiagRecordTooLargeMax
				}
				npr.Record = nil
				npr.Diagnostic = ss.diag(&Diagnostic{Condition: code, AddInfo: fmt.Sprintf("%d bytes", size)})
				size = 0
			default:
				status = PresentPartial2
				return nil
			}
			if npr.Diagnostic != nil && status == PresentSuccess {
				status = PresentPartial4
			}
			used += size + 16
			list = append(list, npr)
		}
		return nil
	})
	if err != nil {
		return fail(ss.failure(err, "present"))
	}
	resp.Records = &Records{Records: list, V2: ss.v2}
	resp.NumberOfRecordsReturned = len(list)
	resp.PresentStatus = status
	if next := start + len(list); next <= rs.total {
		resp.NextResultSetPosition = next
	}
	return resp
}

// chooseSyntax is the first of syntaxes the server renders, else
// preferred, else USMARC.
func chooseSyntax(preferred OID, syntaxes []OID) OID {
	for _, o := range syntaxes {
		if _, ok := lookupSyntax(o); ok {
			return o
		}
	}
	if preferred == nil {
		return OIDUSMARC
	}
	return preferred
}

// record renders one record (or its surrogate diagnostic) and returns its
// size.
func (ss *session) record(snap catalog.Snapshot, id string, syntax recordSyntax, oid OID, brief bool) (NamePlusRecord, int, error) {
	npr := NamePlusRecord{Database: ss.srv.cfg.Database}
	if raw := ss.rawUSMARC(snap, id, oid, brief); raw != nil {
		npr.Record = &External{DirectReference: oid, Octets: raw}
		return npr, externalSize(npr.Record), nil
	}
	rec, err := snap.Record(id)
	if err != nil {
		return npr, 0, err
	}
	if rec == nil {
		npr.Diagnostic = ss.diag(&Diagnostic{Condition: DiagSystemErrorPresenting, AddInfo: "record " + id + " was deleted"})
		return npr, 0, nil
	}
	ext, d := syntax.render(rec, brief, oid)
	if d != nil {
		npr.Diagnostic = ss.diag(d)
		return npr, 0, nil
	}
	npr.Record = ext
	return npr, externalSize(ext), nil
}

// rawUSMARC returns the stored ISO 2709 of a record when it can be sent
// as it is: USMARC, element set F, and stored as marc.AppendISO2709
// writes it (leader/09 'a').
func (ss *session) rawUSMARC(snap catalog.Snapshot, id string, syntax OID, brief bool) []byte {
	if brief || !syntax.Equal(OIDUSMARC) {
		return nil
	}
	raw, err := snap.RecordISO2709(id)
	if err != nil || len(raw) < marc.LeaderLen || raw[9] != 'a' {
		return nil // the ordinary way will tell
	}
	// The bytes belong to the transaction, which ends before they are sent.
	return bytes.Clone(raw)
}

// externalSize estimates the encoded size of a record.
func externalSize(e *External) int {
	switch {
	case e.Octets != nil:
		return len(e.Octets) + 24
	case e.Single != nil:
		return encodedLen(e.Single) + 24
	}
	return 24
}

// ids returns the ids of positions start..start+count-1 of rs: from the
// kept first page, or by running the query again.
func (ss *session) ids(snap catalog.Snapshot, rs *resultSet, start, count int) ([]string, error) {
	if start+count-1 <= len(rs.first) {
		return rs.first[start-1 : start-1+count], nil
	}
	hits, err := snap.Search(ss.ctx, rs.query, start-1, count)
	if err != nil {
		return nil, err
	}
	return hits.IDs, nil
}

func (ss *session) deleteSets(req *DeleteResultSetRequest) *DeleteResultSetResponse {
	resp := &DeleteResultSetResponse{ReferenceID: req.ReferenceID, Status: DeleteSuccess}
	if req.All {
		clear(ss.sets)
		return resp
	}
	for _, n := range req.Names {
		st := ListStatus{Name: n, Status: DeleteSuccess}
		if _, ok := ss.sets[setName(n)]; ok {
			delete(ss.sets, setName(n))
		} else {
			st.Status = DeleteResultSetDidNotExist
			resp.Status = DeleteNotAllRequested
		}
		resp.Statuses = append(resp.Statuses, st)
	}
	return resp
}

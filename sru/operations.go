package sru

import (
	"strconv"
	"strings"

	"github.com/indexdata/cql-go/cql"
	"github.com/unicat/unicat/catalog"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
)

// responseNS returns the namespace of an operation's response element.
func responseNS(req *request, op string) string {
	switch {
	case !req.v2():
		return nsSRU1
	case op == "scan":
		return nsScan2
	}
	return nsResponse2
}

func responseName(op string) string {
	switch op {
	case "searchRetrieve":
		return "searchRetrieveResponse"
	case "scan":
		return "scanResponse"
	}
	return "explainResponse"
}

// begin starts a response document; version is written where the
// version's schema has it (every 1.x response; 2.0 explain only).
func (s *Server) begin(req *request, op string) *xmlBuf {
	x := &xmlBuf{}
	if b, ok := s.bufs.Get().(*[]byte); ok {
		x.b = (*b)[:0]
	} else {
		x.b = make([]byte, 0, 64<<10)
	}
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.open("zs:"+responseName(op), "xmlns:zs", responseNS(req, op))
	if !req.v2() || op == "explain" {
		x.elem("zs:version", req.version)
	}
	return x
}

func end(x *xmlBuf, op string) []byte {
	x.close("zs:" + responseName(op))
	return x.b
}

// writeDiagnostics writes the diagnostics element (last but one in every
// response type).
func writeDiagnostics(x *xmlBuf, req *request, ds ...*diagnostic) {
	ns := nsDiag1
	if req.v2() {
		ns = nsDiag2
	}
	x.open("zs:diagnostics", "xmlns:diag", ns)
	for _, d := range ds {
		writeDiagnostic(x, "diag:", d)
	}
	x.close("zs:diagnostics")
}

// writeDiagnostic writes one diagnostic: uri, details, message, in the
// order of the diagnostic schema.
func writeDiagnostic(x *xmlBuf, prefix string, d *diagnostic) {
	x.open(prefix + "diagnostic")
	x.elem(prefix+"uri", diagPrefix+itoa(d.code))
	if d.details != "" {
		x.elem(prefix+"details", d.details)
	}
	msg := d.message
	if msg == "" {
		msg = search.DiagnosticMessage(d.code)
	}
	x.elem(prefix+"message", msg)
	x.close(prefix + "diagnostic")
}

func itoa(n int) string { return strconv.Itoa(n) }

// fatal answers an operation with one fatal diagnostic.
func (s *Server) fatal(req *request, op string, d *diagnostic) []byte {
	x := s.begin(req, op)
	switch op {
	case "searchRetrieve":
		x.intElem("zs:numberOfRecords", 0)
		writeDiagnostics(x, req, d)
		if req.v2() {
			x.elem("zs:resultCountPrecision", "info:srw/vocabulary/resultCountPrecision/1/exact")
		}
	case "scan":
		writeDiagnostics(x, req, d)
	default:
		s.writeExplainRecord(x, req)
		writeDiagnostics(x, req, d)
	}
	return end(x, op)
}

// retrieval holds the record parameters of a searchRetrieve.
type retrieval struct {
	schema string // schemaMARCXML or schemaDC
	asText bool   // recordPacking (1.x) / recordXMLEscaping (2.0) "string"
}

func parseRetrieval(req *request) (retrieval, *diagnostic) {
	var r retrieval
	switch name := req.params["recordSchema"]; name {
	case "", "marcxml", schemaMARCXML, "MARC21-xml", "marc21":
		r.schema = schemaMARCXML
	case "dc", schemaDC:
		r.schema = schemaDC
	default:
		return r, diag(66, name)
	}
	packName := "recordPacking"
	if req.v2() {
		packName = "recordXMLEscaping"
		switch p := req.params["recordPacking"]; p {
		case "", "packed":
		default:
			return r, &diagnostic{code: 6, details: "recordPacking", message: "only packed records are served"}
		}
	}
	switch p := req.params[packName]; p {
	case "", "xml":
	case "string":
		r.asText = true
	default:
		return r, diag(71, p)
	}
	if _, ok := req.params["recordXPath"]; ok {
		return r, diag(72, req.params["recordXPath"])
	}
	if ss, ok := req.params["stylesheet"]; ok {
		return r, diag(110, ss)
	}
	return r, nil
}

func (s *Server) searchRetrieve(req *request) []byte {
	const op = "searchRetrieve"
	p, d := s.parseSearchRetrieve(req)
	if d != nil {
		return s.fatal(req, op, d)
	}
	var out []byte
	err := s.cfg.Catalog.View(req.ctx, func(snap catalog.Snapshot) error {
		hits, err := snap.Search(req.ctx, p.query, p.start-1, p.max)
		if err != nil {
			return err
		}
		out = s.writeSearchResponse(req, snap, p, hits)
		return nil
	})
	if err != nil {
		return s.fatal(req, op, s.asDiagnostic(err))
	}
	return out
}

// searchParams are the parameters of a searchRetrieve.
type searchParams struct {
	query *search.Query
	start int // startRecord, 1-based
	max   int // maximumRecords, at most the configured maximum
	ret   retrieval
}

// parseSearchRetrieve reads and checks the parameters of a
// searchRetrieve, answering the first that is wrong with its
// diagnostic.
func (s *Server) parseSearchRetrieve(req *request) (searchParams, *diagnostic) {
	var p searchParams
	qs, ok := req.params["query"]
	if !ok {
		return p, diag(7, "query")
	}
	if qt := req.params["queryType"]; qt != "" && qt != "cql" {
		return p, diag(11, qt)
	}
	var d *diagnostic
	if p.start, d = intParam(req, "startRecord", 1, 1); d != nil {
		return p, d
	}
	if p.max, d = intParam(req, "maximumRecords", s.cfg.DefaultRecords, 0); d != nil {
		return p, d
	}
	p.max = min(p.max, s.cfg.MaxRecords)
	if _, d := intParam(req, "resultSetTTL", 0, 0); d != nil {
		return p, d
	}
	if p.ret, d = parseRetrieval(req); d != nil {
		return p, d
	}
	p.query, d = s.parseQuery(req, qs)
	return p, d
}

// parseQuery parses the CQL query qs and its sort keys: a sortBy clause
// (SRU 1.2 and 2.0) or the sortKeys parameter (SRU 1.1).
func (s *Server) parseQuery(req *request, qs string) (*search.Query, *diagnostic) {
	q, err := search.ParseCQL(qs)
	if err != nil {
		return nil, s.asDiagnostic(err)
	}
	if req.version == "1.1" && len(q.Sort) > 0 {
		return nil, &diagnostic{code: 80, details: "sortBy",
			message: "Sort not supported (SRU 1.1 sorts with the sortKeys parameter)"}
	}
	if sk, ok := req.params["sortKeys"]; ok {
		if req.version == "1.2" || req.version == "2.0" {
			return nil, diag(8, "sortKeys")
		}
		keys, err := search.ParseSortKeys(sk)
		if err != nil {
			return nil, s.asDiagnostic(err)
		}
		q.Sort = keys
	}
	return q, nil
}

// writeSearchResponse writes the searchRetrieve response for a page of
// hits, in the order of the response schema.
func (s *Server) writeSearchResponse(req *request, snap catalog.Snapshot, p searchParams, hits *search.Hits) []byte {
	const op = "searchRetrieve"
	x := s.begin(req, op)
	x.intElem("zs:numberOfRecords", hits.Total)
	if len(hits.IDs) > 0 {
		x.open("zs:records")
		for i, id := range hits.IDs {
			s.writeRecord(x, req, snap, p.ret, id, p.start+i)
		}
		x.close("zs:records")
	}
	if next := p.start + len(hits.IDs); len(hits.IDs) > 0 && next <= hits.Total {
		x.intElem("zs:nextRecordPosition", next)
	}
	if p.max > 0 && p.start > 1 && p.start > hits.Total {
		writeDiagnostics(x, req, diag(61, itoa(p.start)))
	}
	if req.v2() {
		x.elem("zs:resultCountPrecision", "info:srw/vocabulary/resultCountPrecision/1/exact")
	}
	return end(x, op)
}

// writeRecord writes one zs:record: recordSchema, recordPacking (or
// recordXMLEscaping), recordData, recordPosition. A record that cannot
// be had becomes a surrogate diagnostic.
func (s *Server) writeRecord(x *xmlBuf, req *request, snap catalog.Snapshot, ret retrieval, id string, pos int) {
	packElem := "zs:recordPacking"
	if req.v2() {
		packElem = "zs:recordXMLEscaping"
	}
	packing := "xml"
	if ret.asText {
		packing = "string"
	}
	schema := ret.schema
	rec, err := snap.Record(id)
	var diagData []byte
	switch {
	case err != nil:
		s.cfg.Log.Error("sru: fetch record", "id", id, "err", err)
		diagData, schema = surrogate(diag(64, id)), schemaDiagnostics
	case rec == nil:
		diagData, schema = surrogate(diag(65, id)), schemaDiagnostics
	}
	x.open("zs:record")
	x.elem("zs:recordSchema", schema)
	x.elem(packElem, packing)
	x.open("zs:recordData")
	// XML packing appends the record straight into the response; string
	// packing escapes it.
	appendData := func(dst []byte) []byte {
		switch {
		case diagData != nil:
			return append(dst, diagData...)
		case schema == schemaDC:
			return marc.ToDC(rec).AppendXML(dst, marc.RootSRWDC, true)
		}
		dst, _ = marc.AppendMARCXML(dst, rec, true)
		return dst
	}
	if ret.asText {
		x.text(string(appendData(nil)))
	} else {
		x.b = appendData(x.b)
	}
	x.close("zs:recordData")
	x.intElem("zs:recordPosition", pos)
	x.close("zs:record")
}

// surrogate is a diagnostic standing in for a record.
func surrogate(d *diagnostic) []byte {
	var x xmlBuf
	x.open("diagnostic", "xmlns", nsDiag1)
	x.elem("uri", diagPrefix+itoa(d.code))
	x.elem("details", d.details)
	x.elem("message", search.DiagnosticMessage(d.code))
	x.close("diagnostic")
	return x.b
}

func (s *Server) scan(req *request) []byte {
	const op = "scan"
	clause, ok := req.params["scanClause"]
	if !ok {
		return s.fatal(req, op, diag(7, "scanClause"))
	}
	pos, d := intParam(req, "responsePosition", 1, 0)
	if d != nil {
		return s.fatal(req, op, d)
	}
	n, d := intParam(req, "maximumTerms", s.cfg.DefaultTerms, 1)
	if d != nil {
		return s.fatal(req, op, d)
	}
	if n > s.cfg.MaxTerms {
		return s.fatal(req, op, &diagnostic{code: 121, details: itoa(n),
			message: "Too many terms requested (at most " + itoa(s.cfg.MaxTerms) + ")"})
	}
	if pos > n+1 {
		return s.fatal(req, op, diag(120, itoa(pos)))
	}
	sr, d := parseScanClause(clause)
	if d != nil {
		return s.fatal(req, op, d)
	}
	sr.Position, sr.Count = pos, n
	var terms []search.ScanTerm
	err := s.cfg.Catalog.View(req.ctx, func(snap catalog.Snapshot) error {
		var err error
		terms, err = snap.Scan(req.ctx, sr)
		return err
	})
	if err != nil {
		return s.fatal(req, op, s.asDiagnostic(err))
	}
	x := s.begin(req, op)
	if len(terms) > 0 {
		x.open("zs:terms")
		for _, t := range terms {
			x.open("zs:term")
			x.elem("zs:value", t.Value)
			x.intElem("zs:numberOfRecords", t.Count)
			x.elem("zs:displayTerm", t.Display)
			x.close("zs:term")
		}
		x.close("zs:terms")
	}
	return end(x, op)
}

// parseScanClause reads "index relation term" (or a bare term).
func parseScanClause(s string) (search.ScanRequest, *diagnostic) {
	var p cql.Parser
	q, err := p.Parse(s)
	if err != nil {
		return search.ScanRequest{}, &diagnostic{code: 10, details: s, message: "Query syntax error (" + err.Error() + ")"}
	}
	sc := q.Clause.SearchClause
	if sc == nil || len(q.SortSpec) > 0 {
		return search.ScanRequest{}, &diagnostic{code: 10, details: s, message: "a scan clause is one index, relation and term"}
	}
	req := search.ScanRequest{Index: sc.Index, From: strings.Trim(sc.Term, "^")}
	if def, ok := search.LookupIndex(sc.Index); !ok && sc.Index != "" {
		return req, diag(16, sc.Index)
	} else if ok && def.Name == "anywhere" {
		req.Index = ""
	}
	switch strings.ToLower(strings.TrimPrefix(strings.ToLower(string(sc.Relation)), "cql.")) {
	case "", "=", "scr", "all", "any", "adj":
	case "==", "exact":
		req.Phrases = true
	default:
		return req, diag(19, string(sc.Relation))
	}
	if len(sc.Modifiers) > 0 {
		return req, diag(20, sc.Modifiers[0].Name)
	}
	return req, nil
}

package sru

import (
	"sort"
	"strings"

	"github.com/unicat/unicat/search"
)

func (s *Server) explain(req *request) []byte {
	const op = "explain"
	packName := "recordPacking"
	if req.v2() {
		packName = "recordXMLEscaping"
	}
	switch p := req.params[packName]; p {
	case "", "xml", "string":
	default:
		return s.fatal(req, op, diag(71, p))
	}
	if ss, ok := req.params["stylesheet"]; ok {
		return s.fatal(req, op, diag(110, ss))
	}
	x := s.begin(req, op)
	s.writeExplainRecord(x, req)
	return end(x, op)
}

// writeExplainRecord writes the zs:record holding the ZeeRex description.
func (s *Server) writeExplainRecord(x *xmlBuf, req *request) {
	packElem, packName := "zs:recordPacking", "recordPacking"
	if req.v2() {
		packElem, packName = "zs:recordXMLEscaping", "recordXMLEscaping"
	}
	asText := req.params[packName] == "string"
	x.open("zs:record")
	x.elem("zs:recordSchema", nsZeeRex)
	if asText {
		x.elem(packElem, "string")
	} else {
		x.elem(packElem, "xml")
	}
	x.open("zs:recordData")
	zr := s.zeerex(req)
	if asText {
		x.text(string(zr))
	} else {
		x.rawBytes(zr)
	}
	x.close("zs:recordData")
	x.close("zs:record")
}

// zeerex describes the server in ZeeRex 2.0: serverInfo, databaseInfo,
// indexInfo (from the search package's index table), schemaInfo and
// configInfo, in the order the ZeeRex schema defines.
func (s *Server) zeerex(req *request) []byte {
	var x xmlBuf
	x.open("explain", "xmlns", nsZeeRex)
	writeServerInfo(&x, req)
	s.writeDatabaseInfo(&x)
	writeIndexInfo(&x)
	writeSchemaInfo(&x)
	s.writeConfigInfo(&x, req)
	x.close("explain")
	return x.b
}

func writeServerInfo(x *xmlBuf, req *request) {
	x.open("serverInfo", "protocol", "SRU", "version", req.version, "transport", "http")
	x.elem("host", req.host)
	x.elem("port", req.port)
	x.elem("database", strings.TrimPrefix(req.path, "/"))
	x.close("serverInfo")
}

func (s *Server) writeDatabaseInfo(x *xmlBuf) {
	x.open("databaseInfo")
	x.elem("title", s.cfg.Title, "lang", "en", "primary", "true")
	desc := s.cfg.Description
	if desc == "" {
		desc = "Union catalog of the member libraries. Searches ignore case and diacritics " +
			"(đ is d) unless a relation asks for accents (==, exact, /respectAccents)."
	}
	x.elem("description", desc, "lang", "en", "primary", "true")
	x.close("databaseInfo")
}

// writeIndexInfo lists the context sets and, after cql.allRecords, every
// index of the index table with its CQL names and Bib-1 use attributes.
func writeIndexInfo(x *xmlBuf) {
	x.open("indexInfo")
	sets := search.ContextSets()
	prefixes := make([]string, 0, len(sets))
	for p := range sets {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		x.empty("set", "identifier", sets[p], "name", p)
	}
	x.open("index", "search", "true", "scan", "false", "sort", "false", "id", "allRecords")
	x.elem("title", "All records", "lang", "en")
	x.open("map")
	x.elem("name", "allRecords", "set", "cql")
	x.close("map")
	x.close("index")
	for _, def := range search.Indexes() {
		writeIndex(x, def)
	}
	x.close("indexInfo")
}

func writeIndex(x *xmlBuf, def search.IndexDef) {
	sortable := "false"
	if def.Sort != 0 {
		sortable = "true"
	}
	x.open("index", "search", "true", "scan", "true", "sort", sortable, "id", def.Name)
	x.elem("title", def.Title, "lang", "en")
	for _, name := range def.CQL {
		set, local, _ := strings.Cut(name, ".")
		x.open("map")
		x.elem("name", local, "set", set)
		x.close("map")
	}
	for _, use := range def.Bib1 {
		x.open("map")
		x.elem("attr", itoa(use), "type", "1", "set", "bib1")
		x.close("map")
	}
	x.open("configInfo")
	x.elem("supports", def.Kind.String()+": "+def.Fields, "type", "index")
	x.close("configInfo")
	x.close("index")
}

func writeSchemaInfo(x *xmlBuf) {
	x.open("schemaInfo")
	for _, rs := range recordSchemas {
		x.open("schema", "identifier", rs.uri, "name", rs.name, "retrieve", "true", "sort", "false")
		x.elem("title", rs.title, "lang", "en")
		x.close("schema")
	}
	x.close("schemaInfo")
}

// writeConfigInfo writes the defaults, the limits and what the server
// supports of CQL and sorting.
func (s *Server) writeConfigInfo(x *xmlBuf, req *request) {
	x.open("configInfo")
	x.elem("default", itoa(s.cfg.DefaultRecords), "type", "numberOfRecords")
	x.elem("default", "cql.serverChoice", "type", "index")
	x.elem("default", "dc", "type", "contextSet")
	x.elem("default", schemaMARCXML, "type", "retrieveSchema")
	x.elem("default", itoa(s.cfg.DefaultTerms), "type", "numberOfTerms")
	x.elem("setting", itoa(s.cfg.MaxRecords), "type", "maximumRecords")
	x.elem("setting", itoa(s.cfg.MaxTerms), "type", "maximumTerms")
	for _, r := range []string{"=", "==", "exact", "adj", "all", "any", "<", "<=", ">", ">=", "<>"} {
		x.elem("supports", r, "type", "relation")
	}
	for _, m := range []string{"ignoreAccents", "respectAccents", "ignoreCase", "masked", "unmasked", "relevant", "string", "word", "number", "isoDate"} {
		x.elem("supports", m, "type", "relationModifier")
	}
	for _, b := range []string{"and", "or", "not", "prox"} {
		x.elem("supports", b, "type", "booleanOperator")
	}
	for _, m := range []string{"distance<=1", "unit=word", "ordered", "unordered"} {
		x.elem("supports", m, "type", "proximityModifier")
	}
	x.elem("supports", "*", "type", "maskingCharacter")
	x.elem("supports", "?", "type", "maskingCharacter")
	x.elem("supports", "^", "type", "anchoring")
	for _, k := range []string{"dc.title", "dc.creator", "dc.date", "rec.relevance"} {
		x.elem("supports", k, "type", "sort")
	}
	for _, m := range []string{"sort.ascending", "sort.descending", "sort.ignoreCase", "sort.missingLow"} {
		x.elem("supports", m, "type", "sortModifier")
	}
	if req.version == "1.1" {
		x.elem("supports", "sortKeys", "type", "sortKeys")
	}
	x.close("configInfo")
}

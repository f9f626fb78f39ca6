// Package sru serves the union catalog over SRU (Search/Retrieve via URL)
// versions 1.1, 1.2 and 2.0: explain (a ZeeRex record generated from the
// search package's index table), searchRetrieve and scan, by GET or by
// POST (application/x-www-form-urlencoded). Queries are CQL, parsed and
// translated into the search package's query tree.
//
// Every answer is an SRU response with HTTP status 200: what cannot be
// done is reported as an SRU diagnostic (info:srw/diagnostic/1/N), never
// as an HTTP error, whatever the request holds.
package sru

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/search"
)

// Config configures a Server.
type Config struct {
	// Catalog is what the server searches and serves records from.
	Catalog catalog.Reader

	DefaultRecords int // maximumRecords when not given; 0 means 10
	MaxRecords     int // cap on maximumRecords; 0 means 100
	DefaultTerms   int // maximumTerms of scan when not given; 0 means 20
	MaxTerms       int // cap on maximumTerms; 0 means 200

	Title       string // database title for explain; "" means "unicat union catalog"
	Description string
	Log         *slog.Logger // system errors; nil logs nothing

	// Unavailable, when set, says why the catalog cannot be searched now
	// ("" when it can), as while `unicat serve` builds it at its start:
	// searchRetrieve and scan then answer diagnostic 2 (System temporarily
	// unavailable) with the reason, without touching Catalog; explain,
	// which describes the server, answers as always.
	Unavailable func() string
}

// Server is an http.Handler answering SRU requests.
type Server struct {
	cfg  Config
	bufs sync.Pool // *[]byte response buffers, reused across requests
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.DefaultRecords <= 0 {
		cfg.DefaultRecords = 10
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 100
	}
	if cfg.DefaultRecords > cfg.MaxRecords {
		cfg.DefaultRecords = cfg.MaxRecords
	}
	if cfg.DefaultTerms <= 0 {
		cfg.DefaultTerms = 20
	}
	if cfg.MaxTerms <= 0 {
		cfg.MaxTerms = 200
	}
	if cfg.Title == "" {
		cfg.Title = "unicat union catalog"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Server{cfg: cfg}
}

// Protocol constants.
const (
	nsSRU1      = "http://www.loc.gov/zing/srw/"
	nsDiag1     = "http://www.loc.gov/zing/srw/diagnostic/"
	nsResponse2 = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
	nsScan2     = "http://docs.oasis-open.org/ns/search-ws/scan"
	nsDiag2     = "http://docs.oasis-open.org/ns/search-ws/diagnostic"
	nsZeeRex    = "http://explain.z3950.org/dtd/2.0/"

	schemaMARCXML     = "info:srw/schema/1/marcxml-v1.1"
	schemaDC          = "info:srw/schema/1/dc-v1.1"
	schemaDiagnostics = "info:srw/schema/1/diagnostics-v1.1"
	diagPrefix        = "info:srw/diagnostic/1/"
)

// recordSchemas are the schemas records are served in, by name and URI.
var recordSchemas = []struct {
	name, uri, title string
}{
	{"marcxml", schemaMARCXML, "MARCXML (MARC 21 slim)"},
	{"dc", schemaDC, "Dublin Core (SRU dc schema)"},
}

// diagnostic is one SRU diagnostic.
type diagnostic struct {
	code    int
	details string
	message string // "" means the standard message
}

func diag(code int, details string) *diagnostic { return &diagnostic{code: code, details: details} }

func (d *diagnostic) Error() string { return fmt.Sprintf("SRU diagnostic %d: %s", d.code, d.details) }

// request is a parsed SRU request.
type request struct {
	ctx       context.Context // the HTTP request's: done when the client goes away
	version   string          // negotiated: "1.1", "1.2" or "2.0"
	operation string
	params    map[string]string
	host      string // for explain's serverInfo
	port      string
	path      string
}

func (r *request) v2() bool { return r.version == "2.0" }

// negotiate picks the version to answer in; ok is false when the asked
// version is not supported (answered in 2.0 with diagnostic 5).
func negotiate(v string) (string, bool) {
	switch {
	case v == "":
		return "2.0", true
	case v == "1.1":
		return "1.1", true
	case strings.HasPrefix(v, "1."):
		return "1.2", true
	case strings.HasPrefix(v, "2."):
		return "2.0", true
	}
	return "2.0", false
}

// Parameters each version accepts; anything else (except "x-"
// extensions) is diagnostic 8.
var versionParams = map[string]map[string]bool{
	"1.1": set("operation", "version", "query", "startRecord", "maximumRecords", "recordPacking", "recordSchema",
		"recordXPath", "resultSetTTL", "sortKeys", "stylesheet", "extraRequestData", "scanClause", "responsePosition", "maximumTerms"),
	"1.2": set("operation", "version", "query", "startRecord", "maximumRecords", "recordPacking", "recordSchema",
		"resultSetTTL", "stylesheet", "extraRequestData", "scanClause", "responsePosition", "maximumTerms"),
	"2.0": set("operation", "version", "query", "queryType", "startRecord", "maximumRecords", "recordXMLEscaping",
		"recordPacking", "recordSchema", "resultSetTTL", "stylesheet", "extraRequestData", "scanClause",
		"responsePosition", "maximumTerms", "httpAccept", "renderedBy", "responseType", "sortKeys"),
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// maxBody bounds a POST request body.
const maxBody = 1 << 16

// ServeHTTP answers one SRU request.
func (s *Server) ServeHTTP(w http.ResponseWriter, hr *http.Request) {
	req := &request{ctx: hr.Context(), params: map[string]string{}, path: hr.URL.Path}
	req.host, req.port = splitHost(hr.Host)
	var out []byte
	defer func() {
		if p := recover(); p != nil {
			// A bug must not leave the client without an SRU answer.
			s.cfg.Log.Error("sru: panic", "panic", p, "query", hr.URL.RawQuery)
			out = s.fatal(req, "explain", diag(search.DiagGeneral, "internal error"))
			write(w, out)
		}
	}()
	out = s.serve(req, hr)
	write(w, out)
	if cap(out) <= maxPooled {
		s.bufs.Put(&out)
	}
}

// maxPooled bounds the response buffers kept for reuse.
const maxPooled = 4 << 20

func write(w http.ResponseWriter, out []byte) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

func splitHost(h string) (host, port string) {
	host, port, err := net.SplitHostPort(h)
	if err != nil {
		return h, "80"
	}
	return host, port
}

func (s *Server) serve(req *request, hr *http.Request) []byte {
	req.version = "2.0"
	switch hr.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodPost:
		hr.Body = http.MaxBytesReader(nil, hr.Body, maxBody)
		ct := hr.Header.Get("Content-Type")
		if ct != "" && !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
			return s.fatal(req, "explain", &diagnostic{code: 1, details: ct,
				message: "POST requests must be application/x-www-form-urlencoded"})
		}
	default:
		return s.fatal(req, "explain", &diagnostic{code: 4, details: hr.Method, message: "use GET or POST"})
	}
	if err := hr.ParseForm(); err != nil {
		return s.fatal(req, "explain", &diagnostic{code: 6, details: "request", message: err.Error()})
	}
	for k, v := range hr.Form {
		if len(v) > 0 {
			req.params[k] = v[0]
		}
		if len(v) > 1 {
			return s.fatal(req, "explain", &diagnostic{code: 6, details: k, message: "parameter given more than once"})
		}
	}
	ver, ok := negotiate(req.params["version"])
	req.version = ver
	op := req.params["operation"]
	if op == "" {
		// SRU 2.0 has no operation parameter; 1.x servers answer explain
		// without one. Either way the other parameters say what is meant.
		switch {
		case req.params["query"] != "":
			op = "searchRetrieve"
		case req.params["scanClause"] != "":
			op = "scan"
		default:
			op = "explain"
		}
	}
	req.operation = op
	if !ok {
		return s.fatal(req, op, diag(5, req.params["version"]))
	}
	switch op {
	case "searchRetrieve", "scan", "explain":
	default:
		return s.fatal(req, "explain", diag(4, op))
	}
	allowed := versionParams[req.version]
	for k := range req.params {
		if !allowed[k] && !strings.HasPrefix(k, "x-") {
			return s.fatal(req, op, diag(8, k))
		}
	}
	if op != "explain" && s.cfg.Unavailable != nil {
		if why := s.cfg.Unavailable(); why != "" {
			return s.fatal(req, op, &diagnostic{code: 2, message: "System temporarily unavailable: " + why})
		}
	}
	switch op {
	case "searchRetrieve":
		return s.searchRetrieve(req)
	case "scan":
		return s.scan(req)
	}
	return s.explain(req)
}

// intParam reads a non-negative integer parameter; def when absent.
func intParam(req *request, name string, def, min int) (int, *diagnostic) {
	v, ok := req.params[name]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < min {
		return 0, diag(6, name)
	}
	return n, nil
}

// asDiagnostic turns a search error into a diagnostic; system errors are
// logged and reported as diagnostic 1.
func (s *Server) asDiagnostic(err error) *diagnostic {
	var se *search.Error
	if errors.As(err, &se) {
		return &diagnostic{code: se.Code, details: se.Detail, message: withReason(se)}
	}
	var d *diagnostic
	if errors.As(err, &d) {
		return d
	}
	if errors.Is(err, search.ErrNeedsRebuild) {
		return &diagnostic{code: 2, message: "System temporarily unavailable: the index is being rebuilt"}
	}
	s.cfg.Log.Error("sru: system error", "err", err)
	return &diagnostic{code: search.DiagGeneral, details: "internal error"}
}

func withReason(se *search.Error) string {
	if se.Message == "" {
		return ""
	}
	return search.DiagnosticMessage(se.Code) + " (" + se.Message + ")"
}

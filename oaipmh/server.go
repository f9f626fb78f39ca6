package oaipmh

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/marc"
)

// Options configure a Server.
type Options struct {
	RepositoryName string
	// Domain is the oai-identifier repositoryIdentifier: records are
	// oai:<Domain>:<union id>.
	Domain     string
	AdminEmail string
	// BaseURL is the endpoint's public URL; "" derives it from each
	// request's Host and path.
	BaseURL string
	// PageSize is the number of records, headers or sets per response;
	// zero means DefaultPageSize.
	PageSize int
	// Logger receives records that could not be served; nil discards.
	Logger *slog.Logger
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// DefaultPageSize is the page size when Options.PageSize is zero.
const DefaultPageSize = 200

var (
	domainPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$`)
	prefixPattern = regexp.MustCompile(`^[A-Za-z0-9\-_.!~*'()]+$`)
)

// Server is the OAI-PMH data provider, an http.Handler.
type Server struct {
	cat  catalog.Reader
	opts Options
	log  *slog.Logger
	now  func() time.Time
}

// NewServer returns a data provider over the union records of cat.
func NewServer(cat catalog.Reader, opts Options) (*Server, error) {
	if !domainPattern.MatchString(opts.Domain) {
		return nil, fmt.Errorf("oaipmh: domain %q is not a repository identifier (a DNS name with a dot)", opts.Domain)
	}
	if opts.RepositoryName == "" || opts.AdminEmail == "" {
		return nil, errors.New("oaipmh: repository name and admin e-mail are required")
	}
	if opts.PageSize == 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.PageSize < 0 {
		return nil, fmt.Errorf("oaipmh: page size %d", opts.PageSize)
	}
	s := &Server{cat: cat, opts: opts, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Identifier returns the OAI identifier of a union record.
func (s *Server) Identifier(unionID string) string {
	return "oai:" + s.opts.Domain + ":" + unionID
}

// unionID returns the union id named by an OAI identifier of this
// repository.
func (s *Server) unionID(identifier string) (string, bool) {
	id, ok := strings.CutPrefix(identifier, "oai:"+s.opts.Domain+":")
	return id, ok && id != ""
}

// formats are the metadata formats disseminated; marcxml is another name
// for marc21, which Koha-style harvesters ask for.
var formats = []struct{ prefix, schema, namespace string }{
	{"oai_dc", SchemaOAIDC, marc.NamespaceOAIDC},
	{"marc21", SchemaMARC21, marc.MARCXMLNamespace},
	{"marcxml", SchemaMARC21, marc.MARCXMLNamespace},
}

func knownFormat(prefix string) bool {
	for _, f := range formats {
		if f.prefix == prefix {
			return true
		}
	}
	return false
}

// ServeHTTP answers one OAI-PMH request, over GET or POST.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "OAI-PMH requests use GET or POST", http.StatusMethodNotAllowed)
		return
	}
	now := s.now().UTC().Truncate(time.Second)
	base := s.baseURL(r)
	vals, perr := readArgs(r)
	q, oerr := parseRequest(vals, perr)
	if oerr != nil {
		// badVerb and badArgument echo the base URL only.
		s.writeError(w, r, now, base, nil, oerr)
		return
	}
	c := &call{s: s, w: w, r: r, now: now, base: base, q: q}
	switch q.verb {
	case "Identify":
		c.identify()
	case "ListMetadataFormats":
		c.listMetadataFormats()
	case "ListSets":
		c.listSets()
	case "GetRecord":
		c.getRecord()
	case "ListIdentifiers", "ListRecords":
		c.list()
	}
}

func (s *Server) baseURL(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.Path
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, now time.Time, base string, attrs []string, e *oaiError) {
	rs := begin(w, r, now, base, attrs)
	rs.buf = append(rs.buf, `<error code="`...)
	rs.buf = append(rs.buf, e.code...)
	rs.buf = append(rs.buf, `">`...)
	rs.buf = marc.AppendXMLText(rs.buf, clipText(e.msg, 2*maxEcho))
	rs.buf = append(rs.buf, "</error>\n"...)
	rs.finish()
}

// call is one request being answered.
type call struct {
	s    *Server
	w    http.ResponseWriter
	r    *http.Request
	now  time.Time
	base string
	q    *request
	rs   *response // once the response has begun
}

func (c *call) begin() *response {
	c.rs = begin(c.w, c.r, c.now, c.base, c.q.attrs())
	return c.rs
}

func (c *call) fail(e *oaiError) {
	c.s.writeError(c.w, c.r, c.now, c.base, c.q.attrs(), e)
}

// view runs fn in a read transaction. fn returns a protocol error, written
// as the response, or nil once it has answered. A store error before the
// response began is a 500; after, the response is left unfinished, so the
// harvester sees a broken document rather than a short list.
func (c *call) view(fn func(snap catalog.Snapshot) *oaiError) {
	var oerr *oaiError
	err := c.s.cat.View(c.r.Context(), func(snap catalog.Snapshot) error {
		oerr = fn(snap)
		return nil
	})
	if err == nil && oerr != nil && c.rs == nil {
		c.fail(oerr)
		return
	}
	if err != nil {
		c.s.log.Error("oai-pmh: request failed", "verb", c.q.verb, "err", err)
		if c.rs == nil {
			http.Error(c.w, "internal error", http.StatusInternalServerError)
		}
	}
}

// clip returns s cut to at most n bytes at a character boundary, "…"
// marking a cut.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

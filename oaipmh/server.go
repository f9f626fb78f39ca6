package oaipmh

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/oaiindex"
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

// The protocol's verbs and their arguments.
var verbs = map[string]struct {
	required, optional []string
	exclusive          bool // accepts resumptionToken
}{
	"Identify":            {},
	"ListMetadataFormats": {optional: []string{"identifier"}},
	"ListSets":            {exclusive: true},
	"GetRecord":           {required: []string{"identifier", "metadataPrefix"}},
	"ListIdentifiers":     {required: []string{"metadataPrefix"}, optional: []string{"from", "until", "set"}, exclusive: true},
	"ListRecords":         {required: []string{"metadataPrefix"}, optional: []string{"from", "until", "set"}, exclusive: true},
}

// argOrder is the order arguments are echoed in <request>.
var argOrder = []string{"identifier", "metadataPrefix", "from", "until", "set", "resumptionToken"}

// request is a syntactically valid protocol request.
type request struct {
	verb     string
	args     map[string]string
	from     int64 // seconds; valid when hasFrom
	until    int64 // seconds, end of the day for a day; valid when hasUntil
	hasFrom  bool
	hasUntil bool
}

// attrs returns the request element's attributes: the verb and the
// arguments, as received.
func (q *request) attrs() []string {
	out := []string{"verb", q.verb}
	for _, k := range argOrder {
		if v, ok := q.args[k]; ok {
			out = append(out, k, v)
		}
	}
	return out
}

// oaiError is a protocol error condition.
type oaiError struct{ code, msg string }

func badArgument(format string, args ...any) *oaiError {
	return &oaiError{"badArgument", fmt.Sprintf(format, args...)}
}

// maxBody bounds a POST body: the longest legal request is a few hundred
// bytes.
const maxBody = 64 << 10

// maxArgLen bounds an argument: identifiers, set specs and resumption
// tokens of this repository are far shorter.
const maxArgLen = 1024

// maxEcho bounds what an error message repeats of the request.
const maxEcho = 256

// readArgs returns the request's arguments: the query string, and for a
// POST the form-encoded body too.
func readArgs(r *http.Request) (url.Values, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if r.Method != http.MethodPost {
		return vals, err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		if err == nil {
			err = fmt.Errorf("POST content type %q, want application/x-www-form-urlencoded", ct)
		}
		return vals, err
	}
	body, rerr := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if rerr != nil {
		return vals, rerr
	}
	if len(body) > maxBody {
		return vals, errors.New("request body too long")
	}
	bvals, berr := url.ParseQuery(string(body))
	for k, vs := range bvals {
		vals[k] = append(vals[k], vs...)
	}
	if err == nil {
		err = berr
	}
	return vals, err
}

// parseRequest checks the verb and the arguments' presence and syntax.
func parseRequest(vals url.Values, perr error) (*request, *oaiError) {
	vs := vals["verb"]
	switch {
	case len(vs) == 0:
		return nil, &oaiError{"badVerb", "the verb argument is missing"}
	case len(vs) > 1:
		return nil, &oaiError{"badVerb", "the verb argument is repeated"}
	}
	spec, ok := verbs[vs[0]]
	if !ok {
		return nil, &oaiError{"badVerb", fmt.Sprintf("%q is not an OAI-PMH verb", clipText(vs[0], maxEcho))}
	}
	if perr != nil {
		return nil, badArgument("the request's arguments cannot be read: %v", perr)
	}
	q := &request{verb: vs[0], args: map[string]string{}}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := vals[k]
		if k == "verb" {
			continue
		}
		if !slices.Contains(spec.required, k) && !slices.Contains(spec.optional, k) && !(spec.exclusive && k == "resumptionToken") {
			return nil, badArgument("%q is not an argument of %s", k, q.verb)
		}
		if len(v) > 1 {
			return nil, badArgument("the argument %s is repeated", k)
		}
		if v[0] == "" {
			return nil, badArgument("the argument %s is empty", k)
		}
		if len(v[0]) > maxArgLen {
			// Not echoed: an error must not cost more than its request.
			return nil, badArgument("the argument %s is %d bytes long, more than any this repository takes (%d)", k, len(v[0]), maxArgLen)
		}
		q.args[k] = v[0]
	}
	if _, ok := q.args["resumptionToken"]; ok {
		if len(q.args) > 1 {
			return nil, badArgument("resumptionToken is an exclusive argument: no other argument than verb may come with it")
		}
		return q, nil
	}
	for _, k := range spec.required {
		if _, ok := q.args[k]; !ok {
			return nil, badArgument("%s requires the argument %s", q.verb, k)
		}
	}
	if id, ok := q.args["identifier"]; ok && !validURI(id) {
		return nil, badArgument("identifier %q is not a URI", id)
	}
	if p, ok := q.args["metadataPrefix"]; ok && !prefixPattern.MatchString(p) {
		return nil, badArgument("metadataPrefix %q is not a metadata prefix", p)
	}
	if set, ok := q.args["set"]; ok && !oaiindex.ValidSpec(set) {
		return nil, badArgument("set %q is not a set spec", set)
	}
	var fromDay, untilDay bool
	if v, ok := q.args["from"]; ok {
		t, day, err := parseDate(v, false)
		if err != nil {
			return nil, badArgument("from: %v", err)
		}
		q.from, q.hasFrom, fromDay = t, true, day
	}
	if v, ok := q.args["until"]; ok {
		t, day, err := parseDate(v, true)
		if err != nil {
			return nil, badArgument("until: %v", err)
		}
		q.until, q.hasUntil, untilDay = t, true, day
	}
	if q.hasFrom && q.hasUntil {
		if fromDay != untilDay {
			return nil, badArgument("from and until have different granularities")
		}
		if q.from > q.until {
			return nil, badArgument("from is later than until")
		}
	}
	return q, nil
}

// validURI reports whether s can be an identifier: an xs:anyURI as
// schema validators check it (libxml2 maps spaces, controls, non-ASCII and
// the RFC 2396 "unwise" characters to a harmless one, then parses an RFC
// 3986 URI reference). Anything else is an illegal identifier, which the
// response could not echo in a valid document.
func validURI(s string) bool {
	fragment := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '#':
			if fragment {
				return false
			}
			fragment = true
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
		case '[', ']':
			return false
		}
	}
	// A colon before any '/', '?' or '#' ends a scheme, which must be
	// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
	end := strings.IndexAny(s, "/?#")
	if end < 0 {
		end = len(s)
	}
	colon := strings.IndexByte(s[:end], ':')
	if colon < 0 {
		return true
	}
	for i := 0; i < colon; i++ {
		c := s[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return colon > 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// parseDate reads a UTCdatetime at either granularity. A day stands for
// its first second, or with end for its last.
func parseDate(s string, end bool) (sec int64, day bool, err error) {
	switch len(s) {
	case len(dayFormat):
		t, err := time.Parse(dayFormat, s)
		if err != nil {
			return 0, true, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
		}
		if end {
			t = t.Add(24*time.Hour - time.Second)
		}
		return t.Unix(), true, nil
	case len(timeFormat):
		t, err := time.Parse(timeFormat, s)
		if err != nil {
			return 0, false, fmt.Errorf("%q is not a date and time YYYY-MM-DDThh:mm:ssZ", s)
		}
		return t.Unix(), false, nil
	}
	return 0, false, fmt.Errorf("%q is neither YYYY-MM-DD nor YYYY-MM-DDThh:mm:ssZ", s)
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

func (c *call) identify() {
	c.view(func(snap catalog.Snapshot) *oaiError {
		rd := snap.OAI()
		earliest, ok := rd.Earliest()
		if !ok {
			earliest = c.now.Unix()
		}
		sample := rd.FirstID()
		if sample == "" {
			sample = "u00000001"
		}
		o := &c.s.opts
		rs := c.begin()
		b := append(rs.buf, "<Identify>\n"...)
		b = elem(b, "repositoryName", o.RepositoryName)
		b = elem(b, "baseURL", c.base)
		b = elem(b, "protocolVersion", "2.0")
		b = elem(b, "adminEmail", o.AdminEmail)
		b = elem(b, "earliestDatestamp", formatTime(earliest))
		b = elem(b, "deletedRecord", "persistent")
		b = elem(b, "granularity", Granularity)
		b = elem(b, "compression", "gzip")
		b = append(b, `<description><oai-identifier xmlns="`+NamespaceIdentifier+`" xsi:schemaLocation="`+
			NamespaceIdentifier+` `+SchemaIdentifier+`">`+"\n"...)
		b = elem(b, "scheme", "oai")
		b = elem(b, "repositoryIdentifier", o.Domain)
		b = elem(b, "delimiter", ":")
		b = elem(b, "sampleIdentifier", c.s.Identifier(sample))
		b = append(b, "</oai-identifier></description>\n</Identify>\n"...)
		rs.buf = b
		rs.finish()
		return nil
	})
}

func (c *call) listMetadataFormats() {
	c.view(func(snap catalog.Snapshot) *oaiError {
		if ident, ok := c.q.args["identifier"]; ok {
			if e := c.lookup(snap.OAI(), ident); e != nil {
				return e
			}
		}
		rs := c.begin()
		b := append(rs.buf, "<ListMetadataFormats>\n"...)
		for _, f := range formats {
			b = append(b, "<metadataFormat>\n"...)
			b = elem(b, "metadataPrefix", f.prefix)
			b = elem(b, "schema", f.schema)
			b = elem(b, "metadataNamespace", f.namespace)
			b = append(b, "</metadataFormat>\n"...)
		}
		rs.buf = append(b, "</ListMetadataFormats>\n"...)
		rs.finish()
		return nil
	})
}

// lookup checks that an identifier names a union record.
func (c *call) lookup(rd *oaiindex.Reader, ident string) *oaiError {
	_, e := c.item(rd, ident)
	return e
}

func (c *call) item(rd *oaiindex.Reader, ident string) (*oaiindex.Item, *oaiError) {
	id, ok := c.s.unionID(ident)
	if !ok {
		return nil, &oaiError{"idDoesNotExist", fmt.Sprintf("%q is not an identifier of this repository (oai:%s:<id>)", ident, c.s.opts.Domain)}
	}
	it, err := rd.Item(id)
	if err != nil {
		c.s.log.Error("oai-pmh: index", "id", id, "err", err)
	}
	if it == nil {
		return nil, &oaiError{"idDoesNotExist", fmt.Sprintf("no record has the identifier %q", ident)}
	}
	return it, nil
}

func (c *call) getRecord() {
	prefix := c.q.args["metadataPrefix"]
	if !knownFormat(prefix) {
		c.fail(cannotDisseminate(prefix))
		return
	}
	c.view(func(snap catalog.Snapshot) *oaiError {
		it, e := c.item(snap.OAI(), c.q.args["identifier"])
		if e != nil {
			return e
		}
		id, _ := c.s.unionID(c.q.args["identifier"])
		rs := c.begin()
		rs.buf = append(rs.buf, "<GetRecord>\n"...)
		c.appendRecord(snap, oaiindex.Entry{Datestamp: it.Datestamp, ID: id, Deleted: it.Deleted}, prefix)
		rs.buf = append(rs.buf, "</GetRecord>\n"...)
		rs.finish()
		return nil
	})
}

func cannotDisseminate(prefix string) *oaiError {
	return &oaiError{"cannotDisseminateFormat", fmt.Sprintf("metadataPrefix %q is not served; ListMetadataFormats lists oai_dc, marc21 and marcxml", prefix)}
}

// appendRecord writes one record (header and metadata) of a list or
// GetRecord to the response, then flushes it. A record that cannot be
// read is logged and left out; the caller's count still includes it.
func (c *call) appendRecord(snap catalog.Snapshot, e oaiindex.Entry, prefix string) {
	rs := c.rs
	var u *dedup.UnionRecord
	if !e.Deleted {
		var err error
		u, err = snap.Union(e.ID)
		if err != nil {
			c.s.log.Error("oai-pmh: union record cannot be served; left out", "id", e.ID, "err", err)
			return
		}
	}
	rs.buf = append(rs.buf, "<record>\n"...)
	if u == nil || u.Deleted || u.Record == nil {
		rs.buf = c.appendHeader(rs.buf, e.ID, e.Datestamp, true, nil)
		rs.buf = append(rs.buf, "</record>\n"...)
		rs.flush()
		return
	}
	rs.buf = c.appendHeader(rs.buf, e.ID, e.Datestamp, false, oaiindex.Sets(u))
	rs.buf = append(rs.buf, "<metadata>\n"...)
	if prefix == "oai_dc" {
		rs.buf = marc.ToDC(u.Record).AppendXML(rs.buf, marc.RootOAIDC, true)
		rs.buf = append(rs.buf, '\n')
	} else {
		rs.buf, _ = marc.AppendMARCXML(rs.buf, u.Record, true)
	}
	rs.buf = append(rs.buf, "</metadata>\n</record>\n"...)
	rs.flush()
}

func (c *call) appendHeader(b []byte, id string, ds int64, deleted bool, sets []string) []byte {
	if deleted {
		b = append(b, `<header status="deleted">`+"\n"...)
	} else {
		b = append(b, "<header>\n"...)
	}
	b = elem(b, "identifier", c.s.Identifier(id))
	b = elem(b, "datestamp", formatTime(ds))
	for _, s := range sets {
		b = elem(b, "setSpec", s)
	}
	return append(b, "</header>\n"...)
}

func (c *call) list() {
	verb := verbListRecords
	if c.q.verb == "ListIdentifiers" {
		verb = verbListIdentifiers
	}
	first := true
	var t *token
	if raw, ok := c.q.args["resumptionToken"]; ok {
		first = false
		var err error
		t, err = decodeToken(raw)
		switch {
		case err != nil || t.verb != verb || !knownFormat(t.prefix):
			c.fail(&oaiError{"badResumptionToken", "the resumptionToken is not one this repository issued for " + c.q.verb})
			return
		case c.now.After(t.expires()):
			c.fail(&oaiError{"badResumptionToken", "the resumptionToken expired at " + t.expires().Format(timeFormat)})
			return
		}
	} else {
		prefix := c.q.args["metadataPrefix"]
		if !knownFormat(prefix) {
			c.fail(cannotDisseminate(prefix))
			return
		}
		t = &token{verb: verb, prefix: prefix, set: c.q.args["set"], started: c.now.Unix()}
		t.cutoff = c.now.Unix() - 1
		if c.q.hasUntil && c.q.until < t.cutoff {
			t.cutoff = c.q.until
		}
		if c.q.hasFrom {
			t.from = max(c.q.from, 0)
		}
		// A list's snapshot is every change stamped up to the second
		// before its first request: changes committed after that are
		// stamped later (the Deduper stamps each commit later than the
		// last and not before the commit began), but one already stamped
		// may still be committing, and the list must not start without
		// it. Should waiting fail, so does the read that follows.
		c.s.cat.Settle(c.r.Context())
	}
	l := &oaiindex.List{Spec: indexSpec(t.set), From: t.from, Cutoff: t.cutoff}
	c.view(func(snap catalog.Snapshot) *oaiError {
		rd := snap.OAI()
		if first {
			t.epoch = rd.Epoch()
			n, err := rd.Count(l)
			if err != nil {
				c.s.log.Error("oai-pmh: count", "err", err)
			}
			t.total = n
		} else if t.epoch != rd.Epoch() {
			return &oaiError{"badResumptionToken", "the list this resumptionToken continues no longer exists (the index was rebuilt); start the harvest again"}
		}
		elemName := c.q.verb
		var n uint64
		var last oaiindex.Entry
		more := false
		err := rd.Scan(l, t.posDS, t.posID, func(e oaiindex.Entry) bool {
			if n == uint64(c.s.opts.PageSize) {
				more = true
				return false
			}
			if c.rs == nil {
				c.begin().buf = append(c.rs.buf, "<"+elemName+">\n"...)
			}
			if verb == verbListRecords {
				c.appendRecord(snap, e, t.prefix)
			} else {
				c.appendListHeader(rd, e)
			}
			n++
			last = e
			return true
		})
		if err != nil {
			c.s.log.Error("oai-pmh: list", "err", err)
			if c.rs == nil {
				http.Error(c.w, "internal error", http.StatusInternalServerError)
			}
			return nil // a begun response stays unfinished: see view
		}
		if c.rs == nil {
			if first {
				return &oaiError{"noRecordsMatch", "no record matches the arguments"}
			}
			return &oaiError{"badResumptionToken", "the list this resumptionToken continues has no more records"}
		}
		b := c.rs.buf
		switch {
		case more:
			next := *t
			next.posDS, next.posID = last.Datestamp, last.ID
			next.cursor = t.cursor + n
			b = appendToken(b, t, &next)
		case !first:
			b = appendToken(b, t, nil)
		}
		b = append(b, "</"+elemName+">\n"...)
		c.rs.buf = b
		c.rs.finish()
		return nil
	})
}

// appendToken writes the resumptionToken element of a page of the list
// t was read for: next continues the list, nil ends it (an empty token).
func appendToken(b []byte, t, next *token) []byte {
	b = append(b, `<resumptionToken`...)
	if next != nil {
		b = append(b, ` expirationDate="`...)
		b = t.expires().AppendFormat(b, timeFormat)
		b = append(b, '"')
	}
	b = append(b, ` completeListSize="`...)
	b = strconv.AppendUint(b, t.total, 10)
	b = append(b, `" cursor="`...)
	b = strconv.AppendUint(b, t.cursor, 10)
	b = append(b, '"')
	if next == nil {
		return append(b, "/>\n"...)
	}
	b = append(b, '>')
	b = append(b, next.encode()...)
	return append(b, "</resumptionToken>\n"...)
}

// appendListHeader writes one header of ListIdentifiers.
func (c *call) appendListHeader(rd *oaiindex.Reader, e oaiindex.Entry) {
	rs := c.rs
	deleted := e.Deleted
	var sets []string
	if !deleted {
		it, err := rd.Item(e.ID)
		if err != nil || it == nil {
			c.s.log.Error("oai-pmh: header cannot be served; left out", "id", e.ID, "err", err)
			return
		}
		deleted = it.Deleted
		if !deleted {
			sets = it.Members()
		}
	}
	rs.buf = c.appendHeader(rs.buf, e.ID, e.Datestamp, deleted, sets)
	rs.flush()
}

func (c *call) listSets() {
	first := true
	var t *token
	if raw, ok := c.q.args["resumptionToken"]; ok {
		first = false
		var err error
		t, err = decodeToken(raw)
		switch {
		case err != nil || t.verb != verbListSets:
			c.fail(&oaiError{"badResumptionToken", "the resumptionToken is not one this repository issued for ListSets"})
			return
		case c.now.After(t.expires()):
			c.fail(&oaiError{"badResumptionToken", "the resumptionToken expired at " + t.expires().Format(timeFormat)})
			return
		}
	} else {
		t = &token{verb: verbListSets, started: c.now.Unix()}
	}
	c.view(func(snap catalog.Snapshot) *oaiError {
		sources, err := snap.Sources()
		if err != nil {
			c.s.log.Error("oai-pmh: sources", "err", err)
		}
		libraries, err := snap.Libraries()
		if err != nil {
			c.s.log.Error("oai-pmh: libraries", "err", err)
		}
		sets := allSets(snap.OAI(), libraries, sources)
		if len(sets) == 0 {
			return &oaiError{"noSetHierarchy", "this repository has no sets yet"}
		}
		if first {
			t.total = uint64(len(sets))
		}
		start, _ := slices.BinarySearchFunc(sets, t.posID, func(s setInfo, spec string) int { return strings.Compare(s.spec, spec) })
		if !first && start < len(sets) && sets[start].spec == t.posID {
			start++
		}
		if start >= len(sets) {
			return &oaiError{"badResumptionToken", "the list this resumptionToken continues has no more sets"}
		}
		end := min(start+c.s.opts.PageSize, len(sets))
		rs := c.begin()
		b := append(rs.buf, "<ListSets>\n"...)
		for _, s := range sets[start:end] {
			b = append(b, "<set>\n"...)
			b = elem(b, "setSpec", s.spec)
			b = elem(b, "setName", s.name)
			b = append(b, "</set>\n"...)
		}
		switch {
		case end < len(sets):
			next := *t
			next.posID = sets[end-1].spec
			next.cursor = t.cursor + uint64(end-start)
			b = appendToken(b, t, &next)
		case !first:
			b = appendToken(b, t, nil)
		}
		rs.buf = append(b, "</ListSets>\n"...)
		rs.finish()
		return nil
	})
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

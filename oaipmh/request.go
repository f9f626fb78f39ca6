package oaipmh

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/unicat/unicat/oaiindex"
)

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
	if _, ok := verbs[vs[0]]; !ok {
		return nil, &oaiError{"badVerb", fmt.Sprintf("%q is not an OAI-PMH verb", clipText(vs[0], maxEcho))}
	}
	if perr != nil {
		return nil, badArgument("the request's arguments cannot be read: %v", perr)
	}
	q := &request{verb: vs[0], args: map[string]string{}}
	if e := q.takeArgs(vals); e != nil {
		return nil, e
	}
	if _, ok := q.args["resumptionToken"]; ok {
		if len(q.args) > 1 {
			return nil, badArgument("resumptionToken is an exclusive argument: no other argument than verb may come with it")
		}
		return q, nil
	}
	if e := q.checkArgs(); e != nil {
		return nil, e
	}
	if e := q.parseDates(); e != nil {
		return nil, e
	}
	return q, nil
}

// takeArgs takes the arguments the verb accepts, each once and not empty,
// in name order (so the first wrong one is reported, whatever the order
// of the request).
func (q *request) takeArgs(vals url.Values) *oaiError {
	spec := verbs[q.verb]
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
			return badArgument("%q is not an argument of %s", k, q.verb)
		}
		if len(v) > 1 {
			return badArgument("the argument %s is repeated", k)
		}
		if v[0] == "" {
			return badArgument("the argument %s is empty", k)
		}
		if len(v[0]) > maxArgLen {
			// Not echoed: an error must not cost more than its request.
			return badArgument("the argument %s is %d bytes long, more than any this repository takes (%d)", k, len(v[0]), maxArgLen)
		}
		q.args[k] = v[0]
	}
	return nil
}

// checkArgs checks that the required arguments are there and that
// identifier, metadataPrefix and set have their syntax.
func (q *request) checkArgs() *oaiError {
	for _, k := range verbs[q.verb].required {
		if _, ok := q.args[k]; !ok {
			return badArgument("%s requires the argument %s", q.verb, k)
		}
	}
	if id, ok := q.args["identifier"]; ok && !validURI(id) {
		return badArgument("identifier %q is not a URI", id)
	}
	if p, ok := q.args["metadataPrefix"]; ok && !prefixPattern.MatchString(p) {
		return badArgument("metadataPrefix %q is not a metadata prefix", p)
	}
	if set, ok := q.args["set"]; ok && !oaiindex.ValidSpec(set) {
		return badArgument("set %q is not a set spec", set)
	}
	return nil
}

// parseDates reads from and until, which must share a granularity and be
// in order.
func (q *request) parseDates() *oaiError {
	var fromDay, untilDay bool
	if v, ok := q.args["from"]; ok {
		t, day, err := parseDate(v, false)
		if err != nil {
			return badArgument("from: %v", err)
		}
		q.from, q.hasFrom, fromDay = t, true, day
	}
	if v, ok := q.args["until"]; ok {
		t, day, err := parseDate(v, true)
		if err != nil {
			return badArgument("until: %v", err)
		}
		q.until, q.hasUntil, untilDay = t, true, day
	}
	if q.hasFrom && q.hasUntil {
		if fromDay != untilDay {
			return badArgument("from and until have different granularities")
		}
		if q.from > q.until {
			return badArgument("from is later than until")
		}
	}
	return nil
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

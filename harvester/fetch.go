package harvester

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Response is an HTTP response read in full and decompressed. Its Body
// may be a temporary file: whoever gets a Response closes it.
type Response struct {
	URL    string
	Status int
	Header http.Header
	Body   *Body
	Wire   int64 // bytes received before decompression
}

// MaxResponseBytes bounds one response after decompression: a server
// streaming without end must not fill the disk (a body past spoolMemory
// is spooled to a file, not held in memory).
const MaxResponseBytes = 512 << 20

// maxBackoff caps the exponential backoff between retries.
const maxBackoff = 15 * time.Minute

// retryable marks an error worth retrying: a network failure, a 5xx, a
// truncated or unparseable body. code labels it in metrics.
type retryable struct {
	code  string
	after time.Duration // the server's Retry-After, 0 if none
	err   error
}

func (e *retryable) Error() string { return e.err.Error() }
func (e *retryable) Unwrap() error { return e.err }

// Retryable wraps err, returned by a Fetch check function, to have the
// request retried: the response was received but is unusable in a way a
// second try may fix (a cut-off document).
func Retryable(err error) error { return &retryable{code: "unparseable", err: err} }

// Fetch GETs u and returns the response. Network errors, timeouts, HTTP 429
// and 5xx, truncated bodies and check errors wrapped with Retryable are
// retried up to the source's max_retries times, waiting the server's
// Retry-After or else retry_wait doubled after each failure, with jitter.
// Other statuses are returned as they are, for the driver to interpret (an
// OAI-PMH error may come with HTTP 400). check, if not nil, validates the
// response inside the retry loop.
func (j *Job) Fetch(ctx context.Context, u string, check func(*Response) error) (*Response, error) {
	src := j.Source
	base := src.RetryWait
	if base <= 0 {
		base = 10 * time.Second
	}
	for attempt := 0; ; attempt++ {
		resp, err := j.get(ctx, u)
		if err == nil && check != nil {
			err = check(resp)
		}
		if err == nil {
			return resp, nil
		}
		if resp != nil {
			resp.Body.Close() // an error's body is not read past this
		}
		var re *retryable
		if !errors.As(err, &re) {
			return resp, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		j.h.opts.Metrics.httpError(src.ID, re.code)
		if attempt >= src.MaxRetries {
			if attempt == 0 {
				return nil, err
			}
			return nil, fmt.Errorf("giving up after %d retries: %w", attempt, err)
		}
		wait := re.after
		if wait > 0 {
			if limit := j.Config.Harvest.MaxRetryAfter; limit > 0 && wait > limit {
				wait = limit
				j.Guard("retry-after", "server asked to retry after %v (%v); waiting harvest.max_retry_after, %v", re.after, err, limit)
			} else {
				j.Guard("retry-after", "server asked to retry after %v (%v)", re.after, err)
			}
		} else {
			wait = backoff(base, attempt)
		}
		j.h.opts.Metrics.retry(src.ID)
		j.Log.Info("retrying", "url", u, "error", err, "wait", wait, "attempt", attempt+1)
		if err := j.wait(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// backoff is base·2^attempt, capped, drawn uniformly from its upper half
// so that sources failing together do not retry together.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 0; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// get makes one request.
func (j *Job) get(ctx context.Context, u string) (*Response, error) {
	timeout := j.Source.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rctx = context.WithValue(rctx, jobKey{}, j) // for checkRedirect
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", u, err)
	}
	ua := j.Config.Harvest.UserAgent
	if ua == "" {
		ua = "unicat-harvester"
	}
	req.Header.Set("User-Agent", ua)
	// Set explicitly, so the transport leaves decoding to us, deflate
	// included.
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	hresp, err := j.h.client.Do(req)
	var refused *redirectRefused
	if errors.As(err, &refused) {
		return nil, refused // a second try would be sent the same way
	}
	if err != nil {
		return nil, netErr(ctx, rctx, u, err)
	}
	defer hresp.Body.Close()
	wire := &countReader{r: hresp.Body}
	body, err := decodeBody(wire, hresp.Header.Get("Content-Encoding"), j.Config.Resolve(j.Config.DataDir))
	if err != nil {
		if ctx.Err() == nil && rctx.Err() != nil {
			return nil, &retryable{code: "timeout", err: fmt.Errorf("GET %s: no complete response within %v", u, timeout)}
		}
		return nil, &retryable{code: "truncated", err: fmt.Errorf("GET %s: reading the response: %w", u, err)}
	}
	resp := &Response{URL: u, Status: hresp.StatusCode, Header: hresp.Header, Body: body, Wire: wire.n}
	switch s := hresp.StatusCode; {
	case s == http.StatusOK:
		return resp, nil
	case s == http.StatusTooManyRequests || s >= 500:
		return resp, &retryable{code: strconv.Itoa(s), after: retryAfter(hresp.Header.Get("Retry-After"), j.h.now()),
			err: fmt.Errorf("GET %s: HTTP %s%s", u, hresp.Status, snippet(body.Head(4*snippetLen)))}
	default:
		j.h.opts.Metrics.httpStatus(j.Source.ID, s)
		return resp, nil
	}
}

func netErr(ctx, rctx context.Context, u string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case rctx.Err() != nil:
		return &retryable{code: "timeout", err: fmt.Errorf("GET %s: no response within the timeout: %w", u, err)}
	}
	return &retryable{code: "network", err: fmt.Errorf("GET %s: %w", u, err)}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// decodeBody reads the body, undoing gzip or deflate (zlib-wrapped, as
// the standard says, or raw, as some servers send), as it arrives, into
// a Body spooled to dir past spoolMemory. A gzip body sent without
// Content-Encoding (a static .gz) is recognised by its magic.
func decodeBody(r io.Reader, encoding, dir string) (*Body, error) {
	wire := &io.LimitedReader{R: r, N: MaxResponseBytes + 1}
	br := bufio.NewReader(wire)
	enc := strings.ToLower(strings.TrimSpace(encoding))
	if magic, _ := br.Peek(2); enc == "" && len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		enc = "gzip"
	}
	var dr io.Reader
	switch enc {
	case "", "identity":
		dr = br
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		dr = zr
	case "deflate":
		if h, _ := br.Peek(2); len(h) == 2 && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return nil, fmt.Errorf("deflate: %w", err)
			}
			dr = zr
		} else {
			dr = flate.NewReader(br)
		}
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", encoding)
	}
	body, err := spool(dr, MaxResponseBytes, dir)
	if err == nil && wire.N <= 0 {
		body.Close()
		err = fmt.Errorf("response larger than %d bytes", MaxResponseBytes)
	}
	if err != nil && enc != "" && enc != "identity" {
		err = fmt.Errorf("%s: %w", enc, err)
	}
	return body, err
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		// Bounded so that the duration does not overflow; Fetch caps it
		// again by harvest.max_retry_after.
		return time.Duration(min(n, 30*24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// snippetLen is how much of an error body a message quotes.
const snippetLen = 120

// snippet quotes the start of an error body for a message.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	if len(s) > snippetLen {
		s = s[:snippetLen] + "..."
	}
	return fmt.Sprintf(": %q", s)
}

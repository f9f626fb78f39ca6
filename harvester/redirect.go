package harvester

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Redirects: a harvest follows a redirect to the URL's own host (any
// path, and from http to https on the default ports) and to the hosts
// the source's follow_redirects lists, logging each; anywhere else it is
// an error, not followed, so that a peer cannot send the harvester (and
// the credentials of its URL) to another server.

// jobKey is the request context key of the Job making the request.
type jobKey struct{}

// redirectRefused is a redirect not followed.
type redirectRefused struct{ from, to *url.URL }

func (e *redirectRefused) Error() string {
	return fmt.Sprintf("redirect from %s to %s not followed: another host (list %s in the source's follow_redirects to follow it)",
		e.from.Redacted(), e.to.Redacted(), e.to.Host)
}

// checkRedirect is the harvester's http.Client CheckRedirect.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return fmt.Errorf("stopped after %d redirects", len(via))
	}
	j, _ := req.Context().Value(jobKey{}).(*Job)
	if j == nil {
		return nil
	}
	first, prev := via[0].URL, via[len(via)-1].URL
	if !redirectAllowed(first, req.URL, j.Source.FollowRedirects) {
		return &redirectRefused{from: prev, to: req.URL}
	}
	j.Log.Info("redirect followed", "from", prev.Redacted(), "to", req.URL.Redacted())
	return nil
}

// redirectAllowed reports whether a request for from may be redirected
// to to: the same host and port, the same host from http to https on the
// default ports, or a host allowed lists (host, or host:port).
func redirectAllowed(from, to *url.URL, allowed []string) bool {
	fh, fp := hostPort(from)
	th, tp := hostPort(to)
	switch {
	case strings.EqualFold(fh, th) && fp == tp:
		return true
	case strings.EqualFold(fh, th) && from.Scheme == "http" && to.Scheme == "https" && fp == "80" && tp == "443":
		return true
	}
	for _, a := range allowed {
		if h, p, err := net.SplitHostPort(a); err == nil {
			if strings.EqualFold(h, th) && p == tp {
				return true
			}
		} else if strings.EqualFold(a, th) {
			return true
		}
	}
	return false
}

// hostPort returns u's host and its port, the scheme's default when it
// has none.
func hostPort(u *url.URL) (host, port string) {
	host, port = u.Hostname(), u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		default:
			port = "80"
		}
	}
	return host, port
}

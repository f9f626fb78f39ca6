package config

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// Secrets in a source's URL: the password of its userinfo (and the HTTP
// Basic credentials made of it) and the values of its secret query
// parameters (an API key, a token) must never be shown, logged or
// stored. Source.Redact replaces them in any text (an
// error naming the URL, a peer's answer quoting it back) wherever such
// text leaves the harvester.

// DefaultSecretParams are the query parameters whose values are secret
// in every source's URL (compared without regard to case); a source's
// secret_params adds its own.
var DefaultSecretParams = []string{"apikey", "api_key", "api-key", "key", "token", "access_token",
	"auth", "password", "passwd", "pwd", "secret"}

// Redacted replaces a secret.
const Redacted = "***"

// minSecret is the shortest secret replaced.
const minSecret = 3

// secrets returns the secret values of the source's URL, longest first
// (so that one secret containing another is replaced whole), each as
// written in the URL and decoded, and escaped as a client may write it.
func (s *Source) secrets() []string {
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil
	}
	var raw []string // as written in the URL
	var basic string // the HTTP Basic credentials a client sends for the userinfo
	if u.User != nil {
		authority := s.URL[strings.Index(s.URL, "//")+2:]
		if at := strings.LastIndexByte(authority, '@'); at > 0 {
			if _, pw, ok := strings.Cut(authority[:at], ":"); ok {
				raw = append(raw, pw)
			}
		}
		if pw, ok := u.User.Password(); ok {
			basic = base64.StdEncoding.EncodeToString([]byte(u.User.Username() + ":" + pw))
		}
	}
	for _, kv := range strings.Split(u.RawQuery, "&") {
		name, v, _ := strings.Cut(kv, "=")
		if n, err := url.QueryUnescape(name); err == nil && s.isSecretParam(n) {
			raw = append(raw, v)
		}
	}
	var out []string
	add := func(v string) {
		if len(v) >= minSecret && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	add(basic)
	for _, v := range raw {
		add(v)
		dec, err := url.PathUnescape(v)
		if err != nil {
			continue
		}
		add(dec)
		add(url.QueryEscape(dec))
		add(url.PathEscape(dec))
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

func (s *Source) isSecretParam(name string) bool {
	for _, list := range [][]string{DefaultSecretParams, s.SecretParams} {
		for _, p := range list {
			if strings.EqualFold(p, name) {
				return true
			}
		}
	}
	return false
}

// Redact returns text with the source's secrets replaced by "***".
func (s *Source) Redact(text string) string {
	secrets := s.secrets()
	if len(secrets) == 0 {
		return text
	}
	pairs := make([]string, 0, 2*len(secrets))
	for _, v := range secrets {
		pairs = append(pairs, v, Redacted)
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// RedactedURL is the source's URL as it may be shown: its secrets
// replaced.
func (s *Source) RedactedURL() string { return s.Redact(s.URL) }

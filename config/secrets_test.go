package config

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	s := &Source{URL: "http://harvester:S3cr%C3%A9t!@koha.example.vn/oai?apikey=K3Y%2Fabc&set=books&sig=XYZ123&key=1",
		SecretParams: []string{"SIG"}}
	for _, tt := range []struct{ in, want string }{
		{s.URL, "http://harvester:***@koha.example.vn/oai?apikey=***&set=books&sig=***&key=1"},
		{"GET http://harvester:S3crét!@koha.example.vn/oai?apikey=K3Y/abc: HTTP 500", "GET http://harvester:***@koha.example.vn/oai?apikey=***: HTTP 500"},
		{"peer said: bad key K3Y/abc for user harvester (password S3crét!)", "peer said: bad key *** for user harvester (password ***)"},
		{"nothing secret in books", "nothing secret in books"},
		// The Basic credentials of the userinfo, base64("harvester:S3crét!").
		{"Authorization: Basic aGFydmVzdGVyOlMzY3LDqXQh", "Authorization: Basic ***"},
	} {
		if got := s.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	if got := (&Source{URL: "http://koha.example.vn/oai"}).Redact("x"); got != "x" {
		t.Errorf("a URL without secrets redacts %q", got)
	}
	if got := s.RedactedURL(); strings.Contains(got, "S3cr") || strings.Contains(got, "K3Y") || strings.Contains(got, "XYZ123") {
		t.Errorf("RedactedURL = %q", got)
	}
}

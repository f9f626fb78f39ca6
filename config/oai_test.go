package config

import (
	"strings"
	"testing"
)

func TestOAIDefaults(t *testing.T) {
	cfg, err := Parse([]byte("data_dir: data\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	want := OAIConfig{
		RepositoryName: DefaultOAIRepositoryName,
		Domain:         DefaultOAIDomain,
		AdminEmail:     DefaultOAIAdminEmail,
		PageSize:       DefaultOAIPageSize,
	}
	if cfg.OAI != want {
		t.Errorf("defaults: got %+v, want %+v", cfg.OAI, want)
	}
	// The defaults must themselves pass validation when written out.
	doc := "oai:\n  repository_name: x\n  domain: " + DefaultOAIDomain + "\n  admin_email: " + DefaultOAIAdminEmail + "\n"
	if _, err := Parse([]byte(doc), ""); err != nil {
		t.Errorf("defaults written out: %v", err)
	}
}

func TestOAIGood(t *testing.T) {
	cfg, err := Parse([]byte(`
oai:
  repository_name: "Mục lục liên hợp Nghệ An"
  domain: thuvien.nghean.gov.vn
  admin_email: oai@thuvien.nghean.gov.vn
  page_size: 50
  base_url: https://thuvien.nghean.gov.vn/oai
`), "")
	if err != nil {
		t.Fatal(err)
	}
	want := OAIConfig{
		RepositoryName: "Mục lục liên hợp Nghệ An",
		Domain:         "thuvien.nghean.gov.vn",
		AdminEmail:     "oai@thuvien.nghean.gov.vn",
		PageSize:       50,
		BaseURL:        "https://thuvien.nghean.gov.vn/oai",
	}
	if cfg.OAI != want {
		t.Errorf("got %+v, want %+v", cfg.OAI, want)
	}
}

func TestOAIProblems(t *testing.T) {
	for _, tc := range []struct {
		doc, want string
	}{
		{"oai: {domain: localhost}", `line 1: oai.domain: "localhost" must be a DNS name`},
		{"oai: {domain: 1bad.example.org}", `oai.domain: "1bad.example.org"`},
		{"oai: {domain: \"a b.org\"}", `oai.domain: "a b.org"`},
		{"oai: {admin_email: root@localhost}", `oai.admin_email: "root@localhost" is not an e-mail address`},
		{"oai: {admin_email: nobody}", `oai.admin_email: "nobody"`},
		{"oai: {page_size: -1}", "oai.page_size: must be between 1 and 10000, got -1"},
		{"oai: {page_size: 10001}", "oai.page_size: must be between 1 and 10000, got 10001"},
		{"oai: {repository_name: \"  \"}", "oai.repository_name: must not be blank"},
		{"oai: {base_url: /oai}", `oai.base_url: "/oai" must be an absolute http:// or https:// URL`},
		{"oai: {base_url: \"ftp://x.org/oai\"}", `oai.base_url: "ftp://x.org/oai" must be an absolute`},
		{"oai: {base_url: \"http://x.org/oai?verb=Identify\"}", "must not have a query or fragment"},
		{"oai: {base_url: \"http://x.org/%zz\"}", `oai.base_url: "http://x.org/%zz"`},
		{"oai:\n  pagesize: 10\n", "line 2: field pagesize not found"},
	} {
		got := strings.Join(problems(t, tc.doc), "\n")
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.doc, got, tc.want)
		}
	}
}

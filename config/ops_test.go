package config

import (
	"strings"
	"testing"
	"time"
)

func TestOpsConfig(t *testing.T) {
	cfg, err := Parse([]byte("data_dir: d\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.MaxBodyBytes != DefaultMaxBodyBytes || cfg.HTTP.ReadTimeout != DefaultReadTimeout ||
		cfg.HTTP.WriteTimeout != DefaultWriteTimeout || cfg.Admin.MaxUploadBytes != DefaultMaxUploadBytes {
		t.Errorf("defaults: %+v %+v", cfg.HTTP, cfg.Admin)
	}
	cfg, err = Parse([]byte("http: {max_body_bytes: 4096, read_timeout: 5s, write_timeout: 10m}\nadmin: {token: abcdefghijklmnopqrst, max_upload_bytes: 2048}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.MaxBodyBytes != 4096 || cfg.HTTP.ReadTimeout != 5*time.Second || cfg.HTTP.WriteTimeout != 10*time.Minute ||
		cfg.Admin.Token != "abcdefghijklmnopqrst" || cfg.Admin.MaxUploadBytes != 2048 {
		t.Errorf("parsed: %+v %+v", cfg.HTTP, cfg.Admin)
	}
	t.Setenv(AdminTokenEnv, "")
	if cfg.AdminToken() != "abcdefghijklmnopqrst" {
		t.Errorf("AdminToken without env = %q", cfg.AdminToken())
	}
	t.Setenv(AdminTokenEnv, "from-the-environment")
	if cfg.AdminToken() != "from-the-environment" {
		t.Errorf("AdminToken with env = %q", cfg.AdminToken())
	}

	_, err = Parse([]byte("http:\n  max_body_bytes: 10\n  read_timeout: 0.5s\n  write_timeout: 2h\nadmin:\n  token: short-secret\n  max_upload_bytes: -1\n"), "f.yaml")
	if err == nil {
		t.Fatal("bad ops config accepted")
	}
	msg := err.Error()
	for _, want := range []string{"line 2: http.max_body_bytes", "line 3: http.read_timeout", "line 4: http.write_timeout",
		"admin.token: must be at least 16", "admin.max_upload_bytes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "short-secret") {
		t.Errorf("error repeats the token:\n%s", msg)
	}
	if _, err := Parse([]byte("admin: {tokne: abcdefghijklmnopqrst}\n"), ""); err == nil || !strings.Contains(err.Error(), "tokne") {
		t.Errorf("misspelt admin key: %v", err)
	}
}

// import.memory_mb: 900 by default, -1 for none, a value in MiB between
// 64 and 1 TiB otherwise.
func TestImportMemory(t *testing.T) {
	for _, c := range []struct {
		doc  string
		want int
	}{{"data_dir: d\n", 900}, {"import: {memory_mb: -1}\n", -1}, {"import: {memory_mb: 512}\n", 512}} {
		cfg, err := Parse([]byte(c.doc), "")
		if err != nil {
			t.Errorf("%q: %v", c.doc, err)
		} else if cfg.Import.MemoryMB != c.want {
			t.Errorf("%q: memory_mb %d, want %d", c.doc, cfg.Import.MemoryMB, c.want)
		}
	}
	for _, bad := range []string{"-2", "10"} {
		got := strings.Join(problems(t, "import: {memory_mb: "+bad+"}\n"), "\n")
		if !strings.Contains(got, "import.memory_mb: must be between 64 and 1048576, or -1") {
			t.Errorf("memory_mb %s: %q", bad, got)
		}
	}
}

func TestZ3950Limits(t *testing.T) {
	got := strings.Join(problems(t, `z3950: {addr: "127.0.0.1:2100", max_connections: -1, max_per_client: 9, init_timeout: 10ms, idle_timeout: 48h}
`), "\n")
	for _, want := range []string{"z3950.max_connections: must be between", "z3950.init_timeout: must be between 100ms and 1h",
		"z3950.idle_timeout: must be between 1s and 24h"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	got = strings.Join(problems(t, `z3950: {addr: "127.0.0.1:2100", max_connections: 10, max_per_client: 11}
`), "\n")
	if !strings.Contains(got, "z3950.max_per_client: must be between 1 and max_connections") {
		t.Errorf("max_per_client above max_connections accepted:\n%s", got)
	}
	cfg, err := Parse([]byte(`z3950: {addr: "127.0.0.1:2100", max_connections: 100, max_per_client: 5, init_timeout: 5s, idle_timeout: 2m}
`), "")
	if err != nil || cfg.Z3950.MaxPerClient != 5 || cfg.Z3950.InitTimeout != 5*time.Second {
		t.Errorf("limits not read: %+v, %v", cfg.Z3950, err)
	}
}

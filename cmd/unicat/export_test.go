package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
)

// TestExportAndExplainThroughService runs `unicat export` (source and
// union records, ISO 2709 with a record too long for it, and MARCXML) and
// `unicat dedup --explain` with the service stopped, then again while
// `unicat serve` holds the store: the second time they go through the
// admin API, and print and write exactly what the first time did.
func TestExportAndExplainThroughService(t *testing.T) {
	t.Setenv("UNICAT_ADMIN_TOKEN", "export-test-token-0123456789")
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir) // source "big", file big.mrc
	recs := readTestRecords(t, "../../testdata/vietnamese/vinh.mrc", "../../testdata/vietnamese/na-tinh.xml")
	long := *recs[0]
	long.Fields = append([]marc.Field{{Tag: "001", Value: "long-one"}},
		marc.Field{Tag: "500", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: strings.Repeat("Ghi chú. ", 1500)}}})
	long.Fields = append(long.Fields, recs[0].Fields[1:]...)
	var xml bytes.Buffer
	xw := marc.NewXMLWriter(&xml)
	for _, r := range append(recs, &long) {
		if err := xw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.mrc"), xml.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, e, code := runUnicat(t, "import", "--config", cfgPath, "--all"); code != 0 {
		t.Fatalf("import: %s %s", out, e)
	}
	commands := [][]string{
		{"export", "--source", "big"},
		{"export", "--union", "--format", "marcxml"},
		{"export", "--union"},
		{"dedup", "--explain", "u00000001"},
		{"dedup", "--explain", "big:000457"},
		{"dedup", "--explain", "big:nosuch"},
	}
	type answer struct {
		stdout, stderr string
		code           int
	}
	ask := func(extra ...string) []answer {
		var out []answer
		for _, c := range commands {
			args := append(append([]string{c[0], "--config", cfgPath}, extra...), c[1:]...)
			o, e, code := runUnicat(t, args...)
			out = append(out, answer{o, e, code})
		}
		return out
	}
	stopped := ask()
	if a := stopped[0]; a.code != 0 || !strings.Contains(a.stderr, "skipped big/long-one: ") ||
		!regexp.MustCompile(`exported \d+ record\(s\), 1 skipped \(see above\)`).MatchString(a.stderr) {
		t.Fatalf("export with the service stopped: %d %s", a.code, a.stderr)
	}
	if a := stopped[3]; a.code != 0 || a.stdout == "" {
		t.Fatalf("explain with the service stopped: %d %s %s", a.code, a.stdout, a.stderr)
	}
	if a := stopped[5]; a.code == 0 || !strings.Contains(a.stderr, `no union record or member record "big:nosuch"`) {
		t.Fatalf("explain of nothing: %d %s", a.code, a.stderr)
	}

	_, addrs := startServe(t, cfgPath, httpAddrRe)
	running := ask("--url", "http://"+addrs[0])
	for i, c := range commands {
		s, r := stopped[i], running[i]
		if r.stdout != s.stdout || r.stderr != s.stderr || r.code != s.code {
			t.Errorf("%v through the service: exit %d, %d bytes out, stderr %q; stopped: exit %d, %d bytes, %q",
				c, r.code, len(r.stdout), r.stderr, s.code, len(s.stdout), s.stderr)
		}
	}
	// Without a token the service refuses, and the command says why.
	t.Setenv("UNICAT_ADMIN_TOKEN", "wrong-token-wrong-token")
	if _, e, code := runUnicat(t, "export", "--config", cfgPath, "--url", "http://"+addrs[0]); code == 0 || !strings.Contains(e, "401") {
		t.Errorf("export with a wrong token: exit %d, %s", code, e)
	}
}

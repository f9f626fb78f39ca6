package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A source of many libraries may name holders the configuration does not
// describe: they are kept, and import, status (from the store and from
// the running service) report them.
func TestUnknownHoldersReported(t *testing.T) {
	dir := t.TempDir()
	a, b := kieuT, sodoV
	a.h852 = "__ $a HN-LAB $h 1"
	b.h852 = "__ $a NA-VINH $h 2"
	writeBooks(t, filepath.Join(dir, "up.mrc"), a, b)
	cfg := filepath.Join(dir, "unicat.yaml")
	doc := fmt.Sprintf(`data_dir: data
http: {addr: "127.0.0.1:0"}
%ssources:
  - {id: up, name: "Upstream", library_code: UP, level: province, kind: file, path: %q, holder: a}
`, fedLibraries, filepath.Join(dir, "up.mrc"))
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "holding libraries the configuration does not describe"
	out, errOut, code := runUnicat(t, "import", "--config", cfg, "--all")
	if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "HN-LAB (1 union record)") || strings.Contains(out, "NA-VINH (") {
		t.Fatalf("import (exit %d) does not report exactly HN-LAB:\n%s%s", code, out, errOut)
	}
	out, errOut, code = runUnicat(t, "status", "--config", cfg)
	if code != 0 || !strings.Contains(out, "HN-LAB (1 union record)") {
		t.Fatalf("status (exit %d) from the store does not report HN-LAB:\n%s%s", code, out, errOut)
	}
	cmd, addrs := startServe(t, cfg, httpAddrRe)
	served := strings.Replace(doc, `addr: "127.0.0.1:0"`, fmt.Sprintf("addr: %q", addrs[0]), 1)
	if err := os.WriteFile(cfg, []byte(served), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runUnicat(t, "status", "--config", cfg)
	if code != 0 || !strings.Contains(out, "HN-LAB (1 union record)") {
		t.Fatalf("status (exit %d) through the service does not report HN-LAB:\n%s%s", code, out, errOut)
	}
	stopServe(t, cmd)
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckCommand: `unicat check` reads files as an import would, with a
// source's settings when named, lists what an import would reject, and
// exits 1 when something would be.
func TestCheckCommand(t *testing.T) {
	out, errOut, code := runUnicat(t, "check", "../../testdata/vietnamese/xa-kim-lien.mrc")
	if code != 0 || !strings.Contains(out, "check: 1 file(s), 2250 bytes: read 4, to import 4, rejected 0, duplicate 0") ||
		!strings.Contains(out, "converted to UTF-8 NFC: 4 tcvn3") {
		t.Errorf("exit %d:\n%s%s", code, out, errOut)
	}
	// nghi-loc's charset setting (windows-1258) rather than detection.
	cfg := demoConfig(t)
	out, errOut, code = runUnicat(t, "check", "--config", cfg, "--source", "nghi-loc", "../../testdata/vietnamese/xa-kim-lien.mrc")
	if code != 0 || !strings.Contains(out, "nghi-loc: 1 file(s)") || !strings.Contains(out, "converted to UTF-8 NFC: 4 windows-1258") {
		t.Errorf("--source nghi-loc: exit %d:\n%s%s", code, out, errOut)
	}
	out, errOut, code = runUnicat(t, "check", "../../testdata/marc/yaz")
	if code != 1 || !strings.Contains(out, "read 47, to import 41, rejected 6") ||
		!strings.Contains(out, "rejected: ../../testdata/marc/yaz/marc4.marc: record 1 at byte 0: truncated record") ||
		!strings.Contains(errOut, "6 of 47 records would be rejected") {
		t.Errorf("yaz's records: exit %d:\n%s%s", code, out, errOut)
	}
	// A configuration without a source would be read for nothing.
	if _, errOut, code = runUnicat(t, "check", "--config", "../../config/demo.yaml", "../../testdata/marc/yaz"); code == 0 || !strings.Contains(errOut, "--source") {
		t.Errorf("--config without --source: exit %d: %s", code, errOut)
	}
	if _, errOut, code = runUnicat(t, "check", "--charset", "koi8-r", "../../testdata/marc/yaz"); code == 0 || !strings.Contains(errOut, `--charset "koi8-r"`) {
		t.Errorf("--charset koi8-r: exit %d: %s", code, errOut)
	}
	empty := filepath.Join(t.TempDir(), "empty.xml")
	if err := os.WriteFile(empty, []byte(`<collection xmlns="http://www.loc.gov/MARC21/slim"/>`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code = runUnicat(t, "check", empty); code != 1 || !strings.Contains(errOut, "no records in 1 file(s)") {
		t.Errorf("an empty collection: exit %d: %s", code, errOut)
	}
}

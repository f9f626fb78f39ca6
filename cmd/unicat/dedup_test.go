package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
)

// writeDedupConfig writes a configuration with two of the Vietnamese demo
// libraries, whose exports share several editions.
func writeDedupConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	abs := func(p string) string {
		a, err := filepath.Abs(filepath.Join("..", "..", "testdata", "vietnamese", p))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	doc := `data_dir: data
sources:
  - id: na-tinh
    name: "Thư viện tỉnh Nghệ An"
    library_code: NA-TINH
    level: province
    kind: file
    path: ` + abs("na-tinh.xml") + `
  - id: vinh
    name: "Thư viện thành phố Vinh"
    library_code: NA-VINH
    level: district
    kind: file
    path: ` + abs("vinh.mrc") + `
`
	p := filepath.Join(dir, "unicat.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("unicat %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String() + errb.String()
}

func TestDedupCommands(t *testing.T) {
	cfg := writeDedupConfig(t)
	runOK(t, "import", "--config", cfg, "--all")

	// Truyện Kiều, held by both (one ISBN hyphenated, the other not).
	out := runOK(t, "dedup", "--config", cfg, "--explain", "vinh:000457")
	for _, want := range []string{"members (2)", "na-tinh:NAT00010231", "vinh:000457", "isbn 9786046924371", "held by NA-TINH, NA-VINH"} {
		if !strings.Contains(out, want) {
			t.Errorf("--explain output lacks %q:\n%s", want, out)
		}
	}
	id := strings.Fields(out)[1]
	if byID := runOK(t, "dedup", "--config", cfg, "--explain", id); !strings.Contains(byID, "vinh:000457") {
		t.Errorf("--explain %s does not show the same cluster:\n%s", id, byID)
	}

	outFile := filepath.Join(t.TempDir(), "union.xml")
	runOK(t, "export", "--config", cfg, "--union", "--format", "marcxml", "-o", outFile)
	f, err := os.Open(outFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := marc.NewXMLReader(f, marc.ReaderOptions{})
	n, shared := 0, 0
	for {
		rec, err := rd.Next()
		if err != nil {
			break
		}
		n++
		if len(rec.FieldsByTag("852")) > 1 {
			shared++
		}
		if !strings.HasPrefix(rec.ControlNumber(), "u") {
			t.Errorf("union record with 001 %q", rec.ControlNumber())
		}
	}
	// 13 + 8 records, 5 editions held by both (testdata/vietnamese/README.md).
	if n != 16 || shared != 5 {
		t.Errorf("exported %d union records, %d with two holdings; want 16 and 5", n, shared)
	}

	if out := runOK(t, "dedup", "--config", cfg, "--rebuild"); !strings.Contains(out, "rebuilt 21 record(s) into 16 union record(s)") || !strings.Contains(out, "; 0 changed") {
		t.Errorf("--rebuild: %s", out)
	}

	var errb bytes.Buffer
	if code := run([]string{"dedup", "--config", cfg}, &errb, &errb); code != 2 {
		t.Errorf("dedup without --explain or --rebuild: exit %d, want 2", code)
	}
	if code := run([]string{"dedup", "--config", cfg, "--explain", "nowhere:1"}, &errb, &errb); code != 1 {
		t.Errorf("--explain of an unknown record: exit %d, want 1", code)
	}
}

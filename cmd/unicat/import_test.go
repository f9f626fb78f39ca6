package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unicat/unicat/internal/marctest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/metrics"
)

// TestImportCountsDuplicates imports an export of 85 records in which two
// repeat an earlier control number (the "read 85, added 83"): the
// summary counts them and says where they are, and the run history,
// `unicat status` and the last-run metric count them as the other
// outcomes are.
func TestImportCountsDuplicates(t *testing.T) {
	dir := t.TempDir()
	cfgPath := writeConfig(t, dir) // source "big", file big.mrc
	var buf []byte
	at := map[int]int{} // where each record starts
	for i := 1; i <= 85; i++ {
		at[i] = len(buf)
		n := i
		switch i {
		case 40:
			n = 10 // another record under a control number already read
		case 85:
			n = 1
		}
		r := marctest.Record("001", fmt.Sprintf("%06d", n), "245", fmt.Sprintf("10$aTác phẩm số %d", i))
		var err error
		if buf, err = marc.AppendISO2709(buf, r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "big.mrc")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, e, code := runUnicat(t, "import", "--config", cfgPath, "--source", "big", path)
	if code != 0 {
		t.Fatalf("import exited %d: %s %s", code, out, e)
	}
	for _, want := range []string{
		"read 85, added 83, updated 0, unchanged 0, deleted 0, rejected 0, duplicate 2\n",
		"  duplicate: " + path + fmt.Sprintf(`: record 40 at byte %d: local id "000010" read before in this import: the first copy is kept`, at[40]),
		"  duplicate: " + path + fmt.Sprintf(`: record 85 at byte %d: local id "000001" read before`, at[85]),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	out, e, code = runUnicat(t, "import", "--config", cfgPath, "--source", "big", path)
	if code != 0 || !strings.Contains(out, "read 85, added 0, updated 0, unchanged 83, deleted 0, rejected 0, duplicate 2\n") {
		t.Fatalf("import again exited %d: %s %s", code, out, e)
	}

	// unicat status: the DUPLICATE column of the source's row.
	out, e, code = runUnicat(t, "status", "--config", cfgPath)
	lines := strings.Split(out, "\n")
	if code != 0 || len(lines) < 2 {
		t.Fatalf("status exited %d: %s %s", code, out, e)
	}
	col := strings.Index(lines[0], "DUPLICATE")
	if col < 0 || len(lines[1]) <= col || strings.Fields(lines[1][col:])[0] != "2" {
		t.Errorf("status shows no 2 duplicates:\n%s", out)
	}

	// The run history and the last-run metric.
	_, cat := openConfigured(t, cfgPath)
	defer cat.Close()
	runs, err := cat.Store().Runs("big", 0)
	if err != nil || len(runs) != 2 || runs[0].Duplicates != 2 || runs[1].Duplicates != 2 || runs[1].Added != 83 {
		t.Fatalf("runs: %+v %v", runs, err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewCatalogCollector(cat))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "unicat_source_last_run_records" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					got[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	if got["duplicate"] != 2 || got["unchanged"] != 83 {
		t.Errorf("unicat_source_last_run_records: %v", got)
	}
}

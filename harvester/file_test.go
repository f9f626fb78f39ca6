package harvester

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeExport writes ISO 2709 records numbered ids, each a distinct
// record with 001 = "f<id>".
func writeExport(t *testing.T, path string, ids ...int) {
	t.Helper()
	recs := realRecords(t)
	var buf []byte
	for _, id := range ids {
		src := recs[id%len(recs)]
		rec := &marc.Record{Leader: src.Leader, Fields: []marc.Field{{Tag: "001", Value: fmt.Sprintf("f%d", id)}}}
		for _, f := range src.Fields {
			if f.Tag != "001" {
				rec.Fields = append(rec.Fields, f)
			}
		}
		var err error
		if buf, err = marc.AppendISO2709(buf, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFileDropNewAndChangedFiles(t *testing.T) {
	e := newEnv(t, "kind: file\npath: drop")
	drop := filepath.Join(filepath.Dir(e.cfg.Path), "drop")
	if err := os.Mkdir(drop, 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, "../testdata/vietnamese/na-tinh.xml", filepath.Join(drop, "na-tinh.xml"))
	writeExport(t, filepath.Join(drop, "export.mrc"), 1, 2, 3)
	r := e.mustRun()
	if r.Added != 16 || r.Pages != 2 {
		t.Errorf("first run %+v", r)
	}
	// Nothing new: nothing read.
	r = e.mustRun()
	if r.Pages != 0 || r.Unchanged != 0 || r.Notes != "" {
		t.Errorf("second run %+v", r)
	}
	// One file changed: only it is imported.
	writeExport(t, filepath.Join(drop, "export.mrc"), 1, 2, 3, 4)
	r = e.mustRun()
	if r.Pages != 1 || r.Added != 1 || r.Unchanged != 3 || r.Deleted != 0 {
		t.Errorf("changed file %+v", r)
	}
	var cp fileCheckpoint
	if err := json.Unmarshal([]byte(e.checkpoint()), &cp); err != nil || len(cp.Files) != 2 || len(cp.Files["export.mrc"]) != 64 {
		t.Errorf("checkpoint %s", e.checkpoint())
	}
	// A file taken away and put back is imported again.
	os.Rename(filepath.Join(drop, "na-tinh.xml"), filepath.Join(t.TempDir(), "x"))
	e.mustRun()
	copyFile(t, "../testdata/vietnamese/na-tinh.xml", filepath.Join(drop, "na-tinh.xml"))
	if r = e.mustRun(); r.Pages != 1 || r.Unchanged != 13 {
		t.Errorf("file put back %+v", r)
	}
}

func TestFileFullExport(t *testing.T) {
	e := newEnv(t, "kind: file\npath: catalog.mrc\nfull_export: true")
	path := filepath.Join(filepath.Dir(e.cfg.Path), "catalog.mrc")
	writeExport(t, path, 1, 2, 3, 4, 5)
	if r := e.mustRun(); r.Added != 5 {
		t.Errorf("first export %+v", r)
	}
	writeExport(t, path, 1, 2, 4, 6)
	r := e.mustRun()
	if r.Added != 1 || r.Deleted != 2 || r.Unchanged != 3 {
		t.Errorf("second export %+v", r)
	}
	recs := e.records()
	if !recs["f3"].Deleted || !recs["f5"].Deleted || recs["f6"].Deleted {
		t.Error("wrong records deleted")
	}
	// A new export with a broken record deletes nothing: the broken one
	// might be a record it still holds.
	writeExport(t, path, 1, 2)
	b, _ := os.ReadFile(path)
	b = append(b, []byte("00099nam  2200037   4500\x1e")...)
	os.WriteFile(path, b, 0o644)
	r = e.mustRun()
	if r.Deleted != 0 || r.Rejected != 1 || !strings.Contains(r.Notes, "no deletions applied") {
		t.Errorf("export with a broken record %+v", r)
	}
	// An unreadable file fails the run and is retried next time.
	os.WriteFile(path, []byte("this is not MARC"), 0o644)
	if _, err := e.run(); err == nil {
		t.Error("garbage file accepted")
	}
	writeExport(t, path, 1, 2)
	if r := e.mustRun(); r.Deleted != 2 {
		t.Errorf("after the garbage %+v", r)
	}
}

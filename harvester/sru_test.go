package harvester

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/harvester/harvesttest"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/marc"
)

// sruItems are items whose records carry their id in 001, as SRU
// records are stored under their control number.
func sruItems(t testing.TB, n int) []harvesttest.Item {
	its := items(t, n)
	for i := range its {
		rec := *its[i].Record
		rec.Fields = slices.Clone(rec.Fields)
		its[i].ID = fmt.Sprintf("sru%05d", i)
		if f := rec.First("001"); f != nil {
			f.Value = its[i].ID
		} else {
			rec.Fields = append([]marc.Field{{Tag: "001", Value: its[i].ID}}, rec.Fields...)
		}
		its[i].Record = &rec
	}
	return its
}

func sruEnv(t *testing.T, srv *harvesttest.SRUServer, extra string) *env {
	return newEnv(t, "kind: sru\nurl: "+srv.URL+"\n"+extra)
}

func TestSRUFullHarvestAndDeletions(t *testing.T) {
	its := sruItems(t, 230)
	srv := harvesttest.NewSRUServer(harvesttest.SRUOptions{}, its)
	defer srv.Close()
	e := sruEnv(t, srv, "page_size: 50")
	r := e.mustRun()
	if r.Added != 230 || r.Pages != 5 || r.Rejected != 0 {
		t.Errorf("run %+v", r)
	}
	if got := e.live(); !slices.Equal(got, liveIDs(its)) {
		t.Fatalf("stored %d, want %d", len(got), len(its))
	}
	recs := e.records()
	sameRecord(t, recs[its[7].ID], its[7].Record)
	q := srv.Requests()[0]
	if q.Get("query") != "cql.allRecords=1" || q.Get("recordSchema") != "marcxml" || q.Get("version") != "1.2" ||
		q.Get("maximumRecords") != "50" || q.Get("startRecord") != "1" || q.Get("recordPacking") != "xml" {
		t.Errorf("request %v", q)
	}
	// Without a date index every run is full, and records that
	// disappeared are marked deleted.
	srv.Remove(its[3].ID)
	srv.Remove(its[200].ID)
	r = e.mustRun()
	if r.Deleted != 2 || r.Unchanged != 228 || r.Added != 0 {
		t.Errorf("second run %+v", r)
	}
	if got := len(e.live()); got != 228 {
		t.Errorf("%d live", got)
	}
}

// TestSRUDuplicateControlNumbers: a page holding two records with one
// control number stores the later and counts the other as a duplicate.
func TestSRUDuplicateControlNumbers(t *testing.T) {
	its := sruItems(t, 30)
	rec := *its[12].Record
	rec.Fields = slices.Clone(rec.Fields)
	rec.Fields[0] = marc.Field{Tag: "001", Value: its[5].ID}
	its[12].Record = &rec
	srv := harvesttest.NewSRUServer(harvesttest.SRUOptions{}, its)
	defer srv.Close()
	e := sruEnv(t, srv, "page_size: 50")
	if r := e.mustRun(); r.Added != 29 || r.Duplicates != 1 || r.Pages != 1 {
		t.Errorf("run %+v, want 29 added and 1 duplicate", r)
	}
}

func TestSRUVersion20StringPackingAndCap(t *testing.T) {
	its := sruItems(t, 45)
	srv := harvesttest.NewSRUServer(harvesttest.SRUOptions{Version20: true, StringPacking: true, MaxRecords: 20, OmitNextPosition: true}, its)
	defer srv.Close()
	e := sruEnv(t, srv, "page_size: 100\nsru_version: \"2.0\"")
	r := e.mustRun()
	if r.Added != 45 || r.Pages != 3 {
		t.Errorf("run %+v", r)
	}
	if q := srv.Requests()[1]; q.Get("startRecord") != "21" || q.Get("recordXMLEscaping") != "xml" || q.Get("version") != "2.0" {
		t.Errorf("second request %v", q)
	}
	sameRecord(t, e.records()[its[44].ID], its[44].Record)
}

func TestSRUIncrementalWithDateIndex(t *testing.T) {
	its := sruItems(t, 30)
	srv := harvesttest.NewSRUServer(harvesttest.SRUOptions{DateIndex: "rec.lastModificationDate"}, its)
	defer srv.Close()
	e := sruEnv(t, srv, "page_size: 10\ndate_index: rec.lastModificationDate\nquery: \"dc.title=*\"")
	now := time.Date(2024, 6, 10, 12, 0, 0, 0, time.UTC)
	e.h.opts.Now = func() time.Time { return now }
	if r := e.mustRun(); r.Added != 30 {
		t.Fatalf("first run %+v", r)
	}
	changed := its[5]
	changed.Datestamp = now.Add(24 * time.Hour)
	rec := *its[6].Record
	rec.Fields = slices.Clone(rec.Fields)
	rec.Fields[0] = marc.Field{Tag: "001", Value: its[5].ID}
	changed.Record = &rec
	srv.Put(changed)
	srv.Remove(its[9].ID)
	now = now.Add(48 * time.Hour)
	r := e.mustRun()
	if r.Updated != 1 || r.Added != 0 || r.Deleted != 0 || r.Unchanged != 0 {
		t.Errorf("incremental run %+v", r)
	}
	reqs := srv.Requests()
	if q := reqs[len(reqs)-1].Get("query"); q != `(dc.title=*) and rec.lastModificationDate>="2024-06-09"` {
		t.Errorf("incremental query %q", q)
	}
}

func TestSRUDiagnostics(t *testing.T) {
	its := sruItems(t, 12)
	srv := harvesttest.NewSRUServer(harvesttest.SRUOptions{Surrogate: func(id string) bool { return id == its[4].ID }}, its)
	defer srv.Close()
	e := sruEnv(t, srv, "")
	r := e.mustRun()
	if r.Added != 11 || r.Rejected != 1 || !strings.Contains(r.Notes, "surrogate diagnostic info:srw/diagnostic/1/64") {
		t.Errorf("surrogate: %+v", r)
	}
	if metricValue(e.m.rejects.WithLabelValues("src", "diagnostic")) != 1 {
		t.Error("surrogate diagnostic not counted")
	}
	// A record held back by a surrogate diagnostic is not "disappeared".
	if got := len(e.live()); got != 11 {
		t.Errorf("%d live", got)
	}
	srv.Configure(func(o *harvesttest.SRUOptions) { o.Diagnostic = "info:srw/diagnostic/1/10" })
	r, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "SRU diagnostic info:srw/diagnostic/1/10") || r.Deleted != 0 {
		t.Fatalf("fatal diagnostic: %v %+v", err, r)
	}
}

func TestSRUMiscountingServer(t *testing.T) {
	its := sruItems(t, 25)
	srv := harvesttest.NewSRUServer(harvesttest.SRUOptions{InflateCount: 30}, its)
	defer srv.Close()
	e := sruEnv(t, srv, "page_size: 10")
	r, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "no records at position 26 of 55") {
		t.Fatalf("miscount: %v", err)
	}
	if r.Added != 25 || r.Deleted != 0 || !strings.Contains(r.Notes, "guard empty-pages") {
		t.Errorf("run %+v", r)
	}
}

func TestSRUResume(t *testing.T) {
	its := sruItems(t, 50)
	srv := harvesttest.NewSRUServer(harvesttest.SRUOptions{}, its)
	defer srv.Close()
	e := sruEnv(t, srv, "page_size: 10")
	e.interrupt(2)
	var cp sruCheckpoint
	if err := json.Unmarshal([]byte(e.checkpoint()), &cp); err != nil || cp.Next != 21 {
		t.Fatalf("checkpoint %q", e.checkpoint())
	}
	srv.Remove(its[0].ID)
	n := len(srv.Requests())
	r := e.mustRun()
	if q := srv.Requests()[n]; q.Get("startRecord") != "21" {
		t.Errorf("resumed at %v", q)
	}
	// Resumed full harvests leave deletions to the next full run.
	if r.Deleted != 0 || !strings.Contains(r.Notes, "resumed after an interruption") {
		t.Errorf("resumed run %+v", r)
	}
	if r = e.mustRun(); r.Deleted != 1 {
		t.Errorf("next full run %+v", r)
	}
}

// freePort returns a loopback TCP port nobody listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startZebra indexes an ISO 2709 file with Zebra and serves it on
// loopback (SRU at http://127.0.0.1:PORT/Default), with the configuration
// in testdata/peers/zebra.
func startZebra(t *testing.T, data string) string {
	t.Helper()
	zebraidx := testpeer.Need(t, "zebraidx")
	zebrasrv := testpeer.Need(t, "zebrasrv")
	work := t.TempDir()
	for _, d := range []string{"reg", "shadow", "lock", "tmp", "rec"} {
		if err := os.Mkdir(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	for _, name := range []string{"zebra.cfg", "yazgfs.xml"} {
		tmpl, err := os.ReadFile(filepath.Join("testdata/peers/zebra", name))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.NewReplacer("@WORK@", work, "@PORT@", fmt.Sprint(port)).Replace(string(tmpl))
		if err := os.WriteFile(filepath.Join(work, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "rec", "data.mrc"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"init"}, {"update", "rec"}, {"commit"}} {
		cmd := exec.Command(zebraidx, append([]string{"-c", "zebra.cfg"}, args...)...)
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("zebraidx %v: %v\n%s", args, err, out)
		}
	}
	srv := exec.Command(zebrasrv, "-f", "yazgfs.xml", "-l", filepath.Join(work, "server.log"))
	srv.Dir = work
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i == 400 { // 20 s
			log, _ := os.ReadFile(filepath.Join(work, "server.log"))
			t.Fatalf("zebrasrv did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + addr + "/Default"
}

// TestSRUAgainstZebra harvests a real SRU server and compares what was
// stored with what Zebra holds.
func TestSRUAgainstZebra(t *testing.T) {
	const data = "../testdata/marc/zebra/sample-marc.mrc"
	base := startZebra(t, data)
	e := newEnv(t, "kind: sru\nurl: "+base+"\npage_size: 5")
	r := e.mustRun()

	resp, err := http.Get(base + "?version=1.2&operation=searchRetrieve&query=cql.allRecords%3D1&maximumRecords=0")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p, err := parseSRU(body, "")
	if err != nil {
		t.Fatalf("zebra's count: %v\n%s", err, body)
	}
	// The last record's 001 is blank and it has no 035: nothing to key
	// it by, so it is rejected and named.
	if p.NumberOfRecords != 24 || r.Added != 23 || r.Rejected != 1 || r.Pages != 5 ||
		!strings.Contains(r.Notes, "rejected record 24 (no-id)") {
		t.Errorf("Zebra holds %d records; the harvest %+v", p.NumberOfRecords, r)
	}
	// The same records as the file Zebra indexed, field for field.
	f, err := os.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := marc.NewISO2709Reader(f, marc.ReaderOptions{})
	recs := e.records()
	n := 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ingest.LocalID(rec) == "" {
			continue
		}
		n++
		sr, ok := recs[ingest.LocalID(rec)]
		if !ok {
			t.Errorf("record %q not harvested", ingest.LocalID(rec))
			continue
		}
		sameRecord(t, sr, rec)
	}
	if n != len(recs) {
		t.Errorf("file holds %d records, store %d", n, len(recs))
	}
	// Zebra's diagnostics become source errors.
	e.src.Query = "dc.title=("
	if _, err := e.run(); err == nil || !strings.Contains(err.Error(), "SRU diagnostic info:srw/diagnostic/1/10") {
		t.Errorf("bad query: %v", err)
	}
}

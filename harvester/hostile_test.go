package harvester

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/harvester/harvesttest"
	"github.com/unicat/unicat/internal/heapwatch"
	"github.com/unicat/unicat/internal/marctest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// harvestOnce harvests a hostile peer into a fresh store and returns the
// run, the live records, the peak heap it took and the run's error.
func harvestOnce(t *testing.T, srv *harvesttest.HostileOAI, extra string) (store.Run, []string, uint64, error) {
	t.Helper()
	e := newEnv(t, "kind: oai\nurl: "+srv.URL+"\n"+extra)
	var r store.Run
	var err error
	peak := heapwatch.Peak(func() { r, err = e.run() })
	return r, e.live(), peak, err
}

// One OAI-PMH page of 200,000 records (273 MB) took 8 GB and 9 minutes:
// a page was parsed whole and committed as one batch. Pages are now read
// record by record into batches of the usual size: a page four times
// larger costs a few MB more, not four times more, and the page is
// never in memory (30 MB and 120 MB pages here, 27,000 records).
func TestOAIPageMemoryFollowsTheBatchNotThePage(t *testing.T) {
	const perMB = 218 // records of 4,600 bytes of XML in a million bytes
	peaks := map[int]uint64{}
	for _, mb := range []int{30, 120} {
		srv := harvesttest.NewHostileOAI(harvesttest.HostileOptions{PageRecords: mb * perMB})
		start := time.Now()
		r, live, peak, err := harvestOnce(t, srv, "")
		took := time.Since(start)
		srv.Close()
		t.Logf("%d MB page (%d bytes): %d records in %v, peak heap %d MB", mb, r.Bytes, r.Added, took.Round(time.Millisecond), peak>>20)
		if err != nil || r.Added != mb*perMB || len(live) != mb*perMB || r.Bytes < int64(mb)*1e6 {
			t.Fatalf("%d MB page: %v, %+v, %d live", mb, err, r, len(live))
		}
		if took > time.Duration(mb)*time.Second/2 {
			t.Errorf("%d MB page took %v, more than 2 MB/s", mb, took)
		}
		peaks[mb] = peak
	}
	if peaks[120] > 96<<20 {
		t.Errorf("a 120 MB page took %d MB of heap at its peak, want under 96", peaks[120]>>20)
	}
	if peaks[120] > peaks[30]+32<<20 {
		t.Errorf("a page 4 times larger took %d MB of heap at its peak, %d MB more than the smaller: memory follows the page",
			peaks[120]>>20, (peaks[120]-peaks[30])>>20)
	}
}

// Pages that each carry a new resumption token and the same records ran
// without end (1,200 requests in 60 s). Ten pages in a row without a new
// record (max_empty_pages) now stop the run as failed, saying why.
func TestOAIRepeatedRecordsUnderNewTokens(t *testing.T) {
	srv := harvesttest.NewHostileOAI(harvesttest.HostileOptions{PageRecords: 20, Repeat: true})
	defer srv.Close()
	start := time.Now()
	r, live, _, err := harvestOnce(t, srv, "")
	if err == nil || !strings.Contains(err.Error(), "10 pages in a row without a record the list had not given already") ||
		!strings.Contains(r.Notes, "guard repeated-records") {
		t.Fatalf("run %+v: %v", r, err)
	}
	// Identify, the first page and ten repeats.
	if n := srv.Requests(); n != 12 || len(live) != 20 || time.Since(start) > 10*time.Second {
		t.Errorf("%d requests, %d records, %v", n, len(live), time.Since(start))
	}
}

// The guards' policy: a page bringing nothing new counts, any new record
// starts again, the last page says which guard trips.
func TestPageVerdict(t *testing.T) {
	for _, c := range []struct {
		stale, records, fresh, max int
		next                       int
		why                        string
	}{
		{0, 50, 50, 10, 0, ""},
		{9, 50, 1, 10, 0, ""},
		{3, 50, 0, 10, 4, ""},
		{9, 50, 0, 10, 10, "repeated-records"},
		{9, 0, 0, 10, 10, "empty-pages"},
		{0, 0, 0, 1, 1, "empty-pages"},
		{0, 7, 0, 1, 1, "repeated-records"},
	} {
		next, why := pageVerdict(c.stale, c.records, c.fresh, c.max)
		if next != c.next || why != c.why {
			t.Errorf("pageVerdict(%d, %d, %d, %d) = %d, %q; want %d, %q", c.stale, c.records, c.fresh, c.max, next, why, c.next, c.why)
		}
	}
}

// A record with a 50 MB subfield and one of 500 KB are rejected (the
// first unread past its start, the second while it is read), with their
// page, number, offset and size; the records around them are stored, in
// bounded memory.
func TestOAIRecordsTooLarge(t *testing.T) {
	sizes := map[int]int{1: 50 << 20, 3: 500 << 10}
	srv := harvesttest.NewHostileOAI(harvesttest.HostileOptions{PageRecords: 5, Record: func(w io.Writer, i int) {
		note := 100
		if n, ok := sizes[i]; ok {
			note = n
		}
		harvesttest.BookRecord(w, i, note)
	}})
	defer srv.Close()
	r, live, peak, err := harvestOnce(t, srv, "")
	if err != nil || r.Added != 3 || r.Rejected != 2 || len(live) != 3 {
		t.Fatalf("run %+v: %v", r, err)
	}
	for _, want := range []string{
		"rejected oai:hostile:00000001 (too-large): page 1, record 2 at byte ",
		"bytes of XML, more than a record of at most 99999 bytes can take (max_record_bytes)",
		"rejected oai:hostile:00000003 (too-large): page 1, record 4 at byte ",
		"bytes as ISO 2709, more than the 99999 allowed",
	} {
		if !strings.Contains(r.Notes, want) {
			t.Errorf("notes lack %q:\n%s", want, r.Notes)
		}
	}
	if peak > 32<<20 {
		t.Errorf("a 50 MB record took %d MB of heap at its peak, want under 32", peak>>20)
	}
	// A source that allows larger records stores the second.
	_, live, _, err = harvestOnce(t, srv, "max_record_bytes: 1000000")
	if err != nil || len(live) != 4 {
		t.Errorf("max_record_bytes 1000000: %d records, %v", len(live), err)
	}
}

// An identifier of 40 KB failed its page's batch and the run, and every
// later run stopped at the same place. It is now rejected with its place
// in the list; the records after it are stored and the list completes.
func TestOAIBadIdentifierCostsOnlyItsRecord(t *testing.T) {
	long := "oai:bad:" + strings.Repeat("9", 40<<10)
	srv := harvesttest.NewHostileOAI(harvesttest.HostileOptions{Pages: 3, PageRecords: 100, ID: func(i int) string {
		if i == 150 {
			return long
		}
		return fmt.Sprintf("oai:hostile:%08d", i)
	}})
	defer srv.Close()
	e := newEnv(t, "kind: oai\nurl: "+srv.URL)
	r := e.mustRun()
	if r.Added != 299 || r.Rejected != 1 || !strings.Contains(r.Notes, "(bad-id): page 2, record 51 at byte ") ||
		!strings.Contains(r.Notes, "40968 bytes long, more than the 4096 allowed") {
		t.Errorf("run %+v", r)
	}
	if n := len(e.live()); n != 299 {
		t.Errorf("%d records stored, want 299", n)
	}
	if cp := decodeOAICheckpoint(t, e); cp.Token != "" || cp.From == "" {
		t.Errorf("the list did not complete: checkpoint %+v", cp)
	}
}

// A file dropped for a source: the record with a NUL in its 001 is
// rejected with its file, number and offset, the others stored, and the
// next run moves on to the next file.
func TestFileDropBadRecordCostsOnlyItself(t *testing.T) {
	dir := t.TempDir()
	var buf []byte
	var badAt int
	for i := range 3000 {
		id := fmt.Sprintf("f%05d", i)
		if i == 1234 {
			id, badAt = "f\x00bad", len(buf)
		}
		raw, err := marc.EncodeISO2709(marctest.Record("001", id, "245", "10$aSách "+id))
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, raw...)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.mrc"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "kind: file\npath: "+dir)
	r := e.mustRun()
	want := fmt.Sprintf("rejected a.mrc record 1235 at byte %d (bad-id): local id", badAt)
	if r.Added != 2999 || r.Rejected != 1 || !strings.Contains(r.Notes, want) || !strings.Contains(r.Notes, "contains 0x00") {
		t.Errorf("run %+v, want a note %q", r, want)
	}
	raw, _ := marc.EncodeISO2709(marctest.Record("001", "g1", "245", "10$aSách g1"))
	if err := os.WriteFile(filepath.Join(dir, "b.mrc"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.mustRun(); r.Added != 1 || len(e.live()) != 3000 {
		t.Errorf("next run %+v, %d live", r, len(e.live()))
	}
}

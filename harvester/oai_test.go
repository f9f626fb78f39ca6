package harvester

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/harvester/harvesttest"
	"github.com/unicat/unicat/marc"
)

func oaiEnv(t *testing.T, srv *harvesttest.OAIServer, extra string) *env {
	return newEnv(t, "kind: oai\nurl: "+srv.URL+"\n"+extra)
}

func listRequests(srv *harvesttest.OAIServer, verb string) []map[string]string {
	var out []map[string]string
	for _, q := range srv.Requests() {
		if q.Get("verb") != verb {
			continue
		}
		m := map[string]string{}
		for k := range q {
			m[k] = q.Get(k)
		}
		out = append(out, m)
	}
	return out
}

func decodeOAICheckpoint(t *testing.T, e *env) oaiCheckpoint {
	t.Helper()
	var cp oaiCheckpoint
	if err := json.Unmarshal([]byte(e.checkpoint()), &cp); err != nil {
		t.Fatalf("checkpoint %q: %v", e.checkpoint(), err)
	}
	return cp
}

// A first harvest takes everything; the next asks from the responseDate
// Identify gave before the first, and applies only the changes.
func TestOAIFullThenIncremental(t *testing.T) {
	clk := &clock{t: t0.Add(24 * time.Hour)}
	its := items(t, 120)
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 25, Clock: clk.Now}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "")

	r := e.mustRun()
	if r.Added != 120 || r.Pages != 5 || r.Rejected != 0 || r.Bytes == 0 {
		t.Errorf("first run: %+v", r)
	}
	if got := e.live(); !slices.Equal(got, liveIDs(its)) {
		t.Fatalf("stored %d records, want %d", len(got), len(its))
	}
	recs := e.records()
	for _, it := range its[:10] {
		sameRecord(t, recs[it.ID], it.Record)
		if !recs[it.ID].Datestamp.Equal(it.Datestamp) {
			t.Errorf("%s datestamp %v, want %v", it.ID, recs[it.ID].Datestamp, it.Datestamp)
		}
	}
	lr := listRequests(srv, "ListRecords")
	if lr[0]["metadataPrefix"] != "marc21" || lr[0]["from"] != "" || lr[0]["until"] != "" {
		t.Errorf("first request %v", lr[0])
	}
	firstResponseDate := clk.Now()
	if cp := decodeOAICheckpoint(t, e); cp.From != firstResponseDate.Format(time.RFC3339) || cp.Token != "" {
		t.Errorf("checkpoint after the first run: %+v", cp)
	}

	// Changes an hour later: three records edited, two deleted, one new.
	later := clk.Now().Add(time.Hour)
	rec := realRecords(t)[0]
	srv.Put(harvesttest.Item{ID: its[3].ID, Datestamp: later, Record: rec},
		harvesttest.Item{ID: its[50].ID, Datestamp: later, Record: rec},
		harvesttest.Item{ID: its[99].ID, Datestamp: later, Record: rec},
		harvesttest.Item{ID: "oai:test:new", Datestamp: later, Record: rec})
	srv.Delete(its[7].ID, later)
	srv.Delete(its[8].ID, later)
	clk.Set(later.Add(time.Minute))
	r = e.mustRun()
	if r.Added != 1 || r.Updated != 3 || r.Deleted != 2 || r.Unchanged != 0 || r.Pages != 1 {
		t.Errorf("second run: %+v", r)
	}
	lr = listRequests(srv, "ListRecords")
	if from := lr[len(lr)-1]["from"]; from != firstResponseDate.Format("2006-01-02T15:04:05Z") {
		t.Errorf("second run asked from=%q, want the first run's responseDate %v", from, firstResponseDate)
	}
	if got := len(e.live()); got != 119 {
		t.Errorf("%d live records, want 119", got)
	}
	recs = e.records()
	if !recs[its[7].ID].Deleted || recs[its[3].ID].Deleted {
		t.Error("deletion not applied")
	}
	sameRecord(t, recs[its[50].ID], rec)
}

func TestOAIDayGranularityAndKohaPrefix(t *testing.T) {
	clk := &clock{t: t0.Add(48 * time.Hour)}
	its := items(t, 30)
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10, Clock: clk.Now, DayGranularity: true}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "metadata_prefix: marcxml\nset: books")
	for i := range its {
		if i%2 == 0 {
			its[i].Sets = []string{"books"}
		}
	}
	srv.Put(its...)
	r := e.mustRun()
	if r.Added != 15 {
		t.Errorf("set books: %+v", r)
	}
	clk.Set(clk.Now().Add(2 * time.Hour))
	r = e.mustRun()
	lr := listRequests(srv, "ListRecords")
	last := lr[len(lr)-1]
	// A server with day granularity refuses a from with a time
	// (badArgument): the run succeeding shows the from was a day.
	if last["from"] != t0.Add(48*time.Hour).Format("2006-01-02") || last["metadataPrefix"] != "marcxml" || last["set"] != "books" {
		t.Errorf("incremental request %v", last)
	}
	if r.Added != 0 || r.Updated != 0 {
		t.Errorf("nothing changed, got %+v", r)
	}
}

func TestOAIDeletedRecordsBecomeTombstones(t *testing.T) {
	its := items(t, 20)
	its[4].Deleted, its[4].Record = true, nil
	its[5].Deleted, its[5].Record = true, nil
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 7}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "")
	r := e.mustRun()
	// Deletions of records never seen are recorded as tombstones too.
	if r.Added != 18 || r.Deleted != 2 {
		t.Errorf("run: %+v", r)
	}
	recs := e.records()
	if !recs[its[4].ID].Deleted || !recs[its[5].ID].Deleted || len(e.live()) != 18 {
		t.Error("tombstones missing")
	}
}

func TestOAITokenLoop(t *testing.T) {
	its := items(t, 50)
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10, TokenLoop: true}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "")
	r, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "a second time") {
		t.Fatalf("token loop: err %v", err)
	}
	// Page 1 gave the token, page 2 gave it again.
	if r.Added != 20 || r.Pages != 2 || !strings.Contains(r.Notes, "guard token-loop") {
		t.Errorf("run %+v", r)
	}
	if got := metricValue(e.m.guards.WithLabelValues("src", "token-loop")); got != 1 {
		t.Errorf("token-loop guard counted %v times", got)
	}
	// The loop's token is not kept: the next run lists the window again.
	if cp := decodeOAICheckpoint(t, e); cp.Token != "" || cp.From != "" {
		t.Errorf("checkpoint after the loop: %+v", cp)
	}
	srv.Configure(func(o *harvesttest.OAIOptions) { o.TokenLoop = false })
	r = e.mustRun()
	if r.Added != 30 || r.Unchanged != 20 {
		t.Errorf("after the loop: %+v", r)
	}
}

// interrupt harvests until the given number of pages is committed, then
// cancels the run.
func (e *env) interrupt(pages int) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := e.h.Run(ctx, "src", func(p Progress) {
		if p.Pages >= pages {
			cancel()
		}
	})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		e.t.Fatalf("interrupted run: %v", err)
	}
}

func TestOAIResumeFromToken(t *testing.T) {
	its := items(t, 100)
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "")
	e.interrupt(3)
	cp := decodeOAICheckpoint(t, e)
	if cp.Token == "" || cp.Page != 3 || cp.Start == "" {
		t.Fatalf("checkpoint after 3 pages: %+v", cp)
	}
	if got := len(e.live()); got != 30 {
		t.Fatalf("%d records after 3 pages", got)
	}
	before := len(srv.Requests())
	r := e.mustRun()
	reqs := srv.Requests()[before:]
	if reqs[1].Get("resumptionToken") != cp.Token {
		t.Errorf("resumed run did not continue from the token: %v", reqs[1])
	}
	if r.Added != 70 || r.Unchanged != 0 || r.Pages != 7 {
		t.Errorf("resumed run: %+v", r)
	}
	if got := e.live(); !slices.Equal(got, liveIDs(its)) {
		t.Errorf("%d records after resuming, want %d", len(got), len(its))
	}
	if cp2 := decodeOAICheckpoint(t, e); cp2.From != cp.Start || cp2.Token != "" {
		t.Errorf("the completed window's from is %q, want the interrupted run's start %q", cp2.From, cp.Start)
	}
}

func TestOAIExpiredTokenRestartsWindow(t *testing.T) {
	clk := &clock{t: t0.Add(24 * time.Hour)}
	its := items(t, 60)
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10, Clock: clk.Now}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "")
	e.mustRun()
	from := decodeOAICheckpoint(t, e).From
	// New records, a window interrupted, its token expired.
	later := clk.Now().Add(time.Hour)
	var fresh []harvesttest.Item
	for i := range 30 {
		it := its[i]
		it.ID, it.Datestamp = it.ID+"-new", later
		fresh = append(fresh, it)
	}
	srv.Put(fresh...)
	clk.Set(later.Add(time.Minute))
	e.interrupt(1)
	srv.ExpireTokens()
	// The error comes with HTTP 400, as some servers send it.
	srv.Configure(func(o *harvesttest.OAIOptions) { o.ErrorStatus = 400 })
	r := e.mustRun()
	if !strings.Contains(r.Notes, "guard bad-resumption-token") {
		t.Errorf("notes: %s", r.Notes)
	}
	lr := listRequests(srv, "ListRecords")
	if last := lr[len(lr)-3]; last["from"] != from[:len("2006-01-02T15:04:05")]+"Z" {
		t.Errorf("restart asked %v, want from=%s", last, from)
	}
	if got := len(e.live()); got != 90 {
		t.Errorf("%d records, want 90", got)
	}
	if r.Added != 20 || r.Unchanged != 10 {
		t.Errorf("restarted window: %+v", r)
	}
}

func TestOAIEmptyPages(t *testing.T) {
	its := items(t, 30)
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10, EmptyPages: 3}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "max_empty_pages: 4")
	if r := e.mustRun(); r.Added != 30 {
		t.Errorf("3 empty pages then records: %+v", r)
	}
	srv.Configure(func(o *harvesttest.OAIOptions) { o.EmptyPages = 1000 })
	e2 := oaiEnv(t, srv, "max_empty_pages: 4")
	r, err := e2.run()
	if err == nil || !strings.Contains(err.Error(), "4 pages in a row without records") {
		t.Fatalf("endless empty pages: %v", err)
	}
	if r.Pages != 4 || metricValue(e2.m.guards.WithLabelValues("src", "empty-pages")) != 1 {
		t.Errorf("run %+v", r)
	}
}

func TestOAINoRecordsMatch(t *testing.T) {
	clk := &clock{t: t0}
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{Clock: clk.Now}, nil)
	defer srv.Close()
	e := oaiEnv(t, srv, "")
	r := e.mustRun()
	if r.Added != 0 || r.Err != "" {
		t.Errorf("empty repository: %+v", r)
	}
	if cp := decodeOAICheckpoint(t, e); cp.From != t0.Format(time.RFC3339) {
		t.Errorf("an empty run still moves from on: %+v", cp)
	}

	// noRecordsMatch answering a token ends the list successfully.
	srv2 := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10, NoRecordsMatchOnToken: true}, items(t, 30))
	defer srv2.Close()
	e2 := oaiEnv(t, srv2, "")
	r = e2.mustRun()
	if r.Added != 10 || !strings.Contains(r.Notes, "guard no-records-match") {
		t.Errorf("noRecordsMatch on a token: %+v", r)
	}
	if cp := decodeOAICheckpoint(t, e2); cp.Token != "" || cp.From == "" {
		t.Errorf("checkpoint %+v", cp)
	}
}

func TestOAIRetryAfterAndBackoff(t *testing.T) {
	its := items(t, 20)
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "max_retries: 3\nretry_wait: 2s")
	srv.Fail(2, 503, "7")
	r := e.mustRun()
	if r.Added != 20 {
		t.Errorf("run %+v", r)
	}
	if got := e.slept(); !slices.Equal(got, []time.Duration{7 * time.Second, 7 * time.Second}) {
		t.Errorf("slept %v, want Retry-After 7s twice", got)
	}
	if got := metricValue(e.m.retries.WithLabelValues("src")); got != 2 {
		t.Errorf("retries %v", got)
	}
	if got := metricValue(e.m.httpErrors.WithLabelValues("src", "503")); got != 2 {
		t.Errorf("HTTP 503 counted %v", got)
	}

	// Plain 500s back off exponentially with jitter, then give up.
	e.sleeps = nil
	srv.Fail(10, 500, "")
	r, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 retries") {
		t.Fatalf("500s: %v", err)
	}
	got := e.slept()
	if len(got) != 3 {
		t.Fatalf("slept %v", got)
	}
	for i, d := range got {
		hi := 2 * time.Second << i
		if d < hi/2 || d > hi {
			t.Errorf("backoff %d = %v, want in [%v, %v]", i, d, hi/2, hi)
		}
	}
	if r.Err == "" {
		t.Error("failed run stored without its error")
	}
	runs, _ := e.st.Runs("src", 1)
	if len(runs) != 1 || !strings.Contains(runs[0].Err, "HTTP 500") {
		t.Errorf("stored run %+v", runs)
	}
}

func TestOAICompressedAndTruncated(t *testing.T) {
	for _, enc := range []string{"gzip", "deflate"} {
		t.Run(enc, func(t *testing.T) {
			its := items(t, 30)
			srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10, Compress: enc}, its)
			defer srv.Close()
			e := oaiEnv(t, srv, "max_retries: 3")
			srv.Truncate(2)
			r := e.mustRun()
			if r.Added != 30 {
				t.Errorf("run %+v", r)
			}
			if got := metricValue(e.m.httpErrors.WithLabelValues("src", "truncated")); got != 2 {
				t.Errorf("truncated responses counted %v, want 2", got)
			}
		})
	}
	// An uncompressed body cut before its Content-Length.
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 10}, items(t, 30))
	defer srv.Close()
	e := oaiEnv(t, srv, "max_retries: 3")
	srv.Truncate(1)
	if r := e.mustRun(); r.Added != 30 {
		t.Errorf("run %+v", r)
	}
}

func TestOAITimeout(t *testing.T) {
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{Delay: 300 * time.Millisecond}, items(t, 5))
	defer srv.Close()
	e := oaiEnv(t, srv, "max_retries: 1")
	e.src.Timeout = 50 * time.Millisecond
	_, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "within the timeout") {
		t.Fatalf("slow server: %v", err)
	}
	if got := metricValue(e.m.httpErrors.WithLabelValues("src", "timeout")); got != 2 {
		t.Errorf("timeouts counted %v", got)
	}
	srv.Configure(func(o *harvesttest.OAIOptions) { o.Delay = 0 })
	e.mustRun()
}

// Records with control characters, broken UTF-8 and bare ampersands are
// repaired and named; a record broken beyond repair is rejected and the
// rest of its page kept.
func TestOAIRepairsAndRejects(t *testing.T) {
	its := items(t, 12)
	its[2].Record = &marc.Record{Leader: "00000nam a2200000 a 4500", Fields: []marc.Field{
		{Tag: "001", Value: "vn-1"},
		{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{{Code: 'a', Value: "Truyện Kiều CTRL"}}},
		{Tag: "100", Ind1: '1', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "Nguyễn Du AMP"}}},
		{Tag: "260", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'b', Value: "NXB LEGACY"}}},
	}}
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 6, Corrupt: func(id string, x []byte) []byte {
		switch id {
		case its[2].ID:
			x = bytes.Replace(x, []byte("CTRL"), []byte("\x01&#x1B;\x7f"), 1)
			x = bytes.Replace(x, []byte("AMP"), []byte("& Co &nbsp;&bogus;"), 1)
			// "Văn học" in Windows-1258, inside a UTF-8 document.
			x = bytes.Replace(x, []byte("LEGACY"), []byte("V\xe3n ho\xf2c"), 1)
		case its[4].ID:
			x = bytes.Replace(x, []byte("</datafield>"), []byte("</datafeld>"), 1)
		}
		return x
	}}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "")
	r := e.mustRun()
	if r.Added != 11 || r.Rejected != 1 || r.Pages != 2 {
		t.Errorf("run %+v", r)
	}
	for _, want := range []string{
		its[2].ID + ": repaired: 2 characters not allowed in XML dropped, 2 bytes of broken UTF-8 read as Windows-1258, 2 bare '&' escaped, 1 HTML entities replaced",
		"rejected " + its[4].ID + " (xml): page 1, record 5 at byte ",
		": metadata not well-formed XML: end tag </datafeld> does not match <datafield>",
	} {
		if !strings.Contains(r.Notes, want) {
			t.Errorf("notes lack %q:\n%s", want, r.Notes)
		}
	}
	sr := e.records()[its[2].ID]
	rec, err := sr.Record()
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.First("245").Sub('a'); got != "Truyện Kiều \x7f" && got != "Truyện Kiều " {
		t.Errorf("245 $a = %q", got)
	}
	if got := rec.First("100").Sub('a'); got != "Nguyễn Du & Co \u00a0&bogus;" {
		t.Errorf("100 $a = %q", got)
	}
	if got := rec.First("260").Sub('b'); got != "NXB Văn học" {
		t.Errorf("260 $b = %q", got)
	}
	if got := metricValue(e.m.rejects.WithLabelValues("src", "xml")); got != 1 {
		t.Errorf("xml rejects counted %v", got)
	}

	// A broken header breaks the page's XML: the page is read record by
	// record, and only that record is lost.
	srv.Configure(func(o *harvesttest.OAIOptions) {
		o.Corrupt = nil
		o.CorruptPage = func(b []byte) []byte {
			return bytes.Replace(b, []byte(its[8].ID+"</identifier>"), []byte(its[8].ID+"</identifer>"), 1)
		}
	})
	e2 := oaiEnv(t, srv, "")
	r = e2.mustRun()
	if r.Added != 11 || r.Rejected != 1 || !strings.Contains(r.Notes, "rejected "+its[8].ID+" (xml): page 2, record 3 at byte ") ||
		!strings.Contains(r.Notes, "not well-formed XML") {
		t.Errorf("broken header: %+v", r)
	}
}

func TestOAIListIdentifiersDeletions(t *testing.T) {
	clk := &clock{t: t0.Add(24 * time.Hour)}
	its := items(t, 40)
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{PageSize: 15, Clock: clk.Now, DeletedRecord: "no"}, its)
	defer srv.Close()
	e := oaiEnv(t, srv, "deletions: list-identifiers")
	if r := e.mustRun(); r.Added != 40 || r.Deleted != 0 {
		t.Errorf("first run %+v", r)
	}
	for _, i := range []int{1, 17, 39} {
		srv.Remove(its[i].ID)
	}
	clk.Set(clk.Now().Add(time.Hour))
	r := e.mustRun()
	if r.Deleted != 3 || r.Added != 0 {
		t.Errorf("second run %+v", r)
	}
	if got := len(e.live()); got != 37 {
		t.Errorf("%d live, want 37", got)
	}
	if n := len(listRequests(srv, "ListIdentifiers")); n != 6 {
		t.Errorf("%d ListIdentifiers requests, want 3 per run", n)
	}
	// A repository that suddenly lists nothing does not empty the store.
	for _, it := range srv.Items() {
		srv.Remove(it.ID)
	}
	r, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "refusing to delete") || r.Deleted != 0 {
		t.Fatalf("empty listing: %v %+v", err, r)
	}
	if got := len(e.live()); got != 37 {
		t.Errorf("%d live after an empty listing, want 37", got)
	}
}

func TestOAIErrorsAndChangedPrefix(t *testing.T) {
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{}, items(t, 5))
	defer srv.Close()
	e := oaiEnv(t, srv, "metadata_prefix: oai_dc")
	_, err := e.run()
	if err == nil || !strings.Contains(err.Error(), "cannotDisseminateFormat") {
		t.Fatalf("unserved prefix: %v", err)
	}
	e.src.MetadataPrefix = "marc21"
	e.mustRun()
	e.src.MetadataPrefix = "marcxml"
	r := e.mustRun()
	if !strings.Contains(r.Notes, "metadata prefix or set changed") || r.Unchanged != 5 {
		t.Errorf("changed prefix: %+v", r)
	}
	if lr := listRequests(srv, "ListRecords"); lr[len(lr)-1]["from"] != "" {
		t.Errorf("changed prefix should harvest everything: %v", lr[len(lr)-1])
	}

	// Not OAI-PMH at all (an HTML error page with status 200) is retried,
	// then fails.
	srv2 := harvesttest.NewOAIServer(harvesttest.OAIOptions{}, nil)
	srv2.Close()
	e2 := newEnv(t, "kind: oai\nurl: "+srv2.URL+"\nmax_retries: 1")
	if _, err := e2.run(); err == nil || !strings.Contains(err.Error(), "Identify") {
		t.Errorf("server down: %v", err)
	}
}

func TestOAIMissingResponseDate(t *testing.T) {
	srv := harvesttest.NewOAIServer(harvesttest.OAIOptions{NoResponseDate: true}, items(t, 5))
	defer srv.Close()
	e := oaiEnv(t, srv, "")
	r := e.mustRun()
	if !strings.Contains(r.Notes, "responseDate") {
		t.Errorf("notes %q", r.Notes)
	}
	// A day before our clock, so nothing is missed.
	cp := decodeOAICheckpoint(t, e)
	from, err := time.Parse(time.RFC3339, cp.From)
	if err != nil || time.Since(from) < 23*time.Hour || time.Since(from) > 25*time.Hour {
		t.Errorf("from %q", cp.From)
	}
}

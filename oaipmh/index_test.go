package oaipmh

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/store"
)

// statusOf maps identifiers to "live" or "deleted" as a list shows them.
func statusOf(hs []header) map[string]string {
	out := map[string]string{}
	for _, h := range hs {
		if h.Status == "deleted" {
			out[h.Identifier] = "deleted"
		} else {
			out[h.Identifier] = "live"
		}
	}
	return out
}

func (f *fixture) listStatus(args string) map[string]string {
	f.t.Helper()
	hs, _, _ := f.harvest("ListIdentifiers", "metadataPrefix=oai_dc&"+args)
	return statusOf(hs)
}

func sameMap(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A record that stops being in a set is a deleted record in that set's
// incremental harvests, and stays one in its full harvests.
func TestLeavingASetIsADeletion(t *testing.T) {
	f := newFixture(t, 2)
	a := book{id: "a1", isbn: "9786049999991", title: "Truyện Kiều", author: "Nguyễn Du", year: 2015, call: "895.9221 NG-D"}
	f.put("tinh", a)
	f.put("vinh", a)
	u := f.unionOf("tinh", "a1")
	if got := strings.Join(u.Libraries, ","); got != "NA-TINH,NA-VINH" {
		t.Fatalf("the two copies were not merged: libraries %s", got)
	}
	ident := f.srv.Identifier(u.ID)

	f.clock.add(time.Hour)
	t1 := f.clock.Now().Format(timeFormat)
	f.del("vinh", "a1")
	f.clock.add(time.Second)

	for _, tc := range []struct {
		args string
		want string
	}{
		{"set=library:NA-VINH&from=" + t1, "deleted"},
		{"set=level:district&from=" + t1, "deleted"},
		{"set=library:NA-VINH", "deleted"},
		{"set=library:NA-TINH&from=" + t1, "live"},
		{"set=level:province&from=" + t1, "live"},
		{"from=" + t1, "live"},
	} {
		if got := f.listStatus(tc.args); !sameMap(got, map[string]string{ident: tc.want}) {
			t.Errorf("%s: %v, want %s %s", tc.args, got, ident, tc.want)
		}
	}
	r, _ := f.get("verb=GetRecord&metadataPrefix=oai_dc&identifier=" + url.QueryEscape(ident))
	if h := r.GetRecord.Record.Header; h.Status != "" || !slices.Equal(h.Sets, []string{"level:province", "library:NA-TINH"}) || h.Datestamp != t1 {
		t.Errorf("GetRecord header %+v", h)
	}

	// Back in the set: live again in its incremental harvest.
	f.clock.add(time.Hour)
	t2 := f.clock.Now().Format(timeFormat)
	f.put("vinh", a)
	f.clock.add(time.Second)
	if got := f.listStatus("set=library:NA-VINH&from=" + t2); !sameMap(got, map[string]string{ident: "live"}) {
		t.Errorf("back in the set: %v", got)
	}
	if got := f.listStatus("set=library:NA-VINH"); !sameMap(got, map[string]string{ident: "live"}) {
		t.Errorf("back in the set, full harvest: %v", got)
	}
}

// Merged-away and emptied union records stay as deleted records.
func TestMergedAndEmptiedRecordsPersist(t *testing.T) {
	f := newFixture(t, 2)
	f.put("tinh", book{id: "b1", isbn: "9786041234566", title: "Lịch sử Nghệ An", author: "Trần Văn Giàu", year: 2010})
	f.put("vinh", book{id: "b2", title: "Địa chí huyện Diễn Châu", author: "Lê Thị Hoa", year: 2003})
	f.put("xa", nthBook(1))
	u1, u2 := f.unionOf("tinh", "b1"), f.unionOf("vinh", "b2")
	if u1.ID == u2.ID {
		t.Fatal("different books merged")
	}
	gone := f.unionOf("xa", nthBook(1).id)
	f.clock.add(time.Hour)
	t1 := f.clock.Now().Format(timeFormat)
	// b2 is corrected to be the same book as b1: the clusters merge.
	f.put("vinh", book{id: "b2", isbn: "9786041234566", title: "Lịch sử Nghệ An", author: "Trần Văn Giàu", year: 2010})
	f.del("xa", nthBook(1).id)
	f.clock.add(time.Second)

	us := f.unions()
	var survivor, merged string
	for _, id := range []string{u1.ID, u2.ID} {
		if us[id].Deleted {
			merged = id
		} else {
			survivor = id
		}
	}
	if survivor == "" || merged == "" {
		t.Fatalf("no merge: %v / %v", us[u1.ID], us[u2.ID])
	}
	want := map[string]string{
		f.srv.Identifier(survivor): "live",
		f.srv.Identifier(merged):   "deleted",
		f.srv.Identifier(gone.ID):  "deleted",
	}
	if got := f.listStatus("from=" + t1); !sameMap(got, want) {
		t.Errorf("incremental: %v, want %v", got, want)
	}
	if got := f.listStatus(""); !sameMap(got, want) {
		t.Errorf("full: %v, want %v", got, want)
	}
	for _, id := range []string{merged, gone.ID} {
		r, _ := f.get("verb=GetRecord&metadataPrefix=marc21&identifier=" + url.QueryEscape(f.srv.Identifier(id)))
		if rec := r.GetRecord.Record; rec.Header.Status != "deleted" || rec.Metadata != nil {
			t.Errorf("GetRecord %s: %+v", id, rec.Header)
		}
	}
	_, recs, _ := f.harvest("ListRecords", "metadataPrefix=oai_dc")
	for _, rec := range recs {
		if (rec.Header.Status == "deleted") != (rec.Metadata == nil) {
			t.Errorf("%s: status %q with metadata %v", rec.Header.Identifier, rec.Header.Status, rec.Metadata != nil)
		}
	}
}

// Records written during a harvest are neither skipped nor served twice in
// the list, and the next incremental harvest from the list's first
// responseDate brings exactly those changes.
func TestListIsASnapshot(t *testing.T) {
	f := newFixture(t, 2)
	var books []book
	for i := 1; i <= 8; i++ {
		books = append(books, nthBook(i))
	}
	f.put("tinh", books...)
	id := map[int]string{}
	for i := 1; i <= 8; i++ {
		id[i] = f.srv.Identifier(f.unionOf("tinh", nthBook(i).id).ID)
	}
	f.clock.add(10 * time.Second)

	first, _ := f.get("verb=ListRecords&metadataPrefix=oai_dc")
	started := first.ResponseDate
	served := map[string]int{}
	for _, r := range first.ListRecords.Records {
		served[r.Header.Identifier]++
	}
	if served[id[1]] != 1 || served[id[2]] != 1 {
		t.Fatalf("first page: %v", served)
	}

	// Mid-harvest: change a record served already and one not yet, delete
	// one not yet served, add one.
	f.clock.add(10 * time.Second)
	b1, b6 := nthBook(1), nthBook(6)
	b1.title += " (tái bản)"
	b6.title += " (tái bản)"
	f.put("tinh", b1, b6, nthBook(9))
	f.del("tinh", nthBook(7).id)
	f.clock.add(10 * time.Second)

	tok := first.ListRecords.Token
	var total string = tok.Size
	for tok != nil && tok.Value != "" {
		r, body := f.get("verb=ListRecords&resumptionToken=" + url.QueryEscape(tok.Value))
		if r.ListRecords == nil {
			t.Fatalf("continuation: %s", clip(body))
		}
		for _, rec := range r.ListRecords.Records {
			served[rec.Header.Identifier]++
			if rec.Header.Identifier == id[6] && !strings.Contains(string(rec.Metadata.Inner), "(tái bản)") {
				t.Errorf("record 6 served in its old version")
			}
			if rec.Header.Identifier == id[7] && rec.Header.Status != "deleted" {
				t.Errorf("record 7, deleted before it was reached, served live")
			}
		}
		tok = r.ListRecords.Token
	}
	for i := 1; i <= 8; i++ {
		if served[id[i]] != 1 {
			t.Errorf("record %d served %d times", i, served[id[i]])
		}
	}
	if len(served) != 8 || total != "8" {
		t.Errorf("list of %d records (completeListSize %s), want the 8 present at its start", len(served), total)
	}

	got := f.listStatus("from=" + started)
	want := map[string]string{id[1]: "live", id[6]: "live", id[7]: "deleted",
		f.srv.Identifier(f.unionOf("tinh", nthBook(9).id).ID): "live"}
	if !sameMap(got, want) {
		t.Errorf("incremental from %s: %v, want %v", started, got, want)
	}
}

// A resumption token survives a restart; a rebuilt index refuses the
// tokens issued before.
func TestTokenAcrossRestart(t *testing.T) {
	f := catalogFixture(t, 2)
	all, _, _ := f.harvest("ListIdentifiers", "metadataPrefix=marc21")

	first, _ := f.get("verb=ListIdentifiers&metadataPrefix=marc21")
	f.reopen()
	hs := first.ListIdentifiers.Headers
	tok := first.ListIdentifiers.Token.Value
	for tok != "" {
		r, body := f.get("verb=ListIdentifiers&resumptionToken=" + url.QueryEscape(tok))
		if r.ListIdentifiers == nil {
			t.Fatalf("after restart: %s", clip(body))
		}
		hs = append(hs, r.ListIdentifiers.Headers...)
		tok = r.ListIdentifiers.Token.Value
	}
	if !slices.Equal(identifiers(hs), identifiers(all)) {
		t.Errorf("across a restart: %v, want %v", identifiers(hs), identifiers(all))
	}

	// Lose an item of the index: the check the catalog runs after it
	// opens rebuilds it under a new epoch.
	first, _ = f.get("verb=ListIdentifiers&metadataPrefix=marc21")
	err := f.st.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("oaipmh.items")).Delete([]byte(strings.TrimPrefix(all[0].Identifier, "oai:"+testDomain+":")))
	})
	if err != nil {
		t.Fatal(err)
	}
	f.reopen()
	if err := f.cat.Checked(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, _ := f.get("verb=ListIdentifiers&resumptionToken=" + url.QueryEscape(first.ListIdentifiers.Token.Value))
	if r.errorCode() != "badResumptionToken" {
		t.Errorf("token of a rebuilt index: %q", r.errorCode())
	}
	again, _, _ := f.harvest("ListIdentifiers", "metadataPrefix=marc21")
	if !slices.Equal(identifiers(again), identifiers(all)) {
		t.Errorf("after rebuild: %v, want %v", identifiers(again), identifiers(all))
	}
}

func identifiers(hs []header) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Identifier+" "+h.Datestamp+" "+h.Status)
	}
	return out
}

// Sync catches up with union records written while the index was not
// listening (a store from before the data provider existed).
func TestSyncCatchesUp(t *testing.T) {
	f := newFixture(t, 3)
	f.put("tinh", nthBook(1))
	if err := f.cat.Close(); err != nil {
		t.Fatal(err)
	}
	// An older unicat: deduplication without the index.
	st, err := store.Open(f.path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddHook(dedup.New(dedup.Options{})); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Hour)
	for i := 2; i <= 5; i++ {
		b := store.Batch{Source: "vinh", Now: f.clock.Now(), Records: []store.Incoming{{LocalID: nthBook(i).id, Record: nthBook(i).record()}}}
		if _, err := st.Apply(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Hour)
	f.open()
	f.clock.add(time.Second)
	hs, _, _ := f.harvest("ListIdentifiers", "metadataPrefix=oai_dc")
	if len(hs) != 5 {
		t.Errorf("after catching up: %d records, want 5", len(hs))
	}
	us := f.unions()
	for _, h := range hs {
		id := strings.TrimPrefix(h.Identifier, "oai:"+testDomain+":")
		if us[id] == nil || us[id].Deleted {
			t.Errorf("%s is not a live union record", h.Identifier)
		}
	}
}

// Old positions are collected once no unexpired list can need them, and
// tokens of lists that old are refused.
func TestHistoryExpires(t *testing.T) {
	f := catalogFixture(t, 2)
	first, _ := f.get("verb=ListIdentifiers&metadataPrefix=oai_dc")
	b := nthBook(1)
	b.title += " (sửa)"
	f.put("tinh", b)
	if n := countKeys(t, f, []byte("oaipmh.moved")); n == 0 {
		t.Fatal("a change left no old position")
	}
	f.clock.add(oaiindex.ListLifetime + time.Hour)
	f.put("tinh", nthBook(20))
	if n := countKeys(t, f, []byte("oaipmh.moved")); n != 0 {
		t.Errorf("%d old positions left after %v", n, oaiindex.ListLifetime)
	}
	r, _ := f.get("verb=ListIdentifiers&resumptionToken=" + url.QueryEscape(first.ListIdentifiers.Token.Value))
	if r.errorCode() != "badResumptionToken" {
		t.Errorf("expired token: %q", r.errorCode())
	}
	if exp, _ := time.Parse(timeFormat, first.ListIdentifiers.Token.ExpirationDate); exp.Sub(refDate.Add(52*time.Hour)) < 24*time.Hour {
		t.Errorf("expirationDate %s is less than 24 h away", first.ListIdentifiers.Token.ExpirationDate)
	}
}

func countKeys(t *testing.T, f *fixture, bucket []byte) int {
	n := 0
	err := f.st.View(func(tx *store.Tx) error {
		if b := tx.Bolt().Bucket(bucket); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The counters' shortcut for completeListSize agrees with counting, and
// every list agrees with a model of the catalog's history.
func TestListsAgreeWithHistory(t *testing.T) {
	f := newFixture(t, 4)
	rng := rand.New(rand.NewPCG(6, 2024))
	sources := []string{"tinh", "vinh", "xa"}
	// held[source][n]: the source currently holds book n.
	held := map[string]map[int]bool{}
	for _, s := range sources {
		held[s] = map[int]bool{}
	}
	type snap struct {
		at   time.Time
		want map[string]string // union id → live/deleted per all list
	}
	var snaps []snap
	for step := 0; step < 12; step++ {
		for k := 0; k < 6; k++ {
			s := sources[rng.IntN(len(sources))]
			n := 1 + rng.IntN(15)
			if held[s][n] && rng.IntN(2) == 0 {
				f.del(s, nthBook(n).id)
				held[s][n] = false
			} else {
				f.put(s, nthBook(n))
				held[s][n] = true
			}
		}
		f.clock.add(time.Duration(1+rng.IntN(3)) * time.Second)
		want := map[string]string{}
		for id, u := range f.unions() {
			if u.Deleted {
				want[f.srv.Identifier(id)] = "deleted"
			} else {
				want[f.srv.Identifier(id)] = "live"
			}
		}
		snaps = append(snaps, snap{f.clock.Now(), want})
	}
	// Every list and count over every set and window agrees with a scan.
	err := f.st.View(func(tx *store.Tx) error {
		rd := oaiindex.NewReader(tx.Bolt())
		specs := []string{oaiindex.AllRecords}
		rd.Specs(func(s string) { specs = append(specs, s) })
		end := f.clock.Now().Unix()
		for _, spec := range specs {
			for from := refDate.Unix() - 1; from <= end; from += 3 {
				for cutoff := from - 1; cutoff <= end; cutoff += 2 {
					l := &oaiindex.List{Spec: spec, From: from, Cutoff: cutoff}
					n, err := rd.Count(l)
					if err != nil {
						return err
					}
					var m uint64
					seen := map[string]bool{}
					rd.Scan(l, 0, "", func(e oaiindex.Entry) bool {
						m++
						if seen[e.ID] {
							t.Errorf("%q [%d,%d]: %s twice", spec, from, cutoff, e.ID)
						}
						seen[e.ID] = true
						return true
					})
					if n != m {
						t.Errorf("%q [%d,%d]: count %d, scan %d", spec, from, cutoff, n, m)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each snapshot list holds exactly the union records that existed at
	// its cutoff, live or deleted as they are now.
	now := f.clock.Now()
	for _, s := range snaps {
		err := f.st.View(func(tx *store.Tx) error {
			rd := oaiindex.NewReader(tx.Bolt())
			l := &oaiindex.List{Spec: oaiindex.AllRecords, Cutoff: s.at.Unix() - 1}
			got := map[string]bool{}
			rd.Scan(l, 0, "", func(e oaiindex.Entry) bool { got[f.srv.Identifier(e.ID)] = true; return true })
			for id := range s.want {
				if !got[id] {
					t.Errorf("list at %s lacks %s", s.at.Format(timeFormat), id)
				}
			}
			if len(got) != len(s.want) {
				t.Errorf("list at %s has %d records, want %d", s.at.Format(timeFormat), len(got), len(s.want))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// And the live list matches the union records now.
	want := snaps[len(snaps)-1].want
	f.clock.set(now)
	if got := f.listStatus(""); !sameMap(got, want) {
		t.Errorf("full harvest %v, want %v", got, want)
	}
	// Per set: live records are exactly those a library holds now.
	for _, code := range []string{"NA-TINH", "NA-VINH", "NA/NGHI LOC"} {
		live := map[string]string{}
		for id, u := range f.unions() {
			if !u.Deleted && slices.Contains(u.Libraries, code) {
				live[f.srv.Identifier(id)] = "live"
			}
		}
		got := f.listStatus("set=" + url.QueryEscape(oaiindex.LibrarySet(code)))
		for id, st := range got {
			if st == "live" && live[id] == "" {
				t.Errorf("set %s: %s live but not held", code, id)
			}
		}
		for id := range live {
			if got[id] != "live" {
				t.Errorf("set %s: held %s is %q", code, id, got[id])
			}
		}
	}
}

func TestSetSpecEscaping(t *testing.T) {
	for code, want := range map[string]string{
		"NA-TINH":     "library:NA-TINH",
		"NA/NGHI LOC": "library:NA~2FNGHI~20LOC",
		"a~b":         "library:a~7Eb",
		"Đ":           "library:~C4~90",
		"":            "library:~",
	} {
		got := oaiindex.LibrarySet(code)
		if got != want || !oaiindex.ValidSpec(got) {
			t.Errorf("oaiindex.LibrarySet(%q) = %q (valid %v), want %q", code, got, oaiindex.ValidSpec(got), want)
		}
	}
	if oaiindex.LibrarySet("a~20b") == oaiindex.LibrarySet("a b") {
		t.Error("escaping is ambiguous")
	}
}

// A harvester that runs one full harvest and then incremental harvests
// from each harvest's first responseDate, while records are added,
// changed, merged and deleted concurrently, ends with exactly the union
// records served, in their present versions.
func TestConcurrentHarvestsConverge(t *testing.T) {
	f := newFixture(t, 3)
	for i := 1; i <= 10; i++ {
		f.put("tinh", nthBook(i))
	}
	f.clock.add(time.Second)

	done := make(chan struct{})
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(9, 9))
		for step := 0; step < 60; step++ {
			n := 1 + rng.IntN(25)
			bt := store.Batch{Source: []string{"tinh", "vinh", "xa"}[rng.IntN(3)], Now: f.clock.Now()}
			b := nthBook(n)
			switch rng.IntN(3) {
			case 0:
				bt.Deletions = []store.Deletion{{LocalID: b.id}}
			case 1:
				b.title += " (in lần " + string(rune('A'+step%26)) + ")"
				fallthrough
			default:
				bt.Records = []store.Incoming{{LocalID: b.id, Record: b.record()}}
			}
			if _, err := f.st.Apply(bt); err != nil {
				t.Error(err) // not Fatal: this is not the test's goroutine
				return
			}
			if step%2 == 0 {
				f.clock.add(time.Second)
			}
		}
	}()

	// The harvester's copy: identifier → title or "" when deleted.
	copyOf := map[string]string{}
	apply := func(recs []record) {
		for _, r := range recs {
			if r.Header.Status == "deleted" {
				copyOf[r.Header.Identifier] = ""
				continue
			}
			copyOf[r.Header.Identifier] = titleOf(t, r.Metadata.Inner)
		}
	}
	harvestFrom := func(from string) string {
		q := "metadataPrefix=marc21"
		if from != "" {
			q += "&from=" + from
		}
		first, _ := f.get("verb=ListRecords&" + q)
		if first.errorCode() == "noRecordsMatch" {
			return first.ResponseDate
		}
		_, recs, _ := f.harvest("ListRecords", q)
		apply(recs)
		return first.ResponseDate
	}
	since := harvestFrom("")
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		since = harvestFrom(since)
	}
	f.clock.add(time.Second)
	harvestFrom(since)

	want := map[string]string{}
	for id, u := range f.unions() {
		title := ""
		if !u.Deleted {
			title = u.Record.Title()
		}
		want[f.srv.Identifier(id)] = title
	}
	if !sameMap(copyOf, want) {
		for id, w := range want {
			if copyOf[id] != w {
				t.Errorf("%s: harvested %q, served %q", id, copyOf[id], w)
			}
		}
		for id := range copyOf {
			if _, ok := want[id]; !ok {
				t.Errorf("%s harvested but not served", id)
			}
		}
	}
}

// titleOf decodes the MARCXML of a harvested record and returns its
// title as marc.Record.Title gives it.
func titleOf(t *testing.T, inner []byte) string {
	r, err := marc.NewXMLReader(bytes.NewReader(inner), marc.ReaderOptions{}).Next()
	if err != nil {
		t.Fatalf("harvested MARCXML: %v", err)
	}
	return r.Title()
}

// A list is cut only once the write in flight has committed, and a batch
// stamped before it got the write lock is positioned at the present, so
// the next incremental harvest from the list's responseDate sees it.
func TestListWaitsForTheWriteInFlight(t *testing.T) {
	f := catalogFixture(t, 3)
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	defer unblock() // before the fixture's Close, which waits for the write
	go f.st.Update(func(*bbolt.Tx) error {
		close(started)
		<-release
		return nil
	})
	<-started
	answered := make(chan *oaiResponse)
	go func() {
		_, body := f.do("GET", "verb=ListIdentifiers&metadataPrefix=oai_dc")
		var r oaiResponse
		if err := xmlUnmarshal(body, &r); err != nil {
			t.Error(err)
		}
		answered <- &r
	}()
	select {
	case <-answered:
		t.Fatal("the list was cut while a write was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	unblock()
	r := <-answered
	if r.ListIdentifiers == nil {
		t.Fatalf("no list: %+v", r.Errors)
	}

	// A batch the Deduper stamps an hour ago (its preparation time) lands
	// at the present second.
	since := r.ResponseDate
	b := store.Batch{Source: "xa", Now: f.clock.Now().Add(-time.Hour),
		Records: []store.Incoming{{LocalID: nthBook(30).id, Record: nthBook(30).record()}}}
	if _, err := f.st.Apply(b); err != nil {
		t.Fatal(err)
	}
	f.clock.add(time.Second)
	got := f.listStatus("from=" + since)
	id := f.srv.Identifier(f.unionOf("xa", nthBook(30).id).ID)
	if !sameMap(got, map[string]string{id: "live"}) {
		t.Errorf("from=%s: %v, want %s", since, got, id)
	}
}

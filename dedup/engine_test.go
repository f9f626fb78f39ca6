package dedup

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

var kieu = book{id: "1", isbn: "978-604-2-12345-7", title: "Truyện Kiều", author: "Nguyễn, Du", year: 2015, pages: 300, publisher: "Văn học", call: "895.922 NG-D"}

func TestMergeAcrossSourcesWithHoldings(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	v := kieu
	v.id, v.isbn, v.title, v.author, v.call = "V9", "9786042123457 (bìa mềm)", "Truyện Kiều /", "Nguyễn Du", "VV 123"
	ts.put("vinh", v)
	u1, u2 := ts.unionOf("tinh", "1"), ts.unionOf("vinh", "V9")
	if u1 == nil || u2 == nil || u1.ID != u2.ID {
		t.Fatalf("not merged: %+v / %+v", u1, u2)
	}
	if got := u1.Libraries; !slices.Equal(got, []string{"NA-TINH", "NA-VINH"}) {
		t.Errorf("libraries %q", got)
	}
	if got := u1.Levels; !slices.Equal(got, []string{"district", "province"}) {
		t.Errorf("levels %q", got)
	}
	r := u1.Record
	if r.ControlNumber() != u1.ID {
		t.Errorf("001 = %q, want %q", r.ControlNumber(), u1.ID)
	}
	if got := subfieldsOf(r, "852", 'a'); !slices.Equal(got, []string{"NA-TINH", "NA-VINH"}) {
		t.Errorf("852 $a %q (province first)", got)
	}
	if got := subfieldsOf(r, "852", 'h'); !slices.Equal(got, []string{"895.922 NG-D", "VV 123"}) {
		t.Errorf("852 $h %q", got)
	}
	if got := subfieldsOf(r, "035", 'a'); !slices.Equal(got, []string{"(NA-TINH)1", "(NA-VINH)V9"}) {
		t.Errorf("035 $a %q", got)
	}
	// The batch that added the second record merged it at once, so no
	// second id was ever served.
	if live, del := ts.counts(); live != 1 || del != 0 {
		t.Errorf("counts live %d deleted %d, want 1 0", live, del)
	}
}

func TestSameSourceNeedsIdentifier(t *testing.T) {
	ts := newTestStore(t, Options{})
	a := kieu
	a.isbn = ""
	b := a
	b.id = "2"
	ts.put("tinh", a, b)
	if ts.unionOf("tinh", "1").ID == ts.unionOf("tinh", "2").ID {
		t.Fatal("two records of one source merged on title and author alone")
	}
	// With a shared ISBN they are one (a duplicate in the library's own
	// catalogue).
	a.isbn, b.isbn = kieu.isbn, kieu.isbn
	ts.put("tinh", a, b)
	if ts.unionOf("tinh", "1").ID != ts.unionOf("tinh", "2").ID {
		t.Fatal("same-source records with one ISBN and title not merged")
	}
}

func TestUpdateJoinsOldestSurvives(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	other := book{id: "X", title: "Truyện Kiều khảo dị", author: "Đào, Duy Anh", year: 2015, pages: 310}
	ts.put("vinh", other)
	old1, old2 := ts.unionOf("tinh", "1").ID, ts.unionOf("vinh", "X").ID
	if old1 == old2 {
		t.Fatal("different books merged")
	}
	if old1 > old2 {
		t.Fatalf("ids not allocated in order: %s, %s", old1, old2)
	}
	before := ts.get(old2).Datestamp
	// The district library corrects its record: it is the same book.
	fixed := kieu
	fixed.id = "X"
	ts.put("vinh", fixed)
	u := ts.unionOf("vinh", "X")
	if u.ID != old1 {
		t.Fatalf("joined cluster has id %s, want the oldest %s", u.ID, old1)
	}
	alias := ts.get(old2)
	if alias == nil || !alias.Deleted || alias.AliasOf != old1 || alias.Record != nil {
		t.Fatalf("merged-away id: %+v", alias)
	}
	if !alias.Datestamp.After(before) {
		t.Errorf("alias datestamp %v not after %v", alias.Datestamp, before)
	}
	if live, del := ts.counts(); live != 1 || del != 1 {
		t.Errorf("counts live %d deleted %d, want 1 1", live, del)
	}
	// Listeners heard of the alias.
	found := false
	for _, c := range ts.seen {
		if c.ID == old2 && c.Deleted && c.AliasOf == old1 {
			found = true
		}
	}
	if !found {
		t.Error("listener not told of the alias")
	}
}

func TestDeletionSplitsMasterPartKeepsID(t *testing.T) {
	ts := newTestStore(t, Options{})
	// A: ISBN, no author. B: ISBN and author (the bridge). C: no ISBN,
	// author. A~B on the ISBN, B~C on title+author; A and C alone say
	// too little to match (no author on one side, no publisher or pages).
	a := book{id: "A", isbn: kieu.isbn, title: "Truyện Kiều", year: 2015}
	b := book{id: "B", isbn: kieu.isbn, title: "Truyện Kiều", author: "Nguyễn Du", year: 2015, pages: 300, publisher: "Văn học"}
	c := book{id: "C", title: "Truyện Kiều", author: "Nguyễn, Du", year: 2015, publisher: "Hội nhà văn"}
	ts.put("tinh", b) // the province's record: most complete, the master
	ts.put("vinh", a)
	ts.put("xa", c)
	id := ts.unionOf("tinh", "B").ID
	if ts.unionOf("vinh", "A").ID != id || ts.unionOf("xa", "C").ID != id {
		t.Fatal("A, B, C not one cluster")
	}
	var ex *Explanation
	ts.st.View(func(tx *store.Tx) error {
		var err error
		ex, err = Explain(tx.Bolt(), id)
		return err
	})
	if len(ex.Edges) != 2 || ex.Members[0].Source != "tinh" || !ex.Members[0].Master {
		t.Fatalf("explanation: %+v", ex)
	}
	// Deleting the bridge (and master) splits the cluster; with the
	// master gone, one of the parts (the one with most old members, ties
	// to the first) keeps the id and the other gets a new one.
	ts.del("tinh", "B")
	ua, uc := ts.unionOf("vinh", "A"), ts.unionOf("xa", "C")
	if ua == nil || uc == nil || ua.ID == uc.ID {
		t.Fatalf("deleting the bridge did not split: %+v %+v", ua, uc)
	}
	if ua.ID != id && uc.ID != id {
		t.Errorf("neither part kept %s: %s, %s", id, ua.ID, uc.ID)
	}
}

func TestSplitPartHoldingMasterKeepsID(t *testing.T) {
	ts := newTestStore(t, Options{})
	// M~B on the ISBN; B~F and F~G on title, year and publisher (no
	// author on either side). M and F/G have too little in common to
	// match directly, so B holds the cluster together.
	m := book{id: "M", isbn: kieu.isbn, title: "Truyện Kiều", author: "Nguyễn Du", year: 2015, pages: 300, publisher: "Văn học"}
	b := book{id: "B", isbn: kieu.isbn, title: "Truyện Kiều", year: 2015, publisher: "Hội Nhà văn"}
	f := book{id: "F", title: "Truyện Kiều", year: 2015, publisher: "Hội nhà văn"}
	g := book{id: "G", title: "Truyện Kiều.", year: 2015, publisher: "Nxb. Hội nhà văn"}
	ts.put("tinh", m)
	ts.put("vinh", b)
	ts.put("xa", f)
	ts.put("xa2", g)
	id := ts.unionOf("tinh", "M").ID
	for _, k := range [][2]string{{"vinh", "B"}, {"xa", "F"}, {"xa2", "G"}} {
		if ts.unionOf(k[0], k[1]).ID != id {
			t.Fatalf("%s:%s not in M's cluster", k[0], k[1])
		}
	}
	// The bridge's library re-catalogues it as another book: the cluster
	// splits into {M} and {F, G}. The smaller part holds the master and
	// keeps the id.
	b.title, b.isbn, b.year = "Truyện Kiều: bản Liễu Văn Đường", "978-604-2-99999-1", 1871
	ts.put("vinh", b)
	if u := ts.unionOf("tinh", "M"); u.ID != id || len(u.Libraries) != 1 {
		t.Errorf("the part holding the master: %s %q, want %s held by NA-TINH", u.ID, u.Libraries, id)
	}
	uf, ug := ts.unionOf("xa", "F"), ts.unionOf("xa2", "G")
	if uf.ID == id || uf.ID != ug.ID || len(uf.Libraries) != 2 {
		t.Errorf("the other part: F %s G %s libraries %q", uf.ID, ug.ID, uf.Libraries)
	}
	if ub := ts.unionOf("vinh", "B"); ub.ID == id || ub.ID == uf.ID {
		t.Errorf("re-catalogued bridge still clustered: %s", ub.ID)
	}
}

func TestHoldingsChangeDatestamp(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	u1 := ts.unionOf("tinh", "1")
	// Re-import unchanged: nothing changes.
	ts.put("tinh", kieu)
	if u := ts.unionOf("tinh", "1"); !u.Datestamp.Equal(u1.Datestamp) {
		t.Errorf("unchanged record moved the datestamp %v → %v", u1.Datestamp, u.Datestamp)
	}
	moved := kieu
	moved.call = "895.92 KIEU"
	ts.put("tinh", moved)
	u2 := ts.unionOf("tinh", "1")
	if u2.ID != u1.ID || !u2.Datestamp.After(u1.Datestamp) {
		t.Fatalf("holdings change: id %s→%s datestamp %v→%v", u1.ID, u2.ID, u1.Datestamp, u2.Datestamp)
	}
	if got := subfieldsOf(u2.Record, "852", 'h'); !slices.Equal(got, []string{"895.92 KIEU"}) {
		t.Errorf("852 $h %q", got)
	}
	// A new holding library changes it too.
	v := kieu
	v.id = "k"
	ts.put("xa", v)
	u3 := ts.unionOf("tinh", "1")
	if !u3.Datestamp.After(u2.Datestamp) || len(u3.Libraries) != 2 {
		t.Errorf("new library: datestamp %v→%v, libraries %q", u2.Datestamp, u3.Datestamp, u3.Libraries)
	}
}

func TestStableIDsAcrossReopenAndRebuild(t *testing.T) {
	ts := newTestStore(t, Options{})
	books := []book{kieu,
		{id: "2", title: "Số đỏ", author: "Vũ, Trọng Phụng", year: 2010, pages: 250},
		{id: "3", title: "Dế Mèn phiêu lưu ký", author: "Tô Hoài", year: 2012, pages: 150, isbn: "9786042000000"},
	}
	ts.put("tinh", books...)
	v := books[1]
	v.id = "s2"
	ts.put("xa", v)
	before := ts.all()
	ts.reopen(Options{})
	after := ts.all()
	if len(before) != len(after) {
		t.Fatalf("reopen changed the union records: %d → %d", len(before), len(after))
	}
	for id, u := range before {
		if a := after[id]; a == nil || !a.Datestamp.Equal(u.Datestamp) {
			t.Errorf("reopen changed %s", id)
		}
	}
	if _, ran := ts.d.LastRebuild(); ran {
		t.Error("reopen with the same options rebuilt")
	}
	// A forced rebuild keeps ids and changes nothing served.
	ts.st.Close()
	st, err := store.Open(ts.path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	d := New(Options{})
	var progressed bool
	d.RebuildOnInit(func(done, total int) { progressed = done == total && total == 4 })
	if err := st.AddHook(d); err != nil {
		t.Fatal(err)
	}
	ts.st = st
	stats, ran := d.LastRebuild()
	if !ran || stats.Records != 4 || stats.Changed != 0 || stats.Live != 3 || !progressed {
		t.Errorf("rebuild stats %+v ran %v progressed %v", stats, ran, progressed)
	}
	rebuilt := ts.all()
	for id, u := range before {
		r := rebuilt[id]
		if r == nil || !r.Datestamp.Equal(u.Datestamp) || !slices.Equal(r.Libraries, u.Libraries) {
			t.Errorf("rebuild changed %s: %+v → %+v", id, u, r)
		}
	}
	// Another library code for one source re-derives that source's
	// records by itself (not every cluster), and the served records
	// change; known-bad ISBNs, which every match depends on, rebuild.
	st.Close()
	ts.open(Options{Sources: map[string]Source{"xa": {LibraryCode: "NA-XA-2", Level: "commune"}}})
	if _, ran := ts.d.LastRebuild(); ran {
		t.Errorf("a changed library code rebuilt every cluster")
	}
	if u := ts.unionOf("xa", "s2"); !slices.Contains(u.Libraries, "NA-XA-2") {
		t.Errorf("libraries after option change %q", u.Libraries)
	}
	ts.reopen(Options{Sources: map[string]Source{"xa": {LibraryCode: "NA-XA-2", Level: "commune"}}, BadISBNs: []string{"9786042000000"}})
	if stats, ran := ts.d.LastRebuild(); !ran || stats.Records != 4 {
		t.Errorf("new known-bad ISBNs: rebuild %v stats %+v", ran, stats)
	}
}

func TestForEachHeaderSinceAndEarliest(t *testing.T) {
	ts := newTestStore(t, Options{})
	for i, title := range []string{"Một", "Hai", "Ba", "Bốn"} {
		ts.put("tinh", book{id: string(rune('a' + i)), title: "Sách " + title, year: 2000 + i})
	}
	ts.put("vinh", book{id: "z", title: "Sách Năm", year: 2020}, book{id: "y", title: "Sách Sáu", year: 2021})
	var order []string
	var stamps []time.Time
	ts.st.View(func(tx *store.Tx) error {
		return ForEachHeaderSince(tx.Bolt(), time.Time{}, "", func(u *UnionRecord) error {
			if u.Record != nil || len(u.Libraries) == 0 {
				t.Errorf("%s: a header with record %v, libraries %v", u.ID, u.Record != nil, u.Libraries)
			}
			order = append(order, u.ID)
			stamps = append(stamps, u.Datestamp)
			return nil
		})
	})
	if len(order) != 6 {
		t.Fatalf("got %d records", len(order))
	}
	for i := 1; i < len(order); i++ {
		if stamps[i].Before(stamps[i-1]) || stamps[i].Equal(stamps[i-1]) && order[i] < order[i-1] {
			t.Errorf("not in datestamp, id order at %d: %v %v", i, order, stamps)
		}
	}
	// Keyset paging: from the 5th record's position.
	var page []string
	ts.st.View(func(tx *store.Tx) error {
		return ForEachHeaderSince(tx.Bolt(), stamps[3], order[3], func(u *UnionRecord) error {
			page = append(page, u.ID)
			return nil
		})
	})
	if !slices.Equal(page, order[4:]) {
		t.Errorf("after %s: %v, want %v", order[3], page, order[4:])
	}
	var inclusive []string
	ts.st.View(func(tx *store.Tx) error {
		return ForEachHeaderSince(tx.Bolt(), stamps[4], "", func(u *UnionRecord) error {
			inclusive = append(inclusive, u.ID)
			return nil
		})
	})
	if !slices.Equal(inclusive, order[4:]) {
		t.Errorf("from %v: %v, want %v", stamps[4], inclusive, order[4:])
	}
}

func TestExplainOutput(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	v := kieu
	v.id, v.isbn = "k2", ""
	ts.put("xa", v)
	var buf bytes.Buffer
	ts.st.View(func(tx *store.Tx) error {
		ex, err := Explain(tx.Bolt(), "xa:k2")
		if err != nil || ex == nil {
			t.Fatalf("explain: %v %v", ex, err)
		}
		return ex.Write(&buf)
	})
	out := buf.String()
	for _, want := range []string{"members (2)", "* tinh:1", "xa:k2", "title+author", "held by NA-TINH, NA-XA"} {
		if !strings.Contains(out, want) {
			t.Errorf("explanation lacks %q:\n%s", want, out)
		}
	}
}

func TestLookAlikesStayApart(t *testing.T) {
	ts := newTestStore(t, Options{})
	base := book{id: "1", title: "Lịch sử Việt Nam", part: "Tập 1", author: "Trần, Trọng Kim", year: 2018, pages: 400, publisher: "Văn học"}
	vol2 := base
	vol2.id, vol2.part = "2", "Tập 2"
	ed2 := base
	ed2.id, ed2.edition, ed2.year = "3", "Tái bản lần thứ 2", 2020
	other := base
	other.id, other.author = "4", "Phan, Huy Lê"
	ts.put("tinh", base)
	ts.put("vinh", vol2, ed2, other)
	ids := map[string]bool{}
	for _, k := range []struct{ s, l string }{{"tinh", "1"}, {"vinh", "2"}, {"vinh", "3"}, {"vinh", "4"}} {
		ids[ts.unionOf(k.s, k.l).ID] = true
	}
	if len(ids) != 4 {
		t.Errorf("look-alikes merged: %d union records for 4 books", len(ids))
	}
}

func TestBadISBNIgnored(t *testing.T) {
	bad := "978-604-0-00000-2"
	n, _ := normISBN(bad)
	ts := newTestStore(t, Options{BadISBNs: []string{bad}})
	a := book{id: "a", isbn: n, title: "Toán học vui", author: "Lê, Hải", year: 2019}
	b := book{id: "b", isbn: n, title: "Toán học vui", author: "Trần, Minh", year: 2019}
	ts.put("tinh", a)
	ts.put("vinh", b)
	if ts.unionOf("tinh", "a").ID == ts.unionOf("vinh", "b").ID {
		t.Error("a known-bad ISBN merged two books")
	}
}

// TestGetISO2709 checks that the stored bytes of a union record are the
// served record: ISO 2709 with leader/09 'a' decoding to what Get
// returns, and nothing for an id merged away.
func TestGetISO2709(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	other := book{id: "X", title: "Truyện Kiều khảo dị", author: "Đào, Duy Anh", year: 2015, pages: 310}
	ts.put("vinh", other)
	alias := ts.unionOf("vinh", "X").ID
	fixed := kieu
	fixed.id = "X"
	ts.put("vinh", fixed) // joins tinh:1: alias is merged away
	live := ts.unionOf("tinh", "1")
	err := ts.st.View(func(tx *store.Tx) error {
		raw, err := GetISO2709(tx.Bolt(), live.ID)
		if err != nil || len(raw) < 24 || raw[9] != 'a' {
			t.Fatalf("GetISO2709(%s) = %.30q, %v", live.ID, raw, err)
		}
		rec, err := (&store.SourceRecord{Format: marc.FormatISO2709, Raw: raw}).Record()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := marc.AppendISO2709(nil, live.Record)
		got, _ := marc.AppendISO2709(nil, rec)
		if !bytes.Equal(got, want) {
			t.Errorf("stored bytes decode to\n%q\nGet serves\n%q", got, want)
		}
		if raw, err := GetISO2709(tx.Bolt(), alias); raw != nil || err != nil {
			t.Errorf("GetISO2709 of the merged-away %s = %q, %v", alias, raw, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestListenerPrevious checks that a listener can see what a changed
// union record served before: nothing for a new one, the old record and
// holdings for an updated one.
func TestListenerPrevious(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	id := ts.unionOf("tinh", "1").ID
	before := ts.get(id)
	for _, c := range ts.seen {
		if p, err := c.Previous(); err != nil || p != nil {
			t.Fatalf("new union record %s: previous %+v, %v", c.ID, p, err)
		}
	}
	ts.seen = nil
	v := kieu
	v.id, v.call = "V9", "VV 123"
	ts.put("vinh", v) // joins: the union record gains a holding
	var found bool
	for _, c := range ts.seen {
		if c.ID != id {
			continue
		}
		found = true
		p, err := c.Previous()
		if err != nil || p == nil {
			t.Fatalf("previous of %s: %+v, %v", id, p, err)
		}
		want, _ := marc.AppendISO2709(nil, before.Record)
		got, _ := marc.AppendISO2709(nil, p.Record)
		if !bytes.Equal(got, want) || !slices.Equal(p.Libraries, []string{"NA-TINH"}) || p.Deleted {
			t.Errorf("previous of %s: libraries %q deleted %v, record\n%q\nwant\n%q", id, p.Libraries, p.Deleted, got, want)
		}
		if slices.Equal(c.Libraries, p.Libraries) {
			t.Errorf("the change and its previous version hold the same libraries %q", c.Libraries)
		}
	}
	if !found {
		t.Fatalf("listener not told of %s", id)
	}
}

// TestListenerSeesStoredRecord: what listeners are told is the union
// record as it reads back from the store, also when the encoding cannot
// carry all of the record in memory: a master that fits ISO 2709 with a
// control character, whose union record (holdings added) does not and
// goes to MARCXML, which drops it; a data field without subfields.
func TestListenerSeesStoredRecord(t *testing.T) {
	ts := newTestStore(t, Options{})
	big := kieu
	big.extra = []marc.Field{{Tag: "500", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "Ghi chú\x01 có ký tự điều khiển")}}}
	for range 11 {
		big.extra = append(big.extra, marc.Field{Tag: "505", Ind1: '0', Ind2: ' ', Subfields: []marc.Subfield{sf('a', strings.Repeat("x", 8900))}})
	}
	raw, err := marc.AppendISO2709(nil, big.record())
	if err != nil {
		t.Fatal(err)
	}
	pad := 99999 - 40 - len(raw) // room for nothing more than a few bytes
	big.extra = append(big.extra, marc.Field{Tag: "590", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', strings.Repeat("y", pad))}})
	odd := book{id: "K2", isbn: "9786041234567", title: "Lục Vân Tiên", author: "Nguyễn Đình Chiểu", year: 2001,
		extra: []marc.Field{{Tag: "500", Ind1: ' ', Ind2: ' ', Value: "text without a subfield"}}}
	ts.put("tinh", big, odd)
	copyOf := big
	copyOf.id, copyOf.call = "V1", "VV 1"
	ts.put("vinh", copyOf)           // joins: the union record grows past ISO 2709's limit
	last := map[string]UnionRecord{} // what the listener was told last
	for _, c := range ts.seen {
		last[c.ID] = c
	}
	for _, c := range last {
		stored := ts.get(c.ID)
		if !reflect.DeepEqual(c.Record, stored.Record) {
			got, _ := marc.AppendMARCXML(nil, c.Record, true)
			want, _ := marc.AppendMARCXML(nil, stored.Record, true)
			t.Errorf("%s: the listener's record is not the stored one:\n%.600s\nstored:\n%.600s", c.ID, got, want)
		}
	}
	var xml bool
	ts.st.View(func(tx *store.Tx) error {
		for id := range last {
			if b, _ := GetISO2709(tx.Bolt(), id); b == nil {
				xml = true
			}
		}
		return nil
	})
	if len(last) != 2 || !xml {
		t.Errorf("%d union records, one stored as MARCXML: %v", len(last), xml)
	}
}

// TestAssembledUnionFollowsMaster: a union record stored as its master's
// key and the fields it adds serves what the master is now, moves its
// datestamp only when what it serves changes (not for the master's local
// fields), tells listeners what it served before its master changed, and
// refuses to serve another record's fields under the master's key.
func TestAssembledUnionFollowsMaster(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	u1 := ts.unionOf("tinh", "1")
	// stored decodes a copy of id's value: what it decodes to aliases it.
	stored := func(id string) (su *storedUnion) {
		if err := ts.st.View(func(tx *store.Tx) error {
			var err error
			su, err = decodeUnion(id, slices.Clone(tx.Bolt().Bucket(bucketUnions).Get([]byte(id))))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return su
	}
	if su := stored(u1.ID); su.format != fmtAssembled || len(su.raw) > 200 {
		t.Fatalf("union record stored as format %d, %d bytes: want assembled, small", su.format, len(su.raw))
	}

	// A local field of the master: stored record changed, served one not.
	local := kieu
	local.extra = []marc.Field{{Tag: "990", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "kho 2")}}}
	ts.seen = nil
	ts.put("tinh", local)
	if u := ts.unionOf("tinh", "1"); !u.Datestamp.Equal(u1.Datestamp) || len(ts.seen) != 0 {
		t.Errorf("a local field moved the datestamp %v → %v, listeners told %d", u1.Datestamp, u.Datestamp, len(ts.seen))
	}

	// A note: served record changed.
	noted := local
	noted.extra = append(noted.extra, marc.Field{Tag: "500", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', "Bản in lần thứ hai")}})
	ts.seen = nil
	ts.put("tinh", noted)
	u2 := ts.unionOf("tinh", "1")
	if !u2.Datestamp.After(u1.Datestamp) || !slices.Equal(subfieldsOf(u2.Record, "500", 'a'), []string{"Bản in lần thứ hai"}) {
		t.Fatalf("a new note: datestamp %v → %v, 500 %q", u1.Datestamp, u2.Datestamp, subfieldsOf(u2.Record, "500", 'a'))
	}
	if len(ts.seen) != 1 {
		t.Fatalf("listeners told of %d changes, want 1", len(ts.seen))
	}
	p, err := ts.seen[0].Previous()
	if err != nil || p == nil {
		t.Fatalf("previous: %v, %v", p, err)
	}
	want, _ := marc.AppendISO2709(nil, u1.Record)
	got, _ := marc.AppendISO2709(nil, p.Record)
	if !bytes.Equal(got, want) {
		t.Errorf("previous version\n%q\nwant the record before the note\n%q", got, want)
	}

	// GetISO2709 serves exactly what Get decodes.
	ts.st.View(func(tx *store.Tx) error {
		raw, err := GetISO2709(tx.Bolt(), u2.ID)
		want, _ := marc.AppendISO2709(nil, u2.Record)
		if err != nil || !bytes.Equal(raw, want) {
			t.Errorf("GetISO2709 = %.40q, %v; want %.40q", raw, err, want)
		}
		return nil
	})

	// A union stored whole (as before assembled records) and its
	// assembled form serve the same: rebuilding changes nothing.
	if err := ts.st.Update(func(tx *bbolt.Tx) error {
		whole, err := decodeUnion(u2.ID, slices.Clone(tx.Bucket(bucketUnions).Get([]byte(u2.ID))))
		if err != nil {
			return err
		}
		_, raw, err := whole.served(u2.ID, txRecords(tx))
		if err != nil {
			return err
		}
		whole.format, whole.raw, whole.added = fmtISO2709, raw, nil
		return tx.Bucket(bucketUnions).Put([]byte(u2.ID), encodeUnion(nil, whole))
	}); err != nil {
		t.Fatal(err)
	}
	ts.st.Close()
	st, err := store.Open(ts.path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	d := New(Options{})
	d.RebuildOnInit(nil)
	if err := st.AddHook(d); err != nil {
		t.Fatal(err)
	}
	ts.st = st
	if stats, _ := d.LastRebuild(); stats.Changed != 0 {
		t.Errorf("rebuild over a union stored whole: %d changed, want 0", stats.Changed)
	}
	if u := ts.get(u2.ID); !u.Datestamp.Equal(u2.Datestamp) || !reflect.DeepEqual(u.Record, u2.Record) {
		t.Errorf("rebuild moved %s", u2.ID)
	}

	// A master rewritten behind deduplication's back is not served.
	rec := noted
	rec.title = "Một cuốn sách khác"
	raw2, err := marc.AppendISO2709(nil, rec.record())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	plain, err := store.Open(ts.path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.Apply(store.Batch{Source: "tinh", Records: []store.Incoming{{LocalID: "1", Record: mustDecode(t, raw2)}}, Now: ts.now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	plain.View(func(tx *store.Tx) error {
		if u, err := Get(tx.Bolt(), u2.ID); err == nil || !strings.Contains(err.Error(), "not the record it was built from") {
			t.Errorf("Get after the master changed without deduplication: %v, %v", u, err)
		}
		return nil
	})
}

func mustDecode(t *testing.T, raw []byte) *marc.Record {
	t.Helper()
	r, err := marc.DecodeISO2709(raw, marc.ReaderOptions{Charset: marc.CharsetUTF8})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestExplainBlockedMatch: two records of one source without a shared
// identifier both match a third; the cluster can take only one, and the
// other's explanation shows its match as blocked, named from the
// ordinal-keyed edges.
func TestExplainBlockedMatch(t *testing.T) {
	ts := newTestStore(t, Options{})
	ts.put("tinh", kieu)
	a, b := kieu, kieu
	a.id, a.isbn = "a", ""
	b.id, b.isbn = "b", ""
	ts.put("vinh", a, b)
	exA, exB := ts.explain("vinh", "a"), ts.explain("vinh", "b")
	if exA.Union.ID == exB.Union.ID {
		t.Fatalf("vinh:a and vinh:b share union %s: two records of one source merged without an identifier", exA.Union.ID)
	}
	joined, alone := exA, exB
	if len(exA.Members) == 1 {
		joined, alone = exB, exA
	}
	if len(joined.Members) != 2 || len(joined.Edges) != 1 || len(alone.Members) != 1 || len(alone.Edges) != 0 {
		t.Fatalf("clusters %+v and %+v, want one of two members with an edge and one alone", joined.Members, alone.Members)
	}
	if e := joined.Edges[0]; !strings.HasPrefix(e.Rule, "title+author") || e.When.IsZero() ||
		!(e.A == "tinh:1" || e.B == "tinh:1") {
		t.Errorf("edge in the cluster: %+v", e)
	}
	if len(alone.Blocked) != 1 {
		t.Fatalf("blocked matches of the record left alone: %+v, want its match with tinh:1", alone.Blocked)
	}
	if e := alone.Blocked[0]; e.A != alone.Members[0].Source+":"+alone.Members[0].LocalID || e.B != "tinh:1" ||
		!strings.HasPrefix(e.Rule, "title+author") || e.When.IsZero() {
		t.Errorf("blocked match: %+v", e)
	}
}

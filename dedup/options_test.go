package dedup

import (
	"slices"
	"sync"
	"testing"
)

// SetOptions (a configuration reload) takes effect for the next batch: a
// union record rebuilt from then on names the new library code, one not
// touched keeps what it was built with, and the next Init with the new
// options brings the source's other records up to date, without a
// rebuild of every cluster.
func TestSetOptionsNextBatch(t *testing.T) {
	old := Options{Sources: map[string]Source{"vinh": {LibraryCode: "NA-VINH", Level: "district"}}}
	ts := newTestStore(t, old)
	ts.put("vinh", kieu, book{id: "2", title: "Lục Vân Tiên", author: "Nguyễn, Đình Chiểu", year: 2010})
	if u := ts.unionOf("vinh", "1"); !slices.Equal(u.Libraries, []string{"NA-VINH"}) {
		t.Fatalf("libraries before %q", u.Libraries)
	}
	renamed := Options{Sources: map[string]Source{"vinh": {LibraryCode: "NA-TPVINH", Level: "district"}}}
	ts.d.SetOptions(renamed)
	changed := kieu
	changed.pages = 301
	ts.put("vinh", changed)
	if u := ts.unionOf("vinh", "1"); !slices.Equal(u.Libraries, []string{"NA-TPVINH"}) || !slices.Equal(subfieldsOf(u.Record, "852", 'a'), []string{"NA-TPVINH"}) {
		t.Errorf("rebuilt union record: libraries %q, 852 $a %q, want NA-TPVINH", u.Libraries, subfieldsOf(u.Record, "852", 'a'))
	}
	if u := ts.unionOf("vinh", "2"); !slices.Equal(u.Libraries, []string{"NA-VINH"}) {
		t.Errorf("untouched union record: libraries %q, want the old NA-VINH until rebuilt", u.Libraries)
	}
	// The stored description of the source is still the old one: a
	// restart with the new options re-derives the source's records, and
	// then every record names the new code.
	ts.reopen(renamed)
	if _, ran := ts.d.LastRebuild(); ran {
		t.Error("a changed source description rebuilt every cluster")
	}
	if u := ts.unionOf("vinh", "2"); !slices.Equal(u.Libraries, []string{"NA-TPVINH"}) {
		t.Errorf("after the restart: libraries %q", u.Libraries)
	}
}

// A description changed by a reload and changed back before the restart:
// the records derived meanwhile are re-derived all the same.
func TestSetOptionsChangedBack(t *testing.T) {
	old := Options{Sources: map[string]Source{"vinh": {LibraryCode: "NA-VINH", Level: "district"}}}
	ts := newTestStore(t, old)
	ts.put("vinh", kieu)
	ts.d.SetOptions(Options{Sources: map[string]Source{"vinh": {LibraryCode: "NA-TPVINH", Level: "district"}}})
	changed := kieu
	changed.pages = 301
	ts.put("vinh", changed)
	if u := ts.unionOf("vinh", "1"); !slices.Equal(u.Libraries, []string{"NA-TPVINH"}) {
		t.Fatalf("rebuilt union record: libraries %q", u.Libraries)
	}
	ts.d.SetOptions(old) // changed back by another reload, no batch since
	ts.reopen(old)
	if u := ts.unionOf("vinh", "1"); !slices.Equal(u.Libraries, []string{"NA-VINH"}) {
		t.Errorf("after the restart: libraries %q, want NA-VINH again", u.Libraries)
	}
}

// SetOptions may be called while batches run (go test -race).
func TestSetOptionsConcurrent(t *testing.T) {
	ts := newTestStore(t, Options{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			code := "NA-VINH"
			if i%2 == 1 {
				code = "NA-VINH-2"
			}
			ts.d.SetOptions(Options{Sources: map[string]Source{"vinh": {LibraryCode: code, Level: "district"}}, BadISBNs: []string{kieu.isbn}})
		}
	}()
	for i := range 20 {
		b := kieu
		b.pages = 300 + i
		ts.put("vinh", b)
	}
	wg.Wait()
	ts.d.SetOptions(Options{Sources: map[string]Source{"vinh": {LibraryCode: "NA-VINH-3", Level: "district"}}})
	ts.put("vinh", kieu)
	if u := ts.unionOf("vinh", "1"); !slices.Equal(u.Libraries, []string{"NA-VINH-3"}) {
		t.Errorf("libraries %q, want the last options' NA-VINH-3", u.Libraries)
	}
}

// TestNewSourceNeedsNoRebuild checks that a library joining the network
// (a new source in the options) changes no stored cluster, and that a
// changed description of one source rebuilds that source's union records
// only.
func TestNewSourceNeedsNoRebuild(t *testing.T) {
	opts := Options{Sources: map[string]Source{
		"tinh": {LibraryCode: "NA-TINH", Level: "province", Priority: 3},
		"vinh": {LibraryCode: "NA-VINH", Level: "district", Priority: 2},
	}}
	ts := newTestStore(t, opts)
	ts.put("tinh", kieu)
	ts.put("vinh", book{id: "2", title: "Lục Vân Tiên", author: "Nguyễn, Đình Chiểu", year: 2010})
	before := ts.all()

	opts.Sources["xa"] = Source{LibraryCode: "NA-XA", Level: "commune", Priority: 1}
	ts.reopen(opts)
	if _, ran := ts.d.LastRebuild(); ran {
		t.Fatal("a new source rebuilt every cluster")
	}
	after := ts.all()
	for id, u := range before {
		if !after[id].Datestamp.Equal(u.Datestamp) {
			t.Errorf("%s changed (datestamp %v → %v) when a source was added", id, u.Datestamp, after[id].Datestamp)
		}
	}

	opts.Sources["vinh"] = Source{LibraryCode: "NA-TPVINH", Level: "district", Priority: 2}
	ts.reopen(opts)
	if _, ran := ts.d.LastRebuild(); ran {
		t.Fatal("a changed source rebuilt every cluster")
	}
	tinh, vinh := ts.unionOf("tinh", "1"), ts.unionOf("vinh", "2")
	if !tinh.Datestamp.Equal(before[tinh.ID].Datestamp) {
		t.Errorf("the union record of the unchanged source was rewritten")
	}
	if !slices.Equal(vinh.Libraries, []string{"NA-TPVINH"}) || !vinh.Datestamp.After(before[vinh.ID].Datestamp) {
		t.Errorf("the changed source's union record: libraries %q, datestamp %v (was %v)", vinh.Libraries, vinh.Datestamp, before[vinh.ID].Datestamp)
	}
}

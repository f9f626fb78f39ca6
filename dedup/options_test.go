package dedup

import (
	"slices"
	"sync"
	"testing"
)

// SetOptions (a configuration reload) takes effect for the next batch: a
// union record rebuilt from then on names the new library code, one not
// touched keeps what it was built with, and the next Init with the new
// options rebuilds every cluster.
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
	// The fingerprint is still the old options': a restart with the new
	// ones rebuilds, and then every record names the new code.
	ts.reopen(renamed)
	if _, ran := ts.d.LastRebuild(); !ran {
		t.Error("restart with the reloaded options did not rebuild")
	}
	if u := ts.unionOf("vinh", "2"); !slices.Equal(u.Libraries, []string{"NA-TPVINH"}) {
		t.Errorf("after the rebuild: libraries %q", u.Libraries)
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

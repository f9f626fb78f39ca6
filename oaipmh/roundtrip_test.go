package oaipmh

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// downstream is a second unicat harvesting this provider with the
// harvester's oai driver.
type downstream struct {
	t   *testing.T
	st  *store.Store
	h   *harvester.Harvester
	cfg *config.Config
}

func newDownstream(t *testing.T, f *fixture, url, prefix string) *downstream {
	t.Helper()
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
sources:
  - id: upstream
    name: "Mục lục liên hợp Nghệ An"
    library_code: NA-UNION
    level: province
    kind: oai
    url: %q
    metadata_prefix: %s
    retry_wait: 100ms
`, url, prefix)), "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "downstream.db"), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.PutSource(store.SourceInfo{ID: "upstream", Name: "upstream", LibraryCode: "NA-UNION", Level: "province", Kind: "oai"}); err != nil {
		t.Fatal(err)
	}
	h := harvester.New(st, cfg, harvester.Options{Now: f.clock.Now})
	return &downstream{t: t, st: st, h: h, cfg: cfg}
}

func (d *downstream) run() store.Run {
	d.t.Helper()
	run, err := d.h.Run(context.Background(), "upstream", nil)
	if err != nil {
		d.t.Fatalf("harvest: %v (notes: %s)", err, run.Notes)
	}
	return run
}

// check compares the downstream store with the union records served:
// every union record, by its OAI identifier, live with the same fields or
// deleted.
func (d *downstream) check(f *fixture) {
	d.t.Helper()
	got := map[string]*store.SourceRecord{}
	err := d.st.View(func(tx *store.Tx) error {
		return tx.ForEachRecord("upstream", func(r *store.SourceRecord) error {
			got[r.LocalID] = r
			return nil
		})
	})
	if err != nil {
		d.t.Fatal(err)
	}
	unions := f.unions()
	if len(got) != len(unions) {
		d.t.Errorf("downstream holds %d records, the provider serves %d", len(got), len(unions))
	}
	for id, u := range unions {
		ident := f.srv.Identifier(id)
		r := got[ident]
		switch {
		case r == nil:
			d.t.Errorf("%s not harvested", ident)
		case u.Deleted:
			if !r.Deleted {
				d.t.Errorf("%s is deleted upstream, live downstream", ident)
			}
		case r.Deleted:
			d.t.Errorf("%s is live upstream, deleted downstream", ident)
		default:
			rec, err := r.Record()
			if err != nil {
				d.t.Fatalf("%s: %v", ident, err)
			}
			if diff := sameRecord(served(u.Record), rec); diff != "" {
				d.t.Errorf("%s: %s", ident, diff)
			}
		}
	}
}

// served is the record as MARCXML carries it: AppendMARCXML fixes the
// leader's structural positions and drops what the schema cannot hold.
func served(r *marc.Record) *marc.Record {
	raw, _ := marc.AppendMARCXML(nil, r, true)
	out, err := marc.NewXMLReader(bytesReader(raw), marc.ReaderOptions{}).Next()
	if err != nil {
		panic(err)
	}
	return out
}

func sameRecord(want, got *marc.Record) string {
	if len(want.Leader) == 24 && len(got.Leader) == 24 && (want.Leader[5:9] != got.Leader[5:9] || want.Leader[17:20] != got.Leader[17:20]) {
		return fmt.Sprintf("leader %q, want %q", got.Leader, want.Leader)
	}
	if !reflect.DeepEqual(want.Fields, got.Fields) {
		return fmt.Sprintf("fields differ:\n got %v\nwant %v", got.Fields, want.Fields)
	}
	return ""
}

// The harvester's oai driver harvests this provider and ends with exactly
// the union records served; after records change, merge and disappear,
// an incremental harvest brings exactly those changes.
func TestHarvesterRoundTrip(t *testing.T) {
	for _, prefix := range []string{"marc21", "marcxml"} {
		t.Run(prefix, func(t *testing.T) {
			f := realCatalog(t, 10)
			hs := httptest.NewServer(f.srv)
			defer hs.Close()
			d := newDownstream(t, f, hs.URL+"/oai", prefix)

			first := d.run()
			if first.Added == 0 || first.Rejected != 0 {
				t.Fatalf("first harvest: %+v", first)
			}
			d.check(f)

			// Change, merge and delete upstream.
			f.clock.add(time.Hour)
			f.put("tinh", book{id: "m1", isbn: "9786041234566", title: "Lịch sử Nghệ An", author: "Trần Văn Giàu", year: 2010})
			f.put("vinh", book{id: "m2", title: "Địa chí huyện Diễn Châu", author: "Lê Thị Hoa", year: 2003})
			f.clock.add(time.Hour)
			second := d.run()
			if second.Added != 2 {
				t.Errorf("second harvest added %d, want the 2 new records: %+v", second.Added, second)
			}
			d.check(f)

			f.clock.add(time.Hour)
			before := f.unions()
			f.put("vinh", book{id: "m2", isbn: "9786041234566", title: "Lịch sử Nghệ An", author: "Trần Văn Giàu", year: 2010}) // merges with m1
			f.put("xa", nthBook(40))
			b := nthBook(41)
			f.put("tinh", b)
			f.del("tinh", b.id) // added and emptied
			var someID string
			for _, u := range before {
				if !u.Deleted && len(u.Libraries) == 1 && u.Libraries[0] == "NA-TINH" {
					for _, fl := range u.Record.FieldsByTag("035") {
						if a, ok := strings.CutPrefix(fl.Sub('a'), "(NA-TINH)"); ok && a != "" {
							someID = a
						}
					}
					if someID != "" {
						break
					}
				}
			}
			f.del("tinh", someID)
			f.clock.add(time.Hour)

			changed := 0
			after := f.unions()
			for id, u := range after {
				if o := before[id]; o == nil || !o.Datestamp.Equal(u.Datestamp) {
					changed++
				}
			}
			third := d.run()
			t.Logf("runs: first %+v\nsecond %+v\nthird %+v; %d union records changed", first, second, third, changed)
			d.check(f)
			if got := third.Added + third.Updated + third.Deleted; got != changed {
				t.Errorf("incremental harvest applied %d changes (%+v), the provider changed %d union records", got, third, changed)
			}
			if third.Unchanged > changed {
				t.Errorf("incremental harvest re-read %d unchanged records: it was not incremental", third.Unchanged)
			}
		})
	}
}

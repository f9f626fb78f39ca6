package z3950_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/unicat/unicat/catalog/catalogtest"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/harvester"
	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/internal/zebrapeer"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
	"github.com/unicat/unicat/z3950"
)

// harvestEnv is a store and a harvester with the Z39.50 driver, for one
// source of kind z3950 at url; settings are more lines of the source's
// configuration ("charset: marc-8").
func harvestEnv(t *testing.T, url string, settings ...string) (*harvester.Harvester, *store.Store) {
	t.Helper()
	dir := t.TempDir()
	doc := fmt.Sprintf("data_dir: data\nsources:\n  - id: zsrc\n    name: Z39.50 library\n    library_code: NA-DIENCHAU\n"+
		"    level: district\n    kind: z3950\n    url: %q\n    retry_wait: 100ms\n    max_retries: 1\n", url)
	for _, s := range settings {
		doc += "    " + s + "\n"
	}
	cfg, err := config.Parse([]byte(doc), filepath.Join(dir, "unicat.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.StorePath(), store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := cfg.Sources[0]
	if err := st.PutSource(store.SourceInfo{ID: s.ID, Name: s.Name, LibraryCode: s.LibraryCode, Level: s.Level, Kind: s.Kind}); err != nil {
		t.Fatal(err)
	}
	h := harvester.New(st, cfg, harvester.Options{})
	h.Register(config.KindZ3950, harvester.Z3950Driver())
	return h, st
}

func storedRecords(t *testing.T, st *store.Store) map[string]*marc.Record {
	t.Helper()
	out := map[string]*marc.Record{}
	err := st.View(func(tx *store.Tx) error {
		return tx.ForEachRecord("zsrc", func(sr *store.SourceRecord) error {
			if sr.Deleted {
				return nil
			}
			rec, err := sr.Record()
			if err != nil {
				return err
			}
			out[sr.LocalID] = rec
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readAll(t *testing.T, path string) []*marc.Record {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 64)
	n, _ := f.Read(head)
	f.Seek(0, 0)
	format, _ := marc.Sniff(head[:n])
	rd := marc.NewReader(f, format, marc.ReaderOptions{Source: path})
	var out []*marc.Record
	for {
		r, err := rd.Next()
		if err != nil {
			return out
		}
		out = append(out, r)
	}
}

// TestHarvestZebraMARC8 harvests a member library's Z39.50 target that
// serves MARC-8 records (Zebra over the Diễn Châu export): every record is
// stored, as the same NFC text as its UTF-8 twin; a second run changes
// nothing.
func TestHarvestZebraMARC8(t *testing.T) {
	testpeer.Need(t, "zebraidx")
	testpeer.Need(t, "zebrasrv")
	z, err := zebrapeer.Start(zebrapeer.Options{ConfigDir: "../testdata/peers/zebra", WorkDir: t.TempDir(),
		Records: "../testdata/vietnamese/dien-chau.mrc"})
	if err != nil {
		t.Fatal(err)
	}
	defer z.Stop()
	want := readAll(t, "../testdata/vietnamese/src/dien-chau.xml")
	h, st := harvestEnv(t, z.Addr+"/Default")
	run, err := h.Run(context.Background(), "zsrc", nil)
	if err != nil {
		t.Fatal(err)
	}
	if run.Added != len(want) || run.Rejected != 0 {
		t.Errorf("first run: %+v, want %d added", run, len(want))
	}
	got := storedRecords(t, st)
	for _, w := range want {
		g := got[w.ControlNumber()]
		if g == nil {
			t.Errorf("%s not harvested", w.ControlNumber())
			continue
		}
		if g.Title() != w.Title() || g.First("245").Sub('c') != w.First("245").Sub('c') {
			t.Errorf("%s: %q / %q, want %q / %q", w.ControlNumber(), g.Title(), g.First("245").Sub('c'), w.Title(), w.First("245").Sub('c'))
		}
	}
	run, err = h.Run(context.Background(), "zsrc", nil)
	if err != nil || run.Unchanged != len(want) || run.Added != 0 {
		t.Errorf("second run: %+v %v", run, err)
	}
}

// TestHarvestUnicat harvests unicat's own Z39.50 server (a round trip of
// server and client), in pages, and stops on a target that goes away.
func TestHarvestUnicat(t *testing.T) {
	base := readAll(t, "../testdata/vietnamese/na-tinh.xml")
	base = append(base, readAll(t, "../testdata/marc/zebra/sample-marc.mrc")...)
	// 120 records with their own control numbers, so that the harvest
	// takes several pages, and the base records (one has no 001 or 035).
	var recs []*marc.Record
	for i := 0; i < 120; i++ {
		r := *base[i%len(base)]
		r.Fields = append([]marc.Field{{Tag: "001", Value: fmt.Sprintf("H%04d", i)}}, r.Fields...)
		for k := 1; k < len(r.Fields); k++ {
			if r.Fields[k].Tag == "001" {
				r.Fields = append(r.Fields[:k:k], r.Fields[k+1:]...)
				break
			}
		}
		recs = append(recs, &r)
	}
	recs = append(recs, base...)
	withID := 0
	var docs []search.Doc
	for i, r := range recs {
		docs = append(docs, search.Doc{ID: fmt.Sprintf("u%08d", i), Record: r})
		if r.ControlNumber() != "" {
			withID++
		}
	}
	srv, err := z3950.NewServer(z3950.Config{Catalog: catalogtest.New(t, docs)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	h, st := harvestEnv(t, ln.Addr().String()+"/unicat")
	run, err := h.Run(context.Background(), "zsrc", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Records without 001 or 035 cannot be keyed: rejected, the rest kept.
	if run.Added != withID || run.Added+run.Rejected != len(recs) || run.Pages != (len(recs)+49)/50 {
		t.Errorf("run: %+v; want %d added of %d in pages of 50", run, withID, len(recs))
	}
	if got := len(storedRecords(t, st)); got != withID {
		t.Errorf("%d records stored, want %d", got, withID)
	}
	// The source's page_size is the number of records per Present.
	h17, st17 := harvestEnv(t, ln.Addr().String()+"/unicat", "page_size: 17")
	run, err = h17.Run(context.Background(), "zsrc", nil)
	if err != nil || run.Added != withID || run.Pages != (len(recs)+16)/17 {
		t.Errorf("page_size 17: %+v %v; want %d added in %d pages", run, err, withID, (len(recs)+16)/17)
	}
	if got := len(storedRecords(t, st17)); got != withID {
		t.Errorf("page_size 17: %d records stored, want %d", got, withID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	if _, err := h.Run(context.Background(), "zsrc", nil); err == nil {
		t.Error("harvesting a stopped target: no error")
	}
}

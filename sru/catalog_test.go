package sru

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// demoCatalog imports the demo libraries (config/demo.yaml: the
// Vietnamese records, Zebra's and Open Library's samples) through the
// real pipeline (store, deduplication, search index) into a temporary
// store, and returns it with an SRU server over it.
func demoCatalog(t testing.TB) (*store.Store, *Server) {
	t.Helper()
	dir := t.TempDir()
	doc, err := os.ReadFile("../config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("../testdata")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(doc), "../testdata", abs)
	s = strings.Replace(s, "data_dir: ../data", "data_dir: "+filepath.Join(dir, "data"), 1)
	cfg, err := config.Parse([]byte(s), filepath.Join(dir, "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := catalog.OptionsFromConfig(cfg)
	opts.NoSync = true
	cat, err := catalog.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	st := cat.Store()
	for _, src := range cfg.Sources {
		files, err := ingest.Files([]string{cfg.Resolve(src.Path)})
		if err != nil {
			t.Fatal(err)
		}
		opts := ingest.Options{Source: src.ID, Charset: marc.Charset(src.Charset)}
		if src.Format != "" && src.Format != "auto" {
			opts.Format = marc.Format(src.Format)
		}
		if _, err := ingest.Import(context.Background(), st, files, opts); err != nil {
			t.Fatalf("import %s: %v", src.ID, err)
		}
	}
	srv := New(Config{Catalog: cat, MaxRecords: 1000})
	return st, srv
}

// exportUnion writes the live union records, as unicat serves them, to an
// ISO 2709 file, and returns how many.
func exportUnion(t testing.TB, st *store.Store, path string) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := marc.NewISO2709Writer(f)
	n := 0
	err = st.View(func(tx *store.Tx) error {
		return dedup.ForEachUnion(tx.Bolt(), func(u *dedup.UnionRecord) error {
			if u.Deleted || u.Record == nil {
				return nil
			}
			n++
			return w.Write(u.Record)
		})
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// unicatIDs runs a CQL query on the server and returns the total and the
// union ids (001) of every hit.
func unicatIDs(t testing.TB, srv *Server, q string) (int, []string, []string) {
	t.Helper()
	c := &testCatalog{srv: srv}
	n := c.get(t, "version", "1.2", "operation", "searchRetrieve", "query", q, "maximumRecords", "1000")
	return idsOf(t, n)
}

// idsOf reads numberOfRecords, the 001 of every MARCXML record and the
// diagnostics of a searchRetrieve response.
func idsOf(t testing.TB, n *node) (int, []string, []string) {
	t.Helper()
	total := 0
	if nr := n.child("numberOfRecords"); nr != nil {
		for _, c := range strings.TrimSpace(nr.Text) {
			total = total*10 + int(c-'0')
		}
	}
	var ids []string
	if recs := n.child("records"); recs != nil {
		for _, r := range recs.all("record") {
			m := r.path("recordData", "record")
			if m == nil {
				t.Fatalf("record without MARCXML: %s", n.raw)
			}
			for _, cf := range m.all("controlfield") {
				if cf.Attrs["tag"] == "001" {
					ids = append(ids, strings.TrimSpace(cf.Text))
				}
			}
		}
	}
	return total, ids, n.diagnostics()
}

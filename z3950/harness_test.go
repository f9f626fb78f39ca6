package z3950

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/unicat/unicat/catalog/catalogtest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
)

// testCatalog is an index and a record bucket in a temporary bbolt file,
// standing in for the store's union records, served by a Server on a
// loopback port.
type testCatalog struct {
	cat  *catalogtest.Catalog
	srv  *Server
	addr string
	reg  *prometheus.Registry
	recs []*marc.Record // in id order: u00000001 is recs[0]
}

func testID(i int) string { return fmt.Sprintf("u%08d", i+1) }

// newTestCatalog indexes recs and starts a server; cfg's Catalog and
// Registerer are filled in. The catalog's Record and ISO2709 may be set
// before the first client asks.
func newTestCatalog(t testing.TB, recs []*marc.Record, cfg Config) *testCatalog {
	t.Helper()
	docs := make([]search.Doc, len(recs))
	for i, r := range recs {
		docs[i] = search.Doc{ID: testID(i), Record: r}
	}
	c := &testCatalog{cat: catalogtest.New(t, docs), recs: recs, reg: prometheus.NewRegistry()}
	cfg.Catalog, cfg.Registerer = c.cat, c.reg
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.srv, c.addr = srv, ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return c
}

// dial opens a client association with the catalog.
func (c *testCatalog) dial(t testing.TB, opts ClientOptions) *Client {
	t.Helper()
	cl, err := Dial(context.Background(), c.addr+"/unicat", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// readMARCFile reads every record of an ISO 2709 or MARCXML file,
// skipping broken ones.
func readMARCFile(t testing.TB, path string, cs marc.Charset) []*marc.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := marc.Sniff(data)
	if !ok {
		t.Fatalf("%s: unknown format", path)
	}
	rd := marc.NewReader(bytes.NewReader(data), f, marc.ReaderOptions{Source: path, Charset: cs})
	var out []*marc.Record
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return out
		}
		var re *marc.RecordError
		if errors.As(err, &re) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, r)
	}
}

// testRecords is the test data set: Zebra's sample records (the English
// data Zebra's own tests use) and the constructed Vietnamese exports of
// four libraries, with their holdings (852).
func testRecords(t testing.TB) []*marc.Record {
	t.Helper()
	var recs []*marc.Record
	recs = append(recs, readMARCFile(t, "../testdata/marc/zebra/sample-marc.mrc", marc.CharsetAuto)...)
	recs = append(recs, readMARCFile(t, "../testdata/vietnamese/na-tinh.xml", marc.CharsetAuto)...)
	recs = append(recs, readMARCFile(t, "../testdata/vietnamese/vinh.mrc", marc.CharsetAuto)...)
	recs = append(recs, readMARCFile(t, "../testdata/vietnamese/dien-chau.mrc", marc.CharsetAuto)...)
	recs = append(recs, readMARCFile(t, "../testdata/vietnamese/xa-nghi-loc.mrc", marc.CharsetWindows1258)...)
	if len(recs) < 50 {
		t.Fatalf("only %d test records", len(recs))
	}
	return recs
}

// count runs a PQF search and returns the hits, failing the test on error.
func count(t testing.TB, cl *Client, pqf string) int {
	t.Helper()
	n, err := cl.Search(context.Background(), pqf, "")
	if err != nil {
		t.Fatalf("%s: %v", pqf, err)
	}
	return n
}

// diagOf runs a PQF search that must fail and returns the diagnostic.
func diagOf(t testing.TB, cl *Client, pqf string) *Diagnostic {
	t.Helper()
	n, err := cl.Search(context.Background(), pqf, "")
	var d *Diagnostic
	if !errors.As(err, &d) {
		t.Fatalf("%s: want a diagnostic, got %d hits, err %v", pqf, n, err)
	}
	return d
}

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/gin-gonic/gin"
	"github.com/unicat/unicat/catalog"
	"github.com/unicat/unicat/config"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
)

// TestReindexAndSRU imports the demo libraries, searches them over /sru,
// rebuilds the index with `unicat reindex` and checks the same searches
// give the same answers.
func TestReindexAndSRU(t *testing.T) {
	cfgPath := demoConfig(t)
	if _, e, code := runUnicat(t, "import", "--config", cfgPath, "--all"); code != 0 {
		t.Fatal(e)
	}
	queries := []string{`dc.creator = "nguyen du"`, `dc.title == "Truyện Kiều"`, `dc.creator = "doan gioi"`, "cql.allRecords = 1",
		"unicat.library = NA-VINH", "bath.isbn = 9786046924371", "dc.date >= 2015 sortBy dc.title"}
	counts := func() []string {
		cfg, cat := openConfigured(t, cfgPath)
		defer cat.Close()
		srv := httptest.NewServer(sruRouter(cat, cfg))
		defer srv.Close()
		var out []string
		re := regexp.MustCompile(`<zs:numberOfRecords>(\d+)</zs:numberOfRecords>`)
		for _, q := range queries {
			resp, err := http.Get(srv.URL + "/sru?version=1.2&operation=searchRetrieve&maximumRecords=0&query=" + url.QueryEscape(q))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := re.FindSubmatch(body)
			if resp.StatusCode != 200 || m == nil {
				t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
			}
			out = append(out, string(m[1]))
		}
		return out
	}
	// The index kept up with the import: opening the store does not
	// need to rebuild it.
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.StorePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.View(func(tx *store.Tx) error {
		needed, err := search.New().NeedsRebuild(tx.Bolt())
		if needed {
			t.Error("after an import the index needs a rebuild")
		}
		return err
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	before := counts()
	for i, q := range queries[:3] {
		if before[i] == "0" {
			t.Errorf("%s: no hits in the demo", q)
		}
	}
	out, e, code := runUnicat(t, "reindex", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "indexed ") {
		t.Fatalf("reindex exited %d: %s %s", code, out, e)
	}
	after := counts()
	if strings.Join(before, " ") != strings.Join(after, " ") {
		t.Errorf("hits before reindex %v, after %v", before, after)
	}
}

// TestOlderIndexRebuilt opens a store whose search index an older unicat
// built: another index table version, without the keys of the indexes
// added since (the classification indexes, storage ids 16 and 17). The
// next command that opens the store rebuilds it, and the new indexes
// answer.
func TestOlderIndexRebuilt(t *testing.T) {
	cfgPath := demoConfig(t)
	if _, e, code := runUnicat(t, "import", "--config", cfgPath, "--all"); code != 0 {
		t.Fatal(e)
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	needsRebuild := func() bool {
		st, err := store.Open(cfg.StorePath(), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var needed bool
		err = st.View(func(tx *store.Tx) error {
			needed, err = search.New().NeedsRebuild(tx.Bolt())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return needed
	}
	st, err := store.Open(cfg.StorePath(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket([]byte("search.meta"))
		v := bytes.Clone(meta.Get([]byte("version")))
		if len(v) != 8 {
			return fmt.Errorf("stored index version %x", v)
		}
		binary.BigEndian.PutUint32(v[4:], binary.BigEndian.Uint32(v[4:])-1)
		if err := meta.Put([]byte("version"), v); err != nil {
			return err
		}
		terms := tx.Bucket([]byte("search.terms"))
		var drop [][]byte
		terms.ForEach(func(k, _ []byte) error {
			if k[0] == 16 || k[0] == 17 {
				drop = append(drop, bytes.Clone(k))
			}
			return nil
		})
		if len(drop) == 0 {
			return errors.New("the demo has no class numbers indexed")
		}
		for _, k := range drop {
			if err := terms.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !needsRebuild() {
		t.Fatal("an index of another table version is taken as usable")
	}
	if _, e, code := runUnicat(t, "import", "--config", cfgPath, "--all"); code != 0 {
		t.Fatal(e)
	}
	if needsRebuild() {
		t.Fatal("import left the older index as it was")
	}
	cat, err := openCatalog(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	srv := httptest.NewServer(sruRouter(cat, cfg))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/sru?version=1.2&operation=searchRetrieve&maximumRecords=0&query=" +
		url.QueryEscape(`unicat.dewey = "895.922 1" and unicat.callNumber = "^895.92*"`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if m := regexp.MustCompile(`<zs:numberOfRecords>(\d+)<`).FindSubmatch(body); m == nil || string(m[1]) == "0" {
		t.Errorf("the rebuilt index finds no Dewey number:\n%s", body)
	}
}

// sruRouter serves the store's SRU at /sru, as unicat serve does.
func sruRouter(cat catalog.Reader, cfg *config.Config) *gin.Engine {
	r := gin.New()
	mountSRU(r, sruHandler(cat, cfg, nil, slog.New(slog.DiscardHandler)))
	return r
}

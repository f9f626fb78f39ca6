package oaipmh

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/ingest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/oaiindex"
	"github.com/unicat/unicat/store"
)

// realCatalog loads the Vietnamese demo exports and the real records of
// testdata/marc into the three test sources, then deletes and merges a
// few, so the catalog has live, merged-away and emptied union records.
func realCatalog(t *testing.T, pageSize int) *fixture {
	t.Helper()
	f := newFixture(t, pageSize)
	load := func(source string, cs marc.Charset, globs ...string) {
		t.Helper()
		var files []string
		for _, g := range globs {
			m, err := filepath.Glob(filepath.Join("..", "testdata", g))
			if err != nil || len(m) == 0 {
				t.Fatalf("testdata/%s: no files (%v)", g, err)
			}
			files = append(files, m...)
		}
		sum, err := ingest.Import(context.Background(), f.st, files, ingest.Options{Source: source, Charset: cs, BatchSize: 25, Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Added == 0 {
			t.Fatalf("%v: nothing imported", globs)
		}
		f.clock.add(time.Minute)
	}
	load("tinh", "", "vietnamese/na-tinh.xml", "marc/zebra/*")
	load("vinh", "", "vietnamese/vinh.mrc", "marc/openlibrary/*.mrc")
	load("xa", marc.CharsetWindows1258, "vietnamese/xa-nghi-loc.mrc")
	load("xa", "", "marc/recordmanager/*.xml", "marc/yaz/marccol*.u8.marc")

	// Some deletions: empty union records and holdings that leave sets.
	var ids []string
	err := f.st.View(func(tx *store.Tx) error {
		return tx.ForEachRecord("vinh", func(r *store.SourceRecord) error {
			if len(ids) < 5 && !r.Deleted {
				ids = append(ids, r.LocalID)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	f.del("vinh", ids...)
	f.clock.add(time.Minute)
	return f
}

// TestEveryResponseValidates validates every response of every verb, in
// every format and on every page, metadata included, against OAI-PMH.xsd,
// oai_dc.xsd, MARC21slim.xsd and oai-identifier.xsd.
func TestEveryResponseValidates(t *testing.T) {
	f := realCatalog(t, 7)
	v := newValidator(t)

	var idents []string
	for _, prefix := range []string{"oai_dc", "marc21", "marcxml"} {
		for _, args := range []string{"", "&set=level:district", "&set=" + url.QueryEscape(oaiindex.LibrarySet("NA-VINH")), "&from=2024-05-01&until=2024-05-01"} {
			for _, verb := range []string{"ListRecords", "ListIdentifiers"} {
				hs, recs, bodies := f.harvest(verb, "metadataPrefix="+prefix+args)
				for i, b := range bodies {
					v.add(fmt.Sprintf("%s %s%s page %d", verb, prefix, args, i), b)
				}
				if verb == "ListRecords" && len(recs) != len(hs) {
					t.Errorf("%s %s: %d records for %d headers", verb, args, len(recs), len(hs))
				}
				if prefix == "oai_dc" && args == "" && verb == "ListIdentifiers" {
					for _, h := range hs {
						idents = append(idents, h.Identifier)
					}
				}
			}
		}
		v.check()
	}
	if len(idents) < 100 {
		t.Fatalf("only %d records in the catalog", len(idents))
	}
	deleted := 0
	for _, id := range idents {
		for _, prefix := range []string{"oai_dc", "marc21", "marcxml"} {
			r, body := f.get("verb=GetRecord&metadataPrefix=" + prefix + "&identifier=" + url.QueryEscape(id))
			if r.GetRecord == nil {
				t.Fatalf("GetRecord %s: %s", id, clip(body))
			}
			if prefix == "oai_dc" && r.GetRecord.Record.Header.Status == "deleted" {
				deleted++
			}
			v.add("GetRecord "+prefix+" "+id, body)
		}
		_, body := f.get("verb=ListMetadataFormats&identifier=" + url.QueryEscape(id))
		v.add("ListMetadataFormats "+id, body)
	}
	if deleted == 0 {
		t.Error("no deleted record was checked")
	}
	v.check()

	for _, q := range []string{"verb=Identify", "verb=ListMetadataFormats"} {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			_, body := f.do(m, q, "Accept-Encoding", "gzip")
			v.add(m+" "+q, body)
		}
	}
	_, _, bodies := f.harvestSets()
	for i, b := range bodies {
		v.add(fmt.Sprintf("ListSets page %d", i), b)
	}
	// Every error, and requests built to break the XML.
	for _, q := range []string{
		"", "junk", "verb=junk", "verb=%00", "verb=Identify&junk", `verb=GetRecord&metadataPrefix=oai_dc&identifier=invalid"id`,
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=" + url.QueryEscape("oai:x:<]]>&\x01\xff\uFFFE"),
		"verb=ListMetadataFormats&identifier=" + url.QueryEscape("oai:"+testDomain+":a b"),
		"verb=ListRecords&metadataPrefix=oai_dc&from=2024-13-01", "verb=ListRecords&metadataPrefix=oai_dc&from=2024-05-01&until=2024-05-01T00:00:00Z",
		"verb=ListRecords&metadataPrefix=nope", "verb=ListRecords&metadataPrefix=oai_dc&until=1999-01-01",
		"verb=ListRecords&resumptionToken=" + url.QueryEscape("\x00<&\"'>"), "verb=ListSets&resumptionToken=x",
		"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:" + testDomain + ":u0000zzzz",
		"verb=ListIdentifiers&metadataPrefix=oai_dc&set=nope",
	} {
		_, body := f.do(http.MethodGet, q)
		parseResponse(t, q, body)
		v.add(q, body)
	}
	v.check()
}

// harvestSets runs ListSets to the end.
func (f *fixture) harvestSets() (specs, names []string, bodies [][]byte) {
	f.t.Helper()
	q := "verb=ListSets"
	for {
		r, body := f.get(q)
		bodies = append(bodies, body)
		if r.ListSets == nil {
			f.t.Fatalf("%s: %s", q, clip(body))
		}
		for _, s := range r.ListSets.Sets {
			specs = append(specs, s.Spec)
			names = append(names, s.Name)
		}
		if r.ListSets.Token == nil || r.ListSets.Token.Value == "" {
			return specs, names, bodies
		}
		q = "verb=ListSets&resumptionToken=" + url.QueryEscape(r.ListSets.Token.Value)
	}
}

func TestListSets(t *testing.T) {
	f := catalogFixture(t, 3)
	specs, names, _ := f.harvestSets()
	want := []string{"level", "level:commune", "level:district", "level:province", "library", "library:NA-TINH", "library:NA-VINH", "library:NA~2FNGHI~20LOC"}
	if strings.Join(specs, " ") != strings.Join(want, " ") {
		t.Errorf("sets %v, want %v", specs, want)
	}
	for i, s := range specs {
		if s == "library:NA-TINH" && names[i] != "Thư viện tỉnh Nghệ An" {
			t.Errorf("set %s is named %q", s, names[i])
		}
		if names[i] == "" {
			t.Errorf("set %s has no name", s)
		}
	}
}

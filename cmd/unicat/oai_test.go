package main

import (
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
)

// TestServeOAI imports the demo libraries, starts `unicat serve` and
// harvests /oai: Identify, every page of ListRecords in marc21 and oai_dc,
// ListSets, over GET, POST and gzip; every response validates against the
// OAI-PMH schemas.
func TestServeOAI(t *testing.T) {
	xmllint := testpeer.Need(t, "xmllint")
	cfg := demoConfig(t)
	if _, e, code := runUnicat(t, "import", "--config", cfg, "--all"); code != 0 {
		t.Fatal(e)
	}
	// A list holds what was stamped before the second of its first
	// request; the import must be in the past.
	time.Sleep(1100 * time.Millisecond)
	cmd, addrs := startServe(t, cfg, httpAddrRe)
	addr := addrs[0]
	base := "http://" + addr + "/oai"

	dir := t.TempDir()
	var docs []string
	fetch := func(method, query string, gz bool) []byte {
		t.Helper()
		var req *http.Request
		if method == http.MethodPost {
			req, _ = http.NewRequest(method, base, strings.NewReader(query))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req, _ = http.NewRequest(method, base+"?"+query, nil)
		}
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/xml; charset=utf-8" {
			t.Fatalf("%s %s: HTTP %d, %s", method, query, res.StatusCode, ct)
		}
		var body io.Reader = res.Body
		if gz {
			if res.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("%s: asked for gzip, got %q", query, res.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("%03d.xml", len(docs)))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, p)
		return b
	}
	type page struct {
		Records []struct {
			Identifier string `xml:"header>identifier"`
		} `xml:"ListRecords>record"`
		Token string `xml:"ListRecords>resumptionToken"`
		Error string `xml:"error"`
	}
	harvest := func(prefix string) int {
		n := 0
		q := "verb=ListRecords&metadataPrefix=" + prefix
		for {
			var p page
			if err := xml.Unmarshal(fetch(http.MethodGet, q, n%2 == 0), &p); err != nil {
				t.Fatal(err)
			}
			if p.Error != "" || len(p.Records) == 0 {
				t.Fatalf("%s: error %q, %d records", q, p.Error, len(p.Records))
			}
			n += len(p.Records)
			if p.Token == "" {
				return n
			}
			q = "verb=ListRecords&resumptionToken=" + url.QueryEscape(p.Token)
		}
	}

	if b := fetch(http.MethodGet, "verb=Identify", false); !strings.Contains(string(b), "<repositoryIdentifier>demo.unicat.invalid</repositoryIdentifier>") {
		t.Errorf("Identify:\n%s", b)
	}
	fetch(http.MethodPost, "verb=ListSets", true)
	fetch(http.MethodGet, "verb=ListMetadataFormats", false)
	fetch(http.MethodGet, `verb=GetRecord&metadataPrefix=oai_dc&identifier=invalid"id`, false)
	marc21, dc := harvest("marc21"), harvest("oai_dc")
	if marc21 < 50 || marc21 != dc {
		t.Errorf("harvested %d marc21 and %d oai_dc records", marc21, dc)
	}

	out, err := exec.Command(xmllint, append([]string{"--noout", "--nonet", "--schema", "../../testdata/schemas/oai-pmh-full.xsd"}, docs...)...).CombinedOutput()
	if err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}

	stopServe(t, cmd)
}

package sru

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/unicat/unicat/catalog/catalogtest"
	"github.com/unicat/unicat/internal/marctest"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
)

// testCatalog is a server over the test's documents (catalogtest).
type testCatalog struct {
	cat *catalogtest.Catalog
	srv *Server
}

func newTestCatalog(t testing.TB, docs []search.Doc) *testCatalog {
	t.Helper()
	cat := catalogtest.New(t, docs)
	return &testCatalog{cat: cat, srv: New(Config{Catalog: cat})}
}

// get sends a GET with the given parameters and returns the body; the
// status must be 200 and the body well-formed XML.
func (c *testCatalog) get(t testing.TB, params ...string) *node {
	t.Helper()
	q := url.Values{}
	for i := 0; i+1 < len(params); i += 2 {
		q.Add(params[i], params[i+1])
	}
	rec := httptest.NewRecorder()
	c.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sru?"+q.Encode(), nil))
	return parseResponse(t, rec.Result())
}

func parseResponse(t testing.TB, res *http.Response) *node {
	t.Helper()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Fatalf("content type %q", ct)
	}
	n, err := parseXML(body)
	if err != nil {
		t.Fatalf("response is not well-formed XML: %v\n%s", err, body)
	}
	return n
}

// node is a parsed XML element.
type node struct {
	Space, Local string
	Attrs        map[string]string
	Children     []*node
	Text         string // character data directly inside
	raw          []byte // the whole document (root only)
}

func parseXML(b []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{Space: tok.Name.Space, Local: tok.Name.Local, Attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tok)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	root.raw = b
	return root, nil
}

// names lists the local names of the children.
func (n *node) names() []string {
	var out []string
	for _, c := range n.Children {
		out = append(out, c.Local)
	}
	return out
}

// child returns the first child with the local name, or nil.
func (n *node) child(local string) *node {
	for _, c := range n.Children {
		if c.Local == local {
			return c
		}
	}
	return nil
}

func (n *node) path(locals ...string) *node {
	for _, l := range locals {
		if n == nil {
			return nil
		}
		n = n.child(l)
	}
	return n
}

func (n *node) all(local string) []*node {
	var out []*node
	for _, c := range n.Children {
		if c.Local == local {
			out = append(out, c)
		}
	}
	return out
}

// diagnostics returns the codes of the response's diagnostics.
func (n *node) diagnostics() []string {
	d := n.child("diagnostics")
	if d == nil {
		return nil
	}
	var out []string
	for _, c := range d.all("diagnostic") {
		out = append(out, strings.TrimPrefix(c.child("uri").Text, diagPrefix))
	}
	return out
}

// rec builds a record from tag/value pairs (see marctest.Record).
func rec(fields ...string) *marc.Record { return marctest.Record(fields...) }

var testDocs = []search.Doc{
	{ID: "u1", Record: rec("001", "u1", "008", "150101s2015    vm            000 0 vie d",
		"020", "$a978-604-69-2437-1", "100", "0 $aNguyễn Du,$d1765-1820.", "245", "10$aTruyện Kiều :$bthơ /$cNguyễn Du.",
		"260", "$aH. :$bVăn học,$c2015.", "852", "$aNA-TINH$bprovince")},
	{ID: "u2", Record: rec("001", "u2", "008", "110101s2011    vm            000 0 vie d",
		"100", "1 $aĐặng, Thai Mai.", "245", "10$aVăn thơ cách mạng", "260", "$bGiáo dục,$c2011", "852", "$aNA-VINH$bdistrict")},
	{ID: "u3", Record: rec("001", "u3", "008", "990101s1999    xxu           000 0 eng d",
		"020", "$a0-19-852663-6", "100", "1 $aDang, John.", "245", "14$aThe history of computing",
		"260", "$bOxford University Press,$c1999", "852", "$aNA-TINH$bprovince")},
	{ID: "u4", Record: rec("001", "u4", "008", "000101s2000    xxu           000 0 eng d",
		"100", "1 $aAbbott, Edwin A.", "245", "10$aFlatland :$ba romance of many dimensions", "260", "$bDover,$c2000",
		"852", "$aNA-TINH$bprovince")},
}

// readMARCFile reads every record of an ISO 2709 or MARCXML file.
func readMARCFile(t testing.TB, path string) []*marc.Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, ok := marc.Sniff(data)
	if !ok {
		t.Fatalf("%s: unknown format", path)
	}
	rd := marc.NewReader(bytes.NewReader(data), f, marc.ReaderOptions{Source: path})
	var out []*marc.Record
	for {
		r, err := rd.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, r)
	}
}

func nfd(s string) string { return norm.NFD.String(s) }

package catalog

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/internal/marctest"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
	"github.com/unicat/unicat/store"
)

// formatDoc is the on-disk format's documentation, read by the tests
// below, which fail when it no longer describes what the code writes.
const formatDoc = "../docs/format.md"

// TestFormatDocDescribesTheFile builds a catalog from a few records (one
// received in NFD, deletions, runs, a checkpoint), lists what
// the bbolt file holds and checks it against docs/format.md: every bucket
// and nested bucket kind is in the document's bucket table and every
// bucket the table lists (but the legacy and build-time ones) is in the file; the
// versions in the document's title are those the code writes; values
// start with a version byte the table lists; the meta buckets' keys and
// the search index's index ids and term kinds are documented.
func TestFormatDocDescribesTheFile(t *testing.T) {
	doc := readFormatDoc(t)
	path := filepath.Join(t.TempDir(), "unicat.db")
	buildFormatCatalog(t, path)
	db, err := bbolt.Open(path, 0o644, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		checkTitleVersions(t, doc, tx)
		checkBuckets(t, doc, tx)
		checkMetaKeys(t, doc, tx)
		checkTerms(t, doc, tx.Bucket([]byte("search.terms")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readFormatDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(formatDoc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// buildFormatCatalog writes a catalog at path with something in every
// bucket this version writes.
func buildFormatCatalog(t *testing.T, path string) {
	t.Helper()
	c := open(t, path)
	defer c.Close()
	st := c.Store()
	kieuT1 := formatRecord("t1")
	kieuT1.Record = receivedNFD(t, kieuT1.Record) // converted: a version 2 record, counted in encodings
	if _, err := st.Apply(store.Batch{Source: "tinh", Records: []store.Incoming{kieuT1, soDo("t2")},
		Checkpoint: []byte(`{"files":{}}`)}); err != nil {
		t.Fatal(err)
	}
	// A bulk load leaves its bucket behind (empty once built).
	if err := c.BeginBulk(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(store.Batch{Source: "vinh", Records: []store.Incoming{formatRecord("v1")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.FinishBulk(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	// Số đỏ's union record is deleted; "gone" was never stored.
	if _, err := st.Apply(store.Batch{Source: "tinh", Deletions: []store.Deletion{{LocalID: "t2"}, {LocalID: "gone"}}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	seq, err := st.BeginRun("tinh", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EndRun("tinh", seq, store.Run{Start: now, End: now, Added: 2}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutRun("vinh", store.Run{Start: now, End: now, Added: 1, Duplicates: 1, Notes: "a duplicate"}); err != nil {
		t.Fatal(err)
	}
}

// formatRecord is a record that gives every search index a key.
func formatRecord(id string) store.Incoming {
	return store.Incoming{LocalID: id, Record: marctest.Record("001", id,
		"008", "150101s2015    vm            000 0 vie d",
		"010", "$a  2015000001", "020", "$a9786049690071", "022", "$a0866-7675", "041", "0 $avie",
		"080", "$a821.922", "082", "04$a895.92212", "100", "0 $aNguyễn Du", "245", "10$aTruyện Kiều",
		"260", "$aH. :$bVăn học,$c2015", "650", " 7$aThơ", "856", "40$uhttp://example.vn/kieu")}
}

// receivedNFD returns rec as a reader gives it when it arrives in NFD:
// the same record, with an Origin saying it was converted.
func receivedNFD(t *testing.T, rec *marc.Record) *marc.Record {
	t.Helper()
	for i := range rec.Fields {
		for j := range rec.Fields[i].Subfields {
			sf := &rec.Fields[i].Subfields[j]
			sf.Value = norm.NFD.String(sf.Value)
		}
	}
	raw, err := marc.AppendISO2709(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	out, err := marc.DecodeISO2709(raw, marc.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Origin == nil {
		t.Fatal("a record in NFD read without an Origin")
	}
	return out
}

// bucketRow is one row of the document's bucket table.
type bucketRow struct {
	name     string
	legacy   bool   // written by an older version, or only while a build runs
	versions []byte // the version bytes written; nil when values have none
}

// tableRows returns the rows of the Markdown table between the comment
// starting with start and the one starting with end, each as its cells.
func tableRows(t *testing.T, doc, start, end string) [][]string {
	t.Helper()
	i := strings.Index(doc, start)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s: no table between %q and %q", formatDoc, start, end)
	}
	var rows [][]string
	for _, line := range strings.Split(doc[i:j], "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for k := range cells {
			cells[k] = strings.TrimSpace(cells[k])
		}
		rows = append(rows, cells)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: the table after %q is empty", formatDoc, start)
	}
	return rows[1:] // without the header
}

var backticked = regexp.MustCompile("`([^`]+)`")

func firstBackticked(s string) string {
	if m := backticked.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

func bucketTable(t *testing.T, doc string) map[string]bucketRow {
	t.Helper()
	rows := map[string]bucketRow{}
	for _, cells := range tableRows(t, doc, "<!-- bucket table", "<!-- end of bucket table") {
		r := bucketRow{name: firstBackticked(cells[0]), legacy: strings.Contains(cells[1], "legacy") || strings.Contains(cells[1], "during a build")}
		if r.name == "" {
			t.Fatalf("%s: bucket table row %q names no bucket", formatDoc, cells)
		}
		if v := cells[len(cells)-1]; v != "—" {
			for _, f := range strings.Split(v, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n < 0 || n > 255 {
					t.Fatalf("%s: bucket %s: version bytes %q", formatDoc, r.name, v)
				}
				r.versions = append(r.versions, byte(n))
			}
		}
		rows[r.name] = r
	}
	return rows
}

// nestedRow returns the row documenting the nested buckets of top-level
// bucket parent ("runs/<source id>").
func nestedRow(rows map[string]bucketRow, parent string) (bucketRow, bool) {
	for name, r := range rows {
		if strings.HasPrefix(name, parent+"/") {
			return r, true
		}
	}
	return bucketRow{}, false
}

func checkBuckets(t *testing.T, doc string, tx *bbolt.Tx) {
	rows := bucketTable(t, doc)
	seen := map[string]bool{}
	checkValues := func(where string, r bucketRow, b *bbolt.Bucket) {
		b.ForEach(func(k, v []byte) error {
			if v == nil && b.Bucket(k) != nil {
				return nil
			}
			if r.versions != nil && (len(v) == 0 || !slices.Contains(r.versions, v[0])) {
				t.Errorf("%s %q: value starts with %x, the document lists version bytes %v", where, k, v[:min(len(v), 1)], r.versions)
			}
			return nil
		})
	}
	tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
		top := string(name)
		r, ok := rows[top]
		if !ok {
			t.Errorf("bucket %s is in the file but not in the bucket table of %s", top, formatDoc)
			return nil
		}
		seen[top] = true
		checkValues(top, r, b)
		b.ForEachBucket(func(k []byte) error {
			nr, ok := nestedRow(rows, top)
			if !ok {
				t.Errorf("bucket %s holds nested bucket %q, and %s documents no nested buckets of %s", top, k, formatDoc, top)
				return nil
			}
			seen[nr.name] = true
			nb := b.Bucket(k)
			checkValues(top+"/"+string(k), nr, nb)
			nb.ForEachBucket(func(k2 []byte) error {
				t.Errorf("bucket %s/%s holds nested bucket %q: not documented", top, k, k2)
				return nil
			})
			return nil
		})
		return nil
	})
	for name, r := range rows {
		if !r.legacy && !seen[name] {
			t.Errorf("%s documents bucket %s, which this version did not write", formatDoc, name)
		}
	}
}

// titleVersions reads the versions the document's title names.
func titleVersions(t *testing.T, doc string) map[string][]int {
	t.Helper()
	title, _, _ := strings.Cut(doc, "\n")
	out := map[string][]int{}
	for what, pattern := range map[string]string{
		"schema": `schema (\d+)`,
		"dedup":  `dedup layout (\d+)`,
		"search": `search layout (\d+), table (\d+)`,
		"oaipmh": `oaipmh index (\d+)`,
	} {
		m := regexp.MustCompile(pattern).FindStringSubmatch(title)
		if m == nil {
			t.Fatalf("%s: the title %q names no %s version (%s)", formatDoc, title, what, pattern)
		}
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			out[what] = append(out[what], n)
		}
	}
	return out
}

// checkTitleVersions compares the title's versions with the code's: the
// store's exported constant, and for the others what they write into
// their meta buckets.
func checkTitleVersions(t *testing.T, doc string, tx *bbolt.Tx) {
	want := titleVersions(t, doc)
	meta := func(bucket, key string) []byte {
		b := tx.Bucket([]byte(bucket))
		if b == nil {
			t.Fatalf("no bucket %s", bucket)
		}
		v := b.Get([]byte(key))
		if v == nil {
			t.Fatalf("%s has no %q", bucket, key)
		}
		return v
	}
	u32 := func(v []byte, what string) int {
		if len(v) != 4 {
			t.Fatalf("%s is %d bytes long, want 4", what, len(v))
		}
		return int(binary.BigEndian.Uint32(v))
	}
	sv := meta("search.meta", "version")
	if len(sv) != 8 {
		t.Fatalf("search.meta version is %d bytes long, want 8", len(sv))
	}
	got := map[string][]int{
		"schema": {u32(meta("meta", "schema"), "meta schema")},
		"dedup":  {u32(meta("dedup.meta", "version"), "dedup.meta version")},
		"search": {u32(sv[:4], "search layout"), u32(sv[4:], "search table")},
		"oaipmh": {int(meta("oaipmh.meta", "version")[0])},
	}
	if store.SchemaVersion != want["schema"][0] {
		t.Errorf("%s title: schema %d, store.SchemaVersion is %d", formatDoc, want["schema"][0], store.SchemaVersion)
	}
	for what, w := range want {
		if !slices.Equal(got[what], w) {
			t.Errorf("%s title: %s version %v, the code writes %v", formatDoc, what, w, got[what])
		}
	}
}

// section returns the part of the document under the "### " heading
// whose first backticked name is name, up to the next heading.
func section(t *testing.T, doc, name string) string {
	t.Helper()
	parts := strings.Split(doc, "\n### ")
	for _, p := range parts[1:] {
		heading, _, _ := strings.Cut(p, "\n")
		if firstBackticked(heading) == name {
			body, _, _ := strings.Cut(p, "\n## ")
			return body
		}
	}
	t.Fatalf("%s has no section ### `%s`", formatDoc, name)
	return ""
}

// checkMetaKeys checks that every key of the meta buckets is in the
// first column of a table of the bucket's section; "<...>" in a
// documented key stands for any text.
func checkMetaKeys(t *testing.T, doc string, tx *bbolt.Tx) {
	for _, bucket := range []string{"meta", "dedup.meta", "search.meta", "oaipmh.meta", "catalog.meta"} {
		var pats []*regexp.Regexp
		for _, line := range strings.Split(section(t, doc, bucket), "\n") {
			if !strings.HasPrefix(line, "| `") {
				continue
			}
			cell, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
			k := firstBackticked(cell)
			var re strings.Builder
			for _, part := range regexp.MustCompile(`<[^>]*>`).Split(k, -1) {
				if re.Len() > 0 {
					re.WriteString(".+")
				}
				re.WriteString(regexp.QuoteMeta(part))
			}
			pats = append(pats, regexp.MustCompile("^"+re.String()+"$"))
		}
		if len(pats) == 0 {
			t.Errorf("%s: section %s documents no keys", formatDoc, bucket)
			continue
		}
		tx.Bucket([]byte(bucket)).ForEach(func(k, _ []byte) error {
			if !slices.ContainsFunc(pats, func(re *regexp.Regexp) bool { return re.Match(k) }) {
				t.Errorf("%s key %q is not documented in %s", bucket, k, formatDoc)
			}
			return nil
		})
	}
}

// termKinds are the term kinds each kind of index may have keys of.
var termKinds = map[string]string{
	"text": "wxbpq", "anywhere": "wxb", "code": "p", "identifier": "p", "number": "n",
}

// checkTerms checks search.terms against the document's tables of index
// ids and term kinds: every key's index id and kind are documented, the
// documented indexes are search.Indexes() with their kinds, each has
// keys in the file, and each only of the kinds its index kind has.
func checkTerms(t *testing.T, doc string, terms *bbolt.Bucket) {
	kinds := map[byte]bool{}
	for _, cells := range tableRows(t, doc, "<!-- term kinds", "<!-- end of term kinds") {
		if k := firstBackticked(cells[0]); len(k) == 1 {
			kinds[k[0]] = true
		} else {
			t.Errorf("%s: term kind %q is not one byte", formatDoc, cells[0])
		}
	}
	type ixDoc struct{ name, kind string }
	ids := map[byte]ixDoc{}
	for _, cells := range tableRows(t, doc, "<!-- index ids", "<!-- end of index ids") {
		n, err := strconv.Atoi(cells[0])
		if err != nil || n < 0 || n > 255 {
			t.Fatalf("%s: index id %q", formatDoc, cells[0])
		}
		ids[byte(n)] = ixDoc{firstBackticked(cells[1]), cells[2]}
	}
	documented := map[string]string{}
	for _, d := range ids {
		if d.name != "" {
			documented[d.name] = d.kind
		}
	}
	for _, def := range search.Indexes() {
		if k, ok := documented[def.Name]; !ok {
			t.Errorf("index %s has no storage id in %s", def.Name, formatDoc)
		} else if k != def.Kind.String() {
			t.Errorf("%s: index %s is of kind %s, the code says %s", formatDoc, def.Name, k, def.Kind)
		}
		delete(documented, def.Name)
	}
	for name := range documented {
		t.Errorf("%s documents index %s, which search.Indexes() does not have", formatDoc, name)
	}
	has := map[byte]bool{}
	terms.ForEach(func(k, _ []byte) error {
		if len(k) < 4 {
			t.Errorf("search.terms key %q is shorter than index id, kind, chunk", k)
			return nil
		}
		ix, kind := k[0], k[1]
		d, ok := ids[ix]
		switch {
		case !ok:
			t.Errorf("search.terms key %q: index id %d is not documented", k, ix)
		case !kinds[kind]:
			t.Errorf("search.terms key %q: term kind %q is not documented", k, kind)
		case d.name != "" && !strings.ContainsRune(termKinds[d.kind], rune(kind)):
			t.Errorf("search.terms key %q: a key of kind %q in index %s, of kind %s", k, kind, d.name, d.kind)
		}
		has[ix] = true
		return nil
	})
	for ix, d := range ids {
		if !has[ix] {
			t.Errorf("index %d (%s) has no keys in the file: the test's records should give it some", ix, d.name)
		}
	}
	// The documented id of each index holds a key only that index has
	// (of formatRecord's values): two ids swapped in the document fail.
	byName := map[string]byte{}
	for ix, d := range ids {
		byName[d.name] = ix
	}
	for name, kt := range indexTerms {
		k := append([]byte{byName[name], kt[0], 0, 0}, kt[1:]...)
		if terms.Get(k) == nil {
			t.Errorf("%s: index %s is id %d, and the file has no key %q there", formatDoc, name, byName[name], k)
		}
	}
}

// indexTerms are a key, kind then term, that the union record of
// formatRecord gets in each index.
var indexTerms = map[string]string{
	"":         "a", // the key of every live document, documented as id 255
	"anywhere": "wkieu", "title": "wtruyen", "creator": "wnguyen", "subject": "ptho", "publisher": "pvan hoc",
	"date": "n2015", "identifier": "phttp://example.vn/kieu", "isbn": "p9786049690071", "issn": "p08667675",
	"lccn": "p2015000001", "id": "pu00000001", "dewey": "w895", "callnumber": "w821", "language": "pvie",
	"type": "pbook", "library": "pna-tinh", "level": "pprovince", "online": "p1",
}

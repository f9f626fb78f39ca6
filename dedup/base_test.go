package dedup

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
)

// baseRecord is a real record from the repository's testdata, the seed of
// the labelled set.
type baseRecord struct {
	source string // the library it stands for in the labelled set
	file   string // relative to testdata/
	index  int    // 1-based in the file
	rec    *marc.Record
}

// baseFiles lists the testdata files of the labelled set and the source
// each stands for. The four Vietnamese demo files are four libraries;
// every international collection is a library of its own, and the two
// Open Library copies of "Poganuc people" are put in two libraries since
// they are a natural duplicate.
var baseFiles = []struct {
	glob, source string
	charset      marc.Charset
}{
	{"vietnamese/na-tinh.xml", "na-tinh", ""},
	{"vietnamese/vinh.mrc", "vinh", ""},
	{"vietnamese/dien-chau.mrc", "dien-chau", ""},
	{"vietnamese/xa-nghi-loc.mrc", "nghi-loc", marc.CharsetWindows1258},
	{"marc/openlibrary/[^n]*.mrc", "openlibrary", ""},
	{"marc/openlibrary/n*.mrc", "openlibrary-2", ""},
	{"marc/zebra/sample-marc.mrc", "zebra", ""},
	{"marc/zebra/collection-opera-43.xml", "opera", ""},
	{"marc/recordmanager/marc[0-9].xml", "recordmanager", ""},
	{"marc/recordmanager/marc_*.xml", "recordmanager", ""},
	{"marc/yaz/marccol*.u8.marc", "yaz-col", ""},
	{"marc/yaz/marc[0-9].marc", "yaz", ""},
	{"marc/yaz/marc12.marc", "yaz", ""},
}

// loadBase reads every base record. Records the readers reject are left
// out (the marc tests cover them); so are the yaz danmarc files, a
// charset unicat does not read.
func loadBase(t testing.TB) []baseRecord {
	t.Helper()
	root := filepath.Join("..", "testdata")
	var out []baseRecord
	for _, bf := range baseFiles {
		files, err := filepath.Glob(filepath.Join(root, bf.glob))
		if err != nil || len(files) == 0 {
			t.Fatalf("labelled set: no files match %s (%v)", bf.glob, err)
		}
		sort.Strings(files)
		for _, name := range files {
			cs := bf.charset
			if chr, err := os.ReadFile(strings.TrimSuffix(name, ".marc") + ".chr"); err == nil {
				switch strings.TrimSpace(string(chr)) {
				case "danmarc":
					continue
				case "iso-8859-1":
					cs = marc.CharsetLatin1
				case "marc-8":
					cs = marc.CharsetMARC8
				case "utf-8":
					cs = marc.CharsetUTF8
				}
			}
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			head := make([]byte, 512)
			n, _ := io.ReadFull(f, head)
			f.Seek(0, io.SeekStart)
			format, ok := marc.Sniff(head[:n])
			if !ok {
				t.Fatalf("%s: unknown format", name)
			}
			rd := marc.NewReader(f, format, marc.ReaderOptions{Source: name, Charset: cs})
			rel, _ := filepath.Rel(root, name)
			for i := 1; ; i++ {
				rec, err := rd.Next()
				if err == io.EOF {
					break
				}
				var re *marc.RecordError
				if errors.As(err, &re) {
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				out = append(out, baseRecord{source: bf.source, file: rel, index: i, rec: rec})
			}
			f.Close()
		}
	}
	return out
}

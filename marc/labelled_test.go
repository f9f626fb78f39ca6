package marc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/marc/internal/vnforms"
)

// The labelled test set (testdata/vietnamese/encodings, written by
// marc/internal/gen/vntestdata from the oracles): 60 constructed records
// of real Vietnamese works and names in each form Vietnamese libraries
// export, and a file mixing them. Every form must come out, without any
// charset setting, equal to the NFC original in at least 99% of its
// fields; and no record of the real, non-Vietnamese test files may read
// differently with detection than its label says.

const labelledMinRate = 0.99

func labelledDir() string { return rwTestdata("vietnamese", "encodings") }

func readFile(t *testing.T, path string, opts ReaderOptions) []*Record {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := FormatISO2709
	if strings.HasSuffix(path, ".xml") {
		f = FormatMARCXML
	}
	recs, _, errs := rwReadAll(t, NewReader(bytes.NewReader(data), f, opts))
	if len(errs) > 0 {
		t.Fatalf("%s: %v", path, errs[0])
	}
	return recs
}

// fieldsEqual counts the fields of got equal to want's, in order.
func fieldsEqual(got, want *Record) (equal, total int) {
	total = len(want.Fields)
	for i := range want.Fields {
		if i < len(got.Fields) && reflect.DeepEqual(got.Fields[i], want.Fields[i]) {
			equal++
		}
	}
	return equal, total
}

func TestLabelledSet(t *testing.T) {
	want := readFile(t, filepath.Join(labelledDir(), "nfc.mrc"), ReaderOptions{Charset: CharsetUTF8})
	if len(want) < 60 {
		t.Fatalf("reference has %d records", len(want))
	}
	names := []string{}
	for _, f := range vnforms.Forms {
		names = append(names, f.Name)
	}
	names = append(names, "mixed")
	var report strings.Builder
	fmt.Fprintf(&report, "%-14s %8s %8s %7s  %s\n", "form", "fields", "equal", "rate", "read as")
	for _, name := range names {
		got := readFile(t, filepath.Join(labelledDir(), name+".mrc"), ReaderOptions{})
		if len(got) != len(want) {
			t.Errorf("%s: %d records, want %d", name, len(got), len(want))
			continue
		}
		eq, total := 0, 0
		as := map[string]int{}
		for i := range want {
			e, n := fieldsEqual(got[i], want[i])
			eq, total = eq+e, total+n
			as[got[i].Origin.Encoding()]++
			if e < n && testing.Verbose() {
				for j := range want[i].Fields {
					if j < len(got[i].Fields) && !reflect.DeepEqual(got[i].Fields[j], want[i].Fields[j]) {
						t.Logf("%s record %d (%s): %+v, want %+v", name, i+1, want[i].ControlNumber(), got[i].Fields[j], want[i].Fields[j])
					}
				}
			}
		}
		rate := float64(eq) / float64(total)
		fmt.Fprintf(&report, "%-14s %8d %8d %6.2f%%  %v\n", name, total, eq, 100*rate, as)
		if rate < labelledMinRate {
			t.Errorf("%s: %d of %d fields right (%.2f%%), want at least %.0f%%", name, eq, total, 100*rate, 100*labelledMinRate)
		}
	}
	t.Logf("repair rates, no charset configured:\n%s", report.String())
}

// negativeFiles are the real records of other languages: English,
// French, German, Danish, Latin, romanised Russian and Chinese, in
// UTF-8, MARC-8 and MARCXML.
func negativeFiles(t *testing.T) []string {
	files := rwISOFiles(t)
	for _, pat := range []string{"recordmanager/*.xml", "zebra/*.xml"} {
		m, _ := filepath.Glob(rwTestdata("marc", pat))
		files = append(files, m...)
	}
	m, _ := filepath.Glob(rwTestdata("marc8", "*.marc"))
	return append(files, m...)
}

// TestNoFalseRepairs: no record whose label reads every byte changes
// under detection. A record with bytes its label cannot read may be read
// another way (vnortho.Rescue); those are listed.
func TestNoFalseRepairs(t *testing.T) {
	records, changed, rescued := 0, 0, 0
	for _, path := range negativeFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := Sniff(data)
		label, _, _ := rwReadAll(t, NewReader(bytes.NewReader(data), f, ReaderOptions{Charset: CharsetLabel}))
		auto, _, _ := rwReadAll(t, NewReader(bytes.NewReader(data), f, ReaderOptions{}))
		if len(label) != len(auto) {
			t.Errorf("%s: %d records with detection, %d without", path, len(auto), len(label))
			continue
		}
		for i := range label {
			records++
			if e, n := fieldsEqual(auto[i], label[i]); e == n && len(auto[i].Fields) == n {
				continue
			}
			if label[i].Origin != nil && label[i].Origin.Replaced > 0 {
				rescued++
				t.Logf("%s record %d: its label leaves %d characters unreadable; read as %s instead", filepath.Base(path), i+1, label[i].Origin.Replaced, auto[i].Origin.Encoding())
				continue
			}
			changed++
			t.Errorf("%s record %d (%s): read as %s instead of its label's reading", path, i+1, label[i].ControlNumber(), auto[i].Origin.Encoding())
		}
	}
	t.Logf("%d records of other languages: %d changed by detection (false repairs), %d with unreadable bytes read another way", records, changed, rescued)
	if records < 150 {
		t.Errorf("only %d records in the negative set", records)
	}
}

// TestLabelledFixturesFromOracles: the committed forms are what the
// oracles make of the sources today.
func TestLabelledFixturesFromOracles(t *testing.T) {
	vc := testpeer.NeedVNConv(t)
	testpeer.Need(t, "iconv")
	or, err := vnforms.NewOracles(vc)
	if err != nil {
		t.Fatal(err)
	}
	var set []vnforms.Record
	for _, name := range []string{"na-tinh", "vinh", "dien-chau", "xa-nghi-loc", "labelled"} {
		p := rwTestdata("vietnamese", "src", name+".mrk")
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := vnforms.ParseMRK(p, string(text))
		if err != nil {
			t.Fatal(err)
		}
		set = append(set, recs...)
	}
	check := func(name string, data []byte, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		committed, err := os.ReadFile(filepath.Join(labelledDir(), name+".mrc"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, committed) {
			t.Errorf("%s.mrc differs from what the oracles make: run go run ./marc/internal/gen/vntestdata", name)
		}
	}
	for _, f := range vnforms.Forms {
		data, err := vnforms.Build(or, f.Name, set)
		check(f.Name, data, err)
	}
	data, err := vnforms.Mixed(or, set)
	check("mixed", data, err)
}

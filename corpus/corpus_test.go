package corpus

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/marc"
)

func genDir(t *testing.T, opts Options, f marc.Format) (string, Stats) {
	t.Helper()
	dir := t.TempDir()
	st, err := WriteDir(dir, opts, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return dir, st
}

func TestDeterministic(t *testing.T) {
	opts := Options{Records: 3000, Libraries: 7, Seed: 42}
	for _, f := range []marc.Format{marc.FormatISO2709, marc.FormatMARCXML} {
		a, _ := genDir(t, opts, f)
		b, _ := genDir(t, opts, f)
		entries, err := os.ReadDir(a)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 7+2 {
			t.Fatalf("%s: %d files, want 7 exports, truth and libraries", f, len(entries))
		}
		for _, e := range entries {
			x, _ := os.ReadFile(filepath.Join(a, e.Name()))
			y, err := os.ReadFile(filepath.Join(b, e.Name()))
			if err != nil || !bytes.Equal(x, y) {
				t.Errorf("%s: %s differs between two runs with one seed (%v)", f, e.Name(), err)
			}
		}
		opts2 := opts
		opts2.Seed = 43
		c, _ := genDir(t, opts2, f)
		x, _ := os.ReadFile(filepath.Join(a, TruthFile))
		y, _ := os.ReadFile(filepath.Join(c, TruthFile))
		if bytes.Equal(x, y) {
			t.Errorf("%s: seeds 42 and 43 gave the same truth", f)
		}
	}
}

// readTruth returns the truth rows of a corpus directory.
func readTruth(t *testing.T, dir string) []TruthRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []TruthRow
	if err := ReadTruth(f, func(r TruthRow) error { rows = append(rows, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestReadBack reads every export with unicat's readers and with
// yaz-marcdump: the same number of records as the truth, in the truth's
// order per library, every ISBN valid, every holding the library's.
func TestReadBack(t *testing.T) {
	opts := Options{Records: 4000, Libraries: 6, Seed: 7}
	yaz := testpeer.Need(t, "yaz-marcdump")
	for _, f := range []marc.Format{marc.FormatISO2709, marc.FormatMARCXML} {
		dir, st := genDir(t, opts, f)
		rows := readTruth(t, dir)
		if len(rows) != opts.Records || st.Records != opts.Records {
			t.Fatalf("%s: truth has %d rows, stats %d, want %d", f, len(rows), st.Records, opts.Records)
		}
		want := map[string][]string{}
		for _, r := range rows {
			want[r.Source] = append(want[r.Source], r.LocalID)
		}
		total := 0
		for i, lib := range Libraries(opts.Libraries) {
			path := filepath.Join(dir, FileName(lib, f))
			fh, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			rd := marc.NewReader(fh, f, marc.ReaderOptions{Source: path})
			var got []string
			for {
				rec, err := rd.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if w := rd.Warnings(); len(w) > 0 {
					t.Errorf("%s: record %s: warnings %v", path, rec.ControlNumber(), w)
				}
				got = append(got, rec.ControlNumber())
				valid, invalid := rec.ISBNs()
				if len(invalid) > 0 {
					t.Errorf("%s: record %s: invalid ISBNs %v", path, rec.ControlNumber(), invalid)
				}
				for _, isbn := range valid {
					if rec.Languages()[0] == "vie" && !strings.HasPrefix(isbn, "978604") {
						t.Errorf("%s: record %s: Vietnamese book with ISBN %s", path, rec.ControlNumber(), isbn)
					}
				}
				if h := rec.FieldsByTag("852"); len(h) != 1 || h[0].Sub('a') != lib.Code || h[0].Sub('h') == "" {
					t.Errorf("%s: record %s: holdings %+v, want one 852 of %s with a call number", path, rec.ControlNumber(), h, lib.Code)
				}
			}
			fh.Close()
			if strings.Join(got, " ") != strings.Join(want[lib.ID], " ") {
				t.Errorf("%s: %d records read, truth lists %d for %s (or another order)", path, len(got), len(want[lib.ID]), lib.ID)
			}
			total += len(got)
			if st.PerLibrary[i] != len(got) {
				t.Errorf("%s: stats say %d records, file holds %d", path, st.PerLibrary[i], len(got))
			}
			// yaz-marcdump reads the same number of records, without complaint.
			args := []string{path}
			if f == marc.FormatMARCXML {
				args = []string{"-i", "marcxml", path}
			}
			var stderr bytes.Buffer
			cmd := exec.Command(yaz, args...)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("yaz-marcdump %s: %v %s", path, err, stderr.Bytes())
			}
			if n := bytes.Count(out, []byte("\n001 ")); n != len(got) {
				t.Errorf("yaz-marcdump %s: %d records, unicat's reader %d", path, n, len(got))
			}
		}
		if total != opts.Records {
			t.Errorf("%s: %d records in the files, want %d", f, total, opts.Records)
		}
	}
}

// TestTruthConsistent checks the truth against itself: every record once,
// copies of a work in distinct libraries and after the work's first
// record, and no ISBN shared by two works.
func TestTruthConsistent(t *testing.T) {
	g, err := New(Options{Records: 20000, Libraries: 12, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	holders := map[string]map[int]bool{}
	isbnWork := map[string]string{}
	for {
		it, err := g.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		key := g.libs[it.Library].ID + "\t" + it.LocalID
		if seen[key] {
			t.Fatalf("record %s generated twice", key)
		}
		seen[key] = true
		if it.Record.ControlNumber() != it.LocalID {
			t.Fatalf("record %s has 001 %q", key, it.Record.ControlNumber())
		}
		h := holders[it.Work]
		switch it.Kind {
		case Original, LookAlike:
			if h != nil {
				t.Fatalf("%s: %s of work %s, which already exists", key, it.Kind, it.Work)
			}
			h = map[int]bool{}
			holders[it.Work] = h
		case Copy:
			if h == nil {
				t.Fatalf("%s: copy of work %s before its first record", key, it.Work)
			}
		}
		if h[it.Library] {
			t.Fatalf("%s: library %d catalogues work %s twice", key, it.Library, it.Work)
		}
		h[it.Library] = true
		valid, _ := it.Record.ISBNs()
		for _, isbn := range valid {
			if w, ok := isbnWork[isbn]; ok && w != it.Work {
				t.Fatalf("ISBN %s on works %s and %s", isbn, w, it.Work)
			}
			isbnWork[isbn] = it.Work
		}
	}
	st := g.Stats()
	if st.Works != len(holders) || st.Originals+st.Copies+st.LookAlike != st.Records {
		t.Errorf("stats %+v disagree with %d works seen", st, len(holders))
	}
}

// TestShares: the shares of copies and look-alikes are what was asked for.
func TestShares(t *testing.T) {
	for _, c := range []struct{ dup, look float64 }{{0, 0}, {0.1, 0.2}, {0.5, 0.02}, {-1, -1}} {
		g, err := New(Options{Records: 20000, Libraries: 20, Seed: 11, DuplicateShare: c.dup, LookAlikeShare: c.look})
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := g.Next(); err != nil {
				break
			}
		}
		st := g.Stats()
		wantDup, wantLook := c.dup, c.look
		if wantDup == 0 {
			wantDup, wantLook = 0.3, 0.05
		}
		wantDup, wantLook = max(wantDup, 0), max(wantLook, 0)
		gotDup := float64(st.Copies) / float64(st.Records)
		gotLook := float64(st.LookAlike) / float64(st.Records)
		if math.Abs(gotDup-wantDup) > 0.015 || math.Abs(gotLook-wantLook) > 0.015 {
			t.Errorf("asked %.2f copies %.2f look-alikes, got %.4f and %.4f (%+v)", wantDup, wantLook, gotDup, gotLook, st)
		}
	}
}

// TestMemoryFlat: the generator keeps a bounded window, so its heap does
// not grow with the number of records.
func TestMemoryFlat(t *testing.T) {
	g, err := New(Options{Records: 80000, Libraries: 20, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var at20k uint64
	for i := 1; ; i++ {
		if _, err := g.Next(); err != nil {
			break
		}
		if i == 20000 {
			at20k = heap()
		}
	}
	at80k := heap()
	t.Logf("heap after 20k records %d KiB, after 80k %d KiB", at20k>>10, at80k>>10)
	if at80k > at20k+4<<20 {
		t.Errorf("heap grew from %d to %d bytes between 20k and 80k records", at20k, at80k)
	}
	runtime.KeepAlive(g)
}

func TestOldTones(t *testing.T) {
	for in, want := range map[string]string{
		"Hòa bình": "Hoà bình", "thủy lợi": "thuỷ lợi", "Thúy": "Thuý", "hoàn cảnh": "hoàn cảnh",
		"quý": "quý", "khỏe": "khoẻ", "Nguyễn": "Nguyễn",
	} {
		if got := OldTones(in); got != want {
			t.Errorf("OldTones(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVariantAndLookAlike(t *testing.T) {
	g, _ := New(Options{Records: 1, Libraries: 2, Seed: 9})
	changed := 0
	kinds := map[string]int{}
	for i := 0; i < 300; i++ {
		w := g.newWork()
		before, _ := marc.AppendISO2709(nil, w.rec)
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		v, what := Variant(w.rec, rng)
		after, _ := marc.AppendISO2709(nil, w.rec)
		if !bytes.Equal(before, after) {
			t.Fatal("Variant changed its input")
		}
		if what != "" {
			changed++
			for _, k := range strings.Split(what, ",") {
				kinds[k]++
			}
		}
		if v.Title() == "" {
			t.Fatalf("variant lost its title: %v", v)
		}
		for k := OtherEdition; k <= Reprint; k++ {
			la, diff := MakeLookAlike(w.rec, k, rng, func() string { return "978-604-2-99999-3" })
			if diff == "" || la.Title() == "" {
				t.Fatalf("%s look-alike: %q %v", k, diff, la)
			}
			switch k {
			case OtherEdition, Reprint:
				if la.Year() <= w.rec.Year() {
					t.Errorf("%s look-alike year %d, original %d", k, la.Year(), w.rec.Year())
				}
			case OtherVolume:
				if la.First("245").Sub('n') == w.rec.First("245").Sub('n') {
					t.Errorf("volume look-alike has the original's volume")
				}
			case OtherAuthor:
				if la.First("100").Sub('a') == w.rec.First("100").Sub('a') && w.rec.First("100").Sub('a') != "" {
					if !strings.Contains(strings.Join(otherAuthors, "|"), w.rec.First("100").Sub('a')) {
						t.Errorf("author look-alike kept the author")
					}
				}
			}
		}
	}
	if changed < 280 {
		t.Errorf("only %d of 300 variants changed anything", changed)
	}
	for _, k := range []string{"isbn-missing", "isbn-10", "title-retyped", "publisher-abbreviated", "nfd", "old-tones", "minimal"} {
		if kinds[k] == 0 {
			t.Errorf("no variant did %s (%v)", k, kinds)
		}
	}
}

func TestVocabularyFromTestdata(t *testing.T) {
	v := Builtin()
	nvn, nfn := len(v.VNTitles), len(v.ForeignTitles)
	n, err := v.FromFiles(filepath.Join("..", "testdata", "vietnamese"), filepath.Join("..", "testdata", "marc"))
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 || len(v.VNTitles)-nvn < 10 || len(v.ForeignTitles)-nfn < 30 {
		t.Errorf("%d records gave %d Vietnamese and %d foreign titles", n, len(v.VNTitles)-nvn, len(v.ForeignTitles)-nfn)
	}
	if !contains(v.VNTitles, "Truyện Kiều") {
		t.Errorf("Truyện Kiều not among the Vietnamese titles: %q", v.VNTitles)
	}
	// A corpus made with it carries the real titles.
	g, _ := New(Options{Records: 3000, Libraries: 4, Seed: 1, Vocabulary: v})
	real := 0
	for {
		it, err := g.Next()
		if err != nil {
			break
		}
		if contains(v.VNTitles, it.Record.Title()) || contains(v.ForeignTitles, it.Record.Title()) {
			real++
		}
	}
	if real < 50 {
		t.Errorf("only %d of 3000 records carry a real title", real)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{{Records: 10, Libraries: 1}, {Records: -1, Libraries: 3}, {Records: 10, Libraries: 3, DuplicateShare: 0.8, LookAlikeShare: 0.2}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func FuzzReadTruth(f *testing.F) {
	f.Add([]byte(TruthHeader + "\nlib-000\tNAL0000000001\tw1\toriginal\t\n"))
	f.Add([]byte(TruthHeader + "\nx\ty\n"))
	f.Add([]byte("nonsense"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var rows []TruthRow
		err := ReadTruth(bytes.NewReader(b), func(r TruthRow) error { rows = append(rows, r); return nil })
		if err != nil {
			return
		}
		// Accepted input: the rows written out read back the same.
		var buf bytes.Buffer
		buf.WriteString(TruthHeader + "\n")
		for _, r := range rows {
			buf.WriteString(strings.Join([]string{r.Source, r.LocalID, r.Work, r.Kind, r.Variation}, "\t") + "\n")
		}
		var again []TruthRow
		if err := ReadTruth(&buf, func(r TruthRow) error { again = append(again, r); return nil }); err != nil || len(again) != len(rows) {
			t.Fatalf("rows did not read back: %v (%d vs %d)", err, len(again), len(rows))
		}
	})
}

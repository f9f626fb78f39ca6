package marc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// newSequentialISO2709Reader is NewISO2709Reader parsing on the caller's
// goroutine only, as on one core: for the tests that look at the parser's
// state after Next, and to compare with reading ahead.
func newSequentialISO2709Reader(src io.Reader, opts ReaderOptions) *ISO2709Reader {
	r := NewISO2709Reader(src, opts)
	r.ahead = nil
	return r
}

// readResult is what a caller sees of one call to Next.
type readResult struct {
	rec    *Record
	err    string
	index  int
	offset int64
	warns  []Warning
}

// offsetReader is a reader that says where its last result was.
type offsetReader interface {
	WarningReader
	Offset() int64
}

// readEverything calls Next until io.EOF (or 100,000 calls), noting what
// each call returned; reuse says the reader reuses its records. After an
// error that ends the stream (the MARCXML reader returns it again on every
// call) it notes one more call.
func readEverything(r offsetReader, reuse bool) []readResult {
	var out []readResult
	for ended := 0; len(out) < 100000 && ended < 2; {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !errors.As(err, new(*RecordError)) {
			ended++
		}
		if rec != nil && reuse {
			rec = cloneRecord(rec) // before the next call to Next reuses it
		}
		res := readResult{rec: rec, offset: r.Offset(), warns: r.Warnings()}
		if err != nil {
			res.err = err.Error()
			var re *RecordError
			if errors.As(err, &re) {
				res.index = re.Index
			}
		}
		out = append(out, res)
	}
	return out
}

// compareReads reads ISO 2709 data both ways, and both ways again
// reusing records, and reports the first difference.
func compareReads(t *testing.T, name string, data []byte, opts ReaderOptions, failAfter int) int {
	t.Helper()
	return compareReadsOf(t, name, data, opts, failAfter,
		func(src io.Reader, opts ReaderOptions) offsetReader { return newSequentialISO2709Reader(src, opts) },
		func(src io.Reader, opts ReaderOptions) offsetReader {
			r := NewISO2709Reader(src, opts)
			if r.ahead == nil {
				r.ahead = &readAhead{depth: aheadDepth(2), end: io.EOF}
			}
			return r
		})
}

// compareReadsOf reads data with the readers sequential and ahead make,
// with and without reusing records, cut off by a read error after
// failAfter bytes unless it is negative, and reports the first difference
// from sequential without reuse. It returns how many results it compared.
func compareReadsOf(t *testing.T, name string, data []byte, opts ReaderOptions, failAfter int,
	sequential, ahead func(io.Reader, ReaderOptions) offsetReader) int {
	t.Helper()
	src := func() io.Reader {
		if failAfter >= 0 {
			return io.MultiReader(bytes.NewReader(data[:min(failAfter, len(data))]), failingReader{})
		}
		return bytes.NewReader(data)
	}
	want := readEverything(sequential(src(), opts), false)
	reuse := opts
	reuse.ReuseRecords = true
	for _, c := range []struct {
		how string
		got []readResult
	}{
		{"ahead", readEverything(ahead(src(), opts), false)},
		{"ahead reusing records", readEverything(ahead(src(), reuse), true)},
		{"sequentially reusing records", readEverything(sequential(src(), reuse), true)},
	} {
		if len(c.got) != len(want) {
			t.Fatalf("%s: %d results read %s, %d sequentially", name, len(c.got), c.how, len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(c.got[i], want[i]) {
				t.Fatalf("%s: result %d differs:\n %s %+v\n sequentially %+v", name, i+1, c.how, c.got[i], want[i])
			}
		}
	}
	return len(want)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk read failed") }

// TestReadAheadSameAsSequential: every test file under every charset
// setting, whole, damaged and cut off by a read error, reads the same
// ahead as one record at a time: records, errors, warnings and offsets.
func TestReadAheadSameAsSequential(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 2709))
	var all bytes.Buffer
	results := 0
	for _, c := range pinCases(t) {
		if c.f != FormatISO2709 {
			continue
		}
		opts := ReaderOptions{Source: c.name, Charset: c.cs}
		if c.cs == CharsetAuto {
			all.Write(c.data)
		}
		results += compareReads(t, c.name, c.data, opts, -1)
		results += compareReads(t, c.name+" damaged", damage(rng, c.data), opts, -1)
		results += compareReads(t, c.name+" read error", c.data, opts, rng.IntN(len(c.data)+1))
	}
	// One stream of many batches: every file, and junk, NUL sectors and
	// cut records between them.
	stream := all.Bytes()
	for len(stream) < 4*aheadBytes {
		stream = append(stream, damage(rng, all.Bytes())...)
	}
	n := compareReads(t, "all files", stream, ReaderOptions{Source: "all"}, -1)
	if n < 4*aheadRecords {
		t.Errorf("the long stream read as %d results, fewer than 4 batches", n)
	}
	results += n
	t.Logf("%d results compared", results)
}

// damage returns data with a few faults a bad copy or export makes: bytes
// changed, a stretch zeroed, junk inserted, the end cut off.
func damage(rng *rand.Rand, data []byte) []byte {
	out := bytes.Clone(data)
	if len(out) == 0 {
		return out
	}
	for range 1 + rng.IntN(4) {
		switch i := rng.IntN(len(out)); rng.IntN(4) {
		case 0:
			out[i] = byte(rng.IntN(256))
		case 1:
			out = append(out[:i], append(make([]byte, nulStretch+rng.IntN(600)), out[i:]...)...)
		case 2:
			out = append(out[:i], append([]byte("junk \x1e\x1d 01234"), out[i:]...)...)
		default:
			out = out[:i]
		}
		if len(out) == 0 {
			return out
		}
	}
	return out
}

// TestReadAheadAbandoned: a caller that stops calling Next leaves no
// goroutine running once the batches in flight are parsed.
func TestReadAheadAbandoned(t *testing.T) {
	data := bytes.Repeat(rwBuildISO("00000nam a2200000 a 4500", rwRawField{"001", "x"},
		rwRawField{"245", "10\x1faNguyễn Du\x1fcTruyện Kiều"}), 20000)
	before := runtime.NumGoroutine()
	for range 5 {
		r := NewISO2709Reader(bytes.NewReader(data), ReaderOptions{})
		if r.ahead == nil {
			r.ahead = &readAhead{depth: aheadDepth(2), end: io.EOF}
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if len(r.ahead.pending) == 0 {
			t.Fatal("nothing read ahead")
		}
	}
	waitGoroutines(t, before)
}

// waitGoroutines waits up to ten seconds for the goroutines running to be
// no more than before, and fails the test if they stay more.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left running, %d before", n, before)
	}
}

// TestReadAheadPanicIsRecordError: a panic while parsing ahead ends as
// that record's error, and the records after it are still read.
func TestReadAheadPanicIsRecordError(t *testing.T) {
	rec := rwBuildISO("00000nam a2200000 a 4500", rwRawField{"001", "x"})
	b := &aheadBatch{raw: rec, done: make(chan struct{}),
		items: []aheadItem{{parse: true, start: 5, end: 2, index: 1}, {parse: true, start: 0, end: len(rec), index: 2, off: 7}}}
	b.parseAll("panics.mrc")
	<-b.done
	var re *RecordError
	if !errors.As(b.items[0].err, &re) || re.Index != 1 || !strings.Contains(re.Error(), "internal error") {
		t.Errorf("first item: error %v, want a RecordError saying internal error", b.items[0].err)
	}
	if b.items[1].err != nil || b.items[1].rec == nil {
		t.Errorf("second item: %v, %v; want the record", b.items[1].rec, b.items[1].err)
	}
}

// FuzzReadAhead: any bytes read the same ahead as one record at a time.
func FuzzReadAhead(f *testing.F) {
	rwSeedFiles(f, "*/*.mrc", "*/*.marc")
	f.Add([]byte(strings.Repeat("00026nam a2200025 a 4500\x1e\x1d", 3)))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareReads(t, fmt.Sprintf("%d bytes", len(data)), data, ReaderOptions{}, -1)
	})
}

// TestAheadDepthBounded: what a reader holds does not grow with the
// machine's cores past maxAheadCores.
func TestAheadDepthBounded(t *testing.T) {
	for _, c := range []struct{ cores, depth int }{{2, 4}, {8, 16}, {64, 16}, {1024, 16}} {
		if got := aheadDepth(c.cores); got != c.depth {
			t.Errorf("aheadDepth(%d) = %d, want %d", c.cores, got, c.depth)
		}
	}
}

// newSequentialXMLReader is NewXMLReader finishing each record in Next,
// as on one core.
func newSequentialXMLReader(src io.Reader, opts ReaderOptions) *XMLReader {
	r := NewXMLReader(src, opts)
	r.ahead = nil
	return r
}

// Package ingest loads MARC exports (ISO 2709 or MARCXML files) into the
// store as one source's records. It is what `unicat import` runs and what
// the harvester's file-drop driver builds on; Check reads them the same
// way and stores nothing (`unicat check`).
//
// Records are read in a stream and applied in batches of BatchSize, each in
// one store transaction, so memory stays flat whatever the file size and a
// crash loses at most the batches in flight (one committing, the next
// prepared; each whole or not at all), which a re-import then applies
// (re-importing is idempotent: unchanged records stay unchanged). A record
// the reader cannot decode, or one with no identifier, is rejected with its
// file, position and reason, and the rest of the file still goes in. A
// record whose identifier an earlier record of the same import had is a
// duplicate: it is counted and listed with its file and position, and
// left out, the first copy read being the one stored. Whichever batch the
// copies fall in, the outcome is the same, and importing the export again
// changes nothing (were the last copy kept, each import would store the
// first and then the last again). Telling duplicates needs the set of
// identifiers read, the one thing that grows with the import (about 40
// bytes a record).
package ingest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// DefaultBatchSize is the number of records per store transaction. Every
// commit rewrites the B+tree pages its keys touch (postings of most of
// the words in the batch), so fewer, larger batches import faster: on a
// generated 100k-record catalogue 1,000 took 58 s, 3,000 44 s, 10,000
// 41 s. A crash loses at most the batches not yet committed: the one
// committing and the one prepared behind it (each whole or not at all).
const DefaultBatchSize = 4000

// DefaultBatchBytes bounds a batch by the size of its records as ISO
// 2709, so that a batch of large records (up to max_record_bytes each)
// holds no more memory than a batch of ordinary ones: 4,000 records are
// 2.5 MB in the generated catalogue (635 bytes each), 8 MB at 2 KB each.
const DefaultBatchBytes = 8 << 20

// BatchFull is the batch policy of imports and harvests: a batch of
// records records of size bytes in all is full at size records or
// maxBytes bytes, whichever comes first.
func BatchFull(records, bytes, size, maxBytes int) bool {
	return records >= size || bytes >= maxBytes
}

// Options configure one import.
type Options struct {
	Source    string       // store source id; must be registered
	Format    marc.Format  // "" sniffs each file
	Charset   marc.Charset // overrides leader/09 when set
	BatchSize int          // 0 means DefaultBatchSize
	// BatchBytes bounds a batch by its records' size (0 means
	// DefaultBatchBytes).
	BatchBytes int
	// MaxRecordBytes rejects larger records as they are read (see
	// marc.ReaderOptions; 0 means marc.DefaultMaxRecordBytes).
	MaxRecordBytes int
	// Progress, when set, is called after every batch with the bytes and
	// records read so far in the whole import.
	Progress func(bytes, records int64)
	// Now stamps the batches; zero means time.Now.
	Now func() time.Time
	// Seen, when set, is called with the local id of every record handed
	// to the store, so that a caller treating the files as a whole
	// catalog can tell which stored records are missing from them.
	Seen func(localID string)
	// Converted, when set, is called for every record whose text was
	// converted on reading (o says from what), before it is stored.
	Converted func(file string, index int, localID string, o *marc.Origin)
}

// Reject is a record that did not go in.
type Reject struct {
	File   string
	Index  int   // 1-based record number in the file
	Offset int64 // byte offset, -1 when the reader could not tell
	Reason string
}

func (r Reject) String() string {
	if r.Offset >= 0 {
		return fmt.Sprintf("%s: record %d at byte %d: %s", r.File, r.Index, r.Offset, r.Reason)
	}
	return fmt.Sprintf("%s: record %d: %s", r.File, r.Index, r.Reason)
}

// Summary counts what an import did.
type Summary struct {
	Files     int
	Bytes     int64
	Read      int // records decoded or rejected
	Added     int
	Updated   int
	Unchanged int
	Deleted   int
	Rejected  int
	// Duplicates counts the records left out because an earlier record
	// of the import had their local id.
	Duplicates int
	Rejects    []Reject // the first MaxRejects rejects in detail
	// DuplicateRecords are the first MaxRejects duplicates in detail.
	DuplicateRecords []Reject
	Warnings         []string // charset repairs and the like, first MaxRejects
	// Converted counts the records whose text was converted to UTF-8 NFC,
	// by what they were received in (marc.Origin.Encoding).
	Converted map[string]int
}

// ConvertedLine says what Converted holds, by encoding name, or "" when
// nothing was converted: "3 tcvn3, 1 utf-8-nfd".
func ConvertedLine(converted map[string]int) string {
	names := make([]string, 0, len(converted))
	for name := range converted {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%d %s", converted[name], name)
	}
	return strings.Join(parts, ", ")
}

// MaxRejects bounds the rejects and warnings kept in detail.
const MaxRejects = 1000

func (s *Summary) add(r store.Result) {
	s.Added += r.Added
	s.Updated += r.Updated
	s.Unchanged += r.Unchanged
	s.Deleted += r.Deleted
}

// Run is the store's record of an import with these counts, from start
// to end.
func (s *Summary) Run(start, end time.Time) store.Run {
	return store.Run{Start: start, End: end, Added: s.Added, Updated: s.Updated, Unchanged: s.Unchanged,
		Deleted: s.Deleted, Rejected: s.Rejected, Duplicates: s.Duplicates, Bytes: s.Bytes}
}

func (s *Summary) duplicate(r Reject) {
	s.Duplicates++
	if len(s.DuplicateRecords) < MaxRejects {
		s.DuplicateRecords = append(s.DuplicateRecords, r)
	}
}

func (s *Summary) reject(r Reject) {
	s.Rejected++
	if len(s.Rejects) < MaxRejects {
		s.Rejects = append(s.Rejects, r)
	}
}

// importRun is the state of one import across its files.
type importRun struct {
	sum  Summary
	seen map[string]struct{} // the local ids read
}

// repeated reports whether id was read before in the run, and notes it.
func (r *importRun) repeated(id string) bool {
	if _, ok := r.seen[id]; ok {
		return true
	}
	// Its own copy: id may share the record's memory, which the set
	// would otherwise keep alive.
	r.seen[strings.Clone(id)] = struct{}{}
	return false
}

func newImportRun() *importRun { return &importRun{seen: map[string]struct{}{}} }

// Files expands paths: a directory stands for the regular files directly
// inside it (sorted, hidden files skipped).
func Files(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
		var names []string
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") && !isDoc(e.Name()) {
				names = append(names, filepath.Join(p, e.Name()))
			}
		}
		sort.Strings(names)
		out = append(out, names...)
	}
	return out, nil
}

// isDoc skips the provenance notes that sit beside test exports.
func isDoc(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".md" || ext == ".txt" || ext == ".chr"
}

// Import reads every file and applies its records to the store. It returns
// an error only when a file cannot be read at all or the store fails; bad
// records are counted in the summary.
func Import(ctx context.Context, st *store.Store, files []string, opts Options) (Summary, error) {
	return eachFile(files, func(run *importRun, r io.Reader, name string, baseBytes int64) (int64, error) {
		return importStream(ctx, st, r, name, opts, run, baseBytes)
	})
}

// Check reads every file as Import would and stores nothing: its summary
// counts the records read, and lists those Import would reject (a record
// that cannot be read, one without an identifier or with one the store
// refuses), the duplicates it would leave out, the conversions and the
// warnings. opts.Source is not needed and the store is not opened; what
// the store alone decides is not looked at: whether a record would be
// added, updated or unchanged, and the rare record too large for ISO 2709
// that MARCXML cannot hold whole either.
//
// A check keeps no record past the next one, and so reads reusing them
// (marc.ReaderOptions.ReuseRecords).
func Check(ctx context.Context, files []string, opts Options) (Summary, error) {
	return eachFile(files, func(run *importRun, r io.Reader, name string, baseBytes int64) (int64, error) {
		return checkStream(ctx, r, name, opts, run, baseBytes)
	})
}

// eachFile opens each file in turn and hands it to read, which returns
// the bytes it read, with one run across them all.
func eachFile(files []string, read func(run *importRun, r io.Reader, name string, baseBytes int64) (int64, error)) (Summary, error) {
	run := newImportRun()
	var baseBytes int64
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return run.sum, fmt.Errorf("ingest: %w", err)
		}
		n, err := read(run, f, name, baseBytes)
		f.Close()
		baseBytes += n
		run.sum.Bytes = baseBytes
		run.sum.Files++
		if err != nil {
			return run.sum, err
		}
	}
	return run.sum, nil
}

// ImportReader imports one stream labelled name.
func ImportReader(ctx context.Context, st *store.Store, r io.Reader, name string, opts Options) (Summary, error) {
	run := newImportRun()
	n, err := importStream(ctx, st, r, name, opts, run, 0)
	run.sum.Bytes = n
	run.sum.Files = 1
	return run.sum, err
}

// countingReader counts the bytes read through it for the progress bar.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// LocalID is the identifier a record is stored under within its source:
// the control number (001), or failing that the first system number
// (035 $a), which Sirsi and older exports carry instead.
func LocalID(rec *marc.Record) string {
	if id := rec.ControlNumber(); id != "" {
		return id
	}
	for _, f := range rec.FieldsByTag("035") {
		if a := strings.TrimSpace(f.Sub('a')); a != "" {
			return "035:" + a
		}
	}
	return ""
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

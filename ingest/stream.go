package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// fileImport is the import of one stream: its reader, the batch being
// read and the pipeline committing the batches before it.
type fileImport struct {
	ctx  context.Context
	st   *store.Store
	name string
	opts Options
	run  *importRun
	sum  *Summary
	cr   *countingReader
	base int64 // bytes of the import's earlier files
	rd   marc.WarningReader
	now  func() time.Time
	// check: the records are looked at, not stored (Check). There is no
	// pipeline, and no record is kept past the next.
	check bool

	pl     *store.Pipeline
	closed bool

	size, maxBytes int
	batch          []store.Incoming
	where          []position // of each record of batch
	bytes          int        // the batch's records' size as ISO 2709

	mu           sync.Mutex
	storeRejects []Reject // the store's, from the pipeline's goroutine
}

// position is where a record was read.
type position struct {
	index  int
	offset int64
}

func newFileImport(ctx context.Context, st *store.Store, r io.Reader, name string, opts Options, run *importRun, baseBytes int64) *fileImport {
	fi := &fileImport{ctx: ctx, st: st, name: name, opts: opts, run: run, sum: &run.sum,
		cr: &countingReader{r: r}, base: baseBytes, now: opts.Now,
		size: opts.BatchSize, maxBytes: opts.BatchBytes}
	if fi.now == nil {
		fi.now = time.Now
	}
	if fi.size <= 0 {
		fi.size = DefaultBatchSize
	}
	if fi.maxBytes <= 0 {
		fi.maxBytes = DefaultBatchBytes
	}
	return fi
}

// checkStream is importStream storing nothing (Check).
func checkStream(ctx context.Context, r io.Reader, name string, opts Options, run *importRun, baseBytes int64) (int64, error) {
	fi := newFileImport(ctx, nil, r, name, opts, run, baseBytes)
	fi.check = true
	if err := fi.open(); err != nil {
		return fi.cr.n, err
	}
	if err := fi.readAll(); err != nil {
		return fi.cr.n, err
	}
	fi.progress()
	return fi.cr.n, nil
}

func importStream(ctx context.Context, st *store.Store, r io.Reader, name string, opts Options, run *importRun, baseBytes int64) (_ int64, err error) {
	fi := newFileImport(ctx, st, r, name, opts, run, baseBytes)
	if err := fi.open(); err != nil {
		return fi.cr.n, err
	}
	// The next batch is read and prepared while the last one commits.
	fi.pl = st.NewPipeline()
	// On an early return the batch already queued still commits (or
	// fails): its error is reported beside the one that stopped us.
	defer func() {
		if cerr := fi.closePipeline(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	if err := fi.readAll(); err != nil {
		return fi.cr.n, err
	}
	if err := fi.flush(); err != nil {
		return fi.cr.n, err
	}
	if err := fi.closePipeline(); err != nil {
		return fi.cr.n, err
	}
	fi.progress()
	return fi.cr.n, nil
}

// progress reports the bytes and records read so far in the whole import.
func (fi *fileImport) progress() {
	if fi.opts.Progress != nil {
		fi.opts.Progress(fi.base+fi.cr.n, int64(fi.sum.Read))
	}
}

// open sniffs the format when it is not set and makes the reader.
func (fi *fileImport) open() error {
	br := bufio.NewReaderSize(fi.cr, 256<<10)
	format := fi.opts.Format
	if format == "" || format == "auto" {
		head, _ := br.Peek(512)
		if len(head) == 0 {
			return fmt.Errorf("ingest: %s: file is empty", fi.name)
		}
		f, ok := marc.Sniff(head)
		if !ok {
			return fmt.Errorf("ingest: %s: neither ISO 2709 nor MARCXML (starts with %q)", fi.name, truncate(head, 16))
		}
		format = f
	}
	fi.rd = marc.NewReader(br, format, marc.ReaderOptions{Source: fi.name, Charset: fi.opts.Charset,
		MaxRecordBytes: fi.opts.MaxRecordBytes, ReuseRecords: fi.check})
	return nil
}

// readAll reads the stream to its end, batching what goes in and
// rejecting what does not.
func (fi *fileImport) readAll() error {
	sum := fi.sum
	offsets, _ := fi.rd.(interface{ Offset() int64 })
	for index := 1; ; index++ {
		if err := fi.ctx.Err(); err != nil {
			return err
		}
		rec, err := fi.rd.Next()
		if err == io.EOF {
			return nil
		}
		var re *marc.RecordError
		switch {
		case errors.As(err, &re):
			sum.Read++
			sum.reject(Reject{File: fi.name, Index: re.Index, Offset: re.Offset, Reason: re.Err.Error()})
			continue
		case err != nil:
			// The stream itself is broken: keep what was read.
			if ferr := fi.flush(); ferr != nil {
				return ferr
			}
			if ferr := fi.closePipeline(); ferr != nil {
				return ferr
			}
			return fmt.Errorf("ingest: %s: after record %d: %w", fi.name, index-1, err)
		}
		sum.Read++
		at := position{index: index, offset: -1}
		if offsets != nil {
			at.offset = offsets.Offset()
		}
		for _, w := range fi.rd.Warnings() {
			if len(sum.Warnings) < MaxRejects {
				sum.Warnings = append(sum.Warnings, fmt.Sprintf("%s: record %d: %s", fi.name, index, w))
			}
		}
		if err := fi.take(rec, at); err != nil {
			return err
		}
	}
}

// take puts a record read at at into the batch, or rejects it or counts
// it a duplicate.
func (fi *fileImport) take(rec *marc.Record, at position) error {
	sum := fi.sum
	reject := func(reason string) {
		sum.reject(Reject{File: fi.name, Index: at.index, Offset: at.offset, Reason: reason})
	}
	id := LocalID(rec)
	if id == "" {
		reject("no control number (001) or system number (035 $a) to identify it")
		return nil
	}
	if err := store.CheckLocalID(fi.opts.Source, id); err != nil {
		reject(err.Error())
		return nil
	}
	if fi.run.repeated(id) {
		sum.duplicate(Reject{File: fi.name, Index: at.index, Offset: at.offset,
			Reason: fmt.Sprintf("local id %q read before in this import: the first copy is kept", id)})
		return nil
	}
	if rec.Origin != nil {
		if sum.Converted == nil {
			sum.Converted = map[string]int{}
		}
		sum.Converted[rec.Origin.Encoding()]++
		if fi.opts.Converted != nil {
			fi.opts.Converted(fi.name, at.index, id, rec.Origin)
		}
	}
	if fi.check {
		if sum.Read%DefaultBatchSize == 0 {
			fi.progress()
		}
		return nil
	}
	fi.batch = append(fi.batch, store.Incoming{LocalID: id, Record: rec, Datestamp: fi.now()})
	fi.where = append(fi.where, at)
	fi.bytes += rec.Size()
	if fi.opts.Seen != nil {
		fi.opts.Seen(id)
	}
	if BatchFull(len(fi.batch), fi.bytes, fi.size, fi.maxBytes) {
		return fi.flush()
	}
	return nil
}

// flush queues the batch for committing.
func (fi *fileImport) flush() error {
	if fi.check {
		return nil
	}
	fi.mergeStoreRejects()
	if len(fi.batch) == 0 {
		return nil
	}
	bytesRead, read := fi.base+fi.cr.n, int64(fi.sum.Read)
	batch, where := fi.batch, fi.where
	err := fi.pl.Submit(store.Batch{Source: fi.opts.Source, Records: batch, Now: fi.now()}, func(res store.Result) {
		fi.sum.add(res) // only the committed counts, which the reader leaves alone
		fi.noteStoreRejects(res.Rejected, batch, where)
		if fi.opts.Progress != nil {
			fi.opts.Progress(bytesRead, read)
		}
	})
	if err != nil {
		return fmt.Errorf("ingest: %s: %w", fi.name, err)
	}
	// The queued batch holds the old slices until it commits.
	fi.batch, fi.where, fi.bytes = make([]store.Incoming, 0, len(batch)), nil, 0
	return nil
}

// noteStoreRejects keeps, on the pipeline's goroutine, the records the
// store left out of a batch, with where they were read.
func (fi *fileImport) noteStoreRejects(rejected []store.Rejected, batch []store.Incoming, where []position) {
	if len(rejected) == 0 {
		return
	}
	at := make(map[string]position, len(batch))
	for i := range batch {
		at[batch[i].LocalID] = where[i]
	}
	fi.mu.Lock()
	defer fi.mu.Unlock()
	for _, r := range rejected {
		p, ok := at[r.LocalID]
		if !ok {
			p.offset = -1
		}
		fi.storeRejects = append(fi.storeRejects, Reject{File: fi.name, Index: p.index, Offset: p.offset, Reason: r.Err.Error()})
	}
}

// mergeStoreRejects counts the store's rejects in the summary, on the
// reader's goroutine.
func (fi *fileImport) mergeStoreRejects() {
	fi.mu.Lock()
	rs := fi.storeRejects
	fi.storeRejects = nil
	fi.mu.Unlock()
	for _, r := range rs {
		fi.sum.reject(r)
	}
}

func (fi *fileImport) closePipeline() error {
	if fi.check || fi.closed {
		return nil
	}
	fi.closed = true
	err := fi.pl.Close()
	fi.mergeStoreRejects()
	if err != nil {
		return fmt.Errorf("ingest: %s: %w", fi.name, err)
	}
	return nil
}

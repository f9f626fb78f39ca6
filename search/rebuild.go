package search

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/internal/extsort"
	"github.com/unicat/unicat/internal/parallel"
	"github.com/unicat/unicat/store"
)

// Updater runs write transactions; *store.Store is one.
type Updater interface {
	Update(fn func(tx *bbolt.Tx) error) error
}

// RebuildOptions tune Rebuild.
type RebuildOptions struct {
	// TempDir holds the temporary files of extracted documents and of
	// sort entries; "" means os.TempDir().
	TempDir string
	// Progress, when set, is called now and then with the number of
	// documents read and written so far (phase "read", then "write",
	// then "sort" for their sort entries).
	Progress func(phase string, done int)
	// Beside, when set, is other work of the caller's that only reads
	// the store, run on a goroutine of its own once the last chunk's
	// documents are gathered: from then on the rebuild's writer (the last
	// chunk, the sort entries) is all that runs, on one core. RebuildFrom
	// waits for it and returns its error. It runs while write
	// transactions commit, so it must not wait for one.
	Beside func() error
}

// Rebuild rebuilds the index of st from its union records (`unicat
// reindex`). See RebuildFrom.
func (ix *Index) Rebuild(ctx context.Context, st *store.Store, opts RebuildOptions) (int, error) {
	each := func(fn func(*Doc) error) error {
		return st.View(func(tx *store.Tx) error {
			return dedup.ForEachUnion(tx.Bolt(), func(u *dedup.UnionRecord) error {
				d := DocOf(u)
				if d.Deleted {
					return nil
				}
				return fn(&d)
			})
		})
	}
	return ix.RebuildFrom(ctx, st, each, opts)
}

// RebuildFrom replaces the index with the documents each yields and
// returns how many were indexed.
//
// It reads every document first (each may hold a read transaction for as
// long as it likes), writing what is indexed of each to a temporary
// file; it then writes the index in write transactions of one chunk
// (65536 documents) each, every key in order, and the sort entries of
// all the chunks after them, in order. The index is marked as
// being rebuilt until the last transaction, so an interrupted rebuild is
// noticed (ErrNeedsRebuild) rather than served half done. A rebuild
// stops, so marked, soon after ctx is done, with ctx's error.
func (ix *Index) RebuildFrom(ctx context.Context, db Updater, each func(fn func(*Doc) error) error, opts RebuildOptions) (int, error) {
	rb := rebuild{ctx: ctx, workers: make([]rebuildWorker, runtime.GOMAXPROCS(0)), progress: opts.Progress,
		beside: opts.Beside}
	defer rb.waitBeside() // it outlives no return
	if rb.progress == nil {
		rb.progress = func(string, int) {}
	}
	for i := range rb.workers {
		rb.workers[i].sk = newSortKeyer()
	}
	tmp, err := os.CreateTemp(opts.TempDir, "unicat-reindex-*")
	if err != nil {
		return 0, fmt.Errorf("search: rebuild: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()

	n, err := rb.extract(tmp, each)
	if err != nil {
		return 0, fmt.Errorf("search: rebuild: read documents: %w", err)
	}
	rb.progress("read", n)
	if uint64(n) >= 1<<32-1 {
		return 0, fmt.Errorf("search: rebuild: %d documents is more than document numbers allow", n)
	}
	if err := db.Update(resetIndex); err != nil {
		return 0, fmt.Errorf("search: rebuild: reset: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("search: rebuild: %w", err)
	}
	rb.sorts = extsort.New(opts.TempDir, sortBudget)
	defer rb.sorts.Close()
	if err := rb.writeChunks(db, bufio.NewReaderSize(tmp, 1<<20), n); err != nil {
		return 0, err
	}
	rb.startBeside() // if no chunk did
	if err := rb.writeSorts(db, n); err != nil {
		return 0, err
	}
	err = db.Update(func(tx *bbolt.Tx) error { return markRebuilt(tx, uint32(n)) })
	if err != nil {
		return 0, fmt.Errorf("search: rebuild: finish: %w", err)
	}
	if err := rb.waitBeside(); err != nil {
		return 0, err
	}
	return n, nil
}

// startBeside starts the caller's work beside the rebuild, once.
func (rb *rebuild) startBeside() {
	if rb.beside == nil || rb.besideDone != nil {
		return
	}
	rb.besideDone = make(chan error, 1)
	go func(fn func() error) { rb.besideDone <- fn() }(rb.beside)
}

// waitBeside waits for the work beside the rebuild, if it was started,
// and returns its error (once; nil after).
func (rb *rebuild) waitBeside() error {
	if rb.besideDone == nil {
		return nil
	}
	err := <-rb.besideDone
	rb.besideDone, rb.beside = nil, nil
	return err
}

// rebuild is the state of one RebuildFrom.
type rebuild struct {
	ctx      context.Context
	workers  []rebuildWorker // one a core
	progress func(phase string, done int)
	sorts    *extsort.Sorter // every chunk's sort entries, for writeSorts
	// beside is RebuildOptions.Beside, and besideDone its result while it
	// runs.
	beside     func() error
	besideDone chan error
}

// sortBudget is the memory the sort entries of a rebuild hold before a
// sorted run of them goes to a file beside the store (about 100 MB of
// them at 1M union records). (A variable for the tests, which make it
// small.)
var sortBudget = 32 << 20

// writeSorts writes the sort entries of every chunk into the sort bucket
// (empty since resetIndex) in key order, extsort.AppendsPerTx a
// transaction, its pages packed full, and reports progress as phase
// "sort" in documents (of docs), the share of the entries written.
// (Written chunk by chunk, each chunk's entries fell between the earlier
// ones' and the pages were 61 % used at 1M records.)
func (rb *rebuild) writeSorts(db Updater, docs int) error {
	entries := int64(max(rb.sorts.Len(), 1))
	it, err := rb.sorts.Iter()
	if err == nil {
		update := extsort.Counting(db.Update, it, func(read int) {
			rb.progress("sort", int(int64(read)*int64(docs)/entries))
		})
		err = extsort.PutAll(rb.ctx, update, it, extsort.AppendsPerTx, 1, func(tx *bbolt.Tx) (*bbolt.Bucket, error) {
			if bk := openBuckets(tx); bk != nil {
				return bk.sort, nil
			}
			return nil, errors.New("search: buckets vanished during rebuild")
		})
	}
	if err != nil {
		return fmt.Errorf("search: rebuild: sort entries: %w", err)
	}
	return nil
}

// extract is the first phase of a rebuild: it extracts what is indexed
// of every document each yields, on every core, in batches written to
// tmp in order, and returns how many it wrote.
//
// A full batch is extracted and written by a goroutine of its own while
// each goes on reading the next one: each decodes the documents on its
// own goroutine, which at 1M records was a third of the phase's wall
// time with the other core idle.
func (rb *rebuild) extract(tmp io.Writer, each func(fn func(*Doc) error) error) (int, error) {
	ex := extractor{rb: rb, w: bufio.NewWriterSize(tmp, 1<<20)}
	for i := range ex.bufs {
		ex.bufs[i].encoded = make([][]byte, extractBatch)
	}
	err := each(ex.add)
	if werr := ex.wait(); err == nil {
		err = werr
	}
	if b := &ex.bufs[ex.cur]; err == nil && len(b.docs) > 0 {
		if err = ex.flush(b); err == nil {
			ex.done()
		}
	}
	if err == nil {
		err = ex.w.Flush()
	}
	return ex.n, err
}

// extractor holds the documents of extract's current batch, and the
// batch before it while that one is extracted and written.
type extractor struct {
	rb   *rebuild
	w    *bufio.Writer
	bufs [2]extractBuf
	cur  int // the batch add fills; the other is flushing's, if running
	// flushing is the other batch's extraction and write, when running.
	flushing chan error
	n        int // documents written
}

// extractBuf is one batch of documents and their encodings.
type extractBuf struct {
	docs    []*Doc
	encoded [][]byte // by index in docs
}

func (ex *extractor) add(d *Doc) error {
	if d.Deleted || d.Record == nil {
		return nil
	}
	if d.ID == "" {
		return errors.New("search: document without id")
	}
	b := &ex.bufs[ex.cur]
	b.docs = append(b.docs, d)
	if len(b.docs) < extractBatch {
		return nil
	}
	// The batch before must be written before this one, and its buffer
	// is the next batch's.
	if err := ex.wait(); err != nil {
		return err
	}
	out := make(chan error, 1)
	go func() { out <- ex.flush(b) }()
	ex.flushing = out
	ex.cur = 1 - ex.cur
	ex.bufs[ex.cur].docs = ex.bufs[ex.cur].docs[:0]
	return nil
}

// wait waits for the batch being flushed, if any, and reports progress.
func (ex *extractor) wait() error {
	if ex.flushing == nil {
		return nil
	}
	err := <-ex.flushing
	ex.flushing = nil
	if err == nil {
		ex.done()
	}
	return err
}

// done reports the documents written so far.
func (ex *extractor) done() { ex.rb.progress("read", ex.n) }

// flush extracts the batch b in parallel and writes it out in order, each
// document after its length. One flush runs at a time: it writes to ex.w
// and counts in ex.n.
func (ex *extractor) flush(b *extractBuf) error {
	if err := ex.rb.ctx.Err(); err != nil {
		return err
	}
	workers := ex.rb.workers
	err := parallel.For(len(b.docs), len(workers), func(wk, i int) error {
		d := b.docs[i]
		b.encoded[i] = encodeTempDoc(&storedDoc{id: d.ID, values: extract(d), sort: workers[wk].sk.keys(d.Record)})
		return nil
	})
	if err != nil {
		return err
	}
	for i := range b.docs {
		var lb [binary.MaxVarintLen64]byte
		if _, err := ex.w.Write(lb[:binary.PutUvarint(lb[:], uint64(len(b.encoded[i])))]); err != nil {
			return err
		}
		if _, err := ex.w.Write(b.encoded[i]); err != nil {
			return err
		}
	}
	ex.n += len(b.docs)
	return nil
}

// resetIndex is the second phase of a rebuild: it empties the index and
// marks it as being rebuilt.
func resetIndex(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketIDs, bucketDocs, bucketTerms, bucketSort} {
		if tx.Bucket(name) != nil {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if err := meta.Put(keyVersion, versionValue()); err != nil {
		return err
	}
	return meta.Put(keyState, []byte("building"))
}

// writeChunks is the third phase of a rebuild: it writes the n
// documents extract wrote, read back from rd, into the index, one write
// transaction a chunk.
//
// A chunk's puts run on a goroutine of their own while the next chunk is
// gathered: bbolt's writer is one goroutine, and with every chunk's puts
// waited for, a core was idle for a third of the phase. What the chunk
// being written still needs (its keys, postings and documents) is alive
// beside the chunk being gathered; the rest of its arrays go to that
// chunk (newBlock).
func (rb *rebuild) writeChunks(db Updater, rd *bufio.Reader, n int) error {
	var docno uint32
	var written [2]*block  // the chunk before the last (its writes done), the last (finished)
	var writing chan error // the last chunk's writes, when running
	writtenTo := 0         // documents the last chunk's writes end at
	wait := func() error {
		if writing == nil {
			return nil
		}
		err := <-writing
		writing = nil
		if err == nil {
			rb.progress("write", writtenTo)
		}
		return err
	}
	defer wait() // no writes outlive the rebuild's error
	for int(docno) < n {
		end := min(n, int(docno)+1<<chunkBits)
		blk := newBlock(len(rb.workers), written[1], written[0])
		// Documents are decoded and their keys computed in parallel, a
		// batch at a time, so memory holds one chunk's postings, not
		// every document's keys.
		for int(docno) < end {
			if err := rb.ctx.Err(); err != nil {
				return err
			}
			count := min(end-int(docno), extractBatch*4)
			if err := rb.addBatch(blk, rd, docno, count); err != nil {
				return err
			}
			docno += uint32(count)
		}
		ready, err := blk.finish()
		if err != nil {
			return err
		}
		if err := wait(); err != nil {
			return err
		}
		writing, writtenTo = make(chan error, 1), int(docno)
		go func(out chan<- error) { out <- rb.writeChunk(db, blk, ready) }(writing)
		written[0], written[1] = written[1], blk
	}
	rb.startBeside() // every chunk gathered: the writer is all that runs
	return wait()
}

// writeChunk writes a chunk made ready and queues its sort entries.
func (rb *rebuild) writeChunk(db Updater, blk *block, ready []shardPostings) error {
	if err := blk.write(db, ready); err != nil {
		return fmt.Errorf("search: rebuild: write: %w", err)
	}
	for _, k := range blk.sorts {
		if err := rb.sorts.Add(k, nil); err != nil {
			return fmt.Errorf("search: rebuild: sort entries: %w", err)
		}
	}
	return nil
}

// addBatch reads the next count documents from rd, numbered from first,
// decodes them and computes their keys on every core, and adds them to
// blk.
func (rb *rebuild) addBatch(blk *block, rd *bufio.Reader, first uint32, count int) error {
	raws := make([][]byte, count)
	for i := range raws {
		l, err := binary.ReadUvarint(rd)
		if err != nil {
			return fmt.Errorf("search: rebuild: read back: %w", err)
		}
		raws[i] = make([]byte, l)
		if _, err := io.ReadFull(rd, raws[i]); err != nil {
			return fmt.Errorf("search: rebuild: read back: %w", err)
		}
	}
	docs := make([]storedDoc, len(raws))
	keys := make([][][]hashedKey, len(raws))
	for i := range rb.workers {
		rb.workers[i].split.reset() // the last batch's keys were added
	}
	err := parallel.For(len(raws), len(rb.workers), func(wk, i int) error {
		d, err := decodeTempDoc(raws[i])
		if err != nil {
			return fmt.Errorf("search: rebuild: read back: %w", err)
		}
		w := &rb.workers[wk]
		docs[i], keys[i] = d, w.split.split(w.kr.keys(d.values), len(blk.shards))
		raws[i] = encodeDoc(&d)
		return nil
	})
	if err != nil {
		return err
	}
	return blk.addDocs(first, docs, keys, raws)
}

// markRebuilt ends a rebuild: the index holds next documents and may be
// searched.
func markRebuilt(tx *bbolt.Tx, next uint32) error {
	meta := tx.Bucket(bucketMeta)
	if err := putU32(meta, keyNext, next); err != nil {
		return err
	}
	return meta.Put(keyState, []byte("ready"))
}

// extractBatch is how many documents phase 1 holds before extracting
// them in parallel; each keeps its *Doc until then.
const extractBatch = 1024

// rebuildWorker is one core's extraction state.
type rebuildWorker struct {
	sk    *sortKeyer
	kr    keyer
	split splitter
}

package marc

import (
	"errors"
	"fmt"
	"sync"
)

// Reading MARCXML ahead: on a machine with more than one core, the
// goroutine that calls Next scans the document (its tokens, each record's
// text and structure, resynchronisation after a broken record) into
// batches, and each batch's records are finished (their text checked,
// weighed and converted, the Records built: xmlRecBuilder.finish) by a
// goroutine of its own while the scan goes on; Next hands them out in
// document order. A record is scanned into a builder of its own, which
// the batch keeps until its records are handed out.
//
// Finishing is 28 % of a read of the bench corpus's MARCXML, the scan
// the rest, so a second core takes that share off the caller's: three
// passes over 286,501 records took 7.7-8.2 s against 9.5-10.0 one record
// at a time, with 10-15 % more CPU (each record in a builder of its own),
// and an import of them 33.1-34.2 s against 36.0-36.9. Nothing runs on
// without the caller, as for ISO 2709 (iso2709_ahead.go): batches are
// scanned only inside Next, at most aheadDepth(cores) of them at once, and
// a goroutine ends with its batch.
//
// Every result comes back as the sequential reader returns it: the same
// Record, error, warnings and offset, the same sticky error at the end.

const (
	// xmlAheadRecords and xmlAheadBytes bound a batch; a reader's first
	// batch holds xmlFirstBatch records and each next one twice as many,
	// so that a short document (an OAI-PMH page) is finished in several
	// batches and its first records come back at once.
	xmlAheadRecords = 64
	xmlAheadBytes   = 1 << 20
	xmlFirstBatch   = 16
	// maxKeptBuilder is the most text a builder may have held and still
	// be kept for another record: what the batches in flight hold stays
	// bounded by their text, not by the largest record ever read.
	maxKeptBuilder = 64 << 10
)

// errDeferred is what scanning a record returns when the record is left
// to its batch to finish. It never reaches a caller.
var errDeferred = errors.New("marc: record left to its batch")

// xmlAhead is an XMLReader's state when it reads ahead.
type xmlAhead struct {
	depth   int
	pending []*xmlBatch // scanned, in document order; finishing or finished
	cur     *xmlBatch   // the batch whose records Next is handing out
	free    []*xmlBatch // handed out, to be filled again
	filling *xmlBatch   // the batch the scan defers records to
	spare   []*xmlRecBuilder
	scanned int // batches scanned so far

	// end is what Next returns once the batches run out (io.EOF or the
	// error that ended the document), with the warnings and offset the
	// sequential reader reports beside it.
	end      error
	endWarns []Warning
	endOff   int64
	ended    bool

	// what the result last handed out came with
	warns []Warning
	off   int64
}

// xmlBatch is a run of scanned records and, once done is closed, their
// results.
type xmlBatch struct {
	items []xmlItem
	next  int        // next item Next hands out
	size  int        // text of the records to finish
	slab  recordSlab // what the batch's records are carved from
	done  chan struct{}
}

// xmlItem is one result of a batch: a record to finish (b), or an error
// the scan found.
type xmlItem struct {
	b     *xmlRecBuilder
	index int
	off   int64
	rec   *Record
	err   error
	warns []Warning
}

// xmlAheadFor returns the read-ahead state for a reader, or nil where
// there is only one core.
func xmlAheadFor() *xmlAhead {
	if depth := aheadDepthHere(); depth > 0 {
		return &xmlAhead{depth: depth}
	}
	return nil
}

// nextAhead is Next when reading ahead.
func (r *XMLReader) nextAhead() (*Record, error) {
	a := r.ahead
	for a.cur == nil || a.cur.next == len(a.cur.items) {
		if a.cur != nil {
			a.recycle(a.cur)
			a.cur = nil
		}
		r.scanAhead()
		if len(a.pending) == 0 {
			a.release()
			r.err, a.warns, a.off = a.end, a.endWarns, a.endOff
			return nil, a.end
		}
		a.cur = a.pending[0]
		a.pending = a.pending[1:]
		<-a.cur.done
	}
	it := &a.cur.items[a.cur.next]
	a.cur.next++
	a.warns, a.off = it.warns, it.off
	rec, err := it.rec, it.err
	it.rec, it.err, it.warns = nil, nil, nil // the record is the caller's now; the builder stays the batch's
	return rec, err
}

// scanAhead scans batches until depth of them are pending or the
// document ends, and starts finishing each.
func (r *XMLReader) scanAhead() {
	a := r.ahead
	for len(a.pending) < a.depth && !a.ended {
		bt := a.batch()
		limit := xmlAheadRecords
		if a.scanned < 4 {
			limit = min(limit, xmlFirstBatch<<a.scanned)
		}
		a.scanned++
		a.filling = bt
		for len(bt.items) < limit && bt.size < xmlAheadBytes {
			r.b.warns = nil // as Next does for each record
			_, err := r.next()
			if err == errDeferred {
				continue
			}
			if _, ok := errors.AsType[*RecordError](err); ok {
				bt.items = append(bt.items, xmlItem{off: r.off, err: err, warns: r.b.warns})
				continue
			}
			a.ended, a.end, a.endWarns, a.endOff = true, err, r.b.warns, r.off
			break
		}
		a.filling = nil
		if len(bt.items) == 0 {
			a.free = append(a.free, bt)
			return
		}
		a.pending = append(a.pending, bt)
		if a.ended && len(a.pending) == 1 {
			// The rest of the document is this batch (a harvested
			// record's chunk, a page's end): nothing to overlap with.
			bt.finishAll(r.opts)
			continue
		}
		go bt.finishAll(r.opts)
	}
}

// deferRecord leaves the record just scanned, started at start, to the
// batch being filled, and gives the scan another builder.
func (r *XMLReader) deferRecord(start int64) {
	a := r.ahead
	bt := a.filling
	bt.items = append(bt.items, xmlItem{b: r.b, index: r.index, off: start})
	bt.size += len(r.b.text)
	r.b = a.builder(r.opts)
}

// builder returns a builder to scan a record into: one a batch handed
// back, one a finished reader left (builderPool), or a new one.
func (a *xmlAhead) builder(opts ReaderOptions) *xmlRecBuilder {
	if n := len(a.spare); n > 0 {
		b := a.spare[n-1]
		a.spare = a.spare[:n-1]
		return b
	}
	if v := builderPool.Get(); v != nil {
		b := v.(*xmlRecBuilder)
		b.cs, b.max = opts.Charset, opts.maxRecordBytes()
		return b
	}
	return newXMLRecBuilder(opts)
}

// builderPool keeps the builders of readers that reached the end of
// their document for the next reader: a harvest reads one response page
// after another, each a few hundred records.
var builderPool sync.Pool

// batch returns an empty batch, reusing one handed out already.
func (a *xmlAhead) batch() *xmlBatch {
	var bt *xmlBatch
	if n := len(a.free); n > 0 {
		bt, a.free = a.free[n-1], a.free[:n-1]
	} else {
		bt = &xmlBatch{}
	}
	bt.done = make(chan struct{})
	return bt
}

// recycle takes back a batch whose records were all handed out, and its
// builders.
func (a *xmlAhead) recycle(bt *xmlBatch) {
	for i := range bt.items {
		if b := bt.items[i].b; b != nil && cap(b.text) <= maxKeptBuilder {
			a.spare = append(a.spare, b)
		}
		bt.items[i] = xmlItem{}
	}
	bt.items, bt.next, bt.size = bt.items[:0], 0, 0
	a.free = append(a.free, bt)
}

// release gives a finished reader's spare builders to builderPool.
func (a *xmlAhead) release() {
	for _, b := range a.spare {
		builderPool.Put(b)
	}
	a.spare = nil
}

// finishAll finishes the batch's records and closes done.
func (bt *xmlBatch) finishAll(opts ReaderOptions) {
	defer close(bt.done)
	// The records this batch made last time were handed out, and the
	// caller has called Next since.
	bt.slab.reset(opts.ReuseRecords)
	for i := range bt.items {
		if it := &bt.items[i]; it.b != nil {
			it.finish(&bt.slab, opts)
		}
	}
}

// finish makes the item's Record. A panic becomes the record's error: in
// a goroutine of the reader's own it would end the program, whatever the
// caller recovers.
func (it *xmlItem) finish(slab *recordSlab, opts ReaderOptions) {
	b := it.b
	defer func() {
		if v := recover(); v != nil {
			it.rec, it.warns = nil, nil
			it.err = &RecordError{Source: opts.Source, Index: it.index, Offset: it.off,
				Err: fmt.Errorf("internal error reading the record: %v", v)}
		}
	}()
	it.rec, it.err = b.finishRecord(slab, opts.Source, it.index, it.off)
	it.warns = b.warns
}

package marc

import (
	"fmt"
	"io"
	"runtime"
	"sync"
)

// Reading ahead: a stream reader on a machine with more than one core
// parses records on all of them. The goroutine that calls Next frames
// records (their lengths and terminators, and resynchronisation after a
// broken one) into batches, copying each batch's bytes out of the window;
// each batch is parsed by a goroutine of its own, with a parser of its
// own, and Next hands out the batches' records in stream order.
//
// Parsing is most of a read (framing is a length and a copy), so the
// parse goroutines keep the cores (up to maxAheadCores) busy while the
// caller consumes.
// Nothing runs on without the caller: batches are framed only inside
// Next, at most aheadDepth(cores) of them are parsed or waiting at once,
// and a parse goroutine ends with its batch. A caller that stops calling
// Next leaves nothing running after those batches end, so the Reader
// interface needs no Close.
//
// A record comes back exactly as the sequential reader returns it: the
// same Record, error, warnings and offset. No Record aliases the bytes it
// was parsed from (build copies its text into one string), which is what
// lets a batch's buffer be reused. Under ReuseRecords the records' text
// goes into one array for the batch, never written over, that their
// strings point into (isoParser.keepsText): an allocation a record cost
// 15 % of the CPU of reading the 1M bench corpus so (three passes, 2
// cores: 7.4-7.6 user CPU-s against 8.7-8.9), and a caller that reuses
// records keeps none. A string it keeps keeps its batch's text alive, up
// to aheadBytes (ReaderOptions.ReuseRecords).

const (
	// aheadRecords and aheadBytes bound a batch: enough records that a
	// goroutine's start and the hand-over cost nothing beside their
	// parsing. A reader's first batch holds firstBatch records, and each
	// next one twice as many, so that the first records of a slow stream
	// come back at once.
	//
	// Their size also sets the garbage collector's pace: the batches in
	// flight are most of a reading loop's live heap, and a heap of a few
	// MB is collected every few thousand records. Measured on the 1M
	// bench corpus, 2 cores: 1,024 records and 1 MiB a batch read 320,000
	// records/s, 256 and 256 KiB 265,000, 2,048 and 2 MiB 300,000.
	aheadRecords = 1024
	aheadBytes   = 1 << 20
	firstBatch   = 16
)

// aheadDepth is how many batches are framed and not yet handed out at
// most: two per core, so that every core has a batch to parse while the
// caller consumes one, and for no more than maxAheadCores cores, so that
// what one reader holds does not grow with the machine: at most 17
// batches (16 ahead and the one handed out) of 1.1 MiB of records and
// what they parse into, whatever stream it reads (an upload, a hostile
// file).
func aheadDepth(cores int) int { return 2 * min(cores, maxAheadCores) }

// maxAheadCores bounds the cores a reader parses on: framing is serial,
// and a reader is one of several things an import runs at once.
const maxAheadCores = 8

// readAhead is a reader's state when it reads ahead.
type readAhead struct {
	depth   int
	pending []*aheadBatch // framed, in stream order; parsing or parsed
	cur     *aheadBatch   // the batch whose records Next is handing out
	free    []*aheadBatch // handed out, to be framed into again
	// end is what Next returns once the batches run out: io.EOF, or the
	// read error that ended the stream (returned once, then io.EOF).
	end    error
	ended  bool // framing has reached end
	framed int  // batches framed so far
}

// aheadBatch is a run of framed records and, once done is closed, their
// results.
type aheadBatch struct {
	p     isoParser
	raw   []byte // the framed records back to back
	items []aheadItem
	next  int // next item Next hands out
	done  chan struct{}
}

// aheadItem is one record of a batch. A record to parse is raw[start:end];
// one the framer finished (found by resynchronising, or a record error)
// has parse false and its result set already.
type aheadItem struct {
	parse      bool
	start, end int
	index      int
	off        int64
	rec        *Record
	err        error
	warns      []Warning
}

// readAheadFor returns the read-ahead state for a stream reader, or nil
// where there is only one core to parse on.
func readAheadFor() *readAhead {
	if depth := aheadDepthHere(); depth > 0 {
		return &readAhead{depth: depth, end: io.EOF}
	}
	return nil
}

// aheadDepthHere is aheadDepth for the cores this process may use, or 0
// where there is only one: reading ahead then only adds goroutines.
func aheadDepthHere() int {
	if cores := runtime.GOMAXPROCS(0); cores >= 2 {
		return aheadDepth(cores)
	}
	return 0
}

// nextAhead is Next when reading ahead.
func (r *ISO2709Reader) nextAhead() (*Record, error) {
	a := r.ahead
	for a.cur == nil || a.cur.next == len(a.cur.items) {
		if a.cur != nil {
			a.free = append(a.free, a.cur)
			a.cur = nil
		}
		r.frameAhead()
		if len(a.pending) == 0 {
			a.release()
			err := a.end
			a.end = io.EOF
			r.warns = nil
			return nil, err
		}
		a.cur = a.pending[0]
		a.pending = a.pending[1:]
		<-a.cur.done
	}
	it := &a.cur.items[a.cur.next]
	a.cur.next++
	r.off, r.warns = it.off, it.warns
	rec, err := it.rec, it.err
	*it = aheadItem{} // the batch is reused; the record is the caller's now
	return rec, err
}

// frameAhead frames batches until depth of them are pending or the stream
// ends, and starts parsing each.
func (r *ISO2709Reader) frameAhead() {
	a := r.ahead
	for len(a.pending) < a.depth && !a.ended {
		b := a.batch(r.opts)
		r.frameBatch(b)
		if len(b.items) == 0 {
			a.free = append(a.free, b)
			return
		}
		a.pending = append(a.pending, b)
		go b.parseAll(r.opts.Source)
	}
}

// batch returns an empty batch, reusing one handed out already, by this
// reader or by one that read to its end before (batchPool).
func (a *readAhead) batch(opts ReaderOptions) *aheadBatch {
	var b *aheadBatch
	if n := len(a.free); n > 0 {
		b, a.free = a.free[n-1], a.free[:n-1]
	} else if v := batchPool.Get(); v != nil {
		b = v.(*aheadBatch)
		b.p.opts, b.p.warns, b.p.moreWarns = opts, nil, 0
	} else {
		b = &aheadBatch{p: isoParser{opts: opts}}
	}
	b.raw, b.items, b.next = b.raw[:0], b.items[:0], 0
	b.done = make(chan struct{})
	return b
}

// batchPool keeps the batches of readers that reached the end of their
// stream, buffers and parser state included, for the next reader: an
// import reads one file after another, and each would otherwise grow its
// own (at 2,500 records a file, most of a file's reading).
var batchPool sync.Pool

// release gives a finished reader's batches to batchPool. Their items
// were cleared as they were handed out.
func (a *readAhead) release() {
	for _, b := range a.free {
		batchPool.Put(b)
	}
	a.free = nil
}

// frameBatch frames records into b until it is full or the stream ends.
func (r *ISO2709Reader) frameBatch(b *aheadBatch) {
	a := r.ahead
	limit := aheadRecords
	if a.framed < 7 {
		limit = min(limit, firstBatch<<a.framed)
	}
	a.framed++
	for len(b.items) < limit && len(b.raw) < aheadBytes {
		raw, out, err := r.frame()
		if _, skipped := err.(*RecordError); err != nil && !skipped {
			a.ended, a.end = true, err
			return
		}
		it := aheadItem{index: r.index, off: r.off}
		if raw != nil {
			it.parse, it.start = true, len(b.raw)
			b.raw = append(b.raw, raw...)
			it.end = len(b.raw)
		} else {
			it.rec, it.err, it.warns = out, err, r.warns
		}
		b.items = append(b.items, it)
	}
}

// parseAll parses the batch's framed records and closes done. A panic in
// the parser becomes the record's error: in a goroutine of the reader's
// own it would end the program, whatever the caller recovers.
func (b *aheadBatch) parseAll(source string) {
	defer close(b.done)
	// The records this batch's parser built last time have been handed
	// out, and the caller has called Next since.
	b.p.slab.reset(b.p.opts.ReuseRecords)
	if b.p.keepsText = b.p.opts.ReuseRecords; b.p.keepsText {
		// A new array each time: the last batch's strings may still be the
		// caller's.
		b.p.text = make([]byte, 0, b.textSize())
	}
	for i := range b.items {
		if it := &b.items[i]; it.parse {
			b.parseItem(it, source)
		}
	}
	b.p.text = nil
}

// textSize is what the records to parse hold beside their directories,
// as their leaders give their base addresses: the size of their text. (A
// leader that says less only makes p.text grow.)
func (b *aheadBatch) textSize() int {
	n := 0
	for i := range b.items {
		if it := &b.items[i]; it.parse {
			l := it.end - it.start
			if l < LeaderLen {
				n += l
				continue
			}
			if base, ok := atoiDigits(b.raw[it.start+12:], 5); ok && base >= LeaderLen && base <= l {
				l -= base - LeaderLen
			}
			n += l
		}
	}
	return n
}

func (b *aheadBatch) parseItem(it *aheadItem, source string) {
	fail := func(err error) {
		it.rec, it.warns = nil, nil
		it.err = &RecordError{Source: source, Index: it.index, Offset: it.off, Err: err}
	}
	defer func() {
		if v := recover(); v != nil {
			fail(fmt.Errorf("internal error reading the record: %v", v))
		}
	}()
	p := &b.p
	p.warns, p.moreWarns = nil, 0
	rec, err := p.parse(b.raw[it.start:it.end])
	if err != nil {
		fail(err)
		return
	}
	it.rec, it.warns = rec, p.warns
}

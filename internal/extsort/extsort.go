// Package extsort sorts more key-value pairs than a memory budget holds:
// pairs are kept in memory until they pass the budget, then sorted and
// written to a temporary file as a run; reading merges the runs. A build
// that writes a bbolt bucket from scratch needs its keys in order (bbolt
// packs pages full and touches each once), but what it derives them from
// comes in another order and may be larger than the process should hold.
//
// Hand-written because the Go external sorts found (lanrat/extsort,
// chrislusf's, the sort packages of databases) move every pair through a
// channel or an interface value, serialise with gob or JSON, or sort typed
// records, not the byte slices a bbolt key and value are; this one keeps
// the pairs of a run in one byte arena and costs one comparison of byte
// slices a pair more than an in-memory sort.
package extsort

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"

	"go.etcd.io/bbolt"
)

// pairOverhead is what a pair costs in memory beyond its bytes.
const pairOverhead = 16

// Sorter collects pairs and gives them back in key order. Pairs with equal
// keys come back in the order they were added. It is not safe for
// concurrent use. Close removes its file.
type Sorter struct {
	dir    string
	budget int

	arena []byte // the pairs in memory, key then value
	pairs []pair
	size  int // the bytes the pairs in memory take

	file *os.File // the runs, one after the other; nil until the first
	w    *bufio.Writer
	runs []span // where each run lies in file
	end  int64  // the file's length
	n    int
}

// pair is one pair of the arena: the key is arena[at:at+klen], the value
// follows it.
type pair struct{ at, klen, vlen uint32 }

type span struct{ off, len int64 }

// New returns a Sorter that holds up to budget bytes of pairs in memory
// and writes its runs to a temporary file in dir ("" for the system's).
func New(dir string, budget int) *Sorter {
	return &Sorter{dir: dir, budget: max(budget, 1<<16)}
}

// Add adds a copy of the pair k, v.
func (s *Sorter) Add(k, v []byte) error {
	if len(k)+len(v) > 1<<31 {
		return fmt.Errorf("extsort: a pair of %d bytes is too large", len(k)+len(v))
	}
	if s.size > 0 && s.size+len(k)+len(v)+pairOverhead > s.budget {
		if err := s.spill(); err != nil {
			return err
		}
	}
	at := len(s.arena)
	if uint64(at)+uint64(len(k))+uint64(len(v)) >= 1<<32 {
		if err := s.spill(); err != nil {
			return err
		}
		at = 0
	}
	if need := at + len(k) + len(v); need > cap(s.arena) {
		s.arena = slices.Grow(s.arena, growTo(cap(s.arena), need, 1<<20, s.budget)-at)
	}
	if len(s.pairs) == cap(s.pairs) {
		s.pairs = slices.Grow(s.pairs, growTo(cap(s.pairs), len(s.pairs)+1, 1<<14, s.budget/pairOverhead)-len(s.pairs))
	}
	s.arena = append(append(s.arena, k...), v...)
	s.pairs = append(s.pairs, pair{uint32(at), uint32(len(k)), uint32(len(v))})
	s.size += len(k) + len(v) + pairOverhead
	s.n++
	return nil
}

// growTo returns the capacity an arena or pair slice of capacity c grows
// to when it must hold need: four times as much, at least first, at most
// limit (the most a run holds), and never less than need. append's own
// growth (a quarter at a time past 256 elements) copies a 32 MiB arena
// about 45 times on its way up, each time into fresh pages, and measured
// about 220 ms a run.
func growTo(c, need, first, limit int) int {
	return max(need, min(max(4*c, first), limit))
}

// Len returns how many pairs were added.
func (s *Sorter) Len() int { return s.n }

func (s *Sorter) key(p pair) []byte { return s.arena[p.at : p.at+p.klen] }

func (s *Sorter) value(p pair) []byte {
	return s.arena[p.at+p.klen : p.at+p.klen+p.vlen]
}

// sortMemory sorts the pairs in memory by key, equal keys in the order
// they were added. That order is the arena's: a pair added later lies
// further on, or at the same place when the one before it is empty. An
// unstable sort with that tie-break is twice as fast as a stable one,
// whose merges move the pairs O(n log n) times: 600,000 pairs of 25-byte
// keys in 200 ms against 420.
func (s *Sorter) sortMemory() {
	slices.SortFunc(s.pairs, func(a, b pair) int {
		if c := bytes.Compare(s.key(a), s.key(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.klen+a.vlen, b.klen+b.vlen)
	})
}

// spill writes the pairs in memory to the file as one sorted run.
func (s *Sorter) spill() error {
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "unicat-sort-*")
		if err != nil {
			return fmt.Errorf("extsort: %w", err)
		}
		s.file, s.w = f, bufio.NewWriterSize(f, 1<<20)
	}
	s.sortMemory()
	start := s.end
	var lb [2 * binary.MaxVarintLen32]byte
	for _, p := range s.pairs {
		n := binary.PutUvarint(lb[:], uint64(p.klen))
		n += binary.PutUvarint(lb[n:], uint64(p.vlen))
		if _, err := s.w.Write(lb[:n]); err != nil {
			return fmt.Errorf("extsort: write run: %w", err)
		}
		if _, err := s.w.Write(s.arena[p.at : p.at+p.klen+p.vlen]); err != nil {
			return fmt.Errorf("extsort: write run: %w", err)
		}
		s.end += int64(n) + int64(p.klen) + int64(p.vlen)
	}
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("extsort: write run: %w", err)
	}
	s.runs = append(s.runs, span{start, s.end - start})
	s.arena, s.pairs, s.size = s.arena[:0], s.pairs[:0], 0
	return nil
}

// Close removes the Sorter's file, if it wrote one.
func (s *Sorter) Close() error {
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	err := s.file.Close()
	if rerr := os.Remove(name); err == nil {
		err = rerr
	}
	s.file = nil
	return err
}

// Iter returns an iterator over every pair added, in key order. No pair
// may be added after it is called.
func (s *Sorter) Iter() (*Iter, error) {
	it := &Iter{s: s, memory: len(s.runs) == 0}
	if it.memory {
		s.sortMemory()
		return it, nil
	}
	if len(s.pairs) > 0 {
		if err := s.spill(); err != nil {
			return nil, err
		}
	}
	for i, r := range s.runs {
		rd := &runReader{rd: bufio.NewReaderSize(io.NewSectionReader(s.file, r.off, r.len), 64<<10), run: i}
		if rd.next() {
			it.merge = append(it.merge, rd)
		} else if rd.err != nil {
			return nil, rd.err
		}
	}
	heap.Init(&it.merge)
	return it, nil
}

// Iter reads a Sorter's pairs in key order.
type Iter struct {
	s      *Sorter
	memory bool // no run was written: the pairs are read from memory
	i      int  // in memory: the next pair
	merge  runHeap
	cur    *runReader // the run whose pair Key and Value return
	k, v   []byte
	err    error
	read   int // pairs Next has returned
}

// Next moves to the next pair and reports whether there is one.
func (it *Iter) Next() bool {
	if it.err != nil {
		return false
	}
	if it.memory {
		if it.i >= len(it.s.pairs) {
			return false
		}
		p := it.s.pairs[it.i]
		it.k, it.v = it.s.key(p), it.s.value(p)
		it.i++
		it.read++
		return true
	}
	if it.cur != nil {
		// The run of the last pair moves on; its pair's bytes are reused.
		if it.cur.next() {
			heap.Push(&it.merge, it.cur)
		} else if it.cur.err != nil {
			it.err = it.cur.err
			return false
		}
		it.cur = nil
	}
	if len(it.merge) == 0 {
		return false
	}
	it.cur = heap.Pop(&it.merge).(*runReader)
	it.k, it.v = it.cur.k, it.cur.v
	it.read++
	return true
}

// Read returns how many pairs Next has returned.
func (it *Iter) Read() int { return it.read }

// Key and Value return the current pair; they hold until the next call
// of Next.
func (it *Iter) Key() []byte   { return it.k }
func (it *Iter) Value() []byte { return it.v }

// Err returns the error that ended the iteration, if any.
func (it *Iter) Err() error { return it.err }

// runReader reads one run back.
type runReader struct {
	rd   *bufio.Reader
	run  int
	buf  []byte
	k, v []byte
	err  error
}

func (r *runReader) next() bool {
	kl, err := binary.ReadUvarint(r.rd)
	if err == io.EOF {
		return false
	}
	if err != nil {
		r.err = fmt.Errorf("extsort: read run: %w", err)
		return false
	}
	vl, err := binary.ReadUvarint(r.rd)
	if err != nil {
		r.err = fmt.Errorf("extsort: read run: %w", err)
		return false
	}
	r.buf = slices.Grow(r.buf[:0], int(kl+vl))[:kl+vl]
	if _, err := io.ReadFull(r.rd, r.buf); err != nil {
		r.err = fmt.Errorf("extsort: read run: %w", err)
		return false
	}
	r.k, r.v = r.buf[:kl], r.buf[kl:]
	return true
}

// runHeap orders the runs by their current key, then by run, so that
// equal keys come back in the order they were added.
type runHeap []*runReader

func (h runHeap) Len() int { return len(h) }
func (h runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].k, h[j].k); c != 0 {
		return c < 0
	}
	return h[i].run < h[j].run
}
func (h runHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)   { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// PutInto writes the next pairs of it, at most limit (-1: all), into b,
// and reports whether it wrote the last. The pages split at b's
// FillPercent: a caller writing a bucket that holds none of the keys and
// none after them sets it to 1, and the pages are packed full.
func PutInto(b *bbolt.Bucket, it *Iter, limit int) (done bool, err error) {
	for n := 0; limit < 0 || n < limit; n++ {
		if !it.Next() {
			return it.Err() == nil, it.Err()
		}
		// bbolt copies the key but keeps the value slice until the
		// commit; the iterator reuses it.
		if err := b.Put(it.Key(), bytes.Clone(it.Value())); err != nil {
			return false, fmt.Errorf("extsort: put into the bucket: %w", err)
		}
	}
	return false, nil
}

// AppendsPerTx is how many pairs a transaction of PutAll should write
// into a bucket that holds none of the keys after them. bbolt splits a
// node only at the commit, so every pair a transaction appends lands in
// one leaf node: its array grows by doubling and each put's two binary
// searches (the cursor's, the node's) run over all of it. At 2^18 pairs
// a transaction the 1M import's appends into the dedup edges and members
// took 2.9-3.9 s and the OAI-PMH entries 2.5-2.6 s, at 2^14 1.7-1.8 s
// and 1.8-2.2 s; the search sort entries, at 2^17 before, took as long
// either way (two alternating imports each). BenchmarkPutAll measures
// it.
const AppendsPerTx = 1 << 14

// Counting returns update calling fn after each of its transactions
// that commits with the pairs of it read so far: PutAll's progress, when
// PutAll is given it, since PutInto reads only the pairs it puts.
func Counting(update func(func(*bbolt.Tx) error) error, it *Iter, fn func(read int)) func(func(*bbolt.Tx) error) error {
	return func(tx func(*bbolt.Tx) error) error {
		if err := update(tx); err != nil {
			return err
		}
		fn(it.Read())
		return nil
	}
}

// PutAll writes every remaining pair of it into a bucket over as many
// write transactions of update as it takes, perTx pairs in each
// (AppendsPerTx, but for tests): the bucket bucket returns in that
// transaction, its pages split at fill. It stops between transactions
// once ctx is done, with ctx's error.
func PutAll(ctx context.Context, update func(func(*bbolt.Tx) error) error, it *Iter, perTx int, fill float64,
	bucket func(*bbolt.Tx) (*bbolt.Bucket, error)) error {
	for done := false; !done; {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := update(func(tx *bbolt.Tx) error {
			b, err := bucket(tx)
			if err != nil {
				return err
			}
			b.FillPercent = fill
			done, err = PutInto(b, it, perTx)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

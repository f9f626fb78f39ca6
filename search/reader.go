package search

import (
	"bytes"
	"context"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
)

// reader reads postings in one transaction, for one search or scan.
type reader struct {
	b      *buckets
	chunks int // number of document-number chunks in use
	ctx    context.Context
	steps  uint // keys read, for step
}

// step counts one key read and, at the first and then every stepCheck
// keys, reports whether the search's context is done: a query whose
// client has gone away stops reading the index within milliseconds, not
// when it is done.
func (r *reader) step() error {
	r.steps++
	if r.steps%stepCheck == 1 {
		return r.ctx.Err()
	}
	return nil
}

// stepCheck is how many keys a reader reads between looks at its context.
const stepCheck = 512

func (r *reader) init() error {
	next, err := getU32(r.b.meta, keyNext)
	if err != nil {
		return err
	}
	r.chunks = int((uint64(next) + (1 << chunkBits) - 1) >> chunkBits)
	return nil
}

// postings returns the documents of one term key.
func (r *reader) postings(k termKey) (*roaring.Bitmap, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, err
	}
	bm := roaring.New()
	var kb []byte
	for c := 0; c < r.chunks; c++ {
		kb = termKeyBytes(kb[:0], k.ix, k.kind, uint16(c), k.term)
		if v := r.b.terms.Get(kb); v != nil {
			if err := decodePostings(bm, uint16(c), v); err != nil {
				return nil, fmt.Errorf("search: postings %q: %w", kb, err)
			}
		}
	}
	return bm, nil
}

// count returns the number of documents of one term key.
func (r *reader) count(k termKey) (uint64, error) {
	var n uint64
	var kb []byte
	for c := 0; c < r.chunks; c++ {
		kb = termKeyBytes(kb[:0], k.ix, k.kind, uint16(c), k.term)
		if v := r.b.terms.Get(kb); v != nil {
			m, err := cardinality(v)
			if err != nil {
				return 0, fmt.Errorf("search: postings %q: %w", kb, err)
			}
			n += m
		}
	}
	return n, nil
}

// walk calls fn for every stored key of index ix and kind whose term
// starts with prefix, chunk by chunk (so a term is seen once per chunk
// holding it), in term order within a chunk. fn returns false to stop.
func (r *reader) walk(ix, kind byte, prefix string, fn func(term string, chunk uint16, v []byte) (bool, error)) error {
	c := r.b.terms.Cursor()
	var kb []byte
	for ch := 0; ch < r.chunks; ch++ {
		kb = termKeyBytes(kb[:0], ix, kind, uint16(ch), prefix)
		for k, v := c.Seek(kb); k != nil && bytes.HasPrefix(k, kb); k, v = c.Next() {
			if err := r.step(); err != nil {
				return err
			}
			more, err := fn(string(k[4:]), uint16(ch), v)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
	}
	return nil
}

// walkRange calls fn for every key of ix and kind whose term t satisfies
// lo <= t (or lo < t when !loIncl) and t <= hi (t < hi when !hiIncl); an
// empty bound is open.
func (r *reader) walkRange(ix, kind byte, lo string, loIncl bool, hi string, hiIncl bool,
	fn func(term string, chunk uint16, v []byte) error) error {
	c := r.b.terms.Cursor()
	var kb, pre []byte
	for ch := 0; ch < r.chunks; ch++ {
		pre = termKeyBytes(pre[:0], ix, kind, uint16(ch), "")
		kb = termKeyBytes(kb[:0], ix, kind, uint16(ch), lo)
		for k, v := c.Seek(kb); k != nil && bytes.HasPrefix(k, pre); k, v = c.Next() {
			if err := r.step(); err != nil {
				return err
			}
			t := string(k[4:])
			if lo != "" && !loIncl && t == lo {
				continue
			}
			if hi != "" && (t > hi || (!hiIncl && t == hi)) {
				break
			}
			if err := fn(t, uint16(ch), v); err != nil {
				return err
			}
		}
	}
	return nil
}

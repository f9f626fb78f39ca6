package dedup

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Compact binary values for the dedup buckets. Everything here runs inside
// the write transaction of every batch, so values are length-prefixed
// bytes, never JSON.

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendStrs(dst []byte, ss []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(ss)))
	for _, s := range ss {
		dst = appendStr(dst, s)
	}
	return dst
}

func appendU64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

var errShort = errors.New("value truncated")

// reader decodes what the append functions wrote; the first error sticks.
type reader struct {
	b   []byte
	err error
	// s, when set, holds the bytes b started as: str returns slices of
	// it, one allocation for all the strings of an encoding instead of
	// one each (a candidate's profile has about fifteen).
	s string
}

// stringReader returns a reader of b whose strings share one copy of b.
func stringReader(b []byte) reader {
	return reader{b: b, s: string(b)}
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail(errShort)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u64() uint64 {
	if len(r.b) < 8 {
		r.fail(errShort)
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

var errVarint = errors.New("malformed varint")

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	if !minimalVarint(r.b[:n]) {
		r.fail(errVarint) // an overlong form: one value, one encoding
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	if !minimalVarint(r.b[:n]) {
		r.fail(errVarint)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// minimalVarint reports whether b, one whole varint, is in its shortest
// form: a longer one ends in a zero group. (Checked without re-encoding:
// this runs for every number of every profile read.)
func minimalVarint(b []byte) bool { return len(b) == 1 || b[len(b)-1] != 0 }

// bytes returns n bytes aliasing the input (which may be bbolt's mmap:
// copy before keeping them past the transaction).
func (r *reader) bytes(n uint64) []byte {
	if uint64(len(r.b)) < n {
		r.fail(errShort)
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.s == "" {
		return string(r.bytes(n))
	}
	at := len(r.s) - len(r.b)
	if r.bytes(n) == nil {
		return ""
	}
	return r.s[at : at+int(n)]
}

func (r *reader) strs() []string {
	n := r.uvarint()
	if n > uint64(len(r.b)) { // each string takes at least one byte
		r.fail(errShort)
		return nil
	}
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

// rest returns what is left.
func (r *reader) rest() []byte {
	v := r.b
	r.b = nil
	return v
}

func (r *reader) done(what string) error {
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("dedup: decode %s: %w", what, r.err)
	}
	return nil
}

func appendVarint(dst []byte, v int64) []byte { return binary.AppendVarint(dst, v) }

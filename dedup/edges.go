package dedup

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Edge keys are the two records' ordinals, uint32 BE each, and every edge
// is stored in both directions. The key whose first ordinal is the lower
// holds the match (varint Unix ns, then the rule); the other holds only
// the rule's strength, one byte, all that reclustering reads. Ordinals
// rather than record keys make the keys 8 bytes instead of about 40:
// edges were a quarter of the pages a commit wrote.
func edgeKey(a, b uint32) uint64 { return uint64(a)<<32 | uint64(b) }

// strengthValues are the values of the edges' second direction, shared
// (bbolt only reads a value it is given).
var strengthValues = [...][]byte{{0}, {1}, {2}}

// Edge is one match between two source records.
type Edge struct {
	A, B string    // record keys as "source:localid"
	Rule string    // "isbn 978...", "id 035:(ocolc)123", "title+author 0.97", ...
	When time.Time // when the match was found
}

// edgePut is an edge write, queued.
type edgePut struct {
	key uint64
	val []byte
}

// putEdge queues the edge between the records of ordinals a and b, in
// both directions; flushEdges writes the queue in key order (in a whole
// rebuild, the rebuild writes st.whole's).
func (st *state) putEdge(a, b uint32, rule string) error {
	lo, hi := min(a, b), max(a, b)
	v := binary.AppendVarint(make([]byte, 0, binary.MaxVarintLen64+len(rule)), st.now.UnixNano())
	v = append(v, rule...)
	puts := [2]edgePut{{edgeKey(lo, hi), v}, {edgeKey(hi, lo), strengthValues[ruleStrength(rule)]}}
	if st.whole != nil {
		return st.whole.putEdges(puts[:])
	}
	st.edgePuts = append(st.edgePuts, puts[:]...)
	return nil
}

func (st *state) flushEdges() error {
	slices.SortFunc(st.edgePuts, func(x, y edgePut) int { return cmp.Compare(x.key, y.key) })
	// bbolt holds on to the keys until the commit: one buffer for all.
	keys := make([]byte, 8*len(st.edgePuts))
	for i, e := range st.edgePuts {
		k := keys[8*i : 8*i+8 : 8*i+8]
		binary.BigEndian.PutUint64(k, e.key)
		if err := st.edges.Put(k, e.val); err != nil {
			return fmt.Errorf("dedup: edge: %w", err)
		}
	}
	st.edgePuts = nil
	return nil
}

// deleteEdges removes every edge of the record of ordinal a and returns
// the other ends.
func (st *state) deleteEdges(a uint32) ([]uint32, error) {
	var others []uint32
	if err := forEdges(st.edges, a, func(o uint32, _ []byte) error {
		others = append(others, o)
		return nil
	}); err != nil {
		return nil, err
	}
	var k [8]byte
	for _, o := range others {
		for _, e := range [2]uint64{edgeKey(a, o), edgeKey(o, a)} {
			binary.BigEndian.PutUint64(k[:], e)
			if err := st.edges.Delete(k[:]); err != nil {
				return nil, err
			}
		}
	}
	return others, nil
}

// forEdges calls fn for every edge of the record of ordinal a, with the
// other end's ordinal and the edge's value (see edgeKey).
func forEdges(b *bbolt.Bucket, a uint32, fn func(other uint32, v []byte) error) error {
	var prefix [4]byte
	binary.BigEndian.PutUint32(prefix[:], a)
	c := b.Cursor()
	for k, v := c.Seek(prefix[:]); len(k) == 8 && bytes.HasPrefix(k, prefix[:]); k, v = c.Next() {
		if err := fn(binary.BigEndian.Uint32(k[4:]), v); err != nil {
			return err
		}
	}
	return nil
}

// edgeStrength returns the rule strength of the edge a ~ b from its value
// under a, b.
func edgeStrength(a, b uint32, v []byte) (int, error) {
	if a > b {
		if len(v) != 1 || int(v[0]) >= len(strengthValues) {
			return 0, fmt.Errorf("dedup: bad edge value %x for ordinals %d, %d", v, a, b)
		}
		return int(v[0]), nil
	}
	rule, _, err := edgeMatch(v)
	return ruleStrength(rule), err
}

// edgeMatch decodes the value an edge holds under its lower ordinal.
func edgeMatch(v []byte) (rule string, when time.Time, err error) {
	ns, n := binary.Varint(v)
	if n <= 0 {
		return "", time.Time{}, fmt.Errorf("dedup: bad edge value %x", v)
	}
	return string(v[n:]), time.Unix(0, ns).UTC(), nil
}

// ruleStrength ranks rules: identifiers before titles.
func ruleStrength(rule string) int {
	switch {
	case strings.HasPrefix(rule, "isbn"):
		return 0
	case strings.HasPrefix(rule, "id"):
		return 1
	}
	return 2
}

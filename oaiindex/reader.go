package oaiindex

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// Reader answers a data provider's questions from one transaction. It and
// everything it returns live as long as that transaction.
type Reader struct {
	meta, entries, items, sets *bbolt.Bucket
}

// NewReader returns a Reader of the index in tx (read or write). An index
// not built yet reads as empty.
func NewReader(tx *bbolt.Tx) *Reader {
	return &Reader{
		meta:    tx.Bucket(bucketMeta),
		entries: tx.Bucket(bucketEntries),
		items:   tx.Bucket(bucketItems),
		sets:    tx.Bucket(bucketSets),
	}
}

// Epoch is the index's generation: a rebuild starts a new one, and a
// resumption token of an older one continues no list.
func (r *Reader) Epoch() uint64 { return readEpoch(r.meta) }

// Item is the index's record of one union record: where it stands in the
// list of all records, and in each set it is in or has left.
type Item struct {
	Datestamp int64 // Unix seconds: its position in every list
	Deleted   bool
	sets      []itemSet
}

// Members returns the specs of the sets the record is in now, in order.
func (it *Item) Members() []string {
	var out []string
	for _, s := range it.sets {
		if s.state == stateMember {
			out = append(out, s.spec)
		}
	}
	return out
}

// Item returns the index's record of the union record id, or nil when the
// index has none.
func (r *Reader) Item(id string) (*Item, error) {
	if r.items == nil {
		return nil, nil
	}
	v := r.items.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	it, err := decodeItem(v)
	if err != nil {
		return nil, fmt.Errorf("oaiindex: item %s: %w", id, err)
	}
	return it, nil
}

// FirstID returns the smallest union id the index holds, "" when it is
// empty (Identify's sampleIdentifier).
func (r *Reader) FirstID() string {
	if r.items == nil {
		return ""
	}
	k, _ := r.items.Cursor().First()
	return string(k)
}

// Earliest returns the smallest datestamp in the index, and false when it
// is empty.
func (r *Reader) Earliest() (int64, bool) {
	if r.entries == nil {
		return 0, false
	}
	k, _ := r.entries.Cursor().Seek([]byte{0})
	if len(k) < 9 || k[0] != 0 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(k[1:9])), true
}

// Specs calls fn with every set spec the index knows, in order.
func (r *Reader) Specs(fn func(spec string)) {
	if r.sets == nil {
		return
	}
	c := r.sets.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) > 0 && k[0] != 0 {
			fn(string(k))
		}
	}
}

// List is one list as a harvest sees it: the entries of one set
// (AllRecords for all records) whose datestamps are in [From, Cutoff], as
// the index stood at Cutoff: an entry is in the list if it was current
// then. Datestamps are Unix seconds.
type List struct {
	Spec         string
	From, Cutoff int64
}

// Entry is one record of a list.
type Entry struct {
	Datestamp int64
	ID        string
	// Deleted: the record is deleted, or no longer in the list's set.
	Deleted bool
}

func (l *List) includes(ds, movedAt int64) bool {
	return ds >= l.From && ds <= l.Cutoff && (movedAt == 0 || movedAt > l.Cutoff)
}

// Scan calls fn with the entries of l that follow position (afterDS,
// afterID), or from the start when afterID is "", in list order; fn
// returns false to stop.
func (r *Reader) Scan(l *List, afterDS int64, afterID string, fn func(e Entry) bool) error {
	if r.entries == nil || l.From > l.Cutoff {
		return nil
	}
	prefix := append([]byte(l.Spec), 0)
	var seek []byte
	if afterID == "" {
		seek = entryKey(nil, l.Spec, l.From, "")
	} else {
		seek = entryKey(nil, l.Spec, max(afterDS, l.From), afterID)
	}
	c := r.entries.Cursor()
	k, v := c.Seek(seek)
	if afterID != "" && bytes.Equal(k, seek) {
		k, v = c.Next()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		rest := k[len(prefix):]
		if len(rest) < 8 || len(v) != 9 {
			return fmt.Errorf("oaiindex: corrupt entry %q", k)
		}
		ds := int64(binary.BigEndian.Uint64(rest))
		if ds > l.Cutoff {
			break
		}
		if !l.includes(ds, int64(binary.BigEndian.Uint64(v[1:]))) {
			continue
		}
		if !fn(Entry{Datestamp: ds, ID: string(rest[8:]), Deleted: v[0] == stateGone}) {
			break
		}
	}
	return nil
}

// Count returns how many entries l holds. When nothing in the set has
// changed after the cutoff and the list starts at the beginning, that is
// the set's counter; otherwise it counts the keys.
func (r *Reader) Count(l *List) (uint64, error) {
	if r.sets == nil {
		return 0, nil
	}
	if v := r.sets.Get(setKey(l.Spec)); len(v) == 16 && int64(binary.BigEndian.Uint64(v[8:])) <= l.Cutoff {
		first := int64(-1)
		r.Scan(&List{Spec: l.Spec, From: 0, Cutoff: l.Cutoff}, 0, "", func(e Entry) bool {
			first = e.Datestamp
			return false
		})
		if first < 0 || l.From <= first {
			return binary.BigEndian.Uint64(v), nil
		}
	}
	var n uint64
	err := r.Scan(l, 0, "", func(Entry) bool { n++; return true })
	return n, err
}

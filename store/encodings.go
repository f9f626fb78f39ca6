package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"

	"go.etcd.io/bbolt"
)

// bucketEncodings counts each source's live records by the encoding they
// were received in, for records whose text was converted (a record
// stored as received, in UTF-8 NFC, is counted as Live minus these):
// source id 0x00 encoding → uint64 big-endian.
var bucketEncodings = []byte("encodings")

// encodingDelta is what a batch changes in those counts.
type encodingDelta map[string]int

// count adds n for r if it is a live record whose text was converted.
func (d encodingDelta) count(r *SourceRecord, n int) {
	if r != nil && !r.Deleted && r.Encoding != "" {
		d[r.Encoding] += n
	}
}

func encodingKey(source, encoding string) []byte {
	return append(append(append(make([]byte, 0, len(source)+1+len(encoding)), source...), 0), encoding...)
}

func (d encodingDelta) write(b *bbolt.Bucket, source string) error {
	for enc, n := range d {
		if n == 0 {
			continue
		}
		k := encodingKey(source, enc)
		cur := 0
		if v := b.Get(k); len(v) == 8 {
			cur = int(binary.BigEndian.Uint64(v))
		}
		cur += n
		if cur < 0 {
			return fmt.Errorf("store: count of %s records of source %q would become negative", enc, source)
		}
		if cur == 0 {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("store: count of %s records of source %q: %w", enc, source, err)
			}
			continue
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], uint64(cur))
		if err := b.Put(k, v[:]); err != nil {
			return fmt.Errorf("store: count of %s records of source %q: %w", enc, source, err)
		}
	}
	return nil
}

// EncodingCount is how many live records of a source arrived in one
// encoding.
type EncodingCount struct {
	Encoding string // a marc.Origin.Encoding name; "utf-8" for records stored as received
	Records  int
}

// Encodings returns the live records of source by the encoding they were
// received in, "utf-8" (stored as received) first, then by name. Records
// stored before unicat kept what records were received as count as
// "utf-8".
func (t *Tx) Encodings(source string) ([]EncodingCount, error) {
	st, err := t.Stats(source)
	if err != nil {
		return nil, err
	}
	var out []EncodingCount
	converted := 0
	prefix := encodingKey(source, "")
	c := t.tx.Bucket(bucketEncodings).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(v) != 8 {
			return nil, fmt.Errorf("store: count of %s records of source %q: %d bytes, want 8", k[len(prefix):], source, len(v))
		}
		n := int(binary.BigEndian.Uint64(v))
		out = append(out, EncodingCount{Encoding: string(k[len(prefix):]), Records: n})
		converted += n
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Encoding < out[j].Encoding })
	if st.Live > converted {
		out = append([]EncodingCount{{Encoding: "utf-8", Records: st.Live - converted}}, out...)
	}
	return out, nil
}

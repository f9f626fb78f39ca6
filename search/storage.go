package search

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"go.etcd.io/bbolt"
)

// Buckets owned by this package (see the package documentation).
var (
	bucketMeta  = []byte("search.meta")
	bucketIDs   = []byte("search.ids")
	bucketDocs  = []byte("search.docs")
	bucketTerms = []byte("search.terms")
	bucketSort  = []byte("search.sort")

	keyVersion = []byte("version") // layout and table version
	keyNext    = []byte("next")    // next document number
	keyState   = []byte("state")   // "ready", or "building" during a rebuild
)

// layoutVersion is the version of the bucket layout; together with
// tableVersion it must match for a stored index to be used.
const layoutVersion = 4

func versionValue() []byte {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], layoutVersion)
	binary.BigEndian.PutUint32(b[4:], tableVersion)
	return b[:]
}

// Sort bucket prefixes.
const (
	sortTitleKey   = 't'
	sortCreatorKey = 'c'
	sortDateKey    = 'd'
)

// chunkBits: a term's postings are split by document number into chunks
// of 65536 documents (one roaring container each), each its own key with
// the chunk number before the term. New documents get new, higher
// numbers, so a batch of new records writes into the last chunk's key
// range only, and a rebuild writes chunk after chunk in key order.
const chunkBits = 16

// termKeyBytes builds the stored key: index id, kind, chunk (2 bytes),
// term.
func termKeyBytes(dst []byte, ix, kind byte, chunk uint16, term string) []byte {
	dst = append(dst, ix, kind, byte(chunk>>8), byte(chunk))
	return append(dst, term...)
}

// dictKeyBytes is termKeyBytes of a rebuild dictionary's key (index id,
// kind, term: termDict.key).
func dictKeyBytes(dst, key []byte, chunk uint16) []byte {
	dst = append(dst, key[0], key[1], byte(chunk>>8), byte(chunk))
	return append(dst, key[2:]...)
}

// Postings values: 'a' and big-endian uint16 low halves for short lists,
// 'r' and a serialised roaring bitmap (of full document numbers)
// otherwise.
const (
	postArray  = 'a'
	postBitmap = 'r'
	maxArray   = 32
)

// encodePostings encodes the documents of one chunk; nil when empty.
func encodePostings(bm *roaring.Bitmap) ([]byte, error) {
	n := bm.GetCardinality()
	if n == 0 {
		return nil, nil
	}
	if n <= maxArray {
		out := make([]byte, 1, 1+2*n)
		out[0] = postArray
		it := bm.Iterator()
		for it.HasNext() {
			v := it.Next()
			out = append(out, byte(v>>8), byte(v))
		}
		return out, nil
	}
	bm.RunOptimize()
	var buf bytes.Buffer
	buf.Grow(int(bm.GetSerializedSizeInBytes()) + 1)
	buf.WriteByte(postBitmap)
	if _, err := bm.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decodePostings adds the documents of a stored chunk value to dst. When
// borrow is true a roaring value is read in place (valid while the
// transaction is open, and never modified).
func decodePostings(dst *roaring.Bitmap, chunk uint16, v []byte) error {
	if len(v) == 0 {
		return errors.New("empty postings value")
	}
	base := uint32(chunk) << chunkBits
	switch v[0] {
	case postArray:
		if len(v)%2 != 1 {
			return fmt.Errorf("postings array of %d bytes", len(v))
		}
		var buf [maxArray]uint32
		vals := buf[:0]
		for i := 1; i+1 < len(v); i += 2 {
			vals = append(vals, base|uint32(v[i])<<8|uint32(v[i+1]))
		}
		dst.AddMany(vals)
		return nil
	case postBitmap:
		bm := roaring.New()
		if _, err := bm.FromBuffer(v[1:]); err != nil {
			return fmt.Errorf("postings bitmap: %w", err)
		}
		dst.Or(bm)
		return nil
	}
	return fmt.Errorf("postings value of unknown type %q", v[0])
}

// cardinality returns the number of documents in a stored chunk value.
func cardinality(v []byte) (uint64, error) {
	if len(v) == 0 {
		return 0, errors.New("empty postings value")
	}
	switch v[0] {
	case postArray:
		return uint64(len(v) / 2), nil
	case postBitmap:
		bm := roaring.New()
		if _, err := bm.FromBuffer(v[1:]); err != nil {
			return 0, fmt.Errorf("postings bitmap: %w", err)
		}
		return bm.GetCardinality(), nil
	}
	return 0, fmt.Errorf("postings value of unknown type %q", v[0])
}

// storedDoc is a document as kept in search.docs: what is needed to
// answer with its id, sort it, and check, when it changes or goes, that
// the version it is given as the old one is the one indexed.
type storedDoc struct {
	id     string
	sort   sortKeys
	sum    uint64  // valuesSum of the values indexed
	values []value // only in the rebuild's temporary file, and in memory
}

// Doc value layout, version 2: id; year (uvarint); title and creator
// collation keys; valuesSum (uint64 BE). The values themselves are not
// kept: when a document changes, its old keys are computed from the old
// version of its record (Doc.Previous), checked against the sum. (Layout 3
// kept the values, a second copy of every union record's indexed text:
// about 1 KB a record, rewritten whenever the record changed.)
const docEncV2 = 2

func encodeDoc(d *storedDoc) []byte {
	out := make([]byte, 0, 24+len(d.id)+len(d.sort.title)+len(d.sort.creator))
	out = appendDocHead(out, docEncV2, d)
	return binary.BigEndian.AppendUint64(out, d.sum)
}

func appendDocHead(out []byte, version byte, d *storedDoc) []byte {
	out = append(out, version)
	out = appendBytes(out, []byte(d.id))
	out = binary.AppendUvarint(out, uint64(d.sort.year))
	out = appendBytes(out, d.sort.title)
	return appendBytes(out, d.sort.creator)
}

// decodeDocHead decodes the id and sort keys of a stored document (it
// copies them) and returns the rest.
func decodeDocHead(v []byte) (storedDoc, []byte, error) {
	return readDocHead(v, docEncV2)
}

func readDocHead(v []byte, version byte) (storedDoc, []byte, error) {
	var d storedDoc
	if len(v) == 0 || v[0] != version {
		return d, nil, errors.New("unknown document encoding")
	}
	r := v[1:]
	id, r, ok := readBytes(r)
	if !ok {
		return d, nil, errors.New("truncated document")
	}
	d.id = string(id)
	year, n := binary.Uvarint(r)
	if n <= 0 {
		return d, nil, errors.New("truncated document")
	}
	d.sort.year = int(year)
	r = r[n:]
	var t, c []byte
	if t, r, ok = readBytes(r); !ok {
		return d, nil, errors.New("truncated document")
	}
	if c, r, ok = readBytes(r); !ok {
		return d, nil, errors.New("truncated document")
	}
	d.sort.title, d.sort.creator = slices.Clone(t), slices.Clone(c)
	return d, r, nil
}

func decodeDoc(v []byte) (storedDoc, error) {
	d, r, err := decodeDocHead(v)
	if err != nil {
		return d, err
	}
	if len(r) != 8 {
		return d, errors.New("truncated document")
	}
	d.sum = binary.BigEndian.Uint64(r)
	return d, nil
}

// appendValues encodes values: each as index id, flags, uvarint length
// and text.
func appendValues(dst []byte, vals []value) []byte {
	for _, v := range vals {
		dst = append(dst, v.ix, v.flags)
		dst = appendBytes(dst, []byte(v.text))
	}
	return dst
}

// valuesSum is a checksum of values (FNV-1a, 64 bits, of their encoding).
func valuesSum(vals []value) uint64 { return encodedValuesSum(appendValues(nil, vals)) }

// encodedValuesSum is valuesSum of the values appendValues encoded as enc.
func encodedValuesSum(enc []byte) uint64 {
	h := fnv.New64a()
	h.Write(enc)
	return h.Sum64()
}

// The rebuild's temporary file holds each document whole: the stored
// head with its values (temporary encoding 1).
const tempEncV1 = 1

// encodeTempDoc encodes d whole, into a slice of the size it takes (grown
// value by value, the encoding's copies were 1.4 of a 1M rebuild's
// CPU-seconds).
func encodeTempDoc(d *storedDoc) []byte {
	n := 1 + bytesLen(len(d.id)) + uvarintLen(uint64(d.sort.year)) + bytesLen(len(d.sort.title)) + bytesLen(len(d.sort.creator))
	for _, v := range d.values {
		n += 2 + bytesLen(len(v.text))
	}
	return appendValues(appendDocHead(make([]byte, 0, n), tempEncV1, d), d.values)
}

// decodeTempDoc decodes what encodeTempDoc encoded. The values' texts are
// slices of one string holding their encoding, whose checksum is theirs
// (valuesSum).
func decodeTempDoc(v []byte) (storedDoc, error) {
	d, vals, err := readDocHead(v, tempEncV1)
	if err != nil {
		return d, err
	}
	// Checked and counted first, so that the values take one array and
	// the second pass reads what is known whole.
	count := 0
	for r := vals; len(r) > 0; count++ {
		if len(r) < 2 {
			return d, errors.New("truncated value")
		}
		var ok bool
		if _, r, ok = readBytes(r[2:]); !ok {
			return d, errors.New("truncated value")
		}
	}
	d.values = make([]value, 0, count)
	text := string(vals)
	for at := 0; at < len(text); {
		l, w := binary.Uvarint(vals[at+2:])
		start := at + 2 + w
		d.values = append(d.values, value{ix: text[at], flags: text[at+1], text: text[start : start+int(l)]})
		at = start + int(l)
	}
	d.sum = encodedValuesSum(vals)
	return d, nil
}

// bytesLen is how long appendBytes makes n bytes.
func bytesLen(n int) int { return uvarintLen(uint64(n)) + n }

// uvarintLen is how long binary.AppendUvarint makes x.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func readBytes(r []byte) (b, rest []byte, ok bool) {
	n, w := binary.Uvarint(r)
	if w <= 0 || uint64(len(r)-w) < n {
		return nil, nil, false
	}
	return r[w : w+int(n)], r[w+int(n):], true
}

func docnoKey(n uint32) []byte {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], n)
	return b[:]
}

// sortEntryKey builds a sort bucket key: prefix, the sort key escaped so
// that no key is a prefix of another (0x00 → 0x00 0xFF, then 0x00 0x00),
// then the document number.
//
// Only the first sortPrefixLen bytes of a collation key are kept: the
// walk over the bucket finds the candidates in prefix order, taking every
// document that ties with the last one on the prefix, and they are then
// ordered by their full keys from search.docs, so the order is exact.
func sortEntryKey(prefix byte, key []byte, docno uint32) []byte {
	if len(key) > sortPrefixLen {
		key = key[:sortPrefixLen]
	}
	out := make([]byte, 0, len(key)+8)
	out = append(out, prefix)
	for _, c := range key {
		out = append(out, c)
		if c == 0 {
			out = append(out, 0xFF)
		}
	}
	out = append(out, 0, 0)
	return binary.BigEndian.AppendUint32(out, docno)
}

// sortPrefixLen bounds the collation key prefix in sort bucket keys.
const sortPrefixLen = 24

func yearSortKey(year int) []byte {
	if year <= 0 {
		return nil
	}
	return []byte(formatNumber(year))
}

// sortEntries lists the sort bucket keys of one document.
func sortEntries(s sortKeys, docno uint32) [][]byte {
	return [][]byte{
		sortEntryKey(sortTitleKey, s.title, docno),
		sortEntryKey(sortCreatorKey, s.creator, docno),
		sortEntryKey(sortDateKey, yearSortKey(s.year), docno),
	}
}

// meta helpers

func getU32(b *bbolt.Bucket, key []byte) (uint32, error) {
	v := b.Get(key)
	if v == nil {
		return 0, nil
	}
	if len(v) != 4 {
		return 0, fmt.Errorf("search: meta %s is %d bytes, want 4", key, len(v))
	}
	return binary.BigEndian.Uint32(v), nil
}

func putU32(b *bbolt.Bucket, key []byte, v uint32) error {
	return b.Put(key, docnoKey(v))
}

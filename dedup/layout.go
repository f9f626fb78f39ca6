package dedup

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
)

// The storage layout: the dedup buckets and their keys (doc.go describes
// every value), the layout's version, and the keys made of union ids,
// datestamps and record keys. The values' codecs are in codec.go,
// unioncodec.go, profilecodec.go and edges.go.

// Buckets owned by this package. Keys and values are documented in doc.go.
var (
	bucketMeta     = []byte("dedup.meta")
	bucketUnions   = []byte("dedup.unions")
	bucketByDate   = []byte("dedup.bydate")
	bucketMembers  = []byte("dedup.members")
	bucketProfiles = []byte("dedup.profiles")
	bucketEdges    = []byte("dedup.edges")

	keySeq      = []byte("seq")      // last union sequence number allocated
	keyCounts   = []byte("counts")   // live, deleted union records
	keyLastDate = []byte("lastdate") // datestamp of the last commit that changed a union record
	keyVersion  = []byte("version")  // layout version
	keyConfig   = []byte("config")   // fingerprint of the options the clusters were built with
	keyGen      = []byte("gen")      // batches applied, to tell whether the caches are current
	keyOrdinal  = []byte("ord")      // next record ordinal (uint32 BE)
)

// layoutVersion is the version of the dedup buckets and of the matching
// rules; a new version rebuilds the clusters at Init.
const layoutVersion = 8

// minLayout is the oldest layout a rebuild reads the clusters of (to keep
// their ids): the first whose union values hold their cluster and its
// members' organization codes (encoding 3). Older layouts were written by
// development builds before the first release; Init refuses them rather
// than carrying code to upgrade them.
const minLayout = 6

// bucketClustersV4 held the clusters up to layout 4, before the union
// values did: its presence tells such a store.
var bucketClustersV4 = []byte("dedup.clusters")

// checkLayout refuses a store whose dedup buckets are of a layout older
// than minLayout.
func checkLayout(tx *bbolt.Tx) error {
	layout := uint32(layoutVersion) // a store without dedup buckets yet
	if meta := tx.Bucket(bucketMeta); meta != nil {
		if v := meta.Get(keyVersion); len(v) == 4 {
			layout = binary.BigEndian.Uint32(v)
		}
	}
	if tx.Bucket(bucketClustersV4) != nil {
		layout = min(layout, 4)
	}
	if layout >= minLayout {
		return nil
	}
	return fmt.Errorf("dedup: the union catalog is of layout %d, written by a development build before the first release, which this unicat does not read (it reads layouts %d to %d): import the sources into a new data directory", layout, minLayout, layoutVersion)
}

// unionID formats a union sequence number.
func unionID(seq uint64) string {
	var b [9]byte
	b[0] = 'u'
	s := strconv.FormatUint(seq, 36)
	for i := 1; i < 9-len(s); i++ {
		b[i] = '0'
	}
	copy(b[9-len(s):], s)
	return string(b[:])
}

// parseUnionID returns the sequence number of id, or false.
func parseUnionID(id string) (uint64, bool) {
	if len(id) != 9 || id[0] != 'u' {
		return 0, false
	}
	for i := 1; i < 9; i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(id[1:], 36, 64)
	return v, err == nil && v > 0
}

func seqKey(seq uint64) []byte { return appendU64(nil, seq) }

// dateKey is the bydate key of a union: datestamp then id.
func dateKey(t time.Time, id string) []byte {
	k := make([]byte, 0, datestampLen+len(id))
	k = appendU64(k, uint64(t.UnixNano()))
	return append(k, id...)
}

// sourceOf returns the source id of a record key.
func sourceOf(key string) string {
	if i := indexByte0(key); i >= 0 {
		return key[:i]
	}
	return key
}

func splitRecordKey(key string) (source, local string) {
	if i := indexByte0(key); i >= 0 {
		return key[:i], key[i+1:]
	}
	return key, ""
}

func indexByte0(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

func displayKey(k string) string {
	s, l := splitRecordKey(k)
	return s + ":" + l
}

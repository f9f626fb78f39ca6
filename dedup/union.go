package dedup

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// UnionRecord is one union record as served: the master record's
// bibliographic fields, one 852 per holding library and one 035 per member
// record.
type UnionRecord struct {
	// ID is the stable union id: "u" and eight base-36 digits
	// ("u0000001a"). Ids are allocated in increasing order, so they sort by
	// age and are URL-safe.
	ID string
	// Record is the record as served; nil when Deleted.
	Record *marc.Record
	// Datestamp (UTC) changes whenever what is served changes, holdings
	// included. Every commit that changes union records stamps them with
	// one datestamp, strictly later than any earlier commit's.
	Datestamp time.Time
	// Deleted is set when the cluster was merged into another (AliasOf
	// set) or lost all its members. Deleted union records are kept forever
	// (OAI-PMH deletedRecord=persistent).
	Deleted bool
	// AliasOf is the surviving id when this one was merged away.
	AliasOf string
	// Libraries are the holding library codes, sorted; nil when Deleted.
	Libraries []string
	// Levels are the holding libraries' levels (province, district,
	// commune), sorted, without repeats; nil when Deleted.
	Levels []string

	// prev is what was stored under ID before the change a listener is
	// told of (nil: nothing was); see Previous.
	prev *storedUnion
}

// Previous returns the union record as it was served before the change a
// Listener is told of, so that what was derived from the old version
// (index keys) can be taken back without a copy of its own; nil when the
// id served nothing before. It decodes the old record on every call.
func (u *UnionRecord) Previous() (*UnionRecord, error) {
	if u.prev == nil {
		return nil, nil
	}
	return u.prev.toUnion(u.ID, nil) // resolved when kept (putUnion)
}

// Listener is told, inside the batch's write transaction and after the
// deduplication of the batch, which union records changed (new, updated,
// merged away or deleted). An error rolls the whole batch back. Listeners
// must create the buckets they need on first use: they may also be called
// from the Deduper's Init when it rebuilds the clusters of an existing
// store.
type Listener interface {
	UnionChanged(tx *bbolt.Tx, changes []UnionRecord) error
}

// AddListener registers l. It must be called before the Deduper is added
// to the store and not concurrently with anything else.
func (d *Deduper) AddListener(l Listener) { d.listeners = append(d.listeners, l) }

// Buckets owned by this package. Keys and values are documented in doc.go.
var (
	bucketMeta     = []byte("dedup.meta")
	bucketUnions   = []byte("dedup.unions")
	bucketByDate   = []byte("dedup.bydate")
	bucketClusters = []byte("dedup.clusters") // layout 4 and before: the clusters, now in the union values
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

// stored union values, version 3:
//
//	version 3, flags (bit 0 deleted), datestamp uint64 BE Unix ns,
//	aliasOf, libraries, levels (uvarint-counted strings), the cluster:
//	master key, member keys (sorted), the organization codes of the
//	members' sources (source id, code, ...), format byte (0 none, 1 ISO
//	2709, 2 MARCXML, 3 assembled), then to the end: the record (ISO
//	2709, MARCXML), or for an assembled record the first 8 bytes of the
//	master's SHA-256, uvarint count of added fields, each tag (3 bytes)
//	then uvarint-counted ISO 2709 field data: the 852s and 856s (the 035s, one
//	per member, are made from the member keys and codes when served).
//
// An assembled union record is put together when served from its master
// as the store holds it and the fields the union adds (035s, 852s, 856s): a
// union value is rewritten whenever a member joins or leaves, and holding
// the whole record made union values most of what a commit wrote. The
// value holds its cluster too (there was a bucket of clusters, rewritten
// with it at every change, holding the same member keys again).
//
// Version 2 had no organization codes (its 035s were "(source id)local
// id"); version 1, read while a store is upgraded (the rebuild at the
// first start rewrites every live value), had no cluster part (the
// clusters were in dedup.clusters) and its assembled record began with
// the master key and added the 035s too.
const (
	unionEncV1   = 1
	unionEncV2   = 2
	unionEncV3   = 3
	flagDeleted  = 1
	fmtNone      = 0
	fmtISO2709   = 1
	fmtMARCXML   = 2
	fmtAssembled = 3
	datestampLen = 8
	masterSumLen = 8
)

// storedUnion is a union value without its record decoded.
type storedUnion struct {
	version   byte // of the encoding read; encodeUnion writes unionEncV3
	deleted   bool
	datestamp time.Time
	aliasOf   string
	libraries []string
	levels    []string
	master    string   // record key of the cluster's master ("" when deleted, and in version 1 but for fmtAssembled)
	members   []string // the cluster's record keys, sorted (nil when deleted, and in version 1)
	orgs      []string // the members' sources and their organization codes, in pairs (from version 3)
	format    byte
	raw       []byte // aliases the bbolt value until copied

	// fmtAssembled: what raw encodes.
	masterSum [masterSumLen]byte // the master's stored SHA-256, shortened
	added     []marc.RawField    // the fields the union stores: its 852s and 856s (in version 1 its 035s too)
}

func encodeUnion(dst []byte, u *storedUnion) []byte {
	var flags byte
	if u.deleted {
		flags |= flagDeleted
	}
	dst = append(dst, unionEncV3, flags)
	dst = appendU64(dst, uint64(u.datestamp.UnixNano()))
	dst = appendStr(dst, u.aliasOf)
	dst = appendStrs(dst, u.libraries)
	dst = appendStrs(dst, u.levels)
	dst = appendStr(dst, u.master)
	dst = appendStrs(dst, u.members)
	dst = appendStrs(dst, u.orgs)
	dst = append(dst, u.format)
	return append(dst, u.raw...)
}

// encodeAssembled returns the record part of an assembled union value.
func encodeAssembled(sum [masterSumLen]byte, added []marc.RawField) []byte {
	n := masterSumLen + 12
	for _, f := range added {
		n += len(f.Tag) + len(f.Data) + 2
	}
	dst := make([]byte, 0, n)
	dst = append(dst, sum[:]...)
	dst = binary.AppendUvarint(dst, uint64(len(added)))
	for _, f := range added {
		dst = append(dst, f.Tag...)
		dst = binary.AppendUvarint(dst, uint64(len(f.Data)))
		dst = append(dst, f.Data...)
	}
	return dst
}

// decodeUnionHead reads a union value up to its format byte, leaving r
// at the record part.
func decodeUnionHead(id string, r *reader) (*storedUnion, error) {
	ver := r.byte()
	if r.err == nil && (ver < unionEncV1 || ver > unionEncV3) {
		return nil, fmt.Errorf("dedup: union %s: unknown encoding version %d", id, ver)
	}
	flags := r.byte()
	if flags&^flagDeleted != 0 {
		return nil, fmt.Errorf("dedup: union %s: unknown flags %#x", id, flags)
	}
	u := &storedUnion{version: ver, deleted: flags&flagDeleted != 0}
	u.datestamp = time.Unix(0, int64(r.u64())).UTC()
	u.aliasOf = r.str()
	u.libraries = r.strs()
	u.levels = r.strs()
	if ver >= unionEncV2 {
		u.master = r.str()
		u.members = r.strs()
	}
	if ver >= unionEncV3 {
		u.orgs = r.strs()
	}
	u.format = r.byte()
	if r.err != nil {
		return nil, fmt.Errorf("dedup: union %s: %w", id, r.err)
	}
	return u, nil
}

// decodeCluster returns the master and members a union value holds; nil
// members for a version 1 value, which held none.
func decodeCluster(id string, v []byte) (master string, members []string, err error) {
	r := reader{b: v}
	u, err := decodeUnionHead(id, &r)
	if err != nil {
		return "", nil, err
	}
	return u.master, u.members, nil
}

func decodeUnion(id string, v []byte) (*storedUnion, error) {
	r := reader{b: v}
	u, err := decodeUnionHead(id, &r)
	if err != nil {
		return nil, err
	}
	u.raw = r.rest()
	if err := r.done("union " + id); err != nil {
		return nil, err
	}
	switch {
	case u.format > fmtAssembled:
		return nil, fmt.Errorf("dedup: union %s: unknown record format %d", id, u.format)
	case u.format == fmtAssembled:
		a := reader{b: u.raw}
		if u.version == unionEncV1 {
			u.master = a.str()
		}
		copy(u.masterSum[:], a.bytes(masterSumLen))
		n := a.uvarint()
		if a.err == nil && n > uint64(len(u.raw)) {
			a.fail(fmt.Errorf("%d added fields in %d bytes", n, len(u.raw)))
		}
		for i := uint64(0); i < n && a.err == nil; i++ {
			tag := string(a.bytes(3))
			u.added = append(u.added, marc.RawField{Tag: tag, Data: a.bytes(a.uvarint())})
		}
		if err := a.done("union " + id + " assembled record"); err != nil {
			return nil, err
		}
		if u.master == "" || u.deleted {
			return nil, fmt.Errorf("dedup: union %s: assembled record without a master", id)
		}
	}
	return u, nil
}

// sameStored reports whether a and b are stored alike (everything but the
// datestamp): then they serve the same thing.
func sameStored(a, b *storedUnion) bool {
	return a.version == b.version && a.deleted == b.deleted && a.aliasOf == b.aliasOf && a.format == b.format &&
		a.master == b.master && equalStrs(a.members, b.members) && equalStrs(a.orgs, b.orgs) &&
		bytes.Equal(a.raw, b.raw) && equalStrs(a.libraries, b.libraries) && equalStrs(a.levels, b.levels)
}

func equalStrs(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// recordGetter returns the stored record of a record key: the master of
// an assembled union record. The record's bytes need live only until the
// union record is put together.
type recordGetter func(key string) (*store.SourceRecord, error)

// txRecords reads records from tx.
func txRecords(tx *bbolt.Tx) recordGetter {
	stx := store.WrapTx(tx)
	return func(key string) (*store.SourceRecord, error) {
		src, local := splitRecordKey(key)
		return stx.RecordView(src, local)
	}
}

// served returns the record u serves as encoded: as stored, or for an
// assembled record, put together from its master (read with get) in ISO
// 2709.
func (u *storedUnion) served(id string, get recordGetter) (format byte, raw []byte, err error) {
	if u.format != fmtAssembled {
		return u.format, u.raw, nil
	}
	leader, fields, err := u.assemble(id, get)
	if err != nil {
		return 0, nil, err
	}
	if raw, err = marc.AppendISO2709Fields(nil, leader, fields); err != nil {
		return 0, nil, fmt.Errorf("dedup: union %s: %w", id, err)
	}
	return fmtISO2709, raw, nil
}

// assemble returns the leader and fields of an assembled union record,
// from its master read with get. A master that is not what the union
// record was built from is an error: the union record must not serve
// another record's fields.
func (u *storedUnion) assemble(id string, get recordGetter) (leader []byte, fields []marc.RawField, err error) {
	if get == nil {
		return nil, nil, fmt.Errorf("dedup: union %s: no records to assemble it from", id)
	}
	sr, err := get(u.master)
	if err != nil {
		return nil, nil, fmt.Errorf("dedup: union %s: master %s: %w", id, displayKey(u.master), err)
	}
	if sr.Deleted || sr.Format != marc.FormatISO2709 || [masterSumLen]byte(sr.Hash[:masterSumLen]) != u.masterSum {
		return nil, nil, fmt.Errorf("dedup: union %s: master %s is not the record it was built from (unicat dedup --rebuild builds it again)", id, displayKey(u.master))
	}
	// The hash says these are the bytes CanonicalISO2709 accepted when
	// the union record was built: the text need not be checked again.
	leader, master, ok := marc.SplitCanonicalISO2709(sr.Raw, nil)
	if !ok {
		return nil, nil, fmt.Errorf("dedup: union %s: master %s is not canonical ISO 2709", id, displayKey(u.master))
	}
	added := u.added
	if u.version >= unionEncV2 {
		ids, ok := memberIDFields(u.members, u.orgs)
		if !ok {
			return nil, nil, fmt.Errorf("dedup: union %s: a member's id does not fit ISO 2709", id)
		}
		added = append(ids, added...)
	}
	return leader, unionLayout(id, master, added), nil
}

func (u *storedUnion) toUnion(id string, get recordGetter) (*UnionRecord, error) {
	out := &UnionRecord{
		ID:        id,
		Datestamp: u.datestamp,
		Deleted:   u.deleted,
		AliasOf:   u.aliasOf,
		Libraries: u.libraries,
		Levels:    u.levels,
	}
	var err error
	switch u.format {
	case fmtNone:
		return out, nil
	case fmtAssembled:
		leader, fields, err := u.assemble(id, get)
		if err != nil {
			return nil, err
		}
		out.Record, err = marc.DecodeFields(leader, fields)
	default:
		out.Record, err = decodeServed(u.format, u.raw)
	}
	if err != nil {
		return nil, fmt.Errorf("dedup: union %s: %w", id, err)
	}
	return out, nil
}

func decodeServed(format byte, raw []byte) (*marc.Record, error) {
	// No size limit: the store's records were accepted when they came in.
	opts := marc.ReaderOptions{Charset: marc.CharsetUTF8, MaxRecordBytes: -1}
	if format == fmtMARCXML {
		return marc.NewXMLReader(bytes.NewReader(raw), opts).Next()
	}
	// One record held whole: no stream buffer (this runs per served record).
	return marc.DecodeISO2709(raw, opts)
}

// dateKey is the bydate key of a union: datestamp then id.
func dateKey(t time.Time, id string) []byte {
	k := make([]byte, 0, datestampLen+len(id))
	k = appendU64(k, uint64(t.UnixNano()))
	return append(k, id...)
}

// Get returns the union record id, or nil, nil when there is none. An
// alias is a deleted record of its own; Get does not follow AliasOf.
// It works in any read or write transaction.
func Get(tx *bbolt.Tx, id string) (*UnionRecord, error) {
	u, err := lookup(tx, id)
	if err != nil || u == nil {
		return nil, err
	}
	return u.toUnion(id, txRecords(tx))
}

// GetISO2709 returns the served record of a live union id in ISO 2709,
// UTF-8, as marc.AppendISO2709 writes it, without decoding it (a Z39.50
// server sends those bytes as they are). It returns nil, nil when id
// serves nothing or the record is stored otherwise (MARCXML, for records
// too long for ISO 2709). The bytes may alias the store's and are valid
// while tx is open.
func GetISO2709(tx *bbolt.Tx, id string) ([]byte, error) {
	u, err := lookup(tx, id)
	if err != nil || u == nil || u.deleted {
		return nil, err
	}
	format, raw, err := u.served(id, txRecords(tx))
	if err != nil || format != fmtISO2709 {
		return nil, err
	}
	return raw, nil
}

// lookup returns the stored value of union id undecoded; nil, nil when
// there is none.
func lookup(tx *bbolt.Tx, id string) (*storedUnion, error) {
	b := tx.Bucket(bucketUnions)
	if b == nil {
		return nil, nil
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	return decodeUnion(id, v)
}

// ForEachUnion calls fn for every union record, deleted ones included, in
// id order, stopping at the first error, which it returns unchanged.
func ForEachUnion(tx *bbolt.Tx, fn func(*UnionRecord) error) error {
	b := tx.Bucket(bucketUnions)
	if b == nil {
		return nil
	}
	get := txRecords(tx)
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		u, err := decodeUnion(string(k), v)
		if err != nil {
			return err
		}
		ur, err := u.toUnion(string(k), get)
		if err != nil {
			return err
		}
		if err := fn(ur); err != nil {
			return err
		}
	}
	return nil
}

// ForEachSince calls fn for the union records (deleted ones included) in
// datestamp order, then id order, from a position: with afterID == "" it
// starts at the first record whose datestamp is >= from; otherwise
// strictly after (from, afterID), which is how an OAI-PMH resumption token
// continues a list. It reads a datestamp index, so it costs only what it
// visits. fn's error stops the walk and is returned unchanged.
func ForEachSince(tx *bbolt.Tx, from time.Time, afterID string, fn func(*UnionRecord) error) error {
	b, ub := tx.Bucket(bucketByDate), tx.Bucket(bucketUnions)
	if b == nil || ub == nil {
		return nil
	}
	var start []byte
	if !from.IsZero() && from.UnixNano() > 0 {
		start = dateKey(from, afterID)
	} else {
		start = dateKey(time.Unix(0, 0), afterID)
	}
	get := txRecords(tx)
	c := b.Cursor()
	k, _ := c.Seek(start)
	if afterID != "" && k != nil && bytes.Equal(k, start) {
		k, _ = c.Next()
	}
	for ; k != nil; k, _ = c.Next() {
		if len(k) <= datestampLen {
			return fmt.Errorf("dedup: bad datestamp index key %x", k)
		}
		id := string(k[datestampLen:])
		v := ub.Get(k[datestampLen:])
		if v == nil {
			return fmt.Errorf("dedup: datestamp index names union %s, which is not stored", id)
		}
		u, err := decodeUnion(id, v)
		if err != nil {
			return err
		}
		ur, err := u.toUnion(id, get)
		if err != nil {
			return err
		}
		if err := fn(ur); err != nil {
			return err
		}
	}
	return nil
}

// Count returns how many union records are live and how many deleted
// (aliases included), from counters kept with them.
func Count(tx *bbolt.Tx) (live, deleted int, err error) {
	b := tx.Bucket(bucketMeta)
	if b == nil {
		return 0, 0, nil
	}
	v := b.Get(keyCounts)
	if v == nil {
		return 0, 0, nil
	}
	if len(v) != 16 {
		return 0, 0, fmt.Errorf("dedup: union counters are %d bytes, want 16", len(v))
	}
	return int(binary.BigEndian.Uint64(v)), int(binary.BigEndian.Uint64(v[8:])), nil
}

// EarliestDatestamp returns the smallest datestamp of any union record,
// deleted ones included; the zero time when there are none.
func EarliestDatestamp(tx *bbolt.Tx) (time.Time, error) {
	b := tx.Bucket(bucketByDate)
	if b == nil {
		return time.Time{}, nil
	}
	k, _ := b.Cursor().First()
	if k == nil {
		return time.Time{}, nil
	}
	if len(k) <= datestampLen {
		return time.Time{}, fmt.Errorf("dedup: bad datestamp index key %x", k)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC(), nil
}

package dedup

import (
	"bytes"
	"encoding/binary"
	"fmt"
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
	ids, ok := memberIDFields(u.members, u.orgs)
	if !ok {
		return nil, nil, fmt.Errorf("dedup: union %s: a member's id does not fit ISO 2709", id)
	}
	return leader, unionLayout(id, master, append(ids, u.added...)), nil
}

func (u *storedUnion) toUnion(id string, get recordGetter) (*UnionRecord, error) {
	out := u.header(id)
	var err error
	switch u.format {
	case fmtNone:
		return out, nil
	case fmtAssembled:
		leader, fields, aerr := u.assemble(id, get)
		if aerr != nil {
			return nil, aerr
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

// header returns the union record id without its Record.
func (u *storedUnion) header(id string) *UnionRecord {
	return &UnionRecord{
		ID:        id,
		Datestamp: u.datestamp,
		Deleted:   u.deleted,
		AliasOf:   u.aliasOf,
		Libraries: u.libraries,
		Levels:    u.levels,
	}
}

func decodeServed(format byte, raw []byte) (*marc.Record, error) {
	// No size limit: the store's records were accepted when they came in.
	opts := marc.ReaderOptions{Charset: marc.CharsetUTF8, MaxRecordBytes: -1}
	if format == fmtMARCXML {
		return marc.DecodeMARCXML(raw, opts)
	}
	// One record held whole: no stream buffer (this runs per served record).
	return marc.DecodeISO2709(raw, opts)
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

// ForEachHeaderSince calls fn for the union records' headers (deleted
// ones included) in datestamp order, then id order, from a position: with
// afterID == "" it starts at the first record whose datestamp is >= from;
// otherwise strictly after (from, afterID), which is how an OAI-PMH
// resumption token continues a list. A header is a UnionRecord without
// its Record: what an index of the union records (the OAI-PMH lists)
// needs, read without assembling the record from its members, which is
// most of the cost of Get. It reads a datestamp index, so it costs only
// what it visits. fn's error stops the walk and is returned unchanged.
func ForEachHeaderSince(tx *bbolt.Tx, from time.Time, afterID string, fn func(*UnionRecord) error) error {
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
		if err := fn(u.header(id)); err != nil {
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

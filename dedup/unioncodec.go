package dedup

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/unicat/unicat/marc"
)

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
// value holds its cluster too: a bucket of clusters of its own would be
// rewritten with it at every change, holding the same member keys again.
//
// Versions 1 and 2 were written by development builds before the first
// release and are not read (see minLayout).
const (
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
	deleted   bool
	datestamp time.Time
	aliasOf   string
	libraries []string
	levels    []string
	master    string   // record key of the cluster's master ("" when deleted)
	members   []string // the cluster's record keys, sorted (nil when deleted)
	orgs      []string // the members' sources and their organization codes, in pairs
	format    byte
	raw       []byte // aliases the bbolt value until copied

	// fmtAssembled: what raw encodes.
	masterSum [masterSumLen]byte // the master's stored SHA-256, shortened
	added     []marc.RawField    // the fields the union stores: its 852s and 856s
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
	switch ver := r.byte(); {
	case r.err != nil:
	case ver < unionEncV3:
		return nil, fmt.Errorf("dedup: union %s: encoding version %d, written by a development build before the first release, which this unicat does not read (import the sources into a new data directory)", id, ver)
	case ver > unionEncV3:
		return nil, fmt.Errorf("dedup: union %s: unknown encoding version %d", id, ver)
	}
	flags := r.byte()
	if flags&^flagDeleted != 0 {
		return nil, fmt.Errorf("dedup: union %s: unknown flags %#x", id, flags)
	}
	u := &storedUnion{deleted: flags&flagDeleted != 0}
	u.datestamp = time.Unix(0, int64(r.u64())).UTC()
	u.aliasOf = r.str()
	u.libraries = r.strs()
	u.levels = r.strs()
	u.master = r.str()
	u.members = r.strs()
	u.orgs = r.strs()
	u.format = r.byte()
	if r.err != nil {
		return nil, fmt.Errorf("dedup: union %s: %w", id, r.err)
	}
	return u, nil
}

// decodeCluster returns the master and members a union value holds.
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
	return a.deleted == b.deleted && a.aliasOf == b.aliasOf && a.format == b.format &&
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

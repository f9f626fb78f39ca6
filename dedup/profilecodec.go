package dedup

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Profile values, version 3:
//
//	version byte, ordinal (uvarint), key count (uvarint) and per key its
//	kind byte and 32-bit hash (BE), then the matching part (uvarint
//	length and bytes), display (string), holdings count (uvarint) and
//	per holding its holder and 852 field data (strings), the 856s with
//	a link (uvarint-counted field data), flags byte (bit 1: canonical),
//	score (varint), and with bit 1 the canonical bytes' hash (8 bytes).
//
// The ordinal and hashes come first so the candidate index can be
// rebuilt from the bucket without decoding whole profiles.
const profileEncV3 = 3

func (p *profile) encode(dst []byte) []byte {
	dst = append(dst, profileEncV3)
	dst = binary.AppendUvarint(dst, uint64(p.ord))
	if p.tail != nil {
		dst = append(dst, p.tail...)
		p.tail = nil
		return dst
	}
	return p.encodeTail(dst)
}

// encodeTail appends the encoding of p after its ordinal.
func (p *profile) encodeTail(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(p.khash)))
	for i, h := range p.khash {
		dst = append(dst, p.kkind[i])
		dst = binary.BigEndian.AppendUint32(dst, h)
	}
	dst = appendStr(dst, string(p.appendMatch(nil)))
	dst = appendStr(dst, p.display)
	dst = binary.AppendUvarint(dst, uint64(len(p.holdings)))
	for _, h := range p.holdings {
		dst = appendStr(dst, h.holder)
		dst = appendStr(dst, string(h.data))
	}
	dst = binary.AppendUvarint(dst, uint64(len(p.links)))
	for _, l := range p.links {
		dst = appendStr(dst, string(l))
	}
	var flags byte
	if p.hasCanon {
		flags |= 2
	}
	dst = append(dst, flags)
	dst = appendVarint(dst, int64(p.score))
	if p.hasCanon {
		dst = append(dst, p.canon[:]...)
	}
	return dst
}

// readIndexPart reads the version, ordinal and keys of an encoded
// profile.
func readIndexPart(r *reader) (ord uint32, kinds []byte, hashes []uint32) {
	if ver := r.byte(); r.err == nil && ver != profileEncV3 {
		r.fail(fmt.Errorf("unknown profile encoding version %d", ver))
		return
	}
	o := r.uvarint()
	if o > uint64(^uint32(0)) {
		r.fail(fmt.Errorf("ordinal %d out of range", o))
		return
	}
	n := r.uvarint()
	if n > uint64(len(r.b))/5 {
		r.fail(errShort)
		return
	}
	kinds, hashes = make([]byte, n), make([]uint32, n)
	for i := range hashes {
		kinds[i] = r.byte()
		hashes[i] = binary.BigEndian.Uint32(r.bytes(4))
	}
	return uint32(o), kinds, hashes
}

// profileIndexPart returns the ordinal and key hashes of an encoded
// profile.
// profileOrdinal returns the ordinal a profile's encoding v holds.
func profileOrdinal(v []byte) (uint32, error) {
	r := reader{b: v}
	if ver := r.byte(); r.err == nil && ver != profileEncV3 {
		return 0, fmt.Errorf("dedup: decode profile: unknown profile encoding version %d", ver)
	}
	o := r.uvarint()
	if r.err == nil && o > uint64(^uint32(0)) {
		return 0, fmt.Errorf("dedup: decode profile: ordinal %d out of range", o)
	}
	if r.err != nil {
		return 0, fmt.Errorf("dedup: decode profile: %w", r.err)
	}
	return uint32(o), nil
}

func profileIndexPart(v []byte) (uint32, []uint32, error) {
	r := reader{b: v}
	ord, _, hashes := readIndexPart(&r)
	if r.err != nil {
		return 0, nil, fmt.Errorf("dedup: decode profile: %w", r.err)
	}
	return ord, hashes, nil
}

func (p *profile) appendMatch(dst []byte) []byte {
	dst = appendStr(dst, p.mtype)
	dst = appendVarint(dst, int64(p.year))
	dst = appendVarint(dst, int64(p.pages))
	dst = appendStr(dst, p.edition)
	dst = appendStrs(dst, p.volumes)
	dst = appendStr(dst, p.numbers)
	dst = appendStr(dst, p.pnumbers)
	dst = appendStrs(dst, p.isbns)
	dst = appendStrs(dst, p.ids)
	dst = appendStr(dst, p.title)
	dst = appendStr(dst, p.proper)
	dst = appendStrs(dst, p.titleKeys)
	dst = appendStr(dst, p.author)
	dst = appendStrs(dst, p.names)
	dst = appendStr(dst, p.resp)
	dst = appendStr(dst, p.publisher)
	return dst
}

// matchPart returns the encoded matching part of an encoded profile.
func matchPart(v []byte) []byte {
	r := reader{b: v}
	readIndexPart(&r)
	return r.bytes(r.uvarint())
}

func decodeProfile(v []byte) (*profile, error) {
	r := reader{b: v}
	p, err := decodeMatchPart(&r)
	if err != nil {
		return nil, err
	}
	return p, decodeRest(&r, p)
}

// decodeMatching decodes what linking reads of a profile: the index and
// matching parts. The profile it returns has no holdings, display, links
// or score, and must not be cached or built into a union record.
func decodeMatching(v []byte) (*profile, error) {
	r := reader{b: v}
	return decodeMatchPart(&r)
}

// headVetoed reports whether veto refuses a and the profile encoded in v
// by what the head of v's matching part holds: material type, year and
// pages. It reads v without decoding it or allocating; on bytes it cannot
// read it reports false, and decoding them reports what is wrong.
func headVetoed(a *profile, v []byte) bool {
	r := reader{b: v}
	r.byte() // version
	r.uvarint()
	n := r.uvarint() // keys, each a kind and a hash
	if n > uint64(len(r.b))/5 {
		return false // 5n would overflow, or pass the end
	}
	r.bytes(5 * n)
	m := reader{b: r.bytes(r.uvarint())}
	mtype := m.bytes(m.uvarint())
	year, pages := m.varint(), m.varint()
	if r.err != nil || m.err != nil {
		return false
	}
	// As veto: an empty material type is none.
	return a.mtype != "" && len(mtype) > 0 && string(mtype) != a.mtype ||
		yearsDiffer(a.year, int(year)) || pagesDiffer(a.pages, int(pages))
}

// decodeMatchPart decodes the index and matching parts of a profile from
// r, leaving r at the rest.
func decodeMatchPart(r *reader) (*profile, error) {
	ord, kinds, hashes := readIndexPart(r)
	mb := r.bytes(r.uvarint())
	if r.err != nil {
		return nil, fmt.Errorf("dedup: profile: %w", r.err)
	}
	m := stringReader(mb)
	p := &profile{ord: ord, kkind: kinds, khash: hashes}
	p.mtype = m.str()
	p.year = int(m.varint())
	p.pages = int(m.varint())
	p.edition = m.str()
	p.volumes = m.strs()
	p.numbers = m.str()
	p.pnumbers = m.str()
	p.isbns = m.strs()
	p.ids = m.strs()
	p.issns = issns(p.ids)
	p.title = m.str()
	p.proper = m.str()
	p.titleKeys = m.strs()
	p.author = m.str()
	p.names = m.strs()
	p.resp = m.str()
	p.publisher = m.str()
	if err := m.done("profile"); err != nil {
		return nil, err
	}
	p.vsig = p.vetoSig()
	p.strong = strongIDs(p)
	return p, nil
}

// decodeRest decodes the rest of a profile from r into p: display,
// holdings, links, flags and score.
func decodeRest(r *reader, p *profile) error {
	p.display = r.str()
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return fmt.Errorf("dedup: profile: %d holdings in %d bytes", n, len(r.b))
	}
	p.holdings = make([]holding, n)
	for i := range p.holdings {
		p.holdings[i] = holding{holder: r.str(), data: slices.Clone(r.bytes(r.uvarint()))}
	}
	if n = r.uvarint(); n > uint64(len(r.b)) {
		return fmt.Errorf("dedup: profile: %d links in %d bytes", n, len(r.b))
	}
	for range n {
		p.links = append(p.links, slices.Clone(r.bytes(r.uvarint())))
	}
	flags := r.byte()
	if flags&^2 != 0 {
		return fmt.Errorf("dedup: profile: unknown flags %#x", flags)
	}
	p.hasCanon = flags&2 != 0
	p.score = int(r.varint())
	if p.hasCanon {
		copy(p.canon[:], r.bytes(masterSumLen))
	}
	return r.done("profile")
}

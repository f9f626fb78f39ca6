package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/unicat/unicat/marc"
)

// SourceRecord is one record (or tombstone) as a source delivered it.
type SourceRecord struct {
	Source  string // source id
	LocalID string // the source's identifier (001, OAI identifier, ...)
	// Format says how Raw is encoded: marc.FormatISO2709, or
	// marc.FormatMARCXML for records too long for ISO 2709 (over 99,999
	// bytes). Empty for a tombstone of a record never stored.
	Format marc.Format
	// Raw is the record in UTF-8 NFC, encoded in Format. A tombstone keeps
	// the last record stored, so that a deletion can still be explained.
	Raw []byte
	// Received is the record as the source sent it, kept only when its
	// text was converted (marc.Origin.Received): a record that arrived in
	// UTF-8 NFC is Raw's text already and costs nothing more. Encoding
	// names what it arrived in (marc.Origin.Encoding; "" for UTF-8 NFC),
	// Label what it claimed or the source's charset setting (Override).
	Received       []byte
	ReceivedFormat marc.Format
	Encoding       string
	Label          marc.Charset
	Override       bool
	// Datestamp is the source's own date for the record (OAI-PMH header
	// datestamp); zero when the source gives none.
	Datestamp time.Time
	// FirstSeen is when unicat first stored the id. LastSeen is when the
	// record last changed (added, updated, deleted or resurrected): a
	// batch delivering an identical record does not rewrite it, so a full
	// re-import of an unchanged catalogue writes almost nothing.
	FirstSeen, LastSeen time.Time
	Hash                [32]byte // SHA-256 of Raw; zero when Raw is empty
	Deleted             bool
}

// ReceivedEncoding is Encoding with "utf-8" for a record stored as
// received.
func (r *SourceRecord) ReceivedEncoding() string {
	if r.Encoding == "" {
		return "utf-8"
	}
	return r.Encoding
}

// Record decodes Raw.
func (r *SourceRecord) Record() (*marc.Record, error) {
	// No size limit: a stored record was accepted when it came in.
	opts := marc.ReaderOptions{Source: r.Source + "/" + r.LocalID, Charset: marc.CharsetUTF8, MaxRecordBytes: -1}
	var (
		rec *marc.Record
		err error
	)
	switch r.Format {
	case marc.FormatISO2709:
		rec, err = marc.DecodeISO2709(r.Raw, opts)
	case marc.FormatMARCXML:
		rec, err = marc.DecodeMARCXML(r.Raw, opts)
	case "":
		return nil, fmt.Errorf("store: record %q of source %q: deleted before any record was stored", r.LocalID, r.Source)
	default:
		return nil, fmt.Errorf("store: record %q of source %q: unknown format %q", r.LocalID, r.Source, r.Format)
	}
	if err != nil {
		return nil, fmt.Errorf("store: record %q of source %q: %w", r.LocalID, r.Source, err)
	}
	return rec, nil
}

// SourceInfo is a registered source, copied from the configuration.
type SourceInfo struct {
	ID          string
	Name        string
	LibraryCode string
	Level       string // province, district, commune
	Kind        string // file, oai, sru, z3950
}

// Binary encodings. Every value starts with a version byte so the layout
// can change without a rewrite of the file; decoders reject anything they
// do not fully understand, including trailing bytes.
const (
	recordEncV1 = 1
	recordEncV2 = 2 // V1 and what the record was received as
	sourceEncV1 = 1
	runEncV1    = 1
	runEncV2    = 2 // V1 and the duplicates, written only when there are some

	flagDeleted = 1 << 0

	originOverride = 1 << 0
)

// labelCodes are the charsets a record can claim or a setting name, by
// their code in the V2 record encoding. Append only.
var labelCodes = []marc.Charset{marc.CharsetAuto, marc.CharsetUTF8, marc.CharsetMARC8, marc.CharsetWindows1258,
	marc.CharsetLatin1, marc.CharsetTCVN3, marc.CharsetVNI, marc.CharsetDoubleUTF8, marc.CharsetLabel}

func codeOf[T comparable](list []T, v T, what string) (byte, error) {
	for i, g := range list {
		if g == v {
			return byte(i), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %v", what, v)
}

// appendOrigin appends what a record was received as, the tail of the V2
// encoding:
//
//	encoding code, label code, flags, received format code,
//	uvarint len(received), received
//
// where the encoding code indexes marc.Encodings, the label code
// labelCodes and the format code formatCodes.
func appendOrigin(dst []byte, r *SourceRecord) ([]byte, error) {
	enc, err := codeOf(marc.Encodings, r.Encoding, "encoding")
	if err != nil {
		return nil, err
	}
	lbl, err := codeOf(labelCodes, r.Label, "charset")
	if err != nil {
		return nil, err
	}
	fc, err := formatCode(r.ReceivedFormat)
	if err != nil {
		return nil, err
	}
	var flags byte
	if r.Override {
		flags |= originOverride
	}
	dst = append(dst, enc, lbl, flags, fc)
	dst = binary.AppendUvarint(dst, uint64(len(r.Received)))
	return append(dst, r.Received...), nil
}

var formatCodes = []marc.Format{"", marc.FormatISO2709, marc.FormatMARCXML}

func formatCode(f marc.Format) (byte, error) {
	for i, g := range formatCodes {
		if f == g {
			return byte(i), nil
		}
	}
	return 0, fmt.Errorf("unknown format %q", f)
}

// encodeSourceRecord appends r (without Source and LocalID, which are the
// key) to dst:
//
//	version, flags, format, hash[32], datestamp, firstSeen, lastSeen,
//	uvarint len(raw), raw [, origin]
//
// where a time is varint Unix seconds then uvarint nanoseconds. Version 1
// is a record stored as received; version 2 adds the origin (see
// appendOrigin) of a record whose text was converted.
func encodeSourceRecord(dst []byte, r *SourceRecord) ([]byte, error) {
	fc, err := formatCode(r.Format)
	if err != nil {
		return nil, err
	}
	for _, t := range []time.Time{r.Datestamp, r.FirstSeen, r.LastSeen} {
		if err := checkTime(t); err != nil {
			return nil, err
		}
	}
	var flags byte
	if r.Deleted {
		flags |= flagDeleted
	}
	version := byte(recordEncV1)
	if r.Encoding != "" {
		version = recordEncV2
	}
	dst = append(dst, version, flags, fc)
	dst = append(dst, r.Hash[:]...)
	dst = appendTime(dst, r.Datestamp)
	dst = appendTime(dst, r.FirstSeen)
	dst = appendTime(dst, r.LastSeen)
	dst = binary.AppendUvarint(dst, uint64(len(r.Raw)))
	dst = append(dst, r.Raw...)
	if version == recordEncV2 {
		return appendOrigin(dst, r)
	}
	return dst, nil
}

// sameLiveRecord reports whether v encodes a record that is not deleted,
// has the given hash and the given origin (appendOrigin's bytes, empty
// for a record stored as received), without decoding it.
func sameLiveRecord(v []byte, hash *[32]byte, origin []byte) bool {
	if len(v) < 3+32 || v[1]&flagDeleted != 0 || [32]byte(v[3:35]) != *hash {
		return false
	}
	switch v[0] {
	case recordEncV1:
		return len(origin) == 0
	case recordEncV2:
		d := decoder{b: v[35:]}
		d.time()
		d.time()
		d.time()
		d.bytes(d.length())
		return d.err == nil && bytes.Equal(d.b, origin)
	}
	return false
}

func decodeSourceRecord(b []byte) (*SourceRecord, error) { return decodeSourceRecordRaw(b, true) }

// decodeSourceRecordRaw decodes b, Raw copied or aliasing b.
func decodeSourceRecordRaw(b []byte, copyRaw bool) (*SourceRecord, error) {
	d := decoder{b: b}
	version := d.byte()
	if d.err == nil && version != recordEncV1 && version != recordEncV2 {
		return nil, fmt.Errorf("unknown record encoding version %d", version)
	}
	flags := d.byte()
	fc := d.byte()
	var r SourceRecord
	copy(r.Hash[:], d.bytes(32))
	r.Datestamp = d.time()
	r.FirstSeen = d.time()
	r.LastSeen = d.time()
	if raw := d.bytes(d.length()); len(raw) > 0 {
		if r.Raw = raw; copyRaw {
			r.Raw = append([]byte(nil), raw...) // b may be bbolt's mmap
		}
	}
	if version == recordEncV2 && d.err == nil {
		decodeOrigin(&d, &r)
	}
	if err := d.finish(); err != nil {
		return nil, fmt.Errorf("decode record: %w", err)
	}
	if flags&^flagDeleted != 0 {
		return nil, fmt.Errorf("decode record: unknown flags %#x", flags)
	}
	r.Deleted = flags&flagDeleted != 0
	if int(fc) >= len(formatCodes) {
		return nil, fmt.Errorf("decode record: unknown format code %d", fc)
	}
	r.Format = formatCodes[fc]
	if (r.Format == "") != (len(r.Raw) == 0) {
		return nil, fmt.Errorf("decode record: format %q with %d bytes of record", r.Format, len(r.Raw))
	}
	return &r, nil
}

// decodeOrigin reads appendOrigin's bytes into r. Received is always
// copied: it is read rarely, and a SourceRecord may outlive b.
func decodeOrigin(d *decoder, r *SourceRecord) {
	enc, lbl, flags, fc := d.byte(), d.byte(), d.byte(), d.byte()
	received := d.bytes(d.length())
	switch {
	case d.err != nil:
		return
	case int(enc) >= len(marc.Encodings) || enc == 0:
		d.fail(fmt.Errorf("unknown encoding code %d", enc))
	case int(lbl) >= len(labelCodes):
		d.fail(fmt.Errorf("unknown charset code %d", lbl))
	case flags&^originOverride != 0:
		d.fail(fmt.Errorf("unknown origin flags %#x", flags))
	case int(fc) >= len(formatCodes) || (fc == 0) != (len(received) == 0):
		d.fail(fmt.Errorf("received format code %d with %d bytes", fc, len(received)))
	default:
		r.Encoding, r.Label, r.Override = marc.Encodings[enc], labelCodes[lbl], flags&originOverride != 0
		r.ReceivedFormat, r.Received = formatCodes[fc], append([]byte(nil), received...)
	}
}

func encodeSourceInfo(dst []byte, s *SourceInfo) []byte {
	dst = append(dst, sourceEncV1)
	for _, f := range []string{s.Name, s.LibraryCode, s.Level, s.Kind} {
		dst = appendString(dst, f)
	}
	return dst
}

func decodeSourceInfo(b []byte) (SourceInfo, error) {
	d := decoder{b: b}
	if v := d.byte(); d.err == nil && v != sourceEncV1 {
		return SourceInfo{}, fmt.Errorf("unknown source encoding version %d", v)
	}
	s := SourceInfo{Name: d.string(), LibraryCode: d.string(), Level: d.string(), Kind: d.string()}
	if err := d.finish(); err != nil {
		return SourceInfo{}, fmt.Errorf("decode source: %w", err)
	}
	return s, nil
}

func encodeRun(dst []byte, r *Run) ([]byte, error) {
	if err := checkTime(r.Start); err != nil {
		return nil, err
	}
	if err := checkTime(r.End); err != nil {
		return nil, err
	}
	// A run without duplicates keeps the first layout, so that every run
	// has one encoding and runs written before duplicates were counted
	// stay as they are.
	version := byte(runEncV1)
	if r.Duplicates != 0 {
		version = runEncV2
	}
	dst = append(dst, version)
	dst = appendTime(dst, r.Start)
	dst = appendTime(dst, r.End)
	for _, n := range []int64{int64(r.Added), int64(r.Updated), int64(r.Unchanged), int64(r.Deleted), int64(r.Rejected), int64(r.Pages), r.Bytes} {
		dst = binary.AppendVarint(dst, n)
	}
	if version == runEncV2 {
		dst = binary.AppendVarint(dst, int64(r.Duplicates))
	}
	dst = appendString(dst, r.Err)
	if r.Notes != "" {
		// Optional, so that runs written before Notes existed still decode.
		dst = appendString(dst, r.Notes)
	}
	return dst, nil
}

func decodeRun(b []byte) (Run, error) {
	d := decoder{b: b}
	version := d.byte()
	if d.err == nil && version != runEncV1 && version != runEncV2 {
		return Run{}, fmt.Errorf("unknown run encoding version %d", version)
	}
	var r Run
	r.Start = d.time()
	r.End = d.time()
	for _, p := range []*int{&r.Added, &r.Updated, &r.Unchanged, &r.Deleted, &r.Rejected, &r.Pages} {
		*p = int(d.varint())
	}
	r.Bytes = d.varint()
	if version == runEncV2 {
		if r.Duplicates = int(d.varint()); r.Duplicates == 0 && d.err == nil {
			d.fail(errors.New("no duplicates in a version 2 run")) // not canonical: version 1 instead
		}
	}
	r.Err = d.string()
	if len(d.b) > 0 && d.err == nil {
		if r.Notes = d.string(); r.Notes == "" && d.err == nil {
			d.fail(errors.New("empty notes")) // not canonical: absent instead
		}
	}
	if err := d.finish(); err != nil {
		return Run{}, fmt.Errorf("decode run: %w", err)
	}
	return r, nil
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// Times are limited to years 1-9999 (the zero time.Time is year 1), so
// that every decoded time encodes back to the same bytes.
const (
	minUnix = -62135596800
	maxUnix = 253402300799
)

func checkTime(t time.Time) error {
	if s := t.Unix(); s < minUnix || s > maxUnix {
		return fmt.Errorf("time %v is outside years 1-9999", t)
	}
	return nil
}

var errTruncated = errors.New("truncated")

// decoder reads the binary encodings. The first error sticks and later
// reads return zero values, so decoding functions check once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail(errTruncated)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || len(d.b) < n {
		d.fail(errTruncated)
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || (n > 1 && d.b[n-1] == 0) { // overlong encodings are not canonical
		d.fail(errors.New("bad uvarint"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 || (n > 1 && d.b[n-1] == 0) { // overlong encodings are not canonical
		d.fail(errors.New("bad varint"))
		return 0
	}
	d.b = d.b[n:]
	return v
}

// length reads a length prefix and checks it against the bytes left, so a
// corrupt length cannot cause a huge allocation.
func (d *decoder) length() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) {
		d.fail(fmt.Errorf("length %d exceeds the %d bytes left", v, len(d.b)))
		return 0
	}
	return int(v)
}

func (d *decoder) string() string { return string(d.bytes(d.length())) }

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.fail(fmt.Errorf("nanoseconds %d out of range", nsec))
		return time.Time{}
	}
	if sec < minUnix || sec > maxUnix {
		d.fail(fmt.Errorf("time %d s is outside years 1-9999", sec))
		return time.Time{}
	}
	if d.err != nil {
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

func (d *decoder) finish() error {
	if d.err != nil {
		return d.err
	}
	if len(d.b) > 0 {
		return fmt.Errorf("%d trailing bytes", len(d.b))
	}
	return nil
}

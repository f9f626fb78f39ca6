package marc

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// RawField is one field of an ISO 2709 record kept as bytes: Data is what
// the directory points at (a control field's value, or a data field's
// indicators and subfields with their delimiters), without the field
// terminator.
type RawField struct {
	Tag  string
	Data []byte
}

// CanonicalISO2709 splits raw into its leader and fields when raw is a
// record exactly as AppendISO2709 writes it, which DecodeISO2709 reads
// back field for field and byte for byte: "4500" directory map, two
// indicators, fields in directory order each ending on a field
// terminator, UTF-8 in NFC, every data field two printable indicators then
// subfields with codes, no delimiter in a control field. ok is false for
// anything else (raw must then be decoded to be worked on). The fields
// alias raw; tags of digits share one string table.
//
// It lets a record be re-assembled from a stored one (fields left out,
// fields added) without decoding and encoding every value: the union
// records of a catalogue are rebuilt on every change of their holdings.
func CanonicalISO2709(raw []byte, fields []RawField) (leader []byte, out []RawField, ok bool) {
	return splitCanonical(raw, fields, true)
}

// SplitCanonicalISO2709 is CanonicalISO2709 checking only the leader
// and directory, not the fields' bytes (UTF-8 in NFC, indicators,
// subfield codes), for bytes CanonicalISO2709 accepted before: the master
// of a union record, known unchanged by its hash, split again on every
// serve. On other bytes its fields are not canonical.
func SplitCanonicalISO2709(raw []byte, fields []RawField) (leader []byte, out []RawField, ok bool) {
	return splitCanonical(raw, fields, false)
}

// splitCanonical is both functions above. It is one function, long and
// branchy, because each branch is a check of the format and the record is
// rejected at the first that fails; split into a leader check and the
// directory loop (the fields checked inline or by a call) it ran 6-10%
// slower on the checking path or a fifth slower on the splitting one.
func splitCanonical(raw []byte, fields []RawField, checkFields bool) (leader []byte, out []RawField, ok bool) {
	n := len(raw)
	if n < LeaderLen+2 || raw[n-1] != recordTerminator {
		return nil, fields, false
	}
	leader = raw[:LeaderLen]
	for _, c := range leader {
		if c < 0x20 || c > 0x7E {
			return nil, fields, false
		}
	}
	if leader[9] != 'a' || leader[10] != '2' || leader[11] != '2' || string(leader[20:24]) != "4500" {
		return nil, fields, false
	}
	size, ok1 := atoiDigits(leader[0:], 5)
	base, ok2 := atoiDigits(leader[12:], 5)
	if !ok1 || !ok2 || size != n || base < LeaderLen+1 || base > n-1 || (base-LeaderLen-1)%12 != 0 ||
		raw[base-1] != fieldTerminator {
		return nil, fields, false
	}
	// A record that is not NFC as a whole may still be NFC part by part,
	// which is what reading it asks: a subfield value that starts with a
	// combining mark (one its reading left unattached) joins the letter
	// of its code. Its parts are checked one by one below.
	byPart := false
	if checkFields {
		var it norm.Iter
		if !isUTF8NFC(&it, raw) {
			if !utf8.Valid(raw) {
				return nil, fields, false
			}
			byPart = true
		}
	}
	fields = slices.Grow(fields, (base-LeaderLen-1)/12)
	pos := base
	for e := LeaderLen; e < base-1; e += 12 {
		t := raw[e : e+3]
		if t[0]-0x20 > 0x5E || t[1]-0x20 > 0x5E || t[2]-0x20 > 0x5E {
			return nil, fields, false
		}
		flen, ok1 := atoiDigits(raw[e+3:], 4)
		fstart, ok2 := atoiDigits(raw[e+7:], 5)
		if !ok1 || !ok2 || flen < 1 || base+fstart != pos || pos+flen > n-1 {
			return nil, fields, false
		}
		data := raw[pos : pos+flen-1]
		if raw[pos+flen-1] != fieldTerminator {
			return nil, fields, false
		}
		tag := tagString(t)
		if checkFields && (bytes.IndexByte(data, fieldTerminator) >= 0 || bytes.IndexByte(data, recordTerminator) >= 0 ||
			!canonicalFieldData(tag, data) || byPart && !fieldPartsNFC(data)) {
			return nil, fields, false
		}
		fields = append(fields, RawField{Tag: tag, Data: data})
		pos += flen
	}
	if pos != n-1 {
		return nil, fields, false
	}
	return leader, fields, true
}

// fieldPartsNFC reports whether each text of a canonical field's data is
// NFC: a control field's value, or each subfield's after its code.
func fieldPartsNFC(data []byte) bool {
	parts := bytes.Split(data, []byte{subfieldDelim})
	for i, p := range parts {
		if i > 0 {
			p = p[1:] // the code (canonicalFieldData: there is one)
		}
		if !norm.NFC.IsNormal(p) {
			return false
		}
	}
	return true
}

// canonicalFieldData reports whether data reads back as it is written:
// what AppendISO2709 makes of the field DecodeISO2709 builds from it.
func canonicalFieldData(tag string, data []byte) bool {
	danish := len(data) > 2 && data[2] == subfieldDelim
	if tag[0] == '0' && tag[1] == '0' && !danish {
		return bytes.IndexByte(data, subfieldDelim) < 0 // a control field
	}
	// Two printable indicators, then subfields, each a delimiter and a
	// code; no empty subfield delimiter.
	if len(data) < 2 || !isPrint(data[0]) || !isPrint(data[1]) || len(data) > 2 && data[2] != subfieldDelim {
		return false
	}
	for i := 2; i < len(data); i++ {
		if data[i] != subfieldDelim {
			continue
		}
		if i+1 == len(data) {
			return false
		}
		if c := data[i+1]; c <= 0x20 || c >= 0x7F {
			return false
		}
	}
	return true
}

// AppendFieldData appends f's ISO 2709 data, as AppendISO2709 writes it
// without the field terminator, to dst.
func AppendFieldData(dst []byte, f *Field) ([]byte, error) {
	if len(f.Tag) != 3 {
		return dst, fmt.Errorf("marc: encode ISO 2709: %w: tag %q is not 3 bytes", ErrInvalidRecord, f.Tag)
	}
	if err := checkISOText(f.Tag, f.Tag); err != nil {
		return dst, err
	}
	if _, err := isoFieldLen(f); err != nil {
		return dst, err
	}
	return appendFieldData(dst, f), nil
}

func appendFieldData(dst []byte, f *Field) []byte {
	if isControlLayout(f) {
		return append(dst, f.Value...)
	}
	dst = append(dst, indicatorOrBlank(f.Ind1), indicatorOrBlank(f.Ind2))
	for _, sf := range f.Subfields {
		dst = append(dst, subfieldDelim, sf.Code)
		dst = append(dst, sf.Value...)
	}
	return dst
}

// AppendISO2709Fields appends the record of leader and fields to dst, as
// AppendISO2709 does for a Record of the same fields: fields is typically
// what CanonicalISO2709 split, some left out, others added with
// AppendFieldData. Field data is not checked again.
func AppendISO2709Fields(dst, leader []byte, fields []RawField) ([]byte, error) {
	if len(leader) != LeaderLen {
		return dst, fmt.Errorf("marc: encode ISO 2709: %w: leader is %d bytes, not %d", ErrInvalidRecord, len(leader), LeaderLen)
	}
	size, err := ISO2709FieldsSize(fields)
	if err != nil {
		return dst, err
	}
	base := LeaderLen + 12*len(fields) + 1
	dst = slices.Grow(dst, size)
	start := len(dst)
	dst = append(dst, leader...)
	putISOLeader(dst[start:start+LeaderLen], size, base)
	pos := 0
	for i := range fields {
		n := len(fields[i].Data) + 1
		dst = appendDirEntry(dst, fields[i].Tag, n, pos)
		pos += n
	}
	dst = append(dst, fieldTerminator)
	for i := range fields {
		dst = append(dst, fields[i].Data...)
		dst = append(dst, fieldTerminator)
	}
	return append(dst, recordTerminator), nil
}

// DecodeFields returns the record DecodeISO2709 (UTF-8) reads from what
// AppendISO2709Fields writes of leader and fields, without writing and
// reading the bytes, for fields as CanonicalISO2709 splits them or
// AppendFieldData writes them (TestCanonicalISO2709 holds the two ways
// to each other). The record does not alias fields.
func DecodeFields(leader []byte, fields []RawField) (*Record, error) {
	if len(leader) != LeaderLen {
		return nil, fmt.Errorf("marc: decode fields: %w: leader is %d bytes, not %d", ErrInvalidRecord, len(leader), LeaderLen)
	}
	size, err := ISO2709FieldsSize(fields)
	if err != nil {
		return nil, err
	}
	// One string holds the leader and every field's data, as the reader
	// keeps one for a record.
	var sb strings.Builder
	sb.Grow(size)
	var l [LeaderLen]byte
	copy(l[:], leader)
	putISOLeader(l[:], size, LeaderLen+12*len(fields)+1)
	sb.Write(l[:])
	nsub := 0
	for i := range fields {
		sb.Write(fields[i].Data)
		nsub += bytes.Count(fields[i].Data, []byte{subfieldDelim})
	}
	s := sb.String()
	out := &Record{Leader: s[:LeaderLen], Fields: make([]Field, len(fields))}
	subs := make([]Subfield, 0, nsub)
	pos := LeaderLen
	for i := range fields {
		d, f := fields[i].Data, &out.Fields[i]
		f.Tag = fields[i].Tag
		v := s[pos : pos+len(d)]
		pos += len(d)
		if f.Tag[0] == '0' && f.Tag[1] == '0' && !(len(d) > 2 && d[2] == subfieldDelim) {
			f.Value = v
			continue
		}
		if len(v) < 2 {
			return nil, fmt.Errorf("marc: decode fields: %w: field %s has no indicators", ErrInvalidRecord, f.Tag)
		}
		f.Ind1, f.Ind2 = v[0], v[1]
		first := len(subs)
		for rest := v[2:]; len(rest) > 0; {
			// rest[0] is a delimiter: CanonicalISO2709 and AppendFieldData
			// write no text before the first one and no empty one.
			if len(rest) < 2 || rest[0] != subfieldDelim {
				return nil, fmt.Errorf("marc: decode fields: %w: field %s is not canonical", ErrInvalidRecord, f.Tag)
			}
			end := strings.IndexByte(rest[1:], subfieldDelim)
			if end < 0 {
				end = len(rest) - 1
			}
			subs = append(subs, Subfield{Code: rest[1], Value: rest[2 : 1+end]})
			rest = rest[1+end:]
		}
		if len(subs) > first {
			f.Subfields = subs[first:len(subs):len(subs)]
		}
	}
	return out, nil
}

// ISO2709FieldsSize returns the length of the record AppendISO2709Fields
// writes for fields, or why it cannot write them: a tag that is not three
// bytes, a field or the record over the format's length limits.
func ISO2709FieldsSize(fields []RawField) (int, error) {
	size := LeaderLen + 12*len(fields) + 2
	for i := range fields {
		n := len(fields[i].Data) + 1
		if n > 9999 {
			return 0, fmt.Errorf("marc: encode ISO 2709: %w: field %s is %d bytes (at most 9999)", ErrTooLong, fields[i].Tag, n)
		}
		if len(fields[i].Tag) != 3 {
			return 0, fmt.Errorf("marc: encode ISO 2709: %w: field %d: tag %q is not 3 bytes", ErrInvalidRecord, i+1, fields[i].Tag)
		}
		size += n
	}
	if size > MaxRecordLen {
		return 0, fmt.Errorf("marc: encode ISO 2709: %w: %d bytes (at most %d)", ErrTooLong, size, MaxRecordLen)
	}
	return size, nil
}

// putISOLeader sets the parts of a leader the encoders compute: record
// length, leader/09 'a' (UTF-8), indicator and subfield code counts, base
// address, entry map.
func putISOLeader(l []byte, size, base int) {
	putDigits(l[0:5], size)
	l[9] = 'a'
	l[10], l[11] = '2', '2'
	putDigits(l[12:17], base)
	l[20], l[21], l[22], l[23] = '4', '5', '0', '0'
}

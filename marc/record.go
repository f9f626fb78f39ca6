package marc

import (
	"fmt"
	"strings"
)

// LeaderLen is the fixed length of a MARC 21 leader.
const LeaderLen = 24

// Record is one MARC 21 record: a leader and its fields in order.
//
// The records a stream reader (ISO 2709 or MARCXML) returns share their
// Fields' and Subfields' arrays with their neighbours (slab.go): appending
// to either is safe, and keeping one record keeps a few dozen records'
// worth alive beside it. Under ReaderOptions.ReuseRecords a record is the
// caller's only until the next call to Next.
type Record struct {
	Leader string // always 24 bytes when produced by a reader
	Fields []Field
	// Origin, set by a reader, says how the text was received when it
	// was not UTF-8 NFC already; nil otherwise.
	Origin *Origin
}

// Field is a control field (tags 001-009: Value set) or a data field
// (indicators and subfields set).
type Field struct {
	Tag       string // three characters, usually digits
	Value     string // control fields only
	Ind1      byte   // data fields only; ' ' when blank
	Ind2      byte
	Subfields []Subfield
}

// Subfield is one coded subfield of a data field.
type Subfield struct {
	Code  byte
	Value string
}

// IsControlTag reports whether tag names a control field (00X).
// Per MARC 21, control fields are exactly the tags 001-009; 000 is not used.
func IsControlTag(tag string) bool {
	return len(tag) == 3 && tag[0] == '0' && tag[1] == '0'
}

// IsControl reports whether f is a control field.
func (f *Field) IsControl() bool { return IsControlTag(f.Tag) }

// Sub returns the first value of subfield code, or "".
func (f *Field) Sub(code byte) string {
	for i := range f.Subfields {
		if f.Subfields[i].Code == code {
			return f.Subfields[i].Value
		}
	}
	return ""
}

// Subs returns every value of the subfields whose code is in codes, in
// field order.
func (f *Field) Subs(codes string) []string {
	var out []string
	for i := range f.Subfields {
		if strings.IndexByte(codes, f.Subfields[i].Code) >= 0 {
			out = append(out, f.Subfields[i].Value)
		}
	}
	return out
}

// Fields returns the fields with the given tag, in record order.
func (r *Record) FieldsByTag(tag string) []*Field {
	var out []*Field
	for i := range r.Fields {
		if r.Fields[i].Tag == tag {
			out = append(out, &r.Fields[i])
		}
	}
	return out
}

// First returns the first field with the given tag, or nil.
func (r *Record) First(tag string) *Field {
	for i := range r.Fields {
		if r.Fields[i].Tag == tag {
			return &r.Fields[i]
		}
	}
	return nil
}

// ControlNumber returns the value of 001, or "".
func (r *Record) ControlNumber() string {
	if f := r.First("001"); f != nil {
		return strings.TrimSpace(f.Value)
	}
	return ""
}

// RecordError describes a record a reader could not decode. The reader has
// already moved past it; the caller may log the error and call Next again.
type RecordError struct {
	Source string // file name or other label given to the reader; may be ""
	Index  int    // 1-based position of the record in the stream
	Offset int64  // byte offset of the record's first byte in the stream
	Err    error  // what is wrong
}

func (e *RecordError) Error() string {
	src := e.Source
	if src == "" {
		src = "input"
	}
	return fmt.Sprintf("%s: record %d at byte offset %d: %v", src, e.Index, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Warning is a non-fatal problem found while decoding a record, such as
// invalid UTF-8 that had to be replaced. The record itself was delivered.
type Warning struct {
	Tag string // field concerned, "" for the leader or the whole record
	Msg string
}

func (w Warning) String() string {
	if w.Tag == "" {
		return w.Msg
	}
	return w.Tag + ": " + w.Msg
}

// Size is the length of r in ISO 2709 as AppendISO2709 writes it (the
// format's limits aside): leader, directory, field data and terminators.
// It costs a pass over the fields, not an encoding.
func (r *Record) Size() int {
	n := LeaderLen + 2
	for i := range r.Fields {
		f := &r.Fields[i]
		n += 12 + 1
		if isControlLayout(f) {
			n += len(f.Value)
			continue
		}
		n += 2
		for _, sf := range f.Subfields {
			n += 2 + len(sf.Value)
		}
	}
	return n
}

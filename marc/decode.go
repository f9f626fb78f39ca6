package marc

import "bytes"

// DecodeISO2709 decodes one record held whole in raw, as a store keeps
// it. It is NewISO2709Reader(...).Next() without the reader's stream
// buffer (128 KiB), which matters when records are decoded one at a time
// for every search answer. raw is neither modified nor retained. Text is
// converted as opts says; errors are those of Next, io.EOF for an empty
// raw.
func DecodeISO2709(raw []byte, opts ReaderOptions) (*Record, error) {
	r := &ISO2709Reader{isoParser: isoParser{opts: opts}, window: window{buf: raw, end: len(raw), eof: true}}
	return r.Next()
}

// DecodeMARCXML decodes the first record of a MARCXML document held whole
// in raw: a record a store keeps, or one a protocol response carries. It
// is NewXMLReader(...).Next() finishing the record on the caller's
// goroutine: for one record, reading ahead would only add a goroutine.
func DecodeMARCXML(raw []byte, opts ReaderOptions) (*Record, error) {
	r := NewXMLReader(bytes.NewReader(raw), opts)
	r.ahead = nil
	return r.Next()
}

// DecodeReceived decodes a record as a reader received it
// (Origin.Received, in Origin.ReceivedFormat), or a stored record's text
// when it was stored as received, so that a record can be derived again
// from what its source sent, with another charset setting or a better
// detector. The text of a MARCXML record was framed as ISO 2709; a legacy
// charset setting reads it as NewXMLReader would (the bytes text decoded
// through a single-byte code page came from). The record's Origin, when
// set, names format as what was received.
func DecodeReceived(received []byte, format Format, opts ReaderOptions) (*Record, error) {
	r := &ISO2709Reader{isoParser: isoParser{opts: opts, xmlText: format == FormatMARCXML}, window: window{buf: received, end: len(received), eof: true}}
	rec, err := r.Next()
	if err == nil && rec.Origin != nil && format != "" {
		rec.Origin.ReceivedFormat = format
	}
	return rec, err
}

package marc

import (
	"errors"
	"io"
)

// Reader yields records one at a time. Next returns io.EOF after the last
// record. A *RecordError means one record was skipped; the stream is still
// usable and the caller should call Next again. Any other error is fatal for
// the stream (for example an I/O error from the underlying reader).
type Reader interface {
	Next() (*Record, error)
}

// WarningReader is implemented by readers that can report non-fatal
// problems (charset repairs and the like) in the record last returned.
type WarningReader interface {
	Reader
	Warnings() []Warning
}

// Charset names the character set a record's text is encoded in.
type Charset string

const (
	// CharsetAuto detects each record's encoding (see detect.go), taking
	// leader/09 ('a' UTF-8, blank MARC-8) as the reading to keep unless
	// another is clearly better.
	CharsetAuto Charset = ""
	// CharsetLabel decides per record from leader/09 alone, without
	// detection: 'a' is UTF-8, anything else MARC-8.
	CharsetLabel Charset = "label"
	CharsetUTF8  Charset = "utf-8"
	// CharsetMARC8 is the MARC-8 repertoire (ASCII, ANSEL with its
	// combining diacritics, and the escape-switched sets).
	CharsetMARC8 Charset = "marc-8"
	// CharsetWindows1258 is the Vietnamese Windows code page, which some
	// older Vietnamese library systems export regardless of leader/09.
	CharsetWindows1258 Charset = "windows-1258"
	// CharsetLatin1 is ISO 8859-1, found in mislabelled exports.
	CharsetLatin1 Charset = "iso-8859-1"
)

// ReaderOptions configure a reader. The zero value is ready to use.
type ReaderOptions struct {
	// Source labels errors (usually the file name).
	Source string
	// Charset overrides detection when not CharsetAuto.
	Charset Charset
	// MaxRecordBytes rejects a record larger than this as ISO 2709
	// (leader, directory and field data as read), while it is read: a
	// reader never holds more of it. 0 means DefaultMaxRecordBytes; a
	// negative value means no limit, for records already accepted once
	// (the store's own).
	MaxRecordBytes int
	// ReuseRecords lets a stream reader build each record in the arrays
	// of the records it returned before, as encoding/csv's ReuseRecord
	// does: the Record Next returns, its Fields and their Subfields are
	// valid only until the next call to Next. The strings in them (tags,
	// values, the leader) stay valid. For a caller that reads a stream
	// through without keeping its records (a check, a count, values
	// gathered): reading then allocates little more than the text. A
	// caller that keeps one record of such a stream copies it; one that
	// gathers values from a long stream copies them too (strings.Clone),
	// as a string may keep the text of the records read with it alive (up
	// to a MiB of ISO 2709 read ahead).
	ReuseRecords bool
}

// DefaultMaxRecordBytes is what ISO 2709 can hold, the record length
// being five digits.
const DefaultMaxRecordBytes = MaxRecordLen

// ErrRecordTooLarge is wrapped by the errors of records rejected for
// their size.
var ErrRecordTooLarge = errors.New("record too large")

func (o ReaderOptions) maxRecordBytes() int {
	switch {
	case o.MaxRecordBytes == 0:
		return DefaultMaxRecordBytes
	case o.MaxRecordBytes < 0:
		return 0
	}
	return o.MaxRecordBytes
}

// Format names a serialisation of MARC records.
type Format string

const (
	FormatISO2709 Format = "iso2709"
	FormatMARCXML Format = "marcxml"
)

// Sniff guesses the format of a stream from its first bytes: MARCXML
// starts (after optional BOM and whitespace) with '<', ISO 2709 with five
// digits of record length.
func Sniff(head []byte) (Format, bool) {
	i := 0
	if len(head) >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF {
		i = 3
	}
	for i < len(head) && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n') {
		i++
	}
	if i < len(head) && head[i] == '<' {
		return FormatMARCXML, true
	}
	if len(head)-i >= 5 {
		for _, c := range head[i : i+5] {
			if c < '0' || c > '9' {
				return "", false
			}
		}
		return FormatISO2709, true
	}
	return "", false
}

// NewReader returns a reader for the given format.
func NewReader(r io.Reader, f Format, opts ReaderOptions) WarningReader {
	if f == FormatMARCXML {
		return NewXMLReader(r, opts)
	}
	return NewISO2709Reader(r, opts)
}

package marc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
)

// ErrTooLong is returned (wrapped, with the size) for a record that does
// not fit the five-digit record length of ISO 2709, or a field that does
// not fit the directory's four-digit field length.
var ErrTooLong = errors.New("record too long for ISO 2709")

// ErrInvalidRecord is returned (wrapped, with the reason) for a record that
// cannot be written: a tag that is not three bytes, text that is not UTF-8,
// or text holding ISO 2709's own delimiter bytes.
var ErrInvalidRecord = errors.New("invalid record")

// ISO2709Writer writes records in ISO 2709 with UTF-8 text. Writes are
// buffered; call Flush when done.
type ISO2709Writer struct {
	w   *bufio.Writer
	buf []byte
}

// NewISO2709Writer returns a writer of ISO 2709 records to w.
func NewISO2709Writer(w io.Writer) *ISO2709Writer {
	return &ISO2709Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write encodes rec and writes it. A record that cannot be encoded is not
// written at all and the error wraps ErrTooLong or ErrInvalidRecord.
func (w *ISO2709Writer) Write(rec *Record) error {
	b, err := AppendISO2709(w.buf[:0], rec)
	if err != nil {
		return err
	}
	w.buf = b
	_, err = w.w.Write(b)
	return err
}

// Flush writes any buffered data to the underlying writer.
func (w *ISO2709Writer) Flush() error { return w.w.Flush() }

// EncodeISO2709 returns rec as one ISO 2709 record.
func EncodeISO2709(rec *Record) ([]byte, error) {
	return AppendISO2709(nil, rec)
}

// isControlLayout reports whether f is written as a control field (a bare
// value) rather than indicators and subfields. A 00X field that carries
// subfields (Danish MARC does this) keeps them.
func isControlLayout(f *Field) bool {
	return len(f.Subfields) == 0 && (IsControlTag(f.Tag) || f.Value != "")
}

// AppendISO2709 appends rec in ISO 2709 to dst and returns the extended
// buffer. The leader is rec.Leader with the computed record length (00-04)
// and base address (12-16), leader/09 'a' (UTF-8), leader/10-11 "22" and
// leader/20-23 "4500". On error dst is returned unchanged in length.
func AppendISO2709(dst []byte, rec *Record) ([]byte, error) {
	if len(rec.Leader) != LeaderLen {
		return dst, fmt.Errorf("marc: encode ISO 2709: %w: leader is %d bytes, not %d", ErrInvalidRecord, len(rec.Leader), LeaderLen)
	}
	if err := checkISOText("", rec.Leader); err != nil {
		return dst, err
	}
	// Size first, so the directory can be written before the data.
	base := LeaderLen + 12*len(rec.Fields) + 1
	size := base
	var lensBuf [64]int
	lens := lensBuf[:0]
	for i := range rec.Fields {
		f := &rec.Fields[i]
		if len(f.Tag) != 3 {
			return dst, fmt.Errorf("marc: encode ISO 2709: %w: field %d: tag %q is not 3 bytes", ErrInvalidRecord, i+1, f.Tag)
		}
		if err := checkISOText(f.Tag, f.Tag); err != nil {
			return dst, err
		}
		n, err := isoFieldLen(f)
		if err != nil {
			return dst, err
		}
		lens = append(lens, n)
		size += n
	}
	size++ // record terminator
	if size > MaxRecordLen {
		return dst, fmt.Errorf("marc: encode ISO 2709: %w: %d bytes (at most %d)", ErrTooLong, size, MaxRecordLen)
	}

	dst = slices.Grow(dst, size)
	start := len(dst)
	dst = append(dst, rec.Leader...)
	putISOLeader(dst[start:start+LeaderLen], size, base)

	pos := 0
	for i := range rec.Fields {
		f := &rec.Fields[i]
		dst = appendDirEntry(dst, f.Tag, lens[i], pos)
		pos += lens[i]
	}
	dst = append(dst, fieldTerminator)
	for i := range rec.Fields {
		dst = appendFieldData(dst, &rec.Fields[i])
		dst = append(dst, fieldTerminator)
	}
	dst = append(dst, recordTerminator)
	return dst, nil
}

// appendDirEntry appends a directory entry: tag, length, starting position.
func appendDirEntry(dst []byte, tag string, n, pos int) []byte {
	dst = append(dst, tag...)
	var num [9]byte
	putDigits(num[0:4], n)
	putDigits(num[4:9], pos)
	return append(dst, num[:]...)
}

// isoFieldLen returns the encoded length of f including its terminator,
// checking its content on the way.
func isoFieldLen(f *Field) (int, error) {
	n := 1
	if isControlLayout(f) {
		if err := checkISOText(f.Tag, f.Value); err != nil {
			return 0, err
		}
		n += len(f.Value)
	} else {
		if f.Value != "" {
			return 0, fmt.Errorf("marc: encode ISO 2709: %w: field %s has both a value and subfields", ErrInvalidRecord, f.Tag)
		}
		for _, c := range [2]byte{f.Ind1, f.Ind2} {
			if c != 0 && (c < 0x20 || c > 0x7E) {
				return 0, fmt.Errorf("marc: encode ISO 2709: %w: field %s: indicator %q", ErrInvalidRecord, f.Tag, c)
			}
		}
		n += 2
		for _, sf := range f.Subfields {
			if sf.Code <= 0x20 || sf.Code >= 0x7F {
				return 0, fmt.Errorf("marc: encode ISO 2709: %w: field %s: subfield code %q", ErrInvalidRecord, f.Tag, sf.Code)
			}
			if err := checkISOText(f.Tag, sf.Value); err != nil {
				return 0, err
			}
			n += 2 + len(sf.Value)
		}
	}
	if n > 9999 {
		return 0, fmt.Errorf("marc: encode ISO 2709: %w: field %s is %d bytes (at most 9999)", ErrTooLong, f.Tag, n)
	}
	return n, nil
}

// checkISOText rejects text that is not UTF-8 or that holds a terminator or
// a subfield delimiter, which would change the record's structure when read
// back.
func checkISOText(tag, s string) error {
	high := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			high = true
		} else if c == recordTerminator || c == fieldTerminator || c == subfieldDelim {
			return fmt.Errorf("marc: encode ISO 2709: %w: %s: text holds delimiter byte 0x%02X", ErrInvalidRecord, tagOrLeader(tag), c)
		}
	}
	if high && !utf8.ValidString(s) {
		return fmt.Errorf("marc: encode ISO 2709: %w: %s: text is not UTF-8: %q", ErrInvalidRecord, tagOrLeader(tag), s)
	}
	return nil
}

func tagOrLeader(tag string) string {
	if tag == "" {
		return "leader"
	}
	return "field " + tag
}

func indicatorOrBlank(c byte) byte {
	if c == 0 {
		return ' '
	}
	return c
}

// putDigits writes v as zero-padded decimal filling b.
func putDigits(b []byte, v int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
}

package z3950

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Framing: a Z39.50 association is a stream of PDUs, each one BER value.
// readFrame cuts the next one out of the stream without decoding it, so
// that its size is checked before anything is allocated for it and a
// malformed value is caught before go-asn1-ber builds packets from it.
//
// go-asn1-ber copies every constructed value's content into its packet
// (and again into each enclosing packet), so decoding costs about the sum
// of the content lengths of all constructed values: depth times size for
// a deeply nested value. readFrame bounds that sum too, so a small PDU
// cannot make the decoder allocate gigabytes.

// Limits on an incoming PDU.
const (
	maxFrameDepth = 200      // nesting of constructed values
	maxDecodeCost = 32 << 20 // sum of constructed content lengths, see above
)

// ErrFrameTooLarge is returned (wrapped) for a PDU over the size limit.
var ErrFrameTooLarge = errors.New("z3950: PDU too large")

// frameError is a malformed BER value.
type frameError struct{ msg string }

func (e *frameError) Error() string { return "z3950: malformed BER: " + e.msg }

func malformed(format string, args ...any) error {
	return &frameError{fmt.Sprintf(format, args...)}
}

type frameReader struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	cost int
}

// readFrame reads one BER value of at most max bytes. io.EOF means the
// stream ended cleanly before a value; io.ErrUnexpectedEOF that it ended
// inside one.
func readFrame(r *bufio.Reader, max int) ([]byte, error) {
	fr := &frameReader{r: r, max: max}
	if _, err := fr.r.Peek(1); err != nil {
		return nil, err
	}
	isEOC, err := fr.value(0)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if isEOC {
		return nil, malformed("end-of-contents outside a value")
	}
	return fr.buf, nil
}

func (fr *frameReader) byte() (byte, error) {
	if len(fr.buf) >= fr.max {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrFrameTooLarge, fr.max)
	}
	c, err := fr.r.ReadByte()
	if err != nil {
		return 0, err
	}
	fr.buf = append(fr.buf, c)
	return c, nil
}

// header reads identifier and length octets: constructed, and the length
// (-1 for indefinite).
func (fr *frameReader) header() (constructed bool, eoc bool, length int, err error) {
	id, err := fr.byte()
	if err != nil {
		return false, false, 0, err
	}
	constructed = id&0x20 != 0
	if id&0x1f == 0x1f {
		// High tag number: base-128 octets, the last without bit 8.
		for n := 0; ; n++ {
			c, err := fr.byte()
			if err != nil {
				return false, false, 0, err
			}
			if n == 0 && c == 0x80 {
				return false, false, 0, malformed("tag number with a leading zero octet")
			}
			if n >= 4 {
				return false, false, 0, malformed("tag number too large")
			}
			if c&0x80 == 0 {
				break
			}
		}
	}
	l, err := fr.byte()
	if err != nil {
		return false, false, 0, err
	}
	switch {
	case l < 0x80:
		length = int(l)
	case l == 0x80:
		if !constructed {
			return false, false, 0, malformed("indefinite length on a primitive value")
		}
		length = -1
	case l == 0xff:
		return false, false, 0, malformed("reserved length octet 0xff")
	default:
		n := int(l & 0x7f)
		if n > 4 {
			return false, false, 0, malformed("%d length octets", n)
		}
		for i := 0; i < n; i++ {
			c, err := fr.byte()
			if err != nil {
				return false, false, 0, err
			}
			length = length<<8 | int(c)
		}
		if length < 0 || length > fr.max {
			return false, false, 0, fmt.Errorf("%w: a value of %d bytes (at most %d)", ErrFrameTooLarge, length, fr.max)
		}
	}
	eoc = id == 0 && l == 0
	return constructed, eoc, length, nil
}

// value reads one TLV (its header and content) into buf and reports
// whether it was an end-of-contents marker.
func (fr *frameReader) value(depth int) (bool, error) {
	if depth > maxFrameDepth {
		return false, malformed("nested more than %d deep", maxFrameDepth)
	}
	constructed, eoc, length, err := fr.header()
	if err != nil {
		return false, err
	}
	if eoc {
		return true, nil
	}
	if !constructed {
		if len(fr.buf)+length > fr.max {
			return false, fmt.Errorf("%w: more than %d bytes", ErrFrameTooLarge, fr.max)
		}
		start := len(fr.buf)
		fr.buf = append(fr.buf, make([]byte, length)...)
		_, err := io.ReadFull(fr.r, fr.buf[start:])
		return false, err
	}
	start := len(fr.buf)
	if length >= 0 {
		end := start + length
		if end > fr.max {
			return false, fmt.Errorf("%w: more than %d bytes", ErrFrameTooLarge, fr.max)
		}
		if depth == 0 {
			// The whole value's size is known: one allocation.
			fr.buf = slices.Grow(fr.buf, length)
		}
		for len(fr.buf) < end {
			isEOC, err := fr.value(depth + 1)
			if err != nil {
				return false, err
			}
			if isEOC {
				return false, malformed("end-of-contents inside a definite-length value")
			}
		}
		if len(fr.buf) != end {
			return false, malformed("contents overrun their length")
		}
	} else {
		for {
			isEOC, err := fr.value(depth + 1)
			if err != nil {
				return false, err
			}
			if isEOC {
				break
			}
		}
	}
	fr.cost += len(fr.buf) - start
	if fr.cost > maxDecodeCost {
		return false, malformed("too deeply nested for its size")
	}
	return false, nil
}

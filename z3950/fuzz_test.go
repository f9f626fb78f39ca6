package z3950

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

func addPDUSeeds(f *testing.F) {
	for _, p := range samplePDUs(f) {
		b, err := EncodePDU(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0xBF, 0x16, 0x80, 0x82, 0x01, 0x00, 0x00, 0x00})
	f.Add([]byte{0xA0, 0x80, 0x00, 0x00})
}

// FuzzDecodePDU: decoding never panics, and what decodes re-encodes to a
// fixed point (encode∘decode is idempotent). Search requests are also
// translated into query trees, which must not panic either.
func FuzzDecodePDU(f *testing.F) {
	addPDUSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePDU(data)
		if err != nil {
			return
		}
		if sr, ok := p.(*SearchRequest); ok {
			TranslateQuery(&sr.Query, nil)
		}
		if sc, ok := p.(*ScanRequest); ok {
			parseAttributes(sc.Term.Attributes, sc.AttributeSet)
		}
		b1, err := EncodePDU(p)
		if err != nil {
			return // e.g. a decoded OID term that cannot be written back
		}
		p2, err := DecodePDU(b1)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v\n% x", p.Tag(), err, b1)
		}
		b2, err := EncodePDU(p2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("%s: encoding not stable: %v\n% x\n% x", p.Tag(), err, b1, b2)
		}
	})
}

// FuzzReadFrame: the framer never panics, never returns more than the
// limit or than it read, and what it frames is one whole BER value.
func FuzzReadFrame(f *testing.F) {
	addPDUSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 12
		br := bufio.NewReader(bytes.NewReader(data))
		frame, err := readFrame(br, limit)
		if err != nil {
			var fe *frameError
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
				!errors.Is(err, ErrFrameTooLarge) && !errors.As(err, &fe) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		if len(frame) > limit || !bytes.HasPrefix(data, frame) {
			t.Fatalf("frame of %d bytes from %d", len(frame), len(data))
		}
		DecodePDU(frame)
	})
}

// FuzzParsePQF: parsing never panics and what parses prints back to a
// query that parses to the same text.
func FuzzParsePQF(f *testing.F) {
	for _, s := range []string{
		`@attr 1=4 computer`, `@and @or a b @not c d`, `@prox 0 1 1 2 k 2 a b`,
		`@attrset bib-1 @attr 1=title "x y"`, `@set r1`, `@term numeric 3`, `"a\"b"`, `@attr 1.2.3 1=4 x`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParsePQF(s)
		if err != nil {
			return
		}
		TranslateQuery(&Query{Type: QueryType1, RPN: q}, nil)
		q2, err := ParsePQF(q.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, q.String(), err)
		}
		if q2.String() != q.String() {
			t.Fatalf("%q: %q then %q", s, q.String(), q2.String())
		}
	})
}

package z3950

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// This file holds the small vocabulary the PDU codec is written in: making
// tagged BER values with go-asn1-ber, and reading them back from its
// packets with errors that say what was wrong where.

// OID is an ASN.1 object identifier.
type OID []int

// String returns the dotted form, "1.2.840.10003.5.10".
func (o OID) String() string {
	var b strings.Builder
	for i, n := range o {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

// Equal reports whether o and p are the same identifier.
func (o OID) Equal(p OID) bool {
	if len(o) != len(p) {
		return false
	}
	for i := range o {
		if o[i] != p[i] {
			return false
		}
	}
	return true
}

// ParseOID parses a dotted object identifier.
func ParseOID(s string) (OID, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return nil, fmt.Errorf("z3950: OID %q: at least two arcs needed", s)
	}
	o := make(OID, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("z3950: OID %q: bad arc %q", s, p)
		}
		o[i] = n
	}
	if o[0] > 2 || (o[0] < 2 && o[1] > 39) {
		return nil, fmt.Errorf("z3950: OID %q: bad first arcs", s)
	}
	return o, nil
}

// Object identifiers of Z39.50.
var (
	OIDBib1           = OID{1, 2, 840, 10003, 3, 1}       // Bib-1 attribute set
	OIDDiagBib1       = OID{1, 2, 840, 10003, 4, 1}       // Bib-1 diagnostic set
	OIDUSMARC         = OID{1, 2, 840, 10003, 5, 10}      // USMARC = MARC 21
	OIDSUTRS          = OID{1, 2, 840, 10003, 5, 101}     // simple unstructured text
	OIDOPAC           = OID{1, 2, 840, 10003, 5, 102}     // OPAC: bibliographic record + holdings
	OIDXML            = OID{1, 2, 840, 10003, 5, 109, 10} // text/xml
	OIDApplicationXML = OID{1, 2, 840, 10003, 5, 109, 3}  // application/xml
	OIDCharNeg3       = OID{1, 2, 840, 10003, 15, 3}      // character set and language negotiation 3
	OIDCQL            = OID{1, 2, 840, 10003, 16, 2}      // CQL query (Type-104)
	oidUTF8           = OID{1, 0, 10646, 1, 0, 8}         // ISO 10646 transfer syntax UTF-8
)

func encodeOIDContent(o OID) ([]byte, error) {
	if len(o) < 2 || o[0] > 2 || (o[0] < 2 && o[1] > 39) {
		return nil, fmt.Errorf("z3950: cannot encode OID %s", o)
	}
	out := appendBase128(nil, o[0]*40+o[1])
	for _, n := range o[2:] {
		if n < 0 {
			return nil, fmt.Errorf("z3950: cannot encode OID %s", o)
		}
		out = appendBase128(out, n)
	}
	return out, nil
}

func appendBase128(dst []byte, n int) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(n & 0x7f)
	for n >>= 7; n > 0; n >>= 7 {
		i--
		tmp[i] = byte(n&0x7f) | 0x80
	}
	return append(dst, tmp[i:]...)
}

func decodeOIDContent(b []byte) (OID, error) {
	if len(b) == 0 {
		return nil, errors.New("empty OID")
	}
	var arcs []int
	v := 0
	for i, c := range b {
		if v > 1<<24 {
			return nil, errors.New("OID arc too large")
		}
		v = v<<7 | int(c&0x7f)
		if c&0x80 != 0 {
			if i == len(b)-1 {
				return nil, errors.New("OID ends inside an arc")
			}
			continue
		}
		arcs = append(arcs, v)
		v = 0
	}
	first := arcs[0]
	o := make(OID, 0, len(arcs)+1)
	switch {
	case first < 40:
		o = append(o, 0, first)
	case first < 80:
		o = append(o, 1, first-40)
	default:
		o = append(o, 2, first-80)
	}
	return append(o, arcs[1:]...), nil
}

// ------------------------------------------------------------ encoding

func ctx(tag int) ber.Tag { return ber.Tag(tag) }

// Constructed values are built by adding children to Children only, and
// written out by marshal in one pass: go-asn1-ber's AppendChild copies a
// child's encoding into its parent, and so each record of a present
// response once per level of nesting (a dozen times), which made the
// encoder the server's main cost.

// add appends the non-nil children to a constructed value.
func add(p *ber.Packet, children ...*ber.Packet) {
	for _, c := range children {
		if c != nil {
			p.Children = append(p.Children, c)
		}
	}
}

// cons makes a constructed value with a context tag.
func cons(tag int, children ...*ber.Packet) *ber.Packet {
	p := ber.Encode(ber.ClassContext, ber.TypeConstructed, ctx(tag), nil, "")
	add(p, children...)
	return p
}

// seq makes a universal SEQUENCE.
func seq(children ...*ber.Packet) *ber.Packet {
	p := ber.NewSequence("")
	add(p, children...)
	return p
}

// contentLen is the length of a value's contents. A constructed value
// without children (one decoded by go-asn1-ber and kept raw) has them in
// Data.
func contentLen(p *ber.Packet) int {
	if p.TagType != ber.TypeConstructed || len(p.Children) == 0 {
		return p.Data.Len()
	}
	n := 0
	for _, c := range p.Children {
		n += encodedLen(c)
	}
	return n
}

// encodedLen is the length of a value's definite-length encoding.
func encodedLen(p *ber.Packet) int {
	n := contentLen(p)
	return idLen(p.Tag) + lenLen(n) + n
}

func idLen(tag ber.Tag) int {
	if tag < 31 {
		return 1
	}
	n := 1
	for t := tag; t > 0; t >>= 7 {
		n++
	}
	return n
}

func lenLen(n int) int {
	if n < 0x80 {
		return 1
	}
	k := 1
	for ; n > 0; n >>= 8 {
		k++
	}
	return k
}

// marshal appends the definite-length BER encoding of p to dst.
func marshal(dst []byte, p *ber.Packet) []byte {
	n := contentLen(p)
	id := byte(p.ClassType) | byte(p.TagType)
	if p.Tag < 31 {
		dst = append(dst, id|byte(p.Tag))
	} else {
		dst = append(dst, id|0x1f)
		var tmp [10]byte
		i := len(tmp)
		for t, first := p.Tag, true; first || t > 0; t, first = t>>7, false {
			i--
			tmp[i] = byte(t & 0x7f)
			if !first {
				tmp[i] |= 0x80
			}
		}
		dst = append(dst, tmp[i:]...)
	}
	if n < 0x80 {
		dst = append(dst, byte(n))
	} else {
		k := lenLen(n) - 1
		dst = append(dst, 0x80|byte(k))
		for s := (k - 1) * 8; s >= 0; s -= 8 {
			dst = append(dst, byte(n>>uint(s)))
		}
	}
	if p.TagType != ber.TypeConstructed || len(p.Children) == 0 {
		return append(dst, p.Data.Bytes()...)
	}
	for _, c := range p.Children {
		dst = marshal(dst, c)
	}
	return dst
}

func ctxInt(tag int, v int) *ber.Packet {
	return ber.NewInteger(ber.ClassContext, ber.TypePrimitive, ctx(tag), int64(v), "")
}

func uniInt(v int) *ber.Packet {
	return ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(v), "")
}

func ctxBool(tag int, v bool) *ber.Packet {
	p := ber.Encode(ber.ClassContext, ber.TypePrimitive, ctx(tag), nil, "")
	if v {
		p.Data.WriteByte(0xff)
	} else {
		p.Data.WriteByte(0)
	}
	return p
}

func ctxNull(tag int) *ber.Packet {
	return ber.Encode(ber.ClassContext, ber.TypePrimitive, ctx(tag), nil, "")
}

func ctxBytes(tag int, b []byte) *ber.Packet {
	p := ber.Encode(ber.ClassContext, ber.TypePrimitive, ctx(tag), nil, "")
	p.Data.Write(b)
	return p
}

// ctxStr is an IMPLICIT InternationalString (or OCTET STRING).
func ctxStr(tag int, s string) *ber.Packet { return ctxBytes(tag, []byte(s)) }

// optStr is ctxStr, or nothing for "".
func optStr(tag int, s string) *ber.Packet {
	if s == "" {
		return nil
	}
	return ctxStr(tag, s)
}

// generalString is a universal GeneralString, what an untagged
// InternationalString is.
func generalString(s string) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagGeneralString, nil, "")
	p.Data.WriteString(s)
	return p
}

func visibleString(s string) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagVisibleString, nil, "")
	p.Data.WriteString(s)
	return p
}

func octetString(b []byte) *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, nil, "")
	p.Data.Write(b)
	return p
}

func oidPacket(class ber.Class, tag ber.Tag, o OID) (*ber.Packet, error) {
	b, err := encodeOIDContent(o)
	if err != nil {
		return nil, err
	}
	p := ber.Encode(class, ber.TypePrimitive, tag, nil, "")
	p.Data.Write(b)
	return p, nil
}

// mustOID encodes an OID known to be valid (the package's constants and
// OIDs decoded from the wire, which decodeOIDContent only returns valid).
func mustOID(class ber.Class, tag ber.Tag, o OID) *ber.Packet {
	p, err := oidPacket(class, tag, o)
	if err != nil {
		panic(err)
	}
	return p
}

func uniOID(o OID) *ber.Packet { return mustOID(ber.ClassUniversal, ber.TagObjectIdentifier, o) }

func ctxOID(tag int, o OID) *ber.Packet { return mustOID(ber.ClassContext, ctx(tag), o) }

// bitString encodes bits (bit i of v is BIT STRING bit i) in n bits.
func ctxBits(tag int, v uint64, n int) *ber.Packet {
	nbytes := (n + 7) / 8
	b := make([]byte, 1+nbytes)
	b[0] = byte(nbytes*8 - n)
	for i := 0; i < n; i++ {
		if v&(1<<uint(i)) != 0 {
			b[1+i/8] |= 0x80 >> uint(i%8)
		}
	}
	return ctxBytes(tag, b)
}

// ------------------------------------------------------------ decoding

// is reports whether p has the given class and tag.
func is(p *ber.Packet, class ber.Class, tag int) bool {
	return p != nil && p.ClassType == class && p.Tag == ber.Tag(tag)
}

func isCtx(p *ber.Packet, tag int) bool { return is(p, ber.ClassContext, tag) }

func isUni(p *ber.Packet, tag ber.Tag) bool { return is(p, ber.ClassUniversal, int(tag)) }

// describe names a packet's tag for error messages.
func describe(p *ber.Packet) string {
	if p == nil {
		return "nothing"
	}
	class := map[ber.Class]string{ber.ClassUniversal: "UNIVERSAL", ber.ClassApplication: "APPLICATION",
		ber.ClassContext: "", ber.ClassPrivate: "PRIVATE"}[p.ClassType]
	if class != "" {
		class += " "
	}
	return fmt.Sprintf("[%s%d]", class, p.Tag)
}

// content returns a primitive value's contents; constructed encodings of a
// string type (allowed by BER) are concatenated.
func content(p *ber.Packet) ([]byte, error) {
	if p.TagType == ber.TypePrimitive {
		return p.Data.Bytes(), nil
	}
	var out []byte
	for _, c := range p.Children {
		if !isUni(c, ber.TagOctetString) && !isUni(c, ber.TagGeneralString) && !isUni(c, ber.TagVisibleString) {
			return nil, fmt.Errorf("%s: constructed string holds %s", describe(p), describe(c))
		}
		b, err := content(c)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

func getInt(p *ber.Packet) (int, error) {
	if p.TagType != ber.TypePrimitive {
		return 0, fmt.Errorf("%s: INTEGER is constructed", describe(p))
	}
	b := p.Data.Bytes()
	if len(b) == 0 {
		return 0, fmt.Errorf("%s: empty INTEGER", describe(p))
	}
	v, err := ber.ParseInt64(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", describe(p), err)
	}
	if v > 1<<31-1 || v < -(1<<31) {
		return 0, fmt.Errorf("%s: INTEGER %d out of range", describe(p), v)
	}
	return int(v), nil
}

func getBool(p *ber.Packet) (bool, error) {
	b := p.Data.Bytes()
	if p.TagType != ber.TypePrimitive || len(b) != 1 {
		return false, fmt.Errorf("%s: bad BOOLEAN", describe(p))
	}
	return b[0] != 0, nil
}

func getStr(p *ber.Packet) (string, error) {
	b, err := content(p)
	return string(b), err
}

func getOID(p *ber.Packet) (OID, error) {
	if p.TagType != ber.TypePrimitive {
		return nil, fmt.Errorf("%s: OBJECT IDENTIFIER is constructed", describe(p))
	}
	o, err := decodeOIDContent(p.Data.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", describe(p), err)
	}
	return o, nil
}

// getBits decodes a BIT STRING into a bit mask (bits beyond 63 are
// dropped: no Z39.50 bit string the package reads goes that far).
func getBits(p *ber.Packet) (uint64, error) {
	b, err := content(p)
	if err != nil {
		return 0, err
	}
	if len(b) == 0 || b[0] > 7 {
		return 0, fmt.Errorf("%s: bad BIT STRING", describe(p))
	}
	var v uint64
	for i, c := range b[1:] {
		for j := 0; j < 8; j++ {
			bit := i*8 + j
			if bit < 64 && c&(0x80>>uint(j)) != 0 {
				v |= 1 << uint(bit)
			}
		}
	}
	return v, nil
}

// fields walks the children of a SEQUENCE: each handler is tried in
// order; unknown children are an error, missing required ones too.
type fieldReader struct {
	what string
	kids []*ber.Packet
	i    int
	err  error
}

func newFields(what string, p *ber.Packet) *fieldReader {
	r := &fieldReader{what: what}
	if p.TagType != ber.TypeConstructed {
		r.err = fmt.Errorf("%s: %s is not constructed", what, describe(p))
		return r
	}
	r.kids = p.Children
	return r
}

func (r *fieldReader) fail(err error) {
	if r.err == nil && err != nil {
		r.err = fmt.Errorf("%s: %w", r.what, err)
	}
}

// peek returns the next child without taking it.
func (r *fieldReader) peek() *ber.Packet {
	if r.err != nil || r.i >= len(r.kids) {
		return nil
	}
	return r.kids[r.i]
}

// take returns the next child if it has the context tag.
func (r *fieldReader) take(tag int) *ber.Packet {
	if p := r.peek(); isCtx(p, tag) {
		r.i++
		return p
	}
	return nil
}

func (r *fieldReader) takeUni(tag ber.Tag) *ber.Packet {
	if p := r.peek(); isUni(p, tag) {
		r.i++
		return p
	}
	return nil
}

func (r *fieldReader) need(tag int, name string) *ber.Packet {
	p := r.take(tag)
	if p == nil && r.err == nil {
		r.err = fmt.Errorf("%s: missing %s [%d], found %s", r.what, name, tag, describe(r.peek()))
	}
	return p
}

func (r *fieldReader) int(tag int, name string) int {
	p := r.need(tag, name)
	if p == nil {
		return 0
	}
	v, err := getInt(p)
	r.fail(err)
	return v
}

func (r *fieldReader) optInt(tag int) (int, bool) {
	p := r.take(tag)
	if p == nil {
		return 0, false
	}
	v, err := getInt(p)
	r.fail(err)
	return v, err == nil
}

func (r *fieldReader) bool(tag int, name string) bool {
	p := r.need(tag, name)
	if p == nil {
		return false
	}
	v, err := getBool(p)
	r.fail(err)
	return v
}

func (r *fieldReader) optBool(tag int) (bool, bool) {
	p := r.take(tag)
	if p == nil {
		return false, false
	}
	v, err := getBool(p)
	r.fail(err)
	return v, err == nil
}

func (r *fieldReader) str(tag int) string {
	p := r.take(tag)
	if p == nil {
		return ""
	}
	v, err := getStr(p)
	r.fail(err)
	return v
}

// reqStr reads a required string.
func (r *fieldReader) reqStr(tag int, name string) string {
	p := r.need(tag, name)
	if p == nil {
		return ""
	}
	v, err := getStr(p)
	r.fail(err)
	return v
}

func (r *fieldReader) oid(tag int) OID {
	p := r.take(tag)
	if p == nil {
		return nil
	}
	v, err := getOID(p)
	r.fail(err)
	return v
}

// done reports the first error, or children left unread.
func (r *fieldReader) done() error {
	if r.err == nil && r.i < len(r.kids) {
		r.err = fmt.Errorf("%s: unexpected %s", r.what, describe(r.kids[r.i]))
	}
	return r.err
}

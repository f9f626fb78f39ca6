package marc

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// MARC-8 is the character set of MARC 21 records whose leader/09 is blank:
// an ISO 2022 style code in which escape sequences designate a 94-character
// set as G0 (bytes 0x21-0x7E) or G1 (bytes 0xA1-0xFE). At the start of every
// field G0 is Basic Latin (ASCII) and G1 is Extended Latin (ANSEL). The
// mapping tables are in marc8_tables.go, generated from the Library of
// Congress code tables.
//
// Two properties shape the decoder. Combining diacritics come before the
// letter they modify (Unicode puts them after), so marks are held until their
// base arrives. And EACC (CJK) characters are three bytes long.
//
// References: https://www.loc.gov/marc/specifications/speccharmarc8.html
// and yaz-iconv, whose output the tests compare against. Deliberate
// differences from yaz: ANSEL designated as G0 is decoded by its 7-bit
// positions (yaz applies G1 offsets and gets it wrong); C0 control
// characters are kept (yaz drops them); undecodable bytes become U+FFFD with
// a warning and dangling diacritics are dropped with a warning (yaz drops
// both silently).

// marc8Char is one position of a 94-character set.
type marc8Char struct {
	r    rune // 0: unassigned; marc8Drop: assigned but has no Unicode form
	comb bool // combining mark, written before its base character
}

// marc8Drop marks the second halves of the double diacritics (ligature and
// double tilde, 0xEC and 0xFB): LoC maps the first half to the single
// Unicode mark spanning both letters and the second half to nothing.
const marc8Drop rune = -1

// marc8Set is a 94-character graphic set indexed by its 7-bit position
// (a G1 byte minus 0x80).
type marc8Set struct {
	name  string
	chars [128]marc8Char
}

// marc8Designation is what an escape sequence put into G0 or G1.
type marc8Designation struct {
	set   *marc8Set // nil for EACC and for unknown sets
	eacc  bool
	final byte // the escape's final byte, for messages
}

// marc8SingleByteSet returns the set a designation's final byte names, or
// nil. Finals follow the LoC specification; 's' is technique 1's return to
// ASCII.
func marc8SingleByteSet(final byte) *marc8Set {
	switch final {
	case 'B', 's':
		return &marc8BasicLatin
	case 'E':
		return &marc8ANSEL
	case 'g':
		return &marc8GreekSymbols
	case 'b':
		return &marc8Subscripts
	case 'p':
		return &marc8Superscripts
	case '2':
		return &marc8BasicHebrew
	case 'N':
		return &marc8BasicCyrillic
	case 'Q':
		return &marc8ExtendedCyrillic
	case '3':
		return &marc8BasicArabic
	case '4':
		return &marc8ExtendedArabic
	case 'S':
		return &marc8BasicGreek
	}
	return nil
}

func marc8Designate(final byte) (marc8Designation, bool) {
	if final == '1' {
		return marc8Designation{eacc: true, final: final}, true
	}
	s := marc8SingleByteSet(final)
	return marc8Designation{set: s, final: final}, s != nil
}

// lookupEACC returns the Unicode character for a 24-bit EACC code.
func lookupEACC(code uint32) (rune, bool) {
	key := uint64(code) << 32
	i := sort.Search(len(marc8EACC), func(i int) bool { return marc8EACC[i] >= key })
	if i < len(marc8EACC) && marc8EACC[i]>>32 == uint64(code) {
		return rune(uint32(marc8EACC[i])), true
	}
	return 0, false
}

// maxMARC8Warnings caps the messages for one field; a field of garbage would
// otherwise yield one per byte.
const maxMARC8Warnings = 10

type marc8Decoder struct {
	g0, g1     marc8Designation
	out        []rune
	pending    []rune // combining marks waiting for their base
	pendingAt  int    // offset of the first pending mark
	nPending   int    // pending marks including dropped second halves
	warn       []string
	suppressed int
	quiet      bool // count problems without describing them (detection's scoring)
}

func (d *marc8Decoder) warnf(format string, args ...any) {
	if d.quiet || len(d.warn) >= maxMARC8Warnings {
		d.suppressed++
		return
	}
	d.warn = append(d.warn, "MARC-8: "+fmt.Sprintf(format, args...))
}

// emit writes a base character followed by the marks that preceded it.
func (d *marc8Decoder) emit(r rune) {
	d.out = append(d.out, r)
	d.out = append(d.out, d.pending...)
	d.pending = d.pending[:0]
	d.nPending = 0
}

func (d *marc8Decoder) mark(r rune, at int) {
	if d.nPending == 0 {
		d.pendingAt = at
	}
	d.nPending++
	if r != marc8Drop {
		d.pending = append(d.pending, r)
	}
}

// bad replaces n bytes at offset at with U+FFFD.
func (d *marc8Decoder) bad(at int, format string, args ...any) {
	d.warnf(format+" at byte %d; replaced with U+FFFD", append(args, at)...)
	d.emit(utf8.RuneError)
}

// decode appends the runes of MARC-8 bytes b to out and reports whether
// there was nothing to report; warn, unless nil, receives the problems.
func (d *marc8Decoder) decode(out []rune, b []byte, warn *[]string) ([]rune, bool) {
	*d = marc8Decoder{
		quiet:   warn == nil,
		g0:      marc8Designation{set: &marc8BasicLatin, final: 'B'},
		g1:      marc8Designation{set: &marc8ANSEL, final: 'E'},
		out:     out,
		pending: d.pending[:0],
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == 0x1B:
			i += d.escape(b, i)
			continue
		case c == ' ':
			d.emit(' ')
			i++
			continue
		case c < 0x20 || c == 0x7F:
			// Kept, as for every other charset (and as the ASCII fast path
			// in convertText must): not MARC-8's business to scrub.
			d.emit(rune(c))
			i++
			continue
		case c >= 0x80 && c < 0xA0:
			i++
			if r, ok := marc8Control(c); ok {
				d.emit(r)
			} else {
				d.bad(i-1, "byte 0x%02X is not a MARC-8 character", c)
			}
			continue
		case c == 0xA0 || c == 0xFF:
			d.bad(i, "byte 0x%02X is not a MARC-8 character", c)
			i++
			continue
		}
		g := &d.g0
		if c >= 0x80 {
			g = &d.g1
		}
		if g.eacc {
			i += d.eacc(b, i)
			continue
		}
		i++
		if g.set == nil {
			// The escape that designated this set was already reported.
			d.emit(utf8.RuneError)
			continue
		}
		ch := g.set.chars[c&0x7F]
		switch {
		case ch.r == 0:
			d.bad(i-1, "byte 0x%02X is not assigned in %s", c, g.set.name)
		case ch.comb:
			d.mark(ch.r, i-1)
		default:
			d.emit(ch.r)
		}
	}
	if d.nPending > 0 {
		d.warnf("%d combining mark(s) from byte %d have no base character; dropped", d.nPending, d.pendingAt)
	}
	ok := d.suppressed == 0 && len(d.warn) == 0
	if d.suppressed > 0 && !d.quiet {
		d.warn = append(d.warn, fmt.Sprintf("MARC-8: %d more problems not listed", d.suppressed))
	}
	if warn != nil {
		*warn = append(*warn, d.warn...)
	}
	return d.out, ok
}

func marc8Control(c byte) (rune, bool) {
	for _, e := range marc8C1 {
		if e.b == c {
			return e.r, true
		}
	}
	return 0, false
}

// eacc decodes one three-byte EACC character at b[i] and returns the bytes
// used.
func (d *marc8Decoder) eacc(b []byte, i int) int {
	hi := b[i] & 0x80
	n := 1
	for n < 3 && i+n < len(b) && b[i+n]&0x80 == hi && b[i+n]&0x7F >= 0x20 && b[i+n]&0x7F < 0x7F {
		n++
	}
	if n < 3 {
		d.bad(i, "incomplete EACC character (%d of 3 bytes)", n)
		return n
	}
	code := uint32(b[i]&0x7F)<<16 | uint32(b[i+1]&0x7F)<<8 | uint32(b[i+2]&0x7F)
	if r, ok := lookupEACC(code); ok {
		d.emit(r)
	} else {
		d.bad(i, "EACC code %06X is not assigned", code)
	}
	return 3
}

// escape interprets the escape sequence at b[i] (b[i] == ESC) and returns
// its length. Accepted forms, after the LoC specification and yaz:
//
//	ESC g | b | p | s            technique 1: Greek symbols, subscripts,
//	                             superscripts into G0; s restores ASCII
//	ESC [$] ( | , [!] F          designate F as G0 ($: multibyte)
//	ESC [$] ) | - [!] F          designate F as G1
//	ESC $ F                      designate multibyte F as G0
func (d *marc8Decoder) escape(b []byte, i int) int {
	j := i + 1
	if j >= len(b) {
		d.warnf("escape at byte %d ends the field; ignored", i)
		return 1
	}
	switch b[j] {
	case 'g', 'b', 'p', 's':
		d.g0, _ = marc8Designate(b[j])
		return 2
	}
	// Generic ISO 2022 shape: intermediates 0x20-0x2F, then a final byte
	// 0x30-0x7E.
	for j < len(b) && b[j] >= 0x20 && b[j] <= 0x2F {
		j++
	}
	if j >= len(b) || b[j] < 0x30 || b[j] > 0x7E {
		d.warnf("malformed escape sequence % X at byte %d; ignored", b[i:min(j+1, len(b))], i)
		return j - i
	}
	inter, final := b[i+1:j], b[j]
	n := j + 1 - i
	if len(inter) > 0 && inter[0] == '$' {
		inter = inter[1:]
	}
	if len(inter) == 0 {
		if b[i+1] != '$' {
			d.warnf("unknown escape sequence % X at byte %d; ignored", b[i:i+n], i)
			return n
		}
		inter = []byte{'('} // ESC $ F designates G0
	}
	target := &d.g0
	switch inter[0] {
	case '(', ',':
	case ')', '-':
		target = &d.g1
	default:
		d.warnf("unknown escape sequence % X at byte %d; ignored", b[i:i+n], i)
		return n
	}
	if rest := inter[1:]; len(rest) > 1 || (len(rest) == 1 && rest[0] != '!') {
		d.warnf("unknown escape sequence % X at byte %d; ignored", b[i:i+n], i)
		return n
	}
	des, ok := marc8Designate(final)
	if !ok {
		d.warnf("escape sequence % X at byte %d designates unknown character set %q; its characters become U+FFFD", b[i:i+n], i, final)
	}
	*target = des
	return n
}

package marc

import (
	"unicode/utf8"

	"github.com/unicat/unicat/vnortho"
)

// Encoding detection. Vietnamese exports arrive in UTF-8 (NFC or NFD),
// MARC-8, Windows-1258, TCVN3, VNI and UTF-8 encoded twice, and their
// labels (leader/09, the source's charset setting) are often wrong. With
// no charset configured, a reader therefore decides per record, and per
// field where a record mixes encodings, how to read the text:
//
//   - a field of ASCII only needs no decision;
//   - a field that is valid UTF-8 and holds a character no single-byte
//     code page has (ễ, ộ, a combining mark) is UTF-8: no other encoding
//     produces such bytes;
//   - any other field is read every way that applies (UTF-8, MARC-8,
//     Windows-1258, TCVN3, VNI, and, when it is valid UTF-8 made only of
//     single-byte code page characters, as UTF-8 encoded twice and as
//     TCVN3, VNI or Windows-1258 bytes once misread through such a code
//     page) and each reading is scored by package vnortho.
//
// The record's label gives the reading kept unless another is clearly
// better (vnortho.Prefer: it reads as Vietnamese and has less junk and
// fewer ill-formed words; text that came as valid UTF-8 with no junk in
// it wants three syllables, prefers), first over the whole record, then
// field by field against the record's choice. When nothing reads as
// Vietnamese but the label's reading holds bytes that are invalid in it,
// a reading without junk (UTF-8, MARC-8, then Windows-1258) is taken
// instead (vnortho.Rescue). So English, French or German text, whose
// words are no Vietnamese syllables, keeps the reading its label gives.
//
// What that costs is kept to a few readings a record beyond the one the
// record keeps: the first fields (sampleFields) decide for the rest, a
// reading that cannot win is dropped at the first field where it goes
// wrong (decideSample, detect_sample.go), and the reader takes the text
// of the reading chosen from the detector instead of decoding it again
// (detect_texts.go). Each shortcut decides as the rule above does;
// detect_ref_test.go keeps the rule as first written to hold them to it.

// reading is one way to turn a field's bytes into text.
type reading struct {
	cs Charset
	// via: the bytes are UTF-8 text that went through a single-byte code
	// page once (a document declared Windows-1252, a harvester repaired
	// bad bytes as Windows-1258); they are encoded back first.
	via bool
}

// The encodings a record is tried in, in the order ties are broken.
var detectEncodings = [...]Charset{CharsetUTF8, CharsetMARC8, CharsetWindows1258, CharsetTCVN3, CharsetVNI, CharsetDoubleUTF8}

const numEncodings = len(detectEncodings)

// viaApplies reports the encodings that may also arrive misread through
// a single-byte code page.
func viaApplies(cs Charset) bool {
	return cs == CharsetWindows1258 || cs == CharsetTCVN3 || cs == CharsetVNI
}

// rescueOrder is the order vnortho.Rescue tries readings in.
var rescueOrder = [...]int{0, 1, 2} // UTF-8, MARC-8, Windows-1258

func encodingIndex(cs Charset) int {
	for i, c := range detectEncodings {
		if c == cs {
			return i
		}
	}
	return 0
}

// fieldEvidence is how every encoding reads one field.
type fieldEvidence struct {
	field  int // index in the record
	kind   fieldKind
	scores [numEncodings]vnortho.Score
	via    [numEncodings]bool // the better reading of the encoding goes through legacy bytes
	known  uint8              // the encodings scored, by bit
}

// detector decides the readings of one record's fields. A reader keeps
// one and reuses its buffers.
type detector struct {
	parts  [][]byte // the text pieces of every field, in order
	starts []int    // field i's pieces are parts[starts[i]:starts[i+1]]
	ev     []fieldEvidence
	out    []reading
	kinds  []fieldKind
	label  Charset
	dec    textDecoder
	read   readTexts
	last   [kindBytes + 1]int8 // per kind, 1 + the encoding the last record's sample was read in
}

func (d *detector) reset() {
	d.parts, d.starts, d.ev = d.parts[:0], d.starts[:0], d.ev[:0]
	d.read.reset()
}

// addField starts a field; addPart adds a piece of its text (a subfield
// value or a control field's value) found at offset at of the record.
func (d *detector) addField() { d.starts = append(d.starts, len(d.parts)) }

func (d *detector) addPart(b []byte, at int) {
	d.parts = append(d.parts, b)
	d.read.addPart(at, len(b))
}

func (d *detector) field(i int) [][]byte {
	end := len(d.parts)
	if i+1 < len(d.starts) {
		end = d.starts[i+1]
	}
	return d.parts[d.starts[i]:end]
}

// fieldKind says what a field's bytes allow.
type fieldKind uint8

const (
	kindASCII   fieldKind = iota // nothing to decide
	kindUnicode                  // valid UTF-8 with characters no single-byte code page has
	kindLegacy                   // valid UTF-8 made of single-byte code page characters
	kindBytes                    // not valid UTF-8
)

func classify(parts [][]byte) fieldKind {
	k, unicode := kindASCII, false
	for _, p := range parts {
		if !isPlainASCII(p) {
			pk := classifyPart(p)
			k, unicode = max(k, pk), unicode || pk == kindUnicode
		}
	}
	// One part with characters no code page has makes the field UTF-8,
	// unless another is not UTF-8 at all.
	if unicode && k != kindBytes {
		return kindUnicode
	}
	return k
}

func classifyPart(p []byte) fieldKind {
	if !utf8.Valid(p) {
		return kindBytes
	}
	return classifyUTF8(p)
}

// classifyUTF8 is classifyPart of valid UTF-8.
func classifyUTF8(p []byte) fieldKind {
	vietnamese := true // every character beyond ASCII a Vietnamese letter
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			if c < 0x18 && tcvn3Low[c] != 0 {
				return kindBytes // VN1 capitals: valid UTF-8, but not text
			}
			i++
			continue
		}
		r, n := decodeRune(p[i:])
		if _, ok := singleByteOf(r); !ok {
			return kindUnicode
		}
		vietnamese = vietnamese && vnortho.Letter(r)
		i += n
	}
	// Vietnamese written right can be made of such characters alone (Tô
	// Hoài, Lê Văn); text of Vietnamese letters in well-formed syllables
	// and nothing else is no mojibake, whose Vietnamese comes out as µ,
	// ¸, ä, Ã or »‡.
	if vietnamese {
		if sc := vnortho.MeasureBytes(p); sc.Vietnamese > 0 && sc.Foreign == 0 && sc.Junk == 0 {
			return kindUnicode
		}
	}
	return kindLegacy
}

// sampleFields is how many fields of a group are read every way before
// the group's encoding is chosen; the fields after them are read only in
// that encoding, and every way only if that reading is not clean. A
// record's first few fields with text beyond ASCII (author, title,
// imprint) hold words enough to tell the encodings apart; reading every
// field every way would cost a legacy record several times its import.
const sampleFields = 3

// decide returns the reading of every field added. label is what the
// record says it is.
func (d *detector) decide(label Charset) []reading {
	d.label = label
	n := len(d.starts)
	d.out = d.out[:0]
	d.kinds = d.kinds[:0]
	for i := 0; i < n; i++ {
		d.out = append(d.out, reading{cs: label})
		k := classify(d.field(i))
		if k == kindUnicode {
			d.out[i].cs = CharsetUTF8
		}
		d.kinds = append(d.kinds, k)
	}
	// Fields that are valid UTF-8 and fields that are not are weighed
	// apart: text misread through a code page once and raw legacy bytes
	// are different accidents, and a record may have one of each.
	base := encodingIndex(label)
	for _, k := range []fieldKind{kindLegacy, kindBytes} {
		sample := len(d.ev)
		rest := -1 // the first field after the sample
		for i := 0; i < n; i++ {
			if d.kinds[i] != k {
				continue
			}
			if len(d.ev)-sample == sampleFields {
				rest = i
				break
			}
			d.ev = append(d.ev, fieldEvidence{field: i, kind: k})
		}
		if len(d.ev) == sample {
			continue
		}
		rec := d.decideSample(d.ev[sample:], base)
		for i := rest; i >= 0 && i < n; i++ {
			if d.kinds[i] != k {
				continue
			}
			if rd, ok := d.clean(i, rec, k); ok {
				d.out[i] = rd
				continue
			}
			ev := d.measure(i, k)
			e := choose(&ev.scores, rec, k)
			d.out[i] = reading{cs: detectEncodings[e], via: ev.via[e]}
		}
	}
	return d.out
}

// clean reads field i in encoding e alone and reports that reading when
// it leaves nothing to weigh: no junk, and no word that is no Vietnamese
// syllable unless e is the label's (text kept as it came may be in any
// language).
func (d *detector) clean(i, e int, k fieldKind) (reading, bool) {
	ev := d.measure1(i, e, k)
	rd, sc := reading{cs: detectEncodings[e], via: ev.via[e]}, ev.scores[e]
	if sc.Junk > 0 || sc.Foreign > 0 && e != encodingIndex(d.label) {
		return rd, false
	}
	return rd, true
}

// choose returns the encoding that replaces base, or base, for fields
// of kind k.
func choose(s *[numEncodings]vnortho.Score, base int, k fieldKind) int {
	best := base
	for e := range s {
		if e != base && prefers(s[e], s[base], k, base) && (best == base || vnortho.Less(s[e], s[best])) {
			best = e
		}
	}
	if best != base {
		return best
	}
	for _, e := range rescueOrder {
		if e != base && vnortho.Rescue(s[e], s[base]) && (best == base || vnortho.Less(s[e], s[best])) {
			best = e
		}
	}
	return best
}

// prefers reports whether a reading scored c replaces the reading in
// encoding b, scored base, of fields of kind k: vnortho.Prefer, except
// that text that came as valid UTF-8 and reads as itself with nothing
// wrong but words that are no Vietnamese syllables (no junk) keeps that
// reading unless c holds minSyllablesOverText syllables or more.
//
// Such text is most likely right: Swedish "Ung på ö" reads "Ung pồ ử"
// through TCVN3, two syllables, and so does a Chinese name in 100 and
// 245$c (Yü, Ỹ: 744 records of the bench corpus, from a real one). It
// is also what unicat writes, weighed again by whoever reads it (a
// unicat one level up harvesting this one): a short field of Latin-1
// letters read from VNI bytes ("00ä") read back as a syllable ("00ọ").
// Vietnamese text that went through a code page shows junk nearly always
// (Truyá»‡n, Hµ Néi), and keeps the rule as it was. The price: a record
// whose weighed fields are UTF-8 encoded twice and hold two syllables and
// no junk between them alone (LÃª VÄƒn) is no longer repaired; with its
// title beside it, it is.
func prefers(c, base vnortho.Score, k fieldKind, b int) bool {
	if !vnortho.Prefer(c, base) {
		return false
	}
	asItIs := k == kindLegacy && detectEncodings[b] == CharsetUTF8 // valid UTF-8 read as UTF-8
	return !asItIs || base.Junk > 0 || c.Vietnamese >= minSyllablesOverText
}

// minSyllablesOverText: see prefers.
const minSyllablesOverText = 3

// unfit scores a reading that does not apply to a field: it never
// replaces one that does (see vnortho.Prefer and Rescue).
var unfit = vnortho.Score{Junk: 1 << 20, Invalid: 1 << 20}

// measure reads field i every way that applies and scores each reading.
// Text that is valid UTF-8 (kindLegacy) is read as it is, as UTF-8
// encoded twice, and as TCVN3, VNI or Windows-1258 bytes once misread
// through a single-byte code page; its bytes are not read as raw legacy
// bytes, which are almost never valid UTF-8, except in the label's
// encoding, the reading to beat. Other text (kindBytes) is read as raw
// bytes in every encoding.
func (d *detector) measure(i int, k fieldKind) fieldEvidence {
	ev := fieldEvidence{field: i, kind: k}
	for e := range detectEncodings {
		d.fill(&ev, e)
	}
	return ev
}

// fill scores encoding e in ev, unless it is known.
func (d *detector) fill(ev *fieldEvidence, e int) {
	if ev.known&(1<<e) != 0 {
		return
	}
	ev.known |= 1 << e
	ev.scores[e], ev.via[e] = d.encodingScore(ev.field, ev.kind, e)
}

// encodingScore is how field i, of kind k, reads in encoding e (see
// measure), and whether that reading goes through legacy bytes.
func (d *detector) encodingScore(i int, k fieldKind, e int) (sc vnortho.Score, via bool) {
	cs := detectEncodings[e]
	sc = unfit
	switch {
	case e == 0, e == encodingIndex(d.label):
		sc = d.scoreReading(reading{cs: cs}, i)
	case k == kindBytes && cs == CharsetMARC8 && !marc8Plausible(d.field(i)):
		// Bytes ANSEL leaves undefined: the reading would hold
		// replacement characters and lose to any other.
	case k == kindBytes && cs != CharsetDoubleUTF8:
		sc = d.scoreReading(reading{cs: cs}, i)
	}
	if k != kindLegacy {
		return sc, false
	}
	switch {
	case cs == CharsetDoubleUTF8:
		sc = d.scoreReading(reading{cs: cs}, i)
	case viaApplies(cs):
		if v := d.scoreReading(reading{cs: cs, via: true}, i); vnortho.Less(v, sc) {
			return v, true
		}
	}
	return sc, false
}

// marc8Plausible reports whether the parts hold no byte that MARC-8
// leaves undefined in its default sets (ASCII and ANSEL), nor an escape
// to another set, after which anything may follow.
func marc8Plausible(parts [][]byte) bool {
	for _, p := range parts {
		for _, c := range p {
			if c == 0x1B {
				return true
			}
			if c >= 0x80 && marc8ANSEL.chars[c&0x7F].r == 0 {
				return false
			}
		}
	}
	return true
}

// measure1 is measure for encoding e alone.
func (d *detector) measure1(i, e int, k fieldKind) fieldEvidence {
	ev := fieldEvidence{field: i, kind: k}
	cs := detectEncodings[e]
	ev.scores[e] = unfit
	if k == kindBytes && cs != CharsetDoubleUTF8 || e == 0 || e == encodingIndex(d.label) || k == kindLegacy && cs == CharsetDoubleUTF8 {
		ev.scores[e] = d.scoreReading(reading{cs: cs}, i)
	}
	if k == kindLegacy && viaApplies(cs) {
		if v := d.scoreReading(reading{cs: cs, via: true}, i); vnortho.Less(v, ev.scores[e]) {
			ev.scores[e], ev.via[e] = v, true
		}
	}
	return ev
}

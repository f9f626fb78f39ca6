package marc

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Building a Record from a parsed ISO 2709 record: its fields' text read
// in the record's charset (or the readings the detector chose), its
// indicators and leader repaired where they are malformed.

// build turns located fields into a Record, converting text to NFC UTF-8.
//
// A record that may hold text UTF-8 encoded twice (isoText.weigh) is read
// as it came while each part of its text is weighed (legacyPart); if one
// may be, it is read again, its fields' readings decided (weighFields).
// Weighing the parts as they are read, rather than in a walk of their own
// before, saves searching for every delimiter twice: 4 % of the CPU of
// reading the bench corpus, whose records nearly all are weighed.
func (p *isoParser) build(rec, leader []byte, ents []dirEntry, indCount, base, dataEnd int) (*Record, error) {
	tx := p.recordText(rec, ents, indCount, base, dataEnd)
	out := p.slab.record()
	out.Fields = p.slab.fieldArray(len(ents))
	out.Leader = p.leaderString(tx.s, leader)
	subs := p.slab.subfieldArray(bytes.Count(rec, []byte{subfieldDelim}))
	warns, moreWarns := len(p.warns), p.moreWarns
	used, seen, ok := p.fields(out, &tx, ents, indCount, subs)
	if !ok {
		// Read again in the same arrays, without the warnings of the
		// first reading.
		p.warns, p.moreWarns = p.warns[:warns], moreWarns
		tx.weighFields(ents, indCount)
		used, seen, _ = p.fields(out, &tx, ents, indCount, subs)
	}
	p.finishRecord(out, &tx, rec, used, seen)
	return out, nil
}

// fields reads the fields into out.Fields, their subfields appended to
// subs, and returns the charsets of the fields changed and of those beyond
// ASCII; ok is false when tx.weigh found a part that may be UTF-8 encoded
// twice, and the record must be read again.
//
// The loop over the fields and their subfields is kept in this function:
// it is the reader's innermost work, and the rare cases (stray text and
// delimiters, control fields) are the calls it makes.
func (p *isoParser) fields(out *Record, tx *isoText, ents []dirEntry, indCount int, subs []Subfield) (used, seen []Charset, ok bool) {
	rec, s, sh, fast, readings := tx.rec, tx.s, tx.sh, tx.fast, tx.readings
	weigh, high := tx.weigh, tx.high
	for i := range ents {
		e := &ents[i]
		f := &out.Fields[i]
		if readings != nil {
			tx.rd = readings[i]
			tx.fieldChanged = false
		}
		t := rec[e.tag : e.tag+3]
		tag := tagString(t)
		f.Tag = tag
		a, b := e.start, e.end
		if tag[0] == '0' && tag[1] == '0' && !(b-a > indCount && rec[a+indCount] == subfieldDelim) {
			if weigh && b > high && legacyField(rec[a:b]) {
				return nil, nil, false
			}
			setControl(f, p.controlValue(tx, tag, a, b))
			used, seen = tx.note(used, seen, e)
			continue
		}
		// Data field (or a Danish-style 00X field with subfields).
		clearValue(f)
		if indCount == 2 && b-a >= 3 && rec[a+2] == subfieldDelim && isPrint(rec[a]) && isPrint(rec[a+1]) {
			f.Ind1, f.Ind2 = rec[a], rec[a+1]
			a += 2
		} else {
			if weigh && b > high && legacyPart(rec[a:a+indexOrLen(rec[a:b], subfieldDelim)]) {
				return nil, nil, false
			}
			// The record's structure does not depend on how its text
			// reads: indicators are counted as the label says.
			a = p.indicators(f, rec, a, b, indCount, tx.label)
		}
		first := len(subs)
		if a < b && rec[a] != subfieldDelim {
			subs, a = p.textBeforeSubfields(tx, subs, tag, a, b)
		}
		for a < b {
			// rec[a] is a delimiter; the code follows, then the text.
			a++
			end := b
			if j := bytes.IndexByte(rec[a:b], subfieldDelim); j >= 0 {
				end = a + j
			}
			if weigh && end > high && end > a+1 && legacyPart(rec[a+1:end]) {
				return nil, nil, false
			}
			if end > a && rec[a] > 0x20 && rec[a] < 0x7F {
				var v string
				if fast {
					v = s[a+1-sh : end-sh]
				} else {
					v = tx.get(tag, a+1, end)
				}
				subs = append(subs, Subfield{Code: rec[a], Value: v})
			} else {
				subs = p.strayDelimiter(tx, subs, first, tag, a, end)
			}
			a = end
		}
		if len(subs) > first {
			f.Subfields = subs[first:len(subs):len(subs)]
		} else {
			setSubfields(f, nil)
		}
		used, seen = tx.note(used, seen, e)
	}
	return used, seen, true
}

// indexOrLen is the index of the first c in b, or len(b).
func indexOrLen(b []byte, c byte) int {
	if j := bytes.IndexByte(b, c); j >= 0 {
		return j
	}
	return len(b)
}

// recordText prepares the reading of a record's text: one string holds
// the leader and the data area (recordString; tags come from tagStrings,
// so the directory need not be kept), and unless the record needs no
// conversion (fast) the charset readings of its fields.
func (p *isoParser) recordText(rec []byte, ents []dirEntry, indCount, base, dataEnd int) isoText {
	s, sh := p.recordString(rec, base, dataEnd)
	label := recordCharset(p.opts.Charset, s[:LeaderLen])
	auto := p.opts.Charset == CharsetAuto
	tx := isoText{p: p, s: s, sh: sh, rec: rec, rd: reading{cs: label},
		label: label, auto: auto}
	// Fast path: the record needs no conversion, so every value is a slice
	// of one string holding the whole record. Plain ASCII needs none
	// whatever the label; UTF-8 in NFC none when labelled so, which plain
	// ASCII is too.
	if label == CharsetUTF8 {
		ok, high := checkUTF8NFC(&p.nfc, rec)
		tx.fast = ok
		// Without a charset setting, text made of single-byte code page
		// characters may be UTF-8 encoded twice: it is weighed.
		tx.weigh, tx.high = ok && auto && high < len(rec), high
	} else {
		tx.fast = isPlainASCII(rec)
	}
	if !tx.fast {
		tx.weighFields(ents, indCount)
	}
	return tx
}

// recordString returns one string holding the record's leader and data
// area, and sh such that rec[i] is s[i-sh] from base on. A parser that
// keeps its records' text together (keepsText) appends it to p.text,
// without an allocation of its own. (Appending past the capacity moves
// what follows to a new array; the strings made before keep the old one.)
func (p *isoParser) recordString(rec []byte, base, dataEnd int) (string, int) {
	if p.keepsText {
		start := len(p.text)
		p.text = append(append(p.text, rec[:LeaderLen]...), rec[base:dataEnd]...)
		t := p.text[start:]
		return unsafe.String(unsafe.SliceData(t), len(t)), base - LeaderLen
	}
	var sb strings.Builder
	sb.Grow(LeaderLen + dataEnd - base)
	sb.Write(rec[:LeaderLen])
	sb.Write(rec[base:dataEnd])
	return sb.String(), base - LeaderLen
}

// weighFields decides each field's reading (the detector's, without a
// charset setting); the record is then read field by field, not as it
// came.
func (t *isoText) weighFields(ents []dirEntry, indCount int) {
	p := t.p
	t.fast, t.weigh = false, false
	t.replaced, t.fieldChanged = 0, false
	t.readings = p.readings(t.rec, ents, indCount, t.label, t.auto)
	if t.auto && t.readings != nil {
		t.det = &p.det
	}
}

// controlValue returns the value of the control field rec[a:b]. A
// subfield delimiter in it becomes a blank, keeping the positions.
func (p *isoParser) controlValue(tx *isoText, tag string, a, b int) string {
	var v string
	if tx.fast {
		v = tx.s[a-tx.sh : b-tx.sh]
	} else {
		v = tx.get(tag, a, b)
	}
	if strings.IndexByte(v, subfieldDelim) >= 0 {
		v = strings.ReplaceAll(v, "\x1f", " ")
		p.warn(tag, "subfield delimiter in a control field replaced by a blank")
	}
	return v
}

// textBeforeSubfields keeps the text between a data field's indicators and
// its first delimiter (rec[a:b] starts with it) rather than lose it: as $a,
// where it most likely belongs. It returns where the subfields start.
func (p *isoParser) textBeforeSubfields(tx *isoText, subs []Subfield, tag string, a, b int) ([]Subfield, int) {
	j := bytes.IndexByte(tx.rec[a:b], subfieldDelim)
	if j < 0 {
		j = b - a
	}
	p.warn(tag, "text before the first subfield delimiter kept as $a")
	subs = append(subs, Subfield{Code: 'a', Value: tx.get(tag, a, a+j)})
	return subs, a + j
}

// strayDelimiter handles a delimiter (before rec[a]) that no subfield code
// follows, the field's subfields starting at subs[first]: an empty one is
// dropped, one inside text joins the text to the subfield before, one
// that starts the field makes its text $a.
func (p *isoParser) strayDelimiter(tx *isoText, subs []Subfield, first int, tag string, a, end int) []Subfield {
	rec := tx.rec
	switch {
	case end == a:
		p.warn(tag, "empty subfield delimiter dropped")
	case len(subs) > first:
		// Not a code: the delimiter is a stray one inside text.
		last := &subs[len(subs)-1]
		last.Value += tx.get(tag, a, end)
		p.warn(tag, fmt.Sprintf("subfield delimiter before %q dropped (not a subfield code)", rec[a]))
	default:
		subs = append(subs, Subfield{Code: 'a', Value: tx.get(tag, a, end)})
		p.warn(tag, fmt.Sprintf("subfield delimiter before %q is not followed by a code; text kept as $a", rec[a]))
	}
	return subs
}

// finishRecord sets the record's Origin when its text changed (with the
// bytes received, when they are to be kept) and sums up the warnings past
// the record's limit.
func (p *isoParser) finishRecord(out *Record, tx *isoText, rec []byte, used, seen []Charset) {
	if len(used) > 0 {
		out.Origin = originOf(tx.label, !tx.auto, used, seen, tx.replaced)
		if out.Origin.keepReceived() {
			out.Origin.Received = append([]byte(nil), rec...)
			out.Origin.ReceivedFormat = FormatISO2709
		}
	}
	if p.moreWarns > 0 {
		p.warns = append(p.warns, Warning{Msg: fmt.Sprintf("and %d more warnings", p.moreWarns)})
		p.moreWarns = 0
	}
}

// tagStrings holds the tags 000 to 999 back to back, so that numeric tags
// need no allocation of their own.
var tagStrings = func() string {
	b := make([]byte, 0, 3000)
	for i := 0; i < 1000; i++ {
		b = append(b, byte('0'+i/100), byte('0'+i/10%10), byte('0'+i%10))
	}
	return string(b)
}()

// tagString returns the tag t as a string, numeric tags from tagStrings.
func tagString(t []byte) string {
	if d0, d1, d2 := t[0]-'0', t[1]-'0', t[2]-'0'; d0 <= 9 && d1 <= 9 && d2 <= 9 {
		n := 3 * (int(d0)*100 + int(d1)*10 + int(d2))
		return tagStrings[n : n+3]
	}
	return string(t)
}

func isPrint(c byte) bool { return c >= 0x20 && c <= 0x7E }

// isoText converts field text of one record.
type isoText struct {
	p   *isoParser
	s   string // leader and data area
	sh  int    // rec[i] is s[i-sh]
	rec []byte
	rd  reading   // how the current field is read
	det *detector // what decided rd, when it did; it may have read the text already

	fieldChanged bool // the current field's text differs from its bytes
	replaced     int  // characters replaced with U+FFFD in the record

	label    Charset   // the record's charset, as its label or the setting says
	auto     bool      // no charset setting: the detector decides
	fast     bool      // the record needs no conversion: values are slices of s
	readings []reading // each field's reading, when not fast
	// weigh: the record is NFC UTF-8 with text beyond ASCII from high on,
	// and no charset setting; if a part of that text is made of single-
	// byte code page characters alone, it is read again, weighed.
	weigh bool
	high  int
}

// get returns rec[a:b] as NFC UTF-8, a slice of s when no conversion is
// needed.
func (t *isoText) get(tag string, a, b int) string {
	if isPlainASCII(t.rec[a:b]) {
		return t.s[a-t.sh : b-t.sh]
	}
	v, ok := "", false
	if t.det != nil {
		v, ok = t.det.taken(a, b-a, t.rd)
	}
	if !ok {
		var warns []string
		v, warns = t.p.det.dec.convert(t.rd, t.rec[a:b])
		for _, w := range warns {
			t.p.warn(tag, w)
		}
	}
	if v != string(t.rec[a:b]) {
		t.fieldChanged = true
		t.replaced += replacedIn(v, t.rec[a:b])
	}
	return v
}

// note records the field just built for the record's Origin. A record
// read as it came (fast) has none.
func (t *isoText) note(used, seen []Charset, e *dirEntry) ([]Charset, []Charset) {
	if t.fast {
		return used, seen
	}
	if !isPlainASCII(t.rec[e.start:e.end]) {
		seen = append(seen, t.rd.cs)
	}
	if t.fieldChanged {
		used = append(used, t.rd.cs)
		t.fieldChanged = false
	}
	return used, seen
}

// indicators reads the indicators of a field that is not the plain case of
// two printable ones followed by a delimiter, and returns where the
// subfields start.
func (p *isoParser) indicators(f *Field, rec []byte, a, b, indCount int, cs Charset) int {
	f.Ind1, f.Ind2 = ' ', ' '
	ni, a0 := 0, a
	for ni < indCount && a < b && rec[a] != subfieldDelim {
		n := 1
		if rec[a] >= utf8.RuneSelf && cs == CharsetUTF8 {
			_, n = utf8.DecodeRune(rec[a:b]) // yaz counts characters here
		}
		switch ni {
		case 0:
			f.Ind1 = p.indicator(f.Tag, rec[a:a+n])
		case 1:
			f.Ind2 = p.indicator(f.Tag, rec[a:a+n])
		default:
			p.warn(f.Tag, fmt.Sprintf("indicator %d (%q) dropped", ni+1, rec[a:a+n]))
		}
		a += n
		ni++
	}
	if ni < indCount && b > a0 {
		p.warn(f.Tag, fmt.Sprintf("%d indicators missing", indCount-ni))
	}
	return a
}

// indicator returns the indicator character b if it is printable ASCII,
// else a blank.
func (p *isoParser) indicator(tag string, b []byte) byte {
	if len(b) != 1 || b[0] < 0x20 || b[0] > 0x7E {
		p.warn(tag, fmt.Sprintf("indicator %q replaced by a blank", b))
		return ' '
	}
	return b[0]
}

// leaderString returns the leader with leader/09 = 'a' and anything that
// is not printable ASCII blanked.
func (p *isoParser) leaderString(s string, leader []byte) string {
	ok := leader[9] == 'a'
	for _, c := range leader {
		if c < 0x20 || c > 0x7E {
			ok = false
		}
	}
	if ok {
		return s[:LeaderLen]
	}
	var l [LeaderLen]byte
	copy(l[:], leader)
	for i, c := range l {
		if c < 0x20 || c > 0x7E {
			l[i] = ' '
			p.warn("", fmt.Sprintf("leader/%02d: byte 0x%02X replaced by a blank", i, c))
		}
	}
	l[9] = 'a'
	return string(l[:])
}

package marc

import (
	"errors"
	"fmt"

	"golang.org/x/text/unicode/norm"
)

// xmlRecBuilder collects one MARCXML record's content as its parser meets
// it. Every value, tag and the leader go into one byte slice so that the
// finished record needs a single string allocation for all its text.
type xmlRecBuilder struct {
	text   []byte
	leader span
	nlead  int // leader elements seen
	fields []xfield
	subs   []xsub
	high   bool // text holds bytes >= 0x80
	warns  []Warning
	err    error // first structural error
	nfc    norm.Iter
	cs     Charset // the charset setting; CharsetAuto detects
	det    detector

	// max bounds the record's size as ISO 2709 (no bound when 0). Past
	// it the record is over: still read to its end, counted in extra,
	// but its text is no longer kept, so that a record of any size costs
	// at most max bytes and one field.
	max   int
	extra int // ISO 2709 bytes not in text: directory, delimiters, content dropped
	over  bool
	// moreWarns counts the warnings past maxRecordWarnings.
	moreWarns int
	slab      recordSlab // what the records built are carved from, when not read ahead
}

// isoFieldOverhead is what a field adds to an ISO 2709 record beyond its
// tag (in text) and content: the rest of its directory entry (length and
// start) and its terminator.
const isoFieldOverhead = 4 + 5 + 1

// maxRecordWarnings bounds the warnings kept for one record; a record of
// ten thousand faults need not report each.
const maxRecordWarnings = 100

// size is the record's size as ISO 2709 so far: its content, directory
// and the terminators of the directory and the record.
func (b *xmlRecBuilder) size() int { return len(b.text) + b.extra + 2 }

// account adds n bytes the record takes in ISO 2709 beyond its text, and
// marks it over once it is past max.
func (b *xmlRecBuilder) account(n int) {
	b.extra += n
	if !b.over && b.max > 0 && b.size() > b.max {
		b.over = true
	}
}

// shed drops the content of a record that is over, keeping its size.
func (b *xmlRecBuilder) shed() {
	b.extra += len(b.text)
	b.text = b.text[:0]
	b.fields = b.fields[:0]
	b.subs = b.subs[:0]
}

// endWarnings closes the warnings of a record with how many were left
// out.
func (b *xmlRecBuilder) endWarnings() {
	if b.moreWarns > 0 {
		b.warns = append(b.warns, Warning{Msg: fmt.Sprintf("and %d more warnings", b.moreWarns)})
	}
}

type span struct{ a, b int }

type xfield struct {
	tag        span
	value      span // control fields
	ind1, ind2 byte
	sub0, sub1 int // subfields [sub0, sub1) in subs
	control    bool
}

type xsub struct {
	code byte
	val  span
}

func (b *xmlRecBuilder) reset() {
	b.text = b.text[:0]
	b.leader = span{}
	b.nlead = 0
	b.fields = b.fields[:0]
	b.subs = b.subs[:0]
	b.high = false
	b.warns = nil
	b.err = nil
	b.extra, b.over, b.moreWarns = 0, false, 0
}

func (b *xmlRecBuilder) warn(tag, msg string) {
	if len(b.warns) >= maxRecordWarnings {
		b.moreWarns++
		return
	}
	b.warns = append(b.warns, Warning{Tag: tag, Msg: msg})
}

// fail records the first structural error of the record.
func (b *xmlRecBuilder) fail(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf(format, args...)
	}
}

// mark returns the current end of the text, where a value starts.
func (b *xmlRecBuilder) mark() int { return len(b.text) }

// addTag validates a tag attribute and stores it; ok is false when the
// field cannot be kept.
func (b *xmlRecBuilder) addTag(elem string, tag []byte, present bool) (span, bool) {
	if !present {
		b.fail("<%s> without a tag attribute", elem)
		return span{}, false
	}
	if len(tag) != 3 || !printableASCII(tag) {
		b.fail("<%s> tag %q is not three characters", elem, tag)
		return span{}, false
	}
	a := len(b.text)
	b.text = append(b.text, tag...)
	return span{a, a + 3}, true
}

func printableASCII(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

// indicator turns an ind1/ind2 attribute into an indicator byte.
func (b *xmlRecBuilder) indicator(tag []byte, name string, v []byte, present bool) byte {
	switch {
	case !present:
		b.warn(string(tag), "missing "+name+"; blank assumed")
		return ' '
	case len(v) == 1 && v[0] >= 0x20 && v[0] <= 0x7E:
		return v[0]
	case len(v) == 0:
		return ' '
	}
	b.warn(string(tag), fmt.Sprintf("%s %q replaced by a blank", name, v))
	return ' '
}

// finish turns the collected content into a Record carved from slab.
func (b *xmlRecBuilder) finish(slab *recordSlab) (*Record, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.nlead == 0 {
		return nil, errors.New("record has no leader")
	}
	la := b.appendLeader()
	auto := b.cs == CharsetAuto || b.cs == CharsetLabel
	tx := xmlValues{b: b, auto: auto, fast: !b.high}
	if !tx.fast && isUTF8NFC(&b.nfc, b.text) {
		// Under a legacy charset setting the text's bytes are that
		// charset's; without one, fields made of single-byte code page
		// characters may be mojibake and are weighed.
		tx.fast = b.cs == CharsetUTF8 || b.cs == CharsetLabel || auto && !b.anyLegacy()
	}
	var readings []reading
	if !tx.fast {
		readings = b.readings(auto)
	}
	tx.s = string(b.text)
	s := tx.s
	var used, seen []Charset
	rec := slab.record()
	rec.Leader, rec.Fields = s[la:la+LeaderLen], slab.fieldArray(len(b.fields))
	var subs []Subfield
	if len(b.subs) > 0 {
		subs = slab.subfieldArray(len(b.subs))[:len(b.subs)]
	}
	for i := range b.fields {
		xf := &b.fields[i]
		f := &rec.Fields[i]
		f.Tag = s[xf.tag.a:xf.tag.b]
		if readings != nil {
			tx.rd, tx.changed = readings[i], false
		}
		// Every member is set: the field may be a lent one (recordSlab).
		if xf.control {
			setControl(f, tx.get(f.Tag, xf.value))
		} else {
			clearValue(f)
			f.Ind1, f.Ind2 = xf.ind1, xf.ind2
			if xf.sub1 > xf.sub0 {
				for j := xf.sub0; j < xf.sub1; j++ {
					subs[j] = Subfield{Code: b.subs[j].code, Value: tx.get(f.Tag, b.subs[j].val)}
				}
				f.Subfields = subs[xf.sub0:xf.sub1:xf.sub1]
			} else {
				setSubfields(f, nil)
			}
		}
		if readings != nil && b.fieldHigh(xf) {
			seen = append(seen, tx.rd.cs)
		}
		if tx.changed {
			used = append(used, tx.rd.cs)
		}
	}
	if len(used) > 0 {
		b.setOrigin(rec, auto, used, seen, tx.replaced)
	}
	return rec, nil
}

// appendLeader appends the record's (first) leader to the text, each byte
// that is not printable ASCII a blank and leader/09 'a', so that it is
// sliced from the same string as everything else. It returns where.
func (b *xmlRecBuilder) appendLeader() int {
	if b.nlead > 1 {
		b.warn("", "more than one leader; the first is used")
	}
	l := b.text[b.leader.a:b.leader.b]
	if len(l) != LeaderLen {
		b.warn("", fmt.Sprintf("leader is %d bytes, not %d: %q", len(l), LeaderLen, l))
	}
	la := len(b.text)
	for i := 0; i < LeaderLen; i++ {
		c := byte(' ')
		if i < len(l) {
			c = l[i]
		}
		if c < 0x20 || c > 0x7E {
			if i < len(l) {
				b.warn("", fmt.Sprintf("leader/%02d: byte 0x%02X replaced by a blank", i, c))
			}
			c = ' '
		}
		b.text = append(b.text, c)
	}
	b.text[la+9] = 'a'
	return la
}

// xmlValues converts the text of one MARCXML record, held in b.text and, as
// one string, in s.
type xmlValues struct {
	b        *xmlRecBuilder
	s        string
	auto     bool    // no charset setting: the detector decides
	fast     bool    // no conversion needed: values are slices of s
	rd       reading // how the current field is read
	changed  bool    // the current field's text differs from its bytes
	replaced int     // characters replaced with U+FFFD in the record
}

// get returns the text at sp as NFC UTF-8, a slice of s when no
// conversion is needed.
func (t *xmlValues) get(tag string, sp span) string {
	b := t.b
	if t.fast || isASCIIBytes(b.text[sp.a:sp.b]) {
		return t.s[sp.a:sp.b]
	}
	in := b.text[sp.a:sp.b]
	v, ok := "", false
	if t.auto {
		v, ok = b.det.taken(sp.a, sp.b-sp.a, t.rd)
	}
	if !ok {
		var warns []string
		v, warns = b.det.dec.convert(t.rd, in)
		for _, w := range warns {
			b.warn(tag, w)
		}
	}
	if v != string(in) {
		t.changed = true
		t.replaced += replacedIn(v, in)
	}
	return v
}

// setOrigin says how the record's text was received, the charsets of its
// changed fields (used) and of its non-ASCII ones (seen), and keeps the
// record as received when Origin asks for it.
func (b *xmlRecBuilder) setOrigin(rec *Record, auto bool, used, seen []Charset, replaced int) {
	label := b.cs
	if auto {
		label = CharsetUTF8
	}
	rec.Origin = originOf(label, !auto, used, seen, replaced)
	if rec.Origin.keepReceived() {
		rec.Origin.Received, rec.Origin.ReceivedFormat = b.frame(rec.Leader), FormatMARCXML
		if rec.Origin.Received == nil {
			b.warn("", "the record as received is too long for ISO 2709 and is not kept")
		}
	}
}

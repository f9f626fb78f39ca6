package marc

import "bytes"

// How the readers hand their fields to the detector (detect.go) and keep
// what they received: the ISO 2709 reader's fields are byte ranges of
// the record, the MARCXML builder's spans of its text.

// legacyField reports whether a field of a valid UTF-8 record has a part
// (its text before the first delimiter, and each subfield's after its
// code) that legacyPart finds.
func legacyField(f []byte) bool {
	for first := true; ; first = false {
		j := bytes.IndexByte(f, subfieldDelim)
		p := f
		if j >= 0 {
			p = f[:j]
		}
		if !first && len(p) > 0 {
			p = p[1:]
		}
		if legacyPart(p) {
			return true
		}
		if j < 0 {
			return false
		}
		f = f[j+1:]
	}
}

// legacyPart reports whether valid UTF-8 text holds characters beyond
// ASCII, all of them ones a single-byte code page has, that do not make
// Vietnamese words alone: such text may be UTF-8 encoded twice, or legacy
// bytes read through a code page, and is weighed.
//
// Most Vietnamese text has a character from U+1E00 to U+1EFF (ễ, ộ, ọ),
// which no such code page has: a lead byte 0xE1 rules a part out at once,
// sooner than classifyUTF8's walk from its start.
func legacyPart(p []byte) bool {
	return !isASCIIBytes(p) && bytes.IndexByte(p, 0xE1) < 0 && classifyUTF8(p) == kindLegacy
}

// readings decides how to read each field: as the charset setting says,
// or, without one, as the detector finds.
func (p *isoParser) readings(rec []byte, ents []dirEntry, indCount int, label Charset, auto bool) []reading {
	if !auto {
		out := make([]reading, len(ents))
		for i := range out {
			out[i] = reading{cs: label, via: p.xmlText && label != CharsetUTF8 && label != CharsetMARC8}
		}
		return out
	}
	d := &p.det
	d.reset()
	for i := range ents {
		d.addField()
		a, b := ents[i].start, ents[i].end
		if rec[ents[i].tag] == '0' && rec[ents[i].tag+1] == '0' && bytes.IndexByte(rec[a:b], subfieldDelim) < 0 {
			d.addPart(rec[a:b], a)
			continue
		}
		a = min(a+indCount, b)
		for len(rec[a:b]) > 0 {
			j := bytes.IndexByte(rec[a:b], subfieldDelim)
			if j < 0 {
				j = b - a
			}
			d.addPart(rec[a:a+j], a)
			a += j
			if a < b { // skip the delimiter and the code
				a = min(a+2, b)
			}
		}
	}
	return d.decide(label)
}

// fieldHigh reports whether a field's text holds bytes beyond ASCII.
func (b *xmlRecBuilder) fieldHigh(xf *xfield) bool {
	if xf.control {
		return !isASCIIBytes(b.text[xf.value.a:xf.value.b])
	}
	for j := xf.sub0; j < xf.sub1; j++ {
		if sp := b.subs[j].val; !isASCIIBytes(b.text[sp.a:sp.b]) {
			return true
		}
	}
	return false
}

// anyLegacy reports whether the detector would find a field of the
// record, valid UTF-8 text, kindLegacy (classify): one holding characters
// beyond ASCII, all of them ones a single-byte code page has.
//
// It is classify over each field's parts, without the detector's own
// copies of them, and stops at a field's first part of another kind:
// asking the detector was a tenth of a MARCXML read's CPU.
func (b *xmlRecBuilder) anyLegacy() bool {
	for i := range b.fields {
		xf := &b.fields[i]
		if xf.control {
			if kindOfValid(b.text[xf.value.a:xf.value.b]) == kindLegacy {
				return true
			}
			continue
		}
		legacy := false
		for j := xf.sub0; j < xf.sub1; j++ {
			sp := b.subs[j].val
			switch kindOfValid(b.text[sp.a:sp.b]) {
			case kindLegacy:
				legacy = true
				continue
			case kindASCII:
				continue
			}
			legacy = false // a part of another kind makes the field no legacy one
			break
		}
		if legacy {
			return true
		}
	}
	return false
}

// kindOfValid is classifyPart of a part of valid UTF-8 text, plain ASCII
// being kindASCII as classify has it, except that a part with a character
// from U+1000 to U+1FFF (most Vietnamese text, which no single-byte code
// page has) is kindUnicode at once, even where classifyUTF8 would find
// kindBytes: the two are alike to anyLegacy.
func kindOfValid(p []byte) fieldKind {
	switch {
	case isPlainASCII(p):
		return kindASCII
	case bytes.IndexByte(p, 0xE1) >= 0:
		return kindUnicode
	}
	return classifyUTF8(p)
}

func (b *xmlRecBuilder) addParts(xf *xfield) {
	if xf.control {
		b.det.addPart(b.text[xf.value.a:xf.value.b], xf.value.a)
		return
	}
	for j := xf.sub0; j < xf.sub1; j++ {
		sp := b.subs[j].val
		b.det.addPart(b.text[sp.a:sp.b], sp.a)
	}
}

// readings decides how to read each field. XML text is Unicode, so the
// label is UTF-8; a legacy charset setting reads the bytes the text was
// decoded from, if it came through a single-byte code page, else its own.
func (b *xmlRecBuilder) readings(auto bool) []reading {
	if !auto {
		out := make([]reading, len(b.fields))
		for i := range out {
			out[i] = reading{cs: b.cs, via: b.cs != CharsetUTF8 && b.cs != CharsetMARC8}
		}
		return out
	}
	d := &b.det
	d.reset()
	for i := range b.fields {
		d.addField()
		b.addParts(&b.fields[i])
	}
	return d.decide(CharsetUTF8)
}

// frame returns the fields' text as parsed, before any charset decision,
// as an ISO 2709 record with the given leader; nil when it does not fit.
func (b *xmlRecBuilder) frame(leader string) []byte {
	tags := make([]string, len(b.fields))
	data := make([][]byte, len(b.fields))
	for i := range b.fields {
		xf := &b.fields[i]
		tags[i] = string(b.text[xf.tag.a:xf.tag.b])
		if xf.control {
			data[i] = b.text[xf.value.a:xf.value.b]
			continue
		}
		d := []byte{xf.ind1, xf.ind2}
		for j := xf.sub0; j < xf.sub1; j++ {
			sp := b.subs[j].val
			d = append(append(append(d, subfieldDelim), b.subs[j].code), b.text[sp.a:sp.b]...)
		}
		data[i] = d
	}
	return frameISO2709(leader, tags, data)
}

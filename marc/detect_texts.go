package marc

import "github.com/unicat/unicat/vnortho"

// The detector decodes every reading it weighs, and one of them is the
// text the reader then puts in the record: the readings are kept, so that
// the reader takes that text instead of decoding the field again. What
// the reader asks for is found by the piece's offset and length and the
// reading (the same bytes read the same way make the same text, whichever
// field holds them); a reading with something to report (bad bytes) is
// decoded again by the reader, to describe it.

// readTexts holds the readings scored for one record, back to back.
type readTexts struct {
	text   []byte
	legacy []byte      // the parts' legacy bytes (appendLegacyBytes)
	parts  []partTexts // one per detector part
	next   int         // the first part not yet taken by the reader
}

// partTexts are the readings of one part: the part's offset and length,
// and the text of each reading, by readingSlot.
type partTexts struct {
	at, n  int
	texts  [2 * numEncodings]textSpan
	legacy int8 // 0: not looked for, 1: in readTexts.legacy[la:lb], -1: none
	la, lb int32
}

// textSpan is a reading in readTexts.text; set 0: not read, 1: read, 2:
// read, with something to report.
type textSpan struct {
	a, b int32
	set  uint8
}

// readingSlot returns where a reading is kept, -1 for one the detector
// does not make.
func readingSlot(rd reading) int {
	for e, cs := range detectEncodings {
		if cs == rd.cs {
			if rd.via {
				return 2*e + 1
			}
			return 2 * e
		}
	}
	return -1
}

func (t *readTexts) reset() {
	t.text, t.legacy, t.parts, t.next = t.text[:0], t.legacy[:0], t.parts[:0], 0
}

func (t *readTexts) addPart(at, n int) { t.parts = append(t.parts, partTexts{at: at, n: n}) }

// scoreReading reads field i as rd and scores the reading, keeping it.
func (d *detector) scoreReading(rd reading, i int) vnortho.Score {
	var sc vnortho.Score
	end := len(d.parts)
	if i+1 < len(d.starts) {
		end = d.starts[i+1]
	}
	slot := readingSlot(rd)
	for j := d.starts[i]; j < end; j++ {
		p := d.parts[j]
		if isPlainASCII(p) {
			continue
		}
		a := len(d.read.text)
		var ok bool
		if rd.via != (rd.cs == CharsetDoubleUTF8) {
			d.read.text, ok = d.appendThroughCodePage(d.read.text, rd, j)
		} else {
			d.read.text, ok = d.dec.appendReading(d.read.text, rd, p, nil)
		}
		sp := textSpan{a: int32(a), b: int32(len(d.read.text)), set: 1}
		if !ok {
			sp.set = 2
		}
		d.read.parts[j].texts[slot] = sp
		sc.Add(vnortho.MeasureBytes(d.read.text[a:]))
	}
	return sc
}

// appendThroughCodePage is textDecoder.appendReading for part j read as
// UTF-8 encoded twice, or as a legacy encoding through a code page: the
// part's legacy bytes, which four readings may ask for, are found once.
func (d *detector) appendThroughCodePage(dst []byte, rd reading, j int) ([]byte, bool) {
	t, p := &d.read, d.parts[j]
	pt := &t.parts[j]
	if pt.legacy == 0 {
		a := len(t.legacy)
		var ok bool
		if t.legacy, ok = appendLegacyBytes(t.legacy, p); ok {
			pt.legacy, pt.la, pt.lb = 1, int32(a), int32(len(t.legacy))
		} else {
			pt.legacy = -1
		}
	}
	cs := rd.cs
	if pt.legacy > 0 {
		p = t.legacy[pt.la:pt.lb]
		if cs == CharsetDoubleUTF8 {
			cs = CharsetUTF8 // the bytes UTF-8 was encoded twice from
		}
	}
	return d.dec.appendText(dst, cs, p, nil)
}

// taken returns the text of the n bytes at offset at read as rd, when the
// detector read them so and there is nothing to report. The reader asks
// for its pieces in the order the detector was given them.
func (d *detector) taken(at, n int, rd reading) (string, bool) {
	t := &d.read
	slot := readingSlot(rd)
	if slot < 0 {
		return "", false
	}
	for j := t.next; j < len(t.parts); j++ {
		pt := &t.parts[j]
		if pt.at != at || pt.n != n {
			continue
		}
		t.next = j + 1
		if sp := pt.texts[slot]; sp.set == 1 {
			return string(t.text[sp.a:sp.b]), true
		}
		return "", false
	}
	return "", false
}

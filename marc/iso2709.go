package marc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ISO 2709 structural bytes.
const (
	recordTerminator = 0x1D
	fieldTerminator  = 0x1E
	subfieldDelim    = 0x1F
)

// MaxRecordLen is the largest record ISO 2709 can describe: the record
// length in the leader has five digits.
const MaxRecordLen = 99999

// minRecordLen is a leader, the directory's terminator and the record's.
const minRecordLen = LeaderLen + 2

// isoChunk is how much the reader asks its source for at a time.
const isoChunk = 128 << 10

// ISO2709Reader reads MARC 21 records in the ISO 2709 exchange format
// (".mrc" files) from a stream.
//
// Records are framed by the record length in the leader and checked
// against the record terminator (0x1D). Fields are located through the
// directory's lengths and starting positions. When the leader's length is
// wrong the record is taken up to its terminator; when the directory's
// lengths do not land on field terminators (a common fault of exporters
// that count characters instead of bytes) the fields are taken in order
// between field terminators, with a warning. A record that cannot be
// decoded is reported as a *RecordError and the reader carries on at the
// next plausible record start, so one broken record never swallows the
// records after it; a stretch of any length that holds no record is one
// *RecordError. Whitespace, NUL and stray terminators between records are
// skipped; a stretch of NUL bytes as long as a disk sector or longer is
// reported (a *RecordError giving its offset and length), being how a
// file looks where a crash or a bad copy zeroed records.
type ISO2709Reader struct {
	src  io.Reader
	opts ReaderOptions

	buf  []byte
	pos  int   // first unconsumed byte in buf
	end  int   // end of valid data in buf
	base int64 // stream offset of buf[0]
	eof  bool  // src reported io.EOF
	rerr error // read error to report once buffered data is used up

	index int       // records (and undecodable stretches) seen so far
	off   int64     // stream offset of the record last returned
	warns []Warning // warnings for the record last returned
	// moreWarns counts the warnings of the record past maxRecordWarnings.
	moreWarns int
	ents      []dirEntry
	nfc       norm.Iter
	det       detector
	// xmlText: the bytes are MARCXML text framed as ISO 2709
	// (DecodeReceived), read under a charset setting as XML text is.
	xmlText bool
}

type dirEntry struct {
	tag        int // offset of the tag in the record
	start, end int // field content in the record, terminator excluded
}

// NewISO2709Reader returns a reader of ISO 2709 records from r. It buffers
// its own reads; r need not be buffered.
func NewISO2709Reader(r io.Reader, opts ReaderOptions) *ISO2709Reader {
	return &ISO2709Reader{src: r, opts: opts}
}

// Warnings returns the non-fatal problems found in the record last
// returned by Next. The slice is not reused.
func (r *ISO2709Reader) Warnings() []Warning { return r.warns }

// Offset returns the byte offset in the stream of the record (or error)
// last returned by Next.
func (r *ISO2709Reader) Offset() int64 { return r.off }

// fill tries to make at least need bytes available after r.pos. It returns
// fewer only at the end of the stream or on a read error.
func (r *ISO2709Reader) fill(need int) {
	if r.end-r.pos >= need {
		return
	}
	stalls := 0
	for r.end-r.pos < need && !r.eof && r.rerr == nil {
		if len(r.buf)-r.pos < need+isoChunk/2 {
			// Move the unread tail to the front, growing if needed.
			size := len(r.buf)
			if size < need+isoChunk {
				size = 2*size + need + isoChunk
			}
			nb := r.buf
			if size != len(r.buf) {
				nb = make([]byte, size)
			}
			n := copy(nb, r.buf[r.pos:r.end])
			r.buf = nb
			r.base += int64(r.pos)
			r.pos, r.end = 0, n
		}
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		switch {
		case err == io.EOF:
			r.eof = true
		case err != nil:
			r.rerr = err
		case n == 0:
			if stalls++; stalls > 100 {
				r.rerr = io.ErrNoProgress
			}
		}
	}
}

// Next returns the next record. See Reader for the meaning of errors.
func (r *ISO2709Reader) Next() (*Record, error) {
	r.warns, r.moreWarns = nil, 0
	// Skip what may separate records: line ends, blanks, NUL padding, a
	// DOS end-of-file mark and doubled record terminators.
	gap := r.base + int64(r.pos)
	nuls := 0
	for {
		r.fill(1)
		if r.pos == r.end {
			if nuls >= nulStretch {
				return nil, r.nulErr(gap, nuls)
			}
			if r.rerr != nil {
				err := r.rerr
				r.rerr = nil
				r.eof = true
				return nil, fmt.Errorf("marc: reading %s: %w", r.label(), err)
			}
			return nil, io.EOF
		}
		i := r.pos
		for i < r.end && isRecordGap(r.buf[i]) {
			if r.buf[i] == 0 {
				nuls++
			}
			i++
		}
		r.pos = i
		if i < r.end {
			break
		}
	}
	if nuls >= nulStretch {
		return nil, r.nulErr(gap, nuls)
	}

	offset := r.base + int64(r.pos)
	r.off = offset
	r.index++
	r.fill(5)
	if l, ok := atoiDigits(r.buf[r.pos:r.end], 5); ok && l >= minRecordLen {
		r.fill(l)
		if r.end-r.pos >= l && r.buf[r.pos+l-1] == recordTerminator {
			rec := r.buf[r.pos : r.pos+l]
			r.pos += l
			out, err := r.parse(rec)
			if err != nil {
				return nil, r.recErr(offset, err)
			}
			return out, nil
		}
	}
	return r.resync(offset)
}

func (r *ISO2709Reader) label() string {
	if r.opts.Source != "" {
		return r.opts.Source
	}
	return "input"
}

func (r *ISO2709Reader) recErr(offset int64, err error) error {
	r.warns = nil
	return &RecordError{Source: r.opts.Source, Index: r.index, Offset: offset, Err: err}
}

func (r *ISO2709Reader) warn(tag, msg string) {
	if len(r.warns) >= maxRecordWarnings {
		r.moreWarns++
		return
	}
	r.warns = append(r.warns, Warning{Tag: tag, Msg: msg})
}

func isRecordGap(c byte) bool {
	switch c {
	case ' ', '\n', '\r', '\t', 0, 0x1A, recordTerminator:
		return true
	}
	return false
}

// atoiDigits parses the first n bytes of b as a decimal number.
func atoiDigits(b []byte, n int) (int, bool) {
	if len(b) < n {
		return 0, false
	}
	v := 0
	for _, c := range b[:n] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parse decodes one framed record; rec may end with the record terminator.
// The error, if any, says what is wrong; the caller adds the position.
func (r *ISO2709Reader) parse(rec []byte) (*Record, error) {
	if max := r.opts.maxRecordBytes(); max > 0 && len(rec) > max {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrRecordTooLarge, len(rec), max)
	}
	if len(rec) < LeaderLen+1 {
		return nil, fmt.Errorf("record is %d bytes, too short for a leader and directory", len(rec))
	}
	dataEnd := len(rec)
	if rec[dataEnd-1] == recordTerminator {
		dataEnd--
	}
	leader := rec[:LeaderLen]

	indCount := 2
	if c := leader[10]; c >= '1' && c <= '9' {
		indCount = int(c - '0')
	}
	dirEnd := bytes.IndexByte(rec[LeaderLen:dataEnd], fieldTerminator)
	if dirEnd < 0 {
		return nil, errors.New("directory has no terminator")
	}
	dirEnd += LeaderLen
	base := dirEnd + 1
	if b, ok := atoiDigits(leader[12:], 5); !ok || b != base {
		r.warn("", fmt.Sprintf("leader base address %q, but the directory ends at byte %d", leader[12:17], dirEnd))
	}

	lenLen, startLen := 4, 5
	if c, d := leader[20], leader[21]; c >= '1' && c <= '9' && d >= '1' && d <= '9' {
		lenLen, startLen = int(c-'0'), int(d-'0')
	}
	dirLen := dirEnd - LeaderLen
	if dirLen%(3+lenLen+startLen) != 0 {
		lenLen, startLen = 4, 5
	}
	entLen := 3 + lenLen + startLen
	if dirLen%entLen != 0 {
		return nil, fmt.Errorf("directory is %d bytes, not a multiple of %d-byte entries", dirLen, entLen)
	}
	n := dirLen / entLen

	// Directory pass: locate each field and check that it ends on a field
	// terminator inside the data area.
	ents := r.ents[:0]
	consistent := true
	ordered := true
	terms := 0 // fields that end on a field terminator
	prevEnd := base
	for i := 0; i < n; i++ {
		e := LeaderLen + i*entLen
		if rec[e]-0x20 > 0x5E || rec[e+1]-0x20 > 0x5E || rec[e+2]-0x20 > 0x5E {
			return nil, fmt.Errorf("directory entry %d: tag %q is not printable", i+1, rec[e:e+3])
		}
		var flen, fstart int
		ok1, ok2 := false, false
		if lenLen == 4 && startLen == 5 {
			// The usual 4500 entry map, unrolled.
			d := rec[e+3 : e+12]
			l0, l1, l2, l3 := d[0]-'0', d[1]-'0', d[2]-'0', d[3]-'0'
			s0, s1, s2, s3, s4 := d[4]-'0', d[5]-'0', d[6]-'0', d[7]-'0', d[8]-'0'
			ok1 = l0 <= 9 && l1 <= 9 && l2 <= 9 && l3 <= 9
			ok2 = s0 <= 9 && s1 <= 9 && s2 <= 9 && s3 <= 9 && s4 <= 9
			flen = int(l0)*1000 + int(l1)*100 + int(l2)*10 + int(l3)
			fstart = int(s0)*10000 + int(s1)*1000 + int(s2)*100 + int(s3)*10 + int(s4)
		} else {
			flen, ok1 = atoiDigits(rec[e+3:], lenLen)
			fstart, ok2 = atoiDigits(rec[e+3+lenLen:], startLen)
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("directory entry %d (tag %s): length %q or start %q is not a number",
				i+1, rec[e:e+3], rec[e+3:e+3+lenLen], rec[e+3+lenLen:e+entLen])
		}
		s := base + fstart
		end := s + flen
		next := end
		switch {
		case flen == 0:
			if s > dataEnd {
				consistent = false
			}
		case end <= dataEnd && rec[end-1] == fieldTerminator:
			end--
			terms++
		case end == dataEnd+1 && dataEnd < len(rec):
			// The last field's terminator is missing; its place is taken
			// by the record terminator.
			end = dataEnd
		default:
			consistent = false
		}
		if s < prevEnd {
			ordered = false
		}
		prevEnd = next
		ents = append(ents, dirEntry{tag: e, start: s, end: end})
	}
	if consistent {
		// A field terminator or record terminator inside a field means
		// overlapping or mis-sized entries. When the fields are in data
		// order one count over the data area settles it.
		data := rec[base:dataEnd]
		if bytes.IndexByte(data, recordTerminator) >= 0 {
			consistent = false
		} else if !ordered || bytes.Count(data, []byte{fieldTerminator}) != terms {
			for _, e := range ents {
				if bytes.IndexByte(rec[e.start:e.end], fieldTerminator) >= 0 {
					consistent = false
					break
				}
			}
		}
	}
	if !consistent {
		var err error
		ents, err = r.splitFields(rec, ents, base, dataEnd)
		if err != nil {
			return nil, err
		}
	}
	r.ents = ents

	return r.build(rec, leader, ents, indCount, base, dataEnd)
}

// splitFields takes the fields in directory order between field
// terminators, for records whose directory lengths are wrong but whose
// fields are all there.
func (r *ISO2709Reader) splitFields(rec []byte, ents []dirEntry, base, dataEnd int) ([]dirEntry, error) {
	data := rec[base:dataEnd]
	if bytes.IndexByte(data, recordTerminator) >= 0 {
		return nil, errors.New("record terminator inside the data area")
	}
	pieces := bytes.Count(data, []byte{fieldTerminator})
	if len(data) > 0 && data[len(data)-1] != fieldTerminator {
		if dataEnd == len(rec) {
			// Neither field nor record terminator: the record was cut.
			return nil, errors.New("record ends inside a field")
		}
		pieces++ // last field without terminator, then the record's
	}
	if pieces != len(ents) {
		for i, e := range ents {
			if e.start > dataEnd || e.end > dataEnd {
				return nil, fmt.Errorf("directory entry %d (tag %s) points outside the data area (%d fields found for %d entries)",
					i+1, rec[e.tag:e.tag+3], pieces, len(ents))
			}
		}
		return nil, fmt.Errorf("directory does not match the data: %d fields found for %d entries", pieces, len(ents))
	}
	p := base
	for i := range ents {
		j := bytes.IndexByte(rec[p:dataEnd], fieldTerminator)
		end := dataEnd
		if j >= 0 {
			end = p + j
		}
		ents[i].start, ents[i].end = p, end
		p = end + 1
	}
	r.warn("", "directory lengths or starting positions do not match the field terminators; fields taken in order")
	return ents, nil
}

// build turns located fields into a Record, converting text to NFC UTF-8.
func (r *ISO2709Reader) build(rec, leader []byte, ents []dirEntry, indCount, base, dataEnd int) (*Record, error) {
	// One string holds the leader and the data area; rec[i] for i >= base
	// is s[i-sh]. Tags come from tagStrings, so the directory is not kept.
	var sb strings.Builder
	sb.Grow(LeaderLen + dataEnd - base)
	sb.Write(rec[:LeaderLen])
	sb.Write(rec[base:dataEnd])
	s := sb.String()
	sh := base - LeaderLen
	label := recordCharset(r.opts.Charset, s[:LeaderLen])
	auto := r.opts.Charset == CharsetAuto
	// Fast path: the record needs no conversion, so every value is a slice
	// of one string holding the whole record.
	fast := isPlainASCII(rec)
	if !fast && label == CharsetUTF8 && isUTF8NFC(&r.nfc, rec) {
		// Without a charset setting, text made of single-byte code page
		// characters may be UTF-8 encoded twice: it is weighed.
		fast = !auto || !anyLegacyField(rec, ents)
	}
	var readings []reading
	if !fast {
		readings = r.readings(rec, ents, indCount, label, auto)
	}

	out := &Record{Fields: make([]Field, len(ents))}
	out.Leader = r.leaderString(s, leader)

	nsub := bytes.Count(rec, []byte{subfieldDelim})
	subs := make([]Subfield, 0, nsub)
	tx := isoText{r: r, s: s, sh: sh, rec: rec, rd: reading{cs: label}}
	if auto && readings != nil {
		tx.det = &r.det
	}
	var used, seen []Charset // charsets of the changed and of the non-ASCII fields

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
			if fast {
				f.Value = s[a-sh : b-sh]
			} else {
				f.Value = tx.get(tag, a, b)
			}
			if strings.IndexByte(f.Value, subfieldDelim) >= 0 {
				// A control field has no subfields; keep positions.
				f.Value = strings.ReplaceAll(f.Value, "\x1f", " ")
				r.warn(tag, "subfield delimiter in a control field replaced by a blank")
			}
			used, seen = tx.note(used, seen, e)
			continue
		}
		// Data field (or a Danish-style 00X field with subfields).
		if indCount == 2 && b-a >= 3 && rec[a+2] == subfieldDelim && isPrint(rec[a]) && isPrint(rec[a+1]) {
			f.Ind1, f.Ind2 = rec[a], rec[a+1]
			a += 2
		} else {
			// The record's structure does not depend on how its text
			// reads: indicators are counted as the label says.
			a = r.indicators(f, rec, a, b, indCount, label)
		}
		first := len(subs)
		if a < b && rec[a] != subfieldDelim {
			// Text before the first delimiter: keep it rather than lose
			// it; $a is where it most likely belongs.
			j := bytes.IndexByte(rec[a:b], subfieldDelim)
			if j < 0 {
				j = b - a
			}
			r.warn(tag, "text before the first subfield delimiter kept as $a")
			subs = append(subs, Subfield{Code: 'a', Value: tx.get(tag, a, a+j)})
			a += j
		}
		for a < b {
			// rec[a] is a delimiter.
			a++
			end := b
			if j := bytes.IndexByte(rec[a:b], subfieldDelim); j >= 0 {
				end = a + j
			}
			if end > a && rec[a] > 0x20 && rec[a] < 0x7F {
				var v string
				if fast {
					v = s[a+1-sh : end-sh]
				} else {
					v = tx.get(tag, a+1, end)
				}
				subs = append(subs, Subfield{Code: rec[a], Value: v})
				a = end
				continue
			}
			switch {
			case end == a:
				r.warn(tag, "empty subfield delimiter dropped")
			case len(subs) > first:
				// Not a code: the delimiter is a stray one inside text.
				last := &subs[len(subs)-1]
				last.Value += tx.get(tag, a, end)
				r.warn(tag, fmt.Sprintf("subfield delimiter before %q dropped (not a subfield code)", rec[a]))
			default:
				subs = append(subs, Subfield{Code: 'a', Value: tx.get(tag, a, end)})
				r.warn(tag, fmt.Sprintf("subfield delimiter before %q is not followed by a code; text kept as $a", rec[a]))
			}
			a = end
		}
		if len(subs) > first {
			f.Subfields = subs[first:len(subs):len(subs)]
		}
		used, seen = tx.note(used, seen, e)
	}
	if len(used) > 0 {
		out.Origin = originOf(label, !auto, used, seen, tx.replaced)
		if out.Origin.keepReceived() {
			out.Origin.Received = append([]byte(nil), rec...)
			out.Origin.ReceivedFormat = FormatISO2709
		}
	}
	if r.moreWarns > 0 {
		r.warns = append(r.warns, Warning{Msg: fmt.Sprintf("and %d more warnings", r.moreWarns)})
		r.moreWarns = 0
	}
	return out, nil
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
	r   *ISO2709Reader
	s   string // leader and data area
	sh  int    // rec[i] is s[i-sh]
	rec []byte
	rd  reading   // how the current field is read
	det *detector // what decided rd, when it did; it may have read the text already

	fieldChanged bool // the current field's text differs from its bytes
	replaced     int  // characters replaced with U+FFFD in the record
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
		v, warns = t.r.det.dec.convert(t.rd, t.rec[a:b])
		for _, w := range warns {
			t.r.warn(tag, w)
		}
	}
	if v != string(t.rec[a:b]) {
		t.fieldChanged = true
		t.replaced += replacedIn(v, t.rec[a:b])
	}
	return v
}

// note records the field just built for the record's Origin.
func (t *isoText) note(used, seen []Charset, e *dirEntry) ([]Charset, []Charset) {
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
func (r *ISO2709Reader) indicators(f *Field, rec []byte, a, b, indCount int, cs Charset) int {
	f.Ind1, f.Ind2 = ' ', ' '
	ni, a0 := 0, a
	for ni < indCount && a < b && rec[a] != subfieldDelim {
		n := 1
		if rec[a] >= utf8.RuneSelf && cs == CharsetUTF8 {
			_, n = utf8.DecodeRune(rec[a:b]) // yaz counts characters here
		}
		switch ni {
		case 0:
			f.Ind1 = r.indicator(f.Tag, rec[a:a+n])
		case 1:
			f.Ind2 = r.indicator(f.Tag, rec[a:a+n])
		default:
			r.warn(f.Tag, fmt.Sprintf("indicator %d (%q) dropped", ni+1, rec[a:a+n]))
		}
		a += n
		ni++
	}
	if ni < indCount && b > a0 {
		r.warn(f.Tag, fmt.Sprintf("%d indicators missing", indCount-ni))
	}
	return a
}

// indicator returns the indicator character b if it is printable ASCII,
// else a blank.
func (r *ISO2709Reader) indicator(tag string, b []byte) byte {
	if len(b) != 1 || b[0] < 0x20 || b[0] > 0x7E {
		r.warn(tag, fmt.Sprintf("indicator %q replaced by a blank", b))
		return ' '
	}
	return b[0]
}

// leaderString returns the leader with leader/09 = 'a' and anything that
// is not printable ASCII blanked.
func (r *ISO2709Reader) leaderString(s string, leader []byte) string {
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
			r.warn("", fmt.Sprintf("leader/%02d: byte 0x%02X replaced by a blank", i, c))
		}
	}
	l[9] = 'a'
	return string(l[:])
}

// isASCIIBytes reports whether b is 7-bit, eight bytes at a time.
func isASCIIBytes(b []byte) bool {
	for len(b) >= 8 {
		v := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if v&0x8080808080808080 != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

func isDecimal(c byte) bool { return c >= '0' && c <= '9' }

// nfcSafe is a bitmap of the BMP characters that are NFC whatever
// surrounds them on the left: quick-check Yes and canonical combining
// class 0. Text made only of such characters (and ASCII) is in NFC, which
// lets the readers skip the full normalisation check for most records,
// CJK and Vietnamese precomposed text included.
var nfcSafe = sync.OnceValue(func() *[1 << 16 / 64]uint64 {
	var t [1 << 16 / 64]uint64
	var buf [4]byte
	for r := rune(0x80); r < 0x10000; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		p := norm.NFC.Properties(buf[:n])
		if p.BoundaryBefore() && p.CCC() == 0 && norm.NFC.IsNormal(buf[:n]) {
			t[r>>6] |= 1 << (r & 63)
		}
	}
	return &t
})

// isUTF8NFC reports whether b is valid UTF-8 in NFC. Only the stretches
// around characters outside nfcSafe go through the full check, which uses
// it (norm.Form.IsNormal would allocate each time).
func isUTF8NFC(it *norm.Iter, b []byte) bool {
	safe := nfcSafe()
	prev := 0 // start of the last character that starts a segment
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			j := i + 1
			for j+32 <= len(b) {
				w := b[j : j+32]
				if (binary.LittleEndian.Uint64(w)|binary.LittleEndian.Uint64(w[8:])|
					binary.LittleEndian.Uint64(w[16:])|binary.LittleEndian.Uint64(w[24:]))&0x8080808080808080 != 0 {
					break
				}
				j += 32
			}
			for j+8 <= len(b) && binary.LittleEndian.Uint64(b[j:])&0x8080808080808080 == 0 {
				j += 8
			}
			for j < len(b) && b[j] < utf8.RuneSelf {
				j++
			}
			prev, i = j-1, j
			continue
		}
		r, n := decodeRune(b[i:])
		if n == 0 {
			return false
		}
		if r < 0x10000 && safe[r>>6]&(1<<(r&63)) != 0 {
			prev, i = i, i+n
			continue
		}
		// Check the segment from the last starter to the next character
		// that cannot combine with what precedes it.
		e := i + n
		for e < len(b) && b[e] >= utf8.RuneSelf {
			r, n := decodeRune(b[e:])
			if n == 0 {
				return false
			}
			if r < 0x10000 && safe[r>>6]&(1<<(r&63)) != 0 {
				break
			}
			e += n
		}
		if !segmentNFC(it, b[prev:e]) {
			return false
		}
		prev, i = e, e
	}
	return true
}

// decodeRune decodes the non-ASCII UTF-8 sequence at the start of b; n is
// 0 when it is invalid. Two- and three-byte forms, nearly all library text,
// are decoded inline.
func decodeRune(b []byte) (rune, int) {
	c := b[0]
	switch {
	case c < 0xC2:
		return 0, 0
	case c < 0xE0:
		if len(b) < 2 || b[1]&0xC0 != 0x80 {
			return 0, 0
		}
		return rune(c&0x1F)<<6 | rune(b[1]&0x3F), 2
	case c < 0xF0:
		if len(b) < 3 || b[2]&0xC0 != 0x80 {
			return 0, 0
		}
		lo, hi := byte(0x80), byte(0xBF)
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F // no surrogates
		}
		if b[1] < lo || b[1] > hi {
			return 0, 0
		}
		return rune(c&0x0F)<<12 | rune(b[1]&0x3F)<<6 | rune(b[2]&0x3F), 3
	}
	r, n := utf8.DecodeRune(b)
	if r == utf8.RuneError && n == 1 {
		return 0, 0
	}
	return r, n
}

// segmentNFC reports whether seg is in NFC.
func segmentNFC(it *norm.Iter, seg []byte) bool {
	if norm.NFC.QuickSpan(seg) == len(seg) {
		return true
	}
	it.Init(norm.NFC, seg)
	p := 0
	for !it.Done() {
		out := it.Next()
		if !bytes.HasPrefix(seg[p:], out) {
			return false
		}
		p += len(out)
	}
	return p == len(seg)
}

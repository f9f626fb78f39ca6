package marc

import (
	"bytes"
	"errors"
	"fmt"
	"io"

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
	window
	// The reader's own parser parses the records it frames, or, when
	// reading ahead, those its resynchronisation finds; its warns are
	// those of the record last returned either way.
	isoParser

	index int   // records (and undecodable stretches) seen so far
	off   int64 // stream offset of the record last returned
	ahead *readAhead
}

// isoParser turns one framed record into a Record. It holds what is
// reused from one record to the next and the warnings of the record last
// parsed: one goroutine uses it at a time.
type isoParser struct {
	opts  ReaderOptions
	warns []Warning // warnings for the record last parsed
	// moreWarns counts the warnings of the record past maxRecordWarnings.
	moreWarns int
	ents      []dirEntry
	nfc       norm.Iter
	det       detector
	// xmlText: the bytes are MARCXML text framed as ISO 2709
	// (DecodeReceived), read under a charset setting as XML text is.
	xmlText bool
	slab    recordSlab // what the records built are carved from
	// keepsText: the records' strings point into text, appended to and
	// never written over, rather than each into a string of its own
	// (iso2709_ahead.go).
	keepsText bool
	text      []byte
}

type dirEntry struct {
	tag        int // offset of the tag in the record
	start, end int // field content in the record, terminator excluded
}

// NewISO2709Reader returns a reader of ISO 2709 records from r. It buffers
// its own reads; r need not be buffered. With more than one core it
// parses ahead on them, up to eight (iso2709_ahead.go).
func NewISO2709Reader(r io.Reader, opts ReaderOptions) *ISO2709Reader {
	return &ISO2709Reader{window: window{src: r}, isoParser: isoParser{opts: opts}, ahead: readAheadFor()}
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
	r.fillWindow(need, isoChunk, nil)
}

// Next returns the next record. See Reader for the meaning of errors.
func (r *ISO2709Reader) Next() (*Record, error) {
	if r.ahead != nil {
		return r.nextAhead()
	}
	r.slab.reset(r.opts.ReuseRecords)
	raw, out, err := r.frame()
	if raw == nil {
		return out, err
	}
	if out, err = r.parse(raw); err != nil {
		return nil, r.recErr(r.off, err)
	}
	return out, nil
}

// frame finds the next record in the stream. A record that its leader's
// length frames comes back as raw, a slice of the window valid until the
// next fill, for the caller to parse. Anything else comes back finished
// as out and err: a record found by resynchronising, a record error, the
// end of the stream or a read error.
func (r *ISO2709Reader) frame() (raw []byte, out *Record, err error) {
	r.warns, r.moreWarns = nil, 0
	// Skip what may separate records: line ends, blanks, NUL padding, a
	// DOS end-of-file mark and doubled record terminators.
	gap := r.base + int64(r.pos)
	nuls := 0
	for {
		r.fill(1)
		if r.pos == r.end {
			if nuls >= nulStretch {
				return nil, nil, r.nulErr(gap, nuls)
			}
			if r.rerr != nil {
				err := r.rerr
				r.rerr = nil
				r.eof = true
				return nil, nil, fmt.Errorf("marc: reading %s: %w", r.label(), err)
			}
			return nil, nil, io.EOF
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
		return nil, nil, r.nulErr(gap, nuls)
	}

	offset := r.base + int64(r.pos)
	r.off = offset
	r.index++
	r.fill(5)
	if l, ok := atoiDigits(r.buf[r.pos:r.end], 5); ok && l >= minRecordLen {
		r.fill(l)
		if r.end-r.pos >= l && r.buf[r.pos+l-1] == recordTerminator {
			raw = r.buf[r.pos : r.pos+l]
			r.pos += l
			return raw, nil, nil
		}
	}
	out, err = r.resync(offset)
	return nil, out, err
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

func (p *isoParser) warn(tag, msg string) {
	if len(p.warns) >= maxRecordWarnings {
		p.moreWarns++
		return
	}
	p.warns = append(p.warns, Warning{Tag: tag, Msg: msg})
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
func (p *isoParser) parse(rec []byte) (*Record, error) {
	if max := p.opts.maxRecordBytes(); max > 0 && len(rec) > max {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d allowed", ErrRecordTooLarge, len(rec), max)
	}
	if len(rec) < LeaderLen+1 {
		return nil, fmt.Errorf("record is %d bytes, too short for a leader and directory", len(rec))
	}
	lay, err := p.layout(rec)
	if err != nil {
		return nil, err
	}
	ents, consistent, err := p.directory(rec, &lay)
	if err != nil {
		return nil, err
	}
	if !consistent {
		ents, err = p.splitFields(rec, ents, lay.base, lay.dataEnd)
		if err != nil {
			return nil, err
		}
	}
	p.ents = ents
	return p.build(rec, rec[:LeaderLen], ents, lay.indCount, lay.base, lay.dataEnd)
}

// isoLayout is where the parts of a record are, as its leader and the
// end of its directory say.
type isoLayout struct {
	dataEnd          int // end of the data area, before any record terminator
	base             int // start of the data area, after the directory's terminator
	indCount         int // indicators per data field (leader/10)
	lenLen, startLen int // digits of an entry's field length and start (leader/20-21)
	entries          int // directory entries
}

// layout reads the record's layout from its leader, checked against the
// directory: the directory's end decides the base address (a leader that
// says otherwise is warned about), and an entry map that does not divide
// the directory is taken as the usual 4500.
func (p *isoParser) layout(rec []byte) (isoLayout, error) {
	lay := isoLayout{dataEnd: len(rec), indCount: 2, lenLen: 4, startLen: 5}
	if rec[lay.dataEnd-1] == recordTerminator {
		lay.dataEnd--
	}
	leader := rec[:LeaderLen]
	if c := leader[10]; c >= '1' && c <= '9' {
		lay.indCount = int(c - '0')
	}
	dirEnd := bytes.IndexByte(rec[LeaderLen:lay.dataEnd], fieldTerminator)
	if dirEnd < 0 {
		return lay, errors.New("directory has no terminator")
	}
	dirEnd += LeaderLen
	lay.base = dirEnd + 1
	if b, ok := atoiDigits(leader[12:], 5); !ok || b != lay.base {
		p.warn("", fmt.Sprintf("leader base address %q, but the directory ends at byte %d", leader[12:17], dirEnd))
	}
	if c, d := leader[20], leader[21]; c >= '1' && c <= '9' && d >= '1' && d <= '9' {
		lay.lenLen, lay.startLen = int(c-'0'), int(d-'0')
	}
	dirLen := dirEnd - LeaderLen
	if dirLen%(3+lay.lenLen+lay.startLen) != 0 {
		lay.lenLen, lay.startLen = 4, 5
	}
	entLen := 3 + lay.lenLen + lay.startLen
	if dirLen%entLen != 0 {
		return lay, fmt.Errorf("directory is %d bytes, not a multiple of %d-byte entries", dirLen, entLen)
	}
	lay.entries = dirLen / entLen
	return lay, nil
}

// directory locates each field the directory names and checks that it
// ends on a field terminator inside the data area. consistent is false
// when the directory's lengths and starts do not frame the fields (see
// splitFields).
func (p *isoParser) directory(rec []byte, lay *isoLayout) (ents []dirEntry, consistent bool, err error) {
	base, dataEnd, lenLen, startLen := lay.base, lay.dataEnd, lay.lenLen, lay.startLen
	entLen := 3 + lenLen + startLen
	ents = p.ents[:0]
	consistent = true
	ordered := true
	terms := 0 // fields that end on a field terminator
	prevEnd := base
	for i := 0; i < lay.entries; i++ {
		e := LeaderLen + i*entLen
		if rec[e]-0x20 > 0x5E || rec[e+1]-0x20 > 0x5E || rec[e+2]-0x20 > 0x5E {
			return nil, false, fmt.Errorf("directory entry %d: tag %q is not printable", i+1, rec[e:e+3])
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
			return nil, false, fmt.Errorf("directory entry %d (tag %s): length %q or start %q is not a number",
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
		consistent = !overlapping(rec[base:dataEnd], rec, ents, ordered, terms)
	}
	return ents, consistent, nil
}

// overlapping reports whether a field terminator or record terminator lies
// inside a field: overlapping or mis-sized entries. When the fields are in
// data order (ordered), one count over the data area settles it: the
// terminators are the terms fields' own.
func overlapping(data, rec []byte, ents []dirEntry, ordered bool, terms int) bool {
	if bytes.IndexByte(data, recordTerminator) >= 0 {
		return true
	}
	if ordered && bytes.Count(data, []byte{fieldTerminator}) == terms {
		return false
	}
	for _, e := range ents {
		if bytes.IndexByte(rec[e.start:e.end], fieldTerminator) >= 0 {
			return true
		}
	}
	return false
}

// splitFields takes the fields in directory order between field
// terminators, for records whose directory lengths are wrong but whose
// fields are all there.
func (p *isoParser) splitFields(rec []byte, ents []dirEntry, base, dataEnd int) ([]dirEntry, error) {
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
	at := base
	for i := range ents {
		j := bytes.IndexByte(rec[at:dataEnd], fieldTerminator)
		end := dataEnd
		if j >= 0 {
			end = at + j
		}
		ents[i].start, ents[i].end = at, end
		at = end + 1
	}
	p.warn("", "directory lengths or starting positions do not match the field terminators; fields taken in order")
	return ents, nil
}

func isDecimal(c byte) bool { return c >= '0' && c <= '9' }

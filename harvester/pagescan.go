package harvester

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
)

// pageShape says where the items of a list are in a response: an item is
// an element named item (any prefix) whose first child is named one of
// children (when given: it tells an OAI-PMH or SRU record from the MARC
// record inside it); the list ends at a start tag named one of endStart
// or an end tag named one of endEnd. A shape with no item has no list:
// the whole response is its envelope.
type pageShape struct {
	item     string
	children []string
	endStart []string
	endEnd   []string
}

var (
	oaiRecordList = pageShape{item: "record", children: []string{"header"},
		endStart: []string{"resumptionToken"}, endEnd: []string{"ListRecords"}}
	oaiHeaderList = pageShape{item: "header",
		endStart: []string{"resumptionToken"}, endEnd: []string{"ListIdentifiers"}}
	sruRecordList = pageShape{item: "record",
		children: []string{"recordSchema", "recordPacking", "recordXMLEscaping", "recordData", "recordPosition", "recordIdentifier"},
		endEnd:   []string{"records"}}
	noList = pageShape{}
)

// segKind is what a segment of a response is.
type segKind int

const (
	segHead segKind = iota // the envelope up to the first item or the list's end
	segItem                // one item of the list
	segTail                // the envelope from the list's end on
	segDone                // no more segments
)

// segment is a piece of a response, as pageScanner cuts it.
type segment struct {
	kind   segKind
	data   []byte // valid until the next call of next
	offset int64  // of its first byte in the response
	size   int64  // its length; data holds only its start when over
	over   bool   // an item longer than the scanner's maxItem
}

// Limits of a response's parts, which keep a page's cost independent of
// what the peer sends: the envelope (everything but the items: the
// request echoed, errors, Identify's descriptions, the resumption token)
// and the start of an item too large that is kept to name it.
const (
	maxEnvelope  = 8 << 20
	overItemHead = 16 << 10
	// markLookahead is how far past a '<' a marker is looked for: the
	// item's start tag, blanks and its first child's name.
	markLookahead = 4 << 10
)

// errListCut is a response that ends inside its list.
var errListCut = errors.New("the document ends inside the list (cut off?)")

// pageScanner cuts a response into its head, its items and its tail,
// reading it once, a window at a time, and keeping only the segment it
// is in (an item over maxItem bytes is skipped after its start), so that
// a page of any size costs the largest item. It looks at each byte once:
// for a '<' and, at one, for a name.
type pageScanner struct {
	r       io.Reader
	shape   pageShape
	maxItem int

	buf        []byte
	start, pos int   // the segment's start and the scan position, in buf
	end        int   // of the data in buf
	base       int64 // response offset of buf[0]
	eof        bool
	err        error

	state   segKind
	segOff  int64  // response offset of the segment
	over    []byte // the start of an item over maxItem
	envelop int    // bytes of head and tail so far
}

func newPageScanner(r io.Reader, shape pageShape, maxItem int) *pageScanner {
	return &pageScanner{r: r, shape: shape, maxItem: max(maxItem, overItemHead), buf: make([]byte, 64<<10)}
}

// next returns the next segment; segDone after the last. The head comes
// first (the whole response when it has no list), then each item, then
// the tail. An error is a response that cannot be cut (an envelope too
// large, a list cut off) or a read error.
func (s *pageScanner) next() (segment, error) {
	if s.state == segDone {
		return segment{kind: segDone}, nil
	}
	for {
		j := -1
		if s.pos < s.end {
			j = bytes.IndexByte(s.buf[s.pos:s.end], '<')
		}
		if j < 0 {
			s.pos = s.end
			added, err := s.refill(1)
			if err != nil {
				return segment{}, err
			}
			if !added {
				return s.finish()
			}
			continue
		}
		s.pos += j
		if s.end-s.pos < markLookahead && !s.eof {
			if _, err := s.refill(markLookahead); err != nil {
				return segment{}, err
			}
		}
		m := s.marker(s.buf[s.pos:s.end])
		if m == segHead || s.state == segTail || s.state == segItem && s.base+int64(s.pos) == s.segOff {
			s.pos++ // not a marker, or the item's own start
			continue
		}
		return s.cut(m)
	}
}

// cut ends the segment at s.pos, where the next one (of kind next)
// starts.
func (s *pageScanner) cut(next segKind) (segment, error) {
	seg := s.segment(s.pos)
	s.state, s.start, s.segOff, s.over = next, s.pos, s.base+int64(s.pos), nil
	if err := s.countEnvelope(seg); err != nil {
		return segment{}, err
	}
	s.pos++
	return seg, nil
}

// finish returns the segment the response ends in.
func (s *pageScanner) finish() (segment, error) {
	if s.err != nil {
		return segment{}, s.err
	}
	if s.state == segItem {
		return segment{}, errListCut
	}
	seg := s.segment(s.end)
	s.state = segDone
	return seg, s.countEnvelope(seg)
}

// segment is the current segment up to at.
func (s *pageScanner) segment(at int) segment {
	seg := segment{kind: s.state, data: s.buf[s.start:at], offset: s.segOff, size: s.base + int64(at) - s.segOff}
	if s.over != nil {
		seg.data, seg.over = s.over, true
	}
	return seg
}

func (s *pageScanner) countEnvelope(seg segment) error {
	if seg.kind == segHead || seg.kind == segTail {
		s.envelop += len(seg.data)
		if s.envelop > maxEnvelope {
			return fmt.Errorf("the envelope around the list is more than %d bytes", maxEnvelope)
		}
	}
	return nil
}

// checkSize bounds what the segment being read keeps: an envelope past
// its limit is an error; an item past maxItem keeps its start only.
func (s *pageScanner) checkSize() error {
	n := s.pos - s.start
	switch {
	case s.state == segItem && s.over == nil && n > s.maxItem:
		s.over = slices.Clone(s.buf[s.start : s.start+overItemHead])
		s.start = s.pos
	case s.state == segItem && s.over != nil:
		s.start = s.pos // nothing more of it is kept
	case s.state != segItem && s.envelop+n > maxEnvelope:
		return fmt.Errorf("the envelope around the list is more than %d bytes", maxEnvelope)
	}
	return nil
}

// refill bounds what is kept (checkSize), then reads until need bytes
// are buffered from s.pos or the input ends; it reports whether any byte
// was added.
func (s *pageScanner) refill(need int) (bool, error) {
	if err := s.checkSize(); err != nil {
		return false, err
	}
	return s.more(need), nil
}

// more reads until need bytes are buffered from s.pos (or the input
// ends), moving what is kept to the buffer's front or growing it. It
// reports whether any byte was added.
func (s *pageScanner) more(need int) bool {
	added, stalls := false, 0
	for s.end-s.pos < need && !s.eof && s.err == nil {
		if s.end == len(s.buf) {
			keep := s.start
			n := copy(s.buf, s.buf[keep:s.end])
			s.base += int64(keep)
			s.start, s.pos, s.end = 0, s.pos-keep, n
			if s.end > len(s.buf)/2 {
				nb := make([]byte, 2*len(s.buf))
				copy(nb, s.buf[:s.end])
				s.buf = nb
			}
		}
		k, err := s.r.Read(s.buf[s.end:])
		s.end += k
		added = added || k > 0
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			s.err = err
		case k == 0:
			if stalls++; stalls > 100 {
				s.err = io.ErrNoProgress
			}
		}
	}
	return added
}

// marker says whether b, which starts with '<', starts an item
// (segItem), ends the list (segTail), or neither (segHead).
func (s *pageScanner) marker(b []byte) segKind {
	sh := &s.shape
	if sh.item == "" || len(b) < 2 {
		return segHead
	}
	if b[1] == '/' {
		return sh.endTagMarker(b)
	}
	local, i := localName(b, 1)
	switch {
	case !endsName(b, i):
		return segHead
	case inNames(local, sh.endStart):
		return segTail
	case string(local) != sh.item:
		return segHead
	case len(sh.children) == 0 || sh.firstChildIsItems(b, i):
		return segItem
	}
	return segHead
}

// endTagMarker says whether the end tag b ends the list (segTail) or not
// (segHead).
func (sh *pageShape) endTagMarker(b []byte) segKind {
	local, i := localName(b, 2)
	i = skipSpace(b, i)
	if i < len(b) && b[i] == '>' && inNames(local, sh.endEnd) {
		return segTail
	}
	return segHead
}

// firstChildIsItems reports whether the element whose start tag's name
// ends at b[i] has a first child the shape's items have: an item element
// is told from another of its name by it.
func (sh *pageShape) firstChildIsItems(b []byte, i int) bool {
	gt := bytes.IndexByte(b[i:], '>')
	if gt < 0 || b[i+gt-1] == '/' {
		return false
	}
	i = skipSpace(b, i+gt+1)
	if i+1 >= len(b) || b[i] != '<' {
		return false
	}
	child, k := localName(b, i+1)
	return endsName(b, k) && inNames(child, sh.children)
}

// endsName reports whether b[i], just after a tag's name, is what may
// follow it: a space, '>' or '/'.
func endsName(b []byte, i int) bool {
	return i < len(b) && (isSpaceByte(b[i]) || b[i] == '>' || b[i] == '/')
}

// skipSpace returns the index of the first byte from b[i] that is no
// XML space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpaceByte(b[i]) {
		i++
	}
	return i
}

// localName reads the qualified name at b[i:] and returns its local part
// and the index after the name.
func localName(b []byte, i int) ([]byte, int) {
	start := i
	for i < len(b) && (isNameByte(b[i]) || b[i] == ':') {
		i++
	}
	name := b[start:i]
	if c := bytes.LastIndexByte(name, ':'); c >= 0 {
		name = name[c+1:]
	}
	return name, i
}

func inNames(name []byte, names []string) bool {
	for _, n := range names {
		if string(name) == n {
			return true
		}
	}
	return false
}

package marc

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// XMLSyntaxError reports XML that is not well-formed. The reader cannot go
// past it: every later call to Next returns the same error.
type XMLSyntaxError struct {
	Source string
	Line   int   // 1-based
	Offset int64 // byte offset in the (decoded) stream
	Msg    string
}

func (e *XMLSyntaxError) Error() string {
	src := e.Source
	if src == "" {
		src = "input"
	}
	return fmt.Sprintf("marc: %s: XML syntax error at line %d (byte offset %d): %s", src, e.Line, e.Offset, e.Msg)
}

// XMLReader reads MARCXML records from a stream.
//
// It accepts a <collection>, a bare <record>, several records one after
// another, and records embedded in other XML such as OAI-PMH responses
// (<metadata><record xmlns="http://www.loc.gov/MARC21/slim">) or SRU
// <recordData>: every MARC record element anywhere in the document is
// returned, in document order. A record element is a MARC record when it is
// in the MARCXML namespace (with any prefix), or, in no namespace or
// another one (MarcXchange), when its first child element is a leader,
// controlfield or datafield of the same namespace.
//
// The reader is a purpose-built streaming scanner over bytes rather than
// encoding/xml, which is several times slower. It checks well-formedness
// (tag nesting, attribute syntax, entity and character references) and
// reports a violation as an *XMLSyntaxError that ends the stream. A record
// that is well-formed XML but not a usable MARC record (no leader, a field
// without a tag) is reported as a *RecordError and reading continues with
// the next record. Text is returned in NFC; characters XML 1.0 forbids are
// dropped with a warning. Documents in UTF-8, UTF-16 (with BOM),
// ISO 8859-1, Windows-1252 and Windows-1258 are read; byte offsets then
// refer to the UTF-8 form.
type XMLReader struct {
	src  io.Reader
	opts ReaderOptions

	buf   []byte
	pos   int
	end   int
	base  int64 // stream offset of buf[0]
	lines int   // newlines before buf[0]
	eof   bool
	rerr  error
	begun bool // byte order mark and XML declaration handled
	err   error

	// Current token, valid until the next scan.
	tKind   xmlTok
	tName   []byte
	tAttrs  []xmlAttr
	tEmpty  bool
	tText   []byte
	tCDATA  bool
	tOff    int64
	pending bool // the current token is to be handled again

	stack   []xmlElem
	names   []byte
	ns      []nsBinding
	interns map[string]string
	scratch []byte

	index int
	off   int64
	b     xmlRecBuilder
}

type xmlTok int

const (
	xmlEOF xmlTok = iota
	xmlStart
	xmlEnd
	xmlText
)

type xmlAttr struct{ name, val []byte }

type xmlElem struct {
	name0, name1 int // name in names
	ns           int // len(ns) before the element's declarations
}

type nsBinding struct{ prefix, uri string }

// NewXMLReader returns a reader of MARCXML records from r. The document
// declares its own encoding, so the text is Unicode; without a charset
// setting each record's fields are still checked for mojibake (text in a
// legacy encoding that went through a single-byte code page, UTF-8
// encoded twice: see detect.go), and a legacy charset setting (tcvn3,
// vni, windows-1258) reads the bytes such text was decoded from.
func NewXMLReader(r io.Reader, opts ReaderOptions) *XMLReader {
	return &XMLReader{src: r, opts: opts, b: xmlRecBuilder{cs: opts.Charset}}
}

// Warnings returns the non-fatal problems found in the record last
// returned by Next.
func (r *XMLReader) Warnings() []Warning { return r.b.warns }

// Offset returns the byte offset of the start tag of the record (or
// record error) last returned by Next.
func (r *XMLReader) Offset() int64 { return r.off }

const xmlChunk = 64 << 10

// fill tries to make need bytes available after r.pos.
func (r *XMLReader) fill(need int) {
	stalls := 0
	for r.end-r.pos < need && !r.eof && r.rerr == nil {
		if len(r.buf)-r.pos < need+xmlChunk/2 {
			size := len(r.buf)
			if size < need+xmlChunk {
				size = 2*size + need + xmlChunk
			}
			nb := r.buf
			if size != len(r.buf) {
				nb = make([]byte, size)
			}
			r.lines += bytes.Count(r.buf[:r.pos], []byte{'\n'})
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

// more asks for at least one more byte than is buffered; it reports
// whether it got any.
func (r *XMLReader) more() bool {
	n := r.end - r.pos
	r.fill(n + 1)
	return r.end-r.pos > n
}

func (r *XMLReader) syntaxErr(at int, format string, args ...any) error {
	if at > r.end {
		at = r.end
	}
	line := r.lines + bytes.Count(r.buf[:at], []byte{'\n'}) + 1
	if r.rerr != nil {
		// The input was cut short by a read error, not malformed.
		return fmt.Errorf("marc: reading %s: %w", r.label(), r.rerr)
	}
	return &XMLSyntaxError{Source: r.opts.Source, Line: line, Offset: r.base + int64(at), Msg: fmt.Sprintf(format, args...)}
}

func (r *XMLReader) label() string {
	if r.opts.Source != "" {
		return r.opts.Source
	}
	return "input"
}

// Next returns the next MARC record in the document.
func (r *XMLReader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.b.warns = nil
	rec, err := r.next()
	if err != nil {
		var re *RecordError
		if !errors.As(err, &re) {
			r.err = err
		}
	}
	return rec, err
}

func (r *XMLReader) next() (*Record, error) {
	for {
		k := r.tKind
		if r.pending {
			r.pending = false
		} else {
			var err error
			if k, err = r.scan(); err != nil {
				return nil, err
			}
		}
		switch k {
		case xmlEOF:
			if len(r.stack) > 0 {
				e := r.stack[len(r.stack)-1]
				return nil, r.syntaxErr(r.end, "input ends inside <%s>", r.names[e.name0:e.name1])
			}
			if r.rerr != nil {
				return nil, fmt.Errorf("marc: reading %s: %w", r.label(), r.rerr)
			}
			return nil, io.EOF
		case xmlText:
			if len(r.stack) == 0 && !r.tCDATA && !isXMLSpace(r.tText) {
				return nil, r.syntaxErr(r.pos-len(r.tText), "text outside any element: %q", clip(r.tText))
			}
		case xmlEnd:
			if err := r.popElem(); err != nil {
				return nil, err
			}
		case xmlStart:
			if err := r.pushElem(); err != nil {
				return nil, err
			}
			local, uri := r.resolve(r.tName)
			if string(local) != "record" {
				if r.tEmpty {
					r.popEmpty()
				}
				continue
			}
			rec, isRec, err := r.readRecord(uri)
			if err != nil || isRec {
				return rec, err
			}
		}
	}
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

func isXMLSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// readRecord reads the record whose start tag is the current token (and
// has been pushed). isRec is false when the element turned out not to be
// a MARC record; the reader then goes on scanning inside it.
func (r *XMLReader) readRecord(uri string) (rec *Record, isRec bool, err error) {
	start := r.tOff
	sure := uri == MARCXMLNamespace
	b := &r.b
	b.reset()
	if r.tEmpty {
		r.popEmpty()
		if !sure {
			return nil, false, nil
		}
		r.index++
		r.off = start
		b.fail("empty record element")
		return nil, true, r.recErr(start, b.err)
	}
	depth := len(r.stack)
	for {
		k, err := r.scan()
		if err != nil {
			return nil, true, err
		}
		switch k {
		case xmlEOF:
			return nil, true, r.syntaxErr(r.end, "input ends inside <record>")
		case xmlText:
			if !r.tCDATA && isXMLSpace(r.tText) {
				continue
			}
			if !sure {
				return nil, false, nil // mixed content: not MARC
			}
			b.warn("", fmt.Sprintf("text between fields ignored: %q", clip(r.tText)))
		case xmlEnd:
			if err := r.popElem(); err != nil {
				return nil, true, err
			}
			if len(r.stack) < depth {
				if !sure {
					return nil, false, nil // no MARC child at all
				}
				r.index++
				r.off = start
				rec, err := b.finish()
				if err != nil {
					return nil, true, r.recErr(start, err)
				}
				return rec, true, nil
			}
		case xmlStart:
			if err := r.pushElem(); err != nil {
				return nil, true, err
			}
			local, cu := r.resolve(r.tName)
			child := cu == uri && isMARCChild(local)
			if !sure {
				if !child {
					// Not a MARC record: let the caller handle this
					// element as ordinary content.
					r.popEmpty()
					r.pending = true
					return nil, false, nil
				}
				sure = true
			}
			if !child {
				b.warn("", fmt.Sprintf("element <%s> in a record ignored", r.tName))
				if err := r.skip(); err != nil {
					return nil, true, err
				}
				continue
			}
			if err := r.readField(local, uri); err != nil {
				return nil, true, err
			}
		}
	}
}

func isMARCChild(local []byte) bool {
	switch string(local) {
	case "leader", "controlfield", "datafield":
		return true
	}
	return false
}

func (r *XMLReader) recErr(off int64, err error) error {
	return &RecordError{Source: r.opts.Source, Index: r.index, Offset: off, Err: err}
}

// attr returns the value of the named attribute of the current start tag.
func (r *XMLReader) attr(name string) ([]byte, bool, error) {
	for _, a := range r.tAttrs {
		if string(a.name) == name {
			v, err := r.attrValue(a)
			return v, true, err
		}
	}
	return nil, false, nil
}

// readField reads a leader, controlfield or datafield element whose start
// tag is the current token.
func (r *XMLReader) readField(local []byte, uri string) error {
	b := &r.b
	switch string(local) {
	case "leader":
		a := b.mark()
		if err := r.readText(nil); err != nil {
			return err
		}
		if b.nlead == 0 {
			b.leader = span{a, b.mark()}
		}
		b.nlead++
		return nil
	case "controlfield":
		v, ok, err := r.attr("tag")
		if err != nil {
			return err
		}
		tag, keep := b.addTag("controlfield", v, ok)
		ts := b.text[tag.a:tag.b:tag.b]
		a := b.mark()
		if err := r.readText(ts); err != nil {
			return err
		}
		if keep {
			if ts[0] != '0' || ts[1] != '0' {
				b.warn(string(ts), "controlfield with a data field tag")
			}
			b.fields = append(b.fields, xfield{tag: tag, value: span{a, b.mark()}, control: true})
		}
		return nil
	}
	// datafield
	v, ok, err := r.attr("tag")
	if err != nil {
		return err
	}
	tag, keep := b.addTag("datafield", v, ok)
	ts := b.text[tag.a:tag.b:tag.b]
	f := xfield{tag: tag}
	v, ok, err = r.attr("ind1")
	if err != nil {
		return err
	}
	f.ind1 = b.indicator(ts, "ind1", v, ok)
	v, ok, err = r.attr("ind2")
	if err != nil {
		return err
	}
	f.ind2 = b.indicator(ts, "ind2", v, ok)
	f.sub0 = len(b.subs)
	if r.tEmpty {
		r.popEmpty()
	} else {
		depth := len(r.stack)
	loop:
		for {
			k, err := r.scan()
			if err != nil {
				return err
			}
			switch k {
			case xmlEOF:
				return r.syntaxErr(r.end, "input ends inside <datafield>")
			case xmlText:
				if r.tCDATA || !isXMLSpace(r.tText) {
					b.warn(string(ts), fmt.Sprintf("text outside subfields ignored: %q", clip(r.tText)))
				}
			case xmlEnd:
				if err := r.popElem(); err != nil {
					return err
				}
				if len(r.stack) < depth {
					break loop
				}
			case xmlStart:
				if err := r.pushElem(); err != nil {
					return err
				}
				local, cu := r.resolve(r.tName)
				if string(local) != "subfield" || cu != uri {
					b.warn(string(ts), fmt.Sprintf("element <%s> in a datafield ignored", r.tName))
					if err := r.skip(); err != nil {
						return err
					}
					continue
				}
				code, ok, err := r.attr("code")
				if err != nil {
					return err
				}
				c := byte(0)
				switch {
				case !ok:
					b.fail("field %s: <subfield> without a code attribute", ts)
				case len(code) == 1 && code[0] > 0x20 && code[0] < 0x7F:
					c = code[0]
				default:
					b.warn(string(ts), fmt.Sprintf("subfield with code %q dropped", code))
				}
				a := b.mark()
				if err := r.readText(ts); err != nil {
					return err
				}
				if c != 0 {
					b.subs = append(b.subs, xsub{code: c, val: span{a, b.mark()}})
				} else {
					b.text = b.text[:a]
				}
			}
		}
	}
	f.sub1 = len(b.subs)
	if keep {
		b.fields = append(b.fields, f)
	} else {
		b.subs = b.subs[:f.sub0]
	}
	return nil
}

// readText appends the text content of the current element (which must
// hold no elements) to the builder, decoded.
func (r *XMLReader) readText(tag []byte) error {
	b := &r.b
	if r.tEmpty {
		r.popEmpty()
		return nil
	}
	depth := len(r.stack)
	for {
		k, err := r.scan()
		if err != nil {
			return err
		}
		switch k {
		case xmlEOF:
			return r.syntaxErr(r.end, "input ends inside an element")
		case xmlText:
			if r.tCDATA {
				dropped := 0
				b.text, dropped = appendCDATA(b.text, r.tText)
				if dropped > 0 {
					b.warn(string(tag), fmt.Sprintf("%d characters not allowed in XML dropped", dropped))
				}
				b.high = b.high || !isASCIIBytes(r.tText)
				continue
			}
			if err := r.appendText(tag, r.tText); err != nil {
				return err
			}
		case xmlEnd:
			if err := r.popElem(); err != nil {
				return err
			}
			if len(r.stack) < depth {
				return nil
			}
		case xmlStart:
			if err := r.pushElem(); err != nil {
				return err
			}
			b.fail("element <%s> inside a text-only element", r.tName)
			if err := r.skip(); err != nil {
				return err
			}
		}
	}
}

// textClass flags the bytes of character data that need more than a copy.
var textClass = func() (t [256]uint8) {
	for c := 0; c < 0x20; c++ {
		t[c] = 1 // control: dropped unless tab or line feed
	}
	t['\t'], t['\n'] = 0, 0
	t['\r'] = 1
	t['&'] = 1
	for c := 0x80; c < 0x100; c++ {
		t[c] = 2
	}
	return t
}()

// appendText decodes raw character data into the builder: entity and
// character references, line-end normalisation, dropping of characters
// that XML 1.0 does not allow.
func (r *XMLReader) appendText(tag []byte, raw []byte) error {
	b := &r.b
	var cls uint8
	for _, c := range raw {
		cls |= textClass[c]
	}
	if cls&2 != 0 {
		b.high = true
	}
	if cls&1 == 0 {
		b.text = append(b.text, raw...)
		return nil
	}
	dropped := 0
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '&':
			j := bytes.IndexByte(raw[i:], ';')
			if j < 0 {
				return r.syntaxErr(r.pos-len(raw)+i, "unterminated entity reference")
			}
			ent := raw[i+1 : i+j]
			var ok bool
			var n int
			b.text, n, ok = appendEntity(b.text, ent)
			if !ok {
				return r.syntaxErr(r.pos-len(raw)+i, "unknown or invalid entity &%s;", clip(ent))
			}
			if n < 0 {
				dropped++
			} else if n > 0x7F {
				b.high = true
			}
			i += j + 1
		case c == '\r':
			b.text = append(b.text, '\n')
			i++
			if i < len(raw) && raw[i] == '\n' {
				i++
			}
		case c < 0x20 && c != '\t' && c != '\n':
			dropped++
			i++
		default:
			j := i + 1
			for j < len(raw) && textClass[raw[j]]&1 == 0 {
				j++
			}
			b.text = append(b.text, raw[i:j]...)
			i = j
		}
	}
	if dropped > 0 {
		b.warn(string(tag), fmt.Sprintf("%d characters not allowed in XML dropped", dropped))
	}
	return nil
}

// appendXMLChars appends s without the characters XML 1.0 forbids (C0
// controls other than tab, line feed and carriage return), returning how
// many were dropped.
func appendXMLChars(dst, s []byte) ([]byte, int) {
	dropped := 0
	for _, c := range s {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			dropped++
			continue
		}
		dst = append(dst, c)
	}
	return dst, dropped
}

// appendCDATA is appendXMLChars with XML's line-end normalisation, for
// CDATA sections read straight from the document.
func appendCDATA(dst, s []byte) ([]byte, int) {
	dropped := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r':
			dst = append(dst, '\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case c < 0x20 && c != '\t' && c != '\n':
			dropped++
		default:
			dst = append(dst, c)
		}
	}
	return dst, dropped
}

// appendEntity appends the character an entity or character reference
// (without & and ;) stands for. n is the code point, -1 when it is one XML
// does not allow (and nothing was appended); ok is false for an unknown
// entity or malformed reference.
func appendEntity(dst, ent []byte) (out []byte, n int, ok bool) {
	switch string(ent) {
	case "lt":
		return append(dst, '<'), '<', true
	case "gt":
		return append(dst, '>'), '>', true
	case "amp":
		return append(dst, '&'), '&', true
	case "quot":
		return append(dst, '"'), '"', true
	case "apos":
		return append(dst, '\''), '\'', true
	}
	if len(ent) < 2 || ent[0] != '#' {
		return dst, 0, false
	}
	v := 0
	digits := ent[1:]
	if digits[0] == 'x' {
		digits = digits[1:]
		if len(digits) == 0 {
			return dst, 0, false
		}
		for _, c := range digits {
			var d int
			switch {
			case c >= '0' && c <= '9':
				d = int(c - '0')
			case c >= 'a' && c <= 'f':
				d = int(c-'a') + 10
			case c >= 'A' && c <= 'F':
				d = int(c-'A') + 10
			default:
				return dst, 0, false
			}
			v = v*16 + d
			if v > 0x10FFFF {
				return dst, 0, false
			}
		}
	} else {
		for _, c := range digits {
			if c < '0' || c > '9' {
				return dst, 0, false
			}
			v = v*10 + int(c-'0')
			if v > 0x10FFFF {
				return dst, 0, false
			}
		}
	}
	if !isXMLChar(rune(v)) {
		return dst, -1, true
	}
	return utf8.AppendRune(dst, rune(v)), v, true
}

// isXMLChar reports whether XML 1.0 allows c in a document.
func isXMLChar(c rune) bool {
	switch {
	case c == '\t' || c == '\n' || c == '\r':
		return true
	case c < 0x20:
		return false
	case c <= 0xD7FF:
		return true
	case c < 0xE000:
		return false
	case c <= 0xFFFD:
		return true
	}
	return c >= 0x10000 && c <= 0x10FFFF
}

// attrValue decodes an attribute value: references, and literal white
// space normalised to blanks as XML requires.
func (r *XMLReader) attrValue(a xmlAttr) ([]byte, error) {
	clean := true
	for _, c := range a.val {
		if c == '&' || c < 0x20 {
			clean = false
			break
		}
	}
	if clean {
		return a.val, nil
	}
	out := r.scratch[:0]
	for i := 0; i < len(a.val); {
		c := a.val[i]
		switch {
		case c == '&':
			j := bytes.IndexByte(a.val[i:], ';')
			if j < 0 {
				return nil, r.syntaxErr(r.pos, "unterminated entity reference in attribute %s", a.name)
			}
			var ok bool
			out, _, ok = appendEntity(out, a.val[i+1:i+j])
			if !ok {
				return nil, r.syntaxErr(r.pos, "unknown or invalid entity &%s; in attribute %s", clip(a.val[i+1:i+j]), a.name)
			}
			i += j + 1
		case c == '\r' && i+1 < len(a.val) && a.val[i+1] == '\n':
			out = append(out, ' ')
			i += 2
		case c == '\t' || c == '\n' || c == '\r':
			out = append(out, ' ')
			i++
		case c < 0x20:
			i++ // not allowed in XML: dropped
		default:
			out = append(out, c)
			i++
		}
	}
	r.scratch = out
	return out, nil
}

// pushElem opens the current start tag's element: its namespace
// declarations take effect and its name is remembered for the end tag.
func (r *XMLReader) pushElem() error {
	nsBefore := len(r.ns)
	for _, a := range r.tAttrs {
		if len(a.name) < 5 || string(a.name[:5]) != "xmlns" {
			continue
		}
		var prefix []byte
		if len(a.name) > 5 {
			if a.name[5] != ':' {
				continue
			}
			prefix = a.name[6:]
		}
		v, err := r.attrValue(a)
		if err != nil {
			return err
		}
		r.ns = append(r.ns, nsBinding{prefix: r.intern(prefix), uri: r.intern(v)})
	}
	n0 := len(r.names)
	r.names = append(r.names, r.tName...)
	r.stack = append(r.stack, xmlElem{name0: n0, name1: len(r.names), ns: nsBefore})
	return nil
}

// popEmpty closes the element just pushed for a self-closing tag (or one
// handed back to the caller).
func (r *XMLReader) popEmpty() {
	e := r.stack[len(r.stack)-1]
	r.stack = r.stack[:len(r.stack)-1]
	r.names = r.names[:e.name0]
	r.ns = r.ns[:e.ns]
}

// popElem closes the element the current end tag ends.
func (r *XMLReader) popElem() error {
	if len(r.stack) == 0 {
		return r.syntaxErr(r.pos, "end tag </%s> without a start tag", r.tName)
	}
	e := r.stack[len(r.stack)-1]
	if !bytes.Equal(r.names[e.name0:e.name1], r.tName) {
		return r.syntaxErr(r.pos, "end tag </%s> does not match <%s>", r.tName, r.names[e.name0:e.name1])
	}
	r.stack = r.stack[:len(r.stack)-1]
	r.names = r.names[:e.name0]
	r.ns = r.ns[:e.ns]
	return nil
}

// skip reads past the end of the element just pushed.
func (r *XMLReader) skip() error {
	if r.tEmpty {
		r.popEmpty()
		return nil
	}
	depth := len(r.stack)
	for len(r.stack) >= depth {
		k, err := r.scan()
		if err != nil {
			return err
		}
		switch k {
		case xmlEOF:
			return r.syntaxErr(r.end, "input ends inside <%s>", r.names[r.stack[len(r.stack)-1].name0:r.stack[len(r.stack)-1].name1])
		case xmlStart:
			if err := r.pushElem(); err != nil {
				return err
			}
			if r.tEmpty {
				r.popEmpty()
			}
		case xmlEnd:
			if err := r.popElem(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *XMLReader) intern(b []byte) string {
	if s, ok := r.interns[string(b)]; ok {
		return s
	}
	if r.interns == nil {
		r.interns = make(map[string]string)
	}
	s := string(b)
	if len(r.interns) < 1000 {
		r.interns[s] = s
	}
	return s
}

// resolve splits a qualified name and finds its namespace.
func (r *XMLReader) resolve(qname []byte) (local []byte, uri string) {
	var prefix []byte
	local = qname
	if i := bytes.IndexByte(qname, ':'); i >= 0 {
		prefix, local = qname[:i], qname[i+1:]
	}
	for k := len(r.ns) - 1; k >= 0; k-- {
		if r.ns[k].prefix == string(prefix) {
			return local, r.ns[k].uri
		}
	}
	return local, ""
}

// nameByte marks the bytes that may appear in an XML name (approximately:
// every non-ASCII byte is allowed, as UTF-8 names are).
var nameByte = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '_' || c == ':' || c == '-' || c == '.'
	}
	return t
}()

func isNameStart(c byte) bool {
	return nameByte[c] && !(c >= '0' && c <= '9') && c != '-' && c != '.'
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// scan reads the next token that matters: start tag, end tag, character
// data or CDATA. Comments, processing instructions and the document type
// declaration are checked for termination and skipped.
func (r *XMLReader) scan() (xmlTok, error) {
	if !r.begun {
		if err := r.begin(); err != nil {
			return xmlEOF, err
		}
	}
	for {
		if r.pos >= r.end {
			r.fill(1)
			if r.pos >= r.end {
				r.tKind = xmlEOF
				return xmlEOF, nil
			}
		}
		r.tOff = r.base + int64(r.pos)
		if r.buf[r.pos] != '<' {
			return r.scanText()
		}
		if r.end-r.pos < 9 {
			r.fill(9)
		}
		b := r.buf[r.pos:r.end]
		switch {
		case len(b) < 2:
			return xmlEOF, r.syntaxErr(r.pos, "input ends after '<'")
		case b[1] == '/':
			return r.scanEnd()
		case b[1] == '?':
			i, err := r.find(2, "?>", "processing instruction")
			if err != nil {
				return xmlEOF, err
			}
			r.pos += i + 2
		case bytes.HasPrefix(b, []byte("<!--")):
			i, err := r.find(4, "-->", "comment")
			if err != nil {
				return xmlEOF, err
			}
			r.pos += i + 3
		case bytes.HasPrefix(b, []byte("<![CDATA[")):
			i, err := r.find(9, "]]>", "CDATA section")
			if err != nil {
				return xmlEOF, err
			}
			r.tText = r.buf[r.pos+9 : r.pos+i]
			r.tCDATA = true
			r.pos += i + 3
			r.tKind = xmlText
			return xmlText, nil
		case b[1] == '!':
			if err := r.skipDecl(); err != nil {
				return xmlEOF, err
			}
		default:
			return r.scanStart()
		}
	}
}

// find returns the index, relative to r.pos, of sep at or after from,
// reading more input as needed.
func (r *XMLReader) find(from int, sep, what string) (int, error) {
	for {
		if i := bytes.Index(r.buf[r.pos+from:r.end], []byte(sep)); i >= 0 {
			return from + i, nil
		}
		from = max(from, r.end-r.pos-len(sep)+1)
		if !r.more() {
			return 0, r.syntaxErr(r.pos, "unterminated %s", what)
		}
	}
}

// skipDecl skips <!DOCTYPE ...> (with an internal subset) or another
// markup declaration.
func (r *XMLReader) skipDecl() error {
	depth := 0
	var quote byte
	for i := 2; ; i++ {
		if r.pos+i >= r.end && !r.more() {
			return r.syntaxErr(r.pos, "unterminated markup declaration")
		}
		c := r.buf[r.pos+i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			r.pos += i + 1
			return nil
		}
	}
}

// scanText reads character data up to the next '<'. Very long text is
// returned in pieces, cut where no reference is split.
func (r *XMLReader) scanText() (xmlTok, error) {
	r.tCDATA = false
	r.tKind = xmlText
	for {
		b := r.buf[r.pos:r.end]
		if i := bytes.IndexByte(b, '<'); i >= 0 {
			r.tText = b[:i]
			r.pos += i
			return xmlText, nil
		}
		if len(b) >= xmlChunk {
			cut := len(b)
			if a := bytes.LastIndexByte(b, '&'); a >= 0 && bytes.IndexByte(b[a:], ';') < 0 {
				cut = a
			}
			if cut > 0 && b[cut-1] == '\r' {
				cut--
			}
			if cut > 0 {
				r.tText = b[:cut]
				r.pos += cut
				return xmlText, nil
			}
		}
		if !r.more() {
			r.tText = r.buf[r.pos:r.end]
			r.pos = r.end
			return xmlText, nil
		}
	}
}

// scanEnd reads an end tag.
func (r *XMLReader) scanEnd() (xmlTok, error) {
	for {
		b := r.buf[r.pos:r.end]
		i := 2
		for i < len(b) && nameByte[b[i]] {
			i++
		}
		j := i
		for j < len(b) && isSpaceByte(b[j]) {
			j++
		}
		if j < len(b) {
			if b[j] != '>' || i == 2 || !isNameStart(b[2]) {
				return xmlEOF, r.syntaxErr(r.pos+j, "malformed end tag %q", clip(b[:j+1]))
			}
			r.tName = b[2:i]
			r.pos += j + 1
			r.tKind = xmlEnd
			return xmlEnd, nil
		}
		if !r.more() {
			return xmlEOF, r.syntaxErr(r.pos, "unterminated end tag")
		}
	}
}

// scanStart reads a start tag with its attributes.
func (r *XMLReader) scanStart() (xmlTok, error) {
	for {
		n, err := r.parseStart(r.buf[r.pos:r.end])
		if err != nil {
			return xmlEOF, err
		}
		if n > 0 {
			r.pos += n
			r.tKind = xmlStart
			return xmlStart, nil
		}
		if !r.more() {
			return xmlEOF, r.syntaxErr(r.pos, "unterminated start tag")
		}
	}
}

// parseStart parses the start tag at the beginning of b. It returns the
// tag's length, or 0 when b does not hold all of it.
func (r *XMLReader) parseStart(b []byte) (int, error) {
	i := 1
	for i < len(b) && nameByte[b[i]] {
		i++
	}
	if i == len(b) {
		return 0, nil
	}
	if i == 1 || !isNameStart(b[1]) {
		return 0, r.syntaxErr(r.pos, "invalid element name in %q", clip(b[:i+1]))
	}
	r.tName = b[1:i]
	r.tAttrs = r.tAttrs[:0]
	for {
		ws := i
		for i < len(b) && isSpaceByte(b[i]) {
			i++
		}
		if i >= len(b) {
			return 0, nil
		}
		switch b[i] {
		case '>':
			r.tEmpty = false
			return i + 1, nil
		case '/':
			if i+1 >= len(b) {
				return 0, nil
			}
			if b[i+1] != '>' {
				return 0, r.syntaxErr(r.pos+i, "expected '>' after '/' in <%s>", r.tName)
			}
			r.tEmpty = true
			return i + 2, nil
		}
		if i == ws {
			return 0, r.syntaxErr(r.pos+i, "expected white space before attribute in <%s>", r.tName)
		}
		a := i
		for i < len(b) && nameByte[b[i]] {
			i++
		}
		if i >= len(b) {
			return 0, nil
		}
		if i == a || !isNameStart(b[a]) {
			return 0, r.syntaxErr(r.pos+a, "invalid attribute name in <%s>", r.tName)
		}
		name := b[a:i]
		for i < len(b) && isSpaceByte(b[i]) {
			i++
		}
		if i >= len(b) {
			return 0, nil
		}
		if b[i] != '=' {
			return 0, r.syntaxErr(r.pos+i, "expected '=' after attribute %s in <%s>", name, r.tName)
		}
		i++
		for i < len(b) && isSpaceByte(b[i]) {
			i++
		}
		if i >= len(b) {
			return 0, nil
		}
		q := b[i]
		if q != '"' && q != '\'' {
			return 0, r.syntaxErr(r.pos+i, "attribute %s value not quoted in <%s>", name, r.tName)
		}
		e := bytes.IndexByte(b[i+1:], q)
		if e < 0 {
			return 0, nil
		}
		val := b[i+1 : i+1+e]
		if bytes.IndexByte(val, '<') >= 0 {
			return 0, r.syntaxErr(r.pos+i, "'<' in the value of attribute %s", name)
		}
		for _, x := range r.tAttrs {
			if bytes.Equal(x.name, name) {
				return 0, r.syntaxErr(r.pos+a, "attribute %s repeated in <%s>", name, r.tName)
			}
		}
		r.tAttrs = append(r.tAttrs, xmlAttr{name: name, val: val})
		i += e + 2
	}
}

// begin handles a byte order mark and the encoding named in the XML
// declaration, switching to a decoder for encodings other than UTF-8.
func (r *XMLReader) begin() error {
	r.begun = true
	r.fill(4)
	b := r.buf[r.pos:r.end]
	var dec *encoding.Decoder
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		r.pos += 3
		return nil
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}), bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		dec = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()
	case bytes.HasPrefix(b, []byte("<?xml")):
		i, err := r.find(5, "?>", "XML declaration")
		if err != nil {
			return err
		}
		name := declEncoding(r.buf[r.pos : r.pos+i])
		switch strings.ToLower(name) {
		case "", "utf-8", "utf8", "us-ascii", "ascii":
			return nil
		case "iso-8859-1", "latin1", "latin-1", "l1", "iso_8859-1", "iso8859-1":
			dec = charmap.ISO8859_1.NewDecoder()
		case "windows-1252", "cp1252":
			dec = charmap.Windows1252.NewDecoder()
		case "windows-1258", "cp1258":
			dec = charmap.Windows1258.NewDecoder()
		case "utf-16", "utf16":
			return r.syntaxErr(r.pos, "UTF-16 document without a byte order mark")
		default:
			return r.syntaxErr(r.pos, "unsupported encoding %q", name)
		}
	default:
		return nil
	}
	// Re-read everything not yet consumed through the decoder; offsets
	// from here on count decoded bytes.
	rest := append([]byte(nil), r.buf[r.pos:r.end]...)
	r.src = transform.NewReader(io.MultiReader(bytes.NewReader(rest), r.src), dec)
	r.base += int64(r.pos)
	r.lines += bytes.Count(r.buf[:r.pos], []byte{'\n'})
	r.pos, r.end = 0, 0
	r.eof = false
	return nil
}

// declEncoding returns the encoding pseudo-attribute of an XML declaration.
func declEncoding(decl []byte) string {
	i := bytes.Index(decl, []byte("encoding"))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(decl[i+len("encoding"):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '=' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
		return ""
	}
	e := bytes.IndexByte(rest[1:], rest[0])
	if e < 0 {
		return ""
	}
	return string(rest[1 : 1+e])
}

// ReadXMLRecord reads one MARCXML record with an encoding/xml Decoder, for
// callers that meet MARC records inside their own token loop (an OAI-PMH
// harvester reading <metadata>, an SRU client reading <recordData>). start
// is the record's start element, just returned by d.Token (use Token, not
// RawToken: namespaces must be resolved). ReadXMLRecord consumes tokens up
// to and including the matching end element, so the caller's loop carries
// on after the record.
//
// A record that is well-formed but not usable MARC yields a *RecordError
// (Index 0, Offset where the record ended) and the decoder is still
// positioned after the record; an error from the decoder itself is
// returned as is and ends the document.
func ReadXMLRecord(d *xml.Decoder, start xml.StartElement) (*Record, []Warning, error) {
	return ReadXMLRecordCharset(d, start, CharsetAuto)
}

// ReadXMLRecordCharset is ReadXMLRecord with a charset setting, as
// NewXMLReader applies it.
func ReadXMLRecordCharset(d *xml.Decoder, start xml.StartElement, cs Charset) (*Record, []Warning, error) {
	b := xmlRecBuilder{cs: cs}
	uri := start.Name.Space
	depth := 0 // elements open inside the record
	var cur struct {
		kind  string // "leader", "controlfield", "subfield" or ""
		tag   span
		ts    string
		keep  bool
		a     int
		code  byte
		field xfield
		infld bool
	}
	attr := func(e xml.StartElement, name string) ([]byte, bool) {
		for _, a := range e.Attr {
			if a.Name.Local == name && a.Name.Space == "" {
				return []byte(a.Value), true
			}
		}
		return nil, false
	}
	skipped := 0 // depth inside elements being ignored
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, nil, fmt.Errorf("marc: MARCXML record: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if skipped > 0 {
				skipped++
				continue
			}
			switch {
			case cur.kind != "":
				b.fail("element <%s> inside a text-only element", t.Name.Local)
				skipped = 1
			case cur.infld:
				if t.Name.Local != "subfield" || t.Name.Space != uri {
					b.warn(cur.ts, fmt.Sprintf("element <%s> in a datafield ignored", t.Name.Local))
					skipped = 1
					continue
				}
				code, ok := attr(t, "code")
				cur.code = 0
				switch {
				case !ok:
					b.fail("field %s: <subfield> without a code attribute", cur.ts)
				case len(code) == 1 && code[0] > 0x20 && code[0] < 0x7F:
					cur.code = code[0]
				default:
					b.warn(cur.ts, fmt.Sprintf("subfield with code %q dropped", code))
				}
				cur.kind, cur.a = "subfield", b.mark()
			case depth == 1 && t.Name.Space == uri && (t.Name.Local == "leader" || t.Name.Local == "controlfield"):
				cur.kind, cur.a = t.Name.Local, b.mark()
				if t.Name.Local == "controlfield" {
					v, ok := attr(t, "tag")
					cur.tag, cur.keep = b.addTag("controlfield", v, ok)
					cur.ts = string(b.text[cur.tag.a:cur.tag.b])
					cur.a = b.mark()
				}
			case depth == 1 && t.Name.Space == uri && t.Name.Local == "datafield":
				v, ok := attr(t, "tag")
				cur.tag, cur.keep = b.addTag("datafield", v, ok)
				cur.ts = string(b.text[cur.tag.a:cur.tag.b])
				cur.field = xfield{tag: cur.tag, sub0: len(b.subs)}
				v, ok = attr(t, "ind1")
				cur.field.ind1 = b.indicator([]byte(cur.ts), "ind1", v, ok)
				v, ok = attr(t, "ind2")
				cur.field.ind2 = b.indicator([]byte(cur.ts), "ind2", v, ok)
				cur.infld = true
			default:
				b.warn("", fmt.Sprintf("element <%s> in a record ignored", t.Name.Local))
				skipped = 1
			}
		case xml.EndElement:
			depth--
			if depth < 0 {
				rec, err := b.finish()
				if err != nil {
					return nil, nil, &RecordError{Offset: d.InputOffset(), Err: err}
				}
				return rec, b.warns, nil
			}
			if skipped > 0 {
				skipped--
				continue
			}
			switch cur.kind {
			case "leader":
				if b.nlead == 0 {
					b.leader = span{cur.a, b.mark()}
				}
				b.nlead++
			case "controlfield":
				if cur.keep {
					if !IsControlTag(cur.ts) {
						b.warn(cur.ts, "controlfield with a data field tag")
					}
					b.fields = append(b.fields, xfield{tag: cur.tag, value: span{cur.a, b.mark()}, control: true})
				}
			case "subfield":
				if cur.code != 0 {
					b.subs = append(b.subs, xsub{code: cur.code, val: span{cur.a, b.mark()}})
				} else {
					b.text = b.text[:cur.a]
				}
				cur.kind = ""
				continue
			default:
				if cur.infld {
					cur.infld = false
					cur.field.sub1 = len(b.subs)
					if cur.keep {
						b.fields = append(b.fields, cur.field)
					} else {
						b.subs = b.subs[:cur.field.sub0]
					}
				}
			}
			cur.kind = ""
		case xml.CharData:
			if skipped > 0 {
				continue
			}
			if cur.kind == "" {
				if !isXMLSpace(t) {
					b.warn(cur.ts, fmt.Sprintf("text between fields ignored: %q", clip(t)))
				}
				continue
			}
			var dropped int
			b.text, dropped = appendXMLChars(b.text, t)
			if dropped > 0 {
				b.warn(cur.ts, fmt.Sprintf("%d characters not allowed in XML dropped", dropped))
			}
			if !isASCIIBytes(t) {
				b.high = true
			}
		}
	}
}

// MARCXMLNamespace is the namespace of MARCXML (MARC 21 slim).
const MARCXMLNamespace = "http://www.loc.gov/MARC21/slim"

// xmlRecBuilder collects one MARCXML record's content as its parser meets
// it. Every value, tag and the leader go into one byte slice so that the
// finished record needs a single string allocation for all its text. It is
// shared by the streaming XMLReader and by ReadXMLRecord (encoding/xml).
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
}

func (b *xmlRecBuilder) warn(tag, msg string) {
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

func (b *xmlRecBuilder) appendString(s string) {
	b.text = append(b.text, s...)
}

// checkTag validates a tag attribute and stores it; ok is false when the
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

// finish turns the collected content into a Record.
func (b *xmlRecBuilder) finish() (*Record, error) {
	if b.err != nil {
		return nil, b.err
	}
	if b.nlead == 0 {
		return nil, errors.New("record has no leader")
	}
	if b.nlead > 1 {
		b.warn("", "more than one leader; the first is used")
	}
	// Normalise the leader in place at the end of the text so that it is
	// sliced from the same string as everything else.
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

	auto := b.cs == CharsetAuto || b.cs == CharsetLabel
	fast := !b.high
	if !fast && isUTF8NFC(&b.nfc, b.text) {
		// Under a legacy charset setting the text's bytes are that
		// charset's; without one, fields made of single-byte code page
		// characters may be mojibake and are weighed.
		fast = b.cs == CharsetUTF8 || b.cs == CharsetLabel || auto && !b.anyLegacy()
	}
	var readings []reading
	if !fast {
		readings = b.readings(auto)
	}
	s := string(b.text)
	var rd reading
	var used, seen []Charset
	changed, replaced := false, 0
	val := func(tag string, sp span) string {
		if fast || isASCIIBytes(b.text[sp.a:sp.b]) {
			return s[sp.a:sp.b]
		}
		in := b.text[sp.a:sp.b]
		v, ok := "", false
		if auto {
			v, ok = b.det.taken(sp.a, sp.b-sp.a, rd)
		}
		if !ok {
			var warns []string
			v, warns = b.det.dec.convert(rd, in)
			for _, w := range warns {
				b.warn(tag, w)
			}
		}
		if v != string(in) {
			changed = true
			replaced += replacedIn(v, in)
		}
		return v
	}
	rec := &Record{Leader: s[la : la+LeaderLen], Fields: make([]Field, len(b.fields))}
	var subs []Subfield
	if len(b.subs) > 0 {
		subs = make([]Subfield, len(b.subs))
	}
	for i := range b.fields {
		xf := &b.fields[i]
		f := &rec.Fields[i]
		f.Tag = s[xf.tag.a:xf.tag.b]
		if readings != nil {
			rd, changed = readings[i], false
		}
		if xf.control {
			f.Value = val(f.Tag, xf.value)
		} else {
			f.Ind1, f.Ind2 = xf.ind1, xf.ind2
			if xf.sub1 > xf.sub0 {
				for j := xf.sub0; j < xf.sub1; j++ {
					subs[j] = Subfield{Code: b.subs[j].code, Value: val(f.Tag, b.subs[j].val)}
				}
				f.Subfields = subs[xf.sub0:xf.sub1:xf.sub1]
			}
		}
		if readings != nil && b.fieldHigh(xf) {
			seen = append(seen, rd.cs)
		}
		if changed {
			used = append(used, rd.cs)
		}
	}
	if len(used) > 0 {
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
	return rec, nil
}

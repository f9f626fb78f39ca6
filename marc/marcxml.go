package marc

import (
	"errors"
	"fmt"
	"io"
)

// XMLSyntaxError reports XML that is not well-formed. Outside a record the
// reader cannot go past it: every later call to Next returns the same
// error. Inside one it is wrapped in the *RecordError of that record.
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
// encoding/xml, which is several times slower; with more than one core, the
// records it scans are finished on another (marcxml_ahead.go). It checks
// well-formedness (tag nesting, attribute syntax, entity and character
// references). A violation inside a record costs that record: it is
// reported as a *RecordError wrapping the *XMLSyntaxError, and reading goes
// on after the record (see resync); a violation outside any record is an
// *XMLSyntaxError that ends the stream. A record that is well-formed XML
// but not a usable MARC record (no leader, a field without a tag), or
// larger than ReaderOptions.MaxRecordBytes as ISO 2709, is reported as a
// *RecordError and reading continues with the next record; a record too
// large is read to its end without being kept. Its time and memory are
// linear in the input and bounded whatever it holds (see maxTagBytes). Text
// is returned in NFC; characters XML 1.0 forbids are dropped with a
// warning. Documents in UTF-8, UTF-16 (with BOM), ISO 8859-1, Windows-1252
// and Windows-1258 are read; byte offsets then refer to the UTF-8 form.
type XMLReader struct {
	window
	opts  ReaderOptions
	lines int  // newlines before buf[0]
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

	inCDATA bool // inside a CDATA section returned in pieces
	// recDepth is the depth of the MARC record being read, 0 outside
	// one: an element of its name inside it starts the next record.
	recDepth int

	stack    []xmlElem
	names    []byte
	ns       []nsBinding
	nsTop    map[string]int // prefix → its innermost binding in ns
	attrSeen map[string]struct{}
	interns  map[string]string
	scratch  []byte

	index int
	off   int64
	b     *xmlRecBuilder // the record being scanned
	ahead *xmlAhead      // nil: each record is finished in Next (marcxml_ahead.go)
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

// nsBinding is a namespace declaration in force; prev is the binding of
// the same prefix it hides (-1 when none).
type nsBinding struct {
	prefix, uri string
	prev        int
}

// NewXMLReader returns a reader of MARCXML records from r. The document
// declares its own encoding, so the text is Unicode; without a charset
// setting each record's fields are still checked for mojibake (text in a
// legacy encoding that went through a single-byte code page, UTF-8
// encoded twice: see detect.go), and a legacy charset setting (tcvn3,
// vni, windows-1258) reads the bytes such text was decoded from.
func NewXMLReader(r io.Reader, opts ReaderOptions) *XMLReader {
	return &XMLReader{window: window{src: r}, opts: opts, b: newXMLRecBuilder(opts), ahead: xmlAheadFor()}
}

func newXMLRecBuilder(opts ReaderOptions) *xmlRecBuilder {
	return &xmlRecBuilder{cs: opts.Charset, max: opts.maxRecordBytes()}
}

// Warnings returns the non-fatal problems found in the record last
// returned by Next.
func (r *XMLReader) Warnings() []Warning {
	if r.ahead != nil {
		return r.ahead.warns
	}
	return r.b.warns
}

// Offset returns the byte offset of the start tag of the record (or
// record error) last returned by Next.
func (r *XMLReader) Offset() int64 {
	if r.ahead != nil {
		return r.ahead.off
	}
	return r.off
}

// Next returns the next MARC record in the document.
func (r *XMLReader) Next() (*Record, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.ahead != nil {
		return r.nextAhead()
	}
	r.b.warns = nil
	r.b.slab.reset(r.opts.ReuseRecords)
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
			start, depth := r.tOff, len(r.stack)
			rec, isRec, err := r.readRecord(uri)
			r.recDepth = 0
			var se *XMLSyntaxError
			if errors.As(err, &se) && r.resync(depth) {
				r.index++
				r.off = start
				return nil, r.recErr(start, recordSyntaxError{se})
			}
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
	b := r.b
	b.reset()
	if sure {
		r.recDepth = len(r.stack)
	}
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
				rec, err := r.endRecord(start)
				return rec, true, err
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
				r.recDepth = depth
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

// endRecord makes the record whose end tag was just read, started at
// start, or its error.
func (r *XMLReader) endRecord(start int64) (*Record, error) {
	b := r.b
	r.index++
	r.off = start
	if b.over {
		return nil, r.recErr(start, fmt.Errorf("%w: %d bytes as ISO 2709, more than the %d allowed",
			ErrRecordTooLarge, b.size(), b.max))
	}
	if r.ahead != nil {
		r.deferRecord(start)
		return nil, errDeferred
	}
	return b.finishRecord(&b.slab, r.opts.Source, r.index, start)
}

// finishRecord makes the Record of the record b holds, record index of
// source at offset off, carved from slab, or its error.
func (b *xmlRecBuilder) finishRecord(slab *recordSlab, source string, index int, off int64) (*Record, error) {
	rec, err := b.finish(slab)
	if err != nil {
		return nil, &RecordError{Source: source, Index: index, Offset: off, Err: err}
	}
	b.endWarnings()
	return rec, nil
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
	b := r.b
	if b.over {
		// The record is rejected: its content need not be kept.
		b.shed()
	}
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
			b.account(isoFieldOverhead)
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
	if err := r.readSubfields(ts, uri); err != nil {
		return err
	}
	f.sub1 = len(b.subs)
	if keep {
		b.fields = append(b.fields, f)
		b.account(isoFieldOverhead + 2) // and the indicators
	} else {
		b.subs = b.subs[:f.sub0]
	}
	return nil
}

// readSubfields reads the content of the datafield whose start tag is
// the current token: its subfields, and what it should not hold.
func (r *XMLReader) readSubfields(ts []byte, uri string) error {
	b := r.b
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
				return nil
			}
		case xmlStart:
			if err := r.pushElem(); err != nil {
				return err
			}
			if err := r.readSubfield(ts, uri); err != nil {
				return err
			}
		}
	}
}

// readSubfield reads the element whose start tag is the current token
// and has been pushed, inside a datafield: a subfield, or something
// ignored.
func (r *XMLReader) readSubfield(ts []byte, uri string) error {
	b := r.b
	local, cu := r.resolve(r.tName)
	if string(local) != "subfield" || cu != uri {
		b.warn(string(ts), fmt.Sprintf("element <%s> in a datafield ignored", r.tName))
		return r.skip()
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
		b.account(2) // delimiter and code
	} else {
		b.text = b.text[:a]
	}
	return nil
}

// readText appends the text content of the current element (which must
// hold no elements) to the builder, decoded.
func (r *XMLReader) readText(tag []byte) error {
	b := r.b
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
			if b.over {
				b.extra += len(r.tText) // counted, not kept
				continue
			}
			if r.tCDATA {
				dropped := 0
				b.text, dropped = appendCDATA(b.text, r.tText)
				if dropped > 0 {
					b.warn(string(tag), fmt.Sprintf("%d characters not allowed in XML dropped", dropped))
				}
				b.high = b.high || !isASCIIBytes(r.tText)
				b.account(0)
				continue
			}
			if err := r.appendText(tag, r.tText); err != nil {
				return err
			}
			b.account(0)
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

// MARCXMLNamespace is the namespace of MARCXML (MARC 21 slim).
const MARCXMLNamespace = "http://www.loc.gov/MARC21/slim"

// recordSyntaxError is XML that is not well-formed inside a record, which
// the reader got past (resync): the record is lost, not the document.
type recordSyntaxError struct{ *XMLSyntaxError }

func (e recordSyntaxError) Error() string {
	return fmt.Sprintf("not well-formed XML at line %d (byte offset %d): %s", e.Line, e.Offset, e.Msg)
}

func (e recordSyntaxError) Unwrap() error { return e.XMLSyntaxError }

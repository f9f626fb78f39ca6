package marc

import "bytes"

// Bounds that keep the reader's memory independent of its input, each far
// above what real MARCXML, OAI-PMH and SRU documents need: a start or end
// tag with its attributes, an element or attribute name, the nesting
// depth and the namespace declarations in force. Past one the document is
// not well-formed for this reader (an *XMLSyntaxError, which a record
// survives: see resync). Character data, CDATA sections, comments and
// declarations of any length are read in pieces and need no bound.
const (
	maxTagBytes  = 256 << 10
	maxNameBytes = 1 << 10
	maxDepth     = 1 << 10
	maxBindings  = 1 << 12
)

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
				if r.inCDATA {
					return xmlEOF, r.syntaxErr(r.pos, "unterminated CDATA section")
				}
				r.tKind = xmlEOF
				return xmlEOF, nil
			}
		}
		r.tOff = r.base + int64(r.pos)
		if r.inCDATA {
			return r.scanCDATA()
		}
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
			if err := r.skipPast(2, "?>", "processing instruction"); err != nil {
				return xmlEOF, err
			}
		case bytes.HasPrefix(b, []byte("<!--")):
			if err := r.skipPast(4, "-->", "comment"); err != nil {
				return xmlEOF, err
			}
		case bytes.HasPrefix(b, []byte("<![CDATA[")):
			r.pos += 9
			r.inCDATA = true
			return r.scanCDATA()
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
// reading more input as needed, within maxTagBytes (it reads the XML
// declaration, which is kept).
func (r *XMLReader) find(from int, sep, what string) (int, error) {
	for {
		if i := bytes.Index(r.buf[r.pos+from:r.end], []byte(sep)); i >= 0 {
			return from + i, nil
		}
		from = max(from, r.end-r.pos-len(sep)+1)
		if r.end-r.pos > maxTagBytes {
			return 0, r.syntaxErr(r.pos, "%s longer than %d bytes", what, maxTagBytes)
		}
		if !r.more() {
			return 0, r.syntaxErr(r.pos, "unterminated %s", what)
		}
	}
}

// skipPast consumes input up to and including sep, searched from from
// bytes after r.pos, keeping nothing of what it passes (a comment or a
// processing instruction of any length costs no memory).
func (r *XMLReader) skipPast(from int, sep, what string) error {
	for {
		if i := bytes.Index(r.buf[min(r.pos+from, r.end):r.end], []byte(sep)); i >= 0 {
			r.pos = min(r.pos+from, r.end) + i + len(sep)
			return nil
		}
		// Only the last len(sep)-1 bytes may begin sep.
		r.pos = max(min(r.pos+from, r.end), r.end-len(sep)+1)
		from = 0
		if !r.more() {
			return r.syntaxErr(r.end, "unterminated %s", what)
		}
	}
}

// skipDecl skips <!DOCTYPE ...> (with an internal subset) or another
// markup declaration, consuming it as it goes.
func (r *XMLReader) skipDecl() error {
	depth := 0
	var quote byte
	i := 2
	for {
		for ; r.pos+i < r.end; i++ {
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
		r.pos += i
		i = 0
		if !r.more() {
			return r.syntaxErr(r.end, "unterminated markup declaration")
		}
	}
}

// scanText reads character data up to the next '<'. Very long text is
// returned in pieces, cut where no reference is split.
func (r *XMLReader) scanText() (xmlTok, error) {
	r.tCDATA = false
	r.tKind = xmlText
	from := 0 // bytes of b searched already
	for {
		b := r.buf[r.pos:r.end]
		if i := bytes.IndexByte(b[from:], '<'); i >= 0 {
			r.tText = b[:from+i]
			r.pos += from + i
			return xmlText, nil
		}
		from = len(b)
		if len(b) >= xmlChunk {
			cut := len(b)
			// A reference split by the cut waits for the next piece; an
			// '&' further back than any reference is long is an error
			// appendText reports, and must not hold the text back.
			if a := bytes.LastIndexByte(b, '&'); a >= 0 && len(b)-a <= maxRefLen && bytes.IndexByte(b[a:], ';') < 0 {
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

// maxRefLen bounds a character or entity reference, "&#x10FFFF;" and the
// XML entities with room to spare.
const maxRefLen = 32

// scanCDATA reads the content of a CDATA section (its start already
// consumed) up to "]]>", in pieces of about xmlChunk bytes.
func (r *XMLReader) scanCDATA() (xmlTok, error) {
	r.tCDATA = true
	r.tKind = xmlText
	from := 0
	for {
		b := r.buf[r.pos:r.end]
		if i := bytes.Index(b[from:], []byte("]]>")); i >= 0 {
			r.tText = b[:from+i]
			r.pos += from + i + 3
			r.inCDATA = false
			return xmlText, nil
		}
		from = max(0, len(b)-2)
		if len(b) >= xmlChunk {
			// The last two bytes may begin "]]>"; a CR waits for its LF.
			cut := len(b) - 2
			if b[cut-1] == '\r' {
				cut--
			}
			r.tText = b[:cut]
			r.pos += cut
			return xmlText, nil
		}
		if !r.more() {
			return xmlEOF, r.syntaxErr(r.end, "unterminated CDATA section")
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
		if i-2 > maxNameBytes {
			return xmlEOF, r.syntaxErr(r.pos, "element name longer than %d bytes", maxNameBytes)
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
		if len(b) > maxTagBytes {
			return xmlEOF, r.syntaxErr(r.pos, "end tag longer than %d bytes", maxTagBytes)
		}
		if !r.grow() {
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
		if r.end-r.pos > maxTagBytes {
			return xmlEOF, r.syntaxErr(r.pos, "start tag longer than %d bytes", maxTagBytes)
		}
		if !r.grow() {
			return xmlEOF, r.syntaxErr(r.pos, "unterminated start tag")
		}
	}
}

// parseStart parses the start tag at the beginning of b. It returns the
// tag's length, or 0 when b does not hold all of it.
//
// It is long because it is one loop over the tag's bytes, attribute after
// attribute, each byte looked at once: its length is the syntax's. Every
// subfield of a MARCXML record is a start tag with an attribute, and with
// the attribute parsed by a function of its own the reader took 1-4% more
// CPU time.
func (r *XMLReader) parseStart(b []byte) (int, error) {
	i := 1
	for i < len(b) && nameByte[b[i]] {
		i++
	}
	if i-1 > maxNameBytes {
		return 0, r.syntaxErr(r.pos, "element name longer than %d bytes", maxNameBytes)
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
		if i-a > maxNameBytes {
			return 0, r.syntaxErr(r.pos+a, "attribute name longer than %d bytes in <%s>", maxNameBytes, r.tName)
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
		if r.repeatedAttr(name) {
			return 0, r.syntaxErr(r.pos+a, "attribute %s repeated in <%s>", name, r.tName)
		}
		r.tAttrs = append(r.tAttrs, xmlAttr{name: name, val: val})
		i += e + 2
	}
}

// repeatedAttr reports whether the current start tag has an attribute
// name already: by comparison with each while there are few, through a
// set once there are more (a tag of a hundred thousand attributes must
// not cost their square).
func (r *XMLReader) repeatedAttr(name []byte) bool {
	const few = 8
	n := len(r.tAttrs)
	if n < few {
		for _, x := range r.tAttrs {
			if bytes.Equal(x.name, name) {
				return true
			}
		}
		return false
	}
	if n == few {
		// The tag may be parsed again from its start: the set is rebuilt.
		if r.attrSeen == nil {
			r.attrSeen = map[string]struct{}{}
		}
		clear(r.attrSeen)
		for _, x := range r.tAttrs {
			r.attrSeen[string(x.name)] = struct{}{}
		}
	}
	if _, ok := r.attrSeen[string(name)]; ok {
		return true
	}
	r.attrSeen[string(name)] = struct{}{}
	return false
}

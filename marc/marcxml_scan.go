package marc

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

const xmlChunk = 64 << 10

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

// grow asks for twice the bytes buffered (at least one more), for a
// token parsed again from its start after each read: it is then parsed a
// logarithmic number of times, not once per read of its source.
func (r *XMLReader) grow() bool {
	n := r.end - r.pos
	r.fill(2*n + 1)
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
	if len(r.stack) >= maxDepth {
		return r.syntaxErr(r.pos, "elements nested more than %d deep", maxDepth)
	}
	if d := r.recDepth; d > 0 && d <= len(r.stack) {
		if e := r.stack[d-1]; bytes.Equal(r.names[e.name0:e.name1], r.tName) {
			// The record before this one was not closed. Back to this
			// start tag, where resync finds the next record.
			r.pos = int(r.tOff - r.base)
			return r.syntaxErr(r.pos, "record has no end tag: <%s> starts another inside it", r.tName)
		}
	}
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
		if len(r.ns) >= maxBindings {
			r.popNS(nsBefore)
			return r.syntaxErr(r.pos, "more than %d namespace declarations in force", maxBindings)
		}
		v, err := r.attrValue(a)
		if err != nil {
			r.popNS(nsBefore)
			return err
		}
		p := r.intern(prefix)
		prev, ok := r.nsTop[p]
		if !ok {
			prev = -1
		}
		if r.nsTop == nil {
			r.nsTop = map[string]int{}
		}
		r.nsTop[p] = len(r.ns)
		r.ns = append(r.ns, nsBinding{prefix: p, uri: r.intern(v), prev: prev})
	}
	n0 := len(r.names)
	r.names = append(r.names, r.tName...)
	r.stack = append(r.stack, xmlElem{name0: n0, name1: len(r.names), ns: nsBefore})
	return nil
}

// popNS ends the namespace declarations made after the first n.
func (r *XMLReader) popNS(n int) {
	for k := len(r.ns) - 1; k >= n; k-- {
		if b := r.ns[k]; b.prev < 0 {
			delete(r.nsTop, b.prefix)
		} else {
			r.nsTop[b.prefix] = b.prev
		}
	}
	r.ns = r.ns[:n]
}

// popTo closes the elements open above depth n.
func (r *XMLReader) popTo(n int) {
	if len(r.stack) <= n {
		return
	}
	e := r.stack[n]
	r.stack = r.stack[:n]
	r.names = r.names[:e.name0]
	r.popNS(e.ns)
}

// popEmpty closes the element just pushed for a self-closing tag (or one
// handed back to the caller).
func (r *XMLReader) popEmpty() { r.popTo(len(r.stack) - 1) }

// popElem closes the element the current end tag ends.
func (r *XMLReader) popElem() error {
	if len(r.stack) == 0 {
		return r.syntaxErr(r.pos, "end tag </%s> without a start tag", r.tName)
	}
	e := r.stack[len(r.stack)-1]
	if !bytes.Equal(r.names[e.name0:e.name1], r.tName) {
		return r.syntaxErr(r.pos, "end tag </%s> does not match <%s>", r.tName, r.names[e.name0:e.name1])
	}
	r.popTo(len(r.stack) - 1)
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

// resolve splits a qualified name and finds its namespace: the
// innermost declaration of its prefix, found in constant time whatever
// number of declarations is in force.
func (r *XMLReader) resolve(qname []byte) (local []byte, uri string) {
	var prefix []byte
	local = qname
	if i := bytes.IndexByte(qname, ':'); i >= 0 {
		prefix, local = qname[:i], qname[i+1:]
	}
	if k, ok := r.nsTop[string(prefix)]; ok {
		return local, r.ns[k].uri
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

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

// fill tries to make need bytes available after r.pos, counting the
// lines of what leaves the buffer (for the line numbers of errors).
func (r *XMLReader) fill(need int) {
	r.fillWindow(need, xmlChunk, r.countLines)
}

// countLines counts the newlines of consumed input leaving the buffer.
func (r *XMLReader) countLines(consumed []byte) {
	r.lines += bytes.Count(consumed, []byte{'\n'})
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

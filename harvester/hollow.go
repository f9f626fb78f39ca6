package harvester

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/unicat/unicat/marc"
)

// hollowed is a response with the content of its record containers
// (OAI-PMH <metadata>, SRU <recordData>) cut out. encoding/xml then walks
// only the envelope, and the marc package's streaming MARCXML reader,
// several times faster, reads the records. A record broken inside its
// container breaks only its own chunk, never the page.
type hollowed struct {
	env    []byte
	chunks [][2]int           // content of the containers, offsets in the document
	cuts   [][2]int           // (envelope offset after a placeholder, bytes removed up to there)
	decls  string             // the namespace declarations of the envelope, for the chunks
	opts   marc.ReaderOptions // the source's charset and size limit, for the records
}

var (
	reXmlnsDecl = regexp.MustCompile(`\sxmlns(:[\w.-]+)?\s*=\s*("[^"]*"|'[^']*')`)
	reFirstElem = regexp.MustCompile(`<([\w.:-]+)`)
)

// nextStartTag finds the next start tag of an element with the given
// local name (any prefix) at or after from. It returns the offsets of the
// tag's '<' and of the byte after its '>', and the qualified name; -1 if
// there is none. (A regular expression does the same several times
// slower, and this runs over every byte of every page.)
func nextStartTag(doc []byte, from int, local string) (start, end int, qname string) {
	for i := from; ; {
		j := bytes.Index(doc[i:], []byte(local))
		if j < 0 {
			return -1, -1, ""
		}
		p := i + j
		i = p + len(local)
		if i >= len(doc) || !(isSpaceByte(doc[i]) || doc[i] == '>' || doc[i] == '/') {
			continue
		}
		k := p - 1
		if k >= 0 && doc[k] == ':' {
			k--
			for k >= 0 && (isNameByte(doc[k])) {
				k--
			}
		}
		if k < 0 || doc[k] != '<' || k+1 < p && doc[k+1] == ':' {
			continue
		}
		gt := bytes.IndexByte(doc[i:], '>')
		if gt < 0 {
			return -1, -1, ""
		}
		return k, i + gt + 1, string(doc[k+1 : p+len(local)])
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// placeholder is the text left in a hollowed container.
func placeholder(i int) string { return "{{chunk " + strconv.Itoa(i) + "}}" }

// hollow cuts out the content of every element whose local name is name.
// It stops at a container without an end tag; encoding/xml then meets the
// rest as it is.
func hollow(doc []byte, name string, opts marc.ReaderOptions) *hollowed {
	h := &hollowed{opts: opts}
	var env []byte
	last, removed := 0, 0
	for pos := 0; ; {
		_, from, qname := nextStartTag(doc, pos, name)
		if from < 0 {
			break
		}
		pos = from
		if doc[from-2] == '/' {
			continue // empty
		}
		closeTag := "</" + qname
		end := -1
		for i := from; ; {
			j := bytes.Index(doc[i:], []byte(closeTag))
			if j < 0 {
				break
			}
			k := i + j + len(closeTag)
			for k < len(doc) && isSpaceByte(doc[k]) {
				k++
			}
			if k < len(doc) && doc[k] == '>' {
				end = i + j
				break
			}
			i = k
		}
		if end < 0 {
			break
		}
		if env == nil {
			env = make([]byte, 0, len(doc)/8)
		}
		env = append(env, doc[last:from]...)
		env = append(env, placeholder(len(h.chunks))...)
		removed += end - from - len(placeholder(len(h.chunks)))
		h.cuts = append(h.cuts, [2]int{len(env), removed})
		h.chunks = append(h.chunks, [2]int{from, end})
		last, pos = end, end
	}
	if env == nil {
		h.env = doc
	} else {
		h.env = append(env, doc[last:]...)
	}
	seen := map[string]bool{}
	var decls []string
	// Declarations in force around the chunks are made before the first
	// one (on the root, the list, the first record): the headers need not
	// be searched.
	head := h.env
	if len(h.cuts) > 0 {
		head = h.env[:h.cuts[0][0]]
	}
	for _, m := range reXmlnsDecl.FindAllSubmatch(head, -1) {
		if !seen[string(m[1])] {
			seen[string(m[1])] = true
			decls = append(decls, string(m[0]))
		}
	}
	h.decls = strings.Join(decls, "")
	return h
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// docOffset maps an envelope offset to the document's (the cuts are in
// order: a binary search).
func (h *hollowed) docOffset(off int) int {
	i := sort.Search(len(h.cuts), func(i int) bool { return h.cuts[i][0] > off })
	if i == 0 {
		return off
	}
	return off + h.cuts[i-1][1]
}

// chunk returns the index of the chunk a container's text stands for.
func (h *hollowed) chunk(text string) (int, bool) {
	s, ok := strings.CutPrefix(text, "{{chunk ")
	if !ok {
		return 0, false
	}
	s, ok = strings.CutSuffix(s, "}}")
	i, err := strconv.Atoi(s)
	return i, ok && err == nil && i >= 0 && i < len(h.chunks)
}

// chunkRecord reads the MARCXML record in chunk i of doc. packed is the
// content as escaped text (SRU recordPacking=string) rather than
// elements. It returns the record and its warnings, or a metrics reason
// and a message.
func (h *hollowed) chunkRecord(doc []byte, i int) (*marc.Record, []string, string, string) {
	c := doc[h.chunks[i][0]:h.chunks[i][1]]
	var src []byte
	if t := bytes.TrimSpace(c); len(t) > 0 && t[0] != '<' {
		// Escaped text: its characters are the record's XML.
		text, err := unescapeXML(t)
		if err != nil {
			return nil, nil, "xml", "record as text: " + err.Error()
		}
		src = []byte(text)
	} else {
		src = make([]byte, 0, len(c)+len(h.decls)+32)
		src = append(src, "<chunk"+h.decls+">"...)
		src = append(src, c...)
		src = append(src, "</chunk>"...)
	}
	rd := marc.NewXMLReader(bytes.NewReader(src), h.opts)
	rec, err := rd.Next()
	var re *marc.RecordError
	var se *marc.XMLSyntaxError
	switch {
	case err == io.EOF:
		name := "text"
		if m := reFirstElem.FindSubmatch(c); m != nil {
			name = "<" + string(m[1]) + ">"
		}
		return nil, nil, "not-marcxml", fmt.Sprintf("holds %s, not a MARCXML record", name)
	case errors.As(err, &se):
		// Inside the record (the reader went past it) or around it.
		return nil, nil, "xml", "not well-formed XML: " + se.Msg
	case errors.As(err, &re):
		return nil, nil, rejectReason(err), re.Err.Error()
	case err != nil:
		return nil, nil, "xml", err.Error()
	}
	var warns []string
	for _, w := range rd.Warnings() {
		warns = append(warns, w.String())
	}
	if _, err := rd.Next(); err != io.EOF {
		warns = append(warns, "more than one record in one container: the first is kept")
	}
	return rec, warns, "", ""
}

// unescapeXML returns the character data of escaped XML text.
func unescapeXML(b []byte) (string, error) {
	d := newOAIDecoder(append(append([]byte("<t>"), b...), "</t>"...))
	var out strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out.String(), nil
		}
		if err != nil {
			return "", err
		}
		if cd, ok := tok.(xml.CharData); ok {
			out.Write(cd)
		}
	}
}

package marc

import "bytes"

// resync moves the reader past a record in which the scanner found XML
// that is not well-formed (an undefined entity, a mismatched or
// malformed tag), so that one broken record does not cost the records
// after it. depth is the depth of the record's element. The reader skips
// to whichever comes first of the record's end tag (consumed), the start
// tag of the next element of the record's name, or the end tag of the
// record's parent, with every element opened inside the record closed.
// It reports false at the end of the input (or on a read error): the
// document ends inside the record and the syntax error stands.
//
// The search looks at each byte once and keeps nothing it passes.
func (r *XMLReader) resync(depth int) bool {
	if depth < 1 || depth > len(r.stack) || r.rerr != nil {
		return false
	}
	e := r.stack[depth-1]
	name := bytes.Clone(r.names[e.name0:e.name1])
	var parent []byte
	if depth >= 2 {
		p := r.stack[depth-2]
		parent = bytes.Clone(r.names[p.name0:p.name1])
	}
	r.popTo(depth - 1)
	r.inCDATA, r.pending = false, false
	if r.end-r.pos < len(name)+2 {
		r.fill(len(name) + 2)
	}
	if isStartTagOf(r.buf[r.pos:r.end], name) {
		return true // the next record, which found this one unclosed
	}
	// The token at r.pos may be the one that failed: start after it.
	from := 1
	need := maxNameBytes + 4 // '<', '/', a name, a byte after it
	for {
		b := r.buf[r.pos:r.end]
		j := -1
		if from < len(b) {
			j = bytes.IndexByte(b[from:], '<')
		}
		if j < 0 {
			r.pos = r.end
			from = 0
			if !r.more() {
				return false
			}
			continue
		}
		r.pos += from + j
		if r.end-r.pos < need {
			r.fill(need)
		}
		b = r.buf[r.pos:r.end]
		if n := endTagLen(b, name); n > 0 {
			r.pos += n
			return true
		}
		if isStartTagOf(b, name) || parent != nil && endTagLen(b, parent) > 0 {
			return true
		}
		from = 1
	}
}

// isStartTagOf reports whether b starts with a start tag of the element
// name.
func isStartTagOf(b, name []byte) bool {
	if len(b) < len(name)+2 || b[0] != '<' || !bytes.Equal(b[1:1+len(name)], name) {
		return false
	}
	c := b[1+len(name)]
	return isSpaceByte(c) || c == '>' || c == '/'
}

// endTagLen returns the length of the end tag of name that b starts with,
// 0 if it does not.
func endTagLen(b, name []byte) int {
	if len(b) < len(name)+3 || b[0] != '<' || b[1] != '/' || !bytes.Equal(b[2:2+len(name)], name) {
		return 0
	}
	i := 2 + len(name)
	for i < len(b) && isSpaceByte(b[i]) {
		i++
	}
	if i < len(b) && b[i] == '>' {
		return i + 1
	}
	return 0
}

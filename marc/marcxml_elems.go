package marc

import "bytes"

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

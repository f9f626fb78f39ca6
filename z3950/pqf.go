package z3950

import (
	"fmt"
	"strconv"
	"strings"
)

// ParsePQF parses a query in Prefix Query Format, YAZ's notation for
// Type-1 queries ("@and @attr 1=4 computer @attr 1=1003 knuth"):
//
//	query     ::= ["@attrset" set] struct
//	struct    ::= "@attr" [set] type "=" value struct
//	            | ("@and" | "@or" | "@not") struct struct
//	            | "@prox" exclusion distance ordered relation ("k"|"p") unit struct struct
//	            | "@set" name
//	            | "@term" ("general"|"numeric"|"string") struct
//	            | term
//
// Attributes given before an operator apply to both its operands, as in
// YAZ. A value that is not a number is a string (complex) value. Terms
// may be quoted with "..." (with \" and \\ escapes).
func ParsePQF(s string) (*RPNQuery, error) {
	p := &pqfParser{toks: nil}
	if err := p.lex(s); err != nil {
		return nil, err
	}
	q := &RPNQuery{AttributeSet: OIDBib1}
	if t, ok := p.peek(); ok && !t.quoted && t.text == "@attrset" {
		p.next()
		name, ok := p.next()
		if !ok {
			return nil, fmt.Errorf("z3950: PQF: @attrset without a set")
		}
		set, err := attributeSetOID(name.text)
		if err != nil {
			return nil, err
		}
		q.AttributeSet = set
	}
	root, err := p.structure(nil, TermGeneral, 0)
	if err != nil {
		return nil, err
	}
	if t, ok := p.peek(); ok {
		return nil, fmt.Errorf("z3950: PQF: unexpected %q after the query", t.text)
	}
	q.Root = root
	return q, nil
}

type pqfToken struct {
	text   string
	quoted bool
}

type pqfParser struct {
	toks []pqfToken
	pos  int
}

func (p *pqfParser) lex(s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return fmt.Errorf("z3950: PQF: unterminated quote")
			}
			p.toks = append(p.toks, pqfToken{text: b.String(), quoted: true})
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' {
				j++
			}
			p.toks = append(p.toks, pqfToken{text: s[i:j]})
			i = j
		}
	}
	return nil
}

func (p *pqfParser) peek() (pqfToken, bool) {
	if p.pos >= len(p.toks) {
		return pqfToken{}, false
	}
	return p.toks[p.pos], true
}

func (p *pqfParser) next() (pqfToken, bool) {
	t, ok := p.peek()
	if ok {
		p.pos++
	}
	return t, ok
}

func (p *pqfParser) int(what string) (int, error) {
	t, ok := p.next()
	if !ok {
		return 0, fmt.Errorf("z3950: PQF: missing %s", what)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil {
		return 0, fmt.Errorf("z3950: PQF: %s %q is not a number", what, t.text)
	}
	return n, nil
}

const maxPQFDepth = 100

func (p *pqfParser) structure(attrs []Attribute, termKind int, depth int) (RPNNode, error) {
	if depth > maxPQFDepth {
		return nil, fmt.Errorf("z3950: PQF: nested deeper than %d", maxPQFDepth)
	}
	t, ok := p.next()
	if !ok {
		return nil, fmt.Errorf("z3950: PQF: query ends early")
	}
	if t.quoted || !strings.HasPrefix(t.text, "@") {
		return &AttributesPlusTerm{Attributes: attrs, Term: makeTerm(t.text, termKind)}, nil
	}
	switch t.text {
	case "@attr":
		a, err := p.attribute()
		if err != nil {
			return nil, err
		}
		// Copy, so the operands of an operator do not share a slice.
		next := append(append([]Attribute(nil), attrs...), a)
		return p.structure(next, termKind, depth+1)
	case "@and", "@or", "@not", "@prox":
		op := &RPNOp{Op: map[string]int{"@and": OpAnd, "@or": OpOr, "@not": OpAndNot, "@prox": OpProx}[t.text]}
		if op.Op == OpProx {
			pr, err := p.prox()
			if err != nil {
				return nil, err
			}
			op.Prox = pr
		}
		var err error
		if op.Left, err = p.structure(attrs, termKind, depth+1); err != nil {
			return nil, err
		}
		if op.Right, err = p.structure(attrs, termKind, depth+1); err != nil {
			return nil, err
		}
		return op, nil
	case "@set":
		name, ok := p.next()
		if !ok {
			return nil, fmt.Errorf("z3950: PQF: @set without a name")
		}
		return &ResultSetOperand{Name: name.text}, nil
	case "@term":
		kind, ok := p.next()
		if !ok {
			return nil, fmt.Errorf("z3950: PQF: @term without a type")
		}
		k, found := map[string]int{"general": TermGeneral, "numeric": TermNumeric, "string": TermCharacterString}[kind.text]
		if !found {
			return nil, fmt.Errorf("z3950: PQF: unsupported term type %q", kind.text)
		}
		return p.structure(attrs, k, depth+1)
	}
	return nil, fmt.Errorf("z3950: PQF: unknown operator %q", t.text)
}

func makeTerm(s string, kind int) Term {
	if kind == TermNumeric {
		if n, err := strconv.Atoi(s); err == nil {
			return Term{Kind: TermNumeric, Numeric: n}
		}
	}
	if kind == TermNumeric {
		kind = TermGeneral
	}
	return Term{Kind: kind, Bytes: []byte(s)}
}

// attribute reads "[set] type=value".
func (p *pqfParser) attribute() (Attribute, error) {
	t, ok := p.next()
	if !ok {
		return Attribute{}, fmt.Errorf("z3950: PQF: @attr without an attribute")
	}
	var a Attribute
	if !strings.Contains(t.text, "=") {
		set, err := attributeSetOID(t.text)
		if err != nil {
			return Attribute{}, err
		}
		a.Set = set
		if t, ok = p.next(); !ok {
			return Attribute{}, fmt.Errorf("z3950: PQF: @attr %s without an attribute", a.Set)
		}
	}
	typ, val, ok := strings.Cut(t.text, "=")
	n, err := strconv.Atoi(typ)
	if !ok || err != nil || val == "" {
		return Attribute{}, fmt.Errorf("z3950: PQF: bad attribute %q (want type=value)", t.text)
	}
	a.Type = n
	if v, err := strconv.Atoi(val); err == nil {
		a.Value = v
	} else {
		a.Complex = []StringOrNumeric{{String: val}}
	}
	return a, nil
}

// prox reads "exclusion distance ordered relation (k|p) unit".
func (p *pqfParser) prox() (*ProximityOperator, error) {
	var pr ProximityOperator
	excl, err := p.int("proximity exclusion")
	if err != nil {
		return nil, err
	}
	pr.Exclusion, pr.HasExclusion = excl != 0, true
	if pr.Distance, err = p.int("proximity distance"); err != nil {
		return nil, err
	}
	ord, err := p.int("proximity ordered flag")
	if err != nil {
		return nil, err
	}
	pr.Ordered = ord != 0
	if pr.Relation, err = p.int("proximity relation"); err != nil {
		return nil, err
	}
	which, ok := p.next()
	if !ok || (which.text != "k" && which.text != "p" && which.text != "known" && which.text != "private") {
		return nil, fmt.Errorf("z3950: PQF: proximity unit must be known (k) or private (p)")
	}
	pr.PrivateUnit = which.text == "p" || which.text == "private"
	if pr.Unit, err = p.int("proximity unit"); err != nil {
		return nil, err
	}
	return &pr, nil
}

// attributeSetOID resolves an attribute set name or dotted OID.
func attributeSetOID(s string) (OID, error) {
	switch strings.ToLower(s) {
	case "bib-1", "bib1":
		return OIDBib1, nil
	case "exp-1", "exp1":
		return OID{1, 2, 840, 10003, 3, 2}, nil
	case "gils":
		return OID{1, 2, 840, 10003, 3, 5}, nil
	case "utility":
		return OID{1, 2, 840, 10003, 3, 11}, nil
	}
	o, err := ParseOID(s)
	if err != nil {
		return nil, fmt.Errorf("z3950: PQF: unknown attribute set %q", s)
	}
	return o, nil
}

// String renders an RPN query as PQF.
func (q *RPNQuery) String() string {
	var b strings.Builder
	if q.AttributeSet != nil && !q.AttributeSet.Equal(OIDBib1) {
		fmt.Fprintf(&b, "@attrset %s ", q.AttributeSet)
	}
	writePQF(&b, q.Root)
	return b.String()
}

func writePQF(b *strings.Builder, n RPNNode) {
	switch n := n.(type) {
	case *RPNOp:
		switch n.Op {
		case OpAnd:
			b.WriteString("@and ")
		case OpOr:
			b.WriteString("@or ")
		case OpAndNot:
			b.WriteString("@not ")
		case OpProx:
			pr := n.Prox
			if pr == nil {
				pr = &ProximityOperator{}
			}
			unit := "k"
			if pr.PrivateUnit {
				unit = "p"
			}
			fmt.Fprintf(b, "@prox %d %d %d %d %s %d ", b2i(pr.Exclusion), pr.Distance, b2i(pr.Ordered), pr.Relation, unit, pr.Unit)
		}
		writePQF(b, n.Left)
		b.WriteByte(' ')
		writePQF(b, n.Right)
	case *AttributesPlusTerm:
		for _, a := range n.Attributes {
			b.WriteString("@attr ")
			if a.Set != nil {
				b.WriteString(a.Set.String())
				b.WriteByte(' ')
			}
			b.WriteString(a.String())
			b.WriteByte(' ')
		}
		switch n.Term.Kind {
		case TermNumeric:
			fmt.Fprintf(b, "@term numeric %d", n.Term.Numeric)
		case TermCharacterString:
			b.WriteString("@term string ")
			b.WriteString(quotePQF(string(n.Term.Bytes)))
		default:
			b.WriteString(quotePQF(string(n.Term.Bytes)))
		}
	case *ResultSetOperand:
		b.WriteString("@set ")
		b.WriteString(quotePQF(n.Name))
	case *ResultSetPlusAttributes:
		b.WriteString("@set ")
		b.WriteString(quotePQF(n.Name))
	}
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

func quotePQF(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\r\n\"\\") && !strings.HasPrefix(s, "@") {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

package z3950

import (
	"bytes"
	"fmt"
	"strconv"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// Query types of the Query CHOICE.
const (
	QueryType0   = 0
	QueryType1   = 1
	QueryType2   = 2
	QueryType100 = 100
	QueryType101 = 101
	QueryType102 = 102
	QueryType104 = 104
)

// Query is a search request's query. Type 1 and 101 carry an RPN query;
// type 104 an EXTERNAL (CQL, for instance); the others their raw BER
// value.
type Query struct {
	Type     int
	RPN      *RPNQuery
	External *External
	Raw      *ber.Packet // type 0, 2, 100, 102: the value inside the tag
}

// RPNQuery is a Type-1 query: an attribute set and a tree.
type RPNQuery struct {
	AttributeSet OID
	Root         RPNNode
}

// RPNNode is *RPNOp, *AttributesPlusTerm, *ResultSetOperand or
// *ResultSetPlusAttributes.
type RPNNode interface{ rpnNode() }

// Boolean and proximity operators of an RPN tree.
const (
	OpAnd    = 0
	OpOr     = 1
	OpAndNot = 2
	OpProx   = 3
)

// RPNOp combines two subtrees.
type RPNOp struct {
	Left, Right RPNNode
	Op          int // OpAnd, OpOr, OpAndNot, OpProx
	Prox        *ProximityOperator
}

// Proximity relations (relationType) and known units.
const (
	ProxLessThan           = 1
	ProxLessThanOrEqual    = 2
	ProxEqual              = 3
	ProxGreaterThanOrEqual = 4
	ProxGreaterThan        = 5
	ProxNotEqual           = 6

	UnitCharacter = 1
	UnitWord      = 2
	UnitSentence  = 3
	UnitParagraph = 4
	UnitSection   = 5
	UnitChapter   = 6
	UnitDocument  = 7
	UnitElement   = 8
)

// ProximityOperator is the prox operator's parameters.
type ProximityOperator struct {
	Exclusion    bool
	HasExclusion bool
	Distance     int
	Ordered      bool
	Relation     int
	Unit         int
	PrivateUnit  bool // Unit is a private unit code, not a known one
}

// AttributesPlusTerm is a term with its attributes.
type AttributesPlusTerm struct {
	Attributes []Attribute
	Term       Term
}

// ResultSetOperand refers to a named result set.
type ResultSetOperand struct{ Name string }

// ResultSetPlusAttributes restricts a result set by attributes.
type ResultSetPlusAttributes struct {
	Name       string
	Attributes []Attribute
}

func (*RPNOp) rpnNode()                   {}
func (*AttributesPlusTerm) rpnNode()      {}
func (*ResultSetOperand) rpnNode()        {}
func (*ResultSetPlusAttributes) rpnNode() {}

// Attribute is one AttributeElement: a type and a numeric value, or a
// complex value (a list of strings and numbers).
type Attribute struct {
	Set     OID // nil: the query's attribute set
	Type    int
	Value   int
	Complex []StringOrNumeric // non-nil for a complex value
}

// StringOrNumeric is one element of a complex attribute value.
type StringOrNumeric struct {
	String    string
	Numeric   int
	IsNumeric bool
}

func (a Attribute) String() string {
	if a.Complex == nil {
		return fmt.Sprintf("%d=%d", a.Type, a.Value)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d=", a.Type)
	for i, c := range a.Complex {
		if i > 0 {
			b.WriteByte(',')
		}
		if c.IsNumeric {
			b.WriteString(strconv.Itoa(c.Numeric))
		} else {
			b.WriteString(c.String)
		}
	}
	return b.String()
}

// Term kinds (the Term CHOICE).
const (
	TermGeneral         = 45
	TermNumeric         = 215
	TermCharacterString = 216
	TermOID             = 217
	TermDateTime        = 218
	TermExternal        = 219
	TermIntegerAndUnit  = 220
	TermNull            = 221
)

// Term is a search term: general (octets), numeric, characterString,
// or one of the rarer kinds with its raw contents.
type Term struct {
	Kind    int
	Bytes   []byte // general, characterString, and raw contents of the rest
	Numeric int
}

// ------------------------------------------------------------ encoding

func (q *Query) encode() (*ber.Packet, error) {
	switch q.Type {
	case QueryType1, QueryType101:
		if q.RPN == nil {
			return nil, fmt.Errorf("type-%d query without RPN", q.Type)
		}
		p, err := q.RPN.encodeAs(q.Type)
		if err != nil {
			return nil, err
		}
		return cons(21, p), nil
	case QueryType104:
		if q.External == nil {
			return nil, fmt.Errorf("type-104 query without EXTERNAL")
		}
		p, err := q.External.encodeAs(ber.ClassContext, 104)
		if err != nil {
			return nil, err
		}
		return cons(21, p), nil
	default:
		if q.Raw == nil {
			return nil, fmt.Errorf("type-%d query without a value", q.Type)
		}
		if q.Type == QueryType0 {
			return cons(21, cons(0, q.Raw)), nil
		}
		// Types 2, 100, 102: [n] OCTET STRING, explicitly tagged.
		return cons(21, cons(q.Type, q.Raw)), nil
	}
}

func (q *RPNQuery) encodeAs(tag int) (*ber.Packet, error) {
	set := q.AttributeSet
	if set == nil {
		set = OIDBib1
	}
	o, err := oidPacket(ber.ClassUniversal, ber.TagObjectIdentifier, set)
	if err != nil {
		return nil, err
	}
	root, err := encodeRPN(q.Root, 0)
	if err != nil {
		return nil, err
	}
	return cons(tag, o, root), nil
}

// maxRPNDepth bounds the recursion of encoding and decoding a tree.
const maxRPNDepth = 100

func encodeRPN(n RPNNode, depth int) (*ber.Packet, error) {
	if depth > maxRPNDepth {
		return nil, fmt.Errorf("RPN tree deeper than %d", maxRPNDepth)
	}
	switch n := n.(type) {
	case *RPNOp:
		l, err := encodeRPN(n.Left, depth+1)
		if err != nil {
			return nil, err
		}
		r, err := encodeRPN(n.Right, depth+1)
		if err != nil {
			return nil, err
		}
		var op *ber.Packet
		switch n.Op {
		case OpAnd, OpOr, OpAndNot:
			op = ctxNull(n.Op)
		case OpProx:
			if n.Prox == nil {
				return nil, fmt.Errorf("prox operator without parameters")
			}
			pr := n.Prox
			var excl *ber.Packet
			if pr.HasExclusion || pr.Exclusion {
				excl = ctxBool(1, pr.Exclusion)
			}
			unitTag := 1
			if pr.PrivateUnit {
				unitTag = 2
			}
			op = cons(3, excl, ctxInt(2, pr.Distance), ctxBool(3, pr.Ordered), ctxInt(4, pr.Relation),
				cons(5, ctxInt(unitTag, pr.Unit)))
		default:
			return nil, fmt.Errorf("unknown operator %d", n.Op)
		}
		return cons(1, l, r, cons(46, op)), nil
	case *AttributesPlusTerm:
		apt, err := n.encode()
		if err != nil {
			return nil, err
		}
		return cons(0, apt), nil
	case *ResultSetOperand:
		return cons(0, ctxStr(31, n.Name)), nil
	case *ResultSetPlusAttributes:
		al, err := encodeAttributes(n.Attributes)
		if err != nil {
			return nil, err
		}
		return cons(0, cons(214, ctxStr(31, n.Name), al)), nil
	case nil:
		return nil, fmt.Errorf("empty RPN operand")
	}
	return nil, fmt.Errorf("unknown RPN node %T", n)
}

func (a *AttributesPlusTerm) encode() (*ber.Packet, error) {
	al, err := encodeAttributes(a.Attributes)
	if err != nil {
		return nil, err
	}
	t, err := a.Term.encode()
	if err != nil {
		return nil, err
	}
	return cons(102, al, t), nil
}

func encodeAttributes(list []Attribute) (*ber.Packet, error) {
	out := cons(44)
	for _, a := range list {
		var set *ber.Packet
		if a.Set != nil {
			p, err := oidPacket(ber.ClassContext, 1, a.Set)
			if err != nil {
				return nil, err
			}
			set = p
		}
		var val *ber.Packet
		if a.Complex != nil {
			l := cons(1)
			for _, c := range a.Complex {
				if c.IsNumeric {
					add(l, ctxInt(2, c.Numeric))
				} else {
					add(l, ctxStr(1, c.String))
				}
			}
			val = cons(224, l)
		} else {
			val = ctxInt(121, a.Value)
		}
		add(out, seq(set, ctxInt(120, a.Type), val))
	}
	return out, nil
}

func (t *Term) encode() (*ber.Packet, error) {
	switch t.Kind {
	case TermGeneral, TermCharacterString, TermDateTime:
		return ctxBytes(t.Kind, t.Bytes), nil
	case TermNumeric:
		return ctxInt(TermNumeric, t.Numeric), nil
	case TermNull:
		return ctxNull(TermNull), nil
	case TermExternal, TermIntegerAndUnit:
		// Kept as the raw contents of the constructed value.
		p := ber.Encode(ber.ClassContext, ber.TypeConstructed, ctx(t.Kind), nil, "")
		p.Data.Write(t.Bytes)
		return p, nil
	case TermOID:
		o, err := decodeOIDContent(t.Bytes)
		if err != nil {
			return nil, fmt.Errorf("oid term: %w", err)
		}
		return ctxOID(TermOID, o), nil
	}
	return nil, fmt.Errorf("term kind %d cannot be encoded", t.Kind)
}

// ------------------------------------------------------------ decoding

func decodeQuery(p *ber.Packet) (*Query, error) {
	if len(p.Children) != 1 {
		return nil, fmt.Errorf("query: %d values", len(p.Children))
	}
	v := p.Children[0]
	if v.ClassType != ber.ClassContext {
		return nil, fmt.Errorf("query: unexpected %s", describe(v))
	}
	q := &Query{Type: int(v.Tag)}
	switch q.Type {
	case QueryType1, QueryType101:
		rpn, err := decodeRPNQuery(v)
		if err != nil {
			return nil, err
		}
		q.RPN = rpn
	case QueryType104:
		ext, err := decodeExternal(v)
		if err != nil {
			return nil, fmt.Errorf("type-104 query: %w", err)
		}
		q.External = ext
	case QueryType0:
		if len(v.Children) != 1 {
			return nil, fmt.Errorf("type-0 query: %d values", len(v.Children))
		}
		q.Raw = v.Children[0]
	case QueryType2, QueryType100, QueryType102:
		if v.TagType == ber.TypeConstructed && len(v.Children) == 1 {
			q.Raw = v.Children[0]
		} else {
			q.Raw = octetString(v.Data.Bytes())
		}
	default:
		return nil, fmt.Errorf("query: unknown type %d", q.Type)
	}
	return q, nil
}

func decodeRPNQuery(p *ber.Packet) (*RPNQuery, error) {
	r := newFields("RPNQuery", p)
	q := &RPNQuery{}
	if o := r.takeUni(ber.TagObjectIdentifier); o != nil {
		v, err := getOID(o)
		r.fail(err)
		q.AttributeSet = v
	} else {
		r.fail(fmt.Errorf("missing attributeSet, found %s", describe(r.peek())))
	}
	if s := r.peek(); s != nil {
		r.i++
		n, err := decodeRPN(s, 0)
		r.fail(err)
		q.Root = n
	} else {
		r.fail(fmt.Errorf("missing rpn"))
	}
	return q, r.done()
}

func decodeRPN(p *ber.Packet, depth int) (RPNNode, error) {
	if depth > maxRPNDepth {
		return nil, fmt.Errorf("RPN tree deeper than %d", maxRPNDepth)
	}
	switch {
	case isCtx(p, 0): // op [0] Operand
		if len(p.Children) != 1 {
			return nil, fmt.Errorf("operand: %d values", len(p.Children))
		}
		return decodeOperand(p.Children[0])
	case isCtx(p, 1): // rpnRpnOp
		if len(p.Children) != 3 {
			return nil, fmt.Errorf("rpnRpnOp: %d values, want 3", len(p.Children))
		}
		l, err := decodeRPN(p.Children[0], depth+1)
		if err != nil {
			return nil, err
		}
		r, err := decodeRPN(p.Children[1], depth+1)
		if err != nil {
			return nil, err
		}
		op := &RPNOp{Left: l, Right: r}
		o := p.Children[2]
		if !isCtx(o, 46) || len(o.Children) != 1 {
			return nil, fmt.Errorf("rpnRpnOp: operator is %s", describe(o))
		}
		ov := o.Children[0]
		if ov.ClassType != ber.ClassContext {
			return nil, fmt.Errorf("operator: unexpected %s", describe(ov))
		}
		switch op.Op = int(ov.Tag); op.Op {
		case OpAnd, OpOr, OpAndNot:
		case OpProx:
			pr, err := decodeProx(ov)
			if err != nil {
				return nil, err
			}
			op.Prox = pr
		default:
			return nil, fmt.Errorf("operator: unknown %s", describe(ov))
		}
		return op, nil
	}
	return nil, fmt.Errorf("RPNStructure: unexpected %s", describe(p))
}

func decodeProx(p *ber.Packet) (*ProximityOperator, error) {
	r := newFields("ProximityOperator", p)
	pr := &ProximityOperator{}
	pr.Exclusion, pr.HasExclusion = r.optBool(1)
	pr.Distance = r.int(2, "distance")
	pr.Ordered = r.bool(3, "ordered")
	pr.Relation = r.int(4, "relationType")
	if u := r.need(5, "proximityUnitCode"); u != nil {
		if len(u.Children) != 1 || (!isCtx(u.Children[0], 1) && !isCtx(u.Children[0], 2)) {
			r.fail(fmt.Errorf("proximityUnitCode: bad value"))
		} else {
			v, err := getInt(u.Children[0])
			r.fail(err)
			pr.Unit = v
			pr.PrivateUnit = isCtx(u.Children[0], 2)
		}
	}
	return pr, r.done()
}

func decodeOperand(p *ber.Packet) (RPNNode, error) {
	switch {
	case isCtx(p, 102):
		return decodeAPT(p)
	case isCtx(p, 31):
		s, err := getStr(p)
		if err != nil {
			return nil, err
		}
		return &ResultSetOperand{Name: s}, nil
	case isCtx(p, 214):
		r := newFields("resultAttr", p)
		m := &ResultSetPlusAttributes{Name: r.str(31)}
		if al := r.need(44, "attributes"); al != nil {
			attrs, err := decodeAttributes(al)
			r.fail(err)
			m.Attributes = attrs
		}
		return m, r.done()
	}
	return nil, fmt.Errorf("operand: unexpected %s", describe(p))
}

func decodeAPT(p *ber.Packet) (*AttributesPlusTerm, error) {
	r := newFields("AttributesPlusTerm", p)
	m := &AttributesPlusTerm{}
	if al := r.need(44, "attributes"); al != nil {
		attrs, err := decodeAttributes(al)
		r.fail(err)
		m.Attributes = attrs
	}
	if t := r.peek(); t != nil {
		r.i++
		term, err := decodeTerm(t)
		r.fail(err)
		m.Term = term
	} else {
		r.fail(fmt.Errorf("missing term"))
	}
	return m, r.done()
}

// maxAttributes bounds the attribute list of one term.
const maxAttributes = 64

func decodeAttributes(p *ber.Packet) ([]Attribute, error) {
	if p.TagType != ber.TypeConstructed {
		return nil, fmt.Errorf("AttributeList is primitive")
	}
	if len(p.Children) > maxAttributes {
		return nil, fmt.Errorf("%d attributes (at most %d)", len(p.Children), maxAttributes)
	}
	var out []Attribute
	for _, el := range p.Children {
		r := newFields("AttributeElement", el)
		a := Attribute{Set: r.oid(1)}
		a.Type = r.int(120, "attributeType")
		switch v := r.peek(); {
		case isCtx(v, 121):
			a.Value, _ = r.optInt(121)
		case isCtx(v, 224):
			r.take(224)
			cr := newFields("complex", v)
			if l := cr.need(1, "list"); l != nil {
				a.Complex = []StringOrNumeric{}
				for _, c := range l.Children {
					switch {
					case isCtx(c, 1):
						s, err := getStr(c)
						cr.fail(err)
						a.Complex = append(a.Complex, StringOrNumeric{String: s})
					case isCtx(c, 2):
						n, err := getInt(c)
						cr.fail(err)
						a.Complex = append(a.Complex, StringOrNumeric{Numeric: n, IsNumeric: true})
					default:
						cr.fail(fmt.Errorf("StringOrNumeric: unexpected %s", describe(c)))
					}
				}
			}
			cr.take(2) // semanticAction
			r.fail(cr.done())
		default:
			r.fail(fmt.Errorf("missing attributeValue, found %s", describe(v)))
		}
		if err := r.done(); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func decodeTerm(p *ber.Packet) (Term, error) {
	if p.ClassType != ber.ClassContext {
		return Term{}, fmt.Errorf("term: unexpected %s", describe(p))
	}
	t := Term{Kind: int(p.Tag)}
	switch t.Kind {
	case TermNumeric:
		n, err := getInt(p)
		if err != nil {
			return Term{}, err
		}
		t.Numeric = n
		return t, nil
	case TermGeneral, TermCharacterString, TermOID, TermDateTime, TermNull:
		b, err := content(p)
		if err != nil {
			return Term{}, err
		}
		t.Bytes = bytes.Clone(b)
		if t.Bytes == nil {
			t.Bytes = []byte{}
		}
		if t.Kind == TermOID {
			if _, err := decodeOIDContent(b); err != nil {
				return Term{}, fmt.Errorf("oid term: %w", err)
			}
		}
		return t, nil
	case TermExternal, TermIntegerAndUnit:
		t.Bytes = bytes.Clone(p.Data.Bytes())
		return t, nil
	}
	return Term{}, fmt.Errorf("term: unknown kind %s", describe(p))
}

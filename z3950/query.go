package z3950

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/search"
)

// ResultSetLookup returns the query tree of a named result set of the
// session, for queries that use a result set as an operand.
type ResultSetLookup func(name string) (search.Node, bool)

// TranslateQuery turns a search request's query into the search
// package's query. Type-1 and Type-101 RPN queries with Bib-1 attributes
// are translated term by term; Type-104 CQL goes through the search
// package's CQL parser; a Type-0 query of plain words is a keyword search
// of any field. What cannot be answered is a *Diagnostic (or a
// *search.Error from the CQL parser).
func TranslateQuery(q *Query, sets ResultSetLookup) (*search.Query, error) {
	switch q.Type {
	case QueryType1, QueryType101:
		if q.RPN == nil {
			return nil, &Diagnostic{Condition: DiagMalformedQuery, AddInfo: "no RPN query"}
		}
		n, err := translateRPN(q.RPN.Root, q.RPN.AttributeSet, sets, 0)
		if err != nil {
			return nil, err
		}
		return &search.Query{Root: n}, nil
	case QueryType104:
		if q.External == nil || !q.External.DirectReference.Equal(OIDCQL) {
			info := "type-104"
			if q.External != nil {
				info = q.External.DirectReference.String()
			}
			return nil, &Diagnostic{Condition: DiagQueryTypeUnsupported, AddInfo: info}
		}
		var text string
		switch ext := q.External; {
		case ext.Single != nil:
			b, err := content(ext.Single)
			if err != nil {
				return nil, &Diagnostic{Condition: DiagMalformedQuery, AddInfo: err.Error()}
			}
			text = string(b)
		default:
			text = string(ext.Octets)
		}
		return search.ParseCQL(termText(text))
	case QueryType0:
		if q.Raw != nil && q.Raw.TagType == 0 {
			text := termText(q.Raw.Data.String())
			if plainWords(text) {
				return &search.Query{Root: &search.Term{Match: search.MatchAll, Value: text}}, nil
			}
		}
		return nil, &Diagnostic{Condition: DiagQueryTypeUnsupported, AddInfo: "type-0 (only plain words are understood)"}
	}
	return nil, &Diagnostic{Condition: DiagQueryTypeUnsupported, AddInfo: "type-" + strconv.Itoa(q.Type)}
}

func plainWords(s string) bool {
	if strings.TrimSpace(s) == "" {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && !unicode.IsMark(r) {
			return false
		}
	}
	return true
}

var proxRelations = map[int]search.Relation{
	ProxLessThan: search.LT, ProxLessThanOrEqual: search.LE, ProxEqual: search.EQ,
	ProxGreaterThanOrEqual: search.GE, ProxGreaterThan: search.GT, ProxNotEqual: search.NE,
}

var proxUnits = map[int]search.ProxUnit{
	UnitWord: search.UnitWord, UnitSentence: search.UnitSentence,
	UnitParagraph: search.UnitParagraph, UnitElement: search.UnitElement,
}

var boolOps = map[int]search.Op{OpAnd: search.And, OpOr: search.Or, OpAndNot: search.Not}

func translateRPN(n RPNNode, set OID, sets ResultSetLookup, depth int) (search.Node, error) {
	if depth > maxRPNDepth {
		return nil, &Diagnostic{Condition: DiagMalformedQuery, AddInfo: "query nested too deep"}
	}
	switch n := n.(type) {
	case *RPNOp:
		l, err := translateRPN(n.Left, set, sets, depth+1)
		if err != nil {
			return nil, err
		}
		r, err := translateRPN(n.Right, set, sets, depth+1)
		if err != nil {
			return nil, err
		}
		if op, ok := boolOps[n.Op]; ok {
			return &search.Bool{Op: op, Left: l, Right: r}, nil
		}
		if n.Op != OpProx || n.Prox == nil {
			return nil, &Diagnostic{Condition: DiagOperatorUnsupported, AddInfo: strconv.Itoa(n.Op)}
		}
		pr := n.Prox
		rel, ok := proxRelations[pr.Relation]
		if !ok {
			return nil, &Diagnostic{Condition: DiagUnsupportedProxRel, AddInfo: strconv.Itoa(pr.Relation)}
		}
		unit, ok := proxUnits[pr.Unit]
		if !ok || pr.PrivateUnit {
			return nil, &Diagnostic{Condition: DiagUnsupportedProxUnit, AddInfo: strconv.Itoa(pr.Unit)}
		}
		return &search.Prox{Left: l, Right: r, Distance: pr.Distance, Relation: rel, Unit: unit,
			Ordered: pr.Ordered, Exclusion: pr.Exclusion}, nil
	case *AttributesPlusTerm:
		return translateTerm(n, set)
	case *ResultSetOperand:
		if sets != nil {
			if root, ok := sets(n.Name); ok {
				return root, nil
			}
		}
		return nil, &Diagnostic{Condition: DiagResultSetMissing, AddInfo: n.Name}
	case *ResultSetPlusAttributes:
		return nil, &Diagnostic{Condition: DiagRestrictionOperand, AddInfo: n.Name}
	}
	return nil, &Diagnostic{Condition: DiagMalformedQuery, AddInfo: "empty operand"}
}

// termValue returns a term's text.
func termValue(t Term) (string, error) {
	switch t.Kind {
	case TermGeneral, TermCharacterString:
		return termText(string(t.Bytes)), nil
	case TermNumeric:
		return strconv.Itoa(t.Numeric), nil
	}
	return "", &Diagnostic{Condition: DiagTermTypeUnsupported, AddInfo: termKindName(t.Kind)}
}

func termKindName(k int) string {
	switch k {
	case TermOID:
		return "oid"
	case TermDateTime:
		return "dateTime"
	case TermExternal:
		return "external"
	case TermIntegerAndUnit:
		return "integerAndUnit"
	case TermNull:
		return "null"
	}
	return strconv.Itoa(k)
}

// termText makes a term's octets text: UTF-8 as negotiated, NFC. Octets
// that are not UTF-8 come from an old client sending Latin-1; each byte is
// taken as its Latin-1 character rather than refusing the search.
func termText(s string) string {
	if !utf8.ValidString(s) {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			b.WriteRune(rune(s[i]))
		}
		s = b.String()
	}
	return norm.NFC.String(s)
}

func translateTerm(apt *AttributesPlusTerm, set OID) (search.Node, error) {
	spec, err := parseAttributes(apt.Attributes, set)
	if err != nil {
		return nil, err
	}
	if spec.all || spec.always {
		// Every record: Zebra's "@attr 1=_ALLRECORDS @attr 2=103 ''",
		// which harvesters send to list a whole database.
		return search.AllRecords{}, nil
	}
	text, err := termValue(apt.Term)
	if err != nil {
		return nil, err
	}
	t := &search.Term{
		Relation:     spec.relation,
		Match:        spec.match(),
		FirstInField: spec.first,
	}
	if spec.index != nil {
		t.Index = spec.index.Name
	}
	t.Value = applyTruncation(text, spec.truncFor(text))
	return t, nil
}

// truncFor returns the truncation to apply: a right-truncated complete
// ISBN is searched as that ISBN (Koha sends "@attr 1=7 @attr 5=1 isbn"),
// because the index keeps ISBNs as ISBN-13 and the truncated ISBN-10 form
// would otherwise miss them.
func (s *termSpec) truncFor(text string) int {
	if s.trunc == truncRight && s.index != nil && (s.index.Name == "isbn" || s.index.Name == "identifier") {
		if _, ok := marc.NormalizeISBN(text); ok {
			return truncNone
		}
	}
	return s.trunc
}

// applyTruncation makes a search pattern of a term: its own '*', '?' and
// '\' escaped, then the truncation's masking added.
func applyTruncation(text string, trunc int) string {
	switch trunc {
	case truncRight:
		return search.EscapeMasking(text) + "*"
	case truncLeft:
		return "*" + search.EscapeMasking(text)
	case truncBoth:
		return "*" + search.EscapeMasking(text) + "*"
	case truncHash:
		var b strings.Builder
		for _, r := range text {
			if r == '#' {
				b.WriteByte('*')
				continue
			}
			b.WriteString(search.EscapeMasking(string(r)))
		}
		return b.String()
	case truncZ3958:
		// '#' masks one character; '?' followed by an optional number
		// masks any number of them (the count is not kept: the index
		// has no way to bound it).
		var b strings.Builder
		rs := []rune(text)
		for i := 0; i < len(rs); i++ {
			switch rs[i] {
			case '#':
				b.WriteByte('?')
			case '?':
				for i+1 < len(rs) && rs[i+1] >= '0' && rs[i+1] <= '9' {
					i++
				}
				b.WriteByte('*')
			default:
				b.WriteString(search.EscapeMasking(string(rs[i])))
			}
		}
		return b.String()
	}
	return search.EscapeMasking(text)
}

package search

import (
	"errors"
	"strconv"
	"strings"

	"github.com/indexdata/cql-go/cql"
)

// Context sets unicat's CQL understands, by URI. An index name's prefix
// is looked up here after the query's own prefix assignments.
var contextSets = map[string]string{
	"info:srw/cql-context-set/1/cql-v1.1":  "cql",
	"info:srw/cql-context-set/1/cql-v1.2":  "cql",
	"info:srw/cql-context-set/1/dc-v1.1":   "dc",
	"info:srw/cql-context-set/2/rec-1.0":   "rec",
	"info:srw/cql-context-set/2/rec-1.1":   "rec",
	"http://zing.z3950.org/cql/bath/2.0/":  "bath",
	"info:srw/cql-context-set/15/unicat-1": "unicat",
}

// ContextSets returns the context sets (prefix → URI) indexes are named
// in, for SRU explain.
func ContextSets() map[string]string {
	return map[string]string{
		"cql":    "info:srw/cql-context-set/1/cql-v1.2",
		"dc":     "info:srw/cql-context-set/1/dc-v1.1",
		"rec":    "info:srw/cql-context-set/2/rec-1.1",
		"bath":   "http://zing.z3950.org/cql/bath/2.0/",
		"unicat": "info:srw/cql-context-set/15/unicat-1",
	}
}

// defaultSets are tried, in order, for an index name without a prefix.
var defaultSets = []string{"dc", "bath", "unicat", "rec", "cql"}

// sortNames maps CQL sort index names (after the prefix is resolved) to
// sort keys.
var sortNames = map[string]SortBy{
	"dc.title": SortTitle, "bath.title": SortTitle,
	"dc.creator": SortCreator, "dc.author": SortCreator, "bath.author": SortCreator, "bath.name": SortCreator,
	"dc.date": SortDate, "bath.date": SortDate,
	"cql.relevance": SortRelevance, "rec.relevance": SortRelevance, "unicat.relevance": SortRelevance,
	"relevance": SortRelevance, "rank": SortRelevance,
}

// ParseCQL parses a CQL query (with an optional sortBy clause) and
// translates it into a Query. A syntax error is an *Error with code 10;
// what the index cannot do is an *Error with the matching diagnostic.
func ParseCQL(s string) (*Query, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &Error{Code: DiagQuerySyntax, Detail: s, Message: "empty query"}
	}
	var p cql.Parser
	q, err := p.Parse(s)
	if err != nil {
		var pe *cql.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Code: DiagQuerySyntax, Detail: s, Message: pe.Message() + " at position " + strconv.Itoa(pe.Pos())}
		}
		return nil, &Error{Code: DiagQuerySyntax, Detail: s, Message: err.Error()}
	}
	return FromCQL(q)
}

// FromCQL translates a parsed CQL query.
func FromCQL(q cql.Query) (*Query, error) {
	t := cqlTranslator{prefixes: map[string]string{}}
	root, err := t.clause(&q.Clause)
	if err != nil {
		return nil, err
	}
	out := &Query{Root: root}
	for i := range q.SortSpec {
		k, err := t.sortKey(&q.SortSpec[i])
		if err != nil {
			return nil, err
		}
		out.Sort = append(out.Sort, k)
	}
	return out, nil
}

type cqlTranslator struct {
	prefixes   map[string]string // prefix → set name, from the query
	defaultSet string            // from a "> uri" without a prefix
}

func (t *cqlTranslator) clause(c *cql.Clause) (Node, error) {
	if len(c.PrefixMap) > 0 {
		saved, savedDefault := t.prefixes, t.defaultSet
		t.prefixes = make(map[string]string, len(saved)+len(c.PrefixMap))
		for k, v := range saved {
			t.prefixes[k] = v
		}
		for _, p := range c.PrefixMap {
			set, ok := contextSets[p.Uri]
			if !ok {
				return nil, &Error{Code: DiagUnsupportedContextSet, Detail: p.Uri}
			}
			if p.Prefix == "" {
				t.defaultSet = set
			} else {
				t.prefixes[strings.ToLower(p.Prefix)] = set
			}
		}
		defer func() { t.prefixes, t.defaultSet = saved, savedDefault }()
	}
	switch {
	case c.SearchClause != nil:
		return t.search(c.SearchClause)
	case c.BoolClause != nil:
		return t.boolean(c.BoolClause)
	}
	return AllRecords{}, nil
}

func (t *cqlTranslator) boolean(b *cql.BoolClause) (Node, error) {
	l, err := t.clause(&b.Left)
	if err != nil {
		return nil, err
	}
	r, err := t.clause(&b.Right)
	if err != nil {
		return nil, err
	}
	op := strings.ToLower(string(b.Operator))
	if op == "prox" {
		return t.prox(b, l, r)
	}
	if len(b.Modifiers) > 0 {
		return nil, &Error{Code: DiagUnsupportedBoolModifier, Detail: b.Modifiers[0].Name}
	}
	switch op {
	case "and":
		return &Bool{Op: And, Left: l, Right: r}, nil
	case "or":
		return &Bool{Op: Or, Left: l, Right: r}, nil
	case "not":
		return &Bool{Op: Not, Left: l, Right: r}, nil
	}
	return nil, &Error{Code: DiagUnsupportedBoolean, Detail: string(b.Operator)}
}

func (t *cqlTranslator) prox(b *cql.BoolClause, l, r Node) (Node, error) {
	p := &Prox{Left: l, Right: r, Distance: 1, Relation: LE, Unit: UnitWord}
	for _, m := range b.Modifiers {
		name := strings.ToLower(strings.TrimPrefix(strings.ToLower(m.Name), "cql."))
		switch name {
		case "distance":
			n, err := strconv.Atoi(m.Value)
			if err != nil || n < 0 {
				return nil, &Error{Code: DiagUnsupportedProxDistance, Detail: m.Value}
			}
			rel, ok := cqlRelation(string(m.Relation))
			if !ok {
				return nil, &Error{Code: DiagUnsupportedProxRelation, Detail: string(m.Relation)}
			}
			p.Distance, p.Relation = n, rel
		case "unit":
			switch strings.ToLower(m.Value) {
			case "word":
				p.Unit = UnitWord
			case "sentence":
				p.Unit = UnitSentence
			case "paragraph":
				p.Unit = UnitParagraph
			case "element":
				p.Unit = UnitElement
			default:
				return nil, &Error{Code: DiagUnsupportedProxUnit, Detail: m.Value}
			}
		case "ordered":
			p.Ordered = true
		case "unordered":
			p.Ordered = false
		default:
			return nil, &Error{Code: DiagUnsupportedBoolModifier, Detail: m.Name}
		}
	}
	return p, nil
}

// cqlRelation maps a comparison symbol ("=" when empty).
func cqlRelation(s string) (Relation, bool) {
	switch s {
	case "", "=", "==":
		return EQ, true
	case "<":
		return LT, true
	case "<=":
		return LE, true
	case ">":
		return GT, true
	case ">=":
		return GE, true
	case "<>":
		return NE, true
	}
	return 0, false
}

// resolveName turns a CQL index name into "set.name" with a known set.
func (t *cqlTranslator) resolveName(name string) (string, error) {
	prefix, local, ok := strings.Cut(name, ".")
	if !ok {
		if t.defaultSet != "" {
			return t.defaultSet + "." + name, nil
		}
		for _, set := range defaultSets {
			if _, found := LookupIndex(set + "." + name); found {
				return set + "." + name, nil
			}
			if _, found := sortNames[set+"."+name]; found {
				return set + "." + name, nil
			}
		}
		if strings.EqualFold(name, "serverChoice") || strings.EqualFold(name, "allRecords") {
			return "cql." + name, nil
		}
		return name, nil
	}
	lp := strings.ToLower(prefix)
	if set, ok := t.prefixes[lp]; ok {
		return set + "." + local, nil
	}
	for _, known := range contextSets {
		if known == lp {
			return lp + "." + local, nil
		}
	}
	return "", &Error{Code: DiagUnsupportedContextSet, Detail: prefix}
}

func (t *cqlTranslator) search(sc *cql.SearchClause) (Node, error) {
	index := sc.Index
	if index == "" {
		index = "cql.serverChoice"
	}
	name, err := t.resolveName(index)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(name) {
	case "cql.allrecords":
		return AllRecords{}, nil
	case "cql.resultsetid":
		return nil, &Error{Code: 50, Detail: sc.Term, Message: "result sets are not kept"}
	}
	def, ok := LookupIndex(name)
	if !ok {
		return nil, &Error{Code: DiagUnsupportedIndex, Detail: index}
	}
	term := &Term{Index: def.Name}
	field := def.Kind == KindCode || def.Kind == KindIdent || def.Kind == KindNumber
	if err := setRelation(term, sc.Relation, field); err != nil {
		return nil, err
	}
	mods := relModifiers{masked: true}
	for _, m := range sc.Modifiers {
		if err := mods.apply(term, def, field, m); err != nil {
			return nil, err
		}
	}
	if err := setValue(term, sc.Term, index, mods.masked); err != nil {
		return nil, err
	}
	return term, nil
}

// setRelation sets how term matches from a search clause's relation;
// field says the index holds whole-field values (codes, identifiers,
// numbers), which "=" matches whole.
func setRelation(term *Term, relation cql.Relation, field bool) error {
	rel := strings.ToLower(strings.TrimPrefix(strings.ToLower(string(relation)), "cql."))
	switch rel {
	case "", "=", "scr":
		term.Match = MatchPhrase
		if field {
			term.Match = MatchField
		}
	case "adj":
		term.Match = MatchPhrase
	case "all":
		term.Match = MatchAll
	case "any":
		term.Match = MatchAny
	case "==", "exact":
		term.Match = MatchField
		term.RespectAccents = true
	case "<", "<=", ">", ">=", "<>":
		term.Relation, _ = cqlRelation(rel)
		term.Match = MatchField
	default:
		return &Error{Code: DiagUnsupportedRelation, Detail: string(relation)}
	}
	return nil
}

// relModifiers is what a search clause's relation modifiers said so far.
type relModifiers struct {
	masked         bool   // '*' and '?' mask (cql.masked, the default)
	accents, cases string // the accent and case modifiers met
}

// apply applies one relation modifier to term, after setRelation.
func (rm *relModifiers) apply(term *Term, def *IndexDef, field bool, m cql.Modifier) error {
	mod := strings.ToLower(m.Name)
	if i := strings.IndexByte(mod, '.'); i >= 0 {
		if mod[:i] != "cql" {
			return &Error{Code: DiagUnsupportedRelModifier, Detail: m.Name}
		}
		mod = mod[i+1:]
	}
	switch mod {
	case "ignoreaccents", "respectaccents":
		if rm.accents != "" && rm.accents != mod {
			return &Error{Code: DiagUnsupportedRelModCombo, Detail: "ignoreAccents/respectAccents"}
		}
		rm.accents = mod
		term.RespectAccents = mod == "respectaccents"
	case "ignorecase":
		if rm.cases == "respectcase" {
			return &Error{Code: DiagUnsupportedRelModCombo, Detail: "ignoreCase/respectCase"}
		}
		rm.cases = mod
	case "respectcase":
		return &Error{Code: DiagUnsupportedRelModifier, Detail: m.Name, Message: "searches ignore case"}
	case "masked":
		rm.masked = true
	case "unmasked":
		rm.masked = false
	case "relevant":
		// Results are ranked by relevance anyway.
	case "word":
		if term.Relation == EQ && term.Match == MatchField && !field {
			return &Error{Code: DiagUnsupportedRelModCombo, Detail: m.Name}
		}
	case "string":
		if term.Relation == EQ {
			term.Match = MatchField
		}
	case "number", "isodate":
		if def.Kind != KindNumber {
			return &Error{Code: DiagUnsupportedRelModifier, Detail: m.Name, Message: def.Name + " is not numeric"}
		}
	default:
		return &Error{Code: DiagUnsupportedRelModifier, Detail: m.Name}
	}
	return nil
}

// setValue sets term's value from a search clause's term s, and the
// anchoring written in it; index is the index as written, for the
// diagnostic of an empty term.
func setValue(term *Term, s, index string, masked bool) error {
	value, first, last, err := cqlTerm(s, masked)
	if err != nil {
		return err
	}
	if strings.TrimSpace(value) == "" {
		return &Error{Code: DiagEmptyTerm, Detail: index}
	}
	switch {
	case first && last:
		term.Match = MatchField
	case last:
		return &Error{Code: DiagAnchorPosition, Detail: s, Message: "a term may only be anchored at its start, or at both ends"}
	case first:
		if term.Relation != EQ {
			return &Error{Code: DiagAnchorPosition, Detail: s, Message: "anchoring in a comparison"}
		}
		term.FirstInField = true
	}
	term.Value = value
	return nil
}

// cqlTerm turns a CQL term into a Term value: it removes the anchoring
// '^' at either end (reporting them), keeps '*' and '?' as masking (or
// escapes them when unmasked) and keeps every other escape.
func cqlTerm(s string, masked bool) (value string, first, last bool, err error) {
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs):
			i++
			if rs[i] == '*' || rs[i] == '?' || rs[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(rs[i])
		case r == '\\':
			// A trailing backslash escapes nothing: it is itself.
			b.WriteString(`\\`)
		case r == '^':
			switch {
			case i == 0:
				first = true
			case i == len(rs)-1:
				last = true
			default:
				return "", false, false, &Error{Code: DiagAnchorPosition, Detail: s}
			}
		case (r == '*' || r == '?') && !masked:
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), first, last, nil
}

func (t *cqlTranslator) sortKey(s *cql.Sort) (SortKey, error) {
	name, err := t.resolveName(s.Index)
	if err != nil {
		return SortKey{}, err
	}
	key, err := sortFor(name, s.Index)
	if err != nil {
		return SortKey{}, err
	}
	for _, m := range s.Modifiers {
		mod := strings.ToLower(m.Name)
		mod = strings.TrimPrefix(mod, "sort.")
		switch mod {
		case "ascending":
			key.Descending = false
		case "descending":
			key.Descending = true
		case "ignorecase", "ignoreaccents", "missinglow":
		case "respectcase", "respectaccents":
			return SortKey{}, &Error{Code: DiagUnsupportedSortCase, Detail: m.Name}
		case "missinghigh", "missingomit", "missingfail", "missingvalue":
			return SortKey{}, &Error{Code: DiagUnsupportedMissingValue, Detail: m.Name}
		default:
			return SortKey{}, &Error{Code: DiagUnsupportedSortSequence, Detail: m.Name}
		}
	}
	if key.By == SortRelevance && !key.Descending {
		// Relevance sorts best first whatever was asked: "ascending"
		// relevance is not a useful order.
		key.Descending = true
	}
	return key, nil
}

// sortFor finds the sort key of a resolved CQL index name.
func sortFor(name, asWritten string) (SortKey, error) {
	if by, ok := sortNames[strings.ToLower(name)]; ok {
		return SortKey{By: by, Descending: by == SortRelevance}, nil
	}
	for k, by := range sortNames {
		if strings.EqualFold(k, name) {
			return SortKey{By: by, Descending: by == SortRelevance}, nil
		}
	}
	if def, ok := LookupIndex(name); ok {
		if def.Sort != 0 {
			return SortKey{By: def.Sort}, nil
		}
		return SortKey{}, &Error{Code: DiagSortNotSupported, Detail: asWritten, Message: "this index cannot be sorted by"}
	}
	return SortKey{}, &Error{Code: DiagUnsupportedIndex, Detail: asWritten}
}

// ParseSortKeys parses the SRU 1.1 sortKeys parameter: space-separated
// keys "path,schema,ascending,caseSensitive,missingValue" where path is
// an index name, ascending is 1 (default) or 0.
func ParseSortKeys(s string) ([]SortKey, error) {
	var out []SortKey
	for _, k := range strings.Fields(s) {
		parts := strings.Split(k, ",")
		name := parts[0]
		key, err := sortFor(name, name)
		if err != nil {
			var se *Error
			if errors.As(err, &se) && se.Code == DiagUnsupportedIndex {
				return nil, &Error{Code: DiagUnsupportedSortPath, Detail: name}
			}
			return nil, err
		}
		if len(parts) > 2 && parts[2] != "" {
			switch parts[2] {
			case "1":
				key.Descending = false
			case "0":
				key.Descending = true
			default:
				return nil, &Error{Code: DiagUnsupportedSortDirection, Detail: parts[2]}
			}
			if key.By == SortRelevance {
				key.Descending = true
			}
		}
		if len(parts) > 3 && parts[3] == "1" {
			return nil, &Error{Code: DiagUnsupportedSortCase, Detail: k}
		}
		if len(parts) > 4 && parts[4] != "" && parts[4] != "lowValue" {
			return nil, &Error{Code: DiagUnsupportedMissingValue, Detail: parts[4]}
		}
		out = append(out, key)
	}
	if len(out) > MaxSortKeys {
		return nil, &Error{Code: DiagTooManySortKeys, Detail: strconv.Itoa(len(out))}
	}
	return out, nil
}

package z3950

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/unicat/unicat/search"
)

// The Bib-1 attribute mapping. Each attribute type has a table of the
// values it supports and what each does to the term; a value not in its
// type's table gets that type's diagnostic, a type not here gets 113.
// Use attributes are looked up in the search package's index table
// (search.LookupBib1), the one table SRU explain and the docs show too.

// Bib-1 attribute types.
const (
	AttrUse          = 1
	AttrRelation     = 2
	AttrPosition     = 3
	AttrStructure    = 4
	AttrTruncation   = 5
	AttrCompleteness = 6
)

// termSpec is what the attributes of one term ask for.
type termSpec struct {
	index     *search.IndexDef // nil: any field (no use attribute)
	useText   string           // the use attribute as sent, for diagnostics
	relation  search.Relation
	relevance bool
	always    bool // relation 103, AlwaysMatches: every record with the index
	all       bool // use _ALLRECORDS (Zebra's name for every record)
	first     bool
	structure int // 0: not given
	trunc     int
	complete  int
	attrs     []Attribute
}

// relationAttr is one supported relation value.
type relationAttr struct {
	rel       search.Relation
	relevance bool // 102: ranked; the words of the term are ORed
	always    bool // 103: matches whatever the term
}

var relationAttrs = map[int]relationAttr{
	1:   {rel: search.LT},
	2:   {rel: search.LE},
	3:   {rel: search.EQ},
	4:   {rel: search.GE},
	5:   {rel: search.GT},
	6:   {rel: search.NE},
	102: {rel: search.EQ, relevance: true},
	103: {rel: search.EQ, always: true},
}

// positionAttrs: first in field (1), first in subfield (2, answered as
// first in field: the phrase keys are built from whole fields) and any
// position (3).
var positionAttrs = map[int]bool{1: true, 2: true, 3: false}

// structureAttr is one supported structure value.
type structureAttr struct {
	match   search.Match
	number  bool // the term is a year or date: only date indexes take it
	wordish bool // word structures, which contradict a complete-field search
}

var structureAttrs = map[int]structureAttr{
	1:   {match: search.MatchPhrase},                // phrase
	2:   {match: search.MatchPhrase, wordish: true}, // word
	3:   {match: search.MatchField},                 // key: the whole field
	4:   {match: search.MatchPhrase, number: true},  // year
	5:   {match: search.MatchPhrase, number: true},  // date (normalised)
	6:   {match: search.MatchAll, wordish: true},    // word list: all words
	101: {match: search.MatchPhrase},                // name (normalised)
	105: {match: search.MatchAny, wordish: true},    // free-form text: any word
	106: {match: search.MatchAny, wordish: true},    // document text: any word
	108: {match: search.MatchField},                 // string: the whole field
	109: {match: search.MatchPhrase},                // numeric string
}

// Truncation modes.
const (
	truncRight   = 1
	truncLeft    = 2
	truncBoth    = 3
	truncNone    = 100
	truncHash    = 101 // '#' in the term matches any characters
	truncZ3958   = 104 // '#' one character, '?' (with an optional count) any characters
	defaultTrunc = truncNone
)

var truncationAttrs = map[int]bool{truncRight: true, truncLeft: true, truncBoth: true,
	truncNone: true, truncHash: true, truncZ3958: true}

// completenessAttrs: incomplete subfield (1); complete subfield (2) and
// complete field (3) compare the whole field.
var completenessAttrs = map[int]bool{1: false, 2: true, 3: true}

// attrType is one supported attribute type: the diagnostic for a value it
// does not support, and how a supported value applies.
type attrType struct {
	name  string
	diag  int
	apply func(s *termSpec, a Attribute) bool // false: unsupported value
}

var attrTypes = map[int]attrType{
	AttrUse: {"use", DiagUnsupportedUse, func(s *termSpec, a Attribute) bool {
		if a.Complex != nil {
			// A string use attribute (@attr 1=title) names an index.
			if len(a.Complex) != 1 {
				return false
			}
			c := a.Complex[0]
			if c.IsNumeric {
				return applyUse(s, c.Numeric)
			}
			if strings.EqualFold(c.String, "_ALLRECORDS") {
				s.all, s.useText = true, c.String
				return true
			}
			def, ok := search.LookupIndex(c.String)
			s.index, s.useText = def, c.String
			return ok
		}
		return applyUse(s, a.Value)
	}},
	AttrRelation: {"relation", DiagUnsupportedRelation, func(s *termSpec, a Attribute) bool {
		r, ok := relationAttrs[a.Value]
		s.relation, s.relevance, s.always = r.rel, r.relevance, r.always
		return ok && a.Complex == nil
	}},
	AttrPosition: {"position", DiagUnsupportedPosition, func(s *termSpec, a Attribute) bool {
		first, ok := positionAttrs[a.Value]
		s.first = first
		return ok && a.Complex == nil
	}},
	AttrStructure: {"structure", DiagUnsupportedStructure, func(s *termSpec, a Attribute) bool {
		_, ok := structureAttrs[a.Value]
		s.structure = a.Value
		return ok && a.Complex == nil
	}},
	AttrTruncation: {"truncation", DiagUnsupportedTruncation, func(s *termSpec, a Attribute) bool {
		s.trunc = a.Value
		return truncationAttrs[a.Value] && a.Complex == nil
	}},
	AttrCompleteness: {"completeness", DiagUnsupportedComplete, func(s *termSpec, a Attribute) bool {
		_, ok := completenessAttrs[a.Value]
		s.complete = a.Value
		return ok && a.Complex == nil
	}},
}

func applyUse(s *termSpec, v int) bool {
	def, ok := search.LookupBib1(v)
	s.index, s.useText = def, strconv.Itoa(v)
	return ok
}

// comboRules are the attribute combinations the index cannot answer
// (diagnostic 123), checked after every attribute applied.
var comboRules = []struct {
	why string
	bad func(s *termSpec) bool
}{
	{"always-matches is answered for any field only (every record)", func(s *termSpec) bool {
		return s.always && s.index != nil
	}},
	{"truncation in a comparison", func(s *termSpec) bool {
		return s.relation != search.EQ && s.trunc != truncNone
	}},
	{"first-in-field in a comparison", func(s *termSpec) bool {
		return s.relation != search.EQ && s.first
	}},
	{"relevance with a comparison structure", func(s *termSpec) bool {
		return s.relevance && s.structure != 0 && structureAttrs[s.structure].match == search.MatchField
	}},
	{"a year or date structure on an index that is not a date", func(s *termSpec) bool {
		return structureAttrs[s.structure].number && (s.index == nil || s.index.Kind != search.KindNumber)
	}},
	{"a word structure with a complete-field search", func(s *termSpec) bool {
		return completenessAttrs[s.complete] && structureAttrs[s.structure].wordish
	}},
	{"a comparison on any field", func(s *termSpec) bool {
		return s.relation != search.EQ && s.index == nil
	}},
	{"left truncation on a number", func(s *termSpec) bool {
		return (s.trunc == truncLeft || s.trunc == truncBoth) && s.index != nil && s.index.Kind == search.KindNumber
	}},
}

// parseAttributes applies a term's attributes. set is the query's
// attribute set, which must be Bib-1 (as must any attribute's own).
func parseAttributes(attrs []Attribute, set OID) (*termSpec, error) {
	if set != nil && !set.Equal(OIDBib1) {
		return nil, &Diagnostic{Condition: DiagUnsupportedAttrSet, AddInfo: set.String()}
	}
	s := &termSpec{relation: search.EQ, trunc: defaultTrunc, complete: 1, attrs: attrs}
	seen := map[int]bool{}
	for _, a := range attrs {
		if a.Set != nil && !a.Set.Equal(OIDBib1) {
			return nil, &Diagnostic{Condition: DiagUnsupportedAttrSet, AddInfo: a.Set.String()}
		}
		t, ok := attrTypes[a.Type]
		if !ok {
			return nil, &Diagnostic{Condition: DiagUnsupportedAttrType, AddInfo: strconv.Itoa(a.Type)}
		}
		if seen[a.Type] {
			return nil, &Diagnostic{Condition: DiagUnsupportedCombination,
				AddInfo: fmt.Sprintf("%s attribute given twice", t.name)}
		}
		seen[a.Type] = true
		if a.Complex != nil && a.Type != AttrUse {
			return nil, &Diagnostic{Condition: DiagComplexAttrValue, AddInfo: a.String()}
		}
		if !t.apply(s, a) {
			info := strconv.Itoa(a.Value)
			if a.Complex != nil {
				info = strings.TrimPrefix(a.String(), strconv.Itoa(a.Type)+"=")
			}
			return nil, &Diagnostic{Condition: t.diag, AddInfo: info}
		}
	}
	if s.index != nil && s.index.Kind == search.KindAnywhere {
		s.index = nil
	}
	for _, r := range comboRules {
		if r.bad(s) {
			return nil, &Diagnostic{Condition: DiagUnsupportedCombination,
				AddInfo: attrList(attrs) + ": " + r.why}
		}
	}
	return s, nil
}

func attrList(attrs []Attribute) string {
	parts := make([]string, len(attrs))
	for i, a := range attrs {
		parts[i] = a.String()
	}
	return strings.Join(parts, " ")
}

// match is how the term's words meet the field's.
func (s *termSpec) match() search.Match {
	if completenessAttrs[s.complete] {
		return search.MatchField
	}
	if s.structure != 0 {
		return structureAttrs[s.structure].match
	}
	if s.relevance {
		return search.MatchAny
	}
	return search.MatchPhrase
}

// UseAttribute is one row of the Bib-1 use attribute table, for docs and
// explain.
type UseAttribute struct {
	Use   int
	Index string // the search index's canonical name
	Title string
	Kind  string
}

// UseAttributes lists the supported Bib-1 use attributes, in number order.
func UseAttributes() []UseAttribute {
	var out []UseAttribute
	for _, d := range search.Indexes() {
		for _, u := range d.Bib1 {
			out = append(out, UseAttribute{Use: u, Index: d.Name, Title: d.Title, Kind: d.Kind.String()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Use < out[j].Use })
	return out
}

package search

import (
	"fmt"
	"strings"
)

// Query is one search: a query tree and the order wanted for the hits.
type Query struct {
	Root Node
	// Sort lists the sort keys, most significant first. Empty means
	// relevance when the query has words to rank by, else index order.
	Sort []SortKey
}

// Node is a node of the query tree: *Bool, *Prox, *Term or AllRecords.
// CQL (package sru) and Z39.50 Type-1/RPN queries are both translated into
// it, so both protocols answer the same question with the same records.
type Node interface{ node() }

// Op is a boolean operator.
type Op uint8

// Boolean operators. Not is "and not": Left minus Right.
const (
	And Op = iota + 1
	Or
	Not
)

func (o Op) String() string {
	switch o {
	case And:
		return "and"
	case Or:
		return "or"
	case Not:
		return "not"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Bool combines two subqueries.
type Bool struct {
	Op          Op
	Left, Right Node
}

// Prox finds records where the words of Left and Right occur near each
// other in one field. CQL prox and Z39.50 proximity map onto it. The index
// keeps word pairs, not positions, so only Distance 1 with Unit word is
// answered (Distance 0 also, as the same-word case cannot occur); other
// distances and units are reported as unsupported.
type Prox struct {
	Left, Right Node
	Distance    int      // in Unit; the relation says how the real distance compares to it
	Relation    Relation // LE, LT, EQ, ...; EQ with Distance 1 is "adjacent"
	Unit        ProxUnit
	Ordered     bool // Left must come before Right
	Exclusion   bool // Z39.50 exclusion flag: not near
}

// ProxUnit is the unit of a proximity distance.
type ProxUnit uint8

// Proximity units (Z39.50 known proximity units; CQL unit=...).
const (
	UnitWord ProxUnit = iota
	UnitSentence
	UnitParagraph
	UnitElement
)

// AllRecords matches every record (CQL cql.allRecords, Bib-1 use 1035 in
// some profiles, "@attr 1=_ALLRECORDS" in Zebra).
type AllRecords struct{}

// Relation compares a field (or its number, for numeric indexes) with the
// term. Bib-1 relation attributes 1-6 map onto these one to one.
type Relation uint8

// Relations. EQ is the ordinary match described by Term.Match; the others
// compare the whole field value (or the number) with the term.
const (
	EQ Relation = iota
	LT
	LE
	GE
	GT
	NE
)

func (r Relation) String() string {
	return [...]string{"=", "<", "<=", ">=", ">", "<>"}[r]
}

// Match says how the words of the term meet the words of the field when
// the relation is EQ. Bib-1 structure and completeness attributes map onto
// it: phrase (4=1) → MatchPhrase, word (4=2) → MatchPhrase (one word),
// word list (4=6) → MatchAll, 4=105 → MatchAny, complete field (6=3) or
// string (4=108) → MatchField.
type Match uint8

// Match modes.
const (
	// MatchPhrase: the words of the term occur in the field, adjacent and
	// in order (a one-word term: the field contains the word). CQL "=" on
	// a word index and "adj".
	MatchPhrase Match = iota
	// MatchAll: every word occurs somewhere in the field. CQL "all".
	MatchAll
	// MatchAny: at least one word occurs. CQL "any".
	MatchAny
	// MatchField: the whole field equals the term. CQL "==", "exact".
	MatchField
)

func (m Match) String() string {
	return [...]string{"phrase", "all", "any", "field"}[m]
}

// Term is a search term in one index.
type Term struct {
	// Index is the canonical name of an index of Indexes ("title"); ""
	// means "anywhere".
	Index    string
	Match    Match
	Relation Relation
	// Value is the term as a pattern: an unescaped '*' matches any run of
	// characters within a word (or a whole field value, for MatchField),
	// '?' exactly one character, and '\' makes the next character literal.
	// Translators escape the masking characters of terms whose protocol
	// does not mask (see EscapeMasking).
	Value string
	// FirstInField anchors the term at the start of the field (CQL "^",
	// Bib-1 position 1). With MatchField it changes nothing.
	FirstInField bool
	// RespectAccents compares with diacritics (and đ) as written; by
	// default they are ignored. Case is always ignored.
	RespectAccents bool
}

func (*Bool) node()      {}
func (*Prox) node()      {}
func (*Term) node()      {}
func (AllRecords) node() {}

// EscapeMasking returns s with the masking characters '*', '?' and '\'
// escaped, so that a Term with it as Value matches it literally.
func EscapeMasking(s string) string {
	if !strings.ContainsAny(s, `*?\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SortBy is what a sort key orders by.
type SortBy uint8

// Sort keys. Title and creator sort with Vietnamese collation (Đ after D,
// Ă and Â after A), keys computed when the record is indexed.
const (
	SortRelevance SortBy = iota + 1
	SortTitle
	SortCreator
	SortDate
)

func (s SortBy) String() string {
	switch s {
	case SortRelevance:
		return "relevance"
	case SortTitle:
		return "title"
	case SortCreator:
		return "creator"
	case SortDate:
		return "date"
	}
	return fmt.Sprintf("SortBy(%d)", uint8(s))
}

// SortKey is one sort criterion.
type SortKey struct {
	By         SortBy
	Descending bool
}

// String renders a node for logs and test messages, CQL-like.
func String(n Node) string {
	var b strings.Builder
	writeNode(&b, n)
	return b.String()
}

func writeNode(b *strings.Builder, n Node) {
	switch n := n.(type) {
	case *Bool:
		b.WriteByte('(')
		writeNode(b, n.Left)
		fmt.Fprintf(b, " %s ", n.Op)
		writeNode(b, n.Right)
		b.WriteByte(')')
	case *Prox:
		b.WriteByte('(')
		writeNode(b, n.Left)
		fmt.Fprintf(b, " prox/%s%d", n.Relation, n.Distance)
		if n.Ordered {
			b.WriteString("/ordered")
		}
		b.WriteByte(' ')
		writeNode(b, n.Right)
		b.WriteByte(')')
	case *Term:
		idx := n.Index
		if idx == "" {
			idx = "anywhere"
		}
		fmt.Fprintf(b, "%s %s/%s", idx, n.Relation, n.Match)
		if n.FirstInField {
			b.WriteString("/first")
		}
		if n.RespectAccents {
			b.WriteString("/accents")
		}
		fmt.Fprintf(b, " %q", n.Value)
	case AllRecords:
		b.WriteString("allRecords")
	case nil:
		b.WriteString("<nil>")
	default:
		fmt.Fprintf(b, "%T", n)
	}
}

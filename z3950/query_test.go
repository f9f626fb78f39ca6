package z3950

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/unicat/unicat/search"
)

func translatePQF(t *testing.T, pqf string, sets ResultSetLookup) (*search.Query, error) {
	t.Helper()
	q, err := ParsePQF(pqf)
	if err != nil {
		t.Fatalf("%s: %v", pqf, err)
	}
	return TranslateQuery(&Query{Type: QueryType1, RPN: q}, sets)
}

// TestTranslate checks the RPN → query tree mapping for the attribute
// combinations real clients send.
func TestTranslate(t *testing.T) {
	for _, c := range []struct{ pqf, want string }{
		// Koha's Z39.50 search form.
		{`@attr 1=7 @attr 5=1 0879832355`, `isbn =/phrase "0879832355"`}, // a whole ISBN: no truncation
		{`@attr 1=7 @attr 5=1 978-604`, `isbn =/phrase "978-604*"`},      // a partial one keeps it
		{`@attr 1=8 @attr 5=1 0028-0836`, `issn =/phrase "0028-0836*"`},
		{`@attr 1=4 "truyện kiều"`, `title =/phrase "truyện kiều"`},
		{`@attr 1=1003 "Nguyễn Du"`, `creator =/phrase "Nguyễn Du"`},
		{`@attr 1=21 "văn học"`, `subject =/phrase "văn học"`},
		{`@attr 1=12 NAT00010231`, `id =/phrase "NAT00010231"`},
		{`@attr 1=1016 computer`, `anywhere =/phrase "computer"`},
		{`@attr 1=31 2015`, `date =/phrase "2015"`},
		{`@attr 1=1018 "văn học"`, `publisher =/phrase "văn học"`},
		{`@attr 1=1007 978-604-69-2437-1`, `identifier =/phrase "978-604-69-2437-1"`},
		{`@attr 1=54 vie`, `language =/phrase "vie"`},
		{`@attr 1=1044 NA-TINH`, `library =/phrase "NA-TINH"`},
		{`@attr 1=9 73090924`, `lccn =/phrase "73090924"`},
		{`@and @attr 1=4 computer @attr 1=1003 larson`, `(title =/phrase "computer" and creator =/phrase "larson")`},
		{`@attr 1=4 @and computer processing`, `(title =/phrase "computer" and title =/phrase "processing")`},
		// Bath level 0 (keyword) and level 1.
		{`@attr 1=1003 @attr 2=3 @attr 3=3 @attr 4=2 @attr 5=100 @attr 6=1 du`, `creator =/phrase "du"`},
		{`@attr 1=4 @attr 2=3 @attr 3=1 @attr 4=1 @attr 5=1 @attr 6=1 "how to prog"`, `title =/phrase/first "how to prog*"`},
		{`@attr 1=4 @attr 2=3 @attr 3=1 @attr 4=1 @attr 5=100 @attr 6=3 "How to program a computer"`, `title =/field/first "How to program a computer"`},
		// Relations, structures, truncations, completeness.
		{`@attr 1=31 @attr 2=1 2000`, `date </phrase "2000"`},
		{`@attr 1=31 @attr 2=2 2000`, `date <=/phrase "2000"`},
		{`@attr 1=31 @attr 2=4 @attr 4=4 2000`, `date >=/phrase "2000"`},
		{`@attr 1=31 @attr 2=5 2000`, `date >/phrase "2000"`},
		{`@attr 1=54 @attr 2=6 eng`, `language <>/phrase "eng"`},
		{`@attr 2=102 "computer science"`, `anywhere =/any "computer science"`},
		{`@attr 1=4 @attr 4=6 "science computer"`, `title =/all "science computer"`},
		{`@attr 1=4 @attr 4=105 "science computer"`, `title =/any "science computer"`},
		{`@attr 1=4 @attr 4=3 "the computer bible"`, `title =/field "the computer bible"`},
		{`@attr 1=4 @attr 4=108 "the computer bible"`, `title =/field "the computer bible"`},
		{`@attr 1=1003 @attr 4=101 "larson, kenneth"`, `creator =/phrase "larson, kenneth"`},
		{`@attr 1=31 @attr 4=5 1974`, `date =/phrase "1974"`},
		{`@attr 1=4 @attr 5=2 puter`, `title =/phrase "*puter"`},
		{`@attr 1=4 @attr 5=3 put`, `title =/phrase "*put*"`},
		{`@attr 1=4 @attr 5=101 "comp#r"`, `title =/phrase "comp*r"`},
		{`@attr 1=4 @attr 5=104 "col#r?2"`, `title =/phrase "col?r*"`},
		{`@attr 1=4 "a*b?"`, `title =/phrase "a\\*b\\?"`}, // RPN terms do not mask
		{`@attr 1=4 @attr 6=2 "x y"`, `title =/field "x y"`},
		{`@attr 1=4 @attr 3=2 x`, `title =/phrase/first "x"`},
		{`@attr 1=title x`, `title =/phrase "x"`},
		{`@attr 1=dc.creator x`, `creator =/phrase "x"`},
		{`x`, `anywhere =/phrase "x"`},
		{`@term numeric 42`, `anywhere =/phrase "42"`},
		{`@or @attr 1=4 a @not @attr 1=4 b @attr 1=4 c`, `(title =/phrase "a" or (title =/phrase "b" not title =/phrase "c"))`},
		{`@prox 0 1 1 3 k 2 @attr 1=4 computer @attr 1=4 bible`, `(title =/phrase "computer" prox/=1/ordered title =/phrase "bible")`},
		{`@and @set s1 @attr 1=4 x`, `(title =/phrase "old" and title =/phrase "x")`},
		{`@attr 1=_ALLRECORDS @attr 2=103 ""`, `allRecords`},
		{`@attr 2=103 ""`, `allRecords`},
	} {
		sets := func(name string) (search.Node, bool) {
			if name == "s1" {
				return &search.Term{Index: "title", Value: "old"}, true
			}
			return nil, false
		}
		q, err := translatePQF(t, c.pqf, sets)
		if err != nil {
			t.Errorf("%s: %v", c.pqf, err)
			continue
		}
		if got := search.String(q.Root); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.pqf, got, c.want)
		}
	}
}

// TestTranslateDiagnostics checks that what cannot be answered gets the
// Bib-1 diagnostic for it, not an empty result.
func TestTranslateDiagnostics(t *testing.T) {
	for _, c := range []struct {
		pqf  string
		code int
		info string
	}{
		{`@attr 1=20 641.5`, DiagUnsupportedUse, "20"},              // local classification: not indexed
		{`@attr 1=1032 QA76`, DiagUnsupportedUse, "1032"},           // document id
		{`@attr 1=nosuch x`, DiagUnsupportedUse, "nosuch"},          // string use attribute
		{`@attr 2=100 x`, DiagUnsupportedRelation, "100"},           // phonetic
		{`@attr 1=4 @attr 2=103 x`, DiagUnsupportedCombination, ""}, // always matches, on one index
		{`@attr 3=4 x`, DiagUnsupportedPosition, "4"},               // no such position
		{`@attr 4=100 x`, DiagUnsupportedStructure, "100"},          // date (un-normalised)
		{`@attr 4=104 x`, DiagUnsupportedStructure, "104"},          // URx
		{`@attr 5=102 x`, DiagUnsupportedTruncation, "102"},         // regular expression
		{`@attr 5=103 x`, DiagUnsupportedTruncation, "103"},         // regular expression 2
		{`@attr 6=4 x`, DiagUnsupportedComplete, "4"},               // no such completeness
		{`@attr 7=1 @attr 1=4 x`, DiagUnsupportedAttrType, "7"},     // Zebra's sort attribute
		{`@attr 9=20 x`, DiagUnsupportedAttrType, "9"},
		{`@attr 1=4 @attr 1=1003 x`, DiagUnsupportedCombination, ""},
		{`@attr 1=31 @attr 2=4 @attr 5=1 19`, DiagUnsupportedCombination, ""},
		{`@attr 1=4 @attr 4=4 2000`, DiagUnsupportedCombination, ""}, // year structure on a title
		{`@attr 1=4 @attr 4=2 @attr 6=3 x`, DiagUnsupportedCombination, ""},
		{`@attr 2=1 x`, DiagUnsupportedCombination, ""}, // a comparison on any field
		{`@attr 1=31 @attr 5=2 99`, DiagUnsupportedCombination, ""},
		{`@attrset gils @attr 1=2016 x`, DiagUnsupportedAttrSet, "1.2.840.10003.3.5"},
		{`@attr exp-1 1=1 x`, DiagUnsupportedAttrSet, "1.2.840.10003.3.2"},
		{`@and @set nosuch x`, DiagResultSetMissing, "nosuch"},
		{`@prox 0 1 1 7 k 2 a b`, DiagUnsupportedProxRel, "7"},
		{`@prox 0 1 1 3 k 5 a b`, DiagUnsupportedProxUnit, "5"},
		{`@prox 0 1 1 3 p 2 a b`, DiagUnsupportedProxUnit, "2"},
	} {
		_, err := translatePQF(t, c.pqf, nil)
		var d *Diagnostic
		if !errors.As(err, &d) {
			t.Errorf("%s: want diagnostic %d, got %v", c.pqf, c.code, err)
			continue
		}
		if d.Condition != c.code || (c.info != "" && d.AddInfo != c.info) {
			t.Errorf("%s: got %d %q, want %d %q", c.pqf, d.Condition, d.AddInfo, c.code, c.info)
		}
	}
	// Term types other than general, numeric and characterString.
	q := &Query{Type: QueryType1, RPN: &RPNQuery{AttributeSet: OIDBib1,
		Root: &AttributesPlusTerm{Term: Term{Kind: TermOID, Bytes: []byte{0x2a, 0x03}}}}}
	if _, err := TranslateQuery(q, nil); !isDiag(err, DiagTermTypeUnsupported) {
		t.Errorf("oid term: %v", err)
	}
	// A restriction operand.
	q.RPN.Root = &ResultSetPlusAttributes{Name: "x"}
	if _, err := TranslateQuery(q, nil); !isDiag(err, DiagRestrictionOperand) {
		t.Errorf("restriction: %v", err)
	}
	// Query types.
	for _, typ := range []int{QueryType2, QueryType100, QueryType102} {
		_, err := TranslateQuery(&Query{Type: typ, Raw: octetString([]byte("x"))}, nil)
		if !isDiag(err, DiagQueryTypeUnsupported) {
			t.Errorf("type-%d: %v", typ, err)
		}
	}
}

func isDiag(err error, code int) bool {
	var d *Diagnostic
	return errors.As(err, &d) && d.Condition == code
}

func TestTranslateOtherQueryTypes(t *testing.T) {
	// Type-104 with CQL goes through the CQL parser.
	q, err := TranslateQuery(&Query{Type: QueryType104,
		External: &External{DirectReference: OIDCQL, Single: generalString("dc.title = computer")}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := search.String(q.Root); got != `title =/phrase "computer"` {
		t.Errorf("CQL: %s", got)
	}
	// Type-0 plain words: a keyword search.
	q, err = TranslateQuery(&Query{Type: QueryType0, Raw: octetString([]byte("Nguyễn Du"))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := search.String(q.Root); got != `anywhere =/all "Nguyễn Du"` {
		t.Errorf("type-0: %s", got)
	}
	if _, err := TranslateQuery(&Query{Type: QueryType0, Raw: octetString([]byte("ti=x"))}, nil); !isDiag(err, DiagQueryTypeUnsupported) {
		t.Errorf("type-0 CCL: %v", err)
	}
	// Type-101 is Type-1.
	rpn, _ := ParsePQF(`@attr 1=4 x`)
	q, err = TranslateQuery(&Query{Type: QueryType101, RPN: rpn}, nil)
	if err != nil || search.String(q.Root) != `title =/phrase "x"` {
		t.Errorf("type-101: %v %v", q, err)
	}
	// Latin-1 octets from an old client become text.
	rpn = &RPNQuery{AttributeSet: OIDBib1, Root: &AttributesPlusTerm{Term: Term{Kind: TermGeneral, Bytes: []byte("caf\xe9")}}}
	q, err = TranslateQuery(&Query{Type: QueryType1, RPN: rpn}, nil)
	if err != nil || search.String(q.Root) != `anywhere =/phrase "café"` {
		t.Errorf("latin-1: %v %v", q, err)
	}
}

func TestPQF(t *testing.T) {
	for _, s := range []string{
		`@attr 1=4 computer`,
		`@and @attr 1=4 "computer science" @attr 1=1003 knuth`,
		`@or @not a b @set r1`,
		`@prox 0 3 1 2 k 2 a b`,
		`@attrset 1.2.840.10003.3.2 @attr 1=1 x`,
		`@attr 1.2.840.10003.3.1 1=4 x`,
		`@attr 1=title "a \"quoted\" \\ term"`,
		`@term string "x y"`,
		`@term numeric 42`,
	} {
		q, err := ParsePQF(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		// Printing and parsing again gives the same query.
		q2, err := ParsePQF(q.String())
		if err != nil || q2.String() != q.String() {
			t.Errorf("%s: printed %q, reparsed %v %v", s, q.String(), q2, err)
		}
	}
	for _, s := range []string{``, `@and a`, `@attr 1=4`, `@attr x y`, `"open`, `@prox 0 1 a b`, `a b`, `@attrset nosuch x`, `@term date x`} {
		if _, err := ParsePQF(s); err == nil {
			t.Errorf("%q: no error", s)
		}
	}
}

// TestEveryUseAttribute checks that every Bib-1 use attribute of the
// search package's index table is answered, by its index.
func TestEveryUseAttribute(t *testing.T) {
	uses := UseAttributes()
	if len(uses) < 13 {
		t.Fatalf("%d use attributes", len(uses))
	}
	for _, u := range uses {
		q, err := translatePQF(t, fmt.Sprintf("@attr 1=%d x", u.Use), nil)
		if err != nil {
			t.Errorf("use %d: %v", u.Use, err)
			continue
		}
		want := u.Index
		if want == "anywhere" {
			want = "" // any field
		}
		if term, ok := q.Root.(*search.Term); !ok || term.Index != want {
			t.Errorf("use %d: %s, want index %s", u.Use, search.String(q.Root), u.Index)
		}
	}
	for _, u := range []int{4, 1003, 7, 8, 9, 12, 21, 31, 1016, 1018, 1007, 54, 1044} {
		if !slices.ContainsFunc(uses, func(x UseAttribute) bool { return x.Use == u }) {
			t.Errorf("use attribute %d is not supported", u)
		}
	}
}

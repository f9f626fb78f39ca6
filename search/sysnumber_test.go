package search

import (
	"slices"
	"strings"
	"testing"
)

func TestNormSystemNumber(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"(OCoLC)12345", "(ocolc)12345"},
		{"(OCoLC)00012345", "(ocolc)12345"},
		{"(OCoLC)ocm00012345", "(ocolc)12345"},
		{"(OCoLC) ocm00012345 ", "(ocolc)12345"},
		{"(OCoLC)ocn502869803", "(ocolc)502869803"},
		{"(OCoLC)on1234567890", "(ocolc)1234567890"},
		{"ocm71247531", "(ocolc)71247531"},
		{"OCN767498970", "(ocolc)767498970"},
		{"on1234567890", "(ocolc)1234567890"},
		{"(OCoLC)0", "(ocolc)0"},
		// Not OCLC numbers: kept as they are, folded, without separators.
		{"12345", "12345"},
		{"00012345", "00012345"},
		{"(VN-NAVINH)000457", "(vnnavinh)000457"},
		{"(DLC)   73090924", "(dlc)73090924"},
		{"(OCoLC)", "(ocolc)"},
		{"(OCoLC)ocm", "(ocolc)ocm"},
		{"(OCoLC)12345a", "(ocolc)12345a"},
		{"ocmx123", "ocmx123"},
		{"one2", "one2"},
		{"u00000001", "u00000001"},
		{"NAT00010231", "nat00010231"},
	} {
		if got := normSystemNumber(c.in); got != c.want {
			t.Errorf("normSystemNumber(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"12345", []string{"(ocolc)12345"}},
		{"00012345", []string{"(ocolc)12345"}},
		{"000", []string{"(ocolc)0"}},
		{"ocm00012345", nil}, // keyed as OCLC already
		{"NAT00010231", nil},
		{"", nil},
	} {
		if got := oclcAlias(c.in); !slices.Equal(got, c.want) {
			t.Errorf("oclcAlias(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzNormSystemNumber(f *testing.F) {
	for _, s := range []string{"(OCoLC)ocm00012345", "ocn1", "on", "(VN-NAVINH)000457", "0000", "(ocolc)on0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := normSystemNumber(s)
		if again := normSystemNumber(k); again != k {
			t.Fatalf("normSystemNumber not idempotent: %q → %q → %q", s, k, again)
		}
		if n, ok := strings.CutPrefix(k, oclcPrefix); ok && allDigits(n) && n != "" {
			if len(n) > 1 && n[0] == '0' {
				t.Fatalf("normSystemNumber(%q) = %q keeps leading zeros", s, k)
			}
		}
		for _, a := range oclcAlias(s) {
			if normSystemNumber(a) != a {
				t.Fatalf("alias %q of %q is no key", a, s)
			}
		}
	})
}

// sysDocs are union records with the 035s catalogues write: OCLC numbers
// prefixed and not, zero-padded and not, another agency's number, a bare
// local number, and the 035 unicat gives a member ($9 unicat).
var sysDocs = []Doc{
	{ID: "s1", Record: rec("001", "s1", "035", "  $a(OCoLC)ocm00012345", "245", "10$aOne")},
	{ID: "s2", Record: rec("001", "s2", "035", "  $aocn502869803", "245", "10$aTwo")},
	{ID: "s3", Record: rec("001", "s3", "035", "  $a(OCoLC)1234567890", "245", "10$aThree")},
	{ID: "s4", Record: rec("001", "s4", "035", "  $a00012345", "035", "  $a(VN-NAVINH)000457$9unicat",
		"245", "10$aFour")},
	{ID: "s5", Record: rec("001", "s5", "035", "  $a(DLC)   73090924", "020", "  $a0879832355", "245", "10$aFive")},
}

func TestSystemNumbers(t *testing.T) {
	db := openTestDB(t)
	index(t, db, sysDocs...)
	for _, c := range []struct{ cql, want string }{
		// An OCLC number in every form a cataloguer types.
		{"rec.id = 12345", "s1"},
		{"rec.id = 00012345", "s1 s4"}, // and s4's bare 00012345, as written
		{"rec.id = ocm00012345", "s1"},
		{"rec.id = ocm12345", "s1"},
		{`rec.id = "(OCoLC)12345"`, "s1"},
		{`rec.id = "(OCoLC)ocm00012345"`, "s1"},
		{`rec.id = "(OCoLC) 00012345"`, "s1"},
		{"rec.id = 502869803", "s2"},
		{"rec.id = ocn502869803", "s2"},
		{`rec.id = "(OCoLC)502869803"`, "s2"},
		{"rec.id = on1234567890", "s3"},
		{"rec.id = 1234567890", "s3"},
		// The same for the standard identifier (Bib-1 1007), which has
		// only the OCLC numbers of 035.
		{"dc.identifier = 12345", "s1"},
		{"dc.identifier = ocm00012345", "s1"},
		{`dc.identifier = "(OCoLC)502869803"`, "s2"},
		{"dc.identifier = 1234567890", "s3"},
		{"dc.identifier = 0879832355", "s5"},
		{"dc.identifier = 73090924", ""}, // 035 $a (DLC): a system number, not OCLC's
		// Other system numbers, with and without their prefix.
		{"rec.id = 000457", "s4"},
		{`rec.id = "(VN-NAVINH)000457"`, "s4"},
		{`rec.id = "(VN-NAVINH)0004*"`, "s4"},
		{"rec.id = 457", ""}, // a local number keeps its zeros
		{"rec.id = 73090924", "s5"},
		{`rec.id = "(DLC)73090924"`, "s5"},
		{"rec.id = s4", "s4"},
		{"bath.localNumber = ocm00012345", "s1"},
	} {
		got := strings.Join(query(t, db, c.cql), " ")
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.cql, got, c.want)
		}
	}
}

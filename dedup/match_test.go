package dedup

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
)

// headVetoed gives veto's answer on the material type, year and pages of
// a profile's encoding, whatever else the profile holds.
func TestHeadVetoed(t *testing.T) {
	d := New(Options{})
	for _, b := range []book{kieu, {id: "2", title: "Tạp chí", year: 0, pages: 0}, {id: "3", title: "Bản đồ", year: 1990, pages: 12}} {
		for _, mtype := range []string{"", "book", "map"} {
			p := d.buildProfile(b.record(), Source{LibraryCode: "NA-TINH", Holdings: "852"})
			p.mtype = mtype
			checkHeadVetoed(t, p, p.encode(nil))
		}
	}
	if headVetoed(&profile{year: 2000}, []byte{profileEncV3, 1}) {
		t.Error("bytes cut short read as a profile of another year")
	}
	// A key count whose five bytes a key overflow 64 bits: 5 × (⌊2^64/5⌋
	// + 1) wraps to 4, and the bytes after those four would be read as a
	// head of year 2000.
	over := binary.AppendUvarint([]byte{profileEncV3, 1}, ^uint64(0)/5+1)
	over = append(over, 9, 9, 9, 9, 4, 0, 0xa0, 0x1f, 0)
	if headVetoed(&profile{year: 1990}, over) {
		t.Error("a key count past 64 bits read as a profile of another year")
	}
}

// TestMatchRules checks each rule and veto on pairs of records.
func TestMatchRules(t *testing.T) {
	d := New(Options{})
	prof := func(b book) *profile { return d.buildProfile(b.record(), Source{LibraryCode: "X", Holdings: "852"}) }
	base := book{id: "1", isbn: "9786042123457", title: "Truyện Kiều", author: "Nguyễn, Du", year: 2015, pages: 300, publisher: "Văn học"}
	with := func(f func(*book)) book { b := base; b.id = "2"; f(&b); return b }
	serial := func(issn string) book {
		b := with(func(b *book) { b.isbn = "" })
		b.extra = []marc.Field{{Tag: "022", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{sf('a', issn)}}}
		return b
	}
	for _, c := range []struct {
		name       string
		a, b       book
		sameSource bool
		rule       string // prefix of the rule, "" for no match
	}{
		{"same ISBN", base, with(func(b *book) { b.isbn = "978-604-2-12345-7 (bìa mềm)" }), false, "isbn 9786042123457"},
		{"ISBN-10 against 13", book{id: "a", isbn: "0-19-852663-6", title: "Oxford", year: 1999}, book{id: "b", isbn: "9780198526636", title: "Oxford", year: 1999}, false, "isbn 9780198526636"},
		{"shared ISBN, titles clearly differ", base, with(func(b *book) { b.title = "Lục Vân Tiên" }), false, ""},
		{"shared ISBN, other volume", with(func(b *book) { b.part = "Tập 1" }), with(func(b *book) { b.part = "Tập 2" }), false, ""},
		{"title+author, name forms and tone placement", with(func(b *book) { b.isbn = ""; b.title = "Truyện Kiều." }), with(func(b *book) { b.isbn = ""; b.author = "Nguyễn Du" }), false, "title+author"},
		{"old and new tone placement", with(func(b *book) { b.isbn = ""; b.title = "Thủy hử" }), with(func(b *book) { b.isbn = ""; b.title = "Thuỷ hử" }), false, "title+author"},
		{"same source needs an identifier", with(func(b *book) { b.isbn = "" }), with(func(b *book) { b.isbn = ""; b.id = "3" }), true, ""},
		{"same source with an identifier", base, with(func(b *book) {}), true, "isbn"},
		{"years differ", with(func(b *book) { b.isbn = "" }), with(func(b *book) { b.isbn = ""; b.year = 2016 }), false, ""},
		{"pages differ by more than 10", base, with(func(b *book) { b.pages = 311 }), false, ""},
		{"pages differ by 10", base, with(func(b *book) { b.pages = 310 }), false, "isbn"},
		{"editions differ", with(func(b *book) { b.edition = "Tái bản lần thứ 2" }), with(func(b *book) { b.edition = "In lần thứ 3" }), false, ""},
		{"later edition against none", with(func(b *book) { b.isbn = ""; b.edition = "2nd ed." }), with(func(b *book) { b.isbn = "" }), false, ""},
		{"another author", with(func(b *book) { b.isbn = "" }), with(func(b *book) { b.isbn = ""; b.author = "Trần, Văn Khoa" }), false, ""},
		{"two different ISBNs", base, with(func(b *book) { b.isbn = "9786042000000" }), false, ""},
		{"grade numbers", with(func(b *book) { b.isbn = ""; b.title = "Tiếng Việt 1" }), with(func(b *book) { b.isbn = ""; b.title = "Tiếng Việt 2" }), false, ""},
		{"ISSNs disjoint", serial("0317-8471"), serial("1064-3923"), false, ""},
		{"ISSN shared", serial("0317-8471"), serial("0317-8471"), false, "id issn:0317-8471"},
	} {
		rule, ok := match(prof(c.a), prof(c.b), c.sameSource)
		if c.rule == "" && ok {
			t.Errorf("%s: matched by %q, want no match", c.name, rule)
		}
		if c.rule != "" && (!ok || !strings.HasPrefix(rule, c.rule)) {
			t.Errorf("%s: match %q %v, want %q", c.name, rule, ok, c.rule)
		}
		// Matching is symmetric.
		rule2, ok2 := match(prof(c.b), prof(c.a), c.sameSource)
		if ok2 != ok || ruleStrength(rule2) != ruleStrength(rule) {
			t.Errorf("%s: not symmetric: %q %v / %q %v", c.name, rule, ok, rule2, ok2)
		}
	}
	// Material types.
	a, b := prof(base), prof(with(func(*book) {}))
	b.mtype = "sound"
	if _, ok := match(a, b, false); ok {
		t.Error("a book matched a sound recording")
	}
}

package dedup

import (
	"fmt"
	"strings"
)

// Thresholds of the fuzzy comparison, tuned on the labelled set built by
// the quality test (see quality_test.go).
const (
	// titleMatch is the similarity two titles need for the title+author
	// rule.
	titleMatch = 0.90
	// titleAgree is what a shared identifier needs: multi-volume sets and
	// careless publishers share ISBNs, so a shared ISBN with clearly
	// different titles is not a match.
	titleAgree = 0.70
	// authorMatch is the similarity of two main-entry keys that counts as
	// the same name (typing slips, a missing middle name).
	authorMatch = 0.80
	// titleAlone is the title similarity needed when no author can be
	// compared.
	titleAlone = 0.95
	// publisherMatch is the publisher similarity that stands in for a
	// missing author.
	publisherMatch = 0.75
	// maxPageDiff is the page-count difference tolerated (one library
	// counts the preliminary pages, another does not).
	maxPageDiff = 10
)

// veto returns why a and b can never be the same manifestation, or "".
// It holds for any two records, whatever key brought them together, and
// also guards the merging of clusters.
func veto(a, b *profile) string {
	if a.mtype != "" && b.mtype != "" && a.mtype != b.mtype {
		return "material type " + a.mtype + "/" + b.mtype
	}
	if yearsDiffer(a.year, b.year) {
		return fmt.Sprintf("year %d/%d", a.year, b.year)
	}
	if pagesDiffer(a.pages, b.pages) {
		return fmt.Sprintf("pages %d/%d", a.pages, b.pages)
	}
	if a.edition != "" && b.edition != "" && !sameEdition(a.edition, b.edition) {
		return "edition " + a.edition + "/" + b.edition
	}
	if !equalStrs(a.volumes, b.volumes) {
		return "volume " + strings.Join(a.volumes, ",") + "/" + strings.Join(b.volumes, ",")
	}
	if v := numbersVeto(a, b); v != "" {
		return v
	}
	if ia, ib := a.issns, b.issns; len(ia) > 0 && len(ib) > 0 && !intersects(ia, ib) {
		return "ISSN " + strings.Join(ia, ",") + "/" + strings.Join(ib, ",")
	}
	return ""
}

func yearsDiffer(a, b int) bool { return a != 0 && b != 0 && a != b }

func pagesDiffer(a, b int) bool { return a != 0 && b != 0 && abs(a-b) > maxPageDiff }

// numbersVeto compares the numbers in two titles: "Toán 10" and "Toán
// 11", or "Tiếng Việt 1" and "2", are different books however alike the
// words. Where one record has no subtitle (left out, or typed into $a),
// its numbers must be those of the other's title proper or whole title.
func numbersVeto(a, b *profile) string {
	ra, rb := a.title != a.proper, b.title != b.proper
	if !ra && rb {
		a, b = b, a
		ra, rb = rb, ra
	}
	switch {
	case ra && rb, !ra && !rb:
		if a.numbers != "" && b.numbers != "" && a.numbers != b.numbers {
			return "title numbers " + a.numbers + "/" + b.numbers
		}
	default: // a has a subtitle, b has none
		if b.numbers != "" && b.numbers != a.pnumbers && b.numbers != a.numbers && a.numbers != "" {
			return "title numbers " + a.numbers + "/" + b.numbers
		}
	}
	return ""
}

func sameEdition(a, b string) bool {
	if a == b {
		return true
	}
	// Two numbered editions differ when the numbers do; wording without a
	// number is compared loosely ("rev. ed." / "revised edition").
	if strings.HasPrefix(a, "n:") || strings.HasPrefix(b, "n:") {
		return false
	}
	return similar(a, b, 0.8) || tokenContainment(a, b) == 1
}

func laterEdition(e string) bool {
	return strings.HasPrefix(e, "n:") && e != "n:1"
}

func issns(ids []string) []string {
	var out []string
	for _, id := range ids {
		if strings.HasPrefix(id, "issn:") {
			out = append(out, id)
		}
	}
	return out
}

func intersects(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func firstShared(a, b []string) string {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return x
			}
		}
	}
	return ""
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// titleSim compares two profiles' titles: the better of the whole titles
// and, when either lacks a remainder (one library left out the subtitle),
// the titles proper. ok says whether it reaches atLeast; below that the
// value is only a bound.
func titleSim(a, b *profile, atLeast float64) (float64, bool) {
	s, ok := similarityAtLeast(a.title, b.title, atLeast)
	if s < 1 && (a.title == a.proper || b.title == b.proper) {
		if t, ok2 := similarityAtLeast(a.proper, b.proper, atLeast); ok2 && (!ok || t > s) {
			s, ok = t, true
		}
	}
	return s, ok
}

// titlesAgree is the loose check a shared identifier needs.
func titlesAgree(a, b *profile) bool {
	if a.title == "" || b.title == "" {
		return true // nothing to disagree with
	}
	if _, ok := titleSim(a, b, titleAgree); ok {
		return true
	}
	return tokenContainment(a.proper, b.proper) >= 0.8
}

func similar(a, b string, atLeast float64) bool {
	_, ok := similarityAtLeast(a, b, atLeast)
	return ok
}

func publishersAgree(a, b *profile) bool {
	return a.publisher != "" && b.publisher != "" &&
		(a.publisher == b.publisher || similar(a.publisher, b.publisher, publisherMatch) ||
			tokenContainment(a.publisher, b.publisher) == 1)
}

// authorVerdict compares the responsible names.
type authorVerdict int

const (
	authorsNone     authorVerdict = iota // neither has a name
	authorsOne                           // one has a name the other does not mention
	authorsAgree                         // the same name, or one names the other's main entry
	authorsConflict                      // two different main entries
)

func compareAuthors(a, b *profile) authorVerdict {
	switch {
	case a.author == "" && b.author == "":
		return authorsNone
	case a.author != "" && b.author != "":
		if a.author == b.author || similar(a.author, b.author, authorMatch) {
			return authorsAgree
		}
		if mentions(a, b.author) || mentions(b, a.author) {
			return authorsAgree
		}
		return authorsConflict
	case a.author != "":
		if mentions(b, a.author) {
			return authorsAgree
		}
	default:
		if mentions(a, b.author) {
			return authorsAgree
		}
	}
	return authorsOne
}

// mentions reports whether name (a sorted-word key) is among p's names or
// all its words are in p's statement of responsibility.
func mentions(p *profile, name string) bool {
	for _, n := range p.names {
		if n == name || similar(n, name, authorMatch) {
			return true
		}
	}
	if p.resp == "" {
		return false
	}
	for _, w := range strings.Fields(name) {
		if !containsWord(p.resp, w) {
			return false
		}
	}
	return true
}

func containsWord(s, w string) bool {
	for len(s) > 0 {
		i := strings.Index(s, w)
		if i < 0 {
			return false
		}
		end := i + len(w)
		if (i == 0 || s[i-1] == ' ') && (end == len(s) || s[end] == ' ') {
			return true
		}
		s = s[end:]
	}
	return false
}

// match decides whether a and b describe the same manifestation and by
// which rule. The rules are tried in order and the first that decides
// wins: a shared ISBN-13, another shared identifier, then the title and
// author comparison. Records of one source merge only on an identifier.
func match(a, b *profile, sameSource bool) (rule string, ok bool) {
	if v := veto(a, b); v != "" {
		return "", false
	}
	if rule, decided := identifierRule(a, b); decided {
		return rule, rule != ""
	}
	if sameSource || a.title == "" || b.title == "" {
		return "", false
	}
	return fuzzyRule(a, b)
}

// identifierRule decides a pair sharing an ISBN-13, or else another
// identifier: the same manifestation when their titles agree, else not.
// decided is false when they share none.
func identifierRule(a, b *profile) (rule string, decided bool) {
	if n := firstShared(a.isbns, b.isbns); n != "" {
		if titlesAgree(a, b) {
			return "isbn " + n, true
		}
		return "", true
	}
	if id := firstShared(a.ids, b.ids); id != "" {
		if titlesAgree(a, b) {
			return "id " + id, true
		}
		return "", true
	}
	return "", false
}

// fuzzyRule compares the titles and authors of two titled records of
// different sources sharing no identifier.
func fuzzyRule(a, b *profile) (rule string, ok bool) {
	// Two different ISBNs are two manifestations (another binding,
	// another printing with a new number), however alike the rest.
	if len(a.isbns) > 0 && len(b.isbns) > 0 {
		return "", false
	}
	// A numbered later edition against a record without edition
	// statement: most likely the first edition, another book.
	if a.edition == "" && laterEdition(b.edition) || b.edition == "" && laterEdition(a.edition) {
		return "", false
	}
	// The title comparison costs most, so what can refuse the pair
	// cheaply goes first.
	years := a.year != 0 && a.year == b.year
	pages := a.pages != 0 && b.pages != 0
	switch compareAuthors(a, b) {
	case authorsConflict:
		return "", false
	case authorsAgree:
		// The same title by the same author: the year (or, when a record
		// has none, the publisher) must confirm the edition.
		if !years && !((a.year == 0 || b.year == 0) && publishersAgree(a, b)) {
			return "", false
		}
		if ts, ok := titleSim(a, b, titleMatch); ok {
			return fmt.Sprintf("title+author %.2f", ts), true
		}
	default:
		// No author to compare: title, year and publisher or page count.
		if !years || !(pages || publishersAgree(a, b)) {
			return "", false
		}
		if ts, ok := titleSim(a, b, titleAlone); ok {
			return fmt.Sprintf("title+imprint %.2f", ts), true
		}
	}
	return "", false
}

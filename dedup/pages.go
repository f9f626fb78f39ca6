package dedup

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/unicat/unicat/marc"
)

// Page counts: matching vetoes a pair whose extents differ by more than
// maxPageDiff pages, so a record's profile holds the page count its 300
// states. The count is a reading for that comparison, not a MARC fact:
// the largest number a page unit follows, 0 when no number has one.

// recordPages returns the largest number in the first 300's $a followed by
// a page unit: "p.", "pp.", "pages", "tr."/"trang" (Vietnamese) or "tờ"
// (leaves). 0 when there is none, e.g. for "2 v." or "1 CD".
func recordPages(rec *marc.Record) int {
	f := rec.First("300")
	if f == nil {
		return 0
	}
	best := 0
	for j := range f.Subfields {
		if f.Subfields[j].Code == 'a' {
			if n := pagesIn(f.Subfields[j].Value); n > best {
				best = n
			}
		}
	}
	return best
}

// pageUnits are the words that make a preceding number a page count. A
// unit must end at a word boundary, so "12 pl." (plates) does not count.
var pageUnits = []string{"pages", "page", "pp", "p", "trang", "tr", "tờ", "leaves", "l"}

// pagesIn finds the largest page count in an extent. Numbers in a
// sequence of paginations share the unit at its end ("320, 11 p.",
// "72, [1] p.", "xii, 345 tr."), so every number of such a run counts.
func pagesIn(s string) int {
	best, run := 0, 0 // run: largest number of the current sequence, awaiting its unit
	for i := 0; i < len(s); {
		if !isASCIIDigit(s[i]) {
			i++
			continue
		}
		j := i
		n := 0
		for j < len(s) && isASCIIDigit(s[j]) {
			if n < 1e7 {
				n = n*10 + int(s[j]-'0')
			}
			j++
		}
		run = max(run, n)
		k := j
		if k < len(s) && s[k] == ']' {
			k++ // "[245] p.": a supplied count
		}
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if hasPageUnit(s[k:]) {
			best = max(best, run)
			run = 0
		} else if !continuesPagination(s[j:]) {
			run = 0
		}
		i = j
	}
	return best
}

// continuesPagination reports whether the text after a number, up to the
// next number, only separates paginations: commas, brackets, spaces and
// roman numerals, as in "320, 11 p." or "72, [1] p.".
func continuesPagination(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isASCIIDigit(c):
			return true
		case c == ',' || c == ' ' || c == '[' || c == ']':
		case strings.IndexByte("ivxlcdmIVXLCDM", c) >= 0:
		default:
			return false
		}
	}
	return false
}

func hasPageUnit(s string) bool {
	for _, u := range pageUnits {
		if len(s) < len(u) || !strings.EqualFold(s[:len(u)], u) {
			continue
		}
		rest := s[len(u):]
		if rest == "" {
			return true
		}
		r, _ := utf8.DecodeRuneInString(rest)
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

package search

import (
	"strings"
	"unicode/utf8"

	"github.com/unicat/unicat/textnorm"
)

// ptok is one element of a term pattern: a literal rune, or a wildcard
// ('*' any run of characters, '?' exactly one).
type ptok struct {
	r    rune
	wild byte // 0, '*' or '?'
}

// pattern is a term, or a word of a term, with its masking.
type pattern []ptok

// parsePattern reads Term.Value: '*' and '?' mask, '\' escapes.
func parsePattern(s string) pattern {
	p := make(pattern, 0, len(s))
	esc := false
	for _, r := range s {
		switch {
		case esc:
			p = append(p, ptok{r: r})
			esc = false
		case r == '\\':
			esc = true
		case r == '*' || r == '?':
			p = append(p, ptok{wild: byte(r)})
		default:
			p = append(p, ptok{r: r})
		}
	}
	return p
}

// termPattern reads a term of index def: its pattern, with the index's
// clean function applied to the literal parts.
func (def *IndexDef) termPattern(s string) pattern {
	p := parsePattern(s)
	if def.clean != nil {
		p = p.mapLiterals(def.clean)
	}
	return p
}

func (p pattern) hasWild() bool {
	for _, t := range p {
		if t.wild != 0 {
			return true
		}
	}
	return false
}

// literal returns the text of a pattern without wildcards.
func (p pattern) literal() string {
	var b strings.Builder
	for _, t := range p {
		if t.wild == 0 {
			b.WriteRune(t.r)
		}
	}
	return b.String()
}

// words splits a pattern into words: runs of word characters and
// wildcards, separated by anything else.
func (p pattern) words() []pattern {
	var out []pattern
	start := -1
	for i, t := range p {
		if t.wild != 0 || textnorm.IsWordRune(t.r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, p[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, p[start:])
	}
	return out
}

// mapLiterals applies fn to every run of literal runes, keeping the
// wildcards where they are.
func (p pattern) mapLiterals(fn func(string) string) pattern {
	out := make(pattern, 0, len(p))
	var run []rune
	flush := func() {
		if len(run) > 0 {
			for _, r := range fn(string(run)) {
				out = append(out, ptok{r: r})
			}
			run = run[:0]
		}
	}
	for _, t := range p {
		if t.wild != 0 {
			flush()
			out = append(out, t)
			continue
		}
		run = append(run, t.r)
	}
	flush()
	return out
}

func (p pattern) fold() pattern  { return p.mapLiterals(textnorm.Fold) }
func (p pattern) exact() pattern { return p.mapLiterals(textnorm.Exact) }

// prefix is the literal text before the first wildcard.
func (p pattern) prefix() string {
	var b strings.Builder
	for _, t := range p {
		if t.wild != 0 {
			break
		}
		b.WriteRune(t.r)
	}
	return b.String()
}

// join joins word patterns with a literal space (phrase keys).
func joinPatterns(ps []pattern) pattern {
	var out pattern
	for i, p := range ps {
		if i > 0 {
			out = append(out, ptok{r: ' '})
		}
		out = append(out, p...)
	}
	return out
}

// match reports whether s matches the whole pattern.
func (p pattern) match(s string) bool {
	// Iterative glob matching with backtracking to the last '*': linear
	// for patterns with one star, at worst len(p)*len(s).
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		r, w := utf8.DecodeRuneInString(s[si:])
		if pi < len(p) {
			t := p[pi]
			switch {
			case t.wild == '*':
				star, mark = pi, si
				pi++
				continue
			case t.wild == '?' || t.r == r:
				pi++
				si += w
				continue
			}
		}
		if star < 0 {
			return false
		}
		pi = star + 1
		_, mw := utf8.DecodeRuneInString(s[mark:])
		mark += mw
		si = mark
	}
	for pi < len(p) && p[pi].wild == '*' {
		pi++
	}
	return pi == len(p)
}

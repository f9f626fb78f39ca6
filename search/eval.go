package search

import (
	"strings"
	"unicode"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/unicat/unicat/textnorm"
)

// evaluator turns a query tree into the set of matching documents.
type evaluator struct {
	r *reader
	// scored collects the plain words of positive terms, for relevance.
	scored []scoredWord
	cache  map[termKey]*roaring.Bitmap
}

type scoredWord struct {
	ix   byte // the term's index
	word string
}

func newEvaluator(r *reader) *evaluator {
	return &evaluator{r: r, cache: map[termKey]*roaring.Bitmap{}}
}

// get returns the postings of k, cached for this query (relevance
// scoring asks again). Callers must not modify the result.
func (e *evaluator) get(k termKey) (*roaring.Bitmap, error) {
	if bm, ok := e.cache[k]; ok {
		return bm, nil
	}
	bm, err := e.r.postings(k)
	if err != nil {
		return nil, err
	}
	e.cache[k] = bm
	return bm, nil
}

func (e *evaluator) all() (*roaring.Bitmap, error) {
	return e.get(termKey{idAll, kindAll, ""})
}

// eval evaluates n; positive is false under the right side of a "not".
// The result may be shared with the cache: callers clone before modifying.
func (e *evaluator) eval(n Node, positive bool) (*roaring.Bitmap, error) {
	switch n := n.(type) {
	case *Bool:
		if bm, ok, err := e.andRange(n); ok || err != nil {
			return bm, err
		}
		l, err := e.eval(n.Left, positive)
		if err != nil {
			return nil, err
		}
		r, err := e.eval(n.Right, positive != (n.Op == Not))
		if err != nil {
			return nil, err
		}
		switch n.Op {
		case And:
			return roaring.And(l, r), nil
		case Or:
			return roaring.Or(l, r), nil
		case Not:
			return roaring.AndNot(l, r), nil
		}
		return nil, errorf(DiagUnsupportedBoolean, n.Op.String(), "unknown boolean operator")
	case *Prox:
		return e.prox(n, positive)
	case *Term:
		return e.term(n, positive)
	case AllRecords, *AllRecords:
		return e.all()
	case nil:
		return nil, errorf(DiagQuerySyntax, "", "empty query")
	}
	return nil, errorf(DiagQueryFeatureUnsupported, "", "unknown query node %T", n)
}

// resolve finds the index of a term.
func resolve(t *Term) (*IndexDef, error) {
	name := t.Index
	if name == "" {
		name = "anywhere"
	}
	def, ok := LookupIndex(name)
	if !ok {
		return nil, &Error{Code: DiagUnsupportedIndex, Detail: t.Index}
	}
	return def, nil
}

func (e *evaluator) term(t *Term, positive bool) (*roaring.Bitmap, error) {
	def, err := resolve(t)
	if err != nil {
		return nil, err
	}
	p := def.termPattern(t.Value)
	if strings.TrimFunc(p.literal(), unicode.IsSpace) == "" && !p.hasWild() {
		return nil, &Error{Code: DiagEmptyTerm, Detail: def.Name}
	}
	if t.Relation == NE {
		eq := *t
		eq.Relation, eq.Match = EQ, MatchField
		if def.Kind == KindAnywhere {
			return nil, &Error{Code: DiagUnsupportedRelIndex, Detail: "<>", Message: "<> compares whole fields; name an index"}
		}
		m, err := e.term(&eq, false)
		if err != nil {
			return nil, err
		}
		all, err := e.all()
		if err != nil {
			return nil, err
		}
		return roaring.AndNot(all, m), nil
	}
	if t.Relation != EQ {
		return e.rangeTerm(def, t, p)
	}
	switch def.Kind {
	case KindNumber:
		return e.numberTerm(def, t, p)
	case KindCode, KindIdent:
		return e.codeTerm(def, t, p)
	}
	return e.textTerm(def, t, p, positive)
}

// splitValues splits a code, identifier or number term for all/any.
func splitValues(t *Term, p pattern) []pattern {
	if t.Match != MatchAll && t.Match != MatchAny {
		return []pattern{p}
	}
	var out []pattern
	start := -1
	for i, tk := range p {
		if tk.wild == 0 && unicode.IsSpace(tk.r) {
			if start >= 0 {
				out = append(out, p[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, p[start:])
	}
	return out
}

// combine ANDs (MatchAll) or ORs the per-value results.
func (e *evaluator) combine(t *Term, parts []pattern, one func(pattern) (*roaring.Bitmap, error)) (*roaring.Bitmap, error) {
	var acc *roaring.Bitmap
	for _, p := range parts {
		bm, err := one(p)
		if err != nil {
			return nil, err
		}
		switch {
		case acc == nil:
			acc = bm
		case t.Match == MatchAny:
			acc = roaring.Or(acc, bm)
		default:
			acc = roaring.And(acc, bm)
		}
	}
	if acc == nil {
		return roaring.New(), nil
	}
	return acc, nil
}

func (e *evaluator) numberTerm(def *IndexDef, t *Term, p pattern) (*roaring.Bitmap, error) {
	return e.combine(t, splitValues(t, p), func(p pattern) (*roaring.Bitmap, error) {
		if p.hasWild() {
			return e.walkPattern(def.id, kindNumber, p)
		}
		n, ok := parseNumber(p.literal())
		if !ok {
			return nil, &Error{Code: DiagInvalidTerm, Detail: p.literal(), Message: def.Name + " takes a year (0-9999)"}
		}
		return e.get(termKey{def.id, kindNumber, formatNumber(n)})
	})
}

// codeNorm normalises a code or identifier pattern: the index's own
// normaliser for a plain value, folding and separator removal for the
// literal parts of a masked one.
func codeNorm(def *IndexDef, p pattern) (string, pattern) {
	if !p.hasWild() {
		return def.norm(p.literal()), nil
	}
	if def.Kind == KindIdent {
		return "", p.mapLiterals(stripSeparators)
	}
	return "", p.mapLiterals(textnorm.Fold)
}

func (e *evaluator) codeTerm(def *IndexDef, t *Term, p pattern) (*roaring.Bitmap, error) {
	return e.combine(t, splitValues(t, p), func(p pattern) (*roaring.Bitmap, error) {
		key, pat := codeNorm(def, p)
		if pat == nil && t.FirstInField && t.Match != MatchField {
			pat = append(parsePattern(EscapeMasking(key)), ptok{wild: '*'})
		}
		if pat != nil {
			return e.walkPattern(def.id, kindPhrase, pat)
		}
		if key == "" {
			return roaring.New(), nil
		}
		bm, err := e.get(termKey{def.id, kindPhrase, key})
		if err != nil || def.alias == nil {
			return bm, err
		}
		for _, k := range def.alias(p.literal()) {
			more, err := e.get(termKey{def.id, kindPhrase, k})
			if err != nil {
				return nil, err
			}
			bm = roaring.Or(bm, more)
		}
		return bm, nil
	})
}

// walkPattern ORs the postings of every term of ix/kind matching p.
func (e *evaluator) walkPattern(ix, kind byte, p pattern) (*roaring.Bitmap, error) {
	bm := roaring.New()
	err := e.r.walk(ix, kind, p.prefix(), func(term string, chunk uint16, v []byte) (bool, error) {
		if p.match(term) {
			if err := decodePostings(bm, chunk, v); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	return bm, err
}

// rangeTerm answers <, <=, >, >= over whole values: numbers for numeric
// indexes, folded phrases or codes otherwise.
func (e *evaluator) rangeTerm(def *IndexDef, t *Term, p pattern) (*roaring.Bitmap, error) {
	kind, bound, err := rangeBound(def, t, p)
	if err != nil {
		return nil, err
	}
	var r keyRange
	r.set(t.Relation, bound)
	return e.walkKeyRange(def.id, kind, r)
}

// rangeBound is the stored form of a comparison's term.
func rangeBound(def *IndexDef, t *Term, p pattern) (kind byte, bound string, err error) {
	if p.hasWild() {
		return 0, "", &Error{Code: DiagMaskingNotSupported, Detail: t.Value, Message: "masking in a comparison"}
	}
	switch def.Kind {
	case KindNumber:
		n, ok := parseNumber(p.literal())
		if !ok {
			return 0, "", &Error{Code: DiagInvalidTerm, Detail: p.literal(), Message: def.Name + " takes a year (0-9999)"}
		}
		return kindNumber, formatNumber(n), nil
	case KindCode, KindIdent:
		return kindPhrase, def.norm(p.literal()), nil
	case KindText:
		return kindPhrase, joinPhrase(foldWords(p.literal())), nil
	}
	return 0, "", &Error{Code: DiagUnsupportedRelIndex, Detail: t.Relation.String(), Message: "comparisons need an index"}
}

// keyRange is an interval of stored terms; empty bounds are open.
type keyRange struct {
	lo, hi         string
	loIncl, hiIncl bool
}

// set narrows the range by one comparison.
func (r *keyRange) set(rel Relation, bound string) {
	switch rel {
	case LT, LE:
		if r.hi == "" || bound < r.hi || (bound == r.hi && rel == LT) {
			r.hi, r.hiIncl = bound, rel == LE
		}
	case GT, GE:
		if r.lo == "" || bound > r.lo || (bound == r.lo && rel == GT) {
			r.lo, r.loIncl = bound, rel == GE
		}
	}
}

func (e *evaluator) walkKeyRange(ix, kind byte, r keyRange) (*roaring.Bitmap, error) {
	bm := roaring.New()
	if r.lo != "" && r.hi != "" && (r.lo > r.hi || (r.lo == r.hi && !(r.loIncl && r.hiIncl))) {
		return bm, nil
	}
	lo, loIncl := r.lo, r.loIncl
	if lo == "" {
		loIncl = true // an open lower bound: walk from the first term
	}
	err := e.r.walkRange(ix, kind, lo, loIncl, r.hi, r.hiIncl, func(_ string, chunk uint16, v []byte) error {
		return decodePostings(bm, chunk, v)
	})
	return bm, err
}

// andRange answers "a > x and a < y" on one index with one walk over the
// terms between x and y, instead of two walks to the ends of the index;
// ok is false when n is not such a pair.
func (e *evaluator) andRange(n *Bool) (*roaring.Bitmap, bool, error) {
	l, lok := n.Left.(*Term)
	r, rok := n.Right.(*Term)
	if n.Op != And || !lok || !rok || l.Relation == EQ || l.Relation == NE || r.Relation == EQ || r.Relation == NE {
		return nil, false, nil
	}
	ld, err := resolve(l)
	if err != nil {
		return nil, false, nil
	}
	rd, err := resolve(r)
	if err != nil || ld != rd {
		return nil, false, nil
	}
	lk, lb, err := rangeBound(ld, l, ld.termPattern(l.Value))
	if err != nil {
		return nil, false, err
	}
	rk, rb, err := rangeBound(rd, r, rd.termPattern(r.Value))
	if err != nil || lk != rk {
		return nil, false, err
	}
	var kr keyRange
	kr.set(l.Relation, lb)
	kr.set(r.Relation, rb)
	bm, err := e.walkKeyRange(ld.id, lk, kr)
	return bm, err == nil, err
}

func foldWords(s string) []string {
	ws := textnorm.Words(s)
	for i, w := range ws {
		ws[i] = textnorm.Fold(w)
	}
	return ws
}

// textTerm evaluates a term in a word index.
func (e *evaluator) textTerm(def *IndexDef, t *Term, p pattern, positive bool) (*roaring.Bitmap, error) {
	words := p.words()
	if len(words) == 0 {
		return nil, &Error{Code: DiagEmptyTerm, Detail: t.Value, Message: "the term has no words"}
	}
	if t.Match == MatchField || t.FirstInField {
		if def.Kind == KindAnywhere {
			bm := roaring.New()
			for _, pd := range phraseIndexes() {
				m, err := e.phrase(pd, t, words)
				if err != nil {
					return nil, err
				}
				bm.Or(m)
			}
			return bm, nil
		}
		return e.phrase(def, t, words)
	}
	if positive {
		for _, w := range words {
			if !w.hasWild() {
				e.scored = append(e.scored, scoredWord{def.id, textnorm.Fold(w.literal())})
			}
		}
	}
	one := func(w pattern) (*roaring.Bitmap, error) { return e.word(def.id, w, t.RespectAccents) }
	switch t.Match {
	case MatchAny:
		return e.combine(t, words, one)
	case MatchAll:
		return e.combine(t, words, one)
	}
	// MatchPhrase: every word, and every adjacent pair of plain words.
	acc, err := e.combine(&Term{Match: MatchAll}, words, one)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(words); i++ {
		if words[i].hasWild() || words[i+1].hasWild() {
			continue // no positions: masked words are only required, not placed
		}
		pair := textnorm.Fold(words[i].literal()) + " " + textnorm.Fold(words[i+1].literal())
		bm, err := e.get(termKey{def.id, kindPair, pair})
		if err != nil {
			return nil, err
		}
		acc = roaring.And(acc, bm)
	}
	return acc, nil
}

// word returns the documents having one word (a pattern) in index ix.
func (e *evaluator) word(ix byte, w pattern, accents bool) (*roaring.Bitmap, error) {
	return e.lookup(ix, kindWord, kindWordExact, w, accents)
}

// phrase answers whole-field (MatchField) and first-in-field searches
// with the phrase keys of a text index.
func (e *evaluator) phrase(def *IndexDef, t *Term, words []pattern) (*roaring.Bitmap, error) {
	p := joinPatterns(words)
	if t.FirstInField && t.Match != MatchField {
		// Starts with the words: the phrase itself, or it and more words.
		exact, err := e.lookup(def.id, kindPhrase, kindPhraseExact, p, t.RespectAccents)
		if err != nil {
			return nil, err
		}
		longer := append(append(pattern{}, p...), ptok{r: ' '}, ptok{wild: '*'})
		more, err := e.lookup(def.id, kindPhrase, kindPhraseExact, longer, t.RespectAccents)
		if err != nil {
			return nil, err
		}
		return roaring.Or(exact, more), nil
	}
	return e.lookup(def.id, kindPhrase, kindPhraseExact, p, t.RespectAccents)
}

// lookup finds the documents with a word or phrase (pattern p, as the
// user typed it) in the plain kind, or, with accents, in the exact kind.
func (e *evaluator) lookup(ix, plain, exactKind byte, p pattern, accents bool) (*roaring.Bitmap, error) {
	fp := p.fold()
	if !accents {
		if !fp.hasWild() {
			return e.get(termKey{ix, plain, fp.literal()})
		}
		return e.walkPattern(ix, plain, fp)
	}
	ep := p.exact()
	if !ep.hasWild() {
		return e.exactForm(ix, plain, exactKind, fp.literal(), ep.literal())
	}
	// Every folded form matching the folded pattern, then its exact
	// variants matching the exact pattern.
	seen := map[string]bool{}
	err := e.r.walk(ix, plain, fp.prefix(), func(term string, _ uint16, _ []byte) (bool, error) {
		if fp.match(term) {
			seen[term] = true
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	bm := roaring.New()
	for f := range seen {
		m, err := e.exactVariants(ix, plain, exactKind, f, ep.match)
		if err != nil {
			return nil, err
		}
		bm.Or(m)
	}
	return bm, nil
}

// exactForm returns the documents whose exact form of a word or phrase is
// exact (its folded form being folded).
func (e *evaluator) exactForm(ix, plain, exactKind byte, folded, exact string) (*roaring.Bitmap, error) {
	if exact != folded {
		return e.get(termKey{ix, exactKind, folded + variantSep + exact})
	}
	return e.exactVariants(ix, plain, exactKind, folded, func(v string) bool { return v == exact })
}

// exactVariants returns the documents having a form of folded f that
// satisfies want. Documents with only the plain form f have no exact
// keys: they are the plain key's documents minus those with another form.
func (e *evaluator) exactVariants(ix, plain, exactKind byte, f string, want func(string) bool) (*roaring.Bitmap, error) {
	bm := roaring.New()
	others := roaring.New()
	prefix := f + variantSep
	err := e.r.walk(ix, exactKind, prefix, func(term string, chunk uint16, v []byte) (bool, error) {
		form := term[len(prefix):]
		if want(form) {
			if err := decodePostings(bm, chunk, v); err != nil {
				return false, err
			}
		}
		if form != f {
			if err := decodePostings(others, chunk, v); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if want(f) {
		all, err := e.get(termKey{ix, plain, f})
		if err != nil {
			return nil, err
		}
		bm.Or(roaring.AndNot(all, others))
	}
	return bm, nil
}

// prox answers proximity between two one-word terms of one index with
// the word-pair keys.
func (e *evaluator) prox(n *Prox, positive bool) (*roaring.Bitmap, error) {
	if err := checkProx(n); err != nil {
		return nil, err
	}
	p, err := proxWords(n)
	if err != nil {
		return nil, err
	}
	a, b := textnorm.Fold(p.words[0].literal()), textnorm.Fold(p.words[1].literal())
	bm, err := e.get(termKey{p.def.id, kindPair, a + " " + b})
	if err != nil {
		return nil, err
	}
	if !n.Ordered {
		rev, err := e.get(termKey{p.def.id, kindPair, b + " " + a})
		if err != nil {
			return nil, err
		}
		bm = roaring.Or(bm, rev)
	}
	for i, t := range p.terms {
		if t.RespectAccents {
			m, err := e.word(p.def.id, p.words[i], true)
			if err != nil {
				return nil, err
			}
			bm = roaring.And(bm, m)
		}
	}
	if positive {
		e.scored = append(e.scored, scoredWord{p.def.id, a}, scoredWord{p.def.id, b})
	}
	return bm, nil
}

// checkProx refuses the proximity the word-pair keys cannot answer:
// exclusion, units other than words, words further apart than adjacent.
func checkProx(n *Prox) error {
	if n.Exclusion {
		return &Error{Code: DiagUnsupportedProxRelation, Detail: "exclusion", Message: "proximity exclusion is not supported"}
	}
	if n.Unit != UnitWord {
		return &Error{Code: DiagUnsupportedProxUnit, Detail: proxUnitName(n.Unit), Message: "only unit=word is supported"}
	}
	adjacent := (n.Distance == 1 && (n.Relation == EQ || n.Relation == LE)) ||
		(n.Distance == 2 && n.Relation == LT) || (n.Distance == 0 && n.Relation == LE)
	if !adjacent {
		return &Error{Code: DiagUnsupportedProxDistance, Detail: n.Relation.String() + itoa(n.Distance),
			Message: "only adjacent words (distance<=1) are supported"}
	}
	return nil
}

// proxPair is the two words of a proximity search, of one index.
type proxPair struct {
	def   *IndexDef
	terms [2]*Term
	words [2]pattern
}

// proxWords finds the two words of n's sides, which must be single
// unmasked words of one word index.
func proxWords(n *Prox) (proxPair, error) {
	lt, lok := n.Left.(*Term)
	rt, rok := n.Right.(*Term)
	if !lok || !rok {
		// prox between subqueries (booleans, nested prox) needs
		// positions the index does not keep.
		return proxPair{}, &Error{Code: DiagUnsupportedBoolean, Detail: "prox", Message: "prox is supported between two single words, not between subqueries"}
	}
	ld, err := resolve(lt)
	if err != nil {
		return proxPair{}, err
	}
	rd, err := resolve(rt)
	if err != nil {
		return proxPair{}, err
	}
	lw, rw := ld.termPattern(lt.Value).words(), rd.termPattern(rt.Value).words()
	if ld != rd || (ld.Kind != KindText && ld.Kind != KindAnywhere) || len(lw) != 1 || len(rw) != 1 ||
		lw[0].hasWild() || rw[0].hasWild() || lt.Relation != EQ || rt.Relation != EQ {
		return proxPair{}, &Error{Code: DiagProxNotSupported, Message: "proximity is supported between two single unmasked words of one word index"}
	}
	return proxPair{def: ld, terms: [2]*Term{lt, rt}, words: [2]pattern{lw[0], rw[0]}}, nil
}

func proxUnitName(u ProxUnit) string {
	return [...]string{"word", "sentence", "paragraph", "element"}[u]
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

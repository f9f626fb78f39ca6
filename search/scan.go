package search

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"
)

// ScanRequest asks for the terms of an index around a start term (SRU
// scan, Z39.50 Scan).
type ScanRequest struct {
	Index string // canonical or CQL name; "" is anywhere
	// Phrases lists whole-field values instead of words (text indexes;
	// CQL "==" / "exact" in the scan clause).
	Phrases bool
	From    string // the start term, as a user types it
	// Position is where the first term >= From goes in the answer,
	// 1-based: Position-1 terms before it are listed too. 0 puts From
	// just before the answer: the terms after it.
	Position int
	Count    int // how many terms to return at most
}

// ScanTerm is one entry of a scan: the term to search for, a form for
// display (with accents, as found in a record) and how many records have
// it.
type ScanTerm struct {
	Value   string
	Display string
	Count   int
}

// Scan lists the terms of an index in term order around req.From: up to
// Position-1 before it and the rest from it on. Term order is byte order
// of the folded form (for text, so "dang" and "Đặng" are one term).
func (ix *Index) Scan(ctx context.Context, tx *bbolt.Tx, req ScanRequest) ([]ScanTerm, error) {
	name := req.Index
	if name == "" {
		name = "anywhere"
	}
	def, ok := LookupIndex(name)
	if !ok {
		return nil, &Error{Code: DiagUnsupportedIndex, Detail: req.Index}
	}
	if req.Count <= 0 || req.Position < 0 || req.Position > req.Count+1 {
		return nil, fmt.Errorf("search: scan position %d of %d terms", req.Position, req.Count)
	}
	start, err := scanStart(def, req)
	if err != nil {
		return nil, err
	}
	b := openBuckets(tx)
	if b == nil {
		return nil, nil
	}
	if err := checkUsable(b); err != nil {
		return nil, err
	}
	r := &reader{b: b, ctx: ctx}
	if err := r.init(); err != nil {
		return nil, err
	}
	out, err := scanAround(r, def.id, start, req)
	if err != nil {
		return nil, err
	}
	if start.exactKind != 0 {
		for i := range out {
			if err := displayForm(r, def.id, start.exactKind, &out[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// scanPoint is where a scan starts: the kind of terms it lists, the
// kind holding their exact forms (0: none), and the first term.
type scanPoint struct {
	kind, exactKind byte
	from            string
}

// scanStart works out where a scan of def starts: req.From as the index
// stores its terms (folded words, whole-field values or numbers).
func scanStart(def *IndexDef, req ScanRequest) (scanPoint, error) {
	var p scanPoint
	switch def.Kind {
	case KindText, KindAnywhere:
		p.kind, p.exactKind = kindWord, kindWordExact
		from := req.From
		if def.clean != nil {
			from = def.clean(from)
		}
		p.from = joinPhrase(foldWords(from))
		if req.Phrases {
			if def.Kind == KindAnywhere {
				return p, &Error{Code: DiagUnsupportedRelIndex, Detail: "==", Message: "anywhere has no whole-field terms to scan"}
			}
			p.kind, p.exactKind = kindPhrase, kindPhraseExact
		} else if i := strings.IndexByte(p.from, ' '); i >= 0 {
			p.from = p.from[:i] // words are scanned: start at the first word
		}
	case KindCode, KindIdent:
		p.kind, p.from = kindPhrase, def.norm(req.From)
	case KindNumber:
		p.kind = kindNumber
		if n, ok := parseNumber(req.From); ok {
			p.from = formatNumber(n)
		} else {
			p.from = strings.TrimSpace(req.From)
		}
	}
	return p, nil
}

// scanAround lists the terms of index ix around start, in term order:
// up to req.Position-1 before it, then the rest of req.Count.
func scanAround(r *reader, ix byte, start scanPoint, req ScanRequest) ([]ScanTerm, error) {
	before, err := scanDir(r, ix, start.kind, start.from, req.Position-1, true)
	if err != nil {
		return nil, err
	}
	want := req.Count - len(before)
	if req.Position == 0 {
		want++ // one more, in case the first is From itself
	}
	after, err := scanDir(r, ix, start.kind, start.from, want, false)
	if err != nil {
		return nil, err
	}
	if req.Position == 0 {
		if len(after) > 0 && after[0].Value == start.from {
			after = after[1:]
		} else if len(after) > req.Count {
			after = after[:req.Count]
		}
	}
	out := make([]ScanTerm, 0, len(before)+len(after))
	for i := len(before) - 1; i >= 0; i-- {
		out = append(out, before[i])
	}
	return append(out, after...), nil
}

// chunkCursor walks one chunk's keys of an index and kind.
type chunkCursor struct {
	c      *bbolt.Cursor
	prefix []byte
	key    []byte // current key, nil when done
	val    []byte
}

func (cc *chunkCursor) load(k, v []byte) {
	if k == nil || !bytes.HasPrefix(k, cc.prefix) {
		cc.key, cc.val = nil, nil
		return
	}
	cc.key, cc.val = k, v
}

// scanDir collects up to n distinct terms, summing counts over chunks:
// forward from the first term >= from, or backward from the last term
// < from (returned nearest first).
func scanDir(r *reader, ix, kind byte, from string, n int, back bool) ([]ScanTerm, error) {
	if n <= 0 {
		return nil, nil
	}
	curs := make([]*chunkCursor, 0, r.chunks)
	for ch := 0; ch < r.chunks; ch++ {
		cc := &chunkCursor{c: r.b.terms.Cursor(), prefix: termKeyBytes(nil, ix, kind, uint16(ch), "")}
		k, v := cc.c.Seek(termKeyBytes(nil, ix, kind, uint16(ch), from))
		if back {
			if k == nil {
				k, v = cc.c.Last()
			} else {
				k, v = cc.c.Prev()
			}
		}
		cc.load(k, v)
		curs = append(curs, cc)
	}
	var out []ScanTerm
	for len(out) < n {
		// The next term in the walk's direction over all chunks.
		var best []byte
		for _, cc := range curs {
			if cc.key == nil {
				continue
			}
			t := cc.key[4:]
			if best == nil || (!back && bytes.Compare(t, best) < 0) || (back && bytes.Compare(t, best) > 0) {
				best = t
			}
		}
		if best == nil {
			break
		}
		term := string(best)
		count := 0
		for _, cc := range curs {
			if cc.key == nil || string(cc.key[4:]) != term {
				continue
			}
			m, err := cardinality(cc.val)
			if err != nil {
				return nil, fmt.Errorf("search: scan %q: %w", cc.key, err)
			}
			count += int(m)
			if back {
				cc.load(cc.c.Prev())
			} else {
				cc.load(cc.c.Next())
			}
		}
		out = append(out, ScanTerm{Value: term, Display: term, Count: count})
	}
	return out, nil
}

// displayForm sets Display to the commonest exact form of a folded term
// (in lower case, as indexed), when it has any.
func displayForm(r *reader, ix, exactKind byte, st *ScanTerm) error {
	counts := map[string]uint64{}
	prefix := st.Value + variantSep
	err := r.walk(ix, exactKind, prefix, func(term string, _ uint16, v []byte) (bool, error) {
		m, err := cardinality(v)
		counts[term[len(prefix):]] += m
		return err == nil, err
	})
	if err != nil {
		return err
	}
	var best string
	var bestN, others uint64
	for form, n := range counts {
		if form != st.Value {
			others += n
		}
		if n > bestN || (n == bestN && form < best) {
			best, bestN = form, n
		}
	}
	// Documents with only the plain form are not among the variants.
	if plain := uint64(st.Count) - min(others, uint64(st.Count)); best != "" && bestN >= plain {
		st.Display = best
	}
	return nil
}

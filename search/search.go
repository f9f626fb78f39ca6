package search

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"go.etcd.io/bbolt"
)

// Hits is one page of a search's result.
type Hits struct {
	Total int      // number of matching records
	IDs   []string // union ids of the requested page, in order
}

// MaxSortKeys bounds the number of sort keys of a query.
const MaxSortKeys = 4

// Search runs q in tx (a read or write transaction of the store) and
// returns the total number of hits and the ids of hits offset ..
// offset+limit-1 in the query's order. Errors of type *Error are the
// user's (an unsupported index, relation, ...); ctx's error when it is
// done before the search is; others are system errors.
func (ix *Index) Search(ctx context.Context, tx *bbolt.Tx, q *Query, offset, limit int) (*Hits, error) {
	if offset < 0 || limit < 0 {
		return nil, fmt.Errorf("search: negative offset %d or limit %d", offset, limit)
	}
	if len(q.Sort) > MaxSortKeys {
		return nil, &Error{Code: DiagTooManySortKeys, Detail: fmt.Sprint(len(q.Sort))}
	}
	b := openBuckets(tx)
	if b == nil {
		// No index yet (an empty store): nothing matches, but the query
		// must still be valid.
		if err := Validate(q.Root); err != nil {
			return nil, err
		}
		return &Hits{}, nil
	}
	if err := checkUsable(b); err != nil {
		return nil, err
	}
	r := &reader{b: b, ctx: ctx}
	if err := r.init(); err != nil {
		return nil, err
	}
	e := newEvaluator(r)
	bm, err := e.eval(q.Root, true)
	if err != nil {
		return nil, err
	}
	hits := &Hits{Total: int(bm.GetCardinality())}
	if limit == 0 || offset >= hits.Total {
		return hits, nil
	}
	need := offset + limit
	if need > hits.Total {
		need = hits.Total
	}
	order := q.Sort
	if len(order) == 0 && len(e.scored) > 0 {
		order = []SortKey{{By: SortRelevance, Descending: true}}
	}
	var docs []uint32
	switch {
	case len(order) == 0:
		docs = firstN(bm, need)
	case order[0].By == SortRelevance:
		docs, err = rankByRelevance(e, bm, need)
	default:
		docs, err = sortByKeys(r, bm, order, need)
	}
	if err != nil {
		return nil, err
	}
	if offset < len(docs) {
		docs = docs[offset:]
	} else {
		docs = nil
	}
	for _, d := range docs {
		v := b.docs.Get(docnoKey(d))
		if v == nil {
			return nil, fmt.Errorf("search: document %d is indexed but not stored", d)
		}
		sd, _, err := decodeDocHead(v)
		if err != nil {
			return nil, fmt.Errorf("search: document %d: %w", d, err)
		}
		hits.IDs = append(hits.IDs, sd.id)
	}
	return hits, nil
}

// Validate reports the first thing in a query tree the index cannot
// answer, without reading the index (used when there is none yet).
func Validate(n Node) error {
	switch n := n.(type) {
	case *Bool:
		if n.Op != And && n.Op != Or && n.Op != Not {
			return &Error{Code: DiagUnsupportedBoolean, Detail: n.Op.String()}
		}
		if err := Validate(n.Left); err != nil {
			return err
		}
		return Validate(n.Right)
	case *Term:
		_, err := resolve(n)
		return err
	case *Prox:
		if err := Validate(n.Left); err != nil {
			return err
		}
		return Validate(n.Right)
	case AllRecords, *AllRecords:
		return nil
	}
	return &Error{Code: DiagQuerySyntax, Message: fmt.Sprintf("query node %T", n)}
}

func firstN(bm *roaring.Bitmap, n int) []uint32 {
	out := make([]uint32, 0, n)
	it := bm.Iterator()
	for len(out) < n && it.HasNext() {
		out = append(out, it.Next())
	}
	return out
}

// Relevance: a BM25-style inverse document frequency per query word,
// counted once for the document having the word in the searched index
// and again, weighted, when it is also in the title, a creator or a
// subject. Term frequency and field length are not stored; records are
// short, and being in the title is the signal that matters.
var fieldBoost = []struct {
	name  string
	boost float32
}{{"title", 2}, {"creator", 1}, {"subject", 0.5}}

// scoreSet is the documents that get one weight: the hits having one
// query word in one field.
type scoreSet struct {
	docs   *roaring.Bitmap
	weight float32
}

func rankByRelevance(e *evaluator, hits *roaring.Bitmap, need int) ([]uint32, error) {
	sets, err := scoreSets(e, hits)
	if err != nil {
		return nil, err
	}
	if hits.GetCardinality() > tieredFrom && len(sets) <= maxTieredSets {
		return rankTiered(hits, sets, need), nil
	}
	docs := hits.ToArray()
	scores := make([]float32, len(docs))
	for _, ss := range sets {
		addScores(docs, scores, ss.docs, ss.weight)
	}
	// The best need documents: score descending, then document number.
	less := func(i, j int) bool {
		if scores[i] != scores[j] {
			return scores[i] > scores[j]
		}
		return docs[i] < docs[j]
	}
	top := topN(len(docs), need, less)
	out := make([]uint32, len(top))
	for k, i := range top {
		out[k] = docs[i]
	}
	return out, nil
}

// scoreSets lists, for each distinct query word, the hits having it in
// the searched index (weight idf) and in the boosted fields (weight idf
// times the boost).
func scoreSets(e *evaluator, hits *roaring.Bitmap) ([]scoreSet, error) {
	all, err := e.all()
	if err != nil {
		return nil, err
	}
	n := float64(all.GetCardinality())
	var sets []scoreSet
	seen := map[scoredWord]bool{}
	for _, w := range e.scored {
		if seen[w] {
			continue
		}
		seen[w] = true
		base, err := e.get(termKey{w.ix, kindWord, w.word})
		if err != nil {
			return nil, err
		}
		df := float64(base.GetCardinality())
		idf := float32(math.Log(1 + (n-df+0.5)/(df+0.5)))
		if in := roaring.And(base, hits); !in.IsEmpty() {
			sets = append(sets, scoreSet{in, idf})
		}
		for _, fb := range fieldBoost {
			def, _ := LookupIndex(fb.name)
			if def.id == w.ix {
				continue
			}
			bm, err := e.get(termKey{def.id, kindWord, w.word})
			if err != nil {
				return nil, err
			}
			if in := roaring.And(bm, hits); !in.IsEmpty() {
				sets = append(sets, scoreSet{in, idf * fb.boost})
			}
		}
	}
	return sets, nil
}

// Large results are ranked by tiers instead of document by document.
const (
	tieredFrom    = 20000
	maxTieredSets = 10
)

// rankTiered ranks without scoring every hit: a document's score is the
// sum of the weights of the sets holding it, so the documents of one
// combination of sets share a score. Combinations are taken best first
// (equal scores together, in document order) until need documents are
// found; usually the first few, which are small intersections.
func rankTiered(hits *roaring.Bitmap, sets []scoreSet, need int) []uint32 {
	type combo struct {
		mask  uint
		score float32
	}
	combos := make([]combo, 1<<len(sets))
	for m := range combos {
		var sc float32
		for j := range sets {
			if m&(1<<j) != 0 {
				sc += sets[j].weight
			}
		}
		combos[m] = combo{uint(m), sc}
	}
	slices.SortStableFunc(combos, func(a, b combo) int { return cmp.Compare(b.score, a.score) })
	exactly := func(mask uint) *roaring.Bitmap {
		var bm *roaring.Bitmap
		for j := range sets {
			if mask&(1<<j) != 0 {
				if bm == nil {
					bm = sets[j].docs.Clone()
				} else {
					bm.And(sets[j].docs)
				}
			}
		}
		if bm == nil {
			bm = hits.Clone()
		}
		for j := range sets {
			if mask&(1<<j) == 0 && !bm.IsEmpty() {
				bm.AndNot(sets[j].docs)
			}
		}
		return bm
	}
	out := make([]uint32, 0, need)
	for i := 0; i < len(combos) && len(out) < need; {
		// One tier: every combination with this score.
		k := i
		tier := roaring.New()
		for ; k < len(combos) && combos[k].score == combos[i].score; k++ {
			tier.Or(exactly(combos[k].mask))
		}
		it := tier.Iterator()
		for len(out) < need && it.HasNext() {
			out = append(out, it.Next())
		}
		i = k
	}
	return out
}

// addScores adds w to the score of every document of sub (a subset of the
// sorted docs).
func addScores(docs []uint32, scores []float32, sub *roaring.Bitmap, w float32) {
	j := 0
	it := sub.Iterator()
	for it.HasNext() {
		d := it.Next()
		for j < len(docs) && docs[j] < d {
			j++
		}
		if j < len(docs) && docs[j] == d {
			scores[j] += w
		}
	}
}

// topN returns the indexes 0..n-1 of the need smallest elements by less,
// in order.
func topN(n, need int, less func(i, j int) bool) []int {
	if need >= n/2 {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int {
			switch {
			case less(a, b):
				return -1
			case less(b, a):
				return 1
			}
			return 0
		})
		if need < n {
			idx = idx[:need]
		}
		return idx
	}
	h := &maxHeap{less: less}
	for i := 0; i < n; i++ {
		if h.Len() < need {
			heap.Push(h, i)
			continue
		}
		if less(i, h.idx[0]) {
			h.idx[0] = i
			heap.Fix(h, 0)
		}
	}
	out := make([]int, h.Len())
	for k := len(out) - 1; k >= 0; k-- {
		out[k] = heap.Pop(h).(int)
	}
	return out
}

// maxHeap keeps the worst of the best candidates on top.
type maxHeap struct {
	idx  []int
	less func(i, j int) bool
}

func (h *maxHeap) Len() int           { return len(h.idx) }
func (h *maxHeap) Less(i, j int) bool { return h.less(h.idx[j], h.idx[i]) }
func (h *maxHeap) Swap(i, j int)      { h.idx[i], h.idx[j] = h.idx[j], h.idx[i] }
func (h *maxHeap) Push(x any)         { h.idx = append(h.idx, x.(int)) }
func (h *maxHeap) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}

// sortByKeys orders hits by title, creator or date keys. Few hits: their
// keys are read and sorted. Many hits: the sort bucket is walked in order
// and the first need hits met are taken (with every document tying with
// the last one, for the secondary keys), which visits about
// need*total/hits entries.
func sortByKeys(r *reader, hits *roaring.Bitmap, order []SortKey, need int) ([]uint32, error) {
	h := hits.GetCardinality()
	all, err := r.count(termKey{idAll, kindAll, ""})
	if err != nil {
		return nil, err
	}
	var cand []uint32
	if h*h <= uint64(need)*all*4 {
		cand = hits.ToArray()
	} else {
		cand, err = walkSorted(r, hits, order[0], need)
		if err != nil {
			return nil, err
		}
	}
	keys := make(map[uint32]sortKeys, len(cand))
	for _, d := range cand {
		if err := r.step(); err != nil {
			return nil, err
		}
		v := r.b.docs.Get(docnoKey(d))
		if v == nil {
			return nil, fmt.Errorf("search: document %d is indexed but not stored", d)
		}
		sd, _, err := decodeDocHead(v)
		if err != nil {
			return nil, fmt.Errorf("search: document %d: %w", d, err)
		}
		keys[d] = sd.sort
	}
	slices.SortFunc(cand, func(a, b uint32) int {
		ka, kb := keys[a], keys[b]
		for _, o := range order {
			var c int
			switch o.By {
			case SortTitle:
				c = bytes.Compare(ka.title, kb.title)
			case SortCreator:
				c = bytes.Compare(ka.creator, kb.creator)
			case SortDate:
				c = cmp.Compare(ka.year, kb.year)
			}
			if o.Descending {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Compare(a, b)
	})
	if len(cand) > need {
		cand = cand[:need]
	}
	return cand, nil
}

func sortPrefix(by SortBy) byte {
	switch by {
	case SortTitle:
		return sortTitleKey
	case SortCreator:
		return sortCreatorKey
	}
	return sortDateKey
}

// walkSorted walks the sort bucket for key o and returns the first need
// hits, plus those tying with the last.
func walkSorted(r *reader, hits *roaring.Bitmap, o SortKey, need int) ([]uint32, error) {
	prefix := sortPrefix(o.By)
	c := r.b.sort.Cursor()
	var k []byte
	if o.Descending {
		k, _ = c.Seek([]byte{prefix + 1})
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	} else {
		k, _ = c.Seek([]byte{prefix})
	}
	var out []uint32
	var boundary []byte
	for ; len(k) >= 7 && k[0] == prefix; k = step(c, o.Descending) {
		sortKey := k[:len(k)-4]
		if boundary != nil && !bytes.Equal(sortKey, boundary) {
			break
		}
		d := binary.BigEndian.Uint32(k[len(k)-4:])
		if !hits.Contains(d) {
			continue
		}
		out = append(out, d)
		if len(out) == need {
			boundary = slices.Clone(sortKey)
		}
	}
	return out, nil
}

func step(c *bbolt.Cursor, back bool) []byte {
	var k []byte
	if back {
		k, _ = c.Prev()
	} else {
		k, _ = c.Next()
	}
	return k
}

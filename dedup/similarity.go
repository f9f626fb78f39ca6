package dedup

import "strings"

// simLimit bounds the bytes compared.
const simLimit = 160

// similarityAtLeast is 1 - d(a, b)/max(len), where d is the optimal
// string alignment distance (Levenshtein with adjacent transpositions, the
// commonest typing slip, counted as one edit): 1 for equal strings, 0 for
// nothing in common. It works on bytes, which for folded text is almost
// always ASCII. Long values are compared on their first 160 bytes.
//
// When the similarity is below atLeast, ok is false and the value is only
// a bound. Knowing the threshold, it computes only the band of the dynamic
// programme within the edit budget of the diagonal and stops as soon as
// the budget is exceeded: the candidates of a record are mostly clearly
// different, and this is the inner loop of matching.
func similarityAtLeast(a, b string, atLeast float64) (sim float64, ok bool) {
	if len(a) > simLimit {
		a = a[:simLimit]
	}
	if len(b) > simLimit {
		b = b[:simLimit]
	}
	if a == b {
		return 1, true
	}
	if a == "" || b == "" {
		return 0, atLeast <= 0
	}
	la, lb := len(a), len(b)
	maxLen := max(la, lb)
	budget := int((1-atLeast)*float64(maxLen) + 1e-9) // most edits allowed
	if budget > maxLen {
		budget = maxLen
	}
	if abs(la-lb) > budget {
		return 1 - float64(abs(la-lb))/float64(maxLen), false
	}
	// A common prefix or suffix costs nothing in an optimal alignment, and
	// re-typed titles mostly differ in a few places: the programme need
	// only run on what lies between.
	n := 0
	for n < la && n < lb && a[n] == b[n] {
		n++
	}
	a, b = a[n:], b[n:]
	n = 0
	for n < len(a) && n < len(b) && a[len(a)-1-n] == b[len(b)-1-n] {
		n++
	}
	a, b = a[:len(a)-n], b[:len(b)-n]
	if len(a) == 0 || len(b) == 0 {
		d := len(a) + len(b)
		return 1 - float64(d)/float64(maxLen), d <= budget
	}
	d, ok := osaBanded(a, b, budget)
	return 1 - float64(d)/float64(maxLen), ok
}

// osaBanded returns the optimal string alignment distance of a and b
// (neither empty, at most simLimit bytes) when it is within budget;
// otherwise ok is false and d is only a lower bound. It computes only the
// band of the dynamic programme within budget of the diagonal, and stops
// at the first row whose every value is over it.
func osaBanded(a, b string, budget int) (d int, ok bool) {
	la, lb := len(a), len(b)
	const inf = 1 << 30
	// Three rows of the dynamic programme on the stack.
	var rowsBuf [3 * (simLimit + 1)]int
	pp := rowsBuf[:lb+1]
	prev := rowsBuf[simLimit+1 : simLimit+2+lb]
	cur := rowsBuf[2*(simLimit+1) : 2*(simLimit+1)+lb+1]
	for j := 0; j <= lb; j++ {
		if j <= budget {
			prev[j] = j
		} else {
			prev[j] = inf
		}
		pp[j] = inf
	}
	for i := 1; i <= la; i++ {
		lo, hi := max(1, i-budget), min(lb, i+budget)
		if lo > 1 {
			cur[lo-1] = inf
		} else {
			cur[0] = i
		}
		rowMin := inf
		if lo == 1 {
			rowMin = cur[0]
		}
		ca := a[i-1]
		for j := lo; j <= hi; j++ {
			cost := 1
			if ca == b[j-1] {
				cost = 0
			}
			v := prev[j-1] + cost
			if d := prev[j] + 1; d < v {
				v = d
			}
			if d := cur[j-1] + 1; d < v {
				v = d
			}
			if i > 1 && j > 1 && ca == b[j-2] && a[i-2] == b[j-1] {
				if d := pp[j-2] + 1; d < v {
					v = d
				}
			}
			cur[j] = v
			if v < rowMin {
				rowMin = v
			}
		}
		if hi < lb {
			cur[hi+1] = inf
		}
		if rowMin > budget {
			return rowMin, false
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[lb], prev[lb] <= budget
}

// tokenContainment is |A ∩ B| / min(|A|, |B|) over the words of two folded
// strings: 1 when every word of the shorter is in the longer.
func tokenContainment(a, b string) float64 {
	ta, tb := strings.Fields(a), strings.Fields(b)
	if len(ta) == 0 || len(tb) == 0 {
		return 0
	}
	if len(ta) > len(tb) {
		ta, tb = tb, ta
	}
	n := 0
	for _, x := range ta {
		for _, y := range tb {
			if x == y {
				n++
				break
			}
		}
	}
	return float64(n) / float64(len(ta))
}

package corpus

import "fmt"

// PairScore counts record pairs, the usual way to judge deduplication
// against a truth: TP pairs in one cluster and one work, FP in one cluster
// but two works, FN in one work but two clusters, TN in neither.
type PairScore struct{ TP, FP, FN, TN int }

// Precision is TP / (TP + FP), 1 when nothing was merged.
func (c PairScore) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FP)
}

// Recall is TP / (TP + FN), 1 when the truth has no pairs.
func (c PairScore) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 1
	}
	return float64(c.TP) / float64(c.TP+c.FN)
}

// F1 is the harmonic mean of precision and recall.
func (c PairScore) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func (c PairScore) String() string {
	return fmt.Sprintf("pairs: TP %d FP %d FN %d TN %d; precision %.4f recall %.4f F1 %.4f",
		c.TP, c.FP, c.FN, c.TN, c.Precision(), c.Recall(), c.F1())
}

// PairCounter scores a clustering record by record, through the
// (cluster, work) contingency table, so no pair is ever enumerated.
// The zero value is ready to use.
type PairCounter struct {
	cell           map[[2]string]int
	byPred, byWork map[string]int
	n              int
}

// Add records that one record was put in cluster pred and is of work.
func (p *PairCounter) Add(pred, work string) {
	if p.cell == nil {
		p.cell, p.byPred, p.byWork = map[[2]string]int{}, map[string]int{}, map[string]int{}
	}
	p.cell[[2]string{pred, work}]++
	p.byPred[pred]++
	p.byWork[work]++
	p.n++
}

// Score returns the pair counts of everything added.
func (p *PairCounter) Score() PairScore {
	pairs := func(n int) int { return n * (n - 1) / 2 }
	var c PairScore
	for _, n := range p.cell {
		c.TP += pairs(n)
	}
	samePred, sameWork := 0, 0
	for _, n := range p.byPred {
		samePred += pairs(n)
	}
	for _, n := range p.byWork {
		sameWork += pairs(n)
	}
	c.FP = samePred - c.TP
	c.FN = sameWork - c.TP
	c.TN = pairs(p.n) - c.TP - c.FP - c.FN
	return c
}

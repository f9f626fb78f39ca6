package corpus

import "testing"

func TestPairCounter(t *testing.T) {
	// Records a1 a2 a3 are one work, b1 b2 another; the clustering puts
	// a1 a2 together, a3 with b1, b2 alone.
	var pc PairCounter
	for _, r := range [][2]string{{"x", "a"}, {"x", "a"}, {"y", "a"}, {"y", "b"}, {"z", "b"}} {
		pc.Add(r[0], r[1])
	}
	got := pc.Score()
	want := PairScore{TP: 1, FP: 1, FN: 3, TN: 5}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got.Precision() != 0.5 || got.Recall() != 0.25 {
		t.Errorf("precision %v recall %v", got.Precision(), got.Recall())
	}
	var empty PairCounter
	if empty.Score() != (PairScore{}) || (PairScore{}).Precision() != 1 {
		t.Error("empty counter")
	}
}

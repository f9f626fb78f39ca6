package extsort

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

type kv struct{ k, v string }

// TestSorterOrder adds pairs in random order, with repeated keys, under
// budgets that keep them in memory, spill a few runs and spill many, and
// wants them back sorted by key, equal keys in the order added.
func TestSorterOrder(t *testing.T) {
	for _, c := range []struct {
		name   string
		n      int
		budget int
		runs   int // at least
	}{
		{"empty", 0, 1 << 20, 0},
		{"in memory", 5000, 1 << 30, 0},
		{"a few runs", 20000, 1 << 18, 3},
		{"many runs", 50000, 1 << 16, 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewPCG(1, uint64(c.n)))
			s := New(dir, c.budget)
			var want []kv
			for i := range c.n {
				k := fmt.Sprintf("key-%06d", rng.IntN(c.n/3+1))
				v := fmt.Sprintf("value %d %s", i, bytes.Repeat([]byte{'x'}, rng.IntN(40)))
				if err := s.Add([]byte(k), []byte(v)); err != nil {
					t.Fatal(err)
				}
				want = append(want, kv{k, v})
			}
			slices.SortStableFunc(want, func(a, b kv) int { return bytes.Compare([]byte(a.k), []byte(b.k)) })
			if s.Len() != c.n {
				t.Errorf("Len %d, want %d", s.Len(), c.n)
			}
			it, err := s.Iter()
			if err != nil {
				t.Fatal(err)
			}
			if len(s.runs) < c.runs {
				t.Errorf("%d runs written, want at least %d", len(s.runs), c.runs)
			}
			var got []kv
			for it.Next() {
				got = append(got, kv{string(it.Key()), string(it.Value())})
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d pairs, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("pair %d: got %q, want %q", i, got[i], want[i])
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
				t.Errorf("files left after Close: %v", left)
			}
		})
	}
}

// TestSorterMemoryBound checks that a Sorter holds about its budget, not
// what was added: the arena stays within twice the budget.
func TestSorterMemoryBound(t *testing.T) {
	s := New(t.TempDir(), 1<<20)
	defer s.Close()
	v := bytes.Repeat([]byte{'v'}, 100)
	for i := range 200000 {
		if err := s.Add(fmt.Appendf(nil, "%08d", 200000-i), v); err != nil {
			t.Fatal(err)
		}
		if cap(s.arena) > 2<<20 {
			t.Fatalf("after %d pairs the arena holds %d bytes, budget 1 MiB", i+1, cap(s.arena))
		}
	}
	st, err := s.file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	// Every pair but those of the last budget's worth is in a run.
	if st.Size() < 200000*108-1<<20 {
		t.Errorf("runs hold %d bytes, want every pair but the last MiB's (%d)", st.Size(), 200000*108-1<<20)
	}
}

// TestSorterBadDir reports the directory that cannot hold a run.
func TestSorterBadDir(t *testing.T) {
	s := New(filepath.Join(t.TempDir(), "missing"), 1<<16)
	var err error
	for i := 0; err == nil && i < 10000; i++ {
		err = s.Add(fmt.Appendf(nil, "%d", i), bytes.Repeat([]byte{'v'}, 64))
	}
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want a missing directory", err)
	}
}

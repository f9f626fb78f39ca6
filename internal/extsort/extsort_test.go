package extsort

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
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

// TestSorterEmptyPairs: pairs of no bytes lie where the next pair does,
// and equal keys still come back in the order added.
func TestSorterEmptyPairs(t *testing.T) {
	s := New(t.TempDir(), 1<<20)
	defer s.Close()
	// Enough pairs that the sort is not an insertion sort, which is
	// stable anyway.
	var in []kv
	for i := range 300 {
		in = append(in, kv{"", ""}, kv{"", strconv.Itoa(i)}, kv{strconv.Itoa(i % 7), ""})
	}
	for _, p := range in {
		if err := s.Add([]byte(p.k), []byte(p.v)); err != nil {
			t.Fatal(err)
		}
	}
	want := slices.Clone(in)
	slices.SortStableFunc(want, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	it, err := s.Iter()
	if err != nil {
		t.Fatal(err)
	}
	var got []kv
	for it.Next() {
		got = append(got, kv{string(it.Key()), string(it.Value())})
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q,\nwant %q", got[:12], want[:12])
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

// TestPutAll: every pair lands in the bucket, in as many transactions as
// perTx makes them, with the pages packed full, Counting hearing the
// pairs written after each; a done context stops it before the next
// transaction.
func TestPutAll(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "t.db"), 0o644, &bbolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := New(t.TempDir(), 1)
	defer s.Close()
	var want []string
	for i := range 1000 {
		k, v := fmt.Sprintf("k%04d", (i*7919)%1000), fmt.Sprintf("v%d", i)
		if err := s.Add([]byte(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
		want = append(want, k+"="+v)
	}
	slices.Sort(want)
	it, err := s.Iter()
	if err != nil {
		t.Fatal(err)
	}
	txs := 0
	var heard []int
	update := Counting(func(fn func(*bbolt.Tx) error) error { txs++; return db.Update(fn) }, it,
		func(read int) { heard = append(heard, read) })
	bucket := func(tx *bbolt.Tx) (*bbolt.Bucket, error) { return tx.CreateBucketIfNotExists([]byte("b")) }
	ctx, cancel := context.WithCancel(context.Background())
	if err := PutAll(ctx, update, it, 300, 1, bucket); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(heard) != "[300 600 900 1000]" {
		t.Errorf("Counting heard %v after the transactions, want [300 600 900 1000]", heard)
	}
	var keys []string
	db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("b")).ForEach(func(k, v []byte) error {
			keys = append(keys, string(k)+"="+string(v))
			return nil
		})
	})
	if !slices.Equal(keys, want) || txs != 4 {
		t.Errorf("%d pairs in %d transactions, or other pairs; want the 1,000 added, in 4", len(keys), txs)
	}
	cancel()
	if err := PutAll(ctx, update, it, 300, 1, bucket); !errors.Is(err, context.Canceled) || txs != 4 {
		t.Errorf("with a done context: %v after %d transactions, want context.Canceled after 4", err, txs)
	}
}

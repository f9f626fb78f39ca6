package dedup

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// TestRebuildSpilledSameAsInMemory: Rebuild's queued edge and member
// writes give the edges and clusters Init's rebuild in one transaction
// gives, with the same union ids, whether they stay in memory or spill to
// files; and the members of old clusters whose records are gone leave the
// members bucket. The catalog is built as a bulk load into a catalog
// finds it: 1,000 records deduplicated, then 3,000 stored without
// deduplication (one of them in every source, more copies than a record
// keeps edges, and twice in one source: withCopies), three of the first
// deleted.
func TestRebuildSpilledSameAsInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 3,000-record catalog")
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base.db")
	st, _ := openBulkStore(t, base, true)
	ingestBench(t, st, makeBenchCorpus(t, 1000))
	before := readRebuildView(t, st)
	st.Close()
	st, _ = openBulkStore(t, base, false)
	ingestBench(t, st, withCopies(t, makeBenchCorpus(t, 3000)))
	var gone []string
	for _, k := range slices.Sorted(maps.Keys(before.members)) {
		if len(gone) == 3 {
			break
		}
		src, id, err := store.SplitKey([]byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Apply(store.Batch{Source: src, Deletions: []store.Deletion{{LocalID: id}}}); err != nil {
			t.Fatal(err)
		}
		gone = append(gone, k)
	}
	if len(gone) < 3 {
		t.Fatalf("%d members to delete", len(gone))
	}
	st.Close()
	raw, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}

	var views [2]rebuildView
	for i, budget := range []int{spillBudget, 1} {
		path := filepath.Join(dir, fmt.Sprintf("rebuild%d", i), "u.db")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		old := spillBudget
		spillBudget = budget
		st, d := openBulkStore(t, path, true)
		spilled := 0
		_, err := d.Rebuild(context.Background(), st, func(phase string, _, _ int) {
			if phase == "cluster" && spilled == 0 {
				files, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "unicat-sort-*"))
				spilled = len(files)
			}
		})
		spillBudget = old
		if err != nil {
			t.Fatal(err)
		}
		if (spilled > 0) != (budget == 1) {
			t.Errorf("budget %d: %d files of sorted runs during the clustering", budget, spilled)
		}
		views[i] = readRebuildView(t, st)
		st.Close()
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "unicat-sort-*")); len(left) > 0 {
			t.Errorf("budget %d: files left behind: %v", budget, left)
		}
	}
	// The reference: Init's rebuild in one transaction, which writes
	// as it goes.
	path := filepath.Join(dir, "init.db")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	st, _ = openBulkStore(t, path, false)
	d := New(Options{})
	d.RebuildOnInit(nil)
	if err := st.AddHook(d); err != nil {
		t.Fatal(err)
	}
	ref := readRebuildView(t, st)
	mem, spill := views[0], views[1]
	if fmt.Sprint(ref.clusters) != fmt.Sprint(mem.clusters) || !slices.Equal(ref.edges, mem.edges) {
		t.Errorf("Rebuild and Init's rebuild differ: %d and %d union records, %d and %d edge keys",
			len(mem.clusters), len(ref.clusters), len(mem.edges), len(ref.edges))
	}
	t.Logf("%d union records, %d edge keys, %d members", len(mem.clusters), len(mem.edges), len(mem.members))
	if len(mem.clusters) < 1000 || len(mem.edges) < 1000 {
		t.Fatalf("%d clusters, %d edge keys: too few to compare", len(mem.clusters), len(mem.edges))
	}
	if !slices.Equal(mem.edges, spill.edges) {
		t.Errorf("edges: %d in memory, %d spilled, or different", len(mem.edges), len(spill.edges))
	}
	if fmt.Sprint(mem.clusters) != fmt.Sprint(spill.clusters) {
		t.Errorf("clusters differ: %d in memory, %d spilled", len(mem.clusters), len(spill.clusters))
	}
	if !maps.Equal(ref.unions, mem.unions) || !maps.Equal(mem.unions, spill.unions) {
		t.Errorf("union values differ: %d by Init, %d in memory, %d spilled", len(ref.unions), len(mem.unions), len(spill.unions))
	}
	for _, k := range gone {
		if mem.members[k] || spill.members[k] {
			t.Errorf("%s, deleted, is still a member", k)
		}
	}
}

// withCopies adds to c a copy of one of its records in every source that
// lacks it: more copies than a record keeps edges (maxEdges), so that
// which of its candidates each copy compares with first decides the
// edges; and a second copy to the source that holds it, without its
// identifiers and under an id sorting after every other record there:
// two records of one source without a shared identifier, which no
// cluster takes together, so the component splits, and the part split
// off is numbered among other components' clusters (the case of
// TestNewClustersNumberedAlike, in a larger catalog).
func withCopies(t *testing.T, c *benchCorpus) *benchCorpus {
	t.Helper()
	rec, err := marc.NewISO2709Reader(bytes.NewReader(c.raw[benchSources[0].ID]), marc.ReaderOptions{Charset: marc.CharsetUTF8}).Next()
	if err != nil {
		t.Fatal(err)
	}
	id, copies := rec.ControlNumber(), 0
	add := func(source string, r *marc.Record) {
		raw, err := marc.AppendISO2709(nil, r)
		if err != nil {
			t.Fatal(err)
		}
		c.raw[source] = append(c.raw[source], raw...)
		c.count[source]++
		c.total++
		copies++
	}
	for _, s := range benchSources {
		if _, held := c.label[string(store.RecordKey(s.ID, id))]; !held {
			add(s.ID, rec)
		}
	}
	second := marc.Record{Leader: rec.Leader}
	for _, f := range rec.Fields {
		switch f.Tag {
		case "001":
			f.Value = "zz" + id
		case "010", "015", "016", "020", "022", "024", "035":
			continue
		}
		second.Fields = append(second.Fields, f)
	}
	add(benchSources[0].ID, &second)
	if copies < maxEdges+1 {
		t.Fatalf("%d copies of %s: too few", copies, id)
	}
	return c
}

func openBulkStore(t *testing.T, path string, dedup bool) (*store.Store, *Deduper) {
	t.Helper()
	st, err := store.Open(path, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range benchSources {
		if err := st.PutSource(s); err != nil {
			t.Fatal(err)
		}
	}
	var d *Deduper
	if dedup {
		d = New(Options{})
		if err := st.AddHook(d); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { st.Close() })
	return st, d
}

// rebuildView is what a rebuild decided, without the times it ran at:
// each edge's key and rule, and each union id's members.
type rebuildView struct {
	edges    []string
	clusters map[string]string
	members  map[string]bool
	unions   map[string]string // union id: its value
}

func readRebuildView(t *testing.T, st *store.Store) rebuildView {
	t.Helper()
	v := rebuildView{clusters: map[string]string{}, members: map[string]bool{}, unions: map[string]string{}}
	bySeq := map[uint64][]string{}
	err := st.View(func(tx *store.Tx) error {
		err := tx.Bolt().Bucket(bucketEdges).ForEach(func(k, val []byte) error {
			a, b := binary.BigEndian.Uint32(k), binary.BigEndian.Uint32(k[4:])
			s, err := edgeStrength(a, b, val)
			if a < b {
				rule, _, err := edgeMatch(val)
				v.edges = append(v.edges, fmt.Sprintf("%x %s", k, rule))
				return err
			}
			v.edges = append(v.edges, fmt.Sprintf("%x %d", k, s))
			return err
		})
		if err != nil {
			return err
		}
		err = tx.Bolt().Bucket(bucketUnions).ForEach(func(k, val []byte) error {
			// Without the datestamp (unioncodec.go), the time of the run.
			if len(val) < 2+datestampLen || val[0] != 3 {
				return fmt.Errorf("union %s: value %q", k, val)
			}
			v.unions[string(k)] = string(val[:2]) + string(val[2+datestampLen:])
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bolt().Bucket(bucketMembers).ForEach(func(k, val []byte) error {
			seq := binary.BigEndian.Uint64(val)
			bySeq[seq] = append(bySeq[seq], string(k))
			v.members[string(k)] = true
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for seq, ms := range bySeq {
		v.clusters[unionID(seq)] = strings.Join(ms, " ")
	}
	return v
}

func TestDoneSet(t *testing.T) {
	s := newDoneSet([]string{"a", "c", "e"})
	for _, k := range []string{"c", "b", "e"} {
		s.add(k)
	}
	for k, want := range map[string]bool{"a": false, "b": true, "c": true, "d": false, "e": true, "f": false} {
		if s.has(k) != want {
			t.Errorf("has(%q) = %v, want %v", k, !want, want)
		}
	}
	if s.gone["c"] || !s.gone["b"] {
		t.Errorf("live records kept as gone, or gone ones not: %v", s.gone)
	}
}

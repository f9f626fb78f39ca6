package dedup

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Clustering without a store: a graph held in maps, records written
// "source:local", profiles made of what the merge checks read.

// rk is the record key of "source:local".
func rk(s string) string { return strings.Replace(s, ":", "\x00", 1) }

func rks(ss ...string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = rk(s)
	}
	return out
}

// cprof is a profile as the merge checks read it: the year (0 unknown),
// the title, and identifiers ("978..." an ISBN, anything else another).
func cprof(year int, title string, ids ...string) *profile {
	p := &profile{year: year, title: title, proper: title}
	for _, id := range ids {
		if strings.HasPrefix(id, "978") {
			p.isbns = append(p.isbns, id)
		} else {
			p.ids = append(p.ids, id)
		}
	}
	p.issns = issns(p.ids)
	p.strong = strongIDs(p)
	p.vsig = p.vetoSig()
	return p
}

// edge is an edge between "source:local" a and b of a strength.
func edge(a, b string, strength int) newEdge { return newEdge{rk(a), rk(b), strength} }

// memGraph is a graph in maps; apply writes a round back into it, as
// assign writes one into the store.
type memGraph struct {
	clusters map[uint64]*oldCluster
	profs    map[string]*profile // live records
	stored   []newEdge           // stored edges
	next     uint64              // the last sequence allocated
}

func newMemGraph(profs map[string]*profile, edges ...newEdge) *memGraph {
	g := &memGraph{clusters: map[uint64]*oldCluster{}, profs: map[string]*profile{}, stored: edges}
	for k, p := range profs {
		g.profs[rk(k)] = p
	}
	return g
}

// cluster adds a stored cluster of members (the first its master).
func (g *memGraph) addCluster(seq uint64, members ...string) {
	ms := rks(members...)
	master := ms[0]
	sort.Strings(ms)
	g.clusters[seq] = &oldCluster{seq: seq, master: master, members: ms}
	g.next = max(g.next, seq)
}

func (g *memGraph) clusterOf(k string) (uint64, bool) {
	for seq, c := range g.clusters {
		if slices.Contains(c.members, k) {
			return seq, true
		}
	}
	return 0, false
}

func (g *memGraph) cluster(seq uint64) (string, []string, error) {
	if c := g.clusters[seq]; c != nil {
		return c.master, c.members, nil
	}
	return "", nil, nil
}

func (g *memGraph) profile(k string) (*profile, error) { return g.profs[k], nil }

func (g *memGraph) edges(k string, _ *profile) ([]edgeRef, error) {
	var out []edgeRef
	for _, e := range g.stored {
		other := ""
		switch k {
		case e.a:
			other = e.b
		case e.b:
			other = e.a
		}
		if other != "" && g.profs[other] != nil {
			out = append(out, edgeRef{other: other, strength: e.strength})
		}
	}
	return out, nil
}

func (g *memGraph) apply(r *round) error {
	claims, orphans := claimIDs(r.groups, r.olds)
	for gi, grp := range r.groups {
		var seq uint64
		if len(claims[gi]) > 0 {
			seq = claims[gi][0]
			for _, alias := range claims[gi][1:] {
				delete(g.clusters, alias)
			}
		} else {
			g.next++
			seq = g.next
		}
		g.clusters[seq] = &oldCluster{seq: seq, master: grp.members[0], members: grp.members}
	}
	for _, seq := range orphans {
		delete(g.clusters, seq)
	}
	return nil
}

// partitionOf returns the clusters of g as sorted lists of
// "source:local".
func (g *memGraph) partitionOf() [][]string {
	var out [][]string
	for _, c := range g.clusters {
		out = append(out, shown(c.members))
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func shown(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = displayKey(k)
	}
	return out
}

func groupsOf(groups []*group) [][]string {
	out := make([][]string, len(groups))
	for i, g := range groups {
		out[i] = shown(g.members)
	}
	return out
}

func singleGroups(g *memGraph, keys ...string) []*group {
	var out []*group
	for _, k := range keys {
		grp := &group{}
		grp.add(rk(k), g.profs[rk(k)])
		out = append(out, grp)
	}
	return out
}

var kieuProf = func() *profile { return cprof(2015, "truyen kieu") }

func TestMergeOverEdges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profs   map[string]*profile
		edges   []newEdge
		want    [][]string
		refused []string
	}{
		{
			name:  "edges join a chain",
			profs: map[string]*profile{"tinh:1": kieuProf(), "vinh:1": kieuProf(), "xa:1": kieuProf()},
			edges: []newEdge{edge("tinh:1", "vinh:1", 2), edge("vinh:1", "xa:1", 2)},
			want:  [][]string{{"tinh:1", "vinh:1", "xa:1"}},
		},
		{
			name:  "no edge, no cluster",
			profs: map[string]*profile{"tinh:1": kieuProf(), "vinh:1": kieuProf()},
			want:  [][]string{{"tinh:1"}, {"vinh:1"}},
		},
		{
			// xa:1 has no year: it matches both, which differ by year.
			// The ISBN edge is merged first, the title edge refused.
			name:    "strongest first, a veto refuses the weaker",
			profs:   map[string]*profile{"tinh:1": cprof(2000, "truyen kieu"), "vinh:1": cprof(2001, "truyen kieu"), "xa:1": cprof(0, "truyen kieu")},
			edges:   []newEdge{edge("tinh:1", "xa:1", 2), edge("vinh:1", "xa:1", 0)},
			want:    [][]string{{"tinh:1"}, {"vinh:1", "xa:1"}},
			refused: []string{"tinh:1", "xa:1"},
		},
		{
			name:    "strongest first, whatever the order given",
			profs:   map[string]*profile{"tinh:1": cprof(2000, "truyen kieu"), "vinh:1": cprof(2001, "truyen kieu"), "xa:1": cprof(0, "truyen kieu")},
			edges:   []newEdge{edge("vinh:1", "xa:1", 0), edge("tinh:1", "xa:1", 2)},
			want:    [][]string{{"tinh:1"}, {"vinh:1", "xa:1"}},
			refused: []string{"tinh:1", "xa:1"},
		},
		{
			name:    "two records of one source need a shared identifier",
			profs:   map[string]*profile{"tinh:1": kieuProf(), "tinh:2": kieuProf()},
			edges:   []newEdge{edge("tinh:1", "tinh:2", 2)},
			want:    [][]string{{"tinh:1"}, {"tinh:2"}},
			refused: []string{"tinh:1", "tinh:2"},
		},
		{
			name:  "two records of one source sharing one merge",
			profs: map[string]*profile{"tinh:1": cprof(2015, "truyen kieu", "9786042123457"), "tinh:2": cprof(2015, "truyen kieu", "9786042123457")},
			edges: []newEdge{edge("tinh:1", "tinh:2", 0)},
			want:  [][]string{{"tinh:1", "tinh:2"}},
		},
		{
			// vinh:1 joins through xa:1; tinh:2 would bring a second
			// record of tinh without an identifier tinh:1 has.
			name: "a source's records in a group share an identifier",
			profs: map[string]*profile{"tinh:1": cprof(2015, "truyen kieu", "9786042123457"), "xa:1": cprof(2015, "truyen kieu", "9786042123457"),
				"tinh:2": kieuProf()},
			edges:   []newEdge{edge("tinh:1", "xa:1", 0), edge("tinh:2", "xa:1", 2)},
			want:    [][]string{{"tinh:1", "xa:1"}, {"tinh:2"}},
			refused: []string{"tinh:2", "xa:1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newMemGraph(tc.profs)
			keys := make([]string, 0, len(tc.profs))
			for k := range tc.profs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			out, refused := mergeOverEdges(singleGroups(g, keys...), tc.edges)
			if got := groupsOf(out); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("clusters %q, want %q", got, tc.want)
			}
			if got := shown(refused); len(got)+len(tc.refused) > 0 && !reflect.DeepEqual(got, tc.refused) {
				t.Errorf("refused %q, want %q", got, tc.refused)
			}
		})
	}
}

func TestClaimIDs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		olds    [][]string // per old cluster, seq 1, 2, ...: master first
		groups  [][]string
		claims  [][]uint64
		orphans []uint64
	}{
		{"a merge keeps the oldest id", [][]string{{"a:1"}, {"b:1"}}, [][]string{{"a:1", "b:1"}}, [][]uint64{{1, 2}}, nil},
		{"a merge keeps the oldest, whatever the master", [][]string{{"b:1"}, {"a:1"}}, [][]string{{"a:1", "b:1"}}, [][]uint64{{1, 2}}, nil},
		{"a split: the part with the master keeps the id", [][]string{{"b:1", "a:1", "c:1"}}, [][]string{{"a:1"}, {"b:1", "c:1"}}, [][]uint64{nil, {1}}, nil},
		{"the master gone: the part with most members", [][]string{{"x:1", "a:1", "b:1", "c:1"}}, [][]string{{"a:1"}, {"b:1", "c:1"}}, [][]uint64{nil, {1}}, nil},
		{"the master gone, a tie: the first part", [][]string{{"x:1", "a:1", "b:1"}}, [][]string{{"a:1"}, {"b:1"}}, [][]uint64{{1}, nil}, nil},
		{"every member gone: deleted", [][]string{{"x:1"}, {"a:1"}}, [][]string{{"a:1"}}, [][]uint64{{2}}, []uint64{1}},
		{"a new cluster: no claim", nil, [][]string{{"a:1"}}, [][]uint64{nil}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			olds := map[uint64]*oldCluster{}
			for i, ms := range tc.olds {
				seq := uint64(i + 1)
				members := rks(ms...)
				master := members[0]
				sort.Strings(members)
				olds[seq] = &oldCluster{seq: seq, master: master, members: members}
			}
			var groups []*group
			for _, ms := range tc.groups {
				groups = append(groups, &group{members: rks(ms...)})
			}
			claims, orphans := claimIDs(groups, olds)
			if !reflect.DeepEqual(claims, tc.claims) || !reflect.DeepEqual(orphans, tc.orphans) {
				t.Errorf("claims %v, orphans %v; want %v, %v", claims, orphans, tc.claims, tc.orphans)
			}
		})
	}
}

func TestPickMaster(t *testing.T) {
	type rank struct{ score, prio int }
	for _, tc := range []struct {
		name  string
		ranks map[string]rank
		want  string
	}{
		{"the most complete", map[string]rank{"a": {1000, 3}, "b": {1050, 1}}, "b"},
		{"then the source of highest priority", map[string]rank{"a": {1000, 1}, "b": {1000, 3}}, "b"},
		{"then the first", map[string]rank{"a": {1000, 2}, "b": {1000, 2}}, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			members := make([]string, 0, len(tc.ranks))
			for k := range tc.ranks {
				members = append(members, k)
			}
			sort.Strings(members)
			got, err := pickMaster(members, func(k string) (int, int, error) { return tc.ranks[k].score, tc.ranks[k].prio, nil })
			if err != nil || got != tc.want {
				t.Errorf("master %q (%v), want %q", got, err, tc.want)
			}
		})
	}
}

// shownRound is a round as the clusterer test compares it.
type shownRound struct {
	Groups [][]string
	Olds   []uint64
	Left   []string
}

func TestClusterer(t *testing.T) {
	for _, tc := range []struct {
		name     string
		profs    map[string]*profile
		clusters [][]string // stored, seq 1, 2, ...: master first
		edges    []newEdge  // stored, those of the batch among them
		seeds    []string
		removed  bool
		newEdges []newEdge
		want     []shownRound
	}{
		{
			name:     "a new record joins a cluster",
			profs:    map[string]*profile{"tinh:1": kieuProf(), "vinh:1": kieuProf(), "xa:1": kieuProf()},
			clusters: [][]string{{"tinh:1", "vinh:1"}},
			edges:    []newEdge{edge("tinh:1", "vinh:1", 2), edge("xa:1", "tinh:1", 2)},
			seeds:    []string{"tinh:1", "xa:1"}, // a new edge's ends
			newEdges: []newEdge{edge("xa:1", "tinh:1", 2)},
			want:     []shownRound{{Groups: [][]string{{"tinh:1", "vinh:1", "xa:1"}}, Olds: []uint64{1}}},
		},
		{
			name:     "new records without edges stay alone",
			profs:    map[string]*profile{"tinh:1": kieuProf(), "vinh:1": kieuProf()},
			seeds:    []string{"tinh:1", "vinh:1"},
			newEdges: nil,
			want:     []shownRound{{Groups: [][]string{{"tinh:1"}, {"vinh:1"}}}},
		},
		{
			// A cluster holds tinh:1 and xa:1 (no year) by title; vinh:1
			// (another year) comes with an ISBN match to xa:1, and the
			// merge is refused. Made again whole, as a rebuild makes it,
			// the ISBN edge wins and tinh:1 stands alone.
			name:     "a refused merge makes the component again whole",
			profs:    map[string]*profile{"tinh:1": cprof(2000, "truyen kieu"), "xa:1": cprof(0, "truyen kieu"), "vinh:1": cprof(2001, "truyen kieu")},
			clusters: [][]string{{"tinh:1", "xa:1"}},
			edges:    []newEdge{edge("tinh:1", "xa:1", 2), edge("vinh:1", "xa:1", 0)},
			seeds:    []string{"vinh:1", "xa:1"},
			newEdges: []newEdge{edge("vinh:1", "xa:1", 0)},
			want:     []shownRound{{Groups: [][]string{{"tinh:1"}, {"vinh:1", "xa:1"}}, Olds: []uint64{1}}},
		},
		{
			name: "seeds outside a refused component stay additive",
			profs: map[string]*profile{"tinh:1": cprof(2000, "truyen kieu"), "xa:1": cprof(0, "truyen kieu"), "vinh:1": cprof(2001, "truyen kieu"),
				"tinh:2": cprof(1990, "luc van tien"), "vinh:2": cprof(1990, "luc van tien")},
			clusters: [][]string{{"tinh:1", "xa:1"}, {"tinh:2"}},
			edges:    []newEdge{edge("tinh:1", "xa:1", 2), edge("vinh:1", "xa:1", 0), edge("vinh:2", "tinh:2", 2)},
			seeds:    []string{"tinh:2", "vinh:1", "vinh:2", "xa:1"},
			newEdges: []newEdge{edge("vinh:1", "xa:1", 0), edge("vinh:2", "tinh:2", 2)},
			want: []shownRound{
				{Groups: [][]string{{"tinh:1"}, {"vinh:1", "xa:1"}}, Olds: []uint64{1}},
				{Groups: [][]string{{"tinh:2", "vinh:2"}}, Olds: []uint64{2}},
			},
		},
		{
			// vinh:1 held the cluster together; it is deleted.
			name:     "a removal makes the cluster again from its edges",
			profs:    map[string]*profile{"tinh:1": kieuProf(), "xa:1": kieuProf()},
			clusters: [][]string{{"vinh:1", "tinh:1", "xa:1"}},
			edges:    []newEdge{edge("tinh:1", "vinh:1", 2), edge("vinh:1", "xa:1", 2)},
			seeds:    []string{"tinh:1", "vinh:1", "xa:1"},
			removed:  true,
			want:     []shownRound{{Groups: [][]string{{"tinh:1"}, {"xa:1"}}, Olds: []uint64{1}, Left: []string{"vinh:1"}}},
		},
		{
			name:     "a removal follows the edges out of the cluster",
			profs:    map[string]*profile{"tinh:1": kieuProf(), "xa:1": kieuProf(), "xa2:1": kieuProf()},
			clusters: [][]string{{"tinh:1", "xa:1"}, {"xa2:1"}},
			edges:    []newEdge{edge("tinh:1", "xa:1", 2), edge("xa:1", "xa2:1", 2)},
			seeds:    []string{"tinh:1"},
			removed:  true,
			want:     []shownRound{{Groups: [][]string{{"tinh:1", "xa:1", "xa2:1"}}, Olds: []uint64{1, 2}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newMemGraph(tc.profs, tc.edges...)
			for i, ms := range tc.clusters {
				g.addCluster(uint64(i+1), ms...)
			}
			var got []shownRound
			c := clusterer{g: g, emit: func(r *round) error {
				sr := shownRound{Groups: groupsOf(r.groups), Left: shown(r.left())}
				for seq := range r.olds {
					sr.Olds = append(sr.Olds, seq)
				}
				slices.Sort(sr.Olds)
				if len(sr.Left) == 0 {
					sr.Left = nil
				}
				got = append(got, sr)
				return g.apply(r)
			}}
			if err := c.recluster(rks(tc.seeds...), tc.removed, tc.newEdges); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rounds\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

// TestClustererOrderIndependent: records brought one batch at a time, in
// every order, end in the clusters made of all their edges at once.
func TestClustererOrderIndependent(t *testing.T) {
	profs := map[string]*profile{
		"tinh:1": cprof(2000, "truyen kieu"), "vinh:1": cprof(2001, "truyen kieu"), "xa:1": cprof(0, "truyen kieu"),
		"xa2:1": cprof(0, "truyen kieu"), "tinh:2": cprof(2000, "truyen kieu", "9786042123457"),
	}
	edges := []newEdge{
		edge("tinh:1", "xa:1", 2), edge("vinh:1", "xa:1", 0), edge("xa2:1", "tinh:1", 2),
		edge("xa2:1", "vinh:1", 2), edge("tinh:2", "tinh:1", 2), edge("tinh:2", "xa2:1", 2),
	}
	var keys []string
	for k := range profs {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	all := newMemGraph(profs, edges...)
	c := clusterer{g: all, emit: all.apply}
	if err := c.recluster(rks(keys...), true, nil); err != nil {
		t.Fatal(err)
	}
	want := all.partitionOf()

	for _, order := range permutations(keys) {
		g := newMemGraph(nil)
		c := clusterer{g: g, emit: g.apply}
		for _, k := range order {
			g.profs[rk(k)] = profs[k]
			var batch []newEdge
			for _, e := range edges {
				if e.a == rk(k) && g.profs[e.b] != nil || e.b == rk(k) && g.profs[e.a] != nil {
					batch = append(batch, e)
				}
			}
			g.stored = append(g.stored, batch...)
			seeds := map[string]bool{rk(k): true}
			for _, e := range batch {
				seeds[e.a], seeds[e.b] = true, true
			}
			if err := c.recluster(sortedKeys(seeds), false, batch); err != nil {
				t.Fatal(err)
			}
		}
		if got := g.partitionOf(); !reflect.DeepEqual(got, want) {
			t.Errorf("arriving in the order %v: %q, want %q", order, got, want)
		}
	}
}

func permutations(s []string) [][]string {
	if len(s) <= 1 {
		return [][]string{slices.Clone(s)}
	}
	var out [][]string
	for i := range s {
		rest := append(slices.Clone(s[:i]), s[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{s[i]}, p...))
		}
	}
	return out
}

func (r shownRound) String() string {
	return fmt.Sprintf("%q olds %v left %q", r.Groups, r.Olds, r.Left)
}

package dedup

import (
	"encoding/binary"
	"slices"
	"sort"
	"strings"

	"go.etcd.io/bbolt"
)

// maxComponent bounds the records a component gathers over edges (the
// members of the clusters it reaches always come): past it, no further
// edge is followed.
const maxComponent = 20000

// storedCluster returns the master and members of cluster seq, as its
// union value holds them. A cluster not stored, or deleted, has no
// members.
func storedCluster(unions *bbolt.Bucket, seq uint64) (master string, members []string, err error) {
	id := unionID(seq)
	if v := unions.Get([]byte(id)); len(v) > 0 {
		return decodeCluster(id, v)
	}
	return "", nil, nil
}

// oldCluster is a cluster as stored before this commit.
type oldCluster struct {
	seq     uint64
	master  string
	members []string
}

// newEdge is an edge found in this batch, for the additive path.
type newEdge struct {
	a, b     string
	strength int
}

// loadOld returns the stored cluster of record k (nil when it has none),
// reading each cluster once.
func (st *state) loadOld(k string, olds map[uint64]*oldCluster, oldSeqOf map[string]uint64) (*oldCluster, bool, error) {
	v := st.members.Get([]byte(k))
	if len(v) != 8 {
		return nil, false, nil
	}
	seq := binary.BigEndian.Uint64(v)
	oldSeqOf[k] = seq
	if oc := olds[seq]; oc != nil {
		return oc, false, nil
	}
	oc := &oldCluster{seq: seq}
	var err error
	if oc.master, oc.members, err = storedCluster(st.unions, seq); err != nil {
		return nil, false, err
	}
	olds[seq] = oc
	return oc, true, nil
}

// recluster recomputes the clusters around st.seeds. When the batch only
// added records or edges (the common case of a harvest), the old
// clusters stand and only the new edges can join them: each old cluster
// is taken as a whole and the new edges are applied to them. Otherwise
// (a record deleted, or changed so that its edges were recomputed) the
// clusters are rebuilt from the edges over the whole affected component:
// the seeds' old clusters, everything reachable over edges, and the
// clusters of all those records.
//
// The clusters must not depend on the order records arrived in: a
// rebuild (Init, dedup --rebuild) makes them from every edge at once,
// strongest first. Merging over edges gives one partition whatever the
// order until a merge is refused (a veto, two records of one source):
// then which records end together depends on which edges came first. So
// a component where the additive path refuses a merge is made again from
// its edges, as a rebuild makes it (reclusterAdditive).
func (st *state) recluster() error {
	if len(st.seeds) == 0 {
		return nil
	}
	if st.removed {
		return st.reclusterWhole(sortedKeys(st.seeds))
	}
	return st.reclusterAdditive(sortedKeys(st.seeds))
}

// reclusterAdditive is the additive path of recluster over seeds: old
// clusters as groups, new records alone, the batch's new edges. The
// components where a merge is refused are made again whole.
func (st *state) reclusterAdditive(seeds []string) error {
	olds := map[uint64]*oldCluster{}
	oldSeqOf := map[string]uint64{}
	nodes := map[string]bool{}
	var groups []*group
	for _, k := range seeds {
		if nodes[k] {
			continue
		}
		oc, _, err := st.loadOld(k, olds, oldSeqOf)
		if err != nil {
			return err
		}
		members := []string{k}
		if oc != nil && len(oc.members) > 0 {
			members = oc.members
		}
		g := &group{}
		for _, m := range members {
			nodes[m] = true
			if err := st.addToGroup(g, m); err != nil {
				return err
			}
		}
		if len(g.members) > 0 {
			groups = append(groups, g)
		}
	}
	parts, refused := st.partition(groups, st.newEdges)
	if len(refused) == 0 {
		return st.assign(parts, olds, oldSeqOf, nodes)
	}
	// The components of the refused merges, closed over edges and old
	// clusters, are made whole; the seeds outside them stay additive
	// (a group outside touches no record inside: it would be inside).
	whole := map[string]bool{}
	if _, _, err := st.component(refused, whole, map[uint64]*oldCluster{}, map[string]uint64{}); err != nil {
		return err
	}
	if len(whole) >= maxComponent {
		return st.reclusterWhole(seeds) // cut short: no telling what is outside
	}
	var rest []string
	for _, k := range seeds {
		if !whole[k] {
			rest = append(rest, k)
		}
	}
	if err := st.reclusterWhole(refused); err != nil {
		return err
	}
	if len(rest) == 0 {
		return nil
	}
	return st.reclusterAdditive(rest)
}

// reclusterWhole rebuilds the clusters of the component of seeds from its
// edges.
func (st *state) reclusterWhole(seeds []string) error {
	olds := map[uint64]*oldCluster{}
	oldSeqOf := map[string]uint64{}
	nodes := map[string]bool{}
	groups, edges, err := st.component(seeds, nodes, olds, oldSeqOf)
	if err != nil {
		return err
	}
	parts, _ := st.partition(groups, edges)
	return st.assign(parts, olds, oldSeqOf, nodes)
}

// component collects the records whose clusters a removal may change:
// the seeds closed over old clusters and edges. It returns them as
// singleton groups, with the edges among them.
func (st *state) component(seeds []string, nodes map[string]bool, olds map[uint64]*oldCluster, oldSeqOf map[string]uint64) ([]*group, []newEdge, error) {
	var queue []string
	add := func(k string) {
		if !nodes[k] {
			nodes[k] = true
			queue = append(queue, k)
		}
	}
	for _, k := range seeds {
		add(k)
	}
	edgesOf := map[string][]edgeRef{}
	for len(queue) > 0 {
		k := queue[0]
		queue = queue[1:]
		oc, first, err := st.loadOld(k, olds, oldSeqOf)
		if err != nil {
			return nil, nil, err
		}
		if oc != nil && first {
			for _, m := range oc.members {
				add(m)
			}
		}
		p, err := st.profile(k)
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			continue
		}
		var refs []edgeRef
		err = forEdges(st.edges, p.ord, func(o uint32, v []byte) error {
			strength, err := edgeStrength(p.ord, o, v)
			if err != nil {
				return err
			}
			other := st.cands.nameOf(o)
			if other == "" {
				return nil // a record gone (its edges go with it)
			}
			refs = append(refs, edgeRef{other: other, ord: o, strength: strength})
			if len(nodes) < maxComponent {
				add(other)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		edgesOf[k] = refs
	}
	var groups []*group
	var edges []newEdge
	for _, a := range sortedKeys(nodes) {
		p, err := st.profile(a)
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			continue
		}
		g := &group{}
		if err := st.addToGroup(g, a); err != nil {
			return nil, nil, err
		}
		groups = append(groups, g)
		for _, e := range edgesOf[a] {
			if e.other <= a || !nodes[e.other] {
				continue
			}
			if q, _ := st.profile(e.other); q == nil {
				continue
			}
			edges = append(edges, newEdge{a, e.other, e.strength})
		}
	}
	return groups, edges, nil
}

// edgeRef is one end of an edge: its record and ordinal, and the match's
// rule (when just found) or strength (when read back).
type edgeRef struct {
	other    string
	ord      uint32
	rule     string
	strength int
}

// group is a set of records on its way to be a cluster. Merge checks
// use summaries, not every pair of members, so that a large cluster stays
// cheap to grow: one profile per distinct veto signature (copies of one
// record compare alike), and per source the identifiers all its members
// share.
type group struct {
	members []string
	vreps   map[[16]byte]*profile
	sources map[string]*sourceSummary
}

type sourceSummary struct {
	common []string // identifiers ("i" ISBN, "n" other) every member from the source has
	rep    *profile // one member, for the title check
}

func strongIDs(p *profile) []string {
	out := make([]string, 0, len(p.isbns)+len(p.ids))
	for _, n := range p.isbns {
		out = append(out, "i"+n)
	}
	for _, id := range p.ids {
		out = append(out, "n"+id)
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}

func (st *state) addToGroup(g *group, k string) error {
	p, err := st.profile(k)
	if err != nil {
		return err
	}
	if p == nil {
		return nil // gone from the store
	}
	if g.vreps == nil {
		g.vreps = map[[16]byte]*profile{}
		g.sources = map[string]*sourceSummary{}
	}
	g.members = append(g.members, k)
	g.vreps[p.vsig] = p
	src := sourceOf(k)
	if ss := g.sources[src]; ss != nil {
		ss.common = intersect(ss.common, p.strong)
	} else {
		g.sources[src] = &sourceSummary{common: p.strong, rep: p}
	}
	return nil
}

// compatible reports whether two groups may form one cluster: no veto
// between their records, and records of one source only together when
// they share an identifier and agree on the title (see match).
func compatible(a, b *group) bool {
	for src, sa := range a.sources {
		if sb := b.sources[src]; sb != nil {
			if !intersects(sa.common, sb.common) || !titlesAgree(sa.rep, sb.rep) {
				return false
			}
		}
	}
	for _, pa := range a.vreps {
		for _, pb := range b.vreps {
			if veto(pa, pb) != "" {
				return false
			}
		}
	}
	return true
}

// merge moves b's records into a.
func (a *group) merge(b *group) {
	a.members = append(a.members, b.members...)
	for k, p := range b.vreps {
		a.vreps[k] = p
	}
	for src, sb := range b.sources {
		if sa := a.sources[src]; sa != nil {
			sa.common = intersect(sa.common, sb.common)
		} else {
			a.sources[src] = sb
		}
	}
	b.members, b.vreps, b.sources = nil, nil, nil
}

// partition merges groups over edges, strongest rules first, refusing a
// merge that compatible forbids. The result is sorted by first member;
// refused lists the ends of the edges whose merge was refused.
func (st *state) partition(groups []*group, edges []newEdge) (out []*group, refused []string) {
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].strength != edges[j].strength {
			return edges[i].strength < edges[j].strength
		}
		if edges[i].a != edges[j].a {
			return edges[i].a < edges[j].a
		}
		return edges[i].b < edges[j].b
	})
	owner := map[string]*group{}
	for _, g := range groups {
		for _, k := range g.members {
			owner[k] = g
		}
	}
	for _, e := range edges {
		ga, gb := owner[e.a], owner[e.b]
		if ga == nil || gb == nil || ga == gb {
			continue
		}
		if !compatible(ga, gb) {
			refused = append(refused, e.a, e.b)
			continue
		}
		if len(ga.members) < len(gb.members) {
			ga, gb = gb, ga
		}
		for _, k := range gb.members {
			owner[k] = ga
		}
		ga.merge(gb)
	}
	out = groups[:0]
	for _, g := range groups {
		if len(g.members) > 0 {
			sort.Strings(g.members)
			out = append(out, g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].members[0] < out[j].members[0] })
	return out, refused
}

// assign gives the groups union ids and stores them. Each old id claims
// the group holding its old master (or, the master gone, most of its old
// members); a group claimed by several keeps the oldest id and the others
// become its aliases; an old id left without a group is deleted.
func (st *state) assign(groups []*group, olds map[uint64]*oldCluster, oldSeqOf map[string]uint64, nodes map[string]bool) error {
	groupIdx := map[string]int{}
	for i, g := range groups {
		for _, k := range g.members {
			groupIdx[k] = i
		}
	}
	claims := make([][]uint64, len(groups))
	var oldSeqs []uint64
	for seq := range olds {
		oldSeqs = append(oldSeqs, seq)
	}
	sort.Slice(oldSeqs, func(i, j int) bool { return oldSeqs[i] < oldSeqs[j] })
	orphan := map[uint64]bool{}
	for _, seq := range oldSeqs {
		oc := olds[seq]
		gi := -1
		if i, ok := groupIdx[oc.master]; ok {
			gi = i
		} else {
			count := map[int]int{}
			for _, m := range oc.members {
				if i, ok := groupIdx[m]; ok {
					count[i]++
					if gi < 0 || count[i] > count[gi] || count[i] == count[gi] && i < gi {
						gi = i
					}
				}
			}
		}
		if gi < 0 {
			orphan[seq] = true
			continue
		}
		claims[gi] = append(claims[gi], seq)
	}
	for gi, g := range groups {
		var seq uint64
		if len(claims[gi]) > 0 {
			seq = claims[gi][0] // oldSeqs were visited in order
			for _, other := range claims[gi][1:] {
				if err := st.retire(other, unionID(seq)); err != nil {
					return err
				}
			}
		} else {
			var err error
			if seq, err = st.nextSeq(); err != nil {
				return err
			}
		}
		if err := st.writeCluster(seq, g.members, olds[seq], oldSeqOf); err != nil {
			return err
		}
	}
	for _, seq := range oldSeqs {
		if orphan[seq] {
			if err := st.retire(seq, ""); err != nil {
				return err
			}
		}
	}
	if err := st.flushMembers(); err != nil {
		return err
	}
	if err := st.buildUnions(); err != nil {
		return err
	}
	// Records gone from the store leave their cluster.
	for k := range nodes {
		if _, ok := groupIdx[k]; !ok {
			if _, had := oldSeqOf[k]; had {
				if err := st.members.Delete([]byte(k)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// master picks the most complete member: score, then source priority,
// then the smallest key.
func (st *state) master(members []string) (string, error) {
	best, bestScore, bestPrio := "", -1, 0
	for _, k := range members {
		p, err := st.profile(k)
		if err != nil {
			return "", err
		}
		prio := st.source(sourceOf(k)).Priority
		if p.score > bestScore || p.score == bestScore && prio > bestPrio {
			best, bestScore, bestPrio = k, p.score, prio
		}
	}
	return best, nil
}

// writeCluster points the members of cluster seq at it and queues its
// union record, which holds the cluster, for rebuilding when the cluster
// changed or anything it serves may have.
func (st *state) writeCluster(seq uint64, members []string, old *oldCluster, oldSeqOf map[string]uint64) error {
	master, err := st.master(members)
	if err != nil {
		return err
	}
	same := old != nil && old.master == master && equalStrs(old.members, members)
	if !same {
		for _, k := range members {
			if oldSeqOf[k] != seq {
				st.memberPuts = append(st.memberPuts, memberPut{k, seq})
			}
		}
	}
	if same {
		dirty := false
		for _, k := range members {
			if st.touched[k] {
				dirty = true
				break
			}
		}
		if !dirty {
			return nil
		}
	}
	st.jobs = append(st.jobs, unionJob{seq, master, members})
	return nil
}

// memberPut is a write of the members bucket, queued.
type memberPut struct {
	key string
	seq uint64
}

// flushMembers writes the queued member puts in key order: the groups
// come in the order of their first members, whose other members are all
// over the bucket, and a B+tree written in order rewrites each page it
// touches once, in one pass.
func (st *state) flushMembers() error {
	slices.SortFunc(st.memberPuts, func(a, b memberPut) int { return strings.Compare(a.key, b.key) })
	for _, m := range st.memberPuts {
		if err := st.members.Put([]byte(m.key), seqKey(m.seq)); err != nil {
			return err
		}
	}
	st.memberPuts = st.memberPuts[:0]
	return nil
}

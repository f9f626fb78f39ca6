package dedup

import (
	"sort"
)

// Clustering: which records form a cluster, decided from the records'
// profiles and the edges between them. Nothing here reads or writes
// storage: what is stored is read through a graph (recluster.go reads it
// from the batch's transaction, cluster_test.go from maps), and each part
// settled is handed over as a round, which recluster.go gives union ids
// (claimIDs) and writes, in order.

// maxComponent bounds the records a component gathers over edges (the
// members of the clusters it reaches always come): past it, no further
// edge is followed.
const maxComponent = 20000

// graph is what clustering reads: the clusters as they were before the
// batch, the records' profiles and the edges between records.
type graph interface {
	// clusterOf returns the sequence number of the cluster record k was
	// in; false when it was in none.
	clusterOf(k string) (seq uint64, ok bool)
	// cluster returns the master and members of cluster seq; none when
	// it is not stored, or deleted.
	cluster(seq uint64) (master string, members []string, err error)
	// profile returns the profile of record k, nil when it is gone.
	profile(k string) (*profile, error)
	// edges returns the edges of record k, whose profile is p, to records
	// still stored, with their rules' strengths.
	edges(k string, p *profile) ([]edgeRef, error)
}

// oldCluster is a cluster as stored before this commit.
type oldCluster struct {
	seq     uint64
	master  string
	members []string
}

// newEdge is an edge between two records, found in this batch or read
// back, with its rule's strength (ruleStrength).
type newEdge struct {
	a, b     string
	strength int
}

// edgeRef is one end of an edge: its record and ordinal, and the match's
// rule (when just found) or strength (when read back).
type edgeRef struct {
	other    string
	ord      uint32
	rule     string
	strength int
}

// round is a part of the records settled into clusters: the groups, and
// what their records were in before, from which their union ids follow
// (claimIDs).
type round struct {
	groups   []*group               // the clusters, sorted by first member
	olds     map[uint64]*oldCluster // the clusters the records were in
	oldSeqOf map[string]uint64      // the cluster each record was in
	nodes    map[string]bool        // every record looked at, gone ones too
}

func newRound() *round {
	return &round{olds: map[uint64]*oldCluster{}, oldSeqOf: map[string]uint64{}, nodes: map[string]bool{}}
}

// loadOld returns the cluster record k was in (nil when none), reading
// each cluster once; first says whether this call read it.
func (r *round) loadOld(g graph, k string) (oc *oldCluster, first bool, err error) {
	seq, ok := g.clusterOf(k)
	if !ok {
		return nil, false, nil
	}
	r.oldSeqOf[k] = seq
	if oc := r.olds[seq]; oc != nil {
		return oc, false, nil
	}
	oc = &oldCluster{seq: seq}
	if oc.master, oc.members, err = g.cluster(seq); err != nil {
		return nil, false, err
	}
	r.olds[seq] = oc
	return oc, true, nil
}

// left returns, sorted, the records that were in a cluster and are in
// none now: gone from the store.
func (r *round) left() []string {
	in := map[string]bool{}
	for _, g := range r.groups {
		for _, k := range g.members {
			in[k] = true
		}
	}
	var out []string
	for k := range r.nodes {
		if _, had := r.oldSeqOf[k]; had && !in[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// clusterer makes the clusters around a batch's records again, reading
// g, and hands each round to emit as it is settled: a later round may
// read what an earlier one's emit wrote.
type clusterer struct {
	g    graph
	emit func(*round) error
}

// recluster makes the clusters around seeds (sorted record keys) again.
// When the batch only added records or edges (the common case of a
// harvest), the old clusters stand and only the new edges can join them:
// each old cluster is taken as a whole and the new edges are applied to
// them. Otherwise (removed: a record deleted, or changed so that its
// edges were recomputed) the clusters are made again from the edges over
// the whole affected component: the seeds' old clusters, everything
// reachable over edges, and the clusters of all those records.
//
// The clusters must not depend on the order records arrived in: a
// rebuild (Init, dedup --rebuild) makes them from every edge at once,
// strongest first. Merging over edges gives one partition whatever the
// order until a merge is refused (a veto, two records of one source):
// then which records end together depends on which edges came first. So
// a component where the additive path refuses a merge is made again from
// its edges, as a rebuild makes it (additive).
func (c *clusterer) recluster(seeds []string, removed bool, newEdges []newEdge) error {
	if removed {
		return c.whole(seeds)
	}
	return c.additive(seeds, newEdges)
}

// additive is the additive path of recluster over seeds: old clusters as
// groups, new records alone, the batch's new edges. The components where
// a merge is refused are made again whole.
func (c *clusterer) additive(seeds []string, newEdges []newEdge) error {
	r := newRound()
	var groups []*group
	for _, k := range seeds {
		if r.nodes[k] {
			continue
		}
		oc, _, err := r.loadOld(c.g, k)
		if err != nil {
			return err
		}
		members := []string{k}
		if oc != nil && len(oc.members) > 0 {
			members = oc.members
		}
		g := &group{}
		for _, m := range members {
			r.nodes[m] = true
			if err := c.addTo(g, m); err != nil {
				return err
			}
		}
		if len(g.members) > 0 {
			groups = append(groups, g)
		}
	}
	var refused []string
	if r.groups, refused = mergeOverEdges(groups, newEdges); len(refused) == 0 {
		return c.emit(r)
	}
	// The components of the refused merges, closed over edges and old
	// clusters, are made whole; the seeds outside them stay additive
	// (a group outside touches no record inside: it would be inside).
	whole := newRound()
	if _, _, err := c.component(refused, whole); err != nil {
		return err
	}
	if len(whole.nodes) >= maxComponent {
		return c.whole(seeds) // cut short: no telling what is outside
	}
	var rest []string
	for _, k := range seeds {
		if !whole.nodes[k] {
			rest = append(rest, k)
		}
	}
	if err := c.whole(refused); err != nil {
		return err
	}
	if len(rest) == 0 {
		return nil
	}
	return c.additive(rest, newEdges)
}

// whole makes the clusters of the component of seeds again from its
// edges.
func (c *clusterer) whole(seeds []string) error {
	r := newRound()
	groups, edges, err := c.component(seeds, r)
	if err != nil {
		return err
	}
	r.groups, _ = mergeOverEdges(groups, edges)
	return c.emit(r)
}

// component collects into r the records whose clusters a removal may
// change: the seeds closed over old clusters and edges. It returns the
// live ones as groups of one, with the edges among them.
func (c *clusterer) component(seeds []string, r *round) ([]*group, []newEdge, error) {
	var queue []string
	add := func(k string) {
		if !r.nodes[k] {
			r.nodes[k] = true
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
		oc, first, err := r.loadOld(c.g, k)
		if err != nil {
			return nil, nil, err
		}
		if oc != nil && first {
			for _, m := range oc.members {
				add(m)
			}
		}
		p, err := c.g.profile(k)
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			continue
		}
		refs, err := c.g.edges(k, p)
		if err != nil {
			return nil, nil, err
		}
		for _, e := range refs {
			if len(r.nodes) < maxComponent {
				add(e.other)
			}
		}
		edgesOf[k] = refs
	}
	return c.singletons(r.nodes, edgesOf)
}

// singletons returns the live records of nodes as groups of one, in key
// order, and the edges among them, each once.
func (c *clusterer) singletons(nodes map[string]bool, edgesOf map[string][]edgeRef) ([]*group, []newEdge, error) {
	var groups []*group
	var edges []newEdge
	for _, a := range sortedKeys(nodes) {
		p, err := c.g.profile(a)
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			continue
		}
		g := &group{}
		g.add(a, p)
		groups = append(groups, g)
		for _, e := range edgesOf[a] {
			if e.other <= a || !nodes[e.other] {
				continue
			}
			if q, _ := c.g.profile(e.other); q == nil {
				continue
			}
			edges = append(edges, newEdge{a, e.other, e.strength})
		}
	}
	return groups, edges, nil
}

// addTo adds record k to g, unless it is gone from the store.
func (c *clusterer) addTo(g *group, k string) error {
	p, err := c.g.profile(k)
	if err != nil || p == nil {
		return err
	}
	g.add(k, p)
	return nil
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

// add puts record k, whose profile is p, into g.
func (g *group) add(k string, p *profile) {
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

// mergeOverEdges merges groups over edges (sorted in place), strongest
// rules first, refusing a merge that compatible forbids. The result is
// sorted by first member; refused lists the ends of the edges whose
// merge was refused.
func mergeOverEdges(groups []*group, edges []newEdge) (out []*group, refused []string) {
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

// claimIDs decides which union ids groups get, from the clusters olds
// their records were in. Each old cluster, oldest first, claims the group
// holding its old master or, the master gone, most of its old members
// (the first such group on a tie); claims[i] lists the claims on group i,
// oldest first: the group keeps the first id, and the others become its
// aliases; a group nobody claims gets a new id. The old clusters that
// claim no group are orphans, to be deleted, oldest first.
func claimIDs(groups []*group, olds map[uint64]*oldCluster) (claims [][]uint64, orphans []uint64) {
	groupIdx := map[string]int{}
	for i, g := range groups {
		for _, k := range g.members {
			groupIdx[k] = i
		}
	}
	claims = make([][]uint64, len(groups))
	oldSeqs := make([]uint64, 0, len(olds))
	for seq := range olds {
		oldSeqs = append(oldSeqs, seq)
	}
	sort.Slice(oldSeqs, func(i, j int) bool { return oldSeqs[i] < oldSeqs[j] })
	for _, seq := range oldSeqs {
		if gi := claimant(olds[seq], groupIdx); gi >= 0 {
			claims[gi] = append(claims[gi], seq)
		} else {
			orphans = append(orphans, seq)
		}
	}
	return claims, orphans
}

// claimant returns the index of the group old claims (see claimIDs), -1
// for none.
func claimant(old *oldCluster, groupIdx map[string]int) int {
	if i, ok := groupIdx[old.master]; ok {
		return i
	}
	gi := -1
	count := map[int]int{}
	for _, m := range old.members {
		if i, ok := groupIdx[m]; ok {
			count[i]++
			if gi < 0 || count[i] > count[gi] || count[i] == count[gi] && i < gi {
				gi = i
			}
		}
	}
	return gi
}

// pickMaster picks the master of a cluster: the most complete member
// (its profile's score), then the one whose source has the highest
// priority, then the first (members are sorted). rank gives a member's
// score and priority.
func pickMaster(members []string, rank func(k string) (score, prio int, err error)) (string, error) {
	best, bestScore, bestPrio := "", -1, 0
	for _, k := range members {
		score, prio, err := rank(k)
		if err != nil {
			return "", err
		}
		if score > bestScore || score == bestScore && prio > bestPrio {
			best, bestScore, bestPrio = k, score, prio
		}
	}
	return best, nil
}

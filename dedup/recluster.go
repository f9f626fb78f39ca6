package dedup

import (
	"encoding/binary"
	"slices"
	"strings"

	"go.etcd.io/bbolt"
)

// Reclustering in the batch's transaction: the clusterer (cluster.go)
// reads the stored clusters, profiles and edges through txGraph, and
// every round it settles is given union ids and written by assign.

// recluster makes the clusters around st.seeds again and writes them.
func (st *state) recluster() error {
	if len(st.seeds) == 0 {
		return nil
	}
	c := clusterer{g: txGraph{st}, emit: st.assign}
	return c.recluster(sortedKeys(st.seeds), st.removed, st.newEdges)
}

// txGraph is the graph of st's transaction, as the last batch left it and
// this one changed it so far.
type txGraph struct{ st *state }

func (g txGraph) clusterOf(k string) (uint64, bool) {
	v := g.st.members.Get([]byte(k))
	if len(v) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(v), true
}

func (g txGraph) cluster(seq uint64) (master string, members []string, err error) {
	return storedCluster(g.st.unions, seq)
}

func (g txGraph) profile(k string) (*profile, error) { return g.st.profile(k) }

func (g txGraph) edges(k string, p *profile) ([]edgeRef, error) {
	var refs []edgeRef
	err := forEdges(g.st.edges, p.ord, func(o uint32, v []byte) error {
		strength, err := edgeStrength(p.ord, o, v)
		if err != nil {
			return err
		}
		other := g.st.cands.nameOf(o)
		if other == "" {
			return nil // a record gone (its edges go with it)
		}
		refs = append(refs, edgeRef{other: other, ord: o, strength: strength})
		return nil
	})
	return refs, err
}

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

// assign gives the groups of r union ids (claimIDs) and stores them: the
// ids merged away become aliases, the ids left without a group are
// deleted, the records gone leave their clusters, and the union records
// of the clusters that changed are built again.
func (st *state) assign(r *round) error {
	claims, orphans := claimIDs(r.groups, r.olds)
	for gi, g := range r.groups {
		var seq uint64
		if len(claims[gi]) > 0 {
			seq = claims[gi][0]
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
		if err := st.writeCluster(seq, g.members, r.olds[seq], r.oldSeqOf); err != nil {
			return err
		}
	}
	for _, seq := range orphans {
		if err := st.retire(seq, ""); err != nil {
			return err
		}
	}
	if st.whole != nil {
		// A whole rebuild writes the members of all its rounds after
		// them, and builds their union records after that, in id order
		// (bulkRebuild): its rounds come in the order of their first
		// members, whose other members land all over the bucket, and a
		// bucket that one transaction fills out of order is one node that
		// bbolt shifts on every insert until the commit splits it.
		if err := st.whole.queue(st.memberPuts, st.jobs); err != nil {
			return err
		}
		st.memberPuts, st.jobs = st.memberPuts[:0], st.jobs[:0]
	} else {
		if err := st.flushMembers(); err != nil {
			return err
		}
		if err := st.buildUnions(); err != nil {
			return err
		}
	}
	for _, k := range r.left() {
		if err := st.members.Delete([]byte(k)); err != nil {
			return err
		}
	}
	return nil
}

// master picks the master of members (pickMaster) by their profiles'
// scores and their sources' priorities.
func (st *state) master(members []string) (string, error) {
	return pickMaster(members, func(k string) (int, int, error) {
		p, err := st.profile(k)
		if err != nil {
			return 0, 0, err
		}
		return p.score, st.source(sourceOf(k)).Priority, nil
	})
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
			if st.whole != nil || st.touched[k] {
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

package dedup

import (
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/internal/parallel"
)

// Linking: each record whose match keys changed is compared with its
// candidates (candidates.go) by the rules of match.go, and its matches
// become edges (edges.go).

// maxEdges bounds the matches stored per record and batch: one is enough
// to join a cluster, a few keep it whole when members go.
const maxEdges = 6

// linkJob is one record whose edges are to be found.
type linkJob struct {
	key     string
	p       *profile
	skip    func(string) bool // candidates to leave to a later job
	cands   []string
	cprofs  []*profile
	matches []edgeRef
}

// laterKeys is the skip of a job of a rebuild, which links every record:
// each pair is linked once, the later key linking to the earlier.
func laterKeys(key string) func(string) bool {
	return func(c string) bool { return c > key }
}

// maxCands bounds the candidates a record is compared with.
const maxCands = 128

// refused stands for the profile of a candidate found vetoed before it was
// decoded (headVetoed): it counts among the candidates, as a decoded one
// would, and compare passes it by.
var refused = new(profile)

// compare matches j's record with its candidates in order, keeping up to
// maxEdges matches.
func (j *linkJob) compare() {
	src := sourceOf(j.key)
	for k, cp := range j.cprofs {
		if cp == refused {
			continue
		}
		if rule, ok := match(j.p, cp, sourceOf(j.cands[k]) == src); ok {
			j.matches = append(j.matches, edgeRef{other: j.cands[k], ord: cp.ord, rule: rule})
			if len(j.matches) == maxEdges {
				break
			}
		}
	}
}

// collect gathers j's candidates and their profiles, by get (given each
// candidate's key and ordinal).
func (st *state) collect(j *linkJob, get func(string, uint32) (*profile, error)) error {
	return st.forCandidates(j.key, j.p, func(c string, ord uint32) (bool, error) {
		if j.skip != nil && j.skip(c) {
			return true, nil
		}
		cp, err := get(c, ord)
		if err != nil || cp == nil {
			return err == nil, err
		}
		j.cands = append(j.cands, c)
		j.cprofs = append(j.cprofs, cp)
		return len(j.cands) < maxCands, nil
	})
}

// link finds and stores the edges of the jobs' records.
//
// In a batch, candidates are found, read and compared on every core: the
// candidate index and the caches are only read meanwhile, the profiles
// this batch set are all in st.profs, and any other is read through a
// read-only transaction of each worker's own (bbolt transactions are for
// one goroutine), which sees them as the last batch committed them. A
// rebuild in one transaction, whose profiles exist only in it, reads them
// in order and compares in parallel (at 1M records the reading was 48 s
// of one core; Rebuild commits its profiles first and reads them as a
// batch does). The edges are written in order.
func (st *state) link(jobs []linkJob) error {
	if st.stats != nil && !st.committedProfiles {
		for i := range jobs {
			if err := st.collect(&jobs[i], func(key string, _ uint32) (*profile, error) { return st.profile(key) }); err != nil {
				return err
			}
		}
		parallel.For(len(jobs), parallel.Workers(len(jobs), minParallel), func(_, i int) error {
			jobs[i].compare()
			return nil
		})
	} else if err := st.linkParallel(jobs); err != nil {
		return err
	}
	return st.putMatches(jobs)
}

// putMatches stores the edges the jobs found.
func (st *state) putMatches(jobs []linkJob) error {
	for i := range jobs {
		j := &jobs[i]
		for _, m := range j.matches {
			if err := st.putEdge(j.p.ord, m.ord, m.rule); err != nil {
				return err
			}
			if st.whole == nil {
				st.seeds[m.other] = true
				st.newEdges = append(st.newEdges, newEdge{j.key, m.other, ruleStrength(m.rule)})
			}
		}
		j.cands, j.cprofs, j.matches = nil, nil, nil
	}
	return nil
}

// readers is how many goroutines forReaders uses for n items.
func readers(n int) int { return parallel.Workers(n, minParallel) }

// forReaders calls fn(rtx, w, i) for every i in [0, n), on readers(n)
// goroutines, each goroutine w in [0, readers(n)) reading through a
// read-only transaction of its own (rtx): the batch's write transaction
// is for one goroutine, and what a reader sees is what the last batch
// committed, which is all there is of what the batch did not change. The
// transactions end when forReaders returns.
func (st *state) forReaders(n int, fn func(rtx *bbolt.Tx, w, i int) error) error {
	rtxs := make([]*bbolt.Tx, readers(n))
	defer func() {
		for _, rtx := range rtxs {
			if rtx != nil {
				rtx.Rollback()
			}
		}
	}()
	for w := range rtxs {
		var err error
		if rtxs[w], err = st.tx.DB().Begin(false); err != nil {
			return fmt.Errorf("dedup: read transaction: %w", err)
		}
	}
	return parallel.For(n, len(rtxs), func(w, i int) error { return fn(rtxs[w], w, i) })
}

func (st *state) linkParallel(jobs []linkJob) error {
	// Per reader: its profiles bucket, and the profiles it decoded (for
	// the cache).
	buckets, read := make([]*bbolt.Bucket, readers(len(jobs))), make([]map[string]*profile, readers(len(jobs)))
	err := st.forReaders(len(jobs), func(rtx *bbolt.Tx, w, i int) error {
		if read[w] == nil {
			buckets[w], read[w] = rtx.Bucket(bucketProfiles), map[string]*profile{}
		}
		get := func(key string, _ uint32) (*profile, error) {
			if p, ok := st.profs[key]; ok {
				return p, nil
			}
			if p, ok := st.d.cache.get(key); ok {
				return p, nil
			}
			if p, ok := read[w][key]; ok {
				return p, nil
			}
			var v []byte
			if buckets[w] != nil {
				v = buckets[w].Get([]byte(key))
			}
			if v == nil {
				read[w][key] = nil
				return nil, nil
			}
			p, err := decodeProfile(v)
			if err != nil {
				return nil, fmt.Errorf("dedup: record %q: %w", displayKey(key), err)
			}
			read[w][key] = p
			return p, nil
		}
		if err := st.collect(&jobs[i], get); err != nil {
			return err
		}
		jobs[i].compare()
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range read {
		for k, p := range m {
			if p != nil {
				st.d.cache.put(k, p)
			}
		}
	}
	return nil
}

// minParallel is the fewest jobs worth spreading over several cores.
const minParallel = 32

package dedup

import (
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/internal/parallel"
)

// Linking every record of a whole rebuild whose profiles are committed.
//
// A batch reads its candidates' profiles by key, each a descent of the
// profiles B+tree, and decodes them whole. At 1M records a rebuild read
// about ten million candidates that way: 22 CPU-seconds in the descents
// and 19 decoding, against 3 in the comparisons themselves. Here one
// read transaction, held for the whole step, lists where every profile's
// bytes lie by ordinal (the candidate index gives ordinals) in one pass
// over the bucket; the records' own profiles are read by a cursor in key
// order; and every profile is decoded only as far as matching reads it.
// The edges are those linkAll's batches find: the same candidates in the
// same order, compared by the same rules. A candidate that the head of
// its encoding shows vetoed (material type, year, pages) is not decoded.

// linkWhole is linkAll for a whole rebuild (st.whole) whose profiles are
// committed.
func (st *state) linkWhole(keys []string, progress func(done, total int)) error {
	rtx, err := st.tx.DB().Begin(false)
	if err != nil {
		return fmt.Errorf("dedup: read transaction: %w", err)
	}
	// Closed before the rebuild's write transaction commits, which may
	// have to map the file anew: bbolt waits for read transactions then.
	defer rtx.Rollback()
	bucket := rtx.Bucket(bucketProfiles)
	if bucket == nil {
		return errors.New("dedup: link: no profiles")
	}
	byOrd, err := profilesByOrdinal(bucket, len(keys))
	if err != nil {
		return err
	}
	workers := readers(linkBatch)
	decoded := make([]ordCache, workers) // per worker: the candidates decoded lately
	cur := bucket.Cursor()
	for lo := 0; lo < len(keys); lo += linkBatch {
		if err := st.interrupted(); err != nil {
			return err
		}
		if progress != nil {
			progress(lo, len(keys))
		}
		jobs, err := wholeJobs(cur, keys[lo:min(lo+linkBatch, len(keys))])
		if err != nil {
			return err
		}
		err = parallel.For(len(jobs), workers, func(w, i int) error {
			jp := jobs[i].p
			get := func(ord uint32) (*profile, error) {
				if p := decoded[w].get(ord); p != nil {
					return p, nil
				}
				if headVetoed(jp, byOrd[ord]) {
					return refused, nil
				}
				p, err := decodeMatching(byOrd[ord])
				if err != nil {
					return nil, fmt.Errorf("dedup: record %q: %w", displayKey(st.cands.names[ord]), err)
				}
				decoded[w].put(ord, p)
				return p, nil
			}
			if err := st.collectWhole(&jobs[i], get); err != nil {
				return err
			}
			jobs[i].compare()
			return nil
		})
		if err != nil {
			return err
		}
		if err := st.putMatches(jobs); err != nil {
			return err
		}
	}
	return st.flushEdges()
}

// collectWhole gathers j's candidates as collect does with laterKeys,
// by ordinal: ordinals follow key order (profilesByOrdinal checks it),
// so a later key has a larger ordinal and is passed by before its name
// is read. A refused candidate is counted without its name, which only
// compared candidates need.
func (st *state) collectWhole(j *linkJob, get func(uint32) (*profile, error)) error {
	return st.forCandidateOrds(j.p, func(ord uint32) (bool, error) {
		if ord > j.p.ord {
			return true, nil
		}
		cp, err := get(ord)
		if err != nil {
			return false, err
		}
		name := ""
		if cp != refused {
			if name = st.cands.names[ord]; name == "" {
				return false, fmt.Errorf("dedup: link: no record has ordinal %d", ord)
			}
		}
		j.cands = append(j.cands, name)
		j.cprofs = append(j.cprofs, cp)
		return len(j.cands) < maxCands, nil
	})
}

// linkBatch is how many records linkWhole links between its checks of
// the context and its progress reports.
const linkBatch = 1000

// wholeJobs returns the link jobs of keys (ascending), their profiles
// read by cur, which moves forward only.
func wholeJobs(cur *bbolt.Cursor, keys []string) ([]linkJob, error) {
	jobs := make([]linkJob, 0, len(keys))
	k, v := cur.Seek([]byte(keys[0]))
	for _, key := range keys {
		for k != nil && string(k) < key {
			k, v = cur.Next()
		}
		if k == nil || string(k) != key {
			return nil, fmt.Errorf("dedup: link: no profile of record %q", displayKey(key))
		}
		p, err := decodeMatching(v)
		if err != nil {
			return nil, fmt.Errorf("dedup: record %q: %w", displayKey(key), err)
		}
		jobs = append(jobs, linkJob{key: key, p: p})
	}
	return jobs, nil
}

// profilesByOrdinal returns the bytes of every profile in b by ordinal,
// valid while b's transaction is open. A whole rebuild numbers its n
// records' profiles from 0 in key order, as this checks.
func profilesByOrdinal(b *bbolt.Bucket, n int) ([][]byte, error) {
	byOrd := make([][]byte, 0, n)
	err := b.ForEach(func(k, v []byte) error {
		ord, err := profileOrdinal(v)
		if err != nil {
			return fmt.Errorf("dedup: record %q: %w", displayKey(string(k)), err)
		}
		if int(ord) != len(byOrd) || len(byOrd) == n {
			return fmt.Errorf("dedup: record %q: ordinal %d, not its place %d in key order among %d", displayKey(string(k)), ord, len(byOrd), n)
		}
		byOrd = append(byOrd, v)
		return nil
	})
	if err == nil && len(byOrd) != n {
		err = fmt.Errorf("dedup: link: %d profiles for %d records", len(byOrd), n)
	}
	return byOrd, err
}

// ordCache keeps the profiles one worker of linkWhole decoded lately, as
// profileCache does by key: the most recent maxOrdCache to 2×maxOrdCache.
// Candidates come back: the records sharing an author and a year, or a
// common title, are each other's candidates, each compared with all of
// those before it.
type ordCache struct {
	cur, old map[uint32]*profile
}

// maxOrdCache bounds an ordCache. A profile's matching part takes 873
// bytes decoded (the mean of 65,536 of the 1M bench store's), so at most
// about 14 MB a worker. A cache four times as large linked that store no
// faster (31.3-36.4 CPU-seconds against 32.3-36.8, alternating); one of
// a single profile took 47.6-53.8.
const maxOrdCache = 1 << 13

func (c *ordCache) get(ord uint32) *profile {
	if p, ok := c.cur[ord]; ok {
		return p
	}
	return c.old[ord]
}

func (c *ordCache) put(ord uint32, p *profile) {
	if len(c.cur) >= maxOrdCache || c.cur == nil {
		c.old, c.cur = c.cur, make(map[uint32]*profile, maxOrdCache)
	}
	c.cur[ord] = p
}

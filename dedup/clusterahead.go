package dedup

import "go.etcd.io/bbolt"

// Profiles decoded ahead of a whole rebuild's clustering. clusterEach
// takes the live records in key order, and for each reads and decodes its
// profile, a descent of the profiles B+tree and a decoding on the write
// transaction's goroutine: about a third of the phase (4.8 of its 12
// CPU-seconds at 1M records), with the other core idle. profilesAhead
// walks the bucket in key order on a goroutine of its own, through a read
// transaction (the clustering writes no profile: they were committed by
// the profile phase), and hands clusterEach the decoded profiles a batch
// at a time; state.profile looks there after its own map. It is only a
// cache: a key it does not hold (the bucket's keys are not the live
// records', a decoding failed) is read as before, so what the clustering
// sees is the same. In CPU profiles of 1M imports the clustering's
// goroutine spent 7.65 CPU-seconds against 12.13 before, the decoding
// goroutine 2.28; the profiles still read on the way are candidates in
// other sources, far away in key order.

// aheadBatch is how many profiles a batch of profilesAhead holds
// (decoded, a few KB each), and aheadDepth how many batches it decodes
// before clusterEach takes them.
const (
	aheadBatch = 4096
	aheadDepth = 2
)

// profilesAhead decodes the profiles of a bucket in key order, ahead of
// their reader.
type profilesAhead struct {
	batches chan map[string]*profile
	stop    chan struct{} // closed by close: the reader is done
	done    chan struct{} // closed when the goroutine and its transaction ended
}

// startProfilesAhead starts decoding the profiles of db's profiles bucket
// in key order. The caller must call close before its write transaction
// commits: bbolt waits for read transactions when it maps the file anew.
func startProfilesAhead(db *bbolt.DB) (*profilesAhead, error) {
	rtx, err := db.Begin(false)
	if err != nil {
		return nil, err
	}
	a := &profilesAhead{batches: make(chan map[string]*profile, aheadDepth), stop: make(chan struct{}), done: make(chan struct{})}
	go a.run(rtx)
	return a, nil
}

func (a *profilesAhead) run(rtx *bbolt.Tx) {
	defer close(a.done)
	defer rtx.Rollback()
	defer close(a.batches)
	b := rtx.Bucket(bucketProfiles)
	if b == nil {
		return
	}
	batch := make(map[string]*profile, aheadBatch)
	send := func() bool {
		select {
		case a.batches <- batch:
			batch = make(map[string]*profile, aheadBatch)
			return true
		case <-a.stop:
			return false
		}
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		p, err := decodeProfile(v)
		if err != nil {
			break // read again, and reported, by state.profile
		}
		batch[string(k)] = p
		if len(batch) == aheadBatch && !send() {
			return
		}
	}
	if len(batch) > 0 {
		send()
	}
}

// next returns the next batch of profiles, nil once there are no more.
func (a *profilesAhead) next() map[string]*profile {
	return <-a.batches
}

// close stops the decoding and waits for its transaction to end.
func (a *profilesAhead) close() {
	close(a.stop)
	<-a.done
}

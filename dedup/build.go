package dedup

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/internal/parallel"
	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// Building union records: once a batch's clusters are settled, the union
// record of every cluster that changed is made again from its master and
// members (assemble.go says what it holds) on several cores, and stored
// in id order (publish.go).

// unionJob is a union record to rebuild once the masters are decoded.
type unionJob struct {
	seq     uint64
	master  string
	members []string
}

// buildUnions rebuilds the queued union records, reading the masters not
// in memory already in one pass. They are built in id order, in which
// their values are written.
func (st *state) buildUnions() error {
	slices.SortFunc(st.jobs, func(a, b unionJob) int { return cmp.Compare(a.seq, b.seq) })
	var need, keys []string
	for _, j := range st.jobs {
		if _, ok := st.raws[j.master]; !ok {
			if _, ok := st.recs[j.master]; !ok {
				need = append(need, j.master)
			}
		}
		keys = append(keys, j.master)
		keys = append(keys, j.members...)
	}
	// Everything buildUnion reads, in memory before going parallel.
	for _, k := range keys {
		st.source(sourceOf(k))
	}
	profs, err := st.profilesOf(keys)
	if err != nil {
		return err
	}
	if err := st.loadRecords(need); err != nil {
		return err
	}
	type built struct {
		su  *storedUnion
		rec *marc.Record
		err error
	}
	// Built on other goroutines, written here as they come, in order.
	out := make([]built, len(st.jobs))
	err = parallel.Ordered(len(st.jobs), parallel.Workers(len(st.jobs), minParallel), func(i int) {
		j := &st.jobs[i]
		out[i].su, out[i].rec, out[i].err = st.buildUnion(j.seq, j.master, j.members, profs)
	}, func(i int) error {
		if out[i].err != nil {
			return out[i].err
		}
		if st.stats != nil {
			st.stats.Clusters++
		}
		err := st.putUnion(unionID(st.jobs[i].seq), out[i].su, out[i].rec)
		out[i] = built{}
		return err
	})
	st.jobs = st.jobs[:0]
	return err
}

// profilesOf returns the profiles of keys (nil for a record gone) in a
// map of its own, since the profile cache may drop what it read first.
// A profile this transaction changed comes from st.profs. The others are
// read through the transaction and the cache, or, when they were
// committed before it (st.committedProfiles: a bulk rebuild's build
// phase, about a million profiles at 1M records, 2.1 CPU-s on one
// goroutine), through read transactions on several cores (forReaders).
func (st *state) profilesOf(keys []string) (map[string]*profile, error) {
	profs := make(map[string]*profile, len(keys))
	var left []string
	for _, k := range keys {
		if _, ok := profs[k]; ok {
			continue
		}
		p, ok := st.profs[k]
		switch {
		case ok:
		case st.committedProfiles:
			left = append(left, k) // read below; nil meanwhile
		default:
			var err error
			if p, err = st.profile(k); err != nil {
				return nil, err
			}
		}
		profs[k] = p
	}
	if len(left) == 0 {
		return profs, nil
	}
	read := make([]*profile, len(left))
	buckets := make([]*bbolt.Bucket, readers(len(left)))
	err := st.forReaders(len(left), func(rtx *bbolt.Tx, w, i int) error {
		if buckets[w] == nil {
			if buckets[w] = rtx.Bucket(bucketProfiles); buckets[w] == nil {
				return errors.New("dedup: no profiles committed")
			}
		}
		v := buckets[w].Get([]byte(left[i]))
		if v == nil {
			return nil
		}
		var err error
		if read[i], err = decodeProfile(v); err != nil {
			return fmt.Errorf("dedup: record %q: %w", displayKey(left[i]), err)
		}
		return nil
	})
	for i, k := range left {
		profs[k] = read[i]
	}
	return profs, err
}

// loadRecords reads the stored records of keys, none of them changed by
// this batch, on several cores (forReaders): ISO 2709 into st.raws
// (buildUnion splits or decodes them, in parallel), others decoded into
// st.recs.
func (st *state) loadRecords(keys []string) error {
	srs := make([]*store.SourceRecord, len(keys))
	recs := make([]*marc.Record, len(keys))
	err := st.forReaders(len(keys), func(rtx *bbolt.Tx, _, i int) error {
		src, local := splitRecordKey(keys[i])
		sr, err := store.WrapTx(rtx).Record(src, local) // a copy: it outlives rtx
		if err != nil {
			return fmt.Errorf("dedup: master %s/%s: %w", src, local, err)
		}
		if sr.Format == marc.FormatISO2709 && !sr.Deleted {
			srs[i] = sr
			return nil
		}
		if recs[i], err = sr.Record(); err != nil {
			return fmt.Errorf("dedup: master %s: %w", displayKey(keys[i]), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, k := range keys {
		if srs[i] != nil {
			st.raws[k] = srs[i]
		} else {
			st.recs[k] = recs[i]
		}
	}
	return nil
}

// unionHolder is one library holding records of a cluster.
type unionHolder struct {
	code, level string
	prio        int
	fields      [][]byte // its 852s' data, each once
}

// buildUnion makes the served record of a cluster (see assemble.go) and
// the union value that stores it.
func (st *state) buildUnion(seq uint64, master string, members []string, profs map[string]*profile) (*storedUnion, *marc.Record, error) {
	id := unionID(seq)
	msr, mrec := st.raws[master], st.recs[master] // loaded by buildUnions
	if msr == nil && mrec == nil {
		return nil, nil, fmt.Errorf("dedup: union %s: master %s not loaded", id, displayKey(master))
	}
	holders, err := st.holders(id, master, members, profs)
	if err != nil {
		return nil, nil, err
	}
	su := &storedUnion{master: master, members: members, orgs: st.memberOrgs(members)}
	for _, h := range holders {
		su.libraries = append(su.libraries, h.code)
		if h.level != "" {
			su.levels = appendUniq(su.levels, h.level)
		}
	}
	sort.Strings(su.libraries)
	sort.Strings(su.levels)
	// The fields added beside the 035s, in tag order: 852s, then 856s.
	var added []marc.RawField
	for _, h := range holders {
		for _, data := range h.fields {
			added = append(added, marc.RawField{Tag: "852", Data: data})
		}
	}
	for _, data := range unionLinks(master, members, profs) {
		added = append(added, marc.RawField{Tag: "856", Data: data})
	}
	// Listeners get the record as it reads back from the store: the
	// search index checksums it and later checks a stored copy against
	// that, and the encodings do not carry everything a record in memory
	// can hold (MARCXML drops control characters and subfield codes its
	// schema forbids; ISO 2709 turns text before a field's first subfield
	// into $a).
	// The master's profile may say its bytes are canonical already.
	mp := profs[master]
	checked := msr != nil && mp != nil && mp.hasCanon && mp.canon == [masterSumLen]byte(msr.Hash[:masterSumLen])
	served, err := encodeServed(id, su, msr, checked, mrec, added, st.telling())
	if err != nil {
		return nil, nil, fmt.Errorf("dedup: union %s: master %s: %w", id, displayKey(master), err)
	}
	return su, served, nil
}

// memberOrgs returns the organization codes of the sources of members
// (record keys, sorted), as storedUnion.orgs holds them.
func (st *state) memberOrgs(members []string) []string {
	var orgs []string
	last := ""
	for _, k := range members {
		if src := sourceOf(k); src != last {
			last = src
			orgs = append(orgs, src, st.source(src).OrgCode)
		}
	}
	return orgs
}

// holders returns the libraries holding a cluster's records, ordered by
// priority then code, each with its 852s: the master's first, then the
// other members' in key order, a field repeated word for word once.
func (st *state) holders(id, master string, members []string, profs map[string]*profile) ([]*unionHolder, error) {
	var out []*unionHolder
	byCode := map[string]*unionHolder{}
	for i, k := range append([]string{master}, members...) {
		if i > 0 && k == master {
			continue
		}
		p := profs[k]
		if p == nil {
			return nil, fmt.Errorf("dedup: union %s: member %s has no profile", id, displayKey(k))
		}
		src := st.source(sourceOf(k))
		for _, hd := range p.holdings {
			h := byCode[hd.holder]
			if h == nil {
				h = &unionHolder{code: hd.holder}
				h.level, h.prio = st.set.holder(hd.holder, src)
				byCode[hd.holder] = h
				out = append(out, h)
			}
			if !slices.ContainsFunc(h.fields, func(d []byte) bool { return bytes.Equal(d, hd.data) }) {
				h.fields = append(h.fields, hd.data)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].prio != out[j].prio {
			return out[i].prio > out[j].prio
		}
		return out[i].code < out[j].code
	})
	return out, nil
}

// unionLinks returns the 856s a union record adds to its master's: every
// other member's link ($u) that the master's own do not give, each once,
// in member order.
func unionLinks(master string, members []string, profs map[string]*profile) [][]byte {
	var seen []string // few: a list beats a map
	for _, l := range profs[master].links {
		seen = append(seen, rawSub(l, 'u'))
	}
	var out [][]byte
	for _, k := range members {
		if k == master {
			continue
		}
		for _, l := range profs[k].links {
			if u := rawSub(l, 'u'); !slices.Contains(seen, u) {
				seen = append(seen, u)
				out = append(out, l)
			}
		}
	}
	return out
}

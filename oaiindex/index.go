package oaiindex

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/dedup"
)

// ListLifetime is how long a list (a harvest started without a resumption
// token) can be continued: its tokens expire this long after its first
// request, and the index keeps the old positions of changed records for
// as long, so a list in progress neither skips nor repeats them.
const ListLifetime = 30 * 24 * time.Hour

// Buckets owned by this package; see the package documentation.
var (
	bucketMeta    = []byte("oaipmh.meta")
	bucketEntries = []byte("oaipmh.entries")
	bucketMoved   = []byte("oaipmh.moved")
	bucketItems   = []byte("oaipmh.items")
	bucketSets    = []byte("oaipmh.sets")

	keyVersion = []byte("version")
	keyEpoch   = []byte("epoch")
	keyLast    = []byte("last")
)

const (
	indexVersion = 1
	itemEncV1    = 1

	stateMember byte = 1 // live record; record in the set
	stateGone   byte = 2 // deleted record; record no longer in the set

	// gcBatch bounds the expired positions one commit deletes, so that
	// collecting a month of history never makes one batch slow.
	gcBatch = 1000
)

// AllRecords is the spec of the list of every record. Set specs are
// never empty, so it cannot collide with one.
const AllRecords = ""

// Index writes the index: it is a dedup.Listener, told of every union
// record change inside the batch's write transaction. It has no state
// besides its clock, so one value serves the store's one writer.
type Index struct {
	now func() time.Time
}

// New returns an Index whose clock is now (nil means time.Now): a change
// is never positioned before the present second of that clock.
func New(now func() time.Time) *Index {
	if now == nil {
		now = time.Now
	}
	return &Index{now: now}
}

var _ dedup.Listener = (*Index)(nil)

// itemSet is an Item's entry in one set.
type itemSet struct {
	spec  string
	ds    int64 // position of the current entry in this set
	state byte
}

func encodeItem(dst []byte, it *Item) []byte {
	var flags byte
	if it.Deleted {
		flags = 1
	}
	dst = append(dst, itemEncV1, flags)
	dst = binary.BigEndian.AppendUint64(dst, uint64(it.Datestamp))
	dst = binary.AppendUvarint(dst, uint64(len(it.sets)))
	for _, s := range it.sets {
		dst = binary.AppendUvarint(dst, uint64(len(s.spec)))
		dst = append(dst, s.spec...)
		dst = binary.BigEndian.AppendUint64(dst, uint64(s.ds))
		dst = append(dst, s.state)
	}
	return dst
}

var errCorrupt = errors.New("corrupt value")

func decodeItem(b []byte) (*Item, error) {
	if len(b) < 10 || b[0] != itemEncV1 || b[1] > 1 {
		return nil, errCorrupt
	}
	it := &Item{Deleted: b[1] == 1, Datestamp: int64(binary.BigEndian.Uint64(b[2:10]))}
	b = b[10:]
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return nil, errCorrupt
	}
	b = b[w:]
	it.sets = make([]itemSet, 0, n)
	for range n {
		l, w := binary.Uvarint(b)
		if w <= 0 || l > uint64(len(b)-w) || len(b)-w-int(l) < 9 {
			return nil, errCorrupt
		}
		b = b[w:]
		s := itemSet{spec: string(b[:l])}
		b = b[l:]
		s.ds = int64(binary.BigEndian.Uint64(b))
		s.state = b[8]
		if s.state != stateMember && s.state != stateGone {
			return nil, errCorrupt
		}
		b = b[9:]
		it.sets = append(it.sets, s)
	}
	if len(b) != 0 {
		return nil, errCorrupt
	}
	return it, nil
}

// entryKey is spec 0x00 datestamp (uint64 big-endian) id: the entries of a
// set sort together, by datestamp, then id.
func entryKey(dst []byte, spec string, ds int64, id string) []byte {
	dst = append(dst, spec...)
	dst = append(dst, 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(ds))
	return append(dst, id...)
}

// entry values: state, then the datestamp of the change that moved the
// record away from this position (uint64 big-endian; 0 while current).
func entryValue(state byte, movedAt int64) []byte {
	v := make([]byte, 9)
	v[0] = state
	binary.BigEndian.PutUint64(v[1:], uint64(movedAt))
	return v
}

// setKey is the sets bucket key of spec; bbolt keys cannot be empty, so
// the list of all records is 0x00.
func setKey(spec string) []byte {
	if spec == AllRecords {
		return []byte{0}
	}
	return []byte(spec)
}

// setStat is the sets bucket value: current entries and the datestamp of
// the last change to the set (uint64 big-endian each).
type setStat struct {
	count      uint64
	lastChange int64
}

// unixSeconds is a datestamp as the index keeps it: whole seconds, the
// granularity served, never before 1970.
func unixSeconds(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	return s
}

// writer applies changes to the index inside one write transaction.
type writer struct {
	meta, entries, moved, items, sets *bbolt.Bucket
	stats                             map[string]*setStat
	key                               []byte
	// fresh, in a first build, holds the puts of the entries and items
	// buckets, which are empty, to write them in key order at the end
	// (rebuild.go): written as they come, the entries of every set but the
	// last land in the middle of one growing node, which bbolt shifts on
	// every insert (a 100k-record rebuild took 30 s, not 0.5 s).
	fresh *freshPuts
}

func (w *writer) stat(spec string) (*setStat, error) {
	if s, ok := w.stats[spec]; ok {
		return s, nil
	}
	s := &setStat{}
	if w.sets == nil { // a first build's reader, of a new store
		w.stats[spec] = s
		return s, nil
	}
	if v := w.sets.Get(setKey(spec)); v != nil {
		if len(v) != 16 {
			return nil, fmt.Errorf("oaiindex: set %q: counters are %d bytes, want 16", spec, len(v))
		}
		s.count = binary.BigEndian.Uint64(v)
		s.lastChange = int64(binary.BigEndian.Uint64(v[8:]))
	}
	w.stats[spec] = s
	return s, nil
}

func (w *writer) flushStats() error {
	for spec, s := range w.stats {
		v := binary.BigEndian.AppendUint64(nil, s.count)
		v = binary.BigEndian.AppendUint64(v, uint64(s.lastChange))
		if err := w.sets.Put(setKey(spec), v); err != nil {
			return fmt.Errorf("oaiindex: set %q: %w", spec, err)
		}
	}
	clear(w.stats)
	return nil
}

// apply records one union record's new state. Its position is its
// datestamp in whole seconds, but never before minDS nor before its
// previous position.
func (w *writer) apply(u *dedup.UnionRecord, minDS int64) error {
	if u.ID == "" {
		return errors.New("oaiindex: union record without an id")
	}
	id := []byte(u.ID)
	var old *Item
	// A first build's items are empty and its own are queued (fresh):
	// none is there to read.
	if w.fresh == nil {
		if v := w.items.Get(id); v != nil {
			var err error
			if old, err = decodeItem(v); err != nil {
				return fmt.Errorf("oaiindex: index item %s: %w", u.ID, err)
			}
		}
	}
	ds := max(unixSeconds(u.Datestamp), minDS)
	if old != nil && ds < old.Datestamp {
		ds = old.Datestamp // a record never moves backwards in its lists
	}

	want := map[string]byte{}
	if !u.Deleted {
		for _, spec := range Sets(u) {
			want[spec] = stateMember
		}
	}

	nu := &Item{Datestamp: ds, Deleted: u.Deleted}
	all := stateMember
	if u.Deleted {
		all = stateGone
	}
	if old == nil {
		if err := w.put(AllRecords, ds, u.ID, all, false); err != nil {
			return err
		}
	} else if err := w.change(AllRecords, old.Datestamp, old.stateAll(), ds, u.ID, all); err != nil {
		return err
	}

	sets, err := w.moveSets(u.ID, old, want, ds)
	if err != nil {
		return err
	}
	nu.sets = sets
	if w.fresh != nil {
		return w.fresh.items.Add(id, encodeItem(nil, nu))
	}
	if err := w.items.Put(id, encodeItem(nil, nu)); err != nil {
		return fmt.Errorf("oaiindex: index item %s: %w", u.ID, err)
	}
	return nil
}

// moveSets moves id's entries in the sets it was in (old, nil for a new
// record) and is in now (want) to ds, and returns its entries in every
// set, by spec.
func (w *writer) moveSets(id string, old *Item, want map[string]byte, ds int64) ([]itemSet, error) {
	var sets []itemSet
	seen := map[string]bool{}
	if old != nil {
		for _, s := range old.sets {
			seen[s.spec] = true
			st, in := want[s.spec]
			switch {
			case in:
				if err := w.change(s.spec, s.ds, s.state, ds, id, st); err != nil {
					return nil, err
				}
				sets = append(sets, itemSet{s.spec, ds, st})
			case s.state == stateMember:
				// Left the set: a deletion in the set's lists.
				if err := w.change(s.spec, s.ds, s.state, ds, id, stateGone); err != nil {
					return nil, err
				}
				sets = append(sets, itemSet{s.spec, ds, stateGone})
			default:
				sets = append(sets, s) // left earlier: stays where it is
			}
		}
	}
	for spec, st := range want {
		if seen[spec] {
			continue
		}
		if err := w.put(spec, ds, id, st, false); err != nil {
			return nil, err
		}
		sets = append(sets, itemSet{spec, ds, st})
	}
	slices.SortFunc(sets, func(a, b itemSet) int { return strings.Compare(a.spec, b.spec) })
	return sets, nil
}

func (it *Item) stateAll() byte {
	if it.Deleted {
		return stateGone
	}
	return stateMember
}

// put writes the current entry of id in spec at ds; existing says whether
// the set already counts the id.
func (w *writer) put(spec string, ds int64, id string, state byte, existing bool) error {
	w.key = entryKey(w.key[:0], spec, ds, id)
	if w.fresh != nil {
		if err := w.fresh.entries.Add(w.key, entryValue(state, 0)); err != nil {
			return err
		}
	} else if err := w.entries.Put(w.key, entryValue(state, 0)); err != nil {
		return fmt.Errorf("oaiindex: index entry %s in %q: %w", id, spec, err)
	}
	s, err := w.stat(spec)
	if err != nil {
		return err
	}
	if !existing {
		s.count++
	}
	s.lastChange = max(s.lastChange, ds)
	return nil
}

// change moves id's entry in spec from oldDS to ds with its new state. A
// change within the same second rewrites the entry in place; otherwise the
// old entry stays, marked as moved at ds, for the lists begun before ds.
func (w *writer) change(spec string, oldDS int64, oldState byte, ds int64, id string, state byte) error {
	if oldDS != ds {
		w.key = entryKey(w.key[:0], spec, oldDS, id)
		if err := w.entries.Put(w.key, entryValue(oldState, ds)); err != nil {
			return fmt.Errorf("oaiindex: index entry %s in %q: %w", id, spec, err)
		}
		mk := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(w.key)), uint64(ds))
		if err := w.moved.Put(append(mk, w.key...), nil); err != nil {
			return fmt.Errorf("oaiindex: index history of %s in %q: %w", id, spec, err)
		}
	}
	return w.put(spec, ds, id, state, true)
}

// collect deletes old positions no unexpired list can need any more.
func (w *writer) collect(now time.Time) error {
	limit := unixSeconds(now.Add(-ListLifetime))
	var keys [][]byte
	c := w.moved.Cursor()
	for k, _ := c.First(); k != nil && len(keys) < gcBatch; k, _ = c.Next() {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k)) >= limit {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := w.entries.Delete(k[8:]); err != nil {
			return fmt.Errorf("oaiindex: delete expired position: %w", err)
		}
		if err := w.moved.Delete(k); err != nil {
			return fmt.Errorf("oaiindex: delete expired position: %w", err)
		}
	}
	return nil
}

// UnionChanged records the new state of the changed union records; it is
// called by the Deduper inside the batch's write transaction.
//
// A change is positioned at its union datestamp, or at the present second
// if that is earlier (the Deduper stamps a batch with the time it was
// prepared, which may be long before it got the write lock). The present
// is read inside the write transaction, so every change committed after a
// list's barrier (see Server) lands after the list's snapshot.
func (ix *Index) UnionChanged(tx *bbolt.Tx, changes []dedup.UnionRecord) error {
	w, err := openWriter(tx)
	if err != nil {
		return err
	}
	now := ix.now()
	minDS := unixSeconds(now)
	last := lastSeen(w.meta)
	for i := range changes {
		if err := w.apply(&changes[i], minDS); err != nil {
			return err
		}
		if ns := changes[i].Datestamp.UnixNano(); ns > last {
			last = ns
		}
	}
	if err := w.flushStats(); err != nil {
		return err
	}
	if err := w.meta.Put(keyLast, binary.BigEndian.AppendUint64(nil, uint64(last))); err != nil {
		return fmt.Errorf("oaiindex: %w", err)
	}
	return w.collect(now)
}

// lastSeen is the datestamp (Unix ns) of the latest change the index has
// recorded.
func lastSeen(meta *bbolt.Bucket) int64 {
	if meta == nil {
		return 0
	}
	if v := meta.Get(keyLast); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// Sync brings the index up to date with the union records in tx, a write
// transaction of a store whose Deduper has this Index as a listener:
// changes committed while the index was not listening (an older unicat, a
// crash between the two) are applied, and if the index still counts
// other records than the union catalog it is rebuilt, which makes
// resumption tokens issued before invalid. It reads a few pages: that
// the items agree with the counts is Check's work, which reads them all.
func (ix *Index) Sync(tx *bbolt.Tx) error {
	w, err := openWriter(tx)
	if err != nil {
		return err
	}
	// Catching up on a live index positions the missed changes now, as
	// UnionChanged would have; a first build keeps the union datestamps.
	minDS := unixSeconds(ix.now())
	if k, _ := w.items.Cursor().First(); k == nil {
		minDS = 0
	}
	if err := ix.catchUp(w, tx, minDS); err != nil {
		return err
	}
	live, deleted, err := dedup.Count(tx)
	if err != nil {
		return err
	}
	all, err := w.stat(AllRecords)
	if err != nil {
		return err
	}
	if all.count == uint64(live+deleted) {
		return w.flushStats()
	}
	return ix.rebuild(tx)
}

// Check reports whether the index holds an item for every record it
// counts, reading every item: in a large catalog that takes seconds when
// the file is not in the page cache, so it is not done at start (Sync)
// but beside the service (catalog.Open starts it). It reads through view,
// which runs a function in a read transaction, checkChunk items at a
// time, so that no transaction of it lasts long (a long one keeps the
// pages batches free from being reused, and holds up a batch that grows
// the file). Items are added at the end of the key order (union ids are
// allocated in order) and only a rebuild, which changes the epoch,
// removes any, so counting on from where the last transaction stopped
// counts what is there at the end. It stops with ctx's error when ctx is
// done.
func Check(ctx context.Context, view func(func(*bbolt.Tx) error) error) (ok bool, err error) {
	var c itemCount
	for !c.done {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if err := view(c.next); err != nil {
			return false, err
		}
	}
	return c.n == c.want, nil
}

// checkChunk is how many items one transaction of Check reads.
const checkChunk = 1 << 14

// itemCount is Check's count so far.
type itemCount struct {
	epoch   uint64
	after   []byte // the last item counted
	n, want uint64
	done    bool
}

// next counts the next checkChunk items in tx, and reads the count to
// compare with once there are no more.
func (c *itemCount) next(tx *bbolt.Tx) error {
	items, sets := tx.Bucket(bucketItems), tx.Bucket(bucketSets)
	if items == nil || sets == nil {
		c.n, c.want, c.done = 0, 0, true // no index yet: Sync makes one
		return nil
	}
	if e := readEpoch(tx.Bucket(bucketMeta)); e != c.epoch || c.after == nil {
		*c = itemCount{epoch: e} // rebuilt meanwhile: count afresh
	}
	cur := items.Cursor()
	k, _ := cur.First()
	if c.after != nil {
		if k, _ = cur.Seek(c.after); bytes.Equal(k, c.after) {
			k, _ = cur.Next()
		}
	}
	for i := 0; k != nil && i < checkChunk; i++ {
		c.n++
		c.after = append(c.after[:0], k...)
		k, _ = cur.Next()
	}
	if k != nil {
		return nil
	}
	if v := sets.Get(setKey(AllRecords)); len(v) == 16 {
		c.want = binary.BigEndian.Uint64(v)
	}
	c.done = true
	return nil
}

// Repair rebuilds the index if Check finds it damaged, in tx, a write
// transaction. It reads every item again: it is for when Check, in read
// transactions, found them disagreeing.
func (ix *Index) Repair(tx *bbolt.Tx) error {
	ok, err := Check(context.Background(), func(fn func(*bbolt.Tx) error) error { return fn(tx) })
	if err != nil || ok {
		return err
	}
	return ix.rebuild(tx)
}

func readEpoch(meta *bbolt.Bucket) uint64 {
	if meta == nil {
		return 0
	}
	if v := meta.Get(keyEpoch); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

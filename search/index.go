package search

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"go.etcd.io/bbolt"

	"github.com/unicat/unicat/dedup"
	"github.com/unicat/unicat/internal/parallel"
)

// Index is the search index kept in the store's bbolt file. It has no
// state of its own besides the file, so one value serves any number of
// concurrent searches; updates run in the store's single write
// transaction.
type Index struct{}

// New returns an Index.
func New() *Index { return &Index{} }

// ErrNeedsRebuild is returned when the stored index was built by another
// version of the index table or an interrupted rebuild; `unicat reindex`
// (Rebuild) makes it usable again.
var ErrNeedsRebuild = errors.New("search: the index must be rebuilt (unicat reindex)")

// buckets are the index's buckets in one transaction.
type buckets struct {
	meta, ids, docs, terms, sort *bbolt.Bucket
}

func openBuckets(tx *bbolt.Tx) *buckets {
	b := &buckets{
		meta: tx.Bucket(bucketMeta), ids: tx.Bucket(bucketIDs), docs: tx.Bucket(bucketDocs),
		terms: tx.Bucket(bucketTerms), sort: tx.Bucket(bucketSort),
	}
	if b.meta == nil || b.ids == nil || b.docs == nil || b.terms == nil || b.sort == nil {
		return nil
	}
	return b
}

// ensureBuckets creates the buckets when missing (a new store, or dedup
// replaying into an index that never existed) and checks that the stored
// index is usable.
func ensureBuckets(tx *bbolt.Tx) (*buckets, error) {
	if b := openBuckets(tx); b != nil {
		if err := checkUsable(b); err != nil {
			return nil, err
		}
		return b, nil
	}
	for _, name := range [][]byte{bucketMeta, bucketIDs, bucketDocs, bucketTerms, bucketSort} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return nil, fmt.Errorf("search: create bucket %s: %w", name, err)
		}
	}
	b := openBuckets(tx)
	if b.meta.Get(keyVersion) == nil {
		if err := b.meta.Put(keyVersion, versionValue()); err != nil {
			return nil, fmt.Errorf("search: write version: %w", err)
		}
		if err := b.meta.Put(keyState, []byte("ready")); err != nil {
			return nil, fmt.Errorf("search: write state: %w", err)
		}
	}
	return b, checkUsable(b)
}

func checkUsable(b *buckets) error {
	if !bytes.Equal(b.meta.Get(keyVersion), versionValue()) {
		return ErrNeedsRebuild
	}
	if string(b.meta.Get(keyState)) != "ready" {
		return ErrNeedsRebuild
	}
	return nil
}

// Init prepares the buckets; it is what store.HookInit asks of a hook,
// and cmd calls it before serving. It returns ErrNeedsRebuild when the
// stored index cannot be used as is.
func (ix *Index) Init(tx *bbolt.Tx) error {
	_, err := ensureBuckets(tx)
	return err
}

// Status describes the stored index.
type Status struct {
	Docs  uint64 // documents indexed
	Ready bool   // false when a rebuild is needed
}

// Status reports how many documents the index holds and whether it can be
// used; in a read transaction of a store without an index it reports
// zero documents, not ready.
func (ix *Index) Status(tx *bbolt.Tx) (Status, error) {
	b := openBuckets(tx)
	if b == nil {
		return Status{}, nil
	}
	st := Status{Ready: checkUsable(b) == nil}
	r := &reader{b: b, ctx: context.Background()}
	if err := r.init(); err != nil {
		return st, err
	}
	n, err := r.count(termKey{idAll, kindAll, ""})
	st.Docs = n
	return st, err
}

// NeedsRebuild reports whether the index is missing, unusable, or holds a
// different number of documents than there are live union records (the
// store was built before the index existed, or by a unicat that did not
// index).
func (ix *Index) NeedsRebuild(tx *bbolt.Tx) (bool, error) {
	st, err := ix.Status(tx)
	if err != nil {
		return true, err
	}
	live, _, err := dedup.Count(tx)
	if err != nil {
		return true, err
	}
	return !st.Ready || st.Docs != uint64(live), nil
}

// UnionChanged implements dedup.Listener: it brings the index up to date
// with the union records a batch changed, in the batch's transaction.
func (ix *Index) UnionChanged(tx *bbolt.Tx, changes []dedup.UnionRecord) error {
	docs := make([]Doc, 0, len(changes))
	for i := range changes {
		u := &changes[i]
		d := DocOf(u)
		d.Previous = func() (*Doc, error) {
			p, err := u.Previous()
			if err != nil || p == nil {
				return nil, err
			}
			pd := DocOf(p)
			return &pd, nil
		}
		docs = append(docs, d)
	}
	err := ix.Update(tx, docs)
	if errors.Is(err, errStale) {
		// Harvesting goes on; searches answer "rebuild the index" until
		// the next start rebuilds it (or unicat reindex). Said once, here,
		// with the record that showed it: the operator must know.
		slog.Error("search index marked stale: searches fail until it is rebuilt (restart unicat, or run unicat reindex)", "err", err)
		if b := openBuckets(tx); b != nil {
			if perr := b.meta.Put(keyState, []byte("stale")); perr != nil {
				return perr
			}
		}
		return nil
	}
	if errors.Is(err, ErrNeedsRebuild) {
		// An index that must be rebuilt anyway (another version's, or an
		// interrupted rebuild) does not hold up harvesting; the rebuild
		// (at the next start, or unicat reindex) covers these changes.
		return nil
	}
	return err
}

// DocOf converts a union record to the document indexed for it; aliases
// and deleted records are removed from the index.
func DocOf(u *dedup.UnionRecord) Doc {
	d := Doc{ID: u.ID, Record: u.Record, Libraries: u.Libraries, Levels: u.Levels}
	if u.Deleted || u.AliasOf != "" || u.Record == nil {
		d = Doc{ID: u.ID, Deleted: true}
	}
	return d
}

// postEdit collects the changes to one stored postings key.
type postEdit struct {
	add, del []uint32
}

// editKey names one stored postings key: a term key and its chunk.
type editKey struct {
	termKey
	chunk uint16
}

type editSet map[editKey]*postEdit

// merge returns the edits of e and o together (either may be nil).
func (e editSet) merge(o editSet) editSet {
	if len(e) < len(o) {
		e, o = o, e
	}
	if e == nil {
		return editSet{}
	}
	for k, po := range o {
		if pe := e[k]; pe != nil {
			pe.add = append(pe.add, po.add...)
			pe.del = append(pe.del, po.del...)
		} else {
			e[k] = po
		}
	}
	return e
}

func (e editSet) note(k termKey, docno uint32, add bool) {
	ek := editKey{k, uint16(docno >> chunkBits)}
	pe := e[ek]
	if pe == nil {
		pe = &postEdit{}
		e[ek] = pe
	}
	if add {
		pe.add = append(pe.add, docno)
	} else {
		pe.del = append(pe.del, docno)
	}
}

// docUpdate is the work on one document of an Update: what is read from
// the index first, then what is computed from it (in parallel), then
// written.
type docUpdate struct {
	d     *Doc
	docno uint32 // the stored one, or the next free one for a new document
	oldV  []byte // stored document, nil when new
	// computed
	old     *storedDoc
	nd      storedDoc
	encoded []byte
	adds    []termKey // keys to add (every key of a new document)
	dels    []termKey // keys to remove
	err     error
}

// updateWorker is one goroutine's reusable state.
type updateWorker struct {
	sk    *sortKeyer
	kr    keyer
	edits editSet // of the documents it computed
}

// Update indexes docs in tx: new ids are added, known ids re-indexed
// (only the keys that changed are written), deleted ones removed. When an
// id occurs more than once the last occurrence counts.
//
// What needs no bucket (extracting values, computing keys, encoding)
// runs on every core between a serial read of what is stored and a
// serial write, bbolt's transactions being for one goroutine.
func (ix *Index) Update(tx *bbolt.Tx, docs []Doc) error {
	b, err := ensureBuckets(tx)
	if err != nil {
		return err
	}
	next, err := getU32(b.meta, keyNext)
	if err != nil {
		return err
	}
	ups, next, err := readUpdates(b, docs, next)
	if err != nil {
		return err
	}
	workers := make([]updateWorker, parallel.Max())
	if err := computeUpdates(ups, workers); err != nil {
		return err
	}
	for i := range ups {
		if err := ups[i].write(b); err != nil {
			return err
		}
	}
	edits := workers[0].edits
	for _, w := range workers[1:] {
		edits = edits.merge(w.edits)
	}
	if err := applyEdits(b.terms, edits, len(workers)); err != nil {
		return err
	}
	return putU32(b.meta, keyNext, next)
}

// readUpdates is the first step of an Update: it reads what is stored of
// each document to be indexed (the last of each id) and numbers the new
// ones from next on. It returns the updates and the next free number.
func readUpdates(b *buckets, docs []Doc, next uint32) ([]docUpdate, uint32, error) {
	last := make(map[string]int, len(docs))
	for i := range docs {
		last[docs[i].ID] = i
	}
	ups := make([]docUpdate, 0, len(docs))
	for i := range docs {
		d := &docs[i]
		if last[d.ID] != i {
			continue
		}
		if d.ID == "" {
			return nil, 0, errors.New("search: document without id")
		}
		u := docUpdate{d: d}
		if v := b.ids.Get([]byte(d.ID)); v != nil {
			if err := u.readStored(b, v); err != nil {
				return nil, 0, err
			}
		} else if d.Deleted || d.Record == nil {
			continue // nothing to remove
		} else {
			if next == ^uint32(0) {
				return nil, 0, errors.New("search: out of document numbers (run unicat reindex)")
			}
			u.docno = next
			next++
		}
		ups = append(ups, u)
	}
	return ups, next, nil
}

// readStored reads the stored document that the ids bucket's value v
// names.
func (u *docUpdate) readStored(b *buckets, v []byte) error {
	if len(v) != 4 {
		return fmt.Errorf("search: id %s maps to %d bytes", u.d.ID, len(v))
	}
	u.docno = binary.BigEndian.Uint32(v)
	if u.oldV = b.docs.Get(docnoKey(u.docno)); u.oldV == nil {
		return fmt.Errorf("search: id %s maps to document %d, which is not stored", u.d.ID, u.docno)
	}
	return nil
}

// computeUpdates is the second step of an Update: it computes every
// update on every core, each worker collecting the postings edits of its
// documents.
func computeUpdates(ups []docUpdate, workers []updateWorker) error {
	return parallel.For(len(ups), len(workers), func(wk, i int) error {
		w := &workers[wk]
		if w.sk == nil {
			w.sk, w.edits = newSortKeyer(), editSet{}
		}
		u := &ups[i]
		u.compute(w)
		for _, k := range u.dels {
			w.edits.note(k, u.docno, false)
		}
		for _, k := range u.adds {
			w.edits.note(k, u.docno, true)
		}
		u.adds, u.dels = nil, nil
		return nil
	})
}

// write is the third step of an Update, for one document: it writes the
// document's id, sort keys and stored form, or removes them.
func (u *docUpdate) write(b *buckets) error {
	if u.err != nil {
		return u.err
	}
	d := u.d
	docno := u.docno
	if u.old == nil {
		if err := b.ids.Put([]byte(d.ID), docnoKey(docno)); err != nil {
			return err
		}
	}
	removed := d.Deleted || d.Record == nil
	sortChanged := u.old == nil || !sameSortKeys(u.old.sort, u.nd.sort)
	if u.old != nil && (removed || sortChanged) {
		for _, k := range sortEntries(u.old.sort, docno) {
			if err := b.sort.Delete(k); err != nil {
				return err
			}
		}
	}
	if removed {
		if err := b.ids.Delete([]byte(d.ID)); err != nil {
			return err
		}
		return b.docs.Delete(docnoKey(docno))
	}
	if sortChanged {
		for _, k := range sortEntries(u.nd.sort, docno) {
			if err := b.sort.Put(k, nil); err != nil {
				return err
			}
		}
	}
	return b.docs.Put(docnoKey(docno), u.encoded)
}

// compute decodes the stored document, extracts the new one and works out
// which keys change.
func (u *docUpdate) compute(w *updateWorker) {
	d := u.d
	if u.oldV != nil {
		od, err := decodeDoc(u.oldV)
		if err != nil {
			u.err = fmt.Errorf("search: document %d (%s): %w", u.docno, d.ID, err)
			return
		}
		if od.values, err = previousValues(d, od.sum); err != nil {
			u.err = err
			return
		}
		u.old = &od
	}
	if d.Deleted || d.Record == nil {
		u.dels = w.kr.sortedKeys(u.old.values)
		return
	}
	u.nd = storedDoc{id: d.ID, values: extract(d), sort: w.sk.keys(d.Record)}
	u.nd.sum = valuesSum(u.nd.values)
	if u.old == nil {
		u.adds = w.kr.sortedKeys(u.nd.values)
	} else {
		// Only the indexes whose values changed can have other keys: a
		// union record gaining a member usually changes its ids and
		// holdings only.
		for _, ixid := range changedIndexes(u.old.values, u.nd.values) {
			diffKeys(w.kr.sortedKeys(valuesOf(u.old.values, ixid)), w.kr.sortedKeys(valuesOf(u.nd.values, ixid)),
				func(k termKey, add bool) {
					if add {
						u.adds = append(u.adds, k)
					} else {
						u.dels = append(u.dels, k)
					}
				})
		}
	}
	u.encoded = encodeDoc(&u.nd)
}

// errStale says that what a document was indexed from and the version
// given as its previous one disagree: the index no longer matches the
// records, and must be rebuilt.
var errStale = errors.New("search: the index does not match the records it was built from")

// previousValues extracts the values of the version of d that was
// indexed, checking them against the stored sum.
func previousValues(d *Doc, sum uint64) ([]value, error) {
	if d.Previous == nil {
		return nil, fmt.Errorf("%w: %s is indexed, and no previous version was given", errStale, d.ID)
	}
	p, err := d.Previous()
	if err != nil {
		return nil, fmt.Errorf("search: previous version of %s: %w", d.ID, err)
	}
	if p == nil || p.Deleted || p.Record == nil {
		return nil, fmt.Errorf("%w: %s is indexed, but its previous version served nothing", errStale, d.ID)
	}
	vals := extract(p)
	if valuesSum(vals) != sum {
		return nil, fmt.Errorf("%w: %s was indexed from another version than the previous one", errStale, d.ID)
	}
	return vals, nil
}

// changedIndexes lists the index ids whose values differ between a and b
// (both in extraction order).
func changedIndexes(a, b []value) []byte {
	var out []byte
	for i := range indexTable {
		id := indexTable[i].id
		if !slices.Equal(valuesOf(a, id), valuesOf(b, id)) {
			out = append(out, id)
		}
	}
	return out
}

func valuesOf(vals []value, ix byte) []value {
	var out []value
	for _, v := range vals {
		if v.ix == ix {
			out = append(out, v)
		}
	}
	return out
}

func sameSortKeys(a, b sortKeys) bool {
	return a.year == b.year && bytes.Equal(a.title, b.title) && bytes.Equal(a.creator, b.creator)
}

// diffKeys calls fn for the keys only in a (add=false) and only in b
// (add=true); both are sorted.
func diffKeys(a, b []termKey, fn func(termKey, bool)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b):
			fn(a[i], false)
			i++
		case i == len(a):
			fn(b[j], true)
			j++
		default:
			switch c := a[i].compare(b[j]); {
			case c < 0:
				fn(a[i], false)
				i++
			case c > 0:
				fn(b[j], true)
				j++
			default:
				i++
				j++
			}
		}
	}
}

// applyEdits rewrites each changed postings key once, in key order: the
// stored values are read, merged with the edits on every core, and
// written back.
func applyEdits(terms *bbolt.Bucket, edits editSet, workers int) error {
	type rewrite struct {
		key    []byte
		edit   *postEdit
		old, v []byte
		err    error
	}
	rw := make([]rewrite, 0, len(edits))
	for ek, e := range edits {
		rw = append(rw, rewrite{key: termKeyBytes(nil, ek.ix, ek.kind, ek.chunk, ek.term), edit: e})
	}
	slices.SortFunc(rw, func(a, b rewrite) int { return bytes.Compare(a.key, b.key) })
	c := terms.Cursor()
	for i := range rw {
		// Keys ascend, so a cursor walks forward through the pages.
		if k, v := c.Seek(rw[i].key); bytes.Equal(k, rw[i].key) {
			rw[i].old = v
		}
	}
	if err := parallel.For(len(rw), workers, func(_, i int) error {
		r := &rw[i]
		r.v, r.err = mergePostings(r.key, r.old, r.edit)
		return nil
	}); err != nil {
		return err
	}
	for i := range rw {
		r := &rw[i]
		if r.err != nil {
			return fmt.Errorf("search: postings %q: %w", r.key, r.err)
		}
		var err error
		if r.v == nil {
			if r.old != nil {
				err = terms.Delete(r.key)
			}
		} else {
			err = terms.Put(r.key, r.v)
		}
		if err != nil {
			return fmt.Errorf("search: write postings %q: %w", r.key, err)
		}
	}
	return nil
}

// mergePostings applies e to the stored value old (nil: none) of key and
// returns the new value, nil when no document is left.
func mergePostings(key, old []byte, e *postEdit) ([]byte, error) {
	chunk := uint16(key[2])<<8 | uint16(key[3])
	bm := roaring.New()
	if old != nil {
		if err := decodeOwned(bm, chunk, old); err != nil {
			return nil, err
		}
	}
	bm.AddMany(e.add)
	for _, d := range e.del {
		bm.Remove(d)
	}
	return encodePostings(bm)
}

// decodeOwned is decodePostings into a bitmap that does not share memory
// with the stored value, for modifying it.
func decodeOwned(dst *roaring.Bitmap, chunk uint16, v []byte) error {
	if len(v) > 0 && v[0] == postBitmap {
		return dst.UnmarshalBinary(slices.Clone(v[1:]))
	}
	return decodePostings(dst, chunk, v)
}

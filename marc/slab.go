package marc

// recordSlab carves the Records a stream reader returns, their Fields and
// their Subfields out of shared arrays: one allocation serves a dozen
// records rather than three per record. Allocating each array on its own
// was a sixth of a read's CPU time (the allocator's per-object work: span
// refills, heap type headers), and the reader is the first stage of every
// load.
//
// The arrays grow: the first of each kind is what the first record needs,
// and each next one twice the last, up to slabRecords Records (768 bytes),
// slabFields Fields (16 KiB) and slabSubfields Subfields (12 KiB). A
// reader of one record (a harvested record decoded on its own, a stored
// one read again) allocates what it did without a slab.
//
// The price is what a kept Record keeps alive: the arrays it was carved
// from, and through them its neighbours' fields, subfields and text, a
// few dozen records' worth at most (a 700-byte record holds about 2.3 KB).
// A caller that keeps a record or two from a long stream keeps that much
// more; one that keeps every record keeps what it would have anyway.
//
// Every slice handed out has its capacity cut at its length (or at the
// count asked for), so that appending to a record's Fields or to a
// field's Subfields moves them to an array of their own and never writes
// over a neighbour's.
//
// Under ReaderOptions.ReuseRecords the arrays are lent, not given: the
// slab keeps every array it made, and reset(true) carves them again, from
// the first, once the records they hold are the caller's no longer (at
// the next call to Next; for a read-ahead batch, when the batch is framed
// again). Reading then allocates a record's text and little else: 575
// bytes a record of the 1M bench corpus against 2,330, and the collector,
// whose marking follows what is allocated, has a quarter of the work.
// Three passes over that corpus on 2 cores read 690,000-750,000 records
// a second reusing records, 470,000-495,000 without.
type recordSlab struct {
	recs   []Record
	fields []Field
	subs   []Subfield
	// the size of the next array of each kind, 0 before the first
	nextRecs, nextFields, nextSubs int

	// lending: the arrays below are lent to the caller and carved again
	// at each reset(true).
	lending   bool
	recArrays lentArrays[Record]
	fieldArrs lentArrays[Field]
	subArrays lentArrays[Subfield]
}

// reset readies the slab for the next record (or the next batch of
// records read ahead). With reuse it carves the arrays it lent before
// again; the records carved from them must be dead to the caller by now.
// Without reuse, a slab that lent arrays starts afresh, so that no record
// the caller may keep is ever carved from an array lent again later.
func (s *recordSlab) reset(reuse bool) {
	switch {
	case reuse:
		s.lending = true
		s.recs, s.fields, s.subs = nil, nil, nil
		s.recArrays.next, s.fieldArrs.next, s.subArrays.next = 0, 0, 0
	case s.lending:
		*s = recordSlab{}
	}
}

// newArray is a new slab array of size elements: made, or when lending,
// the next array lent before, as the last round left it (take).
func newArray[T any](s *recordSlab, lent *lentArrays[T], size int) []T {
	if !s.lending {
		return make([]T, size)
	}
	return lent.take(size)
}

// lentArrays are the arrays of one kind a lending slab made, in the order
// it carves them; next is the one to carve after the last.
type lentArrays[T any] struct {
	arrays [][]T
	next   int
}

// take returns the next array as the last round left it, or a new one
// where there is none or it is smaller than size.
//
// It is not cleared: the builders write every member of every element
// they hand out (see the slab's methods), which hides the last round's
// records from the caller, and clearing an array of pointers while the
// collector marks goes through its bulk write barrier, which walks the
// array's pointer bitmap. That walk was a quarter of a read's CPU time on
// one core, and 5 % on two.
func (l *lentArrays[T]) take(size int) []T {
	if l.next < len(l.arrays) && len(l.arrays[l.next]) >= size {
		a := l.arrays[l.next]
		l.next++
		return a
	}
	a := make([]T, size)
	if l.next < len(l.arrays) {
		l.arrays[l.next] = a
	} else {
		l.arrays = append(l.arrays, a)
	}
	l.next++
	return a
}

const (
	slabRecords   = 16
	slabFields    = 256
	slabSubfields = 512
)

// slabSize is the size of a new slab array for a request of n: n for the
// first, then next (twice the last), up to max.
func slabSize(n int, next *int, max int) int {
	size := n
	if *next > n {
		size = min(*next, max)
	}
	*next = 2 * size
	return size
}

// record returns a Record without an Origin; the caller sets its Leader
// and Fields (a lent one holds the last round's).
func (s *recordSlab) record() *Record {
	if len(s.recs) == 0 {
		s.recs = newArray(s, &s.recArrays, slabSize(1, &s.nextRecs, slabRecords))
	}
	r := &s.recs[0]
	s.recs = s.recs[1:]
	if r.Origin != nil {
		r.Origin = nil
	}
	return r
}

// fieldArray returns n Fields, with capacity n; never nil, as make returns
// none. The caller sets every member of each (a lent array holds the last
// round's fields).
func (s *recordSlab) fieldArray(n int) []Field {
	if n == 0 || n > slabFields/4 {
		return make([]Field, n)
	}
	if len(s.fields) < n {
		s.fields = newArray(s, &s.fieldArrs, slabSize(n, &s.nextFields, slabFields))
	}
	f := s.fields[:n:n]
	s.fields = s.fields[n:]
	return f
}

// subfieldArray returns an empty slice of Subfields with room for n;
// never nil. What lies past its length may be the last round's: the
// caller appends, or writes every element it slices in.
func (s *recordSlab) subfieldArray(n int) []Subfield {
	if n == 0 || n > slabSubfields/4 {
		return make([]Subfield, 0, n)
	}
	if len(s.subs) < n {
		s.subs = newArray(s, &s.subArrays, slabSize(n, &s.nextSubs, slabSubfields))
	}
	sf := s.subs[:0:n]
	s.subs = s.subs[n:]
	return sf
}

// Setting the members of a field that may be a lent one, holding the last
// round's: an empty value is not written over an empty one, as that would
// cost a write barrier while the collector marks.

// setControl makes f a control field of value v.
func setControl(f *Field, v string) {
	f.Value = v
	f.Ind1, f.Ind2 = 0, 0
	setSubfields(f, nil)
}

// clearValue empties f's Value, as a data field's.
func clearValue(f *Field) {
	if f.Value != "" {
		f.Value = ""
	}
}

// setSubfields sets f.Subfields to subs.
func setSubfields(f *Field, subs []Subfield) {
	if subs != nil || f.Subfields != nil {
		f.Subfields = subs
	}
}

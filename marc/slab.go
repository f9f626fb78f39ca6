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
type recordSlab struct {
	recs   []Record
	fields []Field
	subs   []Subfield
	// the size of the next array of each kind, 0 before the first
	nextRecs, nextFields, nextSubs int
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

// record returns a zero Record.
func (s *recordSlab) record() *Record {
	if len(s.recs) == 0 {
		s.recs = make([]Record, slabSize(1, &s.nextRecs, slabRecords))
	}
	r := &s.recs[0]
	s.recs = s.recs[1:]
	return r
}

// fieldArray returns n zero Fields, with capacity n; never nil, as make
// returns none.
func (s *recordSlab) fieldArray(n int) []Field {
	if n == 0 || n > slabFields/4 {
		return make([]Field, n)
	}
	if len(s.fields) < n {
		s.fields = make([]Field, slabSize(n, &s.nextFields, slabFields))
	}
	f := s.fields[:n:n]
	s.fields = s.fields[n:]
	return f
}

// subfieldArray returns an empty slice of Subfields with room for n;
// never nil.
func (s *recordSlab) subfieldArray(n int) []Subfield {
	if n == 0 || n > slabSubfields/4 {
		return make([]Subfield, 0, n)
	}
	if len(s.subs) < n {
		s.subs = make([]Subfield, slabSize(n, &s.nextSubs, slabSubfields))
	}
	sf := s.subs[:0:n]
	s.subs = s.subs[n:]
	return sf
}

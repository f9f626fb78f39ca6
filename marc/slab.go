package marc

// recordSlab carves the Records a stream reader returns, their Fields and
// their Subfields out of shared arrays: one allocation serves a dozen
// records of a few kilobytes rather than three per record. Allocating
// each array on its own was a sixth of a read's CPU time (the allocator's
// per-object work: span refills, heap type headers), and the reader is
// the first stage of every load.
//
// The price is what a kept Record keeps alive: the slab arrays it was
// carved from, at most slabFields Fields (16 KiB), slabSubfields
// Subfields (12 KiB) and slabRecords Records (6 KiB), beside its own
// text. A caller that keeps a record or two from a long stream keeps a few
// tens of kilobytes more; one that keeps every record keeps what it would
// have anyway.
//
// Every slice handed out has its capacity cut at its length (or at the
// count asked for), so that appending to a record's Fields or to a
// field's Subfields moves them to an array of their own and never writes
// over a neighbour's.
type recordSlab struct {
	recs   []Record
	fields []Field
	subs   []Subfield
}

const (
	slabRecords   = 128
	slabFields    = 256
	slabSubfields = 512
)

// record returns a zero Record.
func (s *recordSlab) record() *Record {
	if len(s.recs) == 0 {
		s.recs = make([]Record, slabRecords)
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
		s.fields = make([]Field, slabFields)
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
		s.subs = make([]Subfield, slabSubfields)
	}
	sf := s.subs[:0:n]
	s.subs = s.subs[n:]
	return sf
}

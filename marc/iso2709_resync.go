package marc

import (
	"bytes"
	"fmt"
)

// resync handles a record whose leader length does not lead to a record
// terminator: a wrong length, a truncated record or bytes that are not a
// record at all.
func (r *ISO2709Reader) resync(offset int64) (*Record, error) {
	// Look at most one maximal record ahead, plus room to check a record
	// that starts near the end of that window.
	r.fill(2*MaxRecordLen + 2)
	avail := r.buf[r.pos:r.end]
	q := bytes.IndexByte(avail, recordTerminator)
	limit := q
	if limit < 0 {
		limit = min(len(avail), MaxRecordLen+1)
	}
	// A well-formed record starting before the first terminator means the
	// bytes up to it are a truncated record or junk.
	for s := 1; s < limit; s++ {
		if isDecimal(avail[s]) && plausibleRecordAt(avail[s:]) {
			r.pos += s
			if _, ok := atoiDigits(avail, 5); !ok && !looksLikeLeader(avail[:s]) {
				return nil, r.recErr(offset, fmt.Errorf("%d bytes that are not a record", s))
			}
			// A record that only lost its terminator still parses; a
			// truncated one does not.
			out, err := r.parse(avail[:s])
			if err != nil {
				return nil, r.recErr(offset, fmt.Errorf("truncated record: %d bytes before the next record: %w", s, err))
			}
			r.warn("", "record terminator missing")
			return out, nil
		}
	}
	var frame []byte
	switch {
	case q >= 0:
		frame = avail[:q+1]
	case r.end-r.pos <= MaxRecordLen+1 && (r.eof || r.rerr != nil):
		frame = avail // last record lost its terminator
	default:
		r.pos += limit
		n := int64(limit) + r.skipJunk()
		return nil, r.recErr(offset, fmt.Errorf("%d bytes without a record terminator", n))
	}
	r.pos += len(frame)
	if _, ok := atoiDigits(frame, 5); !ok && len(frame) >= 5 && !looksLikeLeader(frame) {
		return nil, r.recErr(offset, fmt.Errorf("%d bytes that are not a record", len(frame)))
	}
	out, err := r.parse(frame)
	if err != nil {
		if q < 0 {
			err = fmt.Errorf("truncated record at end of input: %w", err)
		}
		return nil, r.recErr(offset, err)
	}
	if q < 0 {
		r.warn("", "record terminator missing at end of input")
	} else {
		r.warn("", fmt.Sprintf("leader gives record length %q but the record ends after %d bytes", frame[:min(5, len(frame))], len(frame)))
	}
	return out, nil
}

// skipJunk goes on past bytes that hold no record, one window at a time,
// up to the next plausible record start or just past the next record
// terminator, so that a long stretch of junk is one error, not one per
// window. It returns how many bytes it skipped.
func (r *ISO2709Reader) skipJunk() int64 {
	var skipped int64
	for {
		r.fill(2*MaxRecordLen + 2)
		avail := r.buf[r.pos:r.end]
		if len(avail) == 0 {
			return skipped
		}
		q := bytes.IndexByte(avail, recordTerminator)
		limit := q
		if limit < 0 {
			limit = min(len(avail), MaxRecordLen+1)
		}
		for s := 0; s < limit; s++ {
			if isDecimal(avail[s]) && plausibleRecordAt(avail[s:]) {
				r.pos += s
				return skipped + int64(s)
			}
		}
		if q >= 0 {
			r.pos += q + 1
			return skipped + int64(q+1)
		}
		r.pos += limit
		skipped += int64(limit)
	}
}

// nulStretch is the shortest run of NUL bytes between records that is
// reported: a disk sector. Shorter runs are padding some exporters add.
const nulStretch = 512

func (r *ISO2709Reader) nulErr(offset int64, nuls int) error {
	r.index++
	r.off = offset
	return r.recErr(offset, fmt.Errorf("%d NUL bytes between records skipped: a zeroed stretch of the file, where records may be missing", nuls))
}

// plausibleRecordAt reports whether b starts with a record whose leader
// length ends on a record terminator and whose base address follows a
// directory terminator: strong enough that random data does not pass.
func plausibleRecordAt(b []byte) bool {
	l, ok := atoiDigits(b, 5)
	if !ok || l < minRecordLen || l > len(b) || b[l-1] != recordTerminator {
		return false
	}
	base, ok := atoiDigits(b[12:], 5)
	return ok && base > LeaderLen && base < l && b[base-1] == fieldTerminator
}

// looksLikeLeader accepts a leader whose length is damaged but whose base
// address and entry map are intact.
func looksLikeLeader(b []byte) bool {
	if len(b) < LeaderLen {
		return false
	}
	_, ok := atoiDigits(b[12:], 5)
	return ok
}

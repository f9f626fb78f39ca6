package marc

import "io"

// window is a record reader's view of its input: the bytes read and not
// yet consumed, and where they sit in the stream. Both readers keep one,
// so a record is parsed where it lies in the buffer, however it was cut
// into reads.
type window struct {
	src  io.Reader
	buf  []byte
	pos  int   // first unconsumed byte in buf
	end  int   // end of valid data in buf
	base int64 // stream offset of buf[0]
	eof  bool  // src reported io.EOF
	rerr error // read error to report once buffered data is used up
}

// fillWindow reads until need bytes are unconsumed, or the input ends or
// fails. Reads are of at least chunk/2 bytes: when less room is left,
// the unread tail moves to the front of the buffer (grown first if it is
// smaller than need+chunk), and dropped, when not nil, is told the
// consumed bytes that leave it.
func (w *window) fillWindow(need, chunk int, dropped func(consumed []byte)) {
	stalls := 0
	for w.end-w.pos < need && !w.eof && w.rerr == nil {
		if len(w.buf)-w.pos < need+chunk/2 {
			size := len(w.buf)
			if size < need+chunk {
				size = 2*size + need + chunk
			}
			nb := w.buf
			if size != len(w.buf) {
				nb = make([]byte, size)
			}
			if dropped != nil {
				dropped(w.buf[:w.pos])
			}
			n := copy(nb, w.buf[w.pos:w.end])
			w.buf = nb
			w.base += int64(w.pos)
			w.pos, w.end = 0, n
		}
		n, err := w.src.Read(w.buf[w.end:])
		w.end += n
		switch {
		case err == io.EOF:
			w.eof = true
		case err != nil:
			w.rerr = err
		case n == 0:
			if stalls++; stalls > 100 {
				w.rerr = io.ErrNoProgress
			}
		}
	}
}

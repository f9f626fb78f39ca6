package marc

// DecodeISO2709 decodes one record held whole in raw, as a store keeps
// it. It is NewISO2709Reader(...).Next() without the reader's stream
// buffer (128 KiB), which matters when records are decoded one at a time
// for every search answer. raw is neither modified nor retained. Text is
// converted as opts says; errors are those of Next, io.EOF for an empty
// raw.
func DecodeISO2709(raw []byte, opts ReaderOptions) (*Record, error) {
	r := &ISO2709Reader{opts: opts, buf: raw, end: len(raw), eof: true}
	return r.Next()
}

package harvester

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// envelopeWalk is what the OAI-PMH and SRU decoders share as they walk
// a response's envelope (its records cut out by hollow): the tokens, the
// names of the elements open and the text of the innermost one. The
// decoders tell elements apart by their depth and name.
type envelopeWalk struct {
	d       *xml.Decoder
	stack   []string // the names of the elements open
	text    []byte   // the text of the innermost element
	sawRoot bool
	// The slices' first backing arrays: a decoder runs once for each
	// record, whose walk is then one allocation, not one for each slice.
	stackBuf [6]string
	textBuf  [64]byte
}

// elementHandler is what a decoder does as an element opens (at byte
// off of the envelope) and closes.
type elementHandler interface {
	start(t xml.StartElement, off int64) error
	end() error
}

// walk reads every token of d, handing the elements to h, and fails on
// a document without a root or one that ends inside an element.
func (w *envelopeWalk) walk(d *xml.Decoder, h elementHandler) error {
	w.d, w.stack, w.text = d, w.stackBuf[:0], w.textBuf[:0]
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			w.stack = append(w.stack, t.Name.Local)
			w.text = w.text[:0]
			w.sawRoot = true
			err = h.start(t, off)
		case xml.EndElement:
			if len(w.stack) == 0 {
				return errors.New("unbalanced end element")
			}
			err = h.end()
			w.stack = w.stack[:len(w.stack)-1]
			w.text = w.text[:0]
		case xml.CharData:
			w.text = append(w.text, t...)
		}
		if err != nil {
			return err
		}
	}
	if !w.sawRoot {
		return errors.New("no XML document")
	}
	if len(w.stack) != 0 {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// closing returns the element being closed: its depth, its name and its
// text, trimmed.
func (w *envelopeWalk) closing() (depth int, name, text string) {
	depth = len(w.stack)
	return depth, w.stack[depth-1], strings.TrimSpace(string(w.text))
}

// skipElement skips the rest of the element just opened: one whose end
// hollow found none of, so its content is still in the envelope.
func (w *envelopeWalk) skipElement() error {
	if err := w.d.Skip(); err != nil {
		return err
	}
	w.stack = w.stack[:len(w.stack)-1]
	return nil
}

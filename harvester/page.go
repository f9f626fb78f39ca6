package harvester

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/transform"

	"github.com/unicat/unicat/marc"
)

// xmlPage is a response with a list (OAI-PMH ListRecords or
// ListIdentifiers, SRU searchRetrieve), read twice: a first pass cuts it
// into its envelope, kept whole (it is small, maxEnvelope at most), and
// its items, only counted; a second pass hands the items over one at a
// time. The body is never in memory whole and a page of any size costs
// its largest item, so that a peer cannot make a harvest take memory in
// proportion to its pages.
type xmlPage struct {
	body     *Body
	shape    pageShape
	opts     marc.ReaderOptions
	envelope []byte // head and tail, as UTF-8
	items    int
	ns       nsDecls // the namespace declarations of the head, for the items
}

// maxItemBytes bounds an item's XML for a record limit of max bytes as
// ISO 2709: MARCXML takes up to about fifteen times the bytes of a
// record of one-letter subfields (a 3-byte subfield is a 31-byte
// element), and the item's header and whitespace some more. A longer
// item is rejected unread.
func maxItemBytes(max int) int {
	if max <= 0 {
		max = marc.DefaultMaxRecordBytes
	}
	return 32*max + 64<<10
}

// utf8Reader reads the body as UTF-8: a document declaring another
// encoding (ISO-8859-1, Windows-1252, Windows-1258, ...) is converted as
// it is read, so that the repairs and the parsers see UTF-8; the
// declaration itself is left for the parser's CharsetReader to accept.
func utf8Reader(b *Body) (io.Reader, error) {
	enc := declaredEncoding(b.Head(1024))
	switch enc {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return b.Reader(), nil
	}
	e, err := htmlindex.Get(enc)
	if err != nil {
		return nil, fmt.Errorf("unsupported encoding %q", enc)
	}
	return transform.NewReader(b.Reader(), e.NewDecoder()), nil
}

// readPage is the first pass over a response of the given shape.
func readPage(body *Body, shape pageShape, opts marc.ReaderOptions) (*xmlPage, error) {
	p := &xmlPage{body: body, shape: shape, opts: opts}
	r, err := utf8Reader(body)
	if err != nil {
		return nil, err
	}
	s := newPageScanner(r, shape, maxItemBytes(opts.MaxRecordBytes))
	for {
		seg, err := s.next()
		if err != nil {
			return nil, err
		}
		switch seg.kind {
		case segDone:
			return p, nil
		case segHead:
			p.envelope = append(p.envelope, seg.data...)
			p.ns = headDecls(seg.data)
		case segItem:
			p.items++
		case segTail:
			p.envelope = append(p.envelope, seg.data...)
		}
	}
}

// each is the second pass: fn gets each item with its number in the
// page (from 1).
func (p *xmlPage) each(fn func(seg segment, n int) error) error {
	r, err := utf8Reader(p.body)
	if err != nil {
		return err
	}
	s := newPageScanner(r, p.shape, maxItemBytes(p.opts.MaxRecordBytes))
	for n := 0; ; {
		seg, err := s.next()
		if err != nil {
			return err
		}
		switch seg.kind {
		case segDone:
			return nil
		case segItem:
			n++
			if err := fn(seg, n); err != nil {
				return err
			}
		}
	}
}

// nsDecls are the namespace declarations made in a response's head (on
// the root, the list, ...), by prefix ("" for the default namespace),
// each as written (` xmlns:p="uri"`), for the items read on their own.
type nsDecls map[string]string

// maxDeclBytes bounds a declaration the items get: a namespace name is a
// URI of some tens of bytes, and a megabyte one must not be copied into
// every item.
const maxDeclBytes = 1 << 10

// headDecls collects the declarations of head, the first of each prefix.
func headDecls(head []byte) nsDecls {
	d := nsDecls{}
	for _, m := range reXmlnsDecl.FindAllSubmatch(head, -1) {
		prefix := string(bytes.TrimPrefix(m[1], []byte(":")))
		if _, seen := d[prefix]; !seen && len(m[0]) <= maxDeclBytes {
			d[prefix] = string(m[0])
		}
	}
	return d
}

// rePrefix finds the prefixes of the qualified names in an item (and
// some words before a colon in its text, which name no declaration).
var rePrefix = regexp.MustCompile(`[<\s/]([A-Za-z_][\w.-]*):`)

// forItem returns the declarations item needs, the default namespace's
// and those of the prefixes it uses, in no more bytes than the item has
// (past a first 4 KiB): wrapping an item costs in proportion to the
// item, however many declarations the head makes. An item that would
// need more is read without them, and rejected if it cannot be.
func (d nsDecls) forItem(item []byte) string {
	var b strings.Builder
	budget := len(item) + 4<<10
	var done map[string]bool
	add := func(prefix string) {
		decl, ok := d[prefix]
		if !ok || b.Len()+len(decl) > budget || done[prefix] {
			return
		}
		if done == nil {
			done = map[string]bool{}
		}
		done[prefix] = true
		b.WriteString(decl)
	}
	add("")
	for _, m := range rePrefix.FindAllSubmatch(item, -1) {
		if b.Len() >= budget {
			break
		}
		add(string(m[1]))
	}
	return b.String()
}

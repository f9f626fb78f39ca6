package harvester

import (
	"fmt"

	"github.com/unicat/unicat/marc"
)

// oaiPage is an OAI-PMH response: its envelope (the responseDate, errors,
// Identify, the resumption token) read in the first pass, its records or
// headers one at a time in the second (see xmlPage).
type oaiPage struct {
	*oaiResponse // the envelope; Records is empty
	page         *xmlPage
	list         string // ListRecords or ListIdentifiers
}

// readOAIPage reads the envelope of an OAI-PMH response to verb and
// counts its items. It converts a document in another encoding to UTF-8
// and repairs what it can (repairXML). An error means the response as a
// whole could not be understood (a cut-off document, an HTML error page,
// an envelope of more than maxEnvelope bytes); retrying may help.
func readOAIPage(body *Body, verb string, opts marc.ReaderOptions) (*oaiPage, error) {
	shape, list := noList, ""
	switch verb {
	case "ListRecords":
		shape, list = oaiRecordList, verb
	case "ListIdentifiers":
		shape, list = oaiHeaderList, verb
	}
	page, err := readPage(body, shape, opts)
	if err != nil {
		return nil, err
	}
	clean, reps := repairXML(page.envelope)
	resp, err := decodeOAI(clean, reps, opts)
	if err != nil {
		return nil, err
	}
	return &oaiPage{oaiResponse: resp, page: page, list: list}, nil
}

// each reads the page's records (or headers) in order; fn gets each with
// its number in the page and its offset. A record that cannot be read is
// handed over rejected (Err set), its identifier found if it can be.
func (p *oaiPage) each(fn func(rec *oaiRecord, n int, off int64) error) error {
	// Records the items' shape did not find (a response of an unusual
	// shape) are in the envelope, read whole there.
	for i := range p.Records {
		if err := fn(&p.Records[i], i+1, -1); err != nil {
			return err
		}
	}
	if p.page.items == 0 {
		return nil
	}
	closing := "</" + p.list + "></OAI-PMH>"
	return p.page.each(func(seg segment, n int) error {
		open := "<OAI-PMH" + p.page.ns.forItem(seg.data) + "><" + p.list + ">"
		for _, rec := range oaiItem(seg, open, closing, p.page.opts) {
			if err := fn(&rec, n, seg.offset); err != nil {
				return err
			}
		}
		return nil
	})
}

// oaiItem reads one item of a list on its own, wrapped in the envelope's
// namespace declarations: usually one record; none readable is one
// record rejected, named by its identifier if one can be found.
func oaiItem(seg segment, open, closing string, opts marc.ReaderOptions) []oaiRecord {
	bad := func(reason, msg string) []oaiRecord {
		r := oaiRecord{}
		if m := reIdentifier.FindSubmatch(seg.data); m != nil {
			r.ID = string(m[1])
		}
		r.reject(reason, msg)
		return []oaiRecord{r}
	}
	if seg.over {
		return bad("too-large", fmt.Sprintf("%d bytes of XML, more than a record of at most %d bytes can take (max_record_bytes)",
			seg.size, maxRecordLimit(opts)))
	}
	clean, reps := repairXML(seg.data)
	doc := make([]byte, 0, len(open)+len(clean)+len(closing))
	doc = append(append(append(doc, open...), clean...), closing...)
	r, err := decodeOAI(doc, nil, opts)
	if err != nil || len(r.Records) == 0 {
		msg := "not well-formed XML"
		if err != nil {
			msg += ": " + err.Error()
		}
		return bad("xml", msg)
	}
	if desc := describeRepairs(reps, 0, len(clean)+1); desc != "" {
		r.Records[0].Warnings = append([]string{"repaired: " + desc}, r.Records[0].Warnings...)
	}
	return r.Records
}

// maxRecordLimit is the size limit the options set.
func maxRecordLimit(opts marc.ReaderOptions) int {
	if opts.MaxRecordBytes <= 0 {
		return marc.DefaultMaxRecordBytes
	}
	return opts.MaxRecordBytes
}

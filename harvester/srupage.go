package harvester

import (
	"fmt"

	"github.com/unicat/unicat/marc"
)

// sruPage is a searchRetrieve response: its envelope (numberOfRecords,
// nextRecordPosition, diagnostics) read in the first pass, its records
// one at a time in the second (see xmlPage).
type sruPage struct {
	*sruResponse // the envelope; Records holds what the items' shape did not find
	page         *xmlPage
}

// readSRUPage reads the envelope of a searchRetrieve response of SRU
// 1.1, 1.2 or 2.0 and counts its records; see readOAIPage for the
// encoding, repairs and errors.
func readSRUPage(body *Body, opts marc.ReaderOptions) (*sruPage, error) {
	page, err := readPage(body, sruRecordList, opts)
	if err != nil {
		return nil, err
	}
	clean, reps := repairXML(page.envelope)
	resp, err := decodeSRU(clean, reps, opts)
	if err != nil {
		return nil, err
	}
	return &sruPage{sruResponse: resp, page: page}, nil
}

// each reads the page's records in order; fn gets each with its number
// in the page and its offset (-1 for one read with the envelope). A
// record that cannot be read is handed over rejected.
func (p *sruPage) each(fn func(rec *sruRecord, n int, off int64) error) error {
	for i := range p.Records {
		if err := fn(&p.Records[i], i+1, -1); err != nil {
			return err
		}
	}
	if p.page == nil || p.page.items == 0 {
		return nil
	}
	const closing = "</records></searchRetrieveResponse>"
	return p.page.each(func(seg segment, n int) error {
		open := "<searchRetrieveResponse" + p.page.ns.forItem(seg.data) + "><records>"
		for _, rec := range sruItem(seg, open, closing, p.page.opts) {
			if err := fn(&rec, n, seg.offset); err != nil {
				return err
			}
		}
		return nil
	})
}

// sruItem reads one record of a page on its own (see oaiItem).
func sruItem(seg segment, open, closing string, opts marc.ReaderOptions) []sruRecord {
	if seg.over {
		return []sruRecord{{Reason: "too-large", Err: fmt.Sprintf("%d bytes of XML, more than a record of at most %d bytes can take (max_record_bytes)",
			seg.size, maxRecordLimit(opts))}}
	}
	clean, reps := repairXML(seg.data)
	doc := make([]byte, 0, len(open)+len(clean)+len(closing))
	doc = append(append(append(doc, open...), clean...), closing...)
	r, err := decodeSRU(doc, nil, opts)
	if err != nil || len(r.Records) == 0 {
		msg := "not well-formed XML"
		if err != nil {
			msg += ": " + err.Error()
		}
		return []sruRecord{{Reason: "xml", Err: msg}}
	}
	if desc := describeRepairs(reps, 0, len(clean)+1); desc != "" {
		r.Records[0].Warnings = append([]string{"repaired: " + desc}, r.Records[0].Warnings...)
	}
	return r.Records
}

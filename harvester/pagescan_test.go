package harvester

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

// scanAll cuts doc and returns each segment as kind:text (an item over
// the limit as item>size), read at once and a byte at a time.
func scanAll(t *testing.T, doc string, shape pageShape, maxItem int) ([]string, error) {
	t.Helper()
	var results [2][]string
	var errs [2]error
	for i, r := range []*pageScanner{
		newPageScanner(strings.NewReader(doc), shape, maxItem),
		newPageScanner(iotest.OneByteReader(strings.NewReader(doc)), shape, maxItem),
	} {
		var next int64 // where the next segment must start
		for {
			seg, err := r.next()
			if err != nil {
				errs[i] = err
				break
			}
			if seg.kind == segDone {
				if next != int64(len(doc)) {
					t.Fatalf("segments end at %d of %d bytes", next, len(doc))
				}
				break
			}
			if seg.offset != next {
				t.Fatalf("segment at %d after one ending at %d", seg.offset, next)
			}
			next = seg.offset + seg.size
			if int64(len(doc)) < seg.offset+seg.size || !seg.over && doc[seg.offset:seg.offset+seg.size] != string(seg.data) {
				t.Fatalf("segment at %d (%d bytes) is not the document's: %q", seg.offset, seg.size, seg.data)
			}
			s := [...]string{"head", "item", "tail"}[seg.kind] + ":" + string(seg.data)
			if seg.over {
				s = "item>" + string(rune('0'+seg.size/10000))
			}
			results[i] = append(results[i], s)
		}
	}
	if strings.Join(results[0], "|") != strings.Join(results[1], "|") || (errs[0] == nil) != (errs[1] == nil) {
		t.Fatalf("at once %q %v, byte by byte %q %v", results[0], errs[0], results[1], errs[1])
	}
	return results[0], errs[0]
}

func TestPageScanner(t *testing.T) {
	big := strings.Repeat("x", 30000)
	for _, c := range []struct {
		name  string
		doc   string
		shape pageShape
		want  []string
	}{
		{"records", `<O><L><record><header/><metadata><record><leader/></record></metadata></record>` +
			`<oai:record a="1">` + "\n " + `<oai:header status="deleted"/></oai:record><resumptionToken>t</resumptionToken></L></O>`,
			oaiRecordList, []string{"head:<O><L>", "item:<record><header/><metadata><record><leader/></record></metadata></record>",
				`item:<oai:record a="1">` + "\n " + `<oai:header status="deleted"/></oai:record>`, "tail:<resumptionToken>t</resumptionToken></L></O>"}},
		{"last page", `<O><ListRecords><record><header/></record></ListRecords ></O>`, oaiRecordList,
			[]string{"head:<O><ListRecords>", "item:<record><header/></record>", "tail:</ListRecords ></O>"}},
		{"empty list", `<O><ListRecords><resumptionToken/></ListRecords></O>`, oaiRecordList,
			[]string{"head:<O><ListRecords>", "tail:<resumptionToken/></ListRecords></O>"}},
		{"headers", `<O><ListIdentifiers><header><identifier>a</identifier></header><header/></ListIdentifiers></O>`, oaiHeaderList,
			[]string{"head:<O><ListIdentifiers>", "item:<header><identifier>a</identifier></header>", "item:<header/>", "tail:</ListIdentifiers></O>"}},
		{"no list", `<O><Identify><record><header/></record></Identify></O>`, noList, []string{"head:<O><Identify><record><header/></record></Identify></O>"}},
		{"sru", `<s><records><record><recordSchema>m</recordSchema><recordData><record><leader/></record></recordData></record></records><x/></s>`,
			sruRecordList, []string{"head:<s><records>", "item:<record><recordSchema>m</recordSchema><recordData><record><leader/></record></recordData></record>",
				"tail:</records><x/></s>"}},
		{"item over the limit", `<O><ListRecords><record><header/>` + big + `</record><record><header/></record></ListRecords></O>`, oaiRecordList,
			[]string{"head:<O><ListRecords>", "item>3", "item:<record><header/></record>", "tail:</ListRecords></O>"}},
	} {
		got, err := scanAll(t, c.doc, c.shape, 20000)
		if err != nil || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: %q %v\nwant %q", c.name, got, err, c.want)
		}
	}
	if _, err := scanAll(t, `<O><L><record><header/></record><record><header/>`, oaiRecordList, 20000); !errors.Is(err, errListCut) {
		t.Errorf("list cut off: %v", err)
	}
	huge := "<O" + strings.Repeat(" ", maxEnvelope) + "/>"
	if _, err := scanAll(t, huge, oaiRecordList, 20000); err == nil || !strings.Contains(err.Error(), "envelope") {
		t.Errorf("huge envelope: %v", err)
	}
}

// An item over the limit is skipped keeping its start only: the scanner's
// buffer does not grow with it.
func TestPageScannerSkipsLargeItems(t *testing.T) {
	doc := "<O><L><record><header><identifier>big</identifier></header><metadata>" + strings.Repeat("<x>y</x>", 2<<20) +
		"</metadata></record><record><header/></record></ListRecords></O>"
	s := newPageScanner(strings.NewReader(doc), oaiRecordList, 100000)
	var kinds []segKind
	for {
		seg, err := s.next()
		if err != nil {
			t.Fatal(err)
		}
		if seg.kind == segDone {
			break
		}
		kinds = append(kinds, seg.kind)
		if seg.over && (len(seg.data) != overItemHead || !bytes.Contains(seg.data, []byte("<identifier>big</identifier>")) || seg.size < 16<<20) {
			t.Errorf("item over the limit: %d bytes kept of %d", len(seg.data), seg.size)
		}
	}
	if len(kinds) != 4 || len(s.buf) > 1<<20 {
		t.Errorf("segments %v, buffer %d bytes", kinds, len(s.buf))
	}
}

// FuzzPageScanner: any input is cut, or refused, without panicking; the
// segments follow each other from the document's start, each being the
// document's bytes there, the same read at once and byte by byte.
func FuzzPageScanner(f *testing.F) {
	f.Add([]byte(`<O><ListRecords><record><header/></record><resumptionToken>t</resumptionToken></ListRecords></O>`), uint8(0))
	f.Add([]byte(`<O><ListIdentifiers><header/><h:header></h:header></ListIdentifiers></O>`), uint8(1))
	f.Add([]byte(`<s><records><record><recordData>x</recordData></record></records></s>`), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		shape := []pageShape{oaiRecordList, oaiHeaderList, sruRecordList, noList}[int(which)%4]
		segs, err := scanAll(t, string(data), shape, 64)
		if err != nil {
			return
		}
		if len(segs) == 0 || !strings.HasPrefix(segs[0], "head:") {
			t.Fatalf("segments %q", segs)
		}
		if !strings.HasPrefix(segs[len(segs)-1], "tail:") && len(segs) > 1 {
			t.Fatalf("items without a tail: %q", segs)
		}
	})
}

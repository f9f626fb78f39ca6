package dedup

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// A union record is its master's description with what the union adds:
//
//   - 001 is the union id; the master's 001, 003 and 005 go (the master's
//     035 below says which record it was), as do its local fields (9XX,
//     and the holdings fields 841-878 but 856, which the union gives
//     again for every holder).
//   - Every other field of the master stays, its identifiers (010, 015,
//     016, 020, 022, 024, 035, prefixed or not) among them; an 035 is
//     left out only when it repeats one kept already or one the union
//     adds.
//   - One 035 per member record: "(ORG)number $9 unicat", ORG the MARC
//     organization code of the member's source's library and number its
//     control number (the local part of an OAI identifier, the record's
//     own 035 for a record keyed by it). $9, a subfield MARC leaves to
//     local definition, marks the 035s a union catalog adds, so that one
//     harvesting this one can tell its members' numbers from the
//     identifiers catalogers typed.
//   - The 852s of every holding library (holdings.go), holders in order
//     of priority, then code.
//   - The other members' links to digital copies (856 with $u) that the
//     master's own 856s do not give, each once: a reader finds every
//     library's digitised copy on the one record.

// memberMark is the $9 of the 035s a union record adds for its members.
const memberMark = "unicat"

// memberNumber returns the number a member's 035 gives after its
// organization code, from the record's local id: the id itself, but the
// local part of an OAI identifier ("oai:host:123" → "123"), and the 035
// itself for a record keyed by its 035 ("035:(OCoLC)123" → "(OCoLC)123",
// with no code of its own: prefixed says whole).
func memberNumber(local string) (number string, prefixed bool) {
	if v, ok := strings.CutPrefix(local, "035:"); ok {
		return v, strings.HasPrefix(v, "(")
	}
	if rest, ok := strings.CutPrefix(local, "oai:"); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 && i < len(rest)-1 {
			return rest[i+1:], false
		}
	}
	return local, false
}

// memberIDs returns the $a of the members' 035s: "(ORG)number", ORG
// the code orgs gives the member's source (its source id where orgs
// gives none).
func memberIDs(members, orgs []string) []string {
	out := make([]string, len(members))
	org, last := "", ""
	for i, k := range members {
		src, local := splitRecordKey(k)
		if src != last {
			last, org = src, src
			for j := 0; j+1 < len(orgs); j += 2 {
				if orgs[j] == src {
					org = orgs[j+1]
					break
				}
			}
		}
		if number, prefixed := memberNumber(local); prefixed {
			out[i] = number
		} else {
			out[i] = "(" + org + ")" + number
		}
	}
	return out
}

// memberIDFields returns the members' 035s, "$a (ORG)number $9 unicat",
// in ISO 2709 field data, or false when an id holds a byte ISO 2709
// reserves (a control number read from MARCXML may). They are made
// whenever an assembled union record is served.
func memberIDFields(members, orgs []string) ([]marc.RawField, bool) {
	ids := memberIDs(members, orgs)
	n := 0
	for _, id := range ids {
		n += len(id) + 4 + 2 + len(memberMark)
	}
	data := make([]byte, 0, n)
	out := make([]marc.RawField, len(ids))
	for i, id := range ids {
		if strings.ContainsAny(id, "\x1d\x1e\x1f") || !utf8.ValidString(id) {
			return nil, false
		}
		start := len(data)
		data = append(data, ' ', ' ', 0x1f, 'a')
		data = append(data, id...)
		data = append(data, 0x1f, '9')
		data = append(data, memberMark...)
		out[i] = marc.RawField{Tag: "035", Data: data[start:len(data):len(data)]}
	}
	return out, true
}

// memberIDFieldsDecoded is memberIDFields for a union record made from a
// decoded master.
func memberIDFieldsDecoded(members, orgs []string) []marc.Field {
	ids := memberIDs(members, orgs)
	out := make([]marc.Field, len(ids))
	for i, id := range ids {
		out[i] = marc.Field{Tag: "035", Ind1: ' ', Ind2: ' ',
			Subfields: []marc.Subfield{{Code: 'a', Value: id}, {Code: '9', Value: memberMark}}}
	}
	return out
}

// encodeServed sets what su, its cluster set, stores of the union record
// of a master and the fields it adds beside the 035s (the holders' 852s,
// the other members' 856s): when the master's stored ISO 2709
// (msr) is canonical, as the records we store nearly always are, the
// master's hash and the 852s, the record being assembled when served,
// its 035s made from su.members; else the record whole, made from the
// decoded master (mrec, or msr decoded), in MARCXML when ISO 2709 cannot
// hold it. checked says msr's bytes are known canonical (the master's
// profile says so of bytes with its hash). With want, it also returns
// the record as it reads back from what was stored.
func encodeServed(id string, su *storedUnion, msr *store.SourceRecord, checked bool, mrec *marc.Record, added []marc.RawField, want bool) (served *marc.Record, err error) {
	if msr != nil {
		if ids, ok := memberIDFields(su.members, su.orgs); ok {
			all := append(ids, added...)
			if leader, layout, ok := assembly(id, msr, checked, all); ok {
				su.format = fmtAssembled
				su.masterSum = [masterSumLen]byte(msr.Hash[:masterSumLen])
				su.raw, su.added = encodeAssembled(su.masterSum, added), added
				if want {
					served, err = marc.DecodeFields(leader, byTag(layout, len(all)))
				}
				return served, err
			}
		}
		if mrec == nil {
			if mrec, err = decodeServed(fmtISO2709, msr.Raw); err != nil {
				return nil, err
			}
		}
	}
	rec, err := unionRecord(id, mrec, memberIDFieldsDecoded(su.members, su.orgs), added)
	if err != nil {
		return nil, err
	}
	if out, err := marc.AppendISO2709(nil, rec); err == nil && len(out) <= 99999 {
		su.format, su.raw = fmtISO2709, out
	} else if su.raw, err = appendMARCXML(rec); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	} else {
		su.format = fmtMARCXML
	}
	if want {
		if served, err = decodeServed(su.format, su.raw); err != nil {
			return nil, fmt.Errorf("the encoded record does not decode: %w", err)
		}
	}
	return served, nil
}

// assembly returns the leader and fields (not yet in tag order) of the
// union record of the master stored as msr with the fields added; ok is
// false when the record cannot be assembled: a master that is not
// canonical ISO 2709, a record over the format's length limits. Bytes
// checked canonical before (checked) are only split.
func assembly(id string, msr *store.SourceRecord, checked bool, added []marc.RawField) (leader []byte, layout []marc.RawField, ok bool) {
	var fields []marc.RawField
	if checked {
		leader, fields, ok = marc.SplitCanonicalISO2709(msr.Raw, nil)
	} else {
		leader, fields, ok = marc.CanonicalISO2709(msr.Raw, nil)
	}
	if !ok {
		return nil, nil, false
	}
	layout = unionFields(id, fields, added)
	if _, err := marc.ISO2709FieldsSize(layout); err != nil {
		return nil, nil, false
	}
	return leader, layout, true
}

// masterFilter decides which fields of a master go into its union
// record (see the top of this file), given the $a of the 035s the union
// adds.
type masterFilter struct {
	ids  func() []string // made when first needed: most masters have no 035
	made []string
	seen []string // the 035s kept, as data: few, a list beats a map
}

// keep reports whether the master's field tag, with ISO 2709 data and
// $a (for an 035, else nil and ""), goes into the union record.
func (m *masterFilter) keep(tag string, data []byte, a string) bool {
	switch {
	case tag == "001" || tag == "003" || tag == "005":
		return false
	case len(tag) == 3 && isLocalTag(tag):
		return false
	case tag == "035":
		if slices.Contains(m.seen, string(data)) {
			return false
		}
		if a != "" {
			if m.made == nil {
				m.made = m.ids()
			}
			if slices.Contains(m.made, a) {
				return false // the union's own says it
			}
		}
		m.seen = append(m.seen, string(data))
	}
	return true
}

// unionRecord makes the served record of a cluster from its decoded
// master: 001 = the union id, the master's fields kept, the members'
// 035s and the other fields added (852s, 856s), in tag order.
func unionRecord(id string, mrec *marc.Record, ids []marc.Field, added []marc.RawField) (*marc.Record, error) {
	// Only the fields are wanted: any leader of the right length will do.
	extra, err := marc.DecodeFields([]byte("00000nam a2200000   4500"), added)
	if err != nil {
		return nil, fmt.Errorf("852s and 856s: %w", err)
	}
	out := &marc.Record{Leader: mrec.Leader}
	out.Fields = make([]marc.Field, 0, len(mrec.Fields)+len(ids)+len(added)+1)
	out.Fields = append(out.Fields, marc.Field{Tag: "001", Value: id})
	filter := masterFilter{ids: func() []string {
		out := make([]string, len(ids))
		for i := range ids {
			out[i] = ids[i].Sub('a')
		}
		return out
	}}
	var data []byte
	for i := range mrec.Fields {
		f := &mrec.Fields[i]
		var a string
		if f.Tag == "035" {
			// A field ISO 2709 cannot hold is compared as far as written.
			data, _ = marc.AppendFieldData(data[:0], f)
			a = f.Sub('a')
		}
		if filter.keep(f.Tag, data, a) {
			out.Fields = append(out.Fields, *f)
		}
	}
	out.Fields = append(out.Fields, ids...)
	out.Fields = append(out.Fields, extra.Fields...)
	slices.SortStableFunc(out.Fields, func(a, b marc.Field) int { return strings.Compare(a.Tag, b.Tag) })
	return out, nil
}

// unionLayout is unionRecord on fields in ISO 2709: 001 = the union id,
// the master's fields kept (split by marc.CanonicalISO2709), the added
// ones, in tag order.
func unionLayout(id string, master, added []marc.RawField) []marc.RawField {
	return byTag(unionFields(id, master, added), len(added))
}

// unionFields is unionLayout before the fields are put in tag order,
// enough to know the record's size: the master's kept, then the added.
func unionFields(id string, master, added []marc.RawField) []marc.RawField {
	fields := make([]marc.RawField, 0, len(master)+len(added)+1)
	fields = append(fields, marc.RawField{Tag: "001", Data: []byte(id)})
	filter := masterFilter{ids: func() []string {
		var out []string
		for _, f := range added {
			if f.Tag == "035" {
				out = append(out, rawSub(f.Data, 'a'))
			}
		}
		return out
	}}
	for _, f := range master {
		var data []byte
		var a string
		if f.Tag == "035" {
			data, a = f.Data, rawSub(f.Data, 'a')
		}
		if filter.keep(f.Tag, data, a) {
			fields = append(fields, f)
		}
	}
	return append(fields, added...)
}

// byTag orders unionFields' fields, the last n of them added, by tag,
// stably. The master's fields and the added ones are each nearly always
// in order already: then the added are merged in place, from the end,
// else everything is sorted.
func byTag(fields []marc.RawField, n int) []marc.RawField {
	cmp := func(a, b marc.RawField) int { return strings.Compare(a.Tag, b.Tag) }
	a, b := fields[:len(fields)-n], slices.Clone(fields[len(fields)-n:])
	if !slices.IsSortedFunc(a, cmp) || !slices.IsSortedFunc(b, cmp) {
		slices.SortStableFunc(fields, cmp)
		return fields
	}
	// Backwards: a tie puts the added field after the master's.
	i, j := len(a)-1, len(b)-1
	for k := len(fields) - 1; j >= 0; k-- {
		if i >= 0 && a[i].Tag > b[j].Tag {
			fields[k] = a[i]
			i--
		} else {
			fields[k] = b[j]
			j--
		}
	}
	return fields
}

// rawSub returns the first subfield code of a canonical data field's
// bytes (indicators, then delimiter, code, value ...), "" when none.
func rawSub(data []byte, code byte) string {
	if len(data) < 2 {
		return ""
	}
	for rest := data[2:]; len(rest) >= 2; {
		// rest[0] is a delimiter.
		end := bytes.IndexByte(rest[1:], 0x1f)
		if end < 0 {
			end = len(rest) - 1
		}
		if rest[1] == code {
			return string(rest[2 : 1+end])
		}
		rest = rest[1+end:]
	}
	return ""
}

func appendMARCXML(r *marc.Record) ([]byte, error) {
	raw, _ := marc.AppendMARCXML(nil, r, true)
	if len(raw) == 0 {
		return nil, fmt.Errorf("empty MARCXML")
	}
	return raw, nil
}

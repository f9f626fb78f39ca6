package dedup

import (
	"slices"
	"strconv"
	"strings"

	"github.com/unicat/unicat/marc"
)

// Holdings: which library holds a record, and the 852s its union record
// serves for it.
//
// A member's 852s pass into the union record as the member sent them
// (indicators, every subfield, their order), with one rule: $a names the
// holding library by its network code (the library every record of a
// one-library source is held by; for a source of many libraries, the
// code its holder subfield carries, mapped by holder_codes). An 852
// without $a gets it in front (after a leading $6 or $8); one whose $a
// says something else has it replaced: the network code is what
// downstream catalogs and the OAI sets know the library by, and the
// library's own name for itself is the configuration's business. The
// library's level is not written into the record: it is in unicat's own
// data (the union value, the OAI sets level:…).
//
// Koha items (952, one per copy) become 852s by this mapping:
//
//	952 $a home branch     → 852 $a (the holder, when holder is a), else
//	                         a first $b when it is not the library's code
//	952 $8 collection code → 852 $b
//	952 $c shelving loc.   → 852 $c
//	952 $o call number     → 852 $h (whole)
//	952 $h serial enum.    → 852 $3
//	952 $p barcode         → 852 $p, only with the source's barcodes
//	952 $t copy number     → 852 $t
//	952 $z public note     → 852 $z
//
// Everything else of a 952 (item type, prices, dates, circulation
// counters, the non-public note $x) is the library's own housekeeping
// and stays out. Items withdrawn ($0) or lost ($1) are not holdings.
// Items that map to the same 852 but for $t are one 852: $t gives their
// copy numbers as a range when they are consecutive numbers ("1-3"),
// else "1-N" for N items, so that a copy count reads the same either way.
// A record with no holdings field at all is held by the source's library:
// its union record gets "852 $a CODE" for it.

// holding is one holdings field of a member record as the union record
// serves it.
type holding struct {
	holder string // the holding library's code
	data   []byte // the 852's ISO 2709 field data: indicators, subfields
}

// recordHoldings returns the holdings of rec, a record of source src. It
// never returns none: a record without holdings is held by the source's
// library.
func recordHoldings(rec *marc.Record, src Source) []holding {
	var fields []marc.Field
	var holders []string
	switch src.Holdings {
	case "952":
		fields, holders = kohaItems(rec, src)
	default:
		for _, f := range rec.FieldsByTag("852") {
			if len(f.Subfields) == 0 {
				continue
			}
			h := src.holderOf(f)
			fields = append(fields, withLibrary(f, h))
			holders = append(holders, h)
		}
	}
	out := make([]holding, 0, len(fields))
	for i := range fields {
		data, err := marc.AppendFieldData(nil, &fields[i])
		if err != nil {
			// Text ISO 2709 cannot carry (a control character the
			// MARCXML reader let through): the library still holds it.
			data, _ = marc.AppendFieldData(nil, &marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ',
				Subfields: []marc.Subfield{{Code: 'a', Value: holders[i]}}})
		}
		if !slices.ContainsFunc(out, func(h holding) bool { return string(h.data) == string(data) }) {
			out = append(out, holding{holder: holders[i], data: data})
		}
	}
	if len(out) == 0 {
		data, _ := marc.AppendFieldData(nil, &marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ',
			Subfields: []marc.Subfield{{Code: 'a', Value: src.LibraryCode}}})
		out = append(out, holding{holder: src.LibraryCode, data: data})
	}
	return out
}

// holderOf returns the code of the library holding field f of a record
// of src.
func (src Source) holderOf(f *marc.Field) string {
	if src.Holder == 0 {
		return src.LibraryCode
	}
	code := strings.TrimSpace(f.Sub(src.Holder))
	if code == "" {
		return src.LibraryCode
	}
	if to, ok := src.HolderCodes[code]; ok {
		return to
	}
	return code
}

// withLibrary returns a copy of the 852 f whose $a is code.
func withLibrary(f *marc.Field, code string) marc.Field {
	out := marc.Field{Tag: "852", Ind1: f.Ind1, Ind2: f.Ind2}
	out.Subfields = make([]marc.Subfield, 0, len(f.Subfields)+1)
	hasA := false
	for _, sf := range f.Subfields {
		if sf.Code == 'a' {
			if hasA {
				continue // $a is not repeatable: one library per 852
			}
			hasA, sf.Value = true, code
		}
		out.Subfields = append(out.Subfields, sf)
	}
	if !hasA {
		at := 0
		for at < len(out.Subfields) && (out.Subfields[at].Code == '6' || out.Subfields[at].Code == '8') {
			at++
		}
		out.Subfields = slices.Insert(out.Subfields, at, marc.Subfield{Code: 'a', Value: code})
	}
	return out
}

// kohaItems maps the 952 items of rec to 852s, one per holder and shelf,
// with the holder of each.
func kohaItems(rec *marc.Record, src Source) ([]marc.Field, []string) {
	type group struct {
		holder string
		field  marc.Field
		copies []string // the items' 952 $t, "" when an item has none
	}
	var groups []*group
	for _, f := range rec.FieldsByTag("952") {
		if flagged(f.Sub('0')) || flagged(f.Sub('1')) {
			continue // withdrawn or lost
		}
		holder := src.holderOf(f)
		out := marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: holder}}}
		add := func(code byte, v string) {
			if v = strings.TrimSpace(v); v != "" {
				out.Subfields = append(out.Subfields, marc.Subfield{Code: code, Value: v})
			}
		}
		if home := strings.TrimSpace(f.Sub('a')); src.Holder != 'a' && home != holder {
			add('b', home)
		}
		add('b', f.Sub('8'))
		add('c', f.Sub('c'))
		add('h', f.Sub('o'))
		add('3', f.Sub('h'))
		if src.Barcodes {
			add('p', f.Sub('p'))
		}
		add('z', f.Sub('z'))
		i := slices.IndexFunc(groups, func(g *group) bool { return sameSubfields(g.field.Subfields, out.Subfields) })
		if i < 0 {
			groups = append(groups, &group{holder: holder, field: out})
			i = len(groups) - 1
		}
		groups[i].copies = append(groups[i].copies, strings.TrimSpace(f.Sub('t')))
	}
	fields := make([]marc.Field, len(groups))
	holders := make([]string, len(groups))
	for i, g := range groups {
		if t := copyNumbers(g.copies); t != "" {
			// $t sits before the notes, as 852 orders its subfields.
			at := len(g.field.Subfields)
			if n := len(g.field.Subfields); g.field.Subfields[n-1].Code == 'z' {
				at = n - 1
			}
			g.field.Subfields = slices.Insert(g.field.Subfields, at, marc.Subfield{Code: 't', Value: t})
		}
		fields[i], holders[i] = g.field, g.holder
	}
	return fields, holders
}

// flagged reports whether a Koha status subfield ($0 withdrawn, $1 lost)
// says the item is so: any value but empty and "0".
func flagged(v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && v != "0"
}

func sameSubfields(a, b []marc.Subfield) bool {
	return slices.Equal(a, b)
}

// copyNumbers is the 852 $t of items with the copy numbers nums (952
// $t, "" for none): one item's own, a range of consecutive numbers
// "lo-hi", else "1-N" for N items.
func copyNumbers(nums []string) string {
	if len(nums) == 1 {
		return nums[0]
	}
	ns := make([]int, 0, len(nums))
	for _, s := range nums {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return "1-" + strconv.Itoa(len(nums))
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	for i := 1; i < len(ns); i++ {
		if ns[i] != ns[i-1]+1 {
			return "1-" + strconv.Itoa(len(nums))
		}
	}
	return strconv.Itoa(ns[0]) + "-" + strconv.Itoa(ns[len(ns)-1])
}

// Copies returns how many copies an 852 stands for: one, or for a $t
// range "1-3" the range's size.
func Copies(f *marc.Field) int {
	t := strings.TrimSpace(f.Sub('t'))
	if lo, hi, ok := strings.Cut(t, "-"); ok {
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b, err2 := strconv.Atoi(strings.TrimSpace(hi))
		if err1 == nil && err2 == nil && b >= a && a >= 0 && b-a < 100000 {
			return b - a + 1
		}
	}
	return 1
}

// recordLinks returns rec's 856s that link to something ($u), in ISO 2709
// field data: a union record serves every member's links (see
// unionLinks).
func recordLinks(rec *marc.Record) [][]byte {
	var out [][]byte
	for _, f := range rec.FieldsByTag("856") {
		if strings.TrimSpace(f.Sub('u')) == "" {
			continue
		}
		if data, err := marc.AppendFieldData(nil, f); err == nil {
			out = append(out, data)
		}
	}
	return out
}

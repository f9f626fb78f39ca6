package dedup

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// mk builds a field from "$a X $b Y" style text (indicators ind).
func mk(tag, ind, subs string) marc.Field {
	f := marc.Field{Tag: tag, Ind1: ind[0], Ind2: ind[1]}
	for _, part := range strings.Split(subs, "$")[1:] {
		f.Subfields = append(f.Subfields, marc.Subfield{Code: part[0], Value: strings.TrimSpace(part[1:])})
	}
	return f
}

// show renders holdings as "HOLDER: ind $a ... $b ..." lines.
func show(t *testing.T, hs []holding) []string {
	t.Helper()
	var out []string
	for _, h := range hs {
		rec, err := marc.DecodeFields([]byte("00000nam a2200000   4500"), []marc.RawField{{Tag: "852", Data: h.data}})
		if err != nil {
			t.Fatal(err)
		}
		f := rec.Fields[0]
		var b strings.Builder
		b.WriteString(h.holder + ": " + string([]byte{f.Ind1, f.Ind2}))
		for _, s := range f.Subfields {
			b.WriteString(" $" + string(s.Code) + " " + s.Value)
		}
		out = append(out, b.String())
	}
	return out
}

func TestRecordHoldings(t *testing.T) {
	vinh := Source{LibraryCode: "NA-VINH", Holdings: "852"}
	union := Source{LibraryCode: "NA-UNION", Holdings: "852", Holder: 'a', HolderCodes: map[string]string{"TVNA": "NA-TINH"}}
	koha := Source{LibraryCode: "NA-KOHA", Holdings: "952", Holder: 'a', HolderCodes: map[string]string{"VINH": "NA-VINH"}}
	kohaOne := Source{LibraryCode: "NA-VINH", Holdings: "952"}
	tests := []struct {
		name   string
		src    Source
		fields []marc.Field
		want   []string
	}{
		{"852 passes through: indicators, every subfield, their order", vinh,
			[]marc.Field{mk("852", "01", "$a NA-VINH $b Kho đọc $h 959.7 $i TR-K $t Q.1 $c Giá 3 $p VV.00123 $z Bản quý $x ghi chú")},
			[]string{"NA-VINH: 01 $a NA-VINH $b Kho đọc $h 959.7 $i TR-K $t Q.1 $c Giá 3 $p VV.00123 $z Bản quý $x ghi chú"}},
		{"$a added in front, after $6 and $8", vinh,
			[]marc.Field{mk("852", "  ", "$8 1 $b Kho mượn $h 895"), mk("852", "  ", "$h 959.7")},
			[]string{"NA-VINH:    $8 1 $a NA-VINH $b Kho mượn $h 895", "NA-VINH:    $a NA-VINH $h 959.7"}},
		{"another $a is the library's own name: replaced", vinh,
			[]marc.Field{mk("852", "  ", "$a TVVINH $b Kho đọc $a again")},
			[]string{"NA-VINH:    $a NA-VINH $b Kho đọc"}},
		{"no holdings: held by the library", vinh, nil, []string{"NA-VINH:    $a NA-VINH"}},
		{"a repeated field once; an empty 852 is none", vinh,
			[]marc.Field{mk("852", "  ", "$h 1"), mk("852", "  ", "$h 1"), {Tag: "852", Ind1: ' ', Ind2: ' '}},
			[]string{"NA-VINH:    $a NA-VINH $h 1"}},
		{"a union catalog's holders survive, codes mapped, unknown kept", union,
			[]marc.Field{mk("852", "  ", "$a NA-VINH $b Kho đọc $h 959.7"), mk("852", "  ", "$a TVNA $h 895"),
				mk("852", "  ", "$a HN-XYZ"), mk("852", "  ", "$h no holder")},
			[]string{"NA-VINH:    $a NA-VINH $b Kho đọc $h 959.7", "NA-TINH:    $a NA-TINH $h 895",
				"HN-XYZ:    $a HN-XYZ", "NA-UNION:    $a NA-UNION $h no holder"}},
		{"Koha items by home branch: mapped, grouped, withdrawn and lost left out", koha,
			[]marc.Field{
				mk("952", "  ", "$a VINH $b VINH $8 TK $c KD $o 959.7 TR-K $p 100001 $t 1 $y BK $x nội bộ"),
				mk("952", "  ", "$a VINH $b VINH $8 TK $c KD $o 959.7 TR-K $p 100002 $t 2"),
				mk("952", "  ", "$a VINH $b VINH $8 TK $c KD $o 959.7 TR-K $p 100003 $t 3 $0 1"),
				mk("952", "  ", "$a DC $c KM $o 959.7 $z Hỏng bìa $1 0"),
				mk("952", "  ", "$a DC $c KM $o 959.7 $1 2"),
			},
			[]string{"NA-VINH:    $a NA-VINH $b TK $c KD $h 959.7 TR-K $t 1-2", "DC:    $a DC $c KM $h 959.7 $z Hỏng bìa"}},
		{"Koha items of one library: branch and collection as $b, copies counted", kohaOne,
			[]marc.Field{
				mk("952", "  ", "$a VINH2 $o 895 $t 4 $h Số 3"),
				mk("952", "  ", "$a VINH2 $o 895 $t 9 $h Số 3"),
				mk("952", "  ", "$a NA-VINH $o 895 $t a"),
				mk("952", "  ", "$a NA-VINH $o 895"),
			},
			[]string{"NA-VINH:    $a NA-VINH $b VINH2 $h 895 $3 Số 3 $t 1-2", "NA-VINH:    $a NA-VINH $h 895 $t 1-2"}},
		{"Koha barcodes on request: one 852 per item", Source{LibraryCode: "NA-VINH", Holdings: "952", Barcodes: true},
			[]marc.Field{mk("952", "  ", "$a NA-VINH $o 895 $p 1 $t 1"), mk("952", "  ", "$a NA-VINH $o 895 $p 2 $t 2")},
			[]string{"NA-VINH:    $a NA-VINH $h 895 $p 1 $t 1", "NA-VINH:    $a NA-VINH $h 895 $p 2 $t 2"}},
	}
	for _, tt := range tests {
		rec := &marc.Record{Leader: "00000nam a2200000 a 4500", Fields: append([]marc.Field{{Tag: "001", Value: "1"}}, tt.fields...)}
		if got := show(t, recordHoldings(rec, tt.src)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestCopies(t *testing.T) {
	for _, tt := range []struct {
		nums []string
		want string
	}{
		{[]string{"3"}, "3"}, {[]string{""}, ""}, {[]string{"2", "1", "3"}, "1-3"},
		{[]string{"5", "6"}, "5-6"}, {[]string{"1", "3"}, "1-2"}, {[]string{"1", "1"}, "1-2"},
		{[]string{"", ""}, "1-2"}, {[]string{"a", "1", "2"}, "1-3"},
	} {
		if got := copyNumbers(tt.nums); got != tt.want {
			t.Errorf("copyNumbers(%q) = %q, want %q", tt.nums, got, tt.want)
		}
	}
	for _, tt := range []struct {
		t    string
		want int
	}{{"", 1}, {"3", 1}, {"1-3", 3}, {"5-6", 2}, {"Q.1", 1}, {"3-1", 1}, {"0-99999", 100000}, {"0-100000", 1}} {
		f := mk("852", "  ", "$a X $t "+tt.t)
		if got := Copies(&f); got != tt.want {
			t.Errorf("Copies($t %q) = %d, want %d", tt.t, got, tt.want)
		}
	}
}

// A source of many libraries (another union catalog) keeps its holders:
// each is a holder of the union record with its 852s as sent, its level
// from the network's libraries; one the network does not know is kept,
// without a level. A library's own record of the same work joins them.
func TestSourceOfManyLibraries(t *testing.T) {
	opts := Options{
		Sources: map[string]Source{
			"tinh": {LibraryCode: "NA-UNION", Level: "province", OrgCode: "VN-NAUNION", Holdings: "852", Holder: 'a', Priority: 3},
			"vinh": {LibraryCode: "NA-VINH", Level: "district", Holdings: "852", Priority: 2},
		},
		Libraries: map[string]Library{
			"NA-UNION": {Level: "province", OrgCode: "VN-NAUNION"},
			"NA-TINH":  {Level: "province", OrgCode: "VN-NATINH"},
			"NA-VINH":  {Level: "district", OrgCode: "VN-NAVINH"},
			"NA-XA":    {Level: "commune", OrgCode: "VN-NAXA"},
		},
	}
	ts := newTestStore(t, opts)
	up := kieu
	up.id, up.call = "u0000001a", ""
	up.extra = []marc.Field{
		mk("035", "  ", "$a ocm00012345"),
		mk("035", "  ", "$a (VN-NATINH)NAT1 $9 unicat"),
		mk("852", "01", "$a NA-XA $b Phòng đọc $h 895.922 $t Q.1"),
		mk("852", "  ", "$a NA-TINH $b Kho đọc $h 895.922 $i NG-D"),
		mk("852", "  ", "$a HN-LAB $h 1"),
	}
	ts.put("tinh", up)
	mine := kieu
	mine.id, mine.call = "V1", "VV 9"
	ts.put("vinh", mine)
	u := ts.unionOf("tinh", "u0000001a")
	if u == nil || ts.unionOf("vinh", "V1").ID != u.ID {
		t.Fatalf("the upstream record and the library's own not one union record")
	}
	if want := []string{"HN-LAB", "NA-TINH", "NA-VINH", "NA-XA"}; !slices.Equal(u.Libraries, want) {
		t.Errorf("libraries %q, want %q", u.Libraries, want)
	}
	if want := []string{"commune", "district", "province"}; !slices.Equal(u.Levels, want) {
		t.Errorf("levels %q, want %q", u.Levels, want)
	}
	var got852 []string
	for _, f := range u.Record.FieldsByTag("852") {
		var b strings.Builder
		b.WriteString(string([]byte{f.Ind1, f.Ind2}))
		for _, s := range f.Subfields {
			b.WriteString(" $" + string(s.Code) + " " + s.Value)
		}
		got852 = append(got852, b.String())
	}
	// Province first, then district, commune, and the unknown last.
	want852 := []string{"   $a NA-TINH $b Kho đọc $h 895.922 $i NG-D", "   $a NA-VINH $h VV 9",
		"01 $a NA-XA $b Phòng đọc $h 895.922 $t Q.1", "   $a HN-LAB $h 1"}
	if !slices.Equal(got852, want852) {
		t.Errorf("852s\n got %q\nwant %q", got852, want852)
	}
	ids := subfieldsOf(u.Record, "035", 'a')
	for _, want := range []string{"ocm00012345", "(VN-NATINH)NAT1", "(VN-NAUNION)u0000001a", "(VN-NAVINH)V1"} {
		if !slices.Contains(ids, want) {
			t.Errorf("035 $a %q lacks %q", ids, want)
		}
	}
	if len(ids) != 4 {
		t.Errorf("035 $a %q: want 4", ids)
	}
	ts.st.View(func(tx *store.Tx) error {
		counts, err := LibraryCounts(tx.Bolt())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]LibraryCount{"HN-LAB": {1, 0}, "NA-TINH": {1, 0}, "NA-VINH": {1, 0}, "NA-XA": {1, 0}}
		if !reflect.DeepEqual(counts, want) {
			t.Errorf("LibraryCounts = %v, want %v", counts, want)
		}
		return nil
	})
	// A holder removed upstream leaves the union record and the counts.
	up.extra = up.extra[:3]
	ts.put("tinh", up)
	u = ts.unionOf("tinh", "u0000001a")
	if want := []string{"NA-VINH", "NA-XA"}; !slices.Equal(u.Libraries, want) {
		t.Errorf("after the upstream change: libraries %q, want %q", u.Libraries, want)
	}
	ts.st.View(func(tx *store.Tx) error {
		counts, _ := LibraryCounts(tx.Bolt())
		if want := map[string]LibraryCount{"NA-VINH": {1, 0}, "NA-XA": {1, 0}}; !reflect.DeepEqual(counts, want) {
			t.Errorf("LibraryCounts after the change = %v, want %v", counts, want)
		}
		return nil
	})
}

// A union record serves every member's links to digital copies, each
// once; the libraries' counts say which union records each holds alone.
func TestUnionLinksAndAloneCounts(t *testing.T) {
	ts := newTestStore(t, Options{})
	a, b := kieu, kieu
	a.extra = []marc.Field{mk("856", "40", "$u http://tinh.example.vn/kieu.pdf $y Bản số"), mk("856", "40", "$u http://tinh.example.vn/kieu-2.pdf")}
	b.id, b.call = "V9", "VV 1"
	b.extra = []marc.Field{mk("856", "41", "$u http://tinh.example.vn/kieu.pdf $z again"), mk("856", "40", "$u http://vinh.example.vn/123 $3 Tập 1"),
		mk("856", "42", "$z no link")}
	ts.put("tinh", a)
	ts.put("vinh", b)
	other := book{id: "X", title: "Lịch sử Nghệ An", author: "Trần, Văn Giàu", year: 2010, pages: 300}
	ts.put("vinh", other)
	u := ts.unionOf("tinh", "1")
	var links []string
	for _, f := range u.Record.FieldsByTag("856") {
		links = append(links, string([]byte{f.Ind1, f.Ind2})+" "+f.Sub('u'))
	}
	// The master (Vinh's, the more complete) keeps its own 856s; Tỉnh's
	// link it lacks is added, the one it has is not repeated.
	if want := []string{"41 http://tinh.example.vn/kieu.pdf", "40 http://vinh.example.vn/123", "42 ", "40 http://tinh.example.vn/kieu-2.pdf"}; !slices.Equal(links, want) {
		t.Errorf("856s %q, want %q", links, want)
	}
	ts.st.View(func(tx *store.Tx) error {
		counts, err := LibraryCounts(tx.Bolt())
		want := map[string]LibraryCount{"NA-TINH": {Union: 1, Alone: 0}, "NA-VINH": {Union: 2, Alone: 1}}
		if err != nil || !reflect.DeepEqual(counts, want) {
			t.Errorf("LibraryCounts = %v, %v; want %v", counts, err, want)
		}
		return nil
	})
}

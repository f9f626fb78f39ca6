package dedup

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// TestAssembleUnionMatchesDecoded holds the byte path of union records to
// the decoded one: for every record of the labelled set's base, stored as
// the store writes it, with 035s and local fields of its own, assembling
// the union record from the stored bytes gives exactly what encoding
// unionRecord gives.
func TestAssembleUnionMatchesDecoded(t *testing.T) {
	set := New(Options{}).settings()
	n := 0
	for i, b := range loadBase(t) {
		rec := clone(b.rec)
		// What the filter must handle: system numbers (one field
		// repeated word for word), a bare local number, the master's own
		// copy of a member's 035, local fields.
		rec.Fields = append(rec.Fields,
			marc.Field{Tag: "035", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "(OCoLC)ocm123"}}},
			marc.Field{Tag: "035", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: '9', Value: "x"}, {Code: 'a', Value: "(OCoLC)ocm123"}}},
			marc.Field{Tag: "035", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "(OCoLC)ocm123"}}},
			marc.Field{Tag: "035", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "4711"}}},
			marc.Field{Tag: "035", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "(VN-NAVINH)000457"}}},
			marc.Field{Tag: "952", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'o', Value: "895.9 NG-D"}}},
			marc.Field{Tag: "005", Value: "20240101000000.0"},
		)
		raw, err := marc.AppendISO2709(nil, rec)
		if err != nil {
			continue // not storable as ISO 2709: stored as MARCXML
		}
		stored, err := marc.DecodeISO2709(raw, marc.ReaderOptions{Charset: marc.CharsetUTF8})
		if err != nil {
			t.Fatal(err)
		}
		leader, fields, ok := marc.CanonicalISO2709(raw, nil)
		if !ok {
			t.Fatalf("%s#%d: a record as stored is not canonical", b.file, b.index)
		}
		// Profiled as Prepare does: decoded from the split, as the reader
		// decodes it, and the bytes noted canonical, so that a union
		// record with this master only splits them.
		sr := &store.SourceRecord{Source: "s", LocalID: "1", Format: marc.FormatISO2709, Raw: raw, Hash: sha256.Sum256(raw)}
		prec, prof, err := set.profileStored(sr, Source{Holdings: "852"})
		if err != nil || !reflect.DeepEqual(prec, stored) {
			t.Fatalf("%s#%d: profileStored decoded %v, %v; the reader %v", b.file, b.index, prec, err, stored)
		}
		if !prof.hasCanon || prof.canon != [masterSumLen]byte(sr.Hash[:masterSumLen]) {
			t.Fatalf("%s#%d: profile of canonical bytes does not say so", b.file, b.index)
		}
		if q, err := decodeProfile(prof.encode(nil)); err != nil || q.canon != prof.canon || !q.hasCanon {
			t.Fatalf("%s#%d: the note does not survive the profile's encoding: %v", b.file, b.index, err)
		}
		members := []string{fmt.Sprintf("src\x00%d", i), "vinh\x00000457"}
		orgs := []string{"src", "VN-SRC", "vinh", "VN-NAVINH"}
		holdings := encodeFields(t, []marc.Field{
			{Tag: "852", Ind1: '0', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "NA-TINH"}, {Code: 'b', Value: "Kho đọc"}, {Code: 'h', Value: "895.9221"}, {Code: 'i', Value: "NG-D"}}},
			{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "NA-VINH"}, {Code: 't', Value: "1-3"}}},
		})
		ids, ok := memberIDFields(members, orgs)
		if !ok {
			t.Fatal("memberIDFields refused plain ids")
		}
		added := append(ids, holdings...)
		l1, lay1, ok1 := assembly("u00000001", sr, true, added)
		l2, lay2, ok2 := assembly("u00000001", sr, false, added)
		if ok1 != ok2 || !bytes.Equal(l1, l2) || !reflect.DeepEqual(lay1, lay2) {
			t.Fatalf("%s#%d: assembly of checked bytes differs from checking them", b.file, b.index)
		}
		got, ok := assembleUnion("u00000001", leader, fields, added)
		urec, err := unionRecord("u00000001", stored, memberIDFieldsDecoded(members, orgs), holdings)
		if err != nil {
			t.Fatal(err)
		}
		want, err := marc.AppendISO2709(nil, urec)
		if err != nil || len(want) > 99999 {
			if ok {
				t.Fatalf("%s#%d: assembled a union record the decoded path cannot encode (%v)", b.file, b.index, err)
			}
			continue
		}
		if !ok {
			t.Fatalf("%s#%d: not assembled", b.file, b.index)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s#%d: assembled union record differs:\n%q\n%q", b.file, b.index, got, want)
		}
		// Identifiers pass through, prefixed or not, each field once; the
		// master's copy of a member's own 035 gives way to the union's;
		// local fields stay out.
		if bytes.Count(got, []byte("\x1e  \x1fa(OCoLC)ocm123\x1e")) != 1 || bytes.Count(got, []byte("\x1f9x\x1fa(OCoLC)ocm123\x1e")) != 1 ||
			!bytes.Contains(got, []byte("\x1fa4711\x1e")) || bytes.Contains(got, []byte("\x1fo895.9 NG-D")) ||
			bytes.Count(got, []byte("(VN-NAVINH)000457")) != 1 || !bytes.Contains(got, []byte("\x1fa(VN-NAVINH)000457\x1f9unicat\x1e")) {
			t.Fatalf("%s#%d: master's 035s or local fields not filtered: %q", b.file, b.index, got)
		}
		n++
	}
	if n < 100 {
		t.Fatalf("only %d records compared", n)
	}
	t.Logf("%d union records assembled from bytes, all equal to the decoded path", n)
}

// TestAssembleUnionRefuses: a member id ISO 2709 cannot hold sends the
// union record down the decoded path (and from there to MARCXML).
func TestAssembleUnionRefuses(t *testing.T) {
	if _, ok := memberIDFields([]string{"src\x00a\x1eb"}, nil); ok {
		t.Fatal("made an 035 holding a field terminator")
	}
	if got := rawSub([]byte("  \x1f9x\x1fa(OCoLC)1\x1fa2"), 'a'); got != "(OCoLC)1" {
		t.Fatalf("rawSub = %q", got)
	}
	if got := rawSub([]byte("  \x1fa\x1fbx"), 'a'); got != "" {
		t.Fatalf("rawSub of an empty $a = %q", got)
	}
	if got := rawSub([]byte("  \x1fbx"), 'a'); got != "" {
		t.Fatalf("rawSub without $a = %q", got)
	}
}

// TestByTagIsStableSort holds byTag's merge to a stable sort by tag, on
// runs in order and out of it.
func TestByTagIsStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tags := []string{"001", "020", "035", "100", "245", "500", "650", "852"}
	for n := range 2000 {
		fields := make([]marc.RawField, rng.IntN(12))
		for i := range fields {
			fields[i] = marc.RawField{Tag: tags[rng.IntN(len(tags))], Data: []byte{byte(i)}}
		}
		cut := rng.IntN(len(fields) + 1)
		if n%2 == 0 { // mostly: two runs in order
			slices.SortStableFunc(fields[:cut], func(a, b marc.RawField) int { return strings.Compare(a.Tag, b.Tag) })
			slices.SortStableFunc(fields[cut:], func(a, b marc.RawField) int { return strings.Compare(a.Tag, b.Tag) })
		}
		want := slices.Clone(fields)
		slices.SortStableFunc(want, func(a, b marc.RawField) int { return strings.Compare(a.Tag, b.Tag) })
		got := byTag(slices.Clone(fields), len(fields)-cut)
		if !slices.EqualFunc(got, want, func(a, b marc.RawField) bool { return a.Tag == b.Tag && bytes.Equal(a.Data, b.Data) }) {
			t.Fatalf("byTag(%v) = %v, want %v", fields, got, want)
		}
	}
}

// assembleUnion is the byte path of union records in one call, as an
// assembled union value is served (unionLayout, AppendISO2709Fields). ok
// is false when the record cannot be written so (over ISO 2709's length
// limits).
func assembleUnion(id string, leader []byte, master, added []marc.RawField) ([]byte, bool) {
	raw, err := marc.AppendISO2709Fields(nil, leader, unionLayout(id, master, added))
	return raw, err == nil
}

// encodeFields returns fields in ISO 2709 field data.
func encodeFields(t *testing.T, fields []marc.Field) []marc.RawField {
	t.Helper()
	out := make([]marc.RawField, len(fields))
	for i := range fields {
		data, err := marc.AppendFieldData(nil, &fields[i])
		if err != nil {
			t.Fatal(err)
		}
		out[i] = marc.RawField{Tag: fields[i].Tag, Data: data}
	}
	return out
}

// TestMemberIDFields: the 035s made for a union record served are those
// of the decoded path, numbered by the members' organization codes.
func TestMemberIDFields(t *testing.T) {
	members := []string{"na-tinh\x00NAT00010231", "vinh\x00000457", "vinh\x00oai:koha.vinh.vn:88", "xa\x00k 2/Ư",
		"xa\x00035:(OCoLC)ocm0001", "xa\x00035:4711", "s\x00"}
	orgs := []string{"na-tinh", "VN-NATINH", "vinh", "VN-NAVINH", "xa", "VN-XA"}
	wantIDs := []string{"(VN-NATINH)NAT00010231", "(VN-NAVINH)000457", "(VN-NAVINH)88", "(VN-XA)k 2/Ư",
		"(OCoLC)ocm0001", "(VN-XA)4711", "(s)"}
	if got := memberIDs(members, orgs); !reflect.DeepEqual(got, wantIDs) {
		t.Fatalf("memberIDs = %q, want %q", got, wantIDs)
	}
	want := encodeFields(t, memberIDFieldsDecoded(members, orgs))
	got, ok := memberIDFields(members, orgs)
	if !ok || len(got) != len(want) {
		t.Fatalf("%d fields (%v), want %d", len(got), ok, len(want))
	}
	for i := range want {
		if got[i].Tag != want[i].Tag || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("035 of %q: %q %q, want %q %q", members[i], got[i].Tag, got[i].Data, want[i].Tag, want[i].Data)
		}
	}
}

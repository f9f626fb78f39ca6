package dedup

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/marc"
)

// FuzzDecodeValues feeds arbitrary bytes to the decoders of every dedup
// bucket value: they must return an error, never panic, and what they
// accept must encode back to the same bytes.
func FuzzDecodeValues(f *testing.F) {
	d := New(Options{})
	p := d.buildProfile(kieu.record(), Source{LibraryCode: "NA-TINH", Holdings: "852"})
	f.Add(p.encode(nil))
	p.canon, p.hasCanon = [masterSumLen]byte{1, 2, 3, 4, 5, 6, 7, 8}, true
	f.Add(p.encode(nil))
	f.Add(encodeUnion(nil, &storedUnion{datestamp: time.Unix(0, 1700000000000000000), libraries: []string{"A", "B"}, levels: []string{"district"}, format: fmtISO2709, raw: []byte("00026nam")}))
	f.Add(encodeUnion(nil, &storedUnion{deleted: true, aliasOf: "u00000001"}))
	f.Add(encodeUnion(nil, &storedUnion{datestamp: time.Unix(0, 1700000000000000000), libraries: []string{"A"}, format: fmtAssembled,
		master: "tinh\x001", members: []string{"tinh\x001", "vinh\x002"},
		raw: encodeAssembled([masterSumLen]byte{1, 2, 3, 4, 5, 6, 7, 8}, []marc.RawField{{Tag: "852", Data: []byte("  \x1faA")}})}))
	// Version 2, of a development build before the first release: refused.
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 'A', 0, 0, 0, fmtNone})
	f.Add([]byte{})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := decodeProfile(b); err == nil {
			if got := p.encode(nil); !bytes.Equal(got, b) {
				t.Fatalf("profile re-encodes differently:\n%x\n%x", b, got)
			}
			_ = p.keys()
			pm, err := decodeMatching(b)
			if err != nil || !bytes.Equal(pm.appendMatch(nil), p.appendMatch(nil)) || pm.ord != p.ord || pm.vsig != p.vsig {
				t.Fatalf("matching part decoded alone: %v, or differs", err)
			}
			if v := veto(p, p); v != "" {
				t.Fatalf("a profile vetoes itself: %s", v)
			}
			checkHeadVetoed(t, p, b)
		}
		if u, err := decodeUnion("u00000001", b); err == nil {
			if got := encodeUnion(nil, u); !bytes.Equal(got, b) {
				t.Fatalf("union re-encodes differently:\n%x\n%x", b, got)
			}
			if u.format == fmtAssembled {
				if got := encodeAssembled(u.masterSum, u.added); !bytes.Equal(got, u.raw) {
					t.Fatalf("assembled record re-encodes differently:\n%x\n%x", u.raw, got)
				}
			}
			if m, ms, err := decodeCluster("u00000001", b); err != nil || m != u.master || !equalStrs(ms, u.members) {
				t.Fatalf("cluster of a union value: %q %q %v, want %q %q", m, ms, err, u.master, u.members)
			}
		}
	})
}

// FuzzProfile builds profiles of whatever records the ISO 2709 reader
// makes of arbitrary bytes: no panic, a round trip through the profile
// encoding, no record vetoing itself, and a record always matching an
// identical copy of itself from another library when it has an
// identifier.
func FuzzProfile(f *testing.F) {
	for _, b := range []book{kieu, {id: "x", title: "Lịch sử Việt Nam", part: "Tập 2", year: 2018, edition: "Tái bản lần thứ 3"}} {
		raw, _ := marc.AppendISO2709(nil, b.record())
		f.Add(raw)
	}
	d := New(Options{})
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := marc.NewISO2709Reader(bytes.NewReader(b), marc.ReaderOptions{})
		for i := 0; i < 3; i++ {
			rec, err := rd.Next()
			if err != nil {
				if _, ok := err.(*marc.RecordError); ok {
					continue
				}
				return
			}
			for _, src := range []Source{{LibraryCode: "X", Holdings: "952", Holder: 'a', Barcodes: true,
				HolderCodes: map[string]string{"a": "A"}}, {LibraryCode: "X", Holdings: "852", Holder: 'b'}} {
				checkHoldings(t, recordHoldings(rec, src))
			}
			p := d.buildProfile(rec, Source{LibraryCode: "X", Holdings: "852"})
			checkHoldings(t, p.holdings)
			q, err := decodeProfile(p.encode(nil))
			if err != nil {
				t.Fatalf("profile does not decode: %v", err)
			}
			if !bytes.Equal(q.encode(nil), p.encode(nil)) {
				t.Fatal("profile round trip changed it")
			}
			if v := veto(p, q); v != "" {
				t.Fatalf("record vetoes itself: %s", v)
			}
			if (len(p.isbns) > 0 || len(p.ids) > 0) && p.title != "" {
				if _, ok := match(p, q, false); !ok {
					t.Fatalf("record with an identifier does not match its copy: %+v", p)
				}
			}
			_ = p.keys()
		}
	})
}

// checkHoldings: a record has holdings, and each is an 852 whose $a
// names its holder.
func checkHoldings(t *testing.T, hs []holding) {
	t.Helper()
	if len(hs) == 0 {
		t.Fatal("a record without holdings")
	}
	for _, h := range hs {
		rec, err := marc.DecodeFields([]byte("00000nam a2200000   4500"), []marc.RawField{{Tag: "852", Data: h.data}})
		if err != nil {
			t.Fatalf("holding %q: %v", h.data, err)
		}
		if a := rec.Fields[0].Subs("a"); len(a) != 1 || a[0] != h.holder {
			t.Fatalf("holding of %q has $a %q", h.holder, a)
		}
	}
}

// TestDecodeClusterTruncated: a union value cut short is an error that
// names the union once, from either decoder.
func TestDecodeClusterTruncated(t *testing.T) {
	v := encodeUnion(nil, &storedUnion{datestamp: time.Unix(0, 1), libraries: []string{"A"}, master: "tinh\x001",
		members: []string{"tinh\x001", "vinh\x002"}, format: fmtNone})
	for _, cut := range []int{1, 5, len(v) - 3} {
		_, _, err := decodeCluster("u00000001", v[:cut])
		_, err2 := decodeUnion("u00000001", v[:cut])
		for _, e := range []error{err, err2} {
			if e == nil || strings.Count(e.Error(), "u00000001") != 1 {
				t.Errorf("value cut at %d of %d: %v", cut, len(v), e)
			}
		}
	}
	if m, ms, err := decodeCluster("u00000001", v); err != nil || m != "tinh\x001" || len(ms) != 2 {
		t.Errorf("whole value: %q %q %v", m, ms, err)
	}
}

// checkHeadVetoed compares headVetoed on the encoding b of p with veto on
// the decoded p, for records of other material types, years and pages.
func checkHeadVetoed(t *testing.T, p *profile, b []byte) {
	t.Helper()
	head := func(p *profile) *profile { return &profile{mtype: p.mtype, year: p.year, pages: p.pages} }
	others := []*profile{head(p), {}, {mtype: "book"}, {mtype: "serial"}, {year: 2015}, {year: 1999},
		{pages: 300}, {pages: 300 + maxPageDiff + 1}, {mtype: "book", year: 2015, pages: 290}}
	for _, a := range others {
		if got, want := headVetoed(a, b), veto(a, head(p)) != ""; got != want {
			t.Errorf("%q %d %d against %q %d %d: headVetoed %v, veto %v", a.mtype, a.year, a.pages, p.mtype, p.year, p.pages, got, want)
		}
	}
}

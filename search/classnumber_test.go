package search

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/bbolt"
)

func TestCleanClassNumber(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"895.9221", "895.9221"},
		{"895.922 1", "895.9221"},           // Vietnamese spacing every three digits
		{"895.922 334 5", "895.9223345"},    // more than one group
		{"895.922 34 B-N", "895.92234 B-N"}, // the item part stays
		{"895.9221 NG-D", "895.9221 NG-D"},
		{"616.07/575/02854", "616.0757502854"}, // DDC segmentation marks
		{"823/.914", "823.914"},
		{"895.9'22334", "895.922334"}, // prime mark
		{"602/.1 s", "602.1 s"},
		{"959.7 1990", "959.7 1990"}, // a group of one digit is not spaced: the year stays apart
		{"300 1990", "300 1990"},     // no decimal part: nothing to join
		{"004", "004"},
		{"959.7", "959.7"},
		{"PL4378.9 .N5 1990", "PL4378.9 .N5 1990"}, // not Dewey: unchanged
		{"63.3(2)/T-V", "63.3(2)/T-V"},             // BBK: unchanged
		{"V23 NG-D", "V23 NG-D"},
		{"89", "89"},
		{"", ""},
		{"895.922 ", "895.922 "},
	} {
		if got := cleanClassNumber(c.in); got != c.want {
			t.Errorf("cleanClassNumber(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzCleanClassNumber(f *testing.F) {
	for _, s := range []string{"895.922 1", "616.07/575/02854", "602/.1 s", "959.7 1990", "123./456 789", "PL4378.9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := cleanClassNumber(s)
		if len(got) > len(s) {
			t.Fatalf("cleanClassNumber(%q) = %q: longer", s, got)
		}
		if again := cleanClassNumber(got); again != got {
			t.Fatalf("cleanClassNumber not idempotent: %q → %q → %q", s, got, again)
		}
	})
}

// classDocs are records classified the ways the member libraries and
// copied records do: Vietnamese DDC with spaces, DDC with LC's
// segmentation marks, LC call numbers, a local BBK-style shelf mark, and
// holdings whose 852 says its call number is Dewey.
var classDocs = []Doc{
	{ID: "c1", Record: rec("001", "c1", "082", "04$a895.922 1$223", "245", "10$aTruyện Kiều",
		"852", "  $aNA-VINH$bKho mượn$h895.922 1$iNGU")},
	{ID: "c2", Record: rec("001", "c2", "082", "04$a895.9221$bNG-D$223", "245", "10$aTruyện Kiều",
		"852", "  $aNA-TINH$h895.9221$iNG-D")},
	{ID: "c3", Record: rec("001", "c3", "082", "04$a895.92234$223", "245", "10$aVợ nhặt",
		"852", "  $aNA-DIENCHAU$hV23$iKI-L")},
	{ID: "c4", Record: rec("001", "c4", "050", "00$aTK5105.875.I57$bI56 1993", "082", "00$a004.67/8$220",
		"245", "10$aThe Internet")},
	{ID: "c5", Record: rec("001", "c5", "050", "00$aPL4378.9.N5$bT7 1990", "245", "10$aKim Vân Kiều")},
	{ID: "c6", Record: rec("001", "c6", "245", "10$aSử ký", "852", "1 $aNA-QUYNHLUU$h959.7$iS-K")},
	{ID: "c7", Record: rec("001", "c7", "084", "  $a63.3(1)$2bbk", "245", "10$aLịch sử Việt Nam")},
}

func TestClassificationIndexes(t *testing.T) {
	db := openTestDB(t)
	index(t, db, classDocs...)
	for _, c := range []struct{ cql, want string }{
		// Dewey: every spelling of one number meets; no truncation, no
		// subdivisions.
		{"unicat.dewey = 895.9221", "c1 c2"},
		{`unicat.dewey = "895.922 1"`, "c1 c2"},
		{"unicat.dewey = 895.922", ""},
		{"unicat.dewey = 895.922*", "c1 c2 c3"},
		{`unicat.dewey = "^895.92*"`, "c1 c2 c3"},
		{"unicat.dewey = 004.678", "c4"},
		{`unicat.dewey = "004.67/8"`, "c4"},
		{"unicat.dewey = 959.7", "c6"}, // 852 first indicator 1
		{"unicat.dewey = NG-D", ""},    // the item part is not the class
		// Call numbers, any scheme.
		{"unicat.callNumber = 895.9221", "c1 c2"},
		{`unicat.callNumber = "895.9221 NG-D"`, "c2"},
		{`unicat.callNumber = "^895.922*"`, "c1 c2 c3"},
		{"unicat.callNumber = V23", "c3"},
		{`unicat.callNumber = "V23 KI-L"`, "c3"},
		{`unicat.callNumber = "^TK5105*"`, "c4"},
		{`unicat.callNumber = "^TK5105.8*"`, "c4"},
		{"unicat.callNumber = TK5105.875.I57", "c4"},
		{`unicat.callNumber = "^I56*"`, ""}, // the item number is not first
		{"unicat.callNumber = I56", "c4"},
		{`unicat.callNumber = "^PL*"`, "c5"},
		{`unicat.callNumber = "63.3(1)"`, "c7"},
		{"unicat.callNumber = 959.7", "c6"},
		{`unicat.callNumber == "959.7 S-K"`, "c6"},
		{`unicat.callNumber == "959.7"`, ""},
	} {
		got := strings.Join(query(t, db, c.cql), " ")
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.cql, got, c.want)
		}
	}
}

func TestClassificationScan(t *testing.T) {
	db := openTestDB(t)
	index(t, db, classDocs...)
	var terms []ScanTerm
	err := db.View(func(tx *bbolt.Tx) error {
		var err error
		terms, err = New().Scan(context.Background(), tx, ScanRequest{Index: "unicat.dewey", Phrases: true, From: "895.922 1", Position: 1, Count: 3})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range terms {
		got = append(got, st.Value)
	}
	if !slices.Equal(got, []string{"895 9221", "895 92234", "959 7"}) {
		t.Errorf("scan from 895.922 1: %q", got)
	}
}

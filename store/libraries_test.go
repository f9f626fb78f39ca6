package store

import (
	"reflect"
	"testing"

	"go.etcd.io/bbolt"
)

// PutLibraries replaces the registry whole, and writes nothing when the
// libraries are the ones registered.
func TestPutLibraries(t *testing.T) {
	s := openTest(t)
	first := []LibraryInfo{
		{Code: "NA-VINH", Name: "Thư viện thành phố Vinh", Level: "district", OrgCode: "VN-NAVINH", Address: "Vinh"},
		{Code: "NA-TINH", Name: "Thư viện tỉnh Nghệ An", Level: "province", OrgCode: "VN-NATINH"},
	}
	if err := s.PutLibraries(first); err != nil {
		t.Fatal(err)
	}
	read := func() []LibraryInfo {
		var got []LibraryInfo
		if err := s.View(func(tx *Tx) error {
			var err error
			got, err = tx.Libraries()
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got, want := read(), []LibraryInfo{first[1], first[0]}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Libraries = %+v, want %+v (code order)", got, want)
	}
	txid := func() int {
		var id int
		s.db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	if err := s.PutLibraries([]LibraryInfo{first[1], first[0]}); err != nil {
		t.Fatal(err)
	}
	if after := txid(); after != before {
		t.Errorf("registering the same libraries committed (tx %d → %d)", before, after)
	}
	second := []LibraryInfo{{Code: "NA-TINH", Name: "Thư viện tỉnh", Level: "province", OrgCode: "VN-NATINH"}}
	if err := s.PutLibraries(second); err != nil {
		t.Fatal(err)
	}
	if got := read(); !reflect.DeepEqual(got, second) {
		t.Fatalf("after a replacement Libraries = %+v, want %+v", got, second)
	}
	s.View(func(tx *Tx) error {
		if _, ok, err := tx.Library("NA-VINH"); ok || err != nil {
			t.Errorf("Library(NA-VINH) after its removal: %v, %v", ok, err)
		}
		if l, ok, err := tx.Library("NA-TINH"); !ok || err != nil || l != second[0] {
			t.Errorf("Library(NA-TINH) = %+v, %v, %v", l, ok, err)
		}
		return nil
	})
	if err := s.PutLibraries([]LibraryInfo{{Name: "no code"}}); err == nil {
		t.Error("a library without a code was registered")
	}
}

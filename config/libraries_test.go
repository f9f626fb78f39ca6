package config

import (
	"reflect"
	"strings"
	"testing"
)

// national is the configuration of a catalog above a province's: the
// province's union catalog is one source of many libraries, and the
// national library a source of its own.
const national = `
libraries:
  - {code: NA-TINH, name: "Thư viện tỉnh Nghệ An", level: province, org_code: VN-NATINH}
  - {code: NA-VINH, name: "Thư viện thành phố Vinh", level: district, org_code: VN-NAVINH, address: "Vinh"}
  - {code: QG, name: "Thư viện Quốc gia (kho chính)", level: province}
sources:
  - id: nghe-an
    name: "Mục lục liên hợp Nghệ An"
    library_code: NA-UNION
    level: province
    org_code: VN-NAUNION
    kind: oai
    url: "https://unicat.nghean.example.vn/oai"
    holder: a
    holder_codes: {TVNA: NA-TINH}
  - id: qg
    name: "Thư viện Quốc gia Việt Nam"
    library_code: QG
    level: province
    kind: file
    path: qg.mrc
    holdings: "952"
    holder: a
    barcodes: true
`

func TestLibraries(t *testing.T) {
	cfg, err := Parse([]byte(national), "national.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		code string
		want Library
	}{
		{"NA-TINH", Library{Code: "NA-TINH", Name: "Thư viện tỉnh Nghệ An", Level: "province", OrgCode: "VN-NATINH"}},
		{"NA-VINH", Library{Code: "NA-VINH", Name: "Thư viện thành phố Vinh", Level: "district", OrgCode: "VN-NAVINH", Address: "Vinh"}},
		// A source's library not in the section: described by the source.
		{"NA-UNION", Library{Code: "NA-UNION", Name: "Mục lục liên hợp Nghệ An", Level: "province", OrgCode: "VN-NAUNION"}},
		// In both: the section's entry, its org code defaulting to the code.
		{"QG", Library{Code: "QG", Name: "Thư viện Quốc gia (kho chính)", Level: "province", OrgCode: "QG"}},
	}
	for _, tt := range tests {
		got, ok := cfg.Library(tt.code)
		if !ok || got != tt.want {
			t.Errorf("Library(%q) = %+v, %v; want %+v", tt.code, got, ok, tt.want)
		}
	}
	if _, ok := cfg.Library("NA-NOWHERE"); ok {
		t.Error("Library of an unknown code found")
	}
	var codes []string
	for _, l := range cfg.LibraryList() {
		codes = append(codes, l.Code)
	}
	if want := []string{"NA-TINH", "NA-UNION", "NA-VINH", "QG"}; !reflect.DeepEqual(codes, want) {
		t.Errorf("LibraryList codes = %v, want %v", codes, want)
	}
	s, _ := cfg.Source("nghe-an")
	if got := cfg.SourceOrgCode(s); got != "VN-NAUNION" {
		t.Errorf("SourceOrgCode(nghe-an) = %q", got)
	}
	s, _ = cfg.Source("qg")
	if got := cfg.SourceOrgCode(s); got != "QG" {
		t.Errorf("SourceOrgCode(qg) = %q", got)
	}
	if s.Holder != "a" || !s.Barcodes || s.Holdings != "952" {
		t.Errorf("qg holder settings = %+v", s)
	}
}

func TestLibraryProblems(t *testing.T) {
	doc := `libraries:
  - {code: NA-TINH, name: "Tỉnh", level: province}
  - {code: NA-TINH, name: "", level: village, org_code: "(bad)"}
sources:
  - id: a
    name: A
    library_code: NA-TINH
    level: district
    kind: file
    path: a.mrc
    holder: ab
    holder_codes: {X: NA-NOWHERE, Y: NA-TINH}
    barcodes: true
  - id: b
    name: B
    library_code: B
    level: commune
    kind: file
    path: b.mrc
    holder_codes: {X: B}
`
	got := strings.Join(problems(t, doc), "\n")
	for _, want := range []string{
		`line 3: libraries[1].code: "NA-TINH" is already described by libraries[0]`,
		`line 3: libraries[1].name: is required`,
		`line 3: libraries[1].level: "village" is not one of province, district, commune`,
		`line 3: libraries[1].org_code: "(bad)" is not a MARC organization code`,
		`line 8: sources[0].level: "district", but libraries[0] says NA-TINH is "province"`,
		`line 11: sources[0].holder: "ab" is not a subfield code`,
		`line 12: sources[0].holder_codes.X: "NA-NOWHERE" is not a library of the network`,
		`line 13: sources[0].barcodes: is only used with holdings: "952"`,
		`line 20: sources[1].holder_codes: is only used with holder`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "holder_codes.Y") {
		t.Errorf("a mapping to a known library reported:\n%s", got)
	}
}

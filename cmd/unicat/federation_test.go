package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
	"github.com/unicat/unicat/marc"
)

// The federation tests run the path from a province's union catalog to
// the national one: unicat A serves three member libraries; unicat B
// harvests A as one source of many libraries, beside a library of its
// own. B must know every holder A knows, with the 852s A's members sent.

const fedToken = "federation-test-token-0123456789"

// fedBook is a member record of the test: its work, ISBN, and one 852.
type fedBook struct {
	id, isbn, title, author string
	year                    int
	h852                    string // the member's 852, "ii $a … $b …"
}

func (b fedBook) record() *marc.Record {
	r := &marc.Record{Leader: "00000nam a2200000 a 4500", Fields: []marc.Field{
		{Tag: "001", Value: b.id},
		{Tag: "008", Value: fmt.Sprintf("200101s%04d    vm            000 0 vie d", b.year)},
		{Tag: "020", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: b.isbn}}},
		{Tag: "100", Ind1: '0', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: b.author}}},
		{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{{Code: 'a', Value: b.title}}},
		{Tag: "260", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: "H. :"}, {Code: 'b', Value: "Văn học,"}, {Code: 'c', Value: fmt.Sprint(b.year)}}},
	}}
	if b.h852 != "" {
		r.Fields = append(r.Fields, parseField("852", b.h852))
	}
	return r
}

// parseField reads "ii $a x $b y" (ii the indicators, '_' for blank).
func parseField(tag, s string) marc.Field {
	f := marc.Field{Tag: tag, Ind1: blankInd(s[0]), Ind2: blankInd(s[1])}
	for _, part := range strings.Split(s[2:], "$")[1:] {
		f.Subfields = append(f.Subfields, marc.Subfield{Code: part[0], Value: strings.TrimSpace(part[1:])})
	}
	return f
}

func blankInd(c byte) byte {
	if c == '_' {
		return ' '
	}
	return c
}

func writeBooks(t *testing.T, path string, books ...fedBook) {
	t.Helper()
	var out []byte
	for _, b := range books {
		var err error
		if out, err = marc.AppendISO2709(out, b.record()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fedNode is one running unicat.
type fedNode struct {
	t          *testing.T
	dir, cfg   string
	http, z395 string
	log        *serveLog
}

func startNode(t *testing.T, dir, doc string) *fedNode {
	t.Helper()
	cfg := filepath.Join(dir, "unicat.yaml")
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	_, addrs, log := startServeLog(t, cfg, httpAddrRe, z3950AddrRe)
	return &fedNode{t: t, dir: dir, cfg: cfg, http: addrs[0], z395: addrs[1], log: log}
}

func (n *fedNode) get(path string) []byte {
	n.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+n.http+path, nil)
	req.Header.Set("Authorization", "Bearer "+fedToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		n.t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body
}

// harvest runs one harvest of source through the admin API and waits for
// it to end, failing the test if it failed.
func (n *fedNode) harvest(source string) {
	n.t.Helper()
	runs := func() []struct {
		End   time.Time `json:"end"`
		Error string    `json:"error"`
	} {
		var st struct {
			Runs []struct {
				End   time.Time `json:"end"`
				Error string    `json:"error"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(n.get("/admin/sources/"+source), &st); err != nil {
			n.t.Fatal(err)
		}
		return st.Runs
	}
	before := len(runs())
	req, _ := http.NewRequest(http.MethodPost, "http://"+n.http+"/admin/harvest/"+source, nil)
	req.Header.Set("Authorization", "Bearer "+fedToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		n.t.Fatalf("harvest %s: %s", source, resp.Status)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if rs := runs(); len(rs) > before {
			if rs[0].Error != "" {
				n.t.Fatalf("harvest of %s failed: %s\n%s", source, rs[0].Error, n.log)
			}
			return
		}
	}
	n.t.Fatalf("harvest of %s did not end within a minute:\n%s", source, n.log)
}

// oaiRecords reads every live record of an OAI-PMH ListRecords
// (marcxml) of the node, by title, with the 852s and 035s rendered
// "ii $a … $b …", and the ids of the deleted ones.
func (n *fedNode) oaiRecords(set string) (live map[string]fedUnion, deleted []string) {
	n.t.Helper()
	live = map[string]fedUnion{}
	q := "/oai?verb=ListRecords&metadataPrefix=marcxml"
	if set != "" {
		q += "&set=" + url.QueryEscape(set)
	}
	for q != "" {
		var page oaiPage
		if err := xml.Unmarshal(n.get(q), &page); err != nil {
			n.t.Fatal(err)
		}
		if page.Error.Code != "" && page.Error.Code != "noRecordsMatch" {
			n.t.Fatalf("OAI-PMH error %s: %s", page.Error.Code, page.Error.Text)
		}
		for _, r := range page.Records {
			if r.Header.Status == "deleted" {
				deleted = append(deleted, r.Header.ID)
				continue
			}
			u := fedUnion{id: r.Header.ID}
			for _, f := range r.Fields {
				s := strings.ReplaceAll(f.Ind1+f.Ind2, " ", "_")
				for _, sf := range f.Subfields {
					s += " $" + sf.Code + " " + sf.Value
				}
				switch f.Tag {
				case "245":
					u.title = f.Subfields[0].Value
				case "852":
					u.h852 = append(u.h852, s)
				case "035":
					u.ids = append(u.ids, s)
				}
			}
			if _, dup := live[u.title]; dup {
				n.t.Errorf("two live union records of %q", u.title)
			}
			live[u.title] = u
		}
		q = ""
		if page.Token != "" {
			q = "/oai?verb=ListRecords&resumptionToken=" + url.QueryEscape(page.Token)
		}
	}
	return live, deleted
}

type fedUnion struct {
	id, title string
	h852, ids []string
}

type oaiPage struct {
	Error struct {
		Code string `xml:"code,attr"`
		Text string `xml:",chardata"`
	} `xml:"error"`
	Records []struct {
		Header struct {
			ID     string `xml:"identifier"`
			Status string `xml:"status,attr"`
		} `xml:"header"`
		Fields []struct {
			Tag       string `xml:"tag,attr"`
			Ind1      string `xml:"ind1,attr"`
			Ind2      string `xml:"ind2,attr"`
			Subfields []struct {
				Code  string `xml:"code,attr"`
				Value string `xml:",chardata"`
			} `xml:"subfield"`
		} `xml:"metadata>record>datafield"`
	} `xml:"ListRecords>record"`
	Token string `xml:"ListRecords>resumptionToken"`
}

// wantHoldings compares the 852s of the union records of each title
// with want, and that no other title is live.
func wantHoldings(t *testing.T, who string, got map[string]fedUnion, want map[string][]string) {
	t.Helper()
	for title, w := range want {
		u, ok := got[title]
		if !ok {
			t.Errorf("%s: no live union record of %q", who, title)
			continue
		}
		if !slices.Equal(u.h852, w) {
			t.Errorf("%s: %q (%s) 852s\n got %q\nwant %q", who, title, u.id, u.h852, w)
		}
	}
	for title, u := range got {
		if _, ok := want[title]; !ok {
			t.Errorf("%s: unexpected live union record %s of %q (852s %q)", who, u.id, title, u.h852)
		}
	}
}

// withoutQG is what A holds of what B does: all but B's own library.
func withoutQG(want map[string][]string) map[string][]string {
	out := map[string][]string{}
	for title, hs := range want {
		out[title] = slices.DeleteFunc(slices.Clone(hs), func(h string) bool { return h == h852LvtQ })
	}
	return out
}

func holderTable(live map[string]fedUnion) string {
	titles := make([]string, 0, len(live))
	for title := range live {
		titles = append(titles, title)
	}
	sort.Strings(titles)
	var b strings.Builder
	for _, title := range titles {
		var holders []string
		for _, f := range live[title].h852 {
			h := parseField("852", f)
			holders = append(holders, h.Sub('a'))
		}
		fmt.Fprintf(&b, "  %-28s %s\n", title, strings.Join(holders, ", "))
	}
	return b.String()
}

// The member libraries of A, their records before (step 1) and after
// (step 2) the changes A's next harvest brings.
var (
	kieuT = fedBook{"t1", "9786046924371", "Truyện Kiều", "Nguyễn Du", 2015, "01 $a TVTNA $b Kho đọc $h 895.922 $i NG-D $t Q.1 $z Bản đẹp"}
	kieuV = fedBook{"v1", "9786046924371", "Truyện Kiều", "Nguyễn Du", 2015, "__ $b Kho mượn $h 895.922 $i NG-D"}
	sodoV = fedBook{"v2", "9786049876543", "Số đỏ", "Vũ Trọng Phụng", 2016, "__ $a NA-VINH $h 895.9223 $i V-P $p VV.0042"}
	sodoD = fedBook{"d2", "9786049876543", "Số đỏ", "Vũ Trọng Phụng", 2016, "8_ $h 895.9223 $i V-P $x nội bộ"}
	tatdD = fedBook{"d3", "9786045551112", "Tắt đèn", "Ngô Tất Tố", 2015, "__ $h 895.9223 $i NG-T"}
	lvtT  = fedBook{"t4", "9786047778881", "Lục Vân Tiên", "Nguyễn Đình Chiểu", 2017, "__ $h 895.922 $i NG-C"}
	lvtQ  = fedBook{"q4", "9786047778881", "Lục Vân Tiên", "Nguyễn Đình Chiểu", 2017, "__ $b Kho lưu chiểu $h 895.922"}
	cpT   = fedBook{"t5", "9786043332221", "Chí Phèo", "Nam Cao", 2018, "__ $h 895.9223 $i N-C"}
	cpD1  = fedBook{"d5", "9786040009999", "Đời thừa", "Nam Cao", 2009, "__ $h 895.9223 $i N-C2"}
	cpD2  = fedBook{"d5", "9786043332221", "Chí Phèo", "Nam Cao", 2018, "__ $h 895.9223 $i N-C2"}
)

const fedLibraries = `libraries:
  - {code: NA-TINH, name: "Thư viện tỉnh Nghệ An", level: province, org_code: VN-NATINH}
  - {code: NA-VINH, name: "Thư viện thành phố Vinh", level: district, org_code: VN-NAVINH}
  - {code: NA-DIENCHAU, name: "Thư viện huyện Diễn Châu", level: district, org_code: VN-NADCHAU}
`

func configA(dir string) string {
	return fmt.Sprintf(`data_dir: data
admin: {token: %q}
oai: {domain: nghean.example.vn, admin_email: oai@nghean.example.vn}
%ssources:
  - {id: tinh, name: "Thư viện tỉnh Nghệ An", library_code: NA-TINH, level: province, kind: file, path: %q, full_export: true}
  - {id: vinh, name: "Thư viện thành phố Vinh", library_code: NA-VINH, level: district, kind: file, path: %q, full_export: true}
  - {id: dien-chau, name: "Thư viện huyện Diễn Châu", library_code: NA-DIENCHAU, level: district, kind: file, path: %q, full_export: true}
`, fedToken, fedLibraries, filepath.Join(dir, "tinh.mrc"), filepath.Join(dir, "vinh.mrc"), filepath.Join(dir, "dc.mrc"))
}

// configB is the national catalog: A as a source of many libraries by
// kind ("oai", "sru" or "z3950") at url, and a library of its own.
func configB(dir, kind, url string) string {
	return fmt.Sprintf(`data_dir: data
admin: {token: %q}
oai: {domain: national.example.vn, admin_email: oai@national.example.vn}
%ssources:
  - id: nghe-an
    name: "Mục lục liên hợp Nghệ An"
    library_code: NA-UNION
    org_code: VN-NAUNION
    level: province
    kind: %s
    url: %q
    holder: a
  - {id: qg, name: "Thư viện Quốc gia Việt Nam", library_code: QG, org_code: VN-NLV, level: province, kind: file, path: %q}
`, fedToken, fedLibraries, kind, url, filepath.Join(dir, "qg.mrc"))
}

// The 852s A serves (and B must pass on) for each member's: $a the
// holder's code, everything else as sent.
var (
	h852KieuT = "01 $a NA-TINH $b Kho đọc $h 895.922 $i NG-D $t Q.1 $z Bản đẹp"
	h852KieuV = "__ $a NA-VINH $b Kho mượn $h 895.922 $i NG-D"
	h852SodoV = "__ $a NA-VINH $h 895.9223 $i V-P $p VV.0042"
	h852SodoD = "8_ $a NA-DIENCHAU $h 895.9223 $i V-P $x nội bộ"
	h852TatdD = "__ $a NA-DIENCHAU $h 895.9223 $i NG-T"
	h852LvtT  = "__ $a NA-TINH $h 895.922 $i NG-C"
	h852LvtQ  = "__ $a QG $b Kho lưu chiểu $h 895.922"
	h852CpT   = "__ $a NA-TINH $h 895.9223 $i N-C"
	h852CpD   = "__ $a NA-DIENCHAU $h 895.9223 $i N-C2"
)

func TestFederation(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	writeBooks(t, filepath.Join(dirA, "tinh.mrc"), kieuT, lvtT, cpT)
	writeBooks(t, filepath.Join(dirA, "vinh.mrc"), kieuV, sodoV)
	writeBooks(t, filepath.Join(dirA, "dc.mrc"), tatdD, cpD1)
	writeBooks(t, filepath.Join(dirB, "qg.mrc"), lvtQ)
	a := startNode(t, dirA, configA(dirA))
	for _, s := range []string{"tinh", "vinh", "dien-chau"} {
		a.harvest(s)
	}
	b := startNode(t, dirB, configB(dirB, "oai", "http://"+a.http+"/oai"))
	b.harvest("qg")
	nextSecond()
	b.harvest("nghe-an")

	step1 := map[string][]string{
		"Truyện Kiều":  {h852KieuT, h852KieuV},
		"Số đỏ":        {h852SodoV},
		"Tắt đèn":      {h852TatdD},
		"Lục Vân Tiên": {h852LvtT, h852LvtQ}, // A's holder and B's own: one union record
		"Chí Phèo":     {h852CpT},
		"Đời thừa":     {h852CpD},
	}
	nextSecond() // B's own list shows what it changed up to the last second
	liveA, _ := a.oaiRecords("")
	wantHoldings(t, "A", liveA, withoutQG(step1))
	liveB, _ := b.oaiRecords("")
	wantHoldings(t, "B", liveB, step1)
	t.Logf("holders in B after the first harvest:\n%s", holderTable(liveB))

	// Identifiers: A's numbers for its members pass on, and B numbers
	// A's record by A's organization code.
	kieu := liveB["Truyện Kiều"]
	for _, want := range []string{"__ $a (VN-NATINH)t1 $9 unicat", "__ $a (VN-NAVINH)v1 $9 unicat"} {
		if !slices.Contains(kieu.ids, want) {
			t.Errorf("B's Truyện Kiều lacks 035 %q: %q", want, kieu.ids)
		}
	}
	aID := strings.TrimPrefix(liveA["Truyện Kiều"].id, "oai:nghean.example.vn:")
	if want := "__ $a (VN-NAUNION)" + aID + " $9 unicat"; !slices.Contains(kieu.ids, want) {
		t.Errorf("B's Truyện Kiều lacks its member 035 %q: %q", want, kieu.ids)
	}
	// The sets follow the real holders.
	inDC, _ := b.oaiRecords("library:NA-DIENCHAU")
	if got := mapKeys(inDC); !slices.Equal(got, []string{"Tắt đèn", "Đời thừa"}) {
		t.Errorf("B's set library:NA-DIENCHAU holds %q", got)
	}
	inDistrict, _ := b.oaiRecords("level:district")
	if got := mapKeys(inDistrict); !slices.Equal(got, []string{"Số đỏ", "Truyện Kiều", "Tắt đèn", "Đời thừa"}) {
		t.Errorf("B's set level:district holds %q", got)
	}
	t.Run("yaz-client", func(t *testing.T) { checkOPAC(t, b) })
	metrics := string(b.get("/metrics"))
	for _, want := range []string{`unicat_library_union_records{level="district",library="NA-VINH"} 2`,
		`unicat_library_union_records{level="province",library="QG"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("B's /metrics lacks %s", want)
		}
	}

	// At A: Vinh withdraws its Truyện Kiều (a holder removed), Diễn Châu
	// adds a Số đỏ (a holder added), deletes Tắt đèn, and corrects Đời
	// thừa into a copy of Chí Phèo (a merge).
	writeBooks(t, filepath.Join(dirA, "vinh.mrc"), sodoV)
	writeBooks(t, filepath.Join(dirA, "dc.mrc"), sodoD, cpD2)
	a.harvest("vinh")
	a.harvest("dien-chau")
	nextSecond()
	b.harvest("nghe-an")

	step2 := map[string][]string{
		"Truyện Kiều":  {h852KieuT},
		"Số đỏ":        {h852SodoD, h852SodoV}, // both district: by code
		"Lục Vân Tiên": {h852LvtT, h852LvtQ},
		"Chí Phèo":     {h852CpT, h852CpD},
	}
	nextSecond()
	liveA, deletedA := a.oaiRecords("")
	wantHoldings(t, "A after the changes", liveA, withoutQG(step2))
	liveB, deletedB := b.oaiRecords("")
	wantHoldings(t, "B after the changes", liveB, step2)
	t.Logf("holders in B after the incremental harvest:\n%s", holderTable(liveB))
	if len(deletedA) != 2 || len(deletedB) != 2 {
		t.Errorf("deleted union records: A %q, B %q; want 2 each (Tắt đèn, and the id merged away)", deletedA, deletedB)
	}
	if got := string(b.get("/metrics")); !strings.Contains(got, `unicat_library_union_records{level="district",library="NA-DIENCHAU"} 2`) {
		t.Errorf("B's /metrics: NA-DIENCHAU does not hold 2 union records")
	}

	// The same catalog harvested over SRU and Z39.50 keeps its holders
	// too.
	for _, via := range []struct{ kind, url string }{
		{"sru", "http://" + a.http + "/sru"},
		{"z3950", a.z395 + "/unicat"},
	} {
		dir := t.TempDir()
		writeBooks(t, filepath.Join(dir, "qg.mrc"), lvtQ)
		n := startNode(t, dir, configB(dir, via.kind, via.url))
		n.harvest("qg")
		n.harvest("nghe-an")
		nextSecond()
		live, _ := n.oaiRecords("")
		wantHoldings(t, "B over "+via.kind, live, step2)
	}
}

// checkOPAC asks B with yaz-client, as a cataloguer's client would, for
// the work A's libraries hold by A's member number (Bib-1 local number)
// and its ISBN: the OPAC record names A's holders.
func checkOPAC(t *testing.T, b *fedNode) {
	yaz := testpeer.Need(t, "yaz-client")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	yc := exec.CommandContext(ctx, yaz)
	yc.Stdin = strings.NewReader(strings.Join([]string{
		"open tcp:" + b.z395 + "/unicat",
		"find @attr 1=12 t1",
		"find @attr 1=12 (VN-NAVINH)v1",
		"find @attr 1=7 9786046924371",
		"format opac", "show 1",
		"quit"}, "\n") + "\n")
	out, err := yc.CombinedOutput()
	if err != nil {
		t.Fatalf("yaz-client: %v\n%s", err, out)
	}
	hits := regexp.MustCompile(`Number of hits: (\d+)`).FindAllStringSubmatch(string(out), -1)
	if len(hits) != 3 || hits[0][1] != "1" || hits[1][1] != "1" || hits[2][1] != "1" {
		t.Errorf("local number and ISBN searches: %q\n%s", hits, out)
	}
	for _, want := range []string{"nucCode: NA-TINH", "nucCode: NA-VINH", "localLocation: Kho đọc", "callNumber: 895.922 NG-D"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("OPAC record lacks %q:\n%s", want, out)
		}
	}
}

// nextSecond waits for the next second: an OAI-PMH list shows the records
// changed up to the second before the request (the current one is still
// open), so a harvest right after a change would see it at its next run.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second + 20*time.Millisecond).Sub(now))
}

func mapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

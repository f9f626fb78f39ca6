package marc

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Records here are built the way Vietnamese public libraries catalogue
// (Libol, Koha, Vebrary exports): ISBD punctuation at the end of subfields
// or, in some systems, at the start of the next one; "tr." for pages; 041
// codes run together; Koha 952 items.

const accLeaderBook = "00000nam a2200000 a 4500"

// accField builds a data field from code/value pairs: accField("245", '1', '0', "a", "Title /", "c", "Author.").
func accField(tag string, ind1, ind2 byte, sub ...string) Field {
	f := Field{Tag: tag, Ind1: ind1, Ind2: ind2}
	for i := 0; i+1 < len(sub); i += 2 {
		f.Subfields = append(f.Subfields, Subfield{Code: sub[i][0], Value: sub[i+1]})
	}
	return f
}

func accCtl(tag, value string) Field { return Field{Tag: tag, Value: value} }

func accRecord(fields ...Field) *Record {
	return &Record{Leader: accLeaderBook, Fields: fields}
}

// acc008 builds a 40-character book 008 with date type, date 1 and
// language; place is Vietnam ("vm ").
func acc008(dateType byte, date1, lang string) string {
	s := "250101" + string(dateType) + date1 + "    " + "vm " + strings.Repeat(" ", 17) + lang + " d"
	if len(s) != 40 {
		panic("acc008: bad length " + s)
	}
	return s
}

func TestCleanISBD(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hà Nội :", "Hà Nội"},
		{"Kim Đồng,", "Kim Đồng"},
		{"Truyện Kiều /", "Truyện Kiều"},
		{"Cyllidebau ysgolion =", "Cyllidebau ysgolion"},
		{"Giáo dục.", "Giáo dục"},
		{"Hà Nội : Nxb.", "Hà Nội : Nxb."},
		{"Nguyễn, V.", "Nguyễn, V."},
		{"245 tr. ;", "245 tr."},
		{"2nd ed.", "2nd ed."},
		{"Aram Bakshian, Jr.", "Aram Bakshian, Jr."},
		{"[S.l.] :", "[S.l.]"},
		{"[1998?].", "[1998?]"},
		{": Kim Đồng", "Kim Đồng"},
		{"; Tập 2", "Tập 2"},
		{"Rabi ʻOvadyah Yosef ...", "Rabi ʻOvadyah Yosef ..."},
		{"Sách giáo khoa. .", "Sách giáo khoa"},
		{"[Bản đồ hành chính] /", "[Bản đồ hành chính]"},
		{"  Toán học  ", "Toán học"},
		{"Vitamin C.", "Vitamin C."},
		{" / ", ""},
		{".", ""},
		{"", ""},
		// NFD in, NFC out.
		{norm.NFD.String("Tiếng Việt."), "Tiếng Việt"},
	}
	for _, tt := range tests {
		if got := CleanISBD(tt.in); got != tt.want {
			t.Errorf("CleanISBD(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPlainNFCRanges(t *testing.T) {
	// isPlainNFC's claim: each rune it accepts is NFC alone and starts a
	// new composition segment, so any sequence of them is NFC.
	for _, rg := range [][2]rune{{0, 0x2FF}, {0x1E00, 0x1EFF}} {
		for r := rg[0]; r <= rg[1]; r++ {
			s := string(r)
			if !isPlainNFC(s) {
				t.Fatalf("isPlainNFC(%U) = false", r)
			}
			if !norm.NFC.IsNormalString(s) || !norm.NFC.PropertiesString(s).BoundaryBefore() {
				t.Fatalf("%U is in the fast path but not a plain NFC starter", r)
			}
		}
	}
	for _, s := range []string{"\u0300", "e\u0301", "\u212B", "\u1F71", "\u3042", "\xff", "\xc3", "\xe1\xb8", "\xc0\x80"} {
		if isPlainNFC(s) {
			t.Errorf("isPlainNFC(%+q) = true", s)
		}
	}
	if !isPlainNFC("Nguyễn Đình Chiểu, Đào Duy Anh: Truyện Kiều ¿ ß ɐ") {
		t.Errorf("isPlainNFC rejects NFC Vietnamese")
	}
}

func TestTitle(t *testing.T) {
	tests := []struct {
		name      string
		f         Field
		title     string
		main, rem string
		numbers   []string
		parts     []string
		resp      string
	}{
		{
			name:  "title and responsibility",
			f:     accField("245", '1', '0', "a", "Truyện Kiều /", "c", "Nguyễn Du ; Đào Duy Anh khảo đính."),
			title: "Truyện Kiều", main: "Truyện Kiều", resp: "Nguyễn Du ; Đào Duy Anh khảo đính",
		},
		{
			name: "remainder, number and part",
			f: accField("245", '0', '0', "a", "Toán học :", "b", "sách giáo khoa lớp 10.", "n", "Tập 1,",
				"p", "Đại số /", "c", "Trần Văn Hạo (tổng chủ biên)."),
			title: "Toán học : sách giáo khoa lớp 10. Tập 1, Đại số",
			main:  "Toán học", rem: "sách giáo khoa lớp 10", numbers: []string{"Tập 1"}, parts: []string{"Đại số"},
			resp: "Trần Văn Hạo (tổng chủ biên)",
		},
		{
			name:  "punctuation leading the next subfield",
			f:     accField("245", '1', '0', "a", "Lịch sử Việt Nam", "b", ": từ nguồn gốc đến năm 1858", "n", ". Tập 1", "c", "/ Nhiều tác giả"),
			title: "Lịch sử Việt Nam : từ nguồn gốc đến năm 1858. Tập 1",
			main:  "Lịch sử Việt Nam", rem: "từ nguồn gốc đến năm 1858", numbers: []string{"Tập 1"}, resp: "Nhiều tác giả",
		},
		{
			name:  "parallel title",
			f:     accField("245", '0', '0', "a", "Cyllidebau ysgolion =", "b", "School budgets.", "n", "1990/91."),
			title: "Cyllidebau ysgolion = School budgets. 1990/91",
			main:  "Cyllidebau ysgolion", rem: "School budgets", numbers: []string{"1990/91"},
		},
		{
			name:  "GMD in $h skipped, its mark kept",
			f:     accField("245", '0', '0', "a", "Dân ca Nghệ Tĩnh", "h", "[Ghi âm] :", "b", "tuyển chọn"),
			title: "Dân ca Nghệ Tĩnh : tuyển chọn", main: "Dân ca Nghệ Tĩnh", rem: "tuyển chọn",
		},
		{
			name:  "part title only",
			f:     accField("245", '0', '0', "a", "SMP topic mathematics.", "p", "Pattern and design."),
			title: "SMP topic mathematics. Pattern and design", main: "SMP topic mathematics", parts: []string{"Pattern and design"},
		},
		{
			name:  "number and part without punctuation",
			f:     accField("245", '0', '0', "a", "Từ điển tiếng Việt", "n", "Phần 2", "p", "Ngữ pháp"),
			title: "Từ điển tiếng Việt. Phần 2, Ngữ pháp", main: "Từ điển tiếng Việt",
			numbers: []string{"Phần 2"}, parts: []string{"Ngữ pháp"},
		},
		{
			name:  "two numbers",
			f:     accField("245", '0', '0', "a", "Tuyển tập Hồ Chí Minh.", "n", "Tập 1.", "n", "Quyển 2"),
			title: "Tuyển tập Hồ Chí Minh. Tập 1. Quyển 2", main: "Tuyển tập Hồ Chí Minh",
			numbers: []string{"Tập 1", "Quyển 2"},
		},
		{
			name:  "supplied title in brackets",
			f:     accField("245", '0', '0', "a", "[Bản đồ hành chính tỉnh Nghệ An]."),
			title: "[Bản đồ hành chính tỉnh Nghệ An]", main: "[Bản đồ hành chính tỉnh Nghệ An]",
		},
		{
			name:  "abbreviation before a number: no double period",
			f:     accField("245", '0', '0', "a", "Sách mới của Nxb.", "n", "Tập 2"),
			title: "Sách mới của Nxb. Tập 2", main: "Sách mới của Nxb.", numbers: []string{"Tập 2"},
		},
		{
			name:  "decomposed input",
			f:     accField("245", '0', '0', "a", norm.NFD.String("Nhật ký trong tù /")),
			title: "Nhật ký trong tù", main: "Nhật ký trong tù",
		},
		{
			name: "empty 245",
			f:    accField("245", '0', '0', "a", " ", "b", ""),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := accRecord(tt.f)
			if got := r.Title(); got != tt.title {
				t.Errorf("Title() = %q, want %q", got, tt.title)
			}
			main, rem, numbers, parts := r.TitleParts()
			if main != tt.main || rem != tt.rem || !reflect.DeepEqual(numbers, tt.numbers) || !reflect.DeepEqual(parts, tt.parts) {
				t.Errorf("TitleParts() = %q, %q, %q, %q; want %q, %q, %q, %q",
					main, rem, numbers, parts, tt.main, tt.rem, tt.numbers, tt.parts)
			}
			if got := r.Responsibility(); got != tt.resp {
				t.Errorf("Responsibility() = %q, want %q", got, tt.resp)
			}
		})
	}
	var empty Record
	if empty.Title() != "" || empty.Responsibility() != "" {
		t.Errorf("record without 245: Title %q, Responsibility %q", empty.Title(), empty.Responsibility())
	}
}

func TestCreators(t *testing.T) {
	r := accRecord(
		accField("700", '1', ' ', "a", "Hoàng, Xuân Hãn,", "d", "1908-1996,", "e", "chú giải."),
		accField("100", '0', ' ', "a", "Nguyễn Du,", "d", "1765-1820.", "e", "tác giả"),
		accField("710", '1', ' ', "a", "Việt Nam.", "b", "Bộ Giáo dục và Đào tạo."),
		accField("711", '2', ' ', "a", "Hội thảo khoa học quốc gia", "n", "(lần thứ 3 :", "d", "2010 :", "c", "Vinh)", "j", "đơn vị tổ chức"),
		accField("700", '1', ' ', "a", "Trần, Văn Giàu", "4", "trl"),
		accField("700", '1', ' ', "a", "  ", "e", "biên dịch"), // no name: skipped
		accField("700", '0', ' ', "a", "Elizabeth", "b", "II,", "c", "Queen of Great Britain,", "d", "1926-2022"),
		accField("110", '2', ' ', "a", "Thư viện tỉnh Nghệ An."),
	)
	want := []Name{
		{Name: "Nguyễn Du", Dates: "1765-1820", Role: "tác giả", Tag: "100", Main: true},
		{Name: "Thư viện tỉnh Nghệ An", Tag: "110", Main: true},
		{Name: "Hoàng, Xuân Hãn", Dates: "1908-1996", Role: "chú giải", Tag: "700"},
		{Name: "Việt Nam. Bộ Giáo dục và Đào tạo", Tag: "710"},
		{Name: "Hội thảo khoa học quốc gia (lần thứ 3 : 2010 : Vinh)", Role: "đơn vị tổ chức", Tag: "711"},
		{Name: "Trần, Văn Giàu", Role: "trl", Tag: "700"},
		{Name: "Elizabeth II, Queen of Great Britain", Dates: "1926-2022", Tag: "700"},
	}
	if got := r.Creators(); !reflect.DeepEqual(got, want) {
		t.Errorf("Creators():\n got %+v\nwant %+v", got, want)
	}
	if got := (&Record{}).Creators(); got != nil {
		t.Errorf("Creators() of empty record = %+v", got)
	}
}

func TestRecordISBNs(t *testing.T) {
	r := accRecord(
		accField("020", ' ', ' ', "a", "978-604-2-12345-7 (bìa mềm) :", "c", "50000đ"),
		accField("020", ' ', ' ', "a", "0-8044-2957-X", "q", "(pbk.)"),
		accField("020", ' ', ' ', "a", "978-604-2-12345-6 (bìa cứng)"), // wrong check digit
		accField("020", ' ', ' ', "z", "0-19-852663-6"),                // cancelled, though well formed: normalised to 13
		accField("020", ' ', ' ', "a", "9786042123457"),                // duplicate of the first
		accField("020", ' ', ' ', "a", "0-19-852663-7"),                // wrong ISBN-10
		accField("020", ' ', ' ', "a", "Không có ISBN."),
		accField("020", ' ', ' ', "c", "30000đ"),
	)
	valid, invalid := r.ISBNs()
	wantValid := []string{"9786042123457", "9780804429573"}
	wantInvalid := []string{"9786042123456", "9780198526636", "0198526637", "Không có ISBN"}
	if !reflect.DeepEqual(valid, wantValid) {
		t.Errorf("ISBNs() valid = %q, want %q", valid, wantValid)
	}
	if !reflect.DeepEqual(invalid, wantInvalid) {
		t.Errorf("ISBNs() invalid = %q, want %q", invalid, wantInvalid)
	}
}

func TestISSNs(t *testing.T) {
	r := accRecord(
		accField("022", '0', ' ', "a", "0866-708x", "y", "0866-7081", "z", "1859-3209"),
		accField("022", ' ', ' ', "a", "1859-3208", "l", "1859-3208"),
		accField("022", ' ', ' ', "a", "1859-3207"), // wrong check digit
	)
	if got, want := r.ISSNs(), []string{"0866-708X", "1859-3208"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ISSNs() = %q, want %q", got, want)
	}
	if got, want := r.InvalidISSNs(), []string{"0866-7081", "1859-3209", "1859-3207"}; !reflect.DeepEqual(got, want) {
		t.Errorf("InvalidISSNs() = %q, want %q", got, want)
	}
}

func TestNormalizeLCCN(t *testing.T) {
	// The examples of https://www.loc.gov/marc/lccn-namespace.html.
	tests := []struct{ in, want string }{
		{"n78-890351", "n78890351"},
		{"n78-89035", "n78089035"},
		{"n 78890351 ", "n78890351"},
		{" 85000002 ", "85000002"},
		{"85-2 ", "85000002"},
		{"2001-000002", "2001000002"},
		{"75-425165//r75", "75425165"},
		{" 79139101 /AC/r932", "79139101"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeLCCN(tt.in); got != tt.want {
			t.Errorf("NormalizeLCCN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	r := accRecord(accField("010", ' ', ' ', "a", "   85-2 ", "z", "n78-890351"))
	if got := r.LCCN(); got != "85000002" {
		t.Errorf("LCCN() = %q, want 85000002", got)
	}
	if got := accRecord().LCCN(); got != "" {
		t.Errorf("LCCN() without 010 = %q", got)
	}
}

func FuzzNormalizeLCCN(f *testing.F) {
	for _, s := range []string{"n78-890351", "85-2 ", " 79139101 /AC/r932", "a-b-c", "-", "/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := NormalizeLCCN(s)
		if strings.ContainsAny(got, " /-\t") {
			t.Fatalf("NormalizeLCCN(%q) = %q: blank, slash or hyphen left", s, got)
		}
		if again := NormalizeLCCN(got); again != got {
			t.Fatalf("NormalizeLCCN not idempotent: %q -> %q -> %q", s, got, again)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("NormalizeLCCN(%q) = %q: invalid UTF-8", s, got)
		}
	})
}

func TestIdentifiers(t *testing.T) {
	r := accRecord(
		accCtl("001", "000123"),
		accField("015", ' ', ' ', "a", "GB8508963", "2", "bnb"),
		accField("035", ' ', ' ', "a", "(OCoLC)12345678"),
		accField("035", ' ', ' ', "a", " (VN-NaTV)000123 ", "z", "(OCoLC)1"),
		accField("024", '3', ' ', "a", "9786042123457"),
		accField("016", '7', ' ', "a", "101234567", "2", "DNLM"),
		accField("035", ' ', ' ', "a", "(OCoLC)12345678"),
		accField("856", '4', '0', "u", "http://thuvien.nghean.gov.vn/opac/123", "q", "text/html"),
		accField("856", '4', '1', "u", " https://example.org/a.pdf", "u", "http://thuvien.nghean.gov.vn/opac/123"),
	)
	if got, want := r.SystemNumbers(), []string{"(OCoLC)12345678", "(VN-NaTV)000123"}; !reflect.DeepEqual(got, want) {
		t.Errorf("SystemNumbers() = %q, want %q", got, want)
	}
	if got, want := r.OtherIdentifiers(), []string{"015:GB8508963", "024:9786042123457", "016:101234567"}; !reflect.DeepEqual(got, want) {
		t.Errorf("OtherIdentifiers() = %q, want %q", got, want)
	}
	if got, want := r.URLs(), []string{"http://thuvien.nghean.gov.vn/opac/123", "https://example.org/a.pdf"}; !reflect.DeepEqual(got, want) {
		t.Errorf("URLs() = %q, want %q", got, want)
	}
}

func TestEdition(t *testing.T) {
	tests := []struct {
		f    Field
		want string
	}{
		{accField("250", ' ', ' ', "a", "Tái bản lần thứ 2 /", "b", "có sửa chữa, bổ sung."), "Tái bản lần thứ 2 / có sửa chữa, bổ sung"},
		{accField("250", ' ', ' ', "a", "2nd ed."), "2nd ed."},
		{accField("250", ' ', ' ', "a", "In lần thứ 3", "b", "Nguyễn Văn Tố hiệu đính"), "In lần thứ 3 / Nguyễn Văn Tố hiệu đính"},
		{accField("250", ' ', ' ', "a", "Bản in lần 1 ="), "Bản in lần 1"},
	}
	for _, tt := range tests {
		if got := accRecord(tt.f).Edition(); got != tt.want {
			t.Errorf("Edition() of %v = %q, want %q", tt.f.Subfields, got, tt.want)
		}
	}
	if got := accRecord().Edition(); got != "" {
		t.Errorf("Edition() without 250 = %q", got)
	}
}

// accFullRecord is a complete Vietnamese book record for the DC and
// benchmark tests.
func accFullRecord() *Record {
	return &Record{Leader: "01234nam a2200313 a 4500", Fields: []Field{
		accCtl("001", "NA.000123"),
		accCtl("003", "VN-NaTV"),
		accCtl("005", "20240102120000.0"),
		accCtl("008", acc008('s', "2019", "vie")),
		accField("020", ' ', ' ', "a", "978-604-2-12345-7 (bìa mềm) :", "c", "85000đ"),
		accField("020", ' ', ' ', "z", "0-19-852663-6"),
		accField("035", ' ', ' ', "a", "(VN-NaTV)000123"),
		accField("041", '0', ' ', "a", "vieeng"),
		accField("082", '0', '4', "a", "895.9223", "2", "23"),
		accField("100", '0', ' ', "a", "Nguyễn Du,", "d", "1765-1820."),
		accField("245", '1', '0', "a", "Truyện Kiều :", "b", "bản chú giải.", "n", "Tập 1 /", "c", "Nguyễn Du ; Đào Duy Anh chú giải."),
		accField("246", '3', '0', "a", "Đoạn trường tân thanh"),
		accField("250", ' ', ' ', "a", "Tái bản lần thứ 2."),
		accField("260", ' ', ' ', "a", "Hà Nội :", "b", "Văn học,", "c", "2019."),
		accField("300", ' ', ' ', "a", "245 tr. ;", "c", "21 cm."),
		accField("500", ' ', ' ', "a", "Đầu bìa sách ghi: Tủ sách Văn học cổ điển."),
		accField("506", ' ', ' ', "a", "Hạn chế: chỉ đọc tại chỗ."),
		accField("520", ' ', ' ', "a", "Truyện thơ lục bát <kinh điển> & được chú giải."),
		accField("546", ' ', ' ', "a", "Chính văn tiếng Việt, chú thích tiếng Anh."),
		accField("650", ' ', '7', "a", "Văn học cổ điển", "z", "Việt Nam", "v", "Truyện thơ.", "2", "Bộ TK TVQG"),
		accField("651", ' ', '7', "a", "Nghệ An (Việt Nam)", "x", "Văn hóa."),
		accField("653", ' ', ' ', "a", "Truyện thơ"),
		accField("655", ' ', '7', "a", "Thơ lục bát.", "2", "local"),
		accField("700", '1', ' ', "a", "Đào, Duy Anh,", "d", "1904-1988,", "e", "chú giải."),
		accField("710", '2', ' ', "a", "Hội Kiều học Việt Nam."),
		accField("773", '0', ' ', "t", "Tủ sách Văn học cổ điển Việt Nam", "o", "(VN-NaTV)000001"),
		accField("856", '4', '0', "u", "http://thuvien.nghean.gov.vn/opac/123", "q", "text/html"),
		accField("952", ' ', ' ', "a", "TVNA", "b", "TVNA", "c", "KM", "o", "895.9223 NG527D", "p", "NA00001"),
		accField("952", ' ', ' ', "a", "TVNA", "b", "TVNA", "c", "KM", "o", "895.9223 NG527D", "p", "NA00002"),
	}}
}

// FuzzAccessors runs every accessor over records built from arbitrary
// leaders, 008s and subfield values: none may panic, and valid UTF-8 in
// must give valid NFC UTF-8 out.
func FuzzAccessors(f *testing.F) {
	f.Add(accLeaderBook, acc008('s', "2005", "vie"), "Truyện Kiều /", "978-604-2-12345-7 (bìa mềm)", "245 tr. ;", "[1998?]", "vieeng", "TVNA")
	f.Add("", "", "", "", "", "", "", "")
	f.Add("00000npcaa22", "0504", ": ; . =", "X-X", "p. p. 9999999999999 tr.", "c2005-", "VIE;;eng", " ")
	f.Add("00000ý0", "", "", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, leader, f008, title, isbn, extent, date, lang, lib string) {
		r := &Record{Leader: leader, Fields: []Field{
			accCtl("008", f008),
			accField("020", ' ', ' ', "a", isbn, "z", isbn),
			accField("022", ' ', ' ', "a", isbn, "y", isbn),
			accField("010", ' ', ' ', "a", isbn),
			accField("041", ' ', ' ', "a", lang),
			accField("100", '1', ' ', "a", title, "d", date, "e", title),
			accField("245", '1', '0', "a", title, "b", extent, "n", date, "p", title, "c", title),
			accField("250", ' ', ' ', "a", title, "b", title),
			accField("260", ' ', ' ', "a", lib, "b", title, "c", date),
			accField("264", ' ', '1', "c", extent),
			accField("300", ' ', ' ', "a", extent),
			accField("650", ' ', '0', "a", title, "x", lib, "z", date),
			accField("082", ' ', ' ', "a", extent),
			accField("852", ' ', ' ', "a", lib, "h", title, "t", date),
			accField("952", ' ', ' ', "a", lib, "o", title, "p", isbn),
		}}
		var out []string
		out = append(out, r.Title(), r.Responsibility(), r.Edition(), r.Extent(), r.LCCN(), r.YearString(), r.MaterialType(), r.TypeCode())
		m, rem, nums, parts := r.TitleParts()
		out = append(append(append(out, m, rem), nums...), parts...)
		for _, n := range r.Creators() {
			out = append(out, n.Name, n.Dates, n.Role)
		}
		v, inv := r.ISBNs()
		out = append(append(out, v...), inv...)
		out = append(out, r.ISSNs()...)
		out = append(out, r.InvalidISSNs()...)
		out = append(out, r.Publishers()...)
		out = append(out, r.Places()...)
		out = append(out, r.Languages()...)
		out = append(out, r.Subjects()...)
		for _, c := range r.Classifications() {
			out = append(out, c.Scheme, c.Number)
		}
		if y := r.Year(); y != 0 && (y < minYear || y > maxYear) {
			t.Fatalf("Year() = %d", y)
		}
		for _, l := range r.Languages() {
			if len(l) != 3 || strings.ToLower(l) != l {
				t.Fatalf("language code %q", l)
			}
		}
		inputsValid := true
		for _, s := range []string{leader, f008, title, isbn, extent, date, lang, lib} {
			inputsValid = inputsValid && utf8.ValidString(s)
		}
		if !inputsValid {
			return
		}
		for _, s := range out {
			if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) {
				t.Fatalf("output %q is not valid NFC UTF-8", s)
			}
		}
	})
}

func FuzzCleanISBD(f *testing.F) {
	for _, s := range []string{"Hà Nội :", "Nxb.", "[1998?].", " / ", "...", "a.", ": ; Tập 1 ,", norm.NFD.String("Á.")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		c := CleanISBD(s)
		if c != strings.TrimSpace(c) {
			t.Fatalf("CleanISBD(%q) = %q: not trimmed", s, c)
		}
		if c != "" && (isISBDMark(c[0]) || isISBDMark(c[len(c)-1])) {
			t.Fatalf("CleanISBD(%q) = %q: ISBD mark left at an end", s, c)
		}
		if again := CleanISBD(c); again != c {
			t.Fatalf("CleanISBD not idempotent: %q -> %q -> %q", s, c, again)
		}
	})
}

func BenchmarkAccessors(b *testing.B) {
	r := accFullRecord()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = r.Title()
		_, _, _, _ = r.TitleParts()
		_ = r.Creators()
		_, _ = r.ISBNs()
		_ = r.ISSNs()
		_ = r.Year()
		_ = r.Publishers()
		_ = r.Languages()
		_ = r.MaterialType()
		_ = r.Subjects()
		_ = r.Classifications()
	}
	b.StopTimer()
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(b.N)/s, "records/s")
	}
}

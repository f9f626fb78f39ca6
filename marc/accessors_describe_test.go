package marc

import (
	"reflect"
	"strconv"
	"testing"
)

// Tests of the accessors of accessors_describe.go.

func TestYear(t *testing.T) {
	tests := []struct {
		name   string
		fields []Field
		want   int
	}{
		{"008 single date", []Field{accCtl("008", acc008('s', "2005", "vie")), accField("260", ' ', ' ', "c", "2006")}, 2005},
		{"008 reprint: date 1 is the reissue", []Field{accCtl("008", "100816r20101873tnu           000 1 eng d")}, 2010},
		{"008 19uu falls back to 260", []Field{accCtl("008", acc008('s', "19uu", "vie")), accField("260", ' ', ' ', "c", "[1998?]")}, 1998},
		{"008 uuuu and 260 decade only", []Field{accCtl("008", acc008('s', "uuuu", "vie")), accField("260", ' ', ' ', "c", "[199-?]")}, 0},
		{"008 9999", []Field{accCtl("008", "110301s9999    pk            000 0 urd d"), accField("260", ' ', ' ', "c", "[s.d.]")}, 0},
		{"008 no dates", []Field{accCtl("008", acc008('n', "uuuu", "vie")), accField("260", ' ', ' ', "c", "c2005.")}, 2005},
		{"008 B.C. type ignores digits", []Field{accCtl("008", acc008('b', "0500", "vie")), accField("260", ' ', ' ', "c", "2001")}, 2001},
		{"short 008", []Field{accCtl("008", "0504"), accField("260", ' ', ' ', "c", "c2005.")}, 2005},
		{"garbage 008", []Field{accCtl("008", "hello world, not an 008"), accField("260", ' ', ' ', "c", "©2005")}, 2005},
		{"264 publication before copyright", []Field{
			accField("264", ' ', '4', "c", "©2005"),
			accField("264", ' ', '1', "a", "Hà Nội :", "b", "Kim Đồng,", "c", "[2006]"),
		}, 2006},
		{"264 copyright only", []Field{accField("264", ' ', '4', "c", "℗2003, ©2005")}, 2003},
		{"260 before other 264", []Field{accField("264", ' ', '3', "c", "2010"), accField("260", ' ', ' ', "c", "p1999")}, 1999},
		{"first year of several", []Field{accField("260", ' ', ' ', "c", "2005, c2004.")}, 2005},
		{"numbers that are not years", []Field{accField("260", ' ', ' ', "c", "1.000 bản ; 12345")}, 0},
		{"no date at all", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := accRecord(tt.fields...)
			if got := r.Year(); got != tt.want {
				t.Errorf("Year() = %d, want %d", got, tt.want)
			}
			wantStr := ""
			if tt.want != 0 {
				wantStr = strconv.Itoa(tt.want)
			}
			if got := r.YearString(); got != wantStr {
				t.Errorf("YearString() = %q, want %q", got, wantStr)
			}
		})
	}
}

func TestImprint(t *testing.T) {
	r := accRecord(
		accField("260", ' ', ' ', "a", "Hà Nội :", "b", "Kim Đồng,", "c", "2005"),
		accField("264", ' ', '1', "a", "Tp. Hồ Chí Minh", "b", ": Nxb. Trẻ", "c", ", 2006"),
		accField("264", ' ', '4', "a", "Ignored :", "b", "Copyright holder,"),
		accField("260", ' ', ' ', "a", "[K.đ.] :", "b", "[K.nxb.],", "c", "[2007]"),
		accField("260", ' ', ' ', "a", "[S.l.] :", "b", "[s.n.]", "c", "[n.d.]"),
		accField("264", ' ', '1', "a", "[Place of publication not identified] :", "b", "[publisher not identified]"),
		accField("260", ' ', ' ', "a", "Hà Nội :", "b", "Kim Đồng ;", "a", "Vinh :", "b", "Nxb. Nghệ An"),
	)
	if got, want := r.Publishers(), []string{"Kim Đồng", "Nxb. Trẻ", "Nxb. Nghệ An"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Publishers() = %q, want %q", got, want)
	}
	if got, want := r.Places(), []string{"Hà Nội", "Tp. Hồ Chí Minh", "Vinh"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Places() = %q, want %q", got, want)
	}
}

func TestExtent(t *testing.T) {
	tests := []struct {
		a      string
		extent string
	}{
		{"245 tr. ;", "245 tr."},
		{"245 tr. ; 21 cm", "245 tr. ; 21 cm"},
		{"350tr. :", "350tr."},
		{"xii, 345 p. :", "xii, 345 p."},
		{"[12], 345 pages", "[12], 345 pages"},
		{"[245] p.", "[245] p."},
		{"2 v. (xii, 900 p.)", "2 v. (xii, 900 p.)"},
		{"1 tập (300 trang) ;", "1 tập (300 trang)"},
		{"120 tờ", "120 tờ"},
		{"14p.", "14p."},
		{"vi, 210 pp.", "vi, 210 pp."},
		{"320, 11 p.", "320, 11 p."},
		{"72, [1] p.", "72, [1] p."},
		{"xii, 245, 16 tr. ảnh", "xii, 245, 16 tr. ảnh"},
		{"92 l.", "92 l."},
		{"81 p., [5] leaves of plates", "81 p., [5] leaves of plates"},
		{"2 v. (1200 p.) ; 3 tập", "2 v. (1200 p.) ; 3 tập"},
		{"1200 bản, 20 p.", "1200 bản, 20 p."},
		{"1 CD", "1 CD"},
		{"2 tập ;", "2 tập"},
		{"12 pl.", "12 pl."},
		{"1 bản đồ : màu ;", "1 bản đồ : màu"},
	}
	for _, tt := range tests {
		r := accRecord(accField("300", ' ', ' ', "a", tt.a, "b", "minh họa ;", "c", "21 cm."))
		if got := r.Extent(); got != tt.extent {
			t.Errorf("Extent() of %q = %q, want %q", tt.a, got, tt.extent)
		}
	}
	if r := accRecord(); r.Extent() != "" {
		t.Errorf("record without 300: Extent %q", r.Extent())
	}
}

func TestLanguages(t *testing.T) {
	tests := []struct {
		name   string
		fields []Field
		want   []string
	}{
		{"008 and 041 run together", []Field{accCtl("008", acc008('s', "2005", "vie")), accField("041", '0', ' ', "a", "vieeng")}, []string{"vie", "eng"}},
		{"008 blank, repeated 041 $a", []Field{accCtl("008", acc008('s', "2005", "   ")), accField("041", '1', ' ', "a", "eng", "a", "fre", "h", "rus")}, []string{"eng", "fre"}},
		{"008 fill characters", []Field{accCtl("008", acc008('s', "2005", "|||"))}, nil},
		{"upper case and separators", []Field{accField("041", ' ', ' ', "a", "VIE; ENG, fre")}, []string{"vie", "eng", "fre"}},
		{"no linguistic content kept", []Field{accCtl("008", acc008('s', "2005", "zxx"))}, []string{"zxx"}},
		{"short 008", []Field{accCtl("008", "050406s2005    vm "), accField("041", ' ', ' ', "a", "vie")}, []string{"vie"}},
		{"two-letter codes skipped", []Field{accField("041", ' ', '7', "a", "vi", "2", "iso639-1")}, nil},
		{"digits in 008 language", []Field{accCtl("008", acc008('s', "2005", "v1e"))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := accRecord(tt.fields...).Languages(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Languages() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMaterialType(t *testing.T) {
	tests := []struct{ leader, kind, code string }{
		{"00000nam a2200000 a 4500", "book", "am"},
		{"00000nas a2200000 a 4500", "serial", "as"},
		{"00000nai a2200000 a 4500", "serial", "ai"},
		{"00000nab a2200000 a 4500", "serial", "ab"},
		{"00000naa a2200000 a 4500", "book", "aa"},
		{"00000ntm a2200000 a 4500", "book", "tm"},
		{"00000nem a2200000 a 4500", "map", "em"},
		{"00000nfm a2200000 a 4500", "map", "fm"},
		{"00000ncm a2200000 a 4500", "music", "cm"},
		{"00000njm a2200000 a 4500", "music", "jm"},
		{"00000nim a2200000 a 4500", "sound", "im"},
		{"00000ngm a2200000 a 4500", "video", "gm"},
		{"00000nmm a2200000 a 4500", "electronic", "mm"},
		{"00000nkm a2200000 a 4500", "visual", "km"},
		{"00000nrm a2200000 a 4500", "visual", "rm"},
		{"00000npc a2200000 a 4500", "mixed", "pc"},
		{"00000nom a2200000 a 4500", "mixed", "om"},
		{"00000npcaa2200000 a 4500", "archive", "pc"},
		{"00000nzm a2200000 a 4500", "", "zm"},
		{"00000na", "", ""},
		{"00000ý0", "", ""},                  // broken leader: no half characters out
		{"000000ým a2200000 a 4500", "", ""}, // found by FuzzAccessors
		{"", "", ""},
	}
	for _, tt := range tests {
		r := &Record{Leader: tt.leader}
		if got := r.MaterialType(); got != tt.kind {
			t.Errorf("MaterialType() of %q = %q, want %q", tt.leader, got, tt.kind)
		}
		if got := r.TypeCode(); got != tt.code {
			t.Errorf("TypeCode() of %q = %q, want %q", tt.leader, got, tt.code)
		}
	}
}

func TestSubjects(t *testing.T) {
	r := accRecord(
		accField("650", ' ', '7', "a", "Văn học Việt Nam", "x", "Lịch sử", "y", "Thế kỷ 20.", "2", "Bộ TK TVQG"),
		accField("600", '1', '7', "a", "Hồ, Chí Minh,", "d", "1890-1969", "x", "Tư tưởng.", "0", "http://id.example/123"),
		accField("690", ' ', ' ', "a", "Local heading"),
		accField("651", ' ', '7', "a", "Nghệ An (Việt Nam)", "v", "Bản đồ."),
		accField("653", ' ', ' ', "a", "Toán học", "a", "Giáo khoa."),
		accField("655", ' ', '7', "a", "Tiểu thuyết.", "2", "lcgft"),
		accField("650", ' ', '7', "a", "Văn học Việt Nam", "x", "Lịch sử", "y", "Thế kỷ 20", "6", "880-01"),
		accField("610", '2', '0', "a", "Đảng Cộng sản Việt Nam.", "b", "Ban Chấp hành Trung ương", "x", "Lịch sử."),
		accField("648", ' ', '7', "a", "1945-1975."),
		accField("650", ' ', '4', "a", " ", "x", "Lịch sử"),
	)
	want := []string{
		"Văn học Việt Nam -- Lịch sử -- Thế kỷ 20",
		"Hồ, Chí Minh, 1890-1969 -- Tư tưởng",
		"Nghệ An (Việt Nam) -- Bản đồ",
		"Toán học",
		"Giáo khoa",
		"Tiểu thuyết",
		"Đảng Cộng sản Việt Nam. Ban Chấp hành Trung ương -- Lịch sử",
		"1945-1975",
		"Lịch sử",
	}
	if got := r.Subjects(); !reflect.DeepEqual(got, want) {
		t.Errorf("Subjects():\n got %q\nwant %q", got, want)
	}
}

func TestClassifications(t *testing.T) {
	r := accRecord(
		accField("050", '0', '0', "a", "PL4378.9.N45", "b", "T78 1998"),
		accField("082", '0', '4', "a", "895.9223", "2", "23"),
		accField("082", '0', '0', "a", "895.9/223", "2", "22"),
		accField("080", ' ', ' ', "a", "37"),
		accField("084", ' ', ' ', "a", "V23", "2", "BBK"),
		accField("084", ' ', ' ', "a", "9(V)"),
		accField("090", ' ', ' ', "a", "895.922", "b", "NG527D"),
	)
	want := []Classification{
		{"ddc", "895.9223"},
		{"udc", "37"},
		{"bbk", "V23"},
		{"other", "9(V)"},
		{"lcc", "PL4378.9.N45 T78 1998"},
		{"lcc-local", "895.922 NG527D"},
	}
	if got := r.Classifications(); !reflect.DeepEqual(got, want) {
		t.Errorf("Classifications():\n got %+v\nwant %+v", got, want)
	}
}

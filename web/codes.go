package web

import "strings"

// MARC codes as a reader reads them: the words for the codes a record
// carries (language, country of publication, relator, and unicat's coarse
// material types), in Vietnamese and English. The tables hold the codes
// of the MARC Code Lists for Languages, Countries and Relators that the
// province's catalogs use (Vietnamese and its neighbours, the languages
// of translated literature, the publishing countries of foreign books);
// a code not here is shown as it is, so that nothing is hidden.

// codeName is one code's words in each language of the page.
type codeName struct{ vi, en string }

func (n codeName) in(lang string) string {
	if lang == "vi" {
		return n.vi
	}
	return n.en
}

// languageNames: MARC Code List for Languages.
var languageNames = map[string]codeName{
	"vie": {"Tiếng Việt", "Vietnamese"},
	"eng": {"Tiếng Anh", "English"},
	"fre": {"Tiếng Pháp", "French"},
	"ger": {"Tiếng Đức", "German"},
	"rus": {"Tiếng Nga", "Russian"},
	"chi": {"Tiếng Trung", "Chinese"},
	"jpn": {"Tiếng Nhật", "Japanese"},
	"kor": {"Tiếng Hàn", "Korean"},
	"lao": {"Tiếng Lào", "Lao"},
	"khm": {"Tiếng Khmer", "Khmer"},
	"tha": {"Tiếng Thái", "Thai"},
	"bur": {"Tiếng Myanmar", "Burmese"},
	"ind": {"Tiếng Indonesia", "Indonesian"},
	"may": {"Tiếng Mã Lai", "Malay"},
	"tgl": {"Tiếng Tagalog", "Tagalog"},
	"hin": {"Tiếng Hindi", "Hindi"},
	"san": {"Tiếng Phạn", "Sanskrit"},
	"pli": {"Tiếng Pali", "Pali"},
	"tib": {"Tiếng Tây Tạng", "Tibetan"},
	"ara": {"Tiếng Ả Rập", "Arabic"},
	"heb": {"Tiếng Do Thái", "Hebrew"},
	"spa": {"Tiếng Tây Ban Nha", "Spanish"},
	"por": {"Tiếng Bồ Đào Nha", "Portuguese"},
	"ita": {"Tiếng Ý", "Italian"},
	"lat": {"Tiếng La-tinh", "Latin"},
	"grc": {"Tiếng Hy Lạp cổ", "Greek, Ancient (to 1453)"},
	"gre": {"Tiếng Hy Lạp", "Greek, Modern (1453- )"},
	"dut": {"Tiếng Hà Lan", "Dutch"},
	"swe": {"Tiếng Thụy Điển", "Swedish"},
	"dan": {"Tiếng Đan Mạch", "Danish"},
	"nor": {"Tiếng Na Uy", "Norwegian"},
	"fin": {"Tiếng Phần Lan", "Finnish"},
	"pol": {"Tiếng Ba Lan", "Polish"},
	"cze": {"Tiếng Séc", "Czech"},
	"slo": {"Tiếng Slovakia", "Slovak"},
	"hun": {"Tiếng Hungary", "Hungarian"},
	"rum": {"Tiếng Romania", "Romanian"},
	"bul": {"Tiếng Bulgaria", "Bulgarian"},
	"ukr": {"Tiếng Ukraina", "Ukrainian"},
	"tur": {"Tiếng Thổ Nhĩ Kỳ", "Turkish"},
	"hmn": {"Tiếng Mông", "Hmong"},
	"tai": {"Các tiếng Tày-Thái", "Tai languages"},
	"cmc": {"Các tiếng Chăm", "Chamic languages"},
	"mkh": {"Các tiếng Môn-Khmer", "Mon-Khmer (Other)"},
	"mul": {"Nhiều ngôn ngữ", "Multiple languages"},
	"und": {"Không xác định", "Undetermined"},
	"zxx": {"Không có nội dung ngôn ngữ", "No linguistic content"},
}

// countryNames: MARC Code List for Countries (008/15-17).
var countryNames = map[string]codeName{
	"vm":  {"Việt Nam", "Vietnam"},
	"la":  {"Lào", "Laos"},
	"cb":  {"Campuchia", "Cambodia"},
	"th":  {"Thái Lan", "Thailand"},
	"br":  {"Myanmar", "Burma"},
	"si":  {"Singapore", "Singapore"},
	"my":  {"Malaysia", "Malaysia"},
	"io":  {"Indonesia", "Indonesia"},
	"ph":  {"Philippines", "Philippines"},
	"cc":  {"Trung Quốc", "China"},
	"ch":  {"Đài Loan", "China (Republic : 1949- )"},
	"ja":  {"Nhật Bản", "Japan"},
	"ko":  {"Hàn Quốc", "Korea (South)"},
	"kn":  {"Triều Tiên", "Korea (North)"},
	"ii":  {"Ấn Độ", "India"},
	"ru":  {"Nga", "Russia (Federation)"},
	"fr":  {"Pháp", "France"},
	"gw":  {"Đức", "Germany"},
	"enk": {"Anh", "England"},
	"xxk": {"Vương quốc Anh", "United Kingdom"},
	"it":  {"Ý", "Italy"},
	"sp":  {"Tây Ban Nha", "Spain"},
	"ne":  {"Hà Lan", "Netherlands"},
	"be":  {"Bỉ", "Belgium"},
	"sz":  {"Thụy Sĩ", "Switzerland"},
	"au":  {"Áo", "Austria"},
	"sw":  {"Thụy Điển", "Sweden"},
	"pl":  {"Ba Lan", "Poland"},
	"xr":  {"Cộng hòa Séc", "Czech Republic"},
	"at":  {"Úc", "Australia"},
	"xxc": {"Canada", "Canada"},
	"xxu": {"Hoa Kỳ", "United States"},
	"nyu": {"New York (Hoa Kỳ)", "New York (State)"},
	"cau": {"California (Hoa Kỳ)", "California"},
	"mau": {"Massachusetts (Hoa Kỳ)", "Massachusetts"},
	"ilu": {"Illinois (Hoa Kỳ)", "Illinois"},
	"dcu": {"Washington, D.C. (Hoa Kỳ)", "District of Columbia"},
	"xx":  {"Không rõ nơi xuất bản", "No place, unknown, or undetermined"},
}

// relatorNames: MARC Code List for Relators ($4).
var relatorNames = map[string]codeName{
	"aut": {"tác giả", "author"},
	"trl": {"dịch giả", "translator"},
	"edt": {"biên tập", "editor"},
	"com": {"biên soạn", "compiler"},
	"ill": {"minh họa", "illustrator"},
	"ctb": {"người đóng góp", "contributor"},
	"ann": {"chú giải", "annotator"},
	"aui": {"tác giả lời giới thiệu", "author of introduction, etc."},
	"pbl": {"nhà xuất bản", "publisher"},
	"prf": {"người biểu diễn", "performer"},
	"cmp": {"nhạc sĩ", "composer"},
	"pht": {"nhiếp ảnh", "photographer"},
	"ctg": {"người vẽ bản đồ", "cartographer"},
	"drt": {"đạo diễn", "director"},
	"nrt": {"người đọc", "narrator"},
	"isb": {"đơn vị chủ quản", "issuing body"},
	"orm": {"đơn vị tổ chức", "organizer"},
}

// typeNames: unicat's coarse material types (marc.Record.MaterialType).
var typeNames = map[string]codeName{
	"book":       {"Sách", "Book"},
	"serial":     {"Ấn phẩm định kỳ", "Serial"},
	"map":        {"Bản đồ", "Map"},
	"music":      {"Âm nhạc", "Music"},
	"sound":      {"Ghi âm", "Sound recording"},
	"video":      {"Phim, video", "Video"},
	"electronic": {"Tài liệu điện tử", "Electronic resource"},
	"visual":     {"Tài liệu hình ảnh", "Visual material"},
	"mixed":      {"Tài liệu hỗn hợp", "Mixed materials"},
	"archive":    {"Tài liệu lưu trữ", "Archival material"},
}

// codeWords returns the words for code in table, in lang; the code itself
// when the table does not have it.
func codeWords(table map[string]codeName, code, lang string) string {
	if n, ok := table[strings.ToLower(strings.TrimSpace(code))]; ok {
		return n.in(lang)
	}
	return code
}

// roleWords turns a name's role, relator terms or codes joined by ", ",
// into words: codes the table has are translated, terms kept.
func roleWords(role, lang string) string {
	parts := strings.Split(role, ", ")
	for i, p := range parts {
		if n, ok := relatorNames[strings.TrimSuffix(strings.TrimSpace(p), ".")]; ok {
			parts[i] = n.in(lang)
		}
	}
	return strings.Join(parts, ", ")
}

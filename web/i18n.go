package web

import (
	"net/http"
	"strings"
)

// Languages of the interface; the first is the default.
var languages = []string{"vi", "en"}

const langCookie = "unicat_lang"

// messages holds every text of the interface, by key, per language. A key
// missing in one language falls back to Vietnamese, then to the key itself.
var messages = map[string]map[string]string{
	"vi": {
		"site":              "Mục lục liên hợp",
		"site.sub":          "Thư viện công cộng Nghệ An",
		"nav.search":        "Tra cứu",
		"nav.status":        "Tình trạng thu thập",
		"nav.skip":          "Bỏ qua, đến nội dung chính",
		"search.label":      "Từ khóa hoặc câu truy vấn CQL",
		"search.button":     "Tìm",
		"search.cql":        "Câu truy vấn là CQL (cho người chuyên môn)",
		"search.hint":       "Ví dụ: nguyen du; hoặc CQL: dc.title = \"truyện kiều\" and dc.date > 2000",
		"search.sort":       "Sắp xếp",
		"sort.relevance":    "Mức độ phù hợp",
		"sort.title":        "Nhan đề",
		"sort.author":       "Tác giả",
		"sort.year":         "Năm xuất bản (mới nhất)",
		"sort.year-asc":     "Năm xuất bản (cũ nhất)",
		"results":           "Kết quả",
		"results.count":     "%d biểu ghi",
		"results.none":      "Không tìm thấy biểu ghi nào.",
		"results.range":     "Hiển thị %d–%d trong %d biểu ghi",
		"col.title":         "Nhan đề",
		"col.author":        "Tác giả",
		"col.year":          "Năm",
		"col.libraries":     "Số thư viện có sách",
		"facets":            "Thu hẹp kết quả",
		"facet.library":     "Thư viện",
		"facet.level":       "Cấp thư viện",
		"facet.year":        "Năm xuất bản",
		"facet.language":    "Ngôn ngữ",
		"facet.type":        "Loại tài liệu",
		"facet.online":      "Bản số",
		"online.yes":        "Có bản số",
		"online.mark":       "Bản số",
		"facet.remove":      "Bỏ lọc",
		"facet.partial":     "Tính trên %d kết quả đầu tiên",
		"page.prev":         "Trang trước",
		"page.next":         "Trang sau",
		"page.label":        "Phân trang",
		"page.n":            "Trang %d / %d",
		"error.query":       "Câu truy vấn không hợp lệ",
		"level.province":    "Tỉnh",
		"level.district":    "Huyện/thành phố",
		"level.commune":     "Xã/phường",
		"record":            "Biểu ghi",
		"libraries":         "Các thư viện",
		"libraries.summary": "%d thư viện trong mạng lưới.",
		"library.notfound":  "Không có thư viện %s.",
		"lib.union":         "Biểu ghi liên hợp",
		"lib.alone":         "Chỉ thư viện này có",
		"lib.merged":        "Trùng với thư viện khác",
		"lib.records":       "Biểu ghi đóng góp",
		"lib.org":           "Mã tổ chức MARC",
		"lib.address":       "Địa chỉ",
		"lib.search":        "Tìm trong thư viện này",
		"lib.oai":           "Bộ OAI-PMH của thư viện",
		"lib.sources":       "Nguồn thu thập",
		"lib.unknown":       "Chưa rõ",
		"lib.notconfigured": "Thư viện này do một mục lục liên hợp cấp trên báo là nơi giữ tài liệu; cấu hình chưa mô tả thư viện.",
		"nav.libraries":     "Thư viện",
		"rec.title":         "Nhan đề",
		"rec.resp":          "Trách nhiệm",
		"rec.creators":      "Tác giả",
		"rec.edition":       "Lần xuất bản",
		"rec.publisher":     "Nhà xuất bản",
		"rec.place":         "Nơi xuất bản",
		"rec.year":          "Năm xuất bản",
		"rec.extent":        "Mô tả vật lý",
		"rec.isbn":          "ISBN",
		"rec.issn":          "ISSN",
		"rec.language":      "Ngôn ngữ",
		"rec.country":       "Nước xuất bản",
		"links":             "Bản số trực tuyến",
		"rec.subjects":      "Chủ đề",
		"rec.class":         "Ký hiệu phân loại",
		"rec.type":          "Loại tài liệu",
		"rec.id":            "Mã biểu ghi liên hợp",
		"holdings":          "Thư viện có tài liệu",
		"hold.library":      "Thư viện",
		"hold.code":         "Mã thư viện",
		"hold.level":        "Cấp",
		"hold.location":     "Kho, vị trí",
		"hold.call":         "Ký hiệu xếp giá",
		"hold.copies":       "Số bản",
		"marc":              "Biểu ghi MARC 21",
		"marc.tag":          "Trường",
		"marc.ind":          "Chỉ thị",
		"marc.data":         "Dữ liệu",
		"download":          "Tải biểu ghi",
		"download.xml":      "Tải MARCXML",
		"download.mrc":      "Tải ISO 2709 (.mrc)",
		"notfound":          "Không tìm thấy",
		"notfound.text":     "Không có biểu ghi %s.",
		"gone.text":         "Biểu ghi %s đã bị xóa khỏi mục lục liên hợp.",
		"status":            "Tình trạng thu thập dữ liệu",
		"status.summary":    "%d biểu ghi liên hợp, %d tài liệu trong chỉ mục",
		"st.source":         "Nguồn",
		"st.kind":           "Kiểu",
		"st.state":          "Trạng thái",
		"st.records":        "Biểu ghi",
		"st.deleted":        "Đã xóa",
		"st.last":           "Lần thu thập gần nhất",
		"st.counts":         "Thêm / sửa / xóa / lỗi",
		"st.duplicates":     "%d trùng số kiểm soát",
		"st.error":          "Lỗi",
		"st.failed":         "Lần thu thập gần nhất bị lỗi (chi tiết: unicat status hoặc API quản trị)",
		"st.next":           "Lần kế tiếp",
		"st.never":          "chưa chạy",
		"st.none":           "—",
		"state.idle":        "nghỉ",
		"state.waiting":     "đang chờ",
		"state.running":     "đang chạy",
		"state.failed":      "lỗi",
		"state.interrupted": "bị ngắt giữa chừng",
		"state.paused":      "tạm dừng",
		"state.disabled":    "tắt",
		"lang.switch":       "English",
		"error":             "Lỗi",
	},
	"en": {
		"site":              "Union catalog",
		"site.sub":          "Nghệ An public libraries",
		"nav.search":        "Search",
		"nav.status":        "Harvest status",
		"nav.skip":          "Skip to main content",
		"search.label":      "Words or a CQL query",
		"search.button":     "Search",
		"search.cql":        "The query is CQL (for experts)",
		"search.hint":       "For example: nguyen du; or CQL: dc.title = \"truyện kiều\" and dc.date > 2000",
		"search.sort":       "Sort by",
		"sort.relevance":    "Relevance",
		"sort.title":        "Title",
		"sort.author":       "Author",
		"sort.year":         "Year (newest first)",
		"sort.year-asc":     "Year (oldest first)",
		"results":           "Results",
		"results.count":     "%d records",
		"results.none":      "No records found.",
		"results.range":     "Showing %d–%d of %d records",
		"col.title":         "Title",
		"col.author":        "Author",
		"col.year":          "Year",
		"col.libraries":     "Holding libraries",
		"facets":            "Refine the results",
		"facet.library":     "Library",
		"facet.level":       "Library level",
		"facet.year":        "Year",
		"facet.language":    "Language",
		"facet.type":        "Material type",
		"facet.online":      "Digital copy",
		"online.yes":        "Online copy",
		"online.mark":       "Online",
		"facet.remove":      "Remove filter",
		"facet.partial":     "Counted over the first %d results",
		"page.prev":         "Previous page",
		"page.next":         "Next page",
		"page.label":        "Pages",
		"page.n":            "Page %d of %d",
		"error.query":       "Invalid query",
		"level.province":    "Province",
		"level.district":    "District",
		"level.commune":     "Commune",
		"record":            "Record",
		"libraries":         "Libraries",
		"libraries.summary": "%d libraries in the network.",
		"library.notfound":  "No library %s.",
		"lib.union":         "Union records",
		"lib.alone":         "Held by this library alone",
		"lib.merged":        "Shared with other libraries",
		"lib.records":       "Records contributed",
		"lib.org":           "MARC organization code",
		"lib.address":       "Address",
		"lib.search":        "Search this library",
		"lib.oai":           "The library's OAI-PMH set",
		"lib.sources":       "Harvested sources",
		"lib.unknown":       "Unknown",
		"lib.notconfigured": "An upstream union catalog reports this library as a holder; the configuration does not describe it.",
		"nav.libraries":     "Libraries",
		"rec.title":         "Title",
		"rec.resp":          "Statement of responsibility",
		"rec.creators":      "Authors",
		"rec.edition":       "Edition",
		"rec.publisher":     "Publisher",
		"rec.place":         "Place of publication",
		"rec.year":          "Year",
		"rec.extent":        "Physical description",
		"rec.isbn":          "ISBN",
		"rec.issn":          "ISSN",
		"rec.language":      "Language",
		"rec.country":       "Country of publication",
		"links":             "Digital copies online",
		"rec.subjects":      "Subjects",
		"rec.class":         "Classification",
		"rec.type":          "Material type",
		"rec.id":            "Union record id",
		"holdings":          "Holding libraries",
		"hold.library":      "Library",
		"hold.code":         "Library code",
		"hold.level":        "Level",
		"hold.location":     "Location",
		"hold.call":         "Call number",
		"hold.copies":       "Copies",
		"marc":              "MARC 21 record",
		"marc.tag":          "Tag",
		"marc.ind":          "Indicators",
		"marc.data":         "Data",
		"download":          "Download the record",
		"download.xml":      "Download MARCXML",
		"download.mrc":      "Download ISO 2709 (.mrc)",
		"notfound":          "Not found",
		"notfound.text":     "There is no record %s.",
		"gone.text":         "Record %s has been deleted from the union catalog.",
		"status":            "Harvest status",
		"status.summary":    "%d union records, %d documents in the index",
		"st.source":         "Source",
		"st.kind":           "Kind",
		"st.state":          "State",
		"st.records":        "Records",
		"st.deleted":        "Deleted",
		"st.last":           "Last run",
		"st.counts":         "Added / updated / deleted / rejected",
		"st.duplicates":     "%d repeated control numbers",
		"st.error":          "Error",
		"st.failed":         "The last harvest failed (details: unicat status or the admin API)",
		"st.next":           "Next run",
		"st.never":          "never",
		"st.none":           "—",
		"state.idle":        "idle",
		"state.waiting":     "waiting",
		"state.running":     "running",
		"state.failed":      "failed",
		"state.interrupted": "interrupted",
		"state.paused":      "paused",
		"state.disabled":    "disabled",
		"lang.switch":       "Tiếng Việt",
		"error":             "Error",
	},
}

// tr translates interface texts into one language.
type tr struct{ Lang string }

// T returns the text of key in the language.
func (t tr) T(key string) string {
	if s, ok := messages[t.Lang][key]; ok {
		return s
	}
	if s, ok := messages["vi"][key]; ok {
		return s
	}
	return key
}

// Other is the language the switch link offers.
func (t tr) Other() string {
	if t.Lang == "en" {
		return "vi"
	}
	return "en"
}

// pickLang chooses the interface language: ?lang= (remembered in a
// cookie), then the cookie, then the first of our languages named in
// Accept-Language, then Vietnamese. The second result says the choice
// came from the query and should be remembered.
func pickLang(r *http.Request) (lang string, fromQuery bool) {
	if l := r.URL.Query().Get("lang"); known(l) {
		return l, true
	}
	if c, err := r.Cookie(langCookie); err == nil && known(c.Value) {
		return c.Value, false
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if known(base) {
			return base, false
		}
	}
	return languages[0], false
}

func known(l string) bool {
	for _, k := range languages {
		if l == k {
			return true
		}
	}
	return false
}

package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/unicat/unicat/marc"
)

// Vocabulary holds the material records are made of. The zero value is
// not useful; start from Builtin and extend it with FromRecords.
type Vocabulary struct {
	VNTopics, VNQualifiers, VNForms []string // Vietnamese title parts
	ENTopics, ENForms               []string // foreign title parts
	VNTitles, ForeignTitles         []string // whole titles of real records
	Family, Middle, Given           []string // Vietnamese personal names
	ForeignNames                    []string // "Surname, Forename"
	VNPublishers                    []Publisher
	ForeignPublishers               []Publisher
	VNSubjects, ENSubjects          []string
}

// Publisher is a publishing house with its usual abbreviated form.
type Publisher struct {
	Name, Short, Place string
	// Registrant is the ISBN registrant element under 978-604 (Vietnamese
	// publishers) or the group-and-registrant prefix (foreign ones).
	Registrant string
}

// Builtin returns the built-in vocabulary: the Vietnamese of the Nghệ An
// public library network and a foreign (mostly English) share. It is
// long because it is a data table, the word lists written out one a line.
func Builtin() *Vocabulary {
	f := strings.Fields
	lines := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	return &Vocabulary{
		VNTopics: lines(`Lịch sử Nghệ An
Địa chí Diễn Châu
Văn hóa xứ Nghệ
Dân ca ví giặm
Kỹ thuật trồng lúa
Chăn nuôi gia cầm
Nuôi trồng thủy sản
Kinh tế nông thôn
Giáo dục tiểu học
Y học cổ truyền
Phong tục tập quán
Làng nghề truyền thống
Tiếng Việt
Toán học
Vật lý đại cương
Hóa học hữu cơ
Khoa học tự nhiên
Thủy lợi và đê điều
Chủ tịch Hồ Chí Minh
Phan Bội Châu
Nguyễn Du và Truyện Kiều
Truyện cổ tích Việt Nam
Thơ tình Việt Nam
Ca dao tục ngữ
Chiến tranh và hòa bình
Mùa xuân quê hương
Biển đảo Việt Nam
Trường Sơn
Cửa Lò
Sông Lam
Núi Hồng
Làng Sen
Kim Liên
Tuổi thơ dữ dội
Hạt giống tâm hồn
Kỹ năng sống
Pháp luật đất đai
An toàn giao thông
Bảo vệ môi trường
Sức khỏe sinh sản
Dinh dưỡng trẻ em
Tin học văn phòng
Ngữ văn địa phương
Du lịch miền Trung
Ẩm thực xứ Nghệ
Nghệ thuật tuồng
Khúc ca mùa thu
Thủy thủ và biển cả
Hoa học trò
Quê hương yêu dấu`),
		VNQualifiers: lines(`qua các thời kỳ
trong thời kỳ đổi mới
từ năm 1930 đến năm 1975
ở Nghệ An
ở nông thôn
cho học sinh
cho mọi người
dành cho thiếu nhi
hiện đại
truyền thống và hiện đại
những điều cần biết
một số vấn đề lý luận và thực tiễn
tuyển chọn
giai đoạn 2010-2020`),
		VNForms: lines(`Giáo trình
Sổ tay
Hỏi đáp
Tuyển tập
Hướng dẫn
Tìm hiểu
Truyện ngắn
Tập thơ
Kỷ yếu
Từ điển
Tài liệu bồi dưỡng
Bài tập`),
		ENTopics: lines(`history of Vietnam
Southeast Asian economies
rice farming
public libraries
information retrieval
linguistics
organic chemistry
classical mechanics
world literature
the French colonial period
the Mekong delta
Buddhism
climate change
children's literature
cataloguing and classification
music theory
number theory
the Cold War`),
		ENForms: lines(`An introduction to
A short history of
Essays on
Principles of
Studies in
Handbook of
Readings in
The essentials of
Perspectives on
A guide to`),
		Family: f("Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Thái Cao Mai Chu Hà"),
		Middle: f("Văn Thị Hữu Đức Minh Quang Thanh Ngọc Xuân Thu Hồng Anh Đình Công Bá Khắc Thúy Huy"),
		Given: f("An Bình Cường Dũng Giang Hà Hải Hạnh Hiếu Hòa Hoa Hùng Huy Khoa Khuê Lan Linh Loan Long Mai Nam Nga " +
			"Phong Phúc Quân Quỳnh Sơn Tâm Thảo Thủy Thúy Thụy Trang Trung Tuấn Tùy Vân Việt Xoan Yến Lịch Hoè Quý"),
		ForeignNames: lines(`Tolstoy, Leo
Hugo, Victor
Smith, John
Müller, Hans
Dupont, Marie
García Márquez, Gabriel
Hemingway, Ernest
Nakamura, Hiroshi
Wang, Li
Ivanov, Sergei
Brown, Elizabeth
Martin, Paul
Schmidt, Anna
Rossi, Marco
Kowalski, Jan`),
		VNPublishers: []Publisher{
			{"Nhà xuất bản Nghệ An", "Nxb. Nghệ An", "Nghệ An", "9891"},
			{"Nhà xuất bản Giáo dục Việt Nam", "Nxb. Giáo dục", "Hà Nội", "0"},
			{"Nhà xuất bản Kim Đồng", "Nxb. Kim Đồng", "Hà Nội", "2"},
			{"Nhà xuất bản Văn học", "Nxb. Văn học", "Hà Nội", "69"},
			{"Nhà xuất bản Trẻ", "Nxb. Trẻ", "Thành phố Hồ Chí Minh", "1"},
			{"Nhà xuất bản Hội Nhà văn", "Nxb. Hội Nhà văn", "Hà Nội", "53"},
			{"Nhà xuất bản Chính trị quốc gia Sự thật", "Nxb. CTQG", "Hà Nội", "57"},
			{"Nhà xuất bản Khoa học xã hội", "Nxb. KHXH", "Hà Nội", "956"},
			{"Nhà xuất bản Lao động", "Nxb. Lao động", "Hà Nội", "59"},
			{"Nhà xuất bản Thanh niên", "Nxb. Thanh niên", "Hà Nội", "64"},
			{"Nhà xuất bản Phụ nữ Việt Nam", "Nxb. Phụ nữ", "Hà Nội", "56"},
			{"Nhà xuất bản Đại học Vinh", "Nxb. ĐH Vinh", "Nghệ An", "923"},
			{"Nhà xuất bản Nông nghiệp", "Nxb. Nông nghiệp", "Hà Nội", "60"},
			{"Nhà xuất bản Y học", "Nxb. Y học", "Hà Nội", "66"},
			{"Nhà xuất bản Thế giới", "Nxb. Thế giới", "Hà Nội", "77"},
			{"Nhà xuất bản Tổng hợp Thành phố Hồ Chí Minh", "Nxb. Tổng hợp TP.HCM", "Thành phố Hồ Chí Minh", "58"},
		},
		ForeignPublishers: []Publisher{
			{"Oxford University Press", "Oxford Univ. Pr.", "Oxford", "0-19"},
			{"Cambridge University Press", "Cambridge Univ. Pr.", "Cambridge", "0-521"},
			{"Routledge", "Routledge", "London", "0-415"},
			{"Springer", "Springer", "Berlin", "3-540"},
			{"Gallimard", "Gallimard", "Paris", "2-07"},
			{"Penguin Books", "Penguin", "London", "0-14"},
			{"HarperCollins Publishers", "HarperCollins Pub.", "New York", "0-06"},
		},
		VNSubjects: lines(`Lịch sử
Văn học Việt Nam
Văn học thiếu nhi
Thơ
Truyện ngắn
Tiểu thuyết
Nông nghiệp
Chăn nuôi
Thủy sản
Giáo dục
Y học
Pháp luật
Kinh tế
Văn hóa
Phong tục
Địa lý
Du lịch
Tin học
Môi trường
Tôn giáo
Nghệ thuật
Âm nhạc
Ẩm thực`),
		ENSubjects: lines(`History
Literature
Economics
Agriculture
Library science
Chemistry
Physics
Mathematics
Philosophy
Music
Religion
Linguistics`),
	}
}

// FromRecords adds to v the titles, names, publishers and subjects of
// real records, so a corpus carries their text. Records in Vietnamese
// feed the Vietnamese lists, the others the foreign ones.
func (v *Vocabulary) FromRecords(recs []*marc.Record) {
	seen := map[string]bool{}
	add := func(list *[]string, s string) {
		s = strings.TrimSpace(strings.TrimRight(s, " /:;,."))
		if s == "" || len(s) > 120 || seen[s] {
			return
		}
		seen[s] = true
		*list = append(*list, s)
	}
	for _, r := range recs {
		vn := isVietnameseRecord(r)
		if vn {
			add(&v.VNTitles, r.Title())
		} else {
			add(&v.ForeignTitles, r.Title())
		}
		for _, c := range r.Creators() {
			if !vn && strings.Contains(c.Name, ", ") {
				add(&v.ForeignNames, c.Name)
			}
		}
		for _, s := range r.Subjects() {
			if vn {
				add(&v.VNSubjects, s)
			} else {
				add(&v.ENSubjects, s)
			}
		}
	}
}

func isVietnameseRecord(r *marc.Record) bool {
	for _, l := range r.Languages() {
		if l == "vie" {
			return true
		}
	}
	return false
}

// FromFiles reads the MARC files (ISO 2709 or MARCXML, sniffed) under
// each path, a file or a directory searched recursively, and adds their
// records with FromRecords. Records the reader rejects or had to repair
// (a mislabelled charset, say) are left out: their text is not
// realistic. It returns how many records were used.
func (v *Vocabulary) FromFiles(paths ...string) (int, error) {
	var recs []*marc.Record
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".mrc", ".marc", ".xml":
			default:
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			f, ok := marc.Sniff(b)
			if !ok {
				return nil
			}
			rd := marc.NewReader(bytes.NewReader(b), f, marc.ReaderOptions{Source: path})
			for {
				r, err := rd.Next()
				if errors.Is(err, io.EOF) {
					return nil
				}
				var re *marc.RecordError
				if errors.As(err, &re) {
					continue
				}
				if err != nil {
					return nil // an unreadable file is not vocabulary
				}
				if len(rd.Warnings()) == 0 {
					recs = append(recs, r)
				}
			}
		})
		if err != nil {
			return 0, fmt.Errorf("corpus: vocabulary from %s: %w", p, err)
		}
	}
	v.FromRecords(recs)
	return len(recs), nil
}

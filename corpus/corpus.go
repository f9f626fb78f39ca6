package corpus

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/unicat/unicat/marc"
)

// Options configure a Generator.
type Options struct {
	// Records is how many records to generate (N).
	Records int
	// Libraries is how many member libraries hold them (M, at least 2).
	// Library 0 is the provincial library.
	Libraries int
	// Seed makes the corpus: one seed, one corpus, byte for byte.
	Seed uint64
	// DuplicateShare is the share of records that re-catalogue a work
	// another library already holds (0.3 when zero; negative for none).
	DuplicateShare float64
	// LookAlikeShare is the share of records that are look-alikes of a
	// work: another edition, volume, author or reprint (0.05 when zero;
	// negative for none).
	LookAlikeShare float64
	// Vocabulary is what records are made of (Builtin when nil).
	Vocabulary *Vocabulary
}

// Kind says how a record came to be.
type Kind uint8

const (
	Original  Kind = iota // the first record of a work
	Copy                  // the same work catalogued again by another library
	LookAlike             // another work that looks like one already made
)

func (k Kind) String() string {
	switch k {
	case Original:
		return "original"
	case Copy:
		return "copy"
	case LookAlike:
		return "look-alike"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Library is one member library of the generated network.
type Library struct {
	ID    string // source id: lib-001 … ([a-z0-9-])
	Code  string // library code, 852 $a
	Org   string // MARC organisation code, 003 and 040 $a
	Name  string
	Level string // province, district or commune
}

// Item is one generated record and its truth.
type Item struct {
	Library   int    // index into Libraries
	LocalID   string // its 001, unique within the library
	Work      string // records with one Work are the same manifestation
	Kind      Kind
	Variation string // for copies and look-alikes: what was changed, comma-separated
	Record    *marc.Record
}

// Stats counts what a generator produced so far.
type Stats struct {
	Records, Works               int
	Originals, Copies, LookAlike int
	PerLibrary                   []int
}

// window is how many recent works can be re-catalogued or imitated. It
// bounds memory; it is large enough that copies of one work are spread
// over the stream rather than adjacent.
const window = 4096

type work struct {
	label   string
	rec     *marc.Record
	holders []uint64 // bitset of libraries holding it
	vn      bool
	looks   int
}

func (w *work) holds(lib int) bool { return w.holders[lib/64]&(1<<(lib%64)) != 0 }
func (w *work) hold(lib int)       { w.holders[lib/64] |= 1 << (lib % 64) }

// Generator yields the records of one corpus in order.
type Generator struct {
	opts    Options
	v       *Vocabulary
	libs    []Library
	weights []int // cumulative: who catalogues originals
	rng     *rand.Rand
	ring    []*work
	nextLoc []int
	vnISBN  []*isbnPool
	fnISBN  []*isbnPool
	stats   Stats
}

// New returns a generator for opts.
func New(opts Options) (*Generator, error) {
	if opts.Records < 0 {
		return nil, fmt.Errorf("corpus: %d records", opts.Records)
	}
	if opts.Libraries < 2 || opts.Libraries > 9999 {
		return nil, fmt.Errorf("corpus: %d libraries (want 2 to 9999)", opts.Libraries)
	}
	if opts.DuplicateShare == 0 {
		opts.DuplicateShare = 0.3
	}
	if opts.LookAlikeShare == 0 {
		opts.LookAlikeShare = 0.05
	}
	opts.DuplicateShare = max(opts.DuplicateShare, 0)
	opts.LookAlikeShare = max(opts.LookAlikeShare, 0)
	if opts.DuplicateShare+opts.LookAlikeShare >= 0.9 {
		return nil, fmt.Errorf("corpus: duplicate share %.2f + look-alike share %.2f leaves too few originals", opts.DuplicateShare, opts.LookAlikeShare)
	}
	v := opts.Vocabulary
	if v == nil {
		v = Builtin()
	}
	g := &Generator{
		opts:    opts,
		v:       v,
		libs:    Libraries(opts.Libraries),
		rng:     rand.New(rand.NewPCG(opts.Seed, 0x756e6963617421)),
		nextLoc: make([]int, opts.Libraries),
	}
	g.stats.PerLibrary = make([]int, opts.Libraries)
	// The provincial library catalogues most new books, districts more
	// than communes.
	sum := 0
	for _, l := range g.libs {
		switch l.Level {
		case "province":
			sum += 8
		case "district":
			sum += 3
		default:
			sum++
		}
		g.weights = append(g.weights, sum)
	}
	for _, p := range v.VNPublishers {
		g.vnISBN = append(g.vnISBN, newISBNPool("978604", p.Registrant))
	}
	for _, p := range v.ForeignPublishers {
		grp, reg, _ := strings.Cut(p.Registrant, "-")
		g.fnISBN = append(g.fnISBN, newISBNPool("978"+grp, reg))
	}
	return g, nil
}

// districts of Nghệ An, for the names of the generated libraries.
var districts = strings.Split("Vinh,Cửa Lò,Thái Hòa,Hoàng Mai,Diễn Châu,Quỳnh Lưu,Yên Thành,Nghi Lộc,Hưng Nguyên,"+
	"Nam Đàn,Thanh Chương,Đô Lương,Anh Sơn,Con Cuông,Tương Dương,Kỳ Sơn,Quế Phong,Quỳ Châu,Quỳ Hợp,Nghĩa Đàn,Tân Kỳ", ",")

// Libraries returns the m libraries of a generated network: the
// provincial library, up to 21 district libraries, then commune reading
// rooms. It depends on m only.
func Libraries(m int) []Library {
	out := make([]Library, m)
	for i := range out {
		id := fmt.Sprintf("lib-%03d", i)
		code := fmt.Sprintf("NA-L%03d", i)
		switch {
		case i == 0:
			out[i] = Library{ID: id, Code: code, Name: "Thư viện tỉnh Nghệ An", Level: "province"}
		case i <= len(districts):
			out[i] = Library{ID: id, Code: code, Name: "Thư viện " + districts[i-1], Level: "district"}
		default:
			d := districts[(i-1)%len(districts)]
			out[i] = Library{ID: id, Code: code, Name: fmt.Sprintf("Phòng đọc xã số %d, %s", i, d), Level: "commune"}
		}
		out[i].Org = fmt.Sprintf("VN-NAL%03d", i)
	}
	return out
}

// Libraries returns the generator's libraries.
func (g *Generator) Libraries() []Library { return g.libs }

// Stats returns the counts so far.
func (g *Generator) Stats() Stats {
	s := g.stats
	s.PerLibrary = append([]int(nil), s.PerLibrary...)
	return s
}

// Next returns the next record, or io.EOF after Options.Records.
// The record belongs to the caller.
func (g *Generator) Next() (*Item, error) {
	if g.stats.Records >= g.opts.Records {
		return nil, io.EOF
	}
	it := g.next()
	g.stats.Records++
	g.stats.PerLibrary[it.Library]++
	switch it.Kind {
	case Original:
		g.stats.Originals++
		g.stats.Works++
	case Copy:
		g.stats.Copies++
	case LookAlike:
		g.stats.LookAlike++
		g.stats.Works++
	}
	return it, nil
}

func (g *Generator) next() *Item {
	u := g.rng.Float64()
	if len(g.ring) > 0 && u < g.opts.DuplicateShare {
		// A work some library already has; another library catalogues it.
		for tries := 0; tries < 8; tries++ {
			w := g.ring[g.rng.IntN(len(g.ring))]
			lib := g.rng.IntN(len(g.libs))
			if w.holds(lib) {
				continue
			}
			w.hold(lib)
			rec, what := Variant(w.rec, g.rng)
			return g.item(lib, w.label, Copy, what, rec)
		}
	} else if len(g.ring) > 0 && u < g.opts.DuplicateShare+g.opts.LookAlikeShare {
		w := g.ring[g.rng.IntN(len(g.ring))]
		kind := LookAlikeKind(g.rng.IntN(4))
		rec, what := MakeLookAlike(w.rec, kind, g.rng, func() string { return g.isbn(w.vn) })
		w.looks++
		nw := &work{label: fmt.Sprintf("%s/%s%d", w.label, kind, w.looks), rec: rec, vn: w.vn, holders: make([]uint64, (len(g.libs)+63)/64)}
		lib := g.pickLibrary()
		nw.hold(lib)
		g.remember(nw)
		return g.item(lib, nw.label, LookAlike, what, clone(rec))
	}
	w := g.newWork()
	lib := g.pickLibrary()
	w.hold(lib)
	g.remember(w)
	return g.item(lib, w.label, Original, "", clone(w.rec))
}

func (g *Generator) remember(w *work) {
	if len(g.ring) < window {
		g.ring = append(g.ring, w)
		return
	}
	g.ring[g.rng.IntN(window)] = w
}

func (g *Generator) pickLibrary() int {
	n := g.rng.IntN(g.weights[len(g.weights)-1])
	for i, c := range g.weights {
		if n < c {
			return i
		}
	}
	return len(g.weights) - 1
}

// item makes rec the record of library lib: its control number,
// organisation codes and holdings.
func (g *Generator) item(lib int, label string, k Kind, what string, rec *marc.Record) *Item {
	l := g.libs[lib]
	g.nextLoc[lib]++
	id := fmt.Sprintf("%s%07d", strings.ReplaceAll(l.Code, "-", ""), g.nextLoc[lib])
	setControl(rec, "001", id)
	setControl(rec, "003", l.Org)
	for _, f := range rec.FieldsByTag("040") {
		f.Subfields = []marc.Subfield{{Code: 'a', Value: l.Org}, {Code: 'b', Value: langOf(rec)}, {Code: 'c', Value: l.Org}}
	}
	dropTags(rec, func(tag string) bool { return tag == "852" })
	rec.Fields = append(rec.Fields, marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: g.holding(lib, rec)})
	return &Item{Library: lib, LocalID: id, Work: label, Kind: k, Variation: what, Record: rec}
}

func langOf(r *marc.Record) string {
	if f := r.First("008"); f != nil && len(f.Value) >= 38 {
		return f.Value[35:38]
	}
	return "vie"
}

var shelves = []string{"Kho mượn", "Kho đọc", "Phòng thiếu nhi", "Kho địa chí", "Kho luân chuyển"}

// holding writes 852 the library's way: each library has its own call
// number style (Dewey and Cutter-like author mark, a registration
// number, or a fixed-size shelf code) and copy count.
func (g *Generator) holding(lib int, rec *marc.Record) []marc.Subfield {
	l := g.libs[lib]
	class := "000"
	if f := rec.First("082"); f != nil && f.Sub('a') != "" {
		class = f.Sub('a')
	}
	mark := "X"
	if t := rec.Title(); t != "" {
		mark = strings.ToUpper(string([]rune(t)[:1]))
	}
	var call []marc.Subfield
	switch lib % 3 {
	case 0:
		call = []marc.Subfield{{Code: 'h', Value: class}, {Code: 'i', Value: mark + strconv.Itoa(100+g.rng.IntN(900))}}
	case 1:
		call = []marc.Subfield{{Code: 'h', Value: fmt.Sprintf("VV.%05d", g.nextLoc[lib])}}
	default:
		call = []marc.Subfield{{Code: 'h', Value: strings.SplitN(class, ".", 2)[0] + " / " + mark}}
	}
	sf := []marc.Subfield{{Code: 'a', Value: l.Code}, {Code: 'b', Value: shelves[g.rng.IntN(len(shelves))]}}
	sf = append(sf, call...)
	if n := 1 + g.rng.IntN(4); n > 1 {
		sf = append(sf, marc.Subfield{Code: 't', Value: "1-" + strconv.Itoa(n)})
	}
	return sf
}

// isbn returns a new unique hyphenated ISBN from a random publisher
// block, or "" when that block is used up.
func (g *Generator) isbn(vn bool) string {
	pools := g.fnISBN
	if vn {
		pools = g.vnISBN
	}
	h, _ := pools[g.rng.IntN(len(pools))].take()
	return h
}

func (g *Generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

// newWork makes the description of a new manifestation. The steps draw
// from the generator's random source in a fixed order: one seed, one
// corpus.
func (g *Generator) newWork() *work {
	vn := g.rng.IntN(100) < 75
	w := &work{label: fmt.Sprintf("w%d", g.stats.Works+1), vn: vn, holders: make([]uint64, (len(g.libs)+63)/64)}
	d := g.draft(vn)
	rec := g.controlFields(&d)
	g.addNumbersAndMainEntry(rec, &d)
	rec.Fields = append(rec.Fields, titleField(&d))
	g.addEditionAndImprint(rec, &d)
	g.addNotesAndSubjects(rec, &d)
	w.rec = rec
	return w
}

// draft is what a new work says, before it is written as MARC fields.
type draft struct {
	vn                            bool // Vietnamese, else foreign
	year                          int
	lang, ctry                    string // 008/35-37, 008/15-17
	title, sub, vol, author, resp string // 245 $a $b $n, 100 $a, 245 $c
	pub                           Publisher
}

// draft picks a new work's year, title, author and publisher.
func (g *Generator) draft(vn bool) draft {
	r := g.rng
	d := draft{vn: vn, year: 1975 + r.IntN(50), lang: "vie", ctry: "vm "}
	if r.IntN(5) == 0 {
		d.year = 1930 + r.IntN(45)
	}
	if vn {
		g.draftVietnamese(&d)
	} else {
		g.draftForeign(&d)
	}
	if r.IntN(8) == 0 {
		d.vol = "Tập " + strconv.Itoa(1+r.IntN(3))
		if !vn {
			d.vol = "Vol. " + strconv.Itoa(1+r.IntN(3))
		}
	}
	return d
}

// draftVietnamese makes a Vietnamese work: a real title now and then,
// else a title made of a form, a topic and a qualifier.
func (g *Generator) draftVietnamese(d *draft) {
	r, v := g.rng, g.v
	d.pub = v.VNPublishers[r.IntN(len(v.VNPublishers))]
	switch n := r.IntN(20); {
	case n < 2 && len(v.VNTitles) > 0:
		d.title = g.pick(v.VNTitles)
	case n < 9:
		d.title = g.pick(v.VNForms) + " " + lowerFirst(g.pick(v.VNTopics))
	case n < 14:
		d.title, d.sub = g.pick(v.VNTopics), g.pick(v.VNQualifiers)
	default:
		d.title = g.pick(v.VNTopics) + " " + g.pick(v.VNQualifiers)
	}
	d.author = g.pick(v.Family) + " " + g.pick(v.Middle) + " " + g.pick(v.Given)
	d.resp = d.author
	if r.IntN(4) == 0 {
		d.resp = d.author + " (chủ biên)"
	}
}

// draftForeign makes a foreign (mostly English) work, its author
// inverted in 100 and direct in the statement of responsibility.
func (g *Generator) draftForeign(d *draft) {
	r, v := g.rng, g.v
	d.pub = v.ForeignPublishers[r.IntN(len(v.ForeignPublishers))]
	d.lang, d.ctry = []string{"eng", "eng", "eng", "fre", "ger"}[r.IntN(5)], "xxk"
	if r.IntN(5) == 0 && len(v.ForeignTitles) > 0 {
		d.title = g.pick(v.ForeignTitles)
	} else {
		d.title = g.pick(v.ENForms) + " " + g.pick(v.ENTopics)
	}
	d.author = g.pick(v.ForeignNames)
	if sn, fn, ok := strings.Cut(d.author, ", "); ok {
		d.resp = fn + " " + sn
	} else {
		d.resp = d.author
	}
}

// addField appends a data field of the subfields given as code, value
// pairs, leaving out those with an empty value.
func addField(rec *marc.Record, tag string, i1, i2 byte, sf ...string) {
	f := marc.Field{Tag: tag, Ind1: i1, Ind2: i2}
	for i := 0; i+1 < len(sf); i += 2 {
		if sf[i+1] != "" {
			f.Subfields = append(f.Subfields, marc.Subfield{Code: sf[i][0], Value: sf[i+1]})
		}
	}
	rec.Fields = append(rec.Fields, f)
}

// controlFields starts the record: leader (now and then a minimal-level
// one), 001 and 003 (the library's, set later), 005 and 008.
func (g *Generator) controlFields(d *draft) *marc.Record {
	r := g.rng
	ldr := []byte("00000nam a2200000 a 4500")
	if r.IntN(6) == 0 {
		ldr[17] = '7'
	}
	rec := &marc.Record{Leader: string(ldr)}
	rec.Fields = append(rec.Fields,
		marc.Field{Tag: "001", Value: "x"},
		marc.Field{Tag: "003", Value: "x"},
		marc.Field{Tag: "005", Value: fmt.Sprintf("%04d%02d%02d%02d%02d%02d.0", 2015+r.IntN(10), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60))},
		marc.Field{Tag: "008", Value: fmt.Sprintf("%02d%02d%02ds%04d    %s%s%s d", d.year%100, 1+r.IntN(12), 1+r.IntN(28), d.year, d.ctry, strings.Repeat(" ", 17), d.lang)},
	)
	return rec
}

// addNumbersAndMainEntry adds the ISBN (most books since 1972 have one),
// cataloguing source, language, class number and author.
func (g *Generator) addNumbersAndMainEntry(rec *marc.Record, d *draft) {
	r := g.rng
	if d.year >= 1972 && r.IntN(10) < 8 {
		if isbn := g.isbn(d.vn); isbn != "" {
			price := ""
			if d.vn {
				price = strconv.Itoa(20+r.IntN(200)) + ".000đ"
			}
			addField(rec, "020", ' ', ' ', "a", isbn, "c", price)
		}
	}
	addField(rec, "040", ' ', ' ', "a", "x")
	addField(rec, "041", '0', ' ', "a", d.lang)
	class := fmt.Sprintf("%03d.%d", r.IntN(1000), r.IntN(100))
	if d.vn && r.IntN(3) == 0 {
		class = "895.922" + strconv.Itoa(r.IntN(10))
	}
	addField(rec, "082", '0', '4', "a", class, "2", "23")
	if d.vn {
		addField(rec, "100", '0', ' ', "a", d.author)
	} else {
		addField(rec, "100", '1', ' ', "a", d.author+",", "d", fmt.Sprintf("%d-", d.year-30-r.IntN(40)))
	}
}

// titleField writes 245 with ISBD punctuation: each subfield ends in the
// mark that introduces the next.
func titleField(d *draft) marc.Field {
	t := marc.Field{Tag: "245", Ind1: '1', Ind2: '0'}
	a := d.title
	switch {
	case d.sub != "":
		a += " :"
	case d.vol != "":
		a += "."
	default:
		a += " /"
	}
	t.Subfields = append(t.Subfields, marc.Subfield{Code: 'a', Value: a})
	if d.sub != "" {
		s := d.sub
		if d.vol != "" {
			s += "."
		} else {
			s += " /"
		}
		t.Subfields = append(t.Subfields, marc.Subfield{Code: 'b', Value: s})
	}
	if d.vol != "" {
		t.Subfields = append(t.Subfields, marc.Subfield{Code: 'n', Value: d.vol + " /"})
	}
	t.Subfields = append(t.Subfields, marc.Subfield{Code: 'c', Value: d.resp + "."})
	return t
}

// addEditionAndImprint adds an edition statement now and then, the
// imprint and the extent.
func (g *Generator) addEditionAndImprint(rec *marc.Record, d *draft) {
	r := g.rng
	if r.IntN(4) == 0 {
		ed := []string{"Tái bản lần thứ 2", "In lần thứ 3", "Tái bản có sửa chữa, bổ sung"}[r.IntN(3)]
		if !d.vn {
			ed = []string{"2nd ed.", "3rd ed.", "New ed."}[r.IntN(3)]
		}
		addField(rec, "250", ' ', ' ', "a", ed)
	}
	addField(rec, "260", ' ', ' ', "a", d.pub.Place+" :", "b", d.pub.Name+",", "c", strconv.Itoa(d.year)+".")
	pages := 40 + r.IntN(600)
	if d.vn {
		addField(rec, "300", ' ', ' ', "a", strconv.Itoa(pages)+" tr. ;", "c", strconv.Itoa(13+r.IntN(17))+" cm")
	} else {
		addField(rec, "300", ' ', ' ', "a", strconv.Itoa(pages)+" p. ;", "c", strconv.Itoa(13+r.IntN(17))+" cm.")
	}
}

// addNotesAndSubjects adds a note now and then, one to three subjects
// and now and then an added author.
func (g *Generator) addNotesAndSubjects(rec *marc.Record, d *draft) {
	r, v := g.rng, g.v
	if r.IntN(5) == 0 {
		if d.vn {
			addField(rec, "500", ' ', ' ', "a", "Đầu trang tên sách ghi: "+[]string{"Sở Văn hóa và Thể thao Nghệ An", "Trường Đại học Vinh", "Hội Văn học Nghệ thuật Nghệ An"}[r.IntN(3)])
		} else {
			addField(rec, "504", ' ', ' ', "a", "Includes bibliographical references and index.")
		}
	}
	for n := 1 + r.IntN(3); n > 0; n-- {
		if d.vn {
			addField(rec, "650", ' ', '7', "a", g.pick(v.VNSubjects), "2", "Bộ TK TVQG")
		} else {
			addField(rec, "650", ' ', '0', "a", g.pick(v.ENSubjects)+".")
		}
	}
	if r.IntN(4) == 0 {
		if d.vn {
			addField(rec, "700", '0', ' ', "a", g.pick(v.Family)+" "+g.pick(v.Middle)+" "+g.pick(v.Given), "e", "biên soạn")
		} else {
			addField(rec, "700", '1', ' ', "a", g.pick(v.ForeignNames)+",", "e", "editor.")
		}
	}
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	// Proper names stay as they are.
	if strings.HasPrefix(s, "Nghệ") || strings.HasPrefix(s, "Hồ") || strings.HasPrefix(s, "Phan") ||
		strings.HasPrefix(s, "Nguyễn") || strings.HasPrefix(s, "Cửa") || strings.HasPrefix(s, "Sông") ||
		strings.HasPrefix(s, "Trường") || strings.HasPrefix(s, "Kim") || strings.HasPrefix(s, "Núi") ||
		strings.HasPrefix(s, "Làng Sen") || strings.HasPrefix(s, "Tiếng Việt") || strings.HasPrefix(s, "Chủ tịch") {
		return s
	}
	return strings.ToLower(string(r)) + s[n:]
}

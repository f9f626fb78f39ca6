package dedup

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/unicat/unicat/corpus"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/marc"
)

// The labelled set (documented in testdata/README.md).
//
// Seeds are the real records of ../testdata (loadBase). Every seed is one
// manifestation, except the natural duplicates listed in naturalPairs.
// From each seed with a title, variants() makes the copies a second or
// third library would catalogue (same label), and lookAlikes() the
// records that must stay apart (labels of their own). Everything is
// derived from a PRNG seeded by the seed's file and position, so the set
// is the same on every run.

// labelled is one record of the labelled set.
type labelled struct {
	source, id string
	rec        *marc.Record
	label      string // records with one label are one manifestation
	kind       string // "seed", "variant", "look-alike"
}

// naturalPairs are the duplicates already present among the seeds, as
// file#index groups. The Vietnamese demo files overlap on purpose (see
// testdata/vietnamese/README.md: "same edition" rows are duplicates, the
// "look-alike" rows are not listed); the others were found by reading the
// records: identical records under two file names, or the same LCCN/OCLC
// number and description.
var naturalPairs = [][]string{
	{"vietnamese/na-tinh.xml#1", "vietnamese/vinh.mrc#1"},                                 // Truyện Kiều, Văn học 2015
	{"vietnamese/na-tinh.xml#2", "vietnamese/xa-nghi-loc.mrc#1"},                          // Lục Vân Tiên
	{"vietnamese/na-tinh.xml#3", "vietnamese/vinh.mrc#2"},                                 // Số đỏ
	{"vietnamese/na-tinh.xml#4", "vietnamese/dien-chau.mrc#2"},                            // Tắt đèn
	{"vietnamese/na-tinh.xml#5", "vietnamese/vinh.mrc#3", "vietnamese/xa-nghi-loc.mrc#2"}, // Dế Mèn phiêu lưu ký
	{"vietnamese/na-tinh.xml#6", "vietnamese/vinh.mrc#4"},                                 // Nhật ký trong tù
	{"vietnamese/na-tinh.xml#7", "vietnamese/xa-nghi-loc.mrc#3"},                          // Chí Phèo
	{"vietnamese/na-tinh.xml#8", "vietnamese/vinh.mrc#6"},                                 // Nỗi buồn chiến tranh
	{"vietnamese/na-tinh.xml#9", "vietnamese/dien-chau.mrc#3"},                            // Cho tôi xin một vé đi tuổi thơ
	{"vietnamese/na-tinh.xml#13", "vietnamese/xa-nghi-loc.mrc#4"},                         // Thủy hử. Tập 1
	{"vietnamese/vinh.mrc#8", "vietnamese/dien-chau.mrc#5"},                               // Chiến tranh và hòa bình. Tập 1
	{"marc/openlibrary/poganucpeoplethe00stowuoft_meta.mrc#1", "marc/openlibrary/new_poganucpeoplethe00stowuoft_meta.mrc#1"},
	{"marc/zebra/sample-marc.mrc#1", "marc/yaz/marc6.marc#1"},                          // LCCN 11224466, one record in two test suites
	{"marc/yaz/marccol2.u8.marc#1", "marc/yaz/marc7.marc#1"},                           // LCCN 77123332, the Voyager diacritics test record
	{"marc/zebra/collection-opera-43.xml#12", "marc/zebra/collection-opera-43.xml#13"}, // Électre, OCLC 38289273 twice in one file
	{"marc/recordmanager/marc1.xml#1", "marc/recordmanager/marc3.xml#1"},               // Tutki ja kirjoita, ISBN 9789513148362 (RecordManager's own dedup fixture)
}

// excludedSeeds are left out: DanMARC-structured copies of one record
// (yaz marc3/marc4, subfields in 001), an empty record, and Zebra's
// sample #2, a copy of #1 that differs only in its LCCN (a test-data
// artefact: once a library drops the LCCN, nothing tells the two apart).
var excludedSeeds = map[string]bool{
	"marc/yaz/marc3.marc#1": true, "marc/yaz/marc4.marc#2": true, "marc/yaz/marc0.marc#1": true,
	"marc/zebra/sample-marc.mrc#2": true,
}

// variantSources and lookAlikeSources are the libraries the generated
// records go to.
var (
	variantSources   = []string{"gen-a", "gen-b", "gen-c", "gen-d", "gen-e", "gen-f", "gen-g", "gen-h"}
	lookAlikeSources = []string{"gen-l1", "gen-l2"}
)

// buildLabelled returns the labelled set: seeds, variants, look-alikes.
func buildLabelled(t testing.TB) []labelled {
	t.Helper()
	seeds := loadBase(t)
	labelOf := map[string]string{}
	for _, g := range naturalPairs {
		for _, k := range g {
			labelOf[k] = g[0]
		}
	}
	var out []labelled
	found := map[string]bool{}
	usedID := map[string]bool{}
	holds := map[string]bool{} // label, source → that source has a copy
	for _, s := range seeds {
		key := fmt.Sprintf("%s#%d", s.file, s.index)
		if excludedSeeds[key] {
			continue
		}
		found[key] = true
		label := key
		if l, ok := labelOf[key]; ok {
			label = l
		}
		id := s.rec.ControlNumber()
		if id == "" || usedID[s.source+"\x00"+id] {
			id = key // no 001, or the same 001 twice in one file
		}
		usedID[s.source+"\x00"+id] = true
		out = append(out, labelled{source: s.source, id: id, rec: s.rec, label: label, kind: "seed"})
		if s.rec.First("245") == nil || s.rec.Title() == "" {
			continue // nothing to re-catalogue
		}
		h := fnv.New64a()
		h.Write([]byte(key))
		rng := rand.New(rand.NewPCG(h.Sum64(), 0x5eed))
		// One to three other libraries hold it; a library catalogues a
		// manifestation once (two records of one source are kept apart
		// unless an identifier joins them, see match).
		n := 1 + rng.IntN(3)
		var srcs []string
		for _, i := range rng.Perm(len(variantSources)) {
			if src := variantSources[i]; !holds[label+"\x00"+src] && len(srcs) < n {
				holds[label+"\x00"+src] = true
				srcs = append(srcs, src)
			}
		}
		for i, src := range srcs {
			v := variant(s.rec, rng)
			out = append(out, labelled{source: src, id: fmt.Sprintf("%s-v%d", key, i), rec: v, label: label, kind: "variant"})
		}
		for i, la := range lookAlikes(s.rec, rng) {
			// Look-alikes made from two seeds of one manifestation can be
			// one manifestation again (volume 2 of the same set): their
			// label is the seed's and what makes them differ.
			l := label + "/" + la.what + "/" + la.differs
			src := lookAlikeSources[i%len(lookAlikeSources)]
			if holds[l+"\x00"+src] {
				src = lookAlikeSources[(i+1)%len(lookAlikeSources)]
			}
			holds[l+"\x00"+src] = true
			out = append(out, labelled{source: src, id: fmt.Sprintf("%s-l%d", key, i), rec: la.rec, label: l, kind: "look-alike " + la.what})
		}
	}
	for _, g := range naturalPairs {
		for _, k := range g {
			if !found[k] {
				t.Fatalf("labelled set: natural pair member %s not among the seeds", k)
			}
		}
	}
	// Through the codec, as an export file would be: NFD variants come
	// back NFC, exactly as unicat would store them.
	for i := range out {
		out[i].rec = roundTrip(t, out[i].rec)
	}
	return out
}

func roundTrip(t testing.TB, r *marc.Record) *marc.Record {
	raw, err := marc.AppendISO2709(nil, r)
	if err != nil {
		xml, _ := marc.AppendMARCXML(nil, r, true)
		rec, err := marc.NewXMLReader(bytes.NewReader(xml), marc.ReaderOptions{}).Next()
		if err != nil {
			t.Fatalf("labelled set: round trip: %v", err)
		}
		return rec
	}
	rec, err := marc.NewISO2709Reader(bytes.NewReader(raw), marc.ReaderOptions{Charset: marc.CharsetUTF8}).Next()
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("labelled set: round trip: %v", err)
	}
	return rec
}

// clone deep-copies a record.
func clone(r *marc.Record) *marc.Record {
	c := &marc.Record{Leader: r.Leader, Fields: make([]marc.Field, len(r.Fields))}
	for i, f := range r.Fields {
		f.Subfields = append([]marc.Subfield(nil), f.Subfields...)
		c.Fields[i] = f
	}
	return c
}

func dropTags(r *marc.Record, keep func(tag string) bool) {
	out := r.Fields[:0]
	for _, f := range r.Fields {
		if keep(f.Tag) {
			out = append(out, f)
		}
	}
	r.Fields = out
}

func setControl(r *marc.Record, tag, v string) {
	for i := range r.Fields {
		if r.Fields[i].Tag == tag {
			r.Fields[i].Value, r.Fields[i].Subfields = v, nil
			return
		}
	}
	r.Fields = append(r.Fields, marc.Field{Tag: tag, Value: v})
}

// variant re-catalogues r the way another library would: same
// manifestation, other hands.
func variant(r *marc.Record, rng *rand.Rand) *marc.Record {
	v := clone(r)
	lib := fmt.Sprintf("VN-GEN%d", rng.IntN(1000))
	// Its own control number, system numbers and holdings; local fields go.
	keepIDs := rng.IntN(3) == 0 // copy-catalogued: the source's 035/010 kept
	dropTags(v, func(tag string) bool {
		switch {
		case tag == "852" || tag == "005" || tag[0] == '9' || tag >= "841" && tag <= "878" && tag != "856":
			return false
		case tag == "035" || tag == "010" || tag == "015" || tag == "016":
			return keepIDs
		}
		return true
	})
	setControl(v, "001", fmt.Sprintf("G%06d", rng.IntN(1000000)))
	setControl(v, "003", lib)
	v.Fields = append(v.Fields, marc.Field{Tag: "852", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{
		{Code: 'a', Value: lib}, {Code: 'b', Value: "Kho mượn"}, {Code: 'h', Value: fmt.Sprintf("%d.%d", 100+rng.IntN(800), rng.IntN(100))},
	}})
	// ISBN: hyphenated, qualified, ISBN-10 or missing.
	for i := range v.Fields {
		f := &v.Fields[i]
		if f.Tag != "020" {
			continue
		}
		for j := range f.Subfields {
			if f.Subfields[j].Code != 'a' {
				continue
			}
			n, ok := marc.NormalizeISBN(f.Subfields[j].Value)
			if !ok {
				continue
			}
			switch rng.IntN(5) {
			case 0:
				f.Subfields[j].Value = hyphenate(n)
			case 1:
				f.Subfields[j].Value = n + []string{" (bìa mềm)", " (pbk.)", " : 85.000đ", " (q. 1)"}[rng.IntN(4)]
			case 2:
				if i10 := corpus.ISBN13To10(n); i10 != "" {
					f.Subfields[j].Value = i10
				}
			}
		}
	}
	if rng.IntN(4) == 0 {
		dropTags(v, func(tag string) bool { return tag != "020" })
	}
	// Title re-typed.
	if f := v.First("245"); f != nil {
		retypeTitle(f, rng)
	}
	// Author written another way, dates left out.
	for _, tag := range []string{"100", "700"} {
		for _, f := range v.FieldsByTag(tag) {
			if rng.IntN(2) == 0 {
				f.Subfields = withoutCodes(f.Subfields, "d")
			}
			for j := range f.Subfields {
				if f.Subfields[j].Code == 'a' && rng.IntN(2) == 0 {
					f.Subfields[j].Value = reorderName(f.Subfields[j].Value)
				}
			}
		}
	}
	// Publisher abbreviated or spelt out; place abbreviated.
	for _, tag := range []string{"260", "264"} {
		for _, f := range v.FieldsByTag(tag) {
			for j := range f.Subfields {
				switch f.Subfields[j].Code {
				case 'b':
					f.Subfields[j].Value = rewordPublisher(f.Subfields[j].Value, rng)
				case 'a':
					if strings.HasPrefix(f.Subfields[j].Value, "Hà Nội") && rng.IntN(2) == 0 {
						f.Subfields[j].Value = "H. :"
					}
				}
			}
		}
	}
	// Pages counted another way.
	if f := v.First("300"); f != nil && rng.IntN(2) == 0 {
		for j := range f.Subfields {
			if f.Subfields[j].Code == 'a' {
				f.Subfields[j].Value = recountPages(f.Subfields[j].Value, rng)
			}
		}
	}
	// A sparser record: minimal level, no subjects, notes or class.
	if rng.IntN(3) == 0 {
		dropTags(v, func(tag string) bool { return tag[0] != '5' && tag[0] != '6' && tag != "082" && tag != "050" })
		if len(v.Leader) == 24 {
			v.Leader = v.Leader[:17] + "7" + v.Leader[18:]
		}
	}
	// Text form: NFD (undone by the reader), old tone placement (not).
	switch rng.IntN(3) {
	case 0:
		mapText(v, func(s string) string { return norm.NFD.String(s) })
	case 1:
		mapText(v, corpus.OldTones)
	}
	return v
}

func withoutCodes(sfs []marc.Subfield, codes string) []marc.Subfield {
	out := sfs[:0]
	for _, s := range sfs {
		if !strings.ContainsRune(codes, rune(s.Code)) {
			out = append(out, s)
		}
	}
	// A name's ISBD comma before the removed $d goes too.
	if n := len(out); n > 0 {
		out[n-1].Value = strings.TrimRight(out[n-1].Value, " ,")
	}
	return out
}

func mapText(r *marc.Record, fn func(string) string) {
	for i := range r.Fields {
		f := &r.Fields[i]
		if f.IsControl() {
			continue
		}
		for j := range f.Subfields {
			f.Subfields[j].Value = fn(f.Subfields[j].Value)
		}
	}
}

// retypeTitle changes a 245 the ways cataloguers differ: ISBD marks,
// subtitle in $a or left out, capitals, a slip of the keyboard.
func retypeTitle(f *marc.Field, rng *rand.Rand) {
	ai, bi := -1, -1
	for j := range f.Subfields {
		switch f.Subfields[j].Code {
		case 'a':
			if ai < 0 {
				ai = j
			}
		case 'b':
			if bi < 0 {
				bi = j
			}
		}
	}
	if ai < 0 {
		return
	}
	a := strings.TrimRight(f.Subfields[ai].Value, " /:;=.,")
	switch rng.IntN(4) {
	case 0: // punctuation re-typed
		if bi >= 0 {
			f.Subfields[ai].Value = a + ":"
		} else {
			f.Subfields[ai].Value = a + "."
		}
	case 1: // subtitle moved into $a
		if bi >= 0 {
			f.Subfields[ai].Value = a + " : " + strings.TrimRight(f.Subfields[bi].Value, " /:;=.,")
			f.Subfields = append(f.Subfields[:bi], f.Subfields[bi+1:]...)
		}
	case 2: // subtitle left out
		if bi >= 0 {
			f.Subfields[ai].Value = a
			f.Subfields = append(f.Subfields[:bi], f.Subfields[bi+1:]...)
		}
	case 3:
		f.Subfields[ai].Value = a
	}
	for j := range f.Subfields {
		if f.Subfields[j].Code != 'a' && f.Subfields[j].Code != 'b' {
			continue
		}
		s := f.Subfields[j].Value
		switch rng.IntN(4) {
		case 0:
			s = strings.ToUpper(s[:1]) + strings.ToLower(s[1:])
		case 1:
			s = titleCase(s)
		}
		if j == ai && utf8.RuneCountInString(s) >= 20 && rng.IntN(3) == 0 {
			s = typo(s, rng)
		}
		f.Subfields[j].Value = s
	}
	// Cataloguers of one work may or may not skip the article.
	if rng.IntN(2) == 0 {
		f.Ind2 = '0'
		lower := strings.ToLower(f.Subfields[ai].Value)
		for _, art := range []string{"the ", "a ", "an "} {
			if strings.HasPrefix(lower, art) {
				f.Ind2 = byte('0' + len(art))
			}
		}
	}
}

func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = strings.ToUpper(string(r)) + w[n:]
	}
	return strings.Join(words, " ")
}

// typo swaps two adjacent letters inside one longer word.
func typo(s string, rng *rand.Rand) string {
	rs := []rune(s)
	for tries := 0; tries < 10; tries++ {
		i := 1 + rng.IntN(len(rs)-3)
		if isLetter(rs[i]) && isLetter(rs[i+1]) && isLetter(rs[i-1]) && rs[i] != rs[i+1] {
			rs[i], rs[i+1] = rs[i+1], rs[i]
			return string(rs)
		}
	}
	return s
}

func isLetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x7f && r != ' '
}

// reorderName writes "Nguyễn Du" as "Nguyễn, Du" and back, or "Stowe,
// Harriet Beecher" in direct order.
func reorderName(n string) string {
	n = strings.TrimRight(n, " ,.")
	if i := strings.Index(n, ", "); i > 0 {
		if strings.Count(n, ",") == 1 {
			return n[i+2:] + " " + n[:i]
		}
		return n
	}
	if i := strings.IndexByte(n, ' '); i > 0 {
		return n[:i] + ", " + n[i+1:]
	}
	return n
}

var publisherForms = [][2]string{
	{"Nhà xuất bản ", "Nxb. "}, {"Nxb. ", "NXB "}, {"Publishing Company", "Pub. Co."},
	{"Publishers", "Pub."}, {"Company", "Co."}, {"Press", "Pr."}, {"& ", "and "},
}

func rewordPublisher(p string, rng *rand.Rand) string {
	trail := ""
	if t := strings.TrimRight(p, " ,;:"); t != p {
		trail = p[len(t):]
		p = t
	}
	switch rng.IntN(3) {
	case 0:
		for _, f := range publisherForms {
			if strings.Contains(p, f[0]) {
				return strings.Replace(p, f[0], f[1], 1) + trail
			}
		}
		if !strings.HasPrefix(p, "Nxb") && rng.IntN(2) == 0 && isVietnamese(p) {
			return "Nxb. " + p + trail
		}
	case 1:
		for _, f := range publisherForms {
			if strings.Contains(p, f[1]) {
				return strings.Replace(p, f[1], f[0], 1) + trail
			}
		}
	}
	return p + trail
}

func isVietnamese(s string) bool {
	for _, r := range s {
		if r > 0x7f {
			return true
		}
	}
	return false
}

// recountPages writes a page count the way another cataloguer would:
// with the preliminaries counted, glued, or off by a few.
func recountPages(a string, rng *rand.Rand) string {
	i := strings.IndexAny(a, "0123456789")
	if i < 0 {
		return a
	}
	j := i
	for j < len(a) && a[j] >= '0' && a[j] <= '9' {
		j++
	}
	n, _ := strconv.Atoi(a[i:j])
	switch rng.IntN(3) {
	case 0:
		return a[:i] + "[4], " + a[i:]
	case 1:
		return a[:i] + strconv.Itoa(n+rng.IntN(5)-2) + a[j:]
	}
	return a[:j] + strings.TrimLeft(a[j:], " ")
}

// ------------------------------------------------------------- look-alikes

type lookAlike struct {
	what    string
	differs string // the values that set it apart from its seed
	rec     *marc.Record
}

var otherAuthors = []string{"Nguyễn, Văn Khoa", "Trần, Thị Hà", "Lê, Minh Tuấn", "Smith, John", "Phạm, Quang Huy", "Müller, Hans"}

// lookAlikes returns records sharing most of r's description that are
// other manifestations: another edition, another volume (with the set's
// ISBN), the same title by another author, a reprint years later.
func lookAlikes(r *marc.Record, rng *rand.Rand) []lookAlike {
	var out []lookAlike
	year := r.Year()
	base := func() *marc.Record {
		v := clone(r)
		dropTags(v, func(tag string) bool {
			return tag != "035" && tag != "010" && tag != "015" && tag != "016" && tag != "024" && tag != "852" && tag != "005" && tag[0] != '9'
		})
		setControl(v, "001", fmt.Sprintf("L%06d", rng.IntN(1000000)))
		setControl(v, "003", "VN-LOOK")
		return v
	}
	kinds := rng.Perm(4)[:1+rng.IntN(2)]
	for _, k := range kinds {
		switch k {
		case 0: // another edition, a few years on, its own ISBN
			if year == 0 {
				continue
			}
			v := base()
			y := year + 2 + rng.IntN(5)
			setYear(v, y)
			isbn := replaceISBN(v, rng)
			ed := []string{"2nd ed.", "Tái bản lần thứ 3", "Rev. ed.", "Xuất bản lần thứ 2"}[rng.IntN(4)]
			setEdition(v, ed)
			out = append(out, lookAlike{"edition", fmt.Sprint(y, ed, isbn), v})
		case 1: // another volume of a set sharing one ISBN
			v := base()
			f := v.First("245")
			n := 2
			for _, x := range f.Subs("n") {
				if strings.Contains(x, "2") {
					n = 3
				}
			}
			f.Subfields = withoutCodes(f.Subfields, "n")
			f.Subfields = append(f.Subfields, marc.Subfield{Code: 'n', Value: []string{"Tập ", "v. ", "Quyển ", "Part "}[rng.IntN(4)] + strconv.Itoa(n)})
			out = append(out, lookAlike{"volume", strconv.Itoa(n), v})
		case 2: // same title, another author, its own ISBN or none
			if f := r.First("100"); f == nil || f.Sub('a') == "" {
				continue
			}
			v := base()
			who := otherAuthors[rng.IntN(len(otherAuthors))]
			for _, f := range v.FieldsByTag("100") {
				f.Subfields = []marc.Subfield{{Code: 'a', Value: who}}
			}
			dropTags(v, func(tag string) bool { return tag != "700" })
			if f := v.First("245"); f != nil {
				f.Subfields = withoutCodes(f.Subfields, "c")
			}
			isbn := replaceISBN(v, rng)
			out = append(out, lookAlike{"author", who + isbn, v})
		case 3: // reprinted years later without an ISBN
			if year == 0 {
				continue
			}
			v := base()
			y := year + 5 + rng.IntN(25)
			setYear(v, y)
			dropTags(v, func(tag string) bool { return tag != "020" })
			out = append(out, lookAlike{"reprint", strconv.Itoa(y), v})
		}
	}
	return out
}

func setYear(r *marc.Record, y int) {
	ys := strconv.Itoa(y)
	for i := range r.Fields {
		f := &r.Fields[i]
		switch f.Tag {
		case "008":
			if len(f.Value) >= 11 {
				f.Value = f.Value[:6] + "s" + ys + f.Value[11:]
			}
		case "260", "264":
			for j := range f.Subfields {
				if f.Subfields[j].Code == 'c' {
					f.Subfields[j].Value = ys + "."
				}
			}
		}
	}
	if r.First("008") == nil {
		r.Fields = append(r.Fields, marc.Field{Tag: "008", Value: "000000s" + ys + "    xx            000 0 und d"})
	}
}

func setEdition(r *marc.Record, e string) {
	dropTags(r, func(tag string) bool { return tag != "250" })
	r.Fields = append(r.Fields, marc.Field{Tag: "250", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: e}}})
}

// replaceISBN gives r a new valid ISBN (or none) of its own.
func replaceISBN(r *marc.Record, rng *rand.Rand) string {
	dropTags(r, func(tag string) bool { return tag != "020" })
	if rng.IntN(3) == 0 {
		return ""
	}
	isbn := makeISBN(rng.Uint64())
	r.Fields = append(r.Fields, marc.Field{Tag: "020", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: isbn}}})
	return isbn
}

// makeISBN returns a valid 978-604 ISBN-13 from a number.
func makeISBN(n uint64) string {
	d := fmt.Sprintf("978604%06d", n%1000000)
	return d + string(corpus.ISBN13Check(d))
}

func hyphenate(isbn13 string) string {
	return isbn13[:3] + "-" + isbn13[3:6] + "-" + isbn13[6:8] + "-" + isbn13[8:12] + "-" + isbn13[12:]
}

package corpus

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/unicat/unicat/marc"
)

// Variant re-catalogues r the way another library would: the same
// manifestation by other hands. It returns a new record (r is not
// changed) and what was changed, comma-separated. Control number,
// organisation codes and holdings are left to the caller; the local
// fields (9XX, 852) are dropped.
func Variant(r *marc.Record, rng *rand.Rand) (*marc.Record, string) {
	v := clone(r)
	var what []string
	did := func(s string) { what = append(what, s) }
	dropTags(v, func(tag string) bool { return tag == "852" || tag == "005" || tag[0] == '9' })
	// In this order: each step draws from rng, and one seed must make
	// one corpus.
	for _, vary := range variations {
		vary(v, rng, did)
	}
	return v, strings.Join(what, ",")
}

// variations are the ways Variant's cataloguers differ; each changes v
// or not, and calls did with the name of each change it makes.
var variations = []func(v *marc.Record, rng *rand.Rand, did func(string)){
	varyISBN, varyTitle, varyNames, varyImprint, varyPages, varyLevel, varyText,
}

// varyISBN writes the ISBN with hyphens (as generated), as digits, with
// a qualifier, as the old ISBN-10, or leaves it out.
func varyISBN(v *marc.Record, rng *rand.Rand, did func(string)) {
	if v.First("020") == nil {
		return
	}
	switch rng.IntN(6) {
	case 0:
		dropTags(v, func(tag string) bool { return tag == "020" })
		did("isbn-missing")
	case 1:
		mapISBN(v, func(d string) string { return d })
		did("isbn-digits")
	case 2:
		mapISBN(v, func(d string) string { return ISBN13To10(d) })
		did("isbn-10")
	case 3:
		mapISBN(v, func(d string) string {
			return d + []string{" (bìa mềm)", " (pbk.)", " (q. 1)", " (hbk.)"}[rng.IntN(4)]
		})
		did("isbn-qualified")
	}
}

func varyTitle(v *marc.Record, rng *rand.Rand, did func(string)) {
	if f := v.First("245"); f != nil && retypeTitle(f, rng) {
		did("title-retyped")
	}
}

// varyNames writes names in inverted or direct order, and leaves the
// main entry's dates out.
func varyNames(v *marc.Record, rng *rand.Rand, did func(string)) {
	for _, f := range v.Fields {
		if f.Tag != "100" && f.Tag != "700" {
			continue
		}
		for j := range f.Subfields {
			if f.Subfields[j].Code == 'a' && rng.IntN(3) == 0 {
				f.Subfields[j].Value = reorderName(f.Subfields[j].Value)
				did("name-order")
			}
		}
	}
	for i := range v.Fields {
		f := &v.Fields[i]
		if f.Tag == "100" && f.Sub('d') != "" && rng.IntN(2) == 0 {
			f.Subfields = withoutCode(f.Subfields, 'd')
			did("name-dates")
		}
	}
}

// varyImprint abbreviates the publisher and the place.
func varyImprint(v *marc.Record, rng *rand.Rand, did func(string)) {
	for _, f := range v.FieldsByTag("260") {
		for j := range f.Subfields {
			switch s := &f.Subfields[j]; s.Code {
			case 'b':
				varyPublisher(s, rng, did)
			case 'a':
				varyPlace(s, rng, did)
			}
		}
	}
}

func varyPublisher(s *marc.Subfield, rng *rand.Rand, did func(string)) {
	if rng.IntN(2) == 0 {
		if w := abbreviatePublisher(s.Value); w != s.Value {
			s.Value = w
			did("publisher-abbreviated")
		}
	}
}

func varyPlace(s *marc.Subfield, rng *rand.Rand, did func(string)) {
	if strings.HasPrefix(s.Value, "Hà Nội") && rng.IntN(2) == 0 {
		s.Value = "H. :"
		did("place-abbreviated")
	} else if strings.HasPrefix(s.Value, "Thành phố Hồ Chí Minh") && rng.IntN(2) == 0 {
		s.Value = "Tp. HCM :"
		did("place-abbreviated")
	}
}

// varyPages counts the pages another way.
func varyPages(v *marc.Record, rng *rand.Rand, did func(string)) {
	if f := v.First("300"); f != nil && rng.IntN(3) == 0 {
		for j := range f.Subfields {
			if f.Subfields[j].Code == 'a' {
				f.Subfields[j].Value = recountPages(f.Subfields[j].Value, rng)
				did("pages")
			}
		}
	}
}

// varyLevel makes a minimal-level record now and then: no notes,
// subjects or class number.
func varyLevel(v *marc.Record, rng *rand.Rand, did func(string)) {
	if rng.IntN(4) == 0 {
		dropTags(v, func(tag string) bool { return tag[0] == '5' || tag[0] == '6' || tag == "082" })
		v.Leader = v.Leader[:17] + "7" + v.Leader[18:]
		did("minimal")
	}
}

// varyText decomposes the text (NFD), or writes it with the old tone
// placement (hoà, thuỷ).
func varyText(v *marc.Record, rng *rand.Rand, did func(string)) {
	switch rng.IntN(4) {
	case 0:
		mapText(v, norm.NFD.String)
		did("nfd")
	case 1:
		mapText(v, OldTones)
		did("old-tones")
	}
}

func mapISBN(r *marc.Record, fn func(digits string) string) {
	for _, f := range r.FieldsByTag("020") {
		for j := range f.Subfields {
			if f.Subfields[j].Code != 'a' {
				continue
			}
			if d, ok := marc.NormalizeISBN(f.Subfields[j].Value); ok {
				if s := fn(d); s != "" {
					f.Subfields[j].Value = s
				}
			}
		}
	}
}

// retypeTitle changes 245 the ways cataloguers differ: ISBD marks,
// subtitle folded into $a or left out, capitals, a slip of the keyboard.
// It reports whether anything changed.
func retypeTitle(f *marc.Field, rng *rand.Rand) bool {
	before := joinSubs(f)
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
		return false
	}
	trim := func(s string) string { return strings.TrimRight(s, " /:;=.,") }
	switch rng.IntN(5) {
	case 0: // ISBD punctuation left out
		f.Subfields[ai].Value = trim(f.Subfields[ai].Value)
	case 1: // subtitle folded into $a
		if bi >= 0 {
			f.Subfields[ai].Value = trim(f.Subfields[ai].Value) + " : " + f.Subfields[bi].Value
			f.Subfields = append(f.Subfields[:bi], f.Subfields[bi+1:]...)
		}
	case 2: // subtitle left out
		if bi >= 0 {
			f.Subfields = append(f.Subfields[:bi], f.Subfields[bi+1:]...)
		}
	}
	a := &f.Subfields[ai].Value
	switch rng.IntN(5) {
	case 0:
		*a = strings.ToUpper(*a)
	case 1:
		*a = titleCase(*a)
	}
	if utf8.RuneCountInString(*a) >= 16 && rng.IntN(6) == 0 {
		*a = typo(*a, rng)
	}
	return joinSubs(f) != before
}

func joinSubs(f *marc.Field) string {
	var b strings.Builder
	for _, s := range f.Subfields {
		b.WriteByte(s.Code)
		b.WriteString(s.Value)
	}
	return b.String()
}

func titleCase(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[n:]
	}
	return strings.Join(words, " ")
}

// typo swaps two adjacent letters inside a word.
func typo(s string, rng *rand.Rand) string {
	rs := []rune(s)
	for tries := 0; tries < 10; tries++ {
		i := 1 + rng.IntN(len(rs)-3)
		if unicode.IsLetter(rs[i-1]) && unicode.IsLetter(rs[i]) && unicode.IsLetter(rs[i+1]) && rs[i] != rs[i+1] {
			rs[i], rs[i+1] = rs[i+1], rs[i]
			return string(rs)
		}
	}
	return s
}

// reorderName turns "Nguyễn Văn An" into "Nguyễn, Văn An" and "Hugo,
// Victor," into "Victor Hugo".
func reorderName(n string) string {
	trail := ""
	if t := strings.TrimRight(n, " ,."); t != n {
		trail, n = n[len(t):], t
	}
	if sn, fn, ok := strings.Cut(n, ", "); ok {
		return fn + " " + sn + trail
	}
	if sn, fn, ok := strings.Cut(n, " "); ok {
		return sn + ", " + fn + trail
	}
	return n + trail
}

var publisherShort = [][2]string{
	{"Nhà xuất bản ", "Nxb. "}, {"University Press", "Univ. Pr."}, {"Publishers", "Pub."}, {"Books", "Bks."},
	{"Chính trị quốc gia Sự thật", "CTQG"}, {"Khoa học xã hội", "KHXH"}, {"Thành phố Hồ Chí Minh", "Tp. HCM"},
}

// abbreviatePublisher writes a publisher's name the short way.
func abbreviatePublisher(p string) string {
	for _, s := range publisherShort {
		p = strings.Replace(p, s[0], s[1], 1)
	}
	return p
}

// recountPages writes a page count as another cataloguer would: with
// the preliminary pages counted, or off by one or two.
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
	if rng.IntN(2) == 0 {
		return a[:i] + "[4], " + a[i:]
	}
	return a[:i] + strconv.Itoa(n+1+rng.IntN(2)) + a[j:]
}

// OldTones moves Vietnamese tone marks to the old placement on the
// open syllables oa, oe, uy: "hòa" → "hoà", "thủy" → "thuỷ". Syllables
// with a final consonant ("hoàn") and "qu" ("quý") keep their mark.
func OldTones(s string) string {
	d := []rune(norm.NFD.String(s))
	isTone := func(r rune) bool { return r == 0x300 || r == 0x301 || r == 0x303 || r == 0x309 || r == 0x323 }
	for i := 0; i+2 < len(d); i++ {
		pair := strings.ToLower(string([]rune{d[i], d[i+2]}))
		if !isTone(d[i+1]) || (pair != "oa" && pair != "oe" && pair != "uy") {
			continue
		}
		if i > 0 && (d[i-1] == 'q' || d[i-1] == 'Q') {
			continue
		}
		if e := i + 3; e < len(d) && (unicode.IsLetter(d[e]) || unicode.Is(unicode.Mn, d[e])) {
			continue
		}
		d[i+1], d[i+2] = d[i+2], d[i+1]
	}
	return norm.NFC.String(string(d))
}

// LookAlikeKind is a way of being another manifestation of a similar book.
type LookAlikeKind int

const (
	OtherEdition LookAlikeKind = iota // a later edition with its own ISBN
	OtherVolume                       // another volume of the set
	OtherAuthor                       // the same title by another author
	Reprint                           // reprinted years later, no ISBN
)

func (k LookAlikeKind) String() string {
	switch k {
	case OtherEdition:
		return "edition"
	case OtherVolume:
		return "volume"
	case OtherAuthor:
		return "author"
	case Reprint:
		return "reprint"
	}
	return "look-alike"
}

var otherAuthors = []string{"Nguyễn Văn Khoa", "Trần Thị Hà", "Lê Minh Tuấn", "Phạm Quang Huy", "Smith, John,", "Müller, Hans,"}

// MakeLookAlike returns a record describing another manifestation that
// shares most of r's description, and what sets it apart. newISBN gives a
// fresh ISBN ("" for none). r is not changed.
func MakeLookAlike(r *marc.Record, kind LookAlikeKind, rng *rand.Rand, newISBN func() string) (*marc.Record, string) {
	v := clone(r)
	dropTags(v, func(tag string) bool { return tag == "852" || tag == "005" || tag[0] == '9' })
	year := r.Year()
	if year == 0 {
		year = 2000
	}
	setISBN := func() string {
		dropTags(v, func(tag string) bool { return tag == "020" })
		isbn := newISBN()
		if isbn != "" {
			v.Fields = insertField(v.Fields, marc.Field{Tag: "020", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: isbn}}})
		}
		return isbn
	}
	switch kind {
	case OtherEdition:
		y := year + 1 + rng.IntN(8)
		setYear(v, y)
		ed := []string{"Tái bản lần thứ 4", "In lần thứ 5", "2nd ed.", "Rev. ed."}[rng.IntN(4)]
		dropTags(v, func(tag string) bool { return tag == "250" })
		v.Fields = insertField(v.Fields, marc.Field{Tag: "250", Ind1: ' ', Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: ed}}})
		return v, "edition " + ed + " " + strconv.Itoa(y) + " " + setISBN()
	case OtherVolume:
		f := v.First("245")
		if f == nil {
			break
		}
		n := 2
		if old := f.Sub('n'); strings.Contains(old, "2") {
			n = 3
		}
		f.Subfields = withoutCode(f.Subfields, 'n')
		vol := []string{"Tập ", "Quyển ", "Vol. "}[rng.IntN(3)] + strconv.Itoa(n)
		// $n goes after $a/$b, before $c.
		at := len(f.Subfields)
		for j, s := range f.Subfields {
			if s.Code == 'c' {
				at = j
				break
			}
		}
		f.Subfields = append(f.Subfields[:at], append([]marc.Subfield{{Code: 'n', Value: vol}}, f.Subfields[at:]...)...)
		return v, "volume " + vol + " " + setISBN()
	case OtherAuthor:
		who := otherAuthors[rng.IntN(len(otherAuthors))]
		dropTags(v, func(tag string) bool { return tag == "100" || tag == "700" })
		ind := byte('0')
		if strings.Contains(who, ",") {
			ind = '1'
		}
		v.Fields = insertField(v.Fields, marc.Field{Tag: "100", Ind1: ind, Ind2: ' ', Subfields: []marc.Subfield{{Code: 'a', Value: who}}})
		if f := v.First("245"); f != nil {
			for j := range f.Subfields {
				if f.Subfields[j].Code == 'c' {
					f.Subfields[j].Value = strings.TrimRight(who, ",") + "."
				}
			}
		}
		setYear(v, year+rng.IntN(3))
		return v, "author " + who + " " + setISBN()
	}
	// Reprint: years later, without an ISBN.
	y := year + 5 + rng.IntN(20)
	setYear(v, y)
	dropTags(v, func(tag string) bool { return tag == "020" })
	return v, "reprint " + strconv.Itoa(y)
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
}

// insertField puts f in tag order.
func insertField(fs []marc.Field, f marc.Field) []marc.Field {
	at := len(fs)
	for i := range fs {
		if fs[i].Tag > f.Tag {
			at = i
			break
		}
	}
	return append(fs[:at], append([]marc.Field{f}, fs[at:]...)...)
}

func clone(r *marc.Record) *marc.Record {
	c := &marc.Record{Leader: r.Leader, Fields: make([]marc.Field, len(r.Fields), len(r.Fields)+2)}
	for i, f := range r.Fields {
		f.Subfields = append([]marc.Subfield(nil), f.Subfields...)
		c.Fields[i] = f
	}
	return c
}

// dropTags removes the fields for which drop reports true.
func dropTags(r *marc.Record, drop func(tag string) bool) {
	out := r.Fields[:0]
	for _, f := range r.Fields {
		if !drop(f.Tag) {
			out = append(out, f)
		}
	}
	r.Fields = out
}

func setControl(r *marc.Record, tag, v string) {
	for i := range r.Fields {
		if r.Fields[i].Tag == tag {
			r.Fields[i].Value = v
			return
		}
	}
	r.Fields = insertField(r.Fields, marc.Field{Tag: tag, Value: v})
}

func withoutCode(sfs []marc.Subfield, code byte) []marc.Subfield {
	out := sfs[:0]
	for _, s := range sfs {
		if s.Code != code {
			out = append(out, s)
		}
	}
	if n := len(out); n > 0 {
		out[n-1].Value = strings.TrimRight(out[n-1].Value, " ,")
	}
	return out
}

func mapText(r *marc.Record, fn func(string) string) {
	for i := range r.Fields {
		for j := range r.Fields[i].Subfields {
			r.Fields[i].Subfields[j].Value = fn(r.Fields[i].Subfields[j].Value)
		}
	}
}

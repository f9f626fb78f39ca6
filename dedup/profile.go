package dedup

import (
	"encoding/binary"
	"hash/maphash"
	"sort"
	"strconv"
	"strings"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/textnorm"
)

// profile is what deduplication knows of one source record: its match
// keys, the values the veto rules and the fuzzy comparison need, its
// completeness score and its holdings. Profiles are computed once when a
// record changes and kept in the profiles bucket, so clusters can be
// recomputed without decoding MARC again.
type profile struct {
	// Matching part: a change here means the record's edges must be
	// recomputed.
	mtype     string   // coarse material type ("book", "serial", ...)
	year      int      // 0 when unknown
	pages     int      // 0 when unknown
	edition   string   // "n:2" for a numbered edition, else the folded statement
	volumes   []string // sorted part designators: "1", "p:ngu phap"
	numbers   string   // the numbers in the title, sorted, space-separated
	pnumbers  string   // the same for the title proper
	isbns     []string // valid ISBN-13s, known-bad ones left out
	ids       []string // other identifiers, "issn:0000-0000", "035:(ocolc)123", ...
	issns     []string // the "issn:" ones among ids (not encoded)
	strong    []string // "i"+ISBN and "n"+id, for cluster checks (not encoded)
	title     string   // folded 245 $a $b without article and part designators
	proper    string   // folded 245 $a likewise
	titleKeys []string // first significant words (+ parts), one or two
	author    string   // main-entry name, folded, words sorted
	names     []string // every 1XX/7XX name, folded, words sorted
	resp      string   // folded 245 $c
	publisher string   // folded first publisher without "Nxb." and the like

	// vsig identifies what veto reads: records with equal vsig have the
	// same vetoes with everything.
	vsig [16]byte

	// Candidate index part (candidates.go): the record's ordinal, given
	// when its first profile is stored, and the kinds and hashes of its
	// match keys, in the order of keys.
	ord   uint32
	kkind []byte
	khash []uint32
	// tail is the encoding after the ordinal, made by Prepare off the
	// commit's path; encode uses it once and drops it.
	tail []byte

	// Rest: display and union-building values.
	display  string    // 245 as displayed, for explanations
	score    int       // completeness, for choosing the master
	holdings []holding // never empty (holdings.go)
	links    [][]byte  // its 856s with a link ($u), ISO 2709 field data
	// canon, when hasCanon, is the first bytes of the SHA-256 of the
	// record's stored ISO 2709, which marc.CanonicalISO2709 accepted when
	// the profile was made: a union record with this master need not
	// check those bytes again (see assembly).
	canon    [masterSumLen]byte
	hasCanon bool
}

// completeness weights (see score).
const maxScoredFields = 60

// buildProfile computes the profile of rec, a record of src.
func (d *Deduper) buildProfile(rec *marc.Record, src Source) *profile {
	return d.settings().buildProfile(rec, src)
}

func (set *settings) buildProfile(rec *marc.Record, src Source) *profile {
	p := &profile{mtype: rec.MaterialType(), year: rec.Year(), pages: rec.Pages()}
	langs := rec.Languages()
	lang := ""
	if len(langs) > 0 {
		lang = langs[0]
	}

	// Title: 245 $a (after the nonfiling characters) and $b, folded.
	var buf []byte
	var a, b string
	var parts []string
	if f := rec.First("245"); f != nil {
		nonfiling := 0
		if f.Ind2 >= '1' && f.Ind2 <= '9' {
			nonfiling = int(f.Ind2 - '0')
		}
		seenA := false
		for i := range f.Subfields {
			sf := &f.Subfields[i]
			switch sf.Code {
			case 'a':
				v := sf.Value
				if !seenA {
					v = skipNonfiling(strings.TrimLeft(v, " "), nonfiling)
					seenA = true
					a = v
				} else {
					a += " " + v
				}
			case 'b':
				b += " " + sf.Value
			case 'n', 'p':
				parts = append(parts, string(sf.Code)+sf.Value)
			case 'c':
				p.resp = textnorm.Key(sf.Value)
			}
		}
		p.display = rec.Title()
	}
	buf = textnorm.AppendKey(buf[:0], a)
	fa := string(buf)
	if f := rec.First("245"); f == nil || f.Ind2 == '0' || f.Ind2 == ' ' {
		fa = dropArticle(fa, lang)
	}
	fb := textnorm.Key(b)
	vols := map[string]bool{}
	fa, nums := extractVolumes(fa, vols)
	fb, nums2 := extractVolumes(fb, vols)
	nums = append(nums, nums2...)
	for _, pt := range parts {
		v := textnorm.Key(pt[1:])
		if v == "" {
			continue
		}
		rest, n := extractVolumes(v, vols)
		if pt[0] == 'n' {
			if len(n) == 0 && rest != "" {
				// "Quyển thượng", "Tập 1" already taken; a bare number or
				// roman numeral, else the words themselves.
				vols[volumeValue(rest)] = true
			}
		} else if rest != "" {
			vols["p:"+rest] = true
		}
	}
	for v := range vols {
		p.volumes = append(p.volumes, v)
	}
	sort.Strings(p.volumes)
	p.proper = fa
	p.title = strings.TrimSpace(fa + " " + fb)
	p.numbers = titleNumbers(p.title, nums)
	p.pnumbers = titleNumbers(p.proper, nums)

	// Title keys: the first five words of $a, and of $a $b, plus parts.
	suffix := ""
	if len(p.volumes) > 0 {
		suffix = "|" + strings.Join(p.volumes, ",")
	}
	if fa != "" {
		p.titleKeys = append(p.titleKeys, firstWords(fa, 5)+suffix)
		if k := firstWords(p.title, 5) + suffix; k != p.titleKeys[0] {
			p.titleKeys = append(p.titleKeys, k)
		}
	} else if p.title != "" {
		p.titleKeys = append(p.titleKeys, firstWords(p.title, 5)+suffix)
	}

	// Names.
	mainName := ""
	for i := range rec.Fields {
		f := &rec.Fields[i]
		var codes string
		switch f.Tag {
		case "100", "111", "700", "711":
			codes = "a"
		case "110", "710":
			codes = "ab"
		default:
			continue
		}
		n := sortedTokens(textnorm.Key(strings.Join(f.Subs(codes), " ")))
		if n == "" {
			continue
		}
		p.names = appendUniq(p.names, n)
		if mainName == "" && f.Tag[0] == '1' {
			mainName = n
		}
	}
	if mainName == "" {
		for i := range rec.Fields {
			f := &rec.Fields[i]
			if f.Tag == "700" || f.Tag == "710" {
				if n := sortedTokens(textnorm.Key(strings.Join(f.Subs("ab"), " "))); n != "" {
					mainName = n
					break
				}
			}
		}
	}
	p.author = mainName

	// Edition and publisher.
	if e := rec.Edition(); e != "" {
		p.edition = normalizeEdition(textnorm.Key(e))
	}
	if pubs := rec.Publishers(); len(pubs) > 0 {
		p.publisher = normalizePublisher(textnorm.Key(pubs[0]))
	}

	// Identifiers.
	valid, _ := rec.ISBNs()
	for _, n := range valid {
		if !set.badISBN[n] {
			p.isbns = appendUniq(p.isbns, n)
		}
	}
	for _, s := range rec.ISSNs() {
		p.ids = appendUniq(p.ids, "issn:"+s)
	}
	if l := rec.LCCN(); l != "" {
		p.ids = appendUniq(p.ids, "lccn:"+l)
	}
	for _, o := range rec.OtherIdentifiers() {
		p.ids = appendUniq(p.ids, strings.ToLower(o))
	}
	for _, s := range rec.SystemNumbers() {
		if id := systemNumber(s); id != "" {
			p.ids = appendUniq(p.ids, "035:"+id)
		}
	}
	// A record's own 003+001 is the system number a copy-cataloguing
	// library records in its 035.
	if f := rec.First("003"); f != nil {
		if org := strings.TrimSpace(f.Value); org != "" {
			if cn := rec.ControlNumber(); cn != "" {
				if id := systemNumber("(" + org + ")" + cn); id != "" {
					p.ids = appendUniq(p.ids, "035:"+id)
				}
			}
		}
	}
	sort.Strings(p.isbns)
	sort.Strings(p.ids)
	p.issns = issns(p.ids)
	p.strong = strongIDs(p)
	p.vsig = p.vetoSig()
	for _, k := range p.keys() {
		p.kkind = append(p.kkind, k[0])
		p.khash = append(p.khash, keyHash32(k))
	}

	p.score = completeness(rec)
	p.holdings = recordHoldings(rec, src)
	p.links = recordLinks(rec)
	return p
}

func appendUniq(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// systemNumber normalises a "(prefix)number" 035: the prefix lower case,
// OCLC's ocm/ocn/on prefixes and leading zeros of a numeric part dropped.
// Numbers without a prefix say nothing outside their catalogue: "".
func systemNumber(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "(") {
		return ""
	}
	end := strings.IndexByte(s, ')')
	if end < 2 {
		return ""
	}
	prefix := strings.ToLower(strings.TrimSpace(s[1:end]))
	num := strings.TrimSpace(s[end+1:])
	if prefix == "ocolc" {
		for _, pre := range []string{"ocm", "ocn", "on"} {
			num = strings.TrimPrefix(num, pre)
		}
	}
	if num != "" && allDigits(num) {
		num = strings.TrimLeft(num, "0")
		if num == "" {
			num = "0"
		}
	}
	if num == "" {
		return ""
	}
	if len(num) > 200 {
		num = num[:200]
	}
	return "(" + prefix + ")" + strings.ToLower(num)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// volumeWords are the (folded) words that introduce a part number in a
// title: Vietnamese tập, quyển, cuốn, phần, số, kỳ, chương, and the
// European ones.
var volumeWords = map[string]bool{
	"tap": true, "t": true, "quyen": true, "q": true, "cuon": true, "phan": true,
	"so": true, "ky": true, "vol": true, "vols": true, "volume": true, "v": true,
	"part": true, "pt": true, "book": true, "bk": true, "tome": true, "tom": true,
	"band": true, "bd": true, "teil": true, "livre": true, "libro": true, "no": true,
}

// numberWords are Vietnamese number words and the part names thượng,
// trung, hạ (upper, middle, lower), folded.
var numberWords = map[string]string{
	"mot": "1", "nhat": "1", "hai": "2", "ba": "3", "bon": "4", "tu": "4", "nam": "5",
	"sau": "6", "bay": "7", "tam": "8", "chin": "9", "muoi": "10",
	"thuong": "thuong", "trung": "trung", "ha": "ha",
	"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
	"seven": "7", "eight": "8", "nine": "9", "ten": "10",
	"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5",
}

// volumeValue is the normal form of a part number: digits without leading
// zeros, roman numerals as digits, number words as digits, else the words.
func volumeValue(w string) string {
	if allDigits(w) {
		if t := strings.TrimLeft(w, "0"); t != "" {
			return t
		}
		return "0"
	}
	if v, ok := numberWords[w]; ok {
		return v
	}
	if r := romanValue(w); r > 0 {
		return strconv.Itoa(r)
	}
	return w
}

// isVolumeNumber reports whether a word after a volume word is its number.
func isVolumeNumber(w string) bool {
	if allDigits(w) {
		return len(w) <= 4
	}
	if _, ok := numberWords[w]; ok {
		return true
	}
	return romanValue(w) > 0 && len(w) <= 6
}

// extractVolumes takes "tap 1", "vol ii", "quyen thuong" out of folded
// title text, adding the part numbers to vols, and returns the rest of the
// text and the numbers found.
func extractVolumes(s string, vols map[string]bool) (string, []string) {
	if s == "" {
		return s, nil
	}
	words := strings.Fields(s)
	out := words[:0]
	var nums []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		if volumeWords[w] && i+1 < len(words) && isVolumeNumber(words[i+1]) {
			// "t" and "v" alone are only designators before a number; a
			// word like "so" (số, number) needs a number too.
			v := volumeValue(words[i+1])
			vols[v] = true
			nums = append(nums, v)
			i++
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " "), nums
}

// titleNumbers returns the digit runs of the title and the part numbers,
// sorted: "toan 10" and "toan 11", or "tieng viet 1" and "tieng viet 2",
// are different books however similar the strings.
func titleNumbers(title string, parts []string) string {
	var nums []string
	for _, w := range strings.Fields(title) {
		if allDigits(w) {
			nums = append(nums, volumeValue(w))
		}
	}
	nums = append(nums, parts...)
	if len(nums) == 0 {
		return ""
	}
	sort.Strings(nums)
	return strings.Join(nums, " ")
}

// ordinals maps folded ordinal words to edition numbers.
var ordinals = map[string]string{
	"nhat": "1", "hai": "2", "ba": "3", "tu": "4", "nam": "5", "sau": "6", "bay": "7",
	"tam": "8", "chin": "9", "muoi": "10",
	"first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6",
	"seventh": "7", "eighth": "8", "ninth": "9", "tenth": "10",
	"premiere": "1", "deuxieme": "2", "troisieme": "3",
}

// normalizeEdition turns a folded edition statement into "n:K" when it
// carries an edition number ("tai ban lan thu 2", "2nd ed", "second
// edition", "xuat ban lan thu hai"), else returns it as is.
func normalizeEdition(e string) string {
	for _, w := range strings.Fields(e) {
		if n := strings.TrimRight(w, "stndrhe"); n != "" && allDigits(n) && len(n) <= 3 {
			// "2", "2nd", "3rd", "4th", "2e"
			return "n:" + volumeValue(n)
		}
		if n, ok := ordinals[w]; ok {
			return "n:" + n
		}
		if r := romanValue(w); r > 0 && len(w) <= 4 && w != "i" && w != "v" && w != "d" && w != "c" && w != "l" && w != "m" {
			return "n:" + strconv.Itoa(r)
		}
	}
	return e
}

// publisherNoise are words that name what a publisher is rather than which
// one: "Nxb." / "Nhà xuất bản", "Press", "Publishing".
var publisherNoise = map[string]bool{
	"nxb": true, "nha": true, "xuat": true, "ban": true, "xb": true, "cty": true, "cong": true, "ty": true,
	"publisher": true, "publishers": true, "publishing": true, "publ": true, "pub": true,
	"press": true, "co": true, "company": true, "inc": true, "ltd": true, "the": true,
	"and": true, "house": true, "verlag": true, "editions": true, "editeur": true, "editeurs": true,
}

func normalizePublisher(p string) string {
	var out []string
	for _, w := range strings.Fields(p) {
		if !publisherNoise[w] {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// encodingLevels ranks leader/17: full level first, then OCLC's letters
// and the minimal and prepublication levels.
func encodingLevel(c byte) int {
	switch c {
	case ' ', 'I':
		return 9
	case '1':
		return 8
	case '4', 'L':
		return 7
	case '2':
		return 6
	case '7', 'K', 'M':
		return 5
	case '5':
		return 4
	case '3':
		return 3
	case '8', 'J':
		return 2
	}
	return 1 // 'u', 'z', unknown
}

// completeness scores a record as a master candidate: the encoding level
// first, then how many significant fields it has and whether it has
// subjects and classification. Source priority breaks ties later.
func completeness(rec *marc.Record) int {
	enc := 1
	if len(rec.Leader) > 17 {
		enc = encodingLevel(rec.Leader[17])
	}
	fields, subj, class := 0, 0, 0
	for i := range rec.Fields {
		t := rec.Fields[i].Tag
		if len(t) != 3 || t[0] < '0' || t[0] > '8' || isLocalTag(t) || t == "001" || t == "003" || t == "005" {
			continue
		}
		fields++
		switch {
		case t[0] == '6':
			subj = 1
		case t == "080" || t == "082" || t == "084" || t == "050" || t == "060" || t == "090":
			class = 1
		}
	}
	if fields > maxScoredFields {
		fields = maxScoredFields
	}
	return enc*1000 + fields*10 + subj*50 + class*50
}

// isLocalTag reports fields local to one library's copy: holdings (841-
// 878 but 856) and 9XX.
func isLocalTag(t string) bool {
	if t[0] == '9' {
		return true
	}
	if t[0] == '8' && t >= "841" && t <= "878" && t != "856" {
		return true
	}
	return false
}

// Key kinds, in the order candidates are considered.
const (
	kindISBN   = 'i' // ISBN-13
	kindID     = 'n' // other identifiers
	kindTA     = 't' // title key + author key
	kindAuthYr = 'y' // author key + year (capped), for re-typed titles
	kindAcro   = 'k' // initials of the title proper + year (capped)
)

// keys returns the index keys of p.
func (p *profile) keys() []string {
	out := make([]string, 0, len(p.isbns)+len(p.ids)+len(p.titleKeys)+2)
	for _, n := range p.isbns {
		out = append(out, string(rune(kindISBN))+n)
	}
	for _, id := range p.ids {
		out = append(out, string(rune(kindID))+id)
	}
	for _, tk := range p.titleKeys {
		out = append(out, string(rune(kindTA))+tk+"|"+p.author)
	}
	if p.author != "" && p.year != 0 {
		out = append(out, string(rune(kindAuthYr))+p.author+"|"+strconv.Itoa(p.year))
	}
	if a := acronym(p.proper, 8); a != "" {
		// A typing slip rarely hits a word's first letter, and a left-out
		// subtitle does not touch the title proper: its initials and the
		// year find the records whose title keys differ by such slips or
		// whose author is missing or written otherwise.
		out = append(out, string(rune(kindAcro))+a+"|"+strconv.Itoa(p.year))
	}
	return out
}

// kweak reports whether the i-th key is one of the capped fallbacks.
func (p *profile) kweak(i int) bool {
	return p.kkind[i] == kindAuthYr || p.kkind[i] == kindAcro
}

// acronym returns the first bytes of up to n words of folded s.
func acronym(s string, n int) string {
	var b []byte
	start := true
	for i := 0; i < len(s) && len(b) < n; i++ {
		if s[i] == ' ' {
			start = true
			continue
		}
		if start {
			b = append(b, s[i])
			start = false
		}
	}
	return string(b)
}

// vetoSig hashes the fields veto reads (128 bits from two seeds, so that
// two signatures meeting by chance is out of the question; the seeds are
// the process's, as signatures are never stored).
func (p *profile) vetoSig() [16]byte {
	var buf [512]byte // most signatures fit: no allocation
	b := appendStr(buf[:0], p.mtype)
	b = appendVarint(b, int64(p.year))
	b = appendVarint(b, int64(p.pages))
	b = appendStr(b, p.edition)
	b = appendStrs(b, p.volumes)
	b = appendStr(b, p.numbers)
	b = appendStr(b, p.pnumbers)
	b = appendStr(b, p.title)
	b = appendStr(b, p.proper)
	b = appendStrs(b, p.issns)
	var out [16]byte
	binary.LittleEndian.PutUint64(out[:8], maphash.Bytes(vetoSeeds[0], b))
	binary.LittleEndian.PutUint64(out[8:], maphash.Bytes(vetoSeeds[1], b))
	return out
}

var vetoSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

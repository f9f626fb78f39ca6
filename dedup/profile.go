package dedup

import (
	"encoding/binary"
	"hash/maphash"
	"sort"
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

// buildProfile computes the profile of rec, a record of src: what
// matching compares (the title, the names, the edition and publisher,
// the identifiers, and what follows from them), then what the union
// record needs (completeness, holdings, links).
func (set *settings) buildProfile(rec *marc.Record, src Source) *profile {
	p := &profile{mtype: rec.MaterialType(), year: rec.Year(), pages: recordPages(rec)}
	p.setTitle(rec)
	p.setNames(rec)
	if e := rec.Edition(); e != "" {
		p.edition = normalizeEdition(textnorm.Key(e))
	}
	if pubs := rec.Publishers(); len(pubs) > 0 {
		p.publisher = normalizePublisher(textnorm.Key(pubs[0]))
	}
	set.setIdentifiers(p, rec)
	p.derive()
	p.score = completeness(rec)
	p.holdings = recordHoldings(rec, src)
	p.links = recordLinks(rec)
	return p
}

// setTitle sets what p compares of 245, folded: the title proper ($a
// after the nonfiling characters, for a language with articles without a
// leading one), the whole title ($a $b), without the part designators
// found in them, which go with $n and $p into the volumes; the numbers of
// both; the title keys; the statement of responsibility ($c).
func (p *profile) setTitle(rec *marc.Record) {
	f := rec.First("245")
	if f == nil {
		return
	}
	p.display = rec.Title()
	// The nonfiling characters count from the first $a as typed, and
	// every $a is the title proper (titles of works without a collective
	// one): TitleParts gives the first $a alone, cleaned.
	_, remainder, numbers, parts := rec.TitleParts()
	var a string
	for i, v := range f.Subs("a") {
		if i == 0 {
			a = skipNonfiling(strings.TrimLeft(v, " "), nonfiling(f.Ind2))
		} else {
			a += " " + v
		}
	}
	if cs := f.Subs("c"); len(cs) > 0 {
		p.resp = textnorm.Key(cs[len(cs)-1])
	}
	fa := textnorm.Key(a)
	if f.Ind2 == '0' || f.Ind2 == ' ' {
		fa = dropArticle(fa, firstLanguage(rec))
	}
	vols := map[string]bool{}
	fa, nums := extractVolumes(fa, vols)
	fb, nums2 := extractVolumes(textnorm.Key(remainder), vols)
	nums = append(nums, nums2...)
	partVolumes(vols, numbers, parts)
	for v := range vols {
		p.volumes = append(p.volumes, v)
	}
	sort.Strings(p.volumes)
	p.proper = fa
	p.title = strings.TrimSpace(fa + " " + fb)
	p.numbers = titleNumbers(p.title, nums)
	p.pnumbers = titleNumbers(p.proper, nums)
	p.titleKeys = titleKeys(p.proper, p.title, p.volumes)
}

// nonfiling returns the nonfiling characters 245's second indicator
// gives.
func nonfiling(ind2 byte) int {
	if ind2 >= '1' && ind2 <= '9' {
		return int(ind2 - '0')
	}
	return 0
}

func firstLanguage(rec *marc.Record) string {
	if langs := rec.Languages(); len(langs) > 0 {
		return langs[0]
	}
	return ""
}

// partVolumes adds to vols the part designators of 245 $n (numbers) and
// $p (names).
func partVolumes(vols map[string]bool, numbers, names []string) {
	for _, n := range numbers {
		if v := textnorm.Key(n); v != "" {
			// "Quyển thượng", "Tập 1" taken by extractVolumes; else a bare
			// number or roman numeral, else the words themselves.
			if rest, found := extractVolumes(v, vols); len(found) == 0 && rest != "" {
				vols[volumeValue(rest)] = true
			}
		}
	}
	for _, n := range names {
		if v := textnorm.Key(n); v != "" {
			if rest, _ := extractVolumes(v, vols); rest != "" {
				vols["p:"+rest] = true
			}
		}
	}
}

// titleKeys returns the title keys of a folded title proper and whole
// title: the first five words of each (once when they agree), the volumes
// appended.
func titleKeys(proper, title string, volumes []string) []string {
	suffix := ""
	if len(volumes) > 0 {
		suffix = "|" + strings.Join(volumes, ",")
	}
	var keys []string
	if proper != "" {
		keys = append(keys, firstWords(proper, 5)+suffix)
		if k := firstWords(title, 5) + suffix; k != keys[0] {
			keys = append(keys, k)
		}
	} else if title != "" {
		keys = append(keys, firstWords(title, 5)+suffix)
	}
	return keys
}

// setNames sets every 1XX and 7XX name of rec (folded, its words sorted,
// each once), and the main entry's as p.author: the first 1XX's, else
// the first 700's or 710's.
func (p *profile) setNames(rec *marc.Record) {
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
		if p.author == "" && f.Tag[0] == '1' {
			p.author = n
		}
	}
	if p.author != "" {
		return
	}
	for i := range rec.Fields {
		f := &rec.Fields[i]
		if f.Tag == "700" || f.Tag == "710" {
			if n := sortedTokens(textnorm.Key(strings.Join(f.Subs("ab"), " "))); n != "" {
				p.author = n
				return
			}
		}
	}
}

// setIdentifiers sets p's ISBN-13s (known-bad ones left out) and other
// identifiers, each sorted.
func (set *settings) setIdentifiers(p *profile, rec *marc.Record) {
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
}

// derive sets what follows from p's matching values: the ISSNs among the
// identifiers, the identifiers clusters compare, the veto signature and
// the match keys' kinds and hashes.
func (p *profile) derive() {
	p.issns = issns(p.ids)
	p.strong = strongIDs(p)
	p.vsig = p.vetoSig()
	for _, k := range p.keys() {
		p.kkind = append(p.kkind, k[0])
		p.khash = append(p.khash, keyHash32(k))
	}
}

func appendUniq(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
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

package search

import (
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/textnorm"
)

// Doc is one union record to index.
type Doc struct {
	ID      string
	Record  *marc.Record // nil when Deleted
	Deleted bool         // deleted or merged away: removed from the index
	// Libraries and Levels are the holding library codes and their
	// levels. Libraries, when nil, are read from the record's 852 $a; a
	// library's level is unicat's own data, never in the record.
	Libraries []string
	Levels    []string
	// Previous returns the document as it was indexed, when ID is indexed
	// already: the index keeps no copy of what it indexed, only a
	// checksum, and takes the old keys back by extracting them from the
	// previous version again. UnionChanged passes the union record's
	// previous version; Update marks the index stale if it disagrees.
	Previous func() (*Doc, error)
}

// Key kinds, the second byte of a term key.
const (
	kindWord        = 'w' // folded word
	kindWordExact   = 'x' // folded word 0x01 exact word
	kindPair        = 'b' // folded word, space, next folded word
	kindPhrase      = 'p' // folded whole value (words joined by one space)
	kindPhraseExact = 'q' // folded phrase 0x01 exact phrase
	kindNumber      = 'n' // number, four digits
	kindAll         = 'a' // the one key listing every live document
)

// variantSep separates the folded form from the exact form in 'x' and 'q'
// keys, so that all exact variants of one folded term are adjacent.
const variantSep = "\x01"

// Limits that keep keys well under bbolt's maximum key size.
const (
	maxWordBytes   = 120
	maxPhraseBytes = 240
)

// value is one field value extracted for an index.
type value struct {
	ix    byte
	flags uint8
	text  string
}

// termKey is a term in one index, without the chunk.
type termKey struct {
	ix   byte
	kind byte
	term string
}

func (a termKey) compare(b termKey) int {
	if a.ix != b.ix {
		return int(a.ix) - int(b.ix)
	}
	if a.kind != b.kind {
		return int(a.kind) - int(b.kind)
	}
	return strings.Compare(a.term, b.term)
}

// extract runs every index's extractor over d.
func extract(d *Doc) []value {
	var out []value
	for i := range indexTable {
		def := &indexTable[i]
		def.extract(d, func(text string, flags uint8) {
			if def.clean != nil {
				text = def.clean(text)
			}
			text = strings.TrimSpace(text)
			if text == "" {
				return
			}
			out = append(out, value{ix: def.id, flags: flags, text: text})
		})
	}
	return out
}

// variant is one exact form of a folded word or phrase in a document.
type variant struct {
	key   termKey // the plain (folded) key
	exact string
}

// forms are the folded and exact forms of one word.
type forms struct{ fold, exact string }

// sortedKeys returns the sorted, distinct term keys of a document's
// values, in a slice of its own.
//
// A folded word or phrase f gets a plain key; exact keys f 0x01 e are
// added only when the document has a form e that differs from f (it has
// accents or đ), and then for every form it has, f itself included. So the
// documents whose exact form is f are those of the plain key minus those
// with another variant, plus those with the variant f 0x01 f.
//
// An update keeps one keyer a core for its batch: made anew for each
// document, the keyer's maps were 18 % of the CPU of a 1,000-record batch
// into a 1M catalog.
func (kr *keyer) sortedKeys(vals []value) []termKey {
	keys := slices.Clone(kr.keys(vals))
	slices.SortFunc(keys, termKey.compare)
	return slices.Compact(keys)
}

// keyer computes documents' term keys, keeping its buffers and maps from
// one document to the next: a rebuild computes the keys of every
// document on a keyer per core. (BenchmarkRebuildKeys, a document's keys
// made and split: 58-69 µs with a keyer made anew for each document and
// its variants sorted; 34-37 with one kept and the variants grouped; 27
// with the keys split into a splitter's arrays; 20 with words' forms kept
// across documents.)
type keyer struct {
	forms         map[string]forms // words' forms, kept across documents (maxKeptForms)
	words         []string
	folded, exact []string
	vars          []variant
	groups        map[termKey]int32 // appendVariants' groups by plain key
	group         []variantGroup
	extra         []groupForm
	out           []termKey
}

// maxKeptMap is the most entries a keyer's map may have held and still
// be cleared for the next document rather than made again.
const maxKeptMap = 1024

// maxKeptForms is the most words whose forms a keyer keeps; past it they
// are dropped and it starts again. Documents share most of their words
// (a few thousand Vietnamese syllables make most titles), and folding
// each word of each document anew was 4 of a rebuild's 18 CPU-seconds of
// keys at 1M records.
const maxKeptForms = 1 << 15

// keys returns the term keys of a document's values in no order and with
// repeats, valid until the next call: a rebuild groups its postings by a
// counting sort and drops a document's repeats there (termShard.add),
// which costs less than sorting every document's keys (21 of the 60
// CPU-seconds of sorting them, as sortedKeys does, at 1M records).
func (kr *keyer) keys(vals []value) []termKey {
	// Clearing a map costs what it grew to: one long document's maps are
	// not kept for the next.
	if len(kr.groups) > maxKeptMap || kr.groups == nil {
		kr.groups = make(map[termKey]int32, 64)
	}
	if len(kr.forms) > maxKeptForms || kr.forms == nil {
		kr.forms = make(map[string]forms, 1024)
	}
	clear(kr.groups)
	kr.vars = kr.vars[:0]
	kr.out = append(kr.out[:0], termKey{idAll, kindAll, ""})
	for _, v := range vals {
		def := indexByID(v.ix)
		if def == nil {
			continue
		}
		switch def.Kind {
		case KindText, KindAnywhere:
			kr.addText(def, v)
		case KindCode, KindIdent:
			if k := def.norm(v.text); k != "" && len(k) <= maxPhraseBytes {
				kr.out = append(kr.out, termKey{v.ix, kindPhrase, k})
			}
		case KindNumber:
			if n, ok := parseNumber(v.text); ok {
				kr.out = append(kr.out, termKey{v.ix, kindNumber, formatNumber(n)})
			}
		}
	}
	return kr.appendVariants()
}

// addText adds the keys and variants of a text value.
func (kr *keyer) addText(def *IndexDef, v value) {
	kr.words = textnorm.AppendWords(kr.words[:0], v.text)
	kr.folded, kr.exact = kr.folded[:0], kr.exact[:0]
	for _, w := range kr.words {
		if len(w) > maxWordBytes {
			continue
		}
		fm, ok := kr.forms[w]
		if !ok {
			// A copy: the map must not hold the document's text.
			w = strings.Clone(w)
			fm = forms{textnorm.Fold(w), textnorm.Exact(w)}
			kr.forms[w] = fm
		}
		kr.folded = append(kr.folded, fm.fold)
		kr.exact = append(kr.exact, fm.exact)
		if v.flags&fWords != 0 {
			kr.vars = append(kr.vars, variant{termKey{v.ix, kindWord, fm.fold}, fm.exact})
		}
	}
	if v.flags&fWords != 0 && len(kr.folded) > 1 {
		// The pairs are slices of one string.
		n := 0
		for i := 0; i+1 < len(kr.folded); i++ {
			n += len(kr.folded[i]) + 1 + len(kr.folded[i+1])
		}
		var b strings.Builder
		b.Grow(n)
		for i := 0; i+1 < len(kr.folded); i++ {
			b.WriteString(kr.folded[i])
			b.WriteByte(' ')
			b.WriteString(kr.folded[i+1])
		}
		all, at := b.String(), 0
		for i := 0; i+1 < len(kr.folded); i++ {
			end := at + len(kr.folded[i]) + 1 + len(kr.folded[i+1])
			kr.out = append(kr.out, termKey{v.ix, kindPair, all[at:end]})
			at = end
		}
	}
	if v.flags&fPhrase != 0 && def.Kind == KindText && len(kr.folded) > 0 {
		kr.vars = append(kr.vars, variant{termKey{v.ix, kindPhrase, joinPhrase(kr.folded)}, joinPhrase(kr.exact)})
	}
}

// variantGroup is a plain key and the first exact form found for it.
type variantGroup struct {
	key   termKey
	exact string
	more  bool // other exact forms are in extra
}

// groupForm is an exact form of group gi other than its first.
type groupForm struct {
	gi    int32
	exact string
}

// appendVariants adds the plain key of every variant and, for a plain key
// with any form other than itself, an exact key per distinct form. The
// variants are grouped by plain key in a map (sorting them was a quarter
// of the keys' cost): nearly every group has one form, and the few
// further forms are sorted and made distinct apart.
func (kr *keyer) appendVariants() []termKey {
	kr.group, kr.extra = kr.group[:0], kr.extra[:0]
	for _, v := range kr.vars {
		gi, ok := kr.groups[v.key]
		if !ok {
			kr.groups[v.key] = int32(len(kr.group))
			kr.group = append(kr.group, variantGroup{key: v.key, exact: v.exact})
			continue
		}
		if g := &kr.group[gi]; v.exact != g.exact {
			g.more = true
			kr.extra = append(kr.extra, groupForm{gi, v.exact})
		}
	}
	slices.SortFunc(kr.extra, func(a, b groupForm) int {
		if a.gi != b.gi {
			return int(a.gi - b.gi)
		}
		return strings.Compare(a.exact, b.exact)
	})
	kr.extra = slices.Compact(kr.extra)
	keys, next := kr.out, 0
	for gi, g := range kr.group {
		keys = append(keys, g.key)
		if !g.more && g.exact == g.key.term {
			continue
		}
		keys = append(keys, exactKey(g.key, g.exact))
		for ; next < len(kr.extra) && kr.extra[next].gi == int32(gi); next++ {
			keys = append(keys, exactKey(g.key, kr.extra[next].exact))
		}
	}
	kr.out = keys
	return keys
}

// exactKey is the exact key of the form exact of plain key k.
func exactKey(k termKey, exact string) termKey {
	kind := byte(kindWordExact)
	if k.kind == kindPhrase {
		kind = kindPhraseExact
	}
	return termKey{k.ix, kind, k.term + variantSep + exact}
}

// joinPhrase joins words with one space, cut at a word boundary so that
// the key stays short.
func joinPhrase(ws []string) string {
	n := 0
	for _, w := range ws {
		n += 1 + len(w)
	}
	var b strings.Builder
	b.Grow(min(n, maxPhraseBytes)) // once, not doubling from eight bytes
	for i, w := range ws {
		if b.Len()+1+len(w) > maxPhraseBytes {
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	return b.String()
}

// Numbers are stored as four digits so that key order is numeric order.
const maxNumber = 9999

func parseNumber(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > maxNumber {
		return 0, false
	}
	return n, true
}

func formatNumber(n int) string {
	s := strconv.Itoa(n)
	return "0000"[len(s):] + s
}

// sortKeys are the precomputed sort keys of a document.
type sortKeys struct {
	title, creator []byte // collation keys, Vietnamese
	year           int    // 0 when unknown
}

// maxSortRunes bounds the text a collation key is computed from.
const maxSortRunes = 64

// sortKeyer computes sort keys; it holds a collator, which is not safe for
// concurrent use, so each writer has its own.
type sortKeyer struct {
	coll *collate.Collator
	buf  collate.Buffer
}

func newSortKeyer() *sortKeyer {
	return &sortKeyer{coll: collate.New(language.Vietnamese, collate.IgnoreCase)}
}

func (s *sortKeyer) keys(r *marc.Record) sortKeys {
	var k sortKeys
	k.title = s.key(sortTitle(r))
	if cs := r.Creators(); len(cs) > 0 {
		k.creator = s.key(cs[0].Name)
	}
	k.year = r.Year()
	return k
}

func (s *sortKeyer) key(text string) []byte {
	if text == "" {
		return nil
	}
	// The same word in old and new tone placement must sort together.
	text = textnorm.NormalizeTones(text)
	if rs := []rune(text); len(rs) > maxSortRunes {
		text = string(rs[:maxSortRunes])
	}
	s.buf.Reset()
	return slices.Clone(s.coll.KeyFromString(&s.buf, text))
}

// sortTitle is the title without its non-filing characters (245 second
// indicator: "The ", "Les ").
func sortTitle(r *marc.Record) string {
	t := r.Title()
	if f := r.First("245"); f != nil && f.Ind2 >= '1' && f.Ind2 <= '9' {
		n := int(f.Ind2 - '0')
		if rs := []rune(t); n < len(rs) {
			t = string(rs[n:])
		}
	}
	return strings.TrimLeftFunc(t, func(r rune) bool { return !textnorm.IsWordRune(r) })
}

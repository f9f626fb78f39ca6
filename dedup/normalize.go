package dedup

import (
	"sort"
	"strconv"
	"strings"
)

// articles are the leading articles dropped from titles when 245's second
// indicator does not already skip them, by MARC language code. Vietnamese
// has none (and "La", "Le" are Vietnamese names), so it is absent.
var articles = map[string][]string{
	"eng": {"the", "a", "an"},
	"fre": {"le", "la", "les", "l", "un", "une", "des"},
	"ger": {"der", "die", "das", "ein", "eine", "den", "dem", "des"},
	"spa": {"el", "la", "los", "las", "un", "una"},
	"ita": {"il", "lo", "la", "i", "gli", "le", "l", "un", "una", "uno"},
	"por": {"o", "a", "os", "as", "um", "uma"},
	"dut": {"de", "het", "een"},
}

// dropArticle removes a leading article (in folded form) of lang from the
// folded title t. Unknown languages use the English list, since most
// non-Vietnamese records in a Vietnamese public library are English.
func dropArticle(t, lang string) string {
	if lang == "vie" {
		return t
	}
	list, ok := articles[lang]
	if !ok {
		list = articles["eng"]
	}
	sp := strings.IndexByte(t, ' ')
	if sp <= 0 {
		return t // a one-word title is never just an article
	}
	first := t[:sp]
	for _, a := range list {
		if first == a {
			return t[sp+1:]
		}
	}
	return t
}

// skipNonfiling drops the first n characters of s (245 second indicator).
func skipNonfiling(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[i:]
		}
		n--
	}
	return ""
}

// firstWords returns the first n space-separated words of folded s.
func firstWords(s string, n int) string {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			n--
			if n == 0 {
				return s[:i]
			}
		}
	}
	return s
}

// sortedTokens returns the words of folded s sorted and joined by spaces,
// so that "nguyen du" (from "Nguyễn, Du" or "Nguyễn Du") and an inverted
// western name ("stowe harriet beecher" / "harriet beecher stowe") give
// one key. Single-letter initials are kept.
func sortedTokens(s string) string {
	if s == "" {
		return ""
	}
	toks := strings.Fields(s)
	if len(toks) == 1 {
		return toks[0]
	}
	// Insertion sort: names have a handful of words.
	for i := 1; i < len(toks); i++ {
		for j := i; j > 0 && toks[j] < toks[j-1]; j-- {
			toks[j], toks[j-1] = toks[j-1], toks[j]
		}
	}
	return strings.Join(toks, " ")
}

// romanValue parses a lower-case roman numeral up to 3999; 0 if s is not one.
func romanValue(s string) int {
	if s == "" || len(s) > 15 {
		return 0
	}
	vals := map[byte]int{'i': 1, 'v': 5, 'x': 10, 'l': 50, 'c': 100, 'd': 500, 'm': 1000}
	total, prev := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		v, ok := vals[s[i]]
		if !ok {
			return 0
		}
		if v < prev {
			total -= v
		} else {
			total += v
			prev = v
		}
	}
	if total <= 0 || total > 3999 {
		return 0
	}
	return total
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

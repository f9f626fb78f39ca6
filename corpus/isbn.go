package corpus

import "strconv"

// ISBN13Check returns the check digit of the first 12 digits of an ISBN-13.
func ISBN13Check(d12 string) byte {
	sum := 0
	for i := 0; i < 12; i++ {
		v := int(d12[i] - '0')
		if i%2 == 1 {
			v *= 3
		}
		sum += v
	}
	return byte('0' + (10-sum%10)%10)
}

// ISBN13To10 returns the ISBN-10 of a 978 ISBN-13 (digits only), or "".
func ISBN13To10(isbn13 string) string {
	if len(isbn13) != 13 || isbn13[:3] != "978" {
		return ""
	}
	d := isbn13[3:12]
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(d[i]-'0') * (10 - i)
	}
	c := (11 - sum%11) % 11
	if c == 10 {
		return d + "X"
	}
	return d + strconv.Itoa(c)
}

// isbnPool hands out unique ISBN-13s for a registrant: prefix digits are
// fixed, the item number counts up. It runs dry when the registrant's
// block is used up; a book then has no ISBN, as many small local
// publications do not.
type isbnPool struct {
	group, registrant string // e.g. "978604", "2" → hyphenated 978-604-2-…
	width             int    // digits of the item number
	next              int
}

func newISBNPool(group, registrant string) *isbnPool {
	digits := 0
	for i := 0; i < len(registrant); i++ {
		if registrant[i] != '-' {
			digits++
		}
	}
	return &isbnPool{group: group, registrant: registrant, width: 12 - len(group) - digits}
}

// take returns the next ISBN hyphenated ("978-604-2-01234-5") and as
// digits, or "", "" when the block is used up.
func (p *isbnPool) take() (hyph, digits string) {
	limit := 1
	for i := 0; i < p.width; i++ {
		limit *= 10
	}
	if p.width <= 0 || p.next >= limit {
		return "", ""
	}
	item := strconv.Itoa(p.next)
	for len(item) < p.width {
		item = "0" + item
	}
	p.next++
	reg := ""
	for i := 0; i < len(p.registrant); i++ {
		if p.registrant[i] != '-' {
			reg += p.registrant[i : i+1]
		}
	}
	d12 := p.group + reg + item
	c := ISBN13Check(d12)
	digits = d12 + string(c)
	return p.group[:3] + "-" + p.group[3:] + "-" + p.registrant + "-" + item + "-" + string(c), digits
}

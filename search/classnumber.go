package search

// Classification and call number indexes. A class number is searched as
// words (895.922 is the words 895 and 922, PL4378.9 is pl4378 and 9), so
// an unmasked term finds the number itself, also as the start of a call
// number with its item part, and a right-truncated or first-in-field one
// (Koha's LC call number box) finds the numbers beginning with it.

// deweyValues emits a record's Dewey Decimal class numbers: every 082
// and 092 (locally assigned) $a, and the classification part ($h) of an
// 852 whose first indicator says the call number is a Dewey one (1).
func deweyValues(d *Doc, add func(string, uint8)) {
	r := d.Record
	for i := range r.Fields {
		f := &r.Fields[i]
		switch {
		case f.Tag == "082" || f.Tag == "092":
			for _, v := range f.Subs("a") {
				add(v, fWords|fPhrase)
			}
		case f.Tag == "852" && f.Ind1 == '1':
			add(f.Sub('h'), fWords|fPhrase)
		}
	}
}

// callNumberTags are the bibliographic fields whose class number ($a)
// and item number ($b) make a call number, in any scheme: LC (050, 055
// Canadian, 090 local), Dewey (082, 092 local), UDC (080) and the schemes
// named in 084 $2 (BBK in older Vietnamese catalogues).
var callNumberTags = map[string]bool{"050": true, "055": true, "080": true, "082": true, "084": true, "090": true, "092": true}

// callNumberValues emits every class and call number of a record: per
// field of callNumberTags its first $a with the $b item number, and each
// further $a (an alternative number) alone; and each 852's call number,
// $h (classification part) with $i (item part), as the holding library
// shelves the book.
func callNumberValues(d *Doc, add func(string, uint8)) {
	r := d.Record
	for i := range r.Fields {
		f := &r.Fields[i]
		switch {
		case callNumberTags[f.Tag]:
			first := true
			for _, sf := range f.Subfields {
				if sf.Code != 'a' {
					continue
				}
				v := sf.Value
				if first {
					v += " " + f.Sub('b')
					first = false
				}
				add(v, fWords|fPhrase)
			}
		case f.Tag == "852":
			add(f.Sub('h')+" "+f.Sub('i'), fWords|fPhrase)
		}
	}
}

// cleanClassNumber makes the forms of one Dewey number one: the
// segmentation and prime marks of DDC (/ and ', as in 823/.914) are
// removed, and so are the spaces Vietnamese cataloguers write after every
// three digits of the decimal part ("895.922 34" is 895.92234). It
// applies to a value that starts with three digits, the Dewey main class,
// and ends at the first character that cannot continue the number (the
// item part, "895.922 34 B-N" keeps " B-N"); other values are returned as
// they are. A three-digit group followed by a space and digits that are
// not part of the number (a year) is read as part of it: the notation
// cannot tell them apart.
func cleanClassNumber(s string) string {
	if len(s) < 3 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) {
		return s
	}
	out := make([]byte, 0, len(s))
	out = append(out, s[:3]...)
	point, group := false, 0
	i := 3
scan:
	for i < len(s) {
		c := s[i]
		switch {
		case c == '/' || c == '\'':
			i++
		case c == '.' && !point:
			out = append(out, c)
			point, group = true, 0
			i++
		case isDigit(c):
			out = append(out, c)
			group++
			i++
		case c == ' ' && point && group == 3:
			j := i
			for j < len(s) && s[j] == ' ' {
				j++
			}
			if j == len(s) || !isDigit(s[j]) {
				break scan
			}
			i, group = j, 0
		default:
			break scan
		}
	}
	if i == len(s) && len(out) == len(s) {
		return s
	}
	return string(append(out, s[i:]...))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

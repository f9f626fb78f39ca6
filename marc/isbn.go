package marc

// Standard-number helpers for ISBN and ISSN. They take the text catalogues
// actually hold ("978-604-2-12345-6 (bìa mềm)", "ISBN 0-19-852663-6 pbk.",
// "0317-8471") and return the canonical form used for matching.

// NormalizeISBN extracts the ISBN at the start of s and returns it as 13
// digits. Any leading label ("ISBN", "ISBN:") and trailing qualifier
// ("(pbk.)", "(bìa mềm)", ": 25000đ") are ignored; hyphens and single spaces
// between the digits are dropped. An ISBN-10 is converted to its 978 ISBN-13.
//
// ok is true only when the check digit is right and, for 13 digits, the
// prefix is 978 or 979. When s holds 10 or 13 ISBN-shaped digits that fail
// the check, NormalizeISBN returns those digits unchanged (an ISBN-10 is not
// converted, since conversion would compute a new check digit and hide the
// error) with ok false, so callers can still show the cleaned number. When s
// holds no ISBN-shaped number at all it returns "", false.
func NormalizeISBN(s string) (isbn13 string, ok bool) {
	var buf [13]byte
	n, whole := scanISBN(s, &buf)
	if !whole {
		return "", false
	}
	return isbnOf(buf[:n])
}

// scanISBN copies the digits of the number at the start of s, after any
// label, into buf (an ISBN-10's final X as 'X') and returns how many.
// whole is false when the number runs on: past 13 digits, or into digits
// or letters glued to its end ("0198526636abc"), so it was not seen whole.
func scanISBN(s string, buf *[13]byte) (n int, whole bool) {
	i := 0
	// Skip any label before the first digit.
	for i < len(s) && !isDigit(s[i]) {
		i++
	}
scan:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			if n == 13 {
				return n, false // a longer digit run is not an ISBN
			}
			buf[n] = c
			n++
		case (c == 'X' || c == 'x') && n == 9:
			// Only the ISBN-10 check digit may be X, and it ends the number.
			buf[n] = 'X'
			n++
			i++
			break scan
		case c == '-' && isbnGoesOn(s, i+1, n):
			// A hyphen inside the number.
		case c == ' ' && n != 10 && isbnGoesOn(s, i+1, n):
			// "978 604 2 12345 6"; but ten digits then a space end an
			// ISBN-10, so "0-19-852663-6 9780198526636" yields the first.
		default:
			break scan
		}
	}
	return n, i == len(s) || !isDigit(s[i]) && !isASCIIAlpha(s[i])
}

// isbnGoesOn reports whether the number goes on at s[i], after a
// separator, with n digits so far: with a digit, or with the X that may
// follow an ISBN-10's nine digits.
func isbnGoesOn(s string, i, n int) bool {
	return i < len(s) && (isDigit(s[i]) || (n == 9 && s[i]|0x20 == 'x'))
}

// isbnOf returns the ISBN-13 of the digits scanISBN found, as
// NormalizeISBN says: an ISBN-10 converted when its check digit is right,
// else as it is with ok false; 13 digits as they are, ok when they are an
// ISBN-13; "" for any other count.
func isbnOf(d []byte) (string, bool) {
	switch len(d) {
	case 10:
		s := string(d)
		if !validISBN10(s) {
			return s, false
		}
		return ISBN10To13(s), true
	case 13:
		if d[9] == 'X' {
			return "", false
		}
		s := string(d)
		return s, ValidISBN13(s)
	}
	return "", false
}

// ISBN10To13 converts a 10-character ISBN (digits, last may be X; no
// hyphens) to its 978 ISBN-13 with a freshly computed check digit. It does
// not check the ISBN-10's own check digit. It returns "" when isbn10 is not
// ten such characters.
func ISBN10To13(isbn10 string) string {
	if len(isbn10) != 10 {
		return ""
	}
	var b [13]byte
	b[0], b[1], b[2] = '9', '7', '8'
	for i := 0; i < 9; i++ {
		if !isDigit(isbn10[i]) {
			return ""
		}
		b[3+i] = isbn10[i]
	}
	if c := isbn10[9]; !isDigit(c) && c != 'X' && c != 'x' {
		return ""
	}
	b[12] = isbn13Check(b[:12])
	return string(b[:])
}

// ValidISBN13 reports whether s is 13 digits starting 978 or 979 with a
// correct check digit. EAN-13 numbers with other prefixes are not ISBNs.
func ValidISBN13(s string) bool {
	if len(s) != 13 || s[0] != '9' || s[1] != '7' || (s[2] != '8' && s[2] != '9') {
		return false
	}
	for i := 0; i < 13; i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return isbn13Check([]byte(s[:12])) == s[12]
}

// isbn13Check computes the EAN-13 check digit of 12 digits.
func isbn13Check(d []byte) byte {
	sum := 0
	for i := 0; i < 12; i++ {
		v := int(d[i] - '0')
		if i%2 == 1 {
			v *= 3
		}
		sum += v
	}
	return byte('0' + (10-sum%10)%10)
}

// validISBN10 checks the mod-11 check digit of ten characters (digits, last
// may be X).
func validISBN10(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		c := s[i]
		var v int
		switch {
		case isDigit(c):
			v = int(c - '0')
		case i == 9 && (c == 'X' || c == 'x'):
			v = 10
		default:
			return false
		}
		sum += v * (10 - i)
	}
	return sum%11 == 0
}

// NormalizeISSN extracts the ISSN at the start of s (after any label such
// as "ISSN") and returns it as NNNN-NNNC with an upper-case X check
// character. ok is false when the check digit is wrong; the cleaned form is
// still returned then. It returns "", false when s holds no ISSN-shaped
// number.
func NormalizeISSN(s string) (string, bool) {
	var buf [8]byte
	n := 0
	i := 0
	for i < len(s) && !isDigit(s[i]) {
		i++
	}
scan:
	for ; i < len(s) && n < 8; i++ {
		c := s[i]
		switch {
		case isDigit(c):
			buf[n] = c
		case n == 7 && (c == 'X' || c == 'x'):
			buf[n] = 'X'
		case n == 4 && (c == '-' || c == ' '):
			continue
		default:
			break scan
		}
		n++
	}
	if n != 8 || (i < len(s) && (isDigit(s[i]) || isASCIIAlpha(s[i]))) {
		return "", false
	}
	sum := 0
	for k := 0; k < 7; k++ {
		sum += int(buf[k]-'0') * (8 - k)
	}
	check := byte('0' + (11-sum%11)%11)
	if check == '0'+10 {
		check = 'X'
	}
	out := string(buf[:4]) + "-" + string(buf[4:8])
	return out, buf[7] == check
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isASCIIAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

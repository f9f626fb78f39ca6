package marc

// The readers convert whole records; these convert one string, the unit
// the charset tests and fuzz targets work in.

// convertText turns the bytes of one field (or subfield) in charset cs into
// NFC UTF-8. Problems that were repaired are returned as warnings; text is
// never silently altered.
func convertText(cs Charset, b []byte) (string, []string) {
	var d textDecoder
	return d.convert(reading{cs: cs}, b)
}

// decodeMARC8 converts MARC-8 bytes to UTF-8 (not yet normalised). Every
// byte that cannot be decoded becomes U+FFFD and is reported with its
// offset; so are malformed escape sequences and diacritics left without a
// base character at the end. C0 control characters other than ESC pass
// through unchanged.
func decodeMARC8(b []byte) (string, []string) {
	var d marc8Decoder
	var warn []string
	rs, _ := d.decode(make([]rune, 0, len(b)), b, &warn)
	return string(rs), warn
}

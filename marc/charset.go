package marc

import "encoding/binary"

// recordCharset decides the character set of one record: the reader's
// override if set, otherwise leader/09 ('a' = UTF-8, anything else MARC-8).
func recordCharset(opt Charset, leader string) Charset {
	if opt != CharsetAuto && opt != CharsetLabel {
		return opt
	}
	if len(leader) > 9 && leader[9] == 'a' {
		return CharsetUTF8
	}
	return CharsetMARC8
}

// isPlainASCII reports whether b needs no conversion in any supported
// charset (all supported charsets agree with ASCII below 0x80, but MARC-8
// leaves ASCII through an escape, 0x1B, and TCVN3 puts VN1's capitals on
// twelve C0 controls).
func isPlainASCII(b []byte) bool {
	// Eight bytes at a time: none at 0x80 or above, and none below 0x20
	// (where ESC and the VN1 capitals are), or else those eight looked at
	// one by one.
	for len(b) >= 8 {
		v := binary.LittleEndian.Uint64(b)
		if v&0x8080808080808080 != 0 {
			return false
		}
		if (v-0x2020202020202020)&^v&0x8080808080808080 != 0 && !plainBytes(b[:8]) {
			return false
		}
		b = b[8:]
	}
	return plainBytes(b)
}

func plainBytes(b []byte) bool {
	for _, c := range b {
		if notPlain[c] {
			return false
		}
	}
	return true
}

var notPlain = func() (t [256]bool) {
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	t[0x1B] = true
	for c := range tcvn3Low {
		t[c] = true
	}
	return t
}()

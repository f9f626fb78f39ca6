package marc

import (
	"bytes"
	"fmt"
	"strings"
)

// Origin says how a record's text was received when it was not UTF-8 in
// NFC already, so that nothing is lost by converting it: readers set
// Record.Origin whenever the text they return differs from the bytes they
// read, and leave it nil otherwise (a record decoded from a store, an
// export already in UTF-8 NFC).
type Origin struct {
	// Charset is what the text was read as: that of its converted
	// fields, or of most of them when Mixed.
	Charset Charset
	// Label is what the record claimed: leader/09's UTF-8 or MARC-8 (for
	// MARCXML, UTF-8), or the source's charset setting when Override.
	Label    Charset
	Override bool
	// Mixed is set when the fields were in more than one encoding.
	Mixed bool
	// Fields counts the fields whose text changed.
	Fields int
	// Replaced counts characters replaced with U+FFFD because no reading
	// gave them a meaning.
	Replaced int
	// Received is the record as it arrived: for ISO 2709 the record's
	// bytes as read; for MARCXML the text of every field as the XML
	// parser delivered it, before any charset decision, framed as ISO
	// 2709 with leader/09 'a'. Decoding it again with the same options
	// gives the same record. It is nil when the text only needed
	// normalising (UTF-8 NFD: the same characters) and when a MARCXML
	// record is too long to frame.
	Received []byte
	// ReceivedFormat is the serialisation Received came in.
	ReceivedFormat Format
}

// keepReceived reports whether the bytes received are worth keeping: not
// when the text only needed normalising (NFD to NFC), which changes no
// character and leaves nothing a detector could read another way.
func (o *Origin) keepReceived() bool {
	return o.Charset != CharsetUTF8 || o.Replaced > 0 || o.Mixed
}

// Encoding names the origin for reports and metrics: the charset, with
// "utf-8-nfd" for UTF-8 that only needed normalising, "utf-8-invalid"
// for UTF-8 with bytes replaced, and "mixed" for records whose fields
// were in several encodings. A nil Origin is "utf-8".
func (o *Origin) Encoding() string {
	switch {
	case o == nil:
		return "utf-8"
	case o.Mixed:
		return "mixed"
	case o.Charset == CharsetUTF8 && o.Replaced > 0:
		return "utf-8-invalid"
	case o.Charset == CharsetUTF8:
		return "utf-8-nfd"
	case o.Charset == CharsetAuto:
		return "unknown"
	}
	return string(o.Charset)
}

// Encodings lists every name Encoding returns, for metrics and stores
// that keep one code per name. The order is fixed: append only.
var Encodings = []string{"utf-8", "utf-8-nfd", "utf-8-invalid", "marc-8", "windows-1258", "iso-8859-1", "tcvn3", "vni", "utf-8-double", "mixed", "unknown"}

// originOf summarises how a record was read: used holds the charsets of
// the fields whose text changed, seen those of every field beyond ASCII.
func originOf(label Charset, override bool, used, seen []Charset, replaced int) *Origin {
	o := &Origin{Label: label, Override: override, Fields: len(used), Replaced: replaced}
	counts := map[Charset]int{}
	for _, cs := range used {
		counts[cs]++
	}
	best := 0
	for _, cs := range used { // the first in field order wins a tie
		if counts[cs] > best {
			o.Charset, best = cs, counts[cs]
		}
	}
	for _, cs := range seen {
		if cs != seen[0] {
			o.Mixed = true
		}
	}
	return o
}

// replacedIn counts the U+FFFD in text converted from b that b did not
// hold already.
func replacedIn(text string, b []byte) int {
	n := strings.Count(text, "\uFFFD")
	if n > 0 {
		n -= bytes.Count(b, []byte("\uFFFD"))
	}
	return max(n, 0)
}

// frameISO2709 frames fields as an ISO 2709 record with the given leader
// (its lengths and base address replaced). data holds each field's bytes
// without the terminator. It returns nil when the record or a field is too
// long for the format's length digits.
func frameISO2709(leader string, tags []string, data [][]byte) []byte {
	n := LeaderLen + 12*len(tags) + 1
	base := n
	for _, d := range data {
		if len(d)+1 > 9999 {
			return nil
		}
		n += len(d) + 1
	}
	n++
	if n > MaxRecordLen || len(leader) != LeaderLen {
		return nil
	}
	out := make([]byte, 0, n)
	out = fmt.Appendf(out, "%05d%s%05d%s", n, leader[5:12], base, leader[17:])
	pos := 0
	for i, t := range tags {
		out = fmt.Appendf(out, "%.3s%04d%05d", t+"   ", len(data[i])+1, pos)
		pos += len(data[i]) + 1
	}
	out = append(out, fieldTerminator)
	for _, d := range data {
		out = append(append(out, d...), fieldTerminator)
	}
	return append(out, recordTerminator)
}

// String describes the origin for a log line: "tcvn3, labelled utf-8,
// 9 fields converted".
func (o *Origin) String() string {
	if o == nil {
		return "utf-8"
	}
	s := o.Encoding()
	switch {
	case o.Override:
		s += ", as the charset setting " + string(o.Label) + " says"
	case o.Label != "":
		s += ", labelled " + string(o.Label)
	}
	s += fmt.Sprintf(", %d field(s) converted", o.Fields)
	if o.Replaced > 0 {
		s += fmt.Sprintf(", %d character(s) replaced with U+FFFD", o.Replaced)
	}
	return s
}

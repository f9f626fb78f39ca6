package z3950

import (
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// Character set negotiation (negotiation record definition
// CharSetandLanguageNegotiation-3, carried in Init's otherInfo as an
// EXTERNAL). Only what UTF-8 needs is modelled: ISO 10646 proposals by
// encoding level, and private character sets named by an octet string, as
// YAZ sends them ("UTF-8", "MARC-8", ...).

// charsetProposal is an origin's proposal.
type charsetProposal struct {
	charsets  []string // lower-case names; "utf-8" for ISO 10646 UTF-8
	languages []string
	records   *bool // recordsInSelectedCharSets, when proposed
}

// findCharsetProposal returns the proposal in an Init's otherInfo.
func findCharsetProposal(list []OtherInfo) (*charsetProposal, bool) {
	for _, oi := range list {
		ext := oi.External
		if ext == nil || !ext.DirectReference.Equal(OIDCharNeg3) || ext.Single == nil {
			continue
		}
		p := ext.Single
		if !isCtx(p, 1) { // proposal [1]
			continue
		}
		prop := &charsetProposal{}
		r := newFields("OriginProposal", p)
		if cs := r.take(1); cs != nil {
			for _, c := range cs.Children {
				if name := proposedCharset(c); name != "" {
					prop.charsets = append(prop.charsets, name)
				}
			}
		}
		if ls := r.take(2); ls != nil {
			for _, l := range ls.Children {
				if s, err := getStr(l); err == nil {
					prop.languages = append(prop.languages, s)
				}
			}
		}
		if v, ok := r.optBool(3); ok {
			prop.records = &v
		}
		if r.done() != nil {
			continue
		}
		return prop, true
	}
	return nil, false
}

// proposedCharset names one proposed character set, "" if not understood.
func proposedCharset(c *ber.Packet) string {
	switch {
	case isCtx(c, 2): // iso10646 [2] IMPLICIT Iso10646
		r := newFields("Iso10646", c)
		r.oid(1)
		enc := r.oid(2)
		if enc.Equal(oidUTF8) {
			return "utf-8"
		}
		if len(enc) == 6 {
			return map[int]string{2: "ucs-2", 4: "ucs-4", 5: "utf-16"}[enc[5]]
		}
	case isCtx(c, 3) && len(c.Children) == 1: // private [3] PrivateCharacterSet
		v := c.Children[0]
		if isCtx(v, 2) { // externallySpecified [2] IMPLICIT EXTERNAL
			if ext, err := decodeExternal(v); err == nil && ext.Octets != nil {
				return normCharsetName(string(ext.Octets))
			}
		}
	}
	return ""
}

func normCharsetName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "utf8", "utf-8":
		return "utf-8"
	}
	return s
}

// charsetResponse is the target's answer: UTF-8 selected (ISO 10646), or
// none when UTF-8 was not proposed (no negotiation in force; UTF-8 is
// still what the server sends).
func charsetResponse(prop *charsetProposal) (OtherInfo, bool) {
	selected := ctxNull(4)
	utf8 := false
	for _, c := range prop.charsets {
		if c == "utf-8" {
			selected = cons(2, ctxOID(2, oidUTF8))
			utf8 = true
			break
		}
	}
	var records *ber.Packet
	if prop.records != nil {
		records = ctxBool(3, utf8 && *prop.records)
	}
	resp := cons(2, cons(1, selected), records)
	return OtherInfo{External: &External{DirectReference: OIDCharNeg3, Single: resp}}, utf8
}

// charsetProposalFor is a client's proposal of one character set.
func charsetProposalFor(name string) OtherInfo {
	var cs *ber.Packet
	if normCharsetName(name) == "utf-8" {
		cs = cons(2, ctxOID(2, oidUTF8))
	} else {
		ext, _ := (&External{DirectReference: OID{1, 2, 840, 10003, 15, 1000, 81, 1}, Octets: []byte(name)}).
			encodeAs(ber.ClassContext, 2)
		cs = cons(3, ext)
	}
	prop := cons(1, cons(1, cs), ctxBool(3, true))
	return OtherInfo{External: &External{DirectReference: OIDCharNeg3, Single: prop}}
}

// selectedCharset reads a target's response: the selected character set
// ("" when none was selected or there was no response).
func selectedCharset(list []OtherInfo) string {
	for _, oi := range list {
		ext := oi.External
		if ext == nil || !ext.DirectReference.Equal(OIDCharNeg3) || ext.Single == nil || !isCtx(ext.Single, 2) {
			continue
		}
		r := newFields("TargetResponse", ext.Single)
		if sel := r.take(1); sel != nil && len(sel.Children) == 1 {
			return proposedCharset(sel.Children[0])
		}
	}
	return ""
}

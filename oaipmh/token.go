package oaipmh

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/unicat/unicat/oaiindex"
)

// token is a resumption token: where a list stopped and what defines it,
// so that any unicat process over the same store can continue it. It holds
// no server state.
type token struct {
	verb    byte   // verbListIdentifiers, verbListRecords or verbListSets
	epoch   uint64 // index epoch the list was cut from
	prefix  string // metadataPrefix as requested
	set     string // set as requested ("" for none)
	from    int64  // Unix seconds, inclusive
	cutoff  int64  // Unix seconds, inclusive: the list's snapshot
	started int64  // Unix seconds of the list's first request
	posDS   int64  // last position served
	posID   string // last id (or set spec) served
	cursor  uint64 // items served before the next page
	total   uint64 // completeListSize
}

const (
	tokenV1 = 1

	verbListIdentifiers byte = 1
	verbListRecords     byte = 2
	verbListSets        byte = 3

	tokenSumLen = 8
)

var errBadToken = errors.New("malformed resumption token")

// tokenSum protects tokens against corruption and casual editing; it is
// not a secret, since a forged token can only ask for a list anyone may
// ask for.
func tokenSum(b []byte) []byte {
	h := sha256.New()
	h.Write([]byte("unicat oai-pmh resumption token\x00"))
	h.Write(b)
	return h.Sum(nil)[:tokenSumLen]
}

func (t *token) encode() string {
	b := make([]byte, 0, 64+len(t.prefix)+len(t.set)+len(t.posID))
	b = append(b, tokenV1, t.verb)
	b = binary.AppendUvarint(b, t.epoch)
	b = appendTokenString(b, t.prefix)
	b = appendTokenString(b, t.set)
	b = binary.AppendVarint(b, t.from)
	b = binary.AppendVarint(b, t.cutoff)
	b = binary.AppendVarint(b, t.started)
	b = binary.AppendVarint(b, t.posDS)
	b = appendTokenString(b, t.posID)
	b = binary.AppendUvarint(b, t.cursor)
	b = binary.AppendUvarint(b, t.total)
	b = append(b, tokenSum(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func appendTokenString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func decodeToken(s string) (*token, error) {
	if len(s) > 4096 {
		return nil, errBadToken
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2+tokenSumLen {
		return nil, errBadToken
	}
	body, sum := b[:len(b)-tokenSumLen], b[len(b)-tokenSumLen:]
	if string(tokenSum(body)) != string(sum) || body[0] != tokenV1 {
		return nil, errBadToken
	}
	d := tokenDecoder{b: body[2:]}
	t := &token{verb: body[1]}
	t.epoch = d.uvarint()
	t.prefix = d.string()
	t.set = d.string()
	t.from = d.varint()
	t.cutoff = d.varint()
	t.started = d.varint()
	t.posDS = d.varint()
	t.posID = d.string()
	t.cursor = d.uvarint()
	t.total = d.uvarint()
	if d.bad || len(d.b) != 0 || t.verb < verbListIdentifiers || t.verb > verbListSets {
		return nil, errBadToken
	}
	return t, nil
}

// expires returns when the token stops being accepted.
func (t *token) expires() time.Time {
	return time.Unix(t.started, 0).UTC().Add(oaiindex.ListLifetime)
}

type tokenDecoder struct {
	b   []byte
	bad bool
}

func (d *tokenDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *tokenDecoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *tokenDecoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad = true
		d.b = nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

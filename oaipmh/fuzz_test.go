package oaipmh

import (
	"bytes"
	"encoding/xml"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/oaiindex"
)

func TestTokenRoundTrip(t *testing.T) {
	in := token{verb: verbListRecords, epoch: 3, prefix: "marcxml", set: "library:NA~2FX", from: 1714550400,
		cutoff: 1714636799, started: 1714700000, posDS: 1714600000, posID: "u0000001a", cursor: 400, total: 1000000}
	s := in.encode()
	if strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Errorf("token %q has characters outside the URL-safe alphabet", s)
	}
	out, err := decodeToken(s)
	if err != nil {
		t.Fatal(err)
	}
	if *out != in {
		t.Errorf("round trip: %+v, want %+v", *out, in)
	}
	// Any single changed character is detected.
	for i := range s {
		b := []byte(s)
		b[i] ^= 1
		if _, err := decodeToken(string(b)); err == nil && string(b) != s {
			t.Errorf("token altered at %d still decodes", i)
		}
	}
	if want := time.Unix(in.started, 0).Add(oaiindex.ListLifetime); !out.expires().Equal(want) {
		t.Errorf("expires %v, want %v", out.expires(), want)
	}
}

func FuzzDecodeToken(f *testing.F) {
	f.Add((&token{verb: verbListIdentifiers, prefix: "oai_dc", posID: "u00000001"}).encode())
	f.Add((&token{verb: verbListSets, posID: "level:district", total: 9}).encode())
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := decodeToken(s)
		if err != nil {
			return
		}
		again, err := decodeToken(tok.encode())
		if err != nil || *again != *tok {
			t.Errorf("re-encoding %q: %v %+v", s, err, again)
		}
	})
}

// FuzzRequest sends arbitrary query strings and POST bodies: the answer
// is always a well-formed OAI-PMH document with a responseDate, a request
// element, and either an error or the verb's element.
func FuzzRequest(f *testing.F) {
	fx := catalogFixture(f, 2)
	first, _ := fx.get("verb=ListRecords&metadataPrefix=oai_dc")
	for _, s := range []string{
		"", "verb=Identify", "junk", "verb=ListRecords&metadataPrefix=oai_dc&from=2024-05-01",
		"verb=GetRecord&identifier=oai:" + testDomain + ":u00000001&metadataPrefix=marc21",
		`verb=GetRecord&identifier=invalid"id&metadataPrefix=oai_dc`,
		"verb=ListRecords&resumptionToken=" + url.QueryEscape(first.ListRecords.Token.Value),
		"verb=ListSets&resumptionToken=AQM", "verb=ListIdentifiers&metadataPrefix=marcxml&set=level&until=2024-05-02T10:00:00Z",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, q string, post bool) {
		var req *http.Request
		if post {
			req = httptest.NewRequest(http.MethodPost, "http://unicat.test/oai", strings.NewReader(q))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(http.MethodGet, "http://unicat.test/oai", nil)
			req.URL.RawQuery = q
		}
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%q: HTTP %d", q, rec.Code)
		}
		checkWellFormed(t, q, rec.Body.Bytes())
	})
}

// checkWellFormed parses body token by token (so any XML error shows) and
// checks the envelope's shape.
func checkWellFormed(t *testing.T, q string, body []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	depth := 0
	var top []string
	for {
		tok, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("%q: not well-formed: %v\n%s", q, err, clip(body))
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if depth == 1 {
				top = append(top, e.Name.Local)
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if len(top) < 3 || top[0] != "responseDate" || top[1] != "request" {
		t.Fatalf("%q: envelope %v", q, top)
	}
	if _, ok := verbs[top[2]]; !ok && top[2] != "error" {
		t.Fatalf("%q: answer element %s", q, top[2])
	}
}

// Identifiers the response echoes must be valid xs:anyURI values; the
// ones that cannot be are refused as bad arguments. xmllint decides.
func TestIdentifierEchoValidates(t *testing.T) {
	f := catalogFixture(t, 2)
	v := newValidator(t)
	ids := []string{
		`invalid"id`, "oai:x:<]]>", "a b", "[", "]", "%", "%zz", "%41", "a#b#c", "a#b", "1:abc", ":abc", "a:b", "a+b:c",
		"{}|\\^`'", "tiếng Việt", "oai:" + testDomain + ":u00000001#x", "?:x", "/:x", "x/y:z", "mailto:a@b.c", "ú:x",
		"\x7f", "a\x00b", "..", ".:x", "-:x", "a%2", "oai:demo.unicat.invalid:", "http://[::1]/x",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "aZ09:/?#[]@!$&'()*+,;=%-._~ \"<>\\^`{|}\x01\x7fếĐ"
	runes := []rune(alphabet)
	for range 400 {
		n := 1 + rng.IntN(8)
		var b strings.Builder
		for range n {
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		ids = append(ids, b.String())
	}
	refused := 0
	for _, id := range ids {
		q := "verb=GetRecord&metadataPrefix=oai_dc&identifier=" + url.QueryEscape(id)
		r, body := f.get(q)
		switch r.errorCode() {
		case "badArgument":
			refused++
		case "idDoesNotExist", "":
		default:
			t.Errorf("%q: %s", id, r.errorCode())
		}
		v.add(q, body)
	}
	v.check()
	if refused == 0 || refused == len(ids) {
		t.Errorf("%d of %d identifiers refused", refused, len(ids))
	}
}

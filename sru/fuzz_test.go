package sru

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzRequest: whatever the parameters, the answer is a well-formed SRU
// response with status 200 (never a 500, never a panic).
func FuzzRequest(f *testing.F) {
	for _, s := range [][3]string{
		{"1.2", "searchRetrieve", "dc.title = \"Truyện Kiều\""},
		{"2.0", "scan", "dc.creator = d"},
		{"1.1", "explain", ""},
		{"", "", "a and (b or"},
		{"9", "searchRetrieve", "dc.date > 19* sortBy dc.title/sort.descending"},
		{"1.2", "searchRetrieve", "\xff\xfe\"^*?\\"},
	} {
		f.Add(s[0], s[1], s[2], "1", "10", "marcxml")
	}
	c := newTestCatalog(f, testDocs)
	f.Fuzz(func(t *testing.T, version, op, query, start, max, schema string) {
		q := url.Values{}
		for k, v := range map[string]string{"version": version, "operation": op, "query": query, "scanClause": query,
			"startRecord": start, "maximumRecords": max, "recordSchema": schema, "maximumTerms": max, "responsePosition": start} {
			if v != "" {
				q.Set(k, v)
			}
		}
		rec := httptest.NewRecorder()
		c.srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sru?"+q.Encode(), nil))
		parseResponse(t, rec.Result())
	})
}

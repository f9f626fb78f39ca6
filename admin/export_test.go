package admin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/unicat/unicat/marc"
	"github.com/unicat/unicat/store"
)

// TestExport streams a source's records with the trailers that say the
// export is whole, names a record it had to leave out, and refuses what
// `unicat export` would refuse.
func TestExport(t *testing.T) {
	h, _, st, _ := setup(t)
	long := strings.Repeat("Truyện Kiều ", 1000) // a field over ISO 2709's 9,999 bytes
	b := store.Batch{Source: "lib"}
	for _, r := range []struct{ id, title string }{{"1", "Truyện Kiều"}, {"2", long}, {"3", "Số đỏ"}} {
		b.Records = append(b.Records, store.Incoming{LocalID: r.id, Record: &marc.Record{Leader: "00000nam a2200000 a 4500",
			Fields: []marc.Field{{Tag: "001", Value: r.id},
				{Tag: "245", Ind1: '1', Ind2: '0', Subfields: []marc.Subfield{{Code: 'a', Value: r.title}}}}}})
	}
	if _, err := st.Apply(b); err != nil {
		t.Fatal(err)
	}
	// A real server: httptest's recorder does not send trailers.
	srv := httptest.NewServer(h)
	defer srv.Close()
	post := func(query string) *http.Response {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/admin/export?"+query, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := post("source=lib")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	tr := resp.Trailer
	if resp.StatusCode != http.StatusOK || tr.Get(ExportRecordsTrailer) != "2" || tr.Get(ExportSkippedCount) != "1" ||
		tr.Get(ExportBytesTrailer) != strconv.Itoa(len(body)) {
		t.Fatalf("export: %s, trailers %v, %d bytes", resp.Status, tr, len(body))
	}
	if s := tr.Values(ExportSkippedTrailer); len(s) != 1 || !strings.HasPrefix(s[0], "lib/2: ") || !strings.Contains(s[0], "export it as marcxml") {
		t.Errorf("skipped: %q", s)
	}
	rd := marc.NewReader(strings.NewReader(string(body)), marc.FormatISO2709, marc.ReaderOptions{})
	for _, want := range []string{"1", "3"} {
		if r, err := rd.Next(); err != nil || r.ControlNumber() != want {
			t.Errorf("record %s: %v %v", want, r, err)
		}
	}
	resp = post("source=lib&format=marcxml")
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Trailer.Get(ExportRecordsTrailer) != "3" || !strings.Contains(string(body), "<collection") {
		t.Errorf("marcxml export: %v", resp.Trailer)
	}
	for query, code := range map[string]int{"format=pdf": 400, "union=1&source=lib": 400, "source=nope": 404} {
		if w := do(h, http.MethodPost, "/admin/export?"+query, token, nil); w.Code != code {
			t.Errorf("%s: %d, want %d: %s", query, w.Code, code, w.Body)
		}
	}
	if w := do(h, http.MethodPost, "/admin/export", "", nil); w.Code != http.StatusUnauthorized {
		t.Errorf("without the token: %d", w.Code)
	}
}

// TestExplainAnswers: an id nobody has is 404, no id 400. (A cluster's
// explanation, from a store with deduplication, is compared with the
// command's in cmd/unicat.)
func TestExplainAnswers(t *testing.T) {
	h, _, _, _ := setup(t)
	if w := do(h, http.MethodGet, "/admin/explain?id=u99999999", token, nil); w.Code != http.StatusNotFound ||
		!strings.Contains(w.Body.String(), `no union record or member record \"u99999999\"`) {
		t.Errorf("unknown id: %d %s", w.Code, w.Body)
	}
	if w := do(h, http.MethodGet, "/admin/explain", token, nil); w.Code != http.StatusBadRequest {
		t.Errorf("no id: %d %s", w.Code, w.Body)
	}
}

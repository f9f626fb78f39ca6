package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A source's password and API key never show: not in unicat harvest's
// output, not in the run history unicat status reads, not in the
// service's log, and not on the public status page, which shows no
// error text at all (paths and peers' answers are for the operator).
func TestSecretsNeverShown(t *testing.T) {
	const password, apikey = "S3cret-pw", "K3Y-secret-value"
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A careless peer quoting the request back in its error page.
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "<html>bad apikey %s for %s</html>", r.URL.Query().Get("apikey"), r.Header.Get("Authorization"))
	}))
	defer peer.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "unicat.yaml")
	url := strings.Replace(peer.URL, "http://", "http://harvester:"+password+"@", 1) + "/oai?apikey=" + apikey
	doc := fmt.Sprintf(`data_dir: data
http: {addr: "127.0.0.1:0"}
admin: {token: %q}
sources:
  - {id: koha, name: Koha, library_code: KOHA, level: district, kind: oai, url: %q, max_retries: 1, retry_wait: 100ms}
`, fedToken, url)
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	basic := base64.StdEncoding.EncodeToString([]byte("harvester:" + password))
	leaks := func(where, text string) {
		t.Helper()
		if strings.Contains(text, password) || strings.Contains(text, apikey) || strings.Contains(text, basic) {
			t.Errorf("%s shows a secret:\n%s", where, text)
		}
	}
	out, errOut, code := runUnicat(t, "harvest", "--config", cfg, "koha")
	if code == 0 || !strings.Contains(out+errOut, "HTTP 500") || !strings.Contains(out+errOut, "***") {
		t.Fatalf("harvest of a failing peer (exit %d) does not say why, redacted:\n%s%s", code, out, errOut)
	}
	leaks("unicat harvest", out+errOut)
	out, errOut, _ = runUnicat(t, "status", "--config", cfg)
	if !strings.Contains(out, "HTTP 500") {
		t.Errorf("status does not show the operator the error:\n%s", out)
	}
	leaks("unicat status", out+errOut)

	cmd, addrs, log := startServeLog(t, cfg, httpAddrRe)
	node := &fedNode{t: t, http: addrs[0], log: log}
	req, _ := http.NewRequest(http.MethodPost, "http://"+node.http+"/admin/harvest/koha", nil)
	req.Header.Set("Authorization", "Bearer "+fedToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("trigger: %v %v", resp, err)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(log.String(), `msg="harvest failed"`); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the harvest did not fail:\n%s", log)
		}
	}
	resp, err := http.Get("http://" + node.http + "/status")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	leaks("/status", string(page))
	if strings.Contains(string(page), "HTTP 500") || strings.Contains(string(page), dir) {
		t.Errorf("the public status page shows the error's text")
	}
	if admin := string(node.get("/admin/sources/koha")); !strings.Contains(admin, "HTTP 500") {
		t.Errorf("the admin API does not show the operator the error: %s", admin)
	} else {
		leaks("the admin API", admin)
	}
	leaks("the service's log", log.String())
	stopServe(t, cmd)
}

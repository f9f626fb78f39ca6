package sru

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
)

// TestYazClientSRU drives yaz-client (the SRU client under Koha and many
// library systems) against the server on a real loopback port: open, a
// search in each SRU version, and records shown.
func TestYazClientSRU(t *testing.T) {
	yaz := testpeer.Need(t, "yaz-client")
	_, srv := demoCatalog(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sru", srv)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String() + "/sru"

	run := func(cmds ...string) string {
		t.Helper()
		f := filepath.Join(t.TempDir(), "cmds")
		script := "open " + base + "\n" + strings.Join(cmds, "\n") + "\nquit\n"
		if err := os.WriteFile(f, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, yaz, "-f", f).CombinedOutput()
		if err != nil {
			t.Fatalf("yaz-client: %v\n%s", err, out)
		}
		if testing.Verbose() {
			t.Logf("yaz-client %q:\n%s", cmds, out)
		}
		return string(out)
	}
	hits := regexp.MustCompile(`Number of hits: (\d+)`)
	for _, ver := range []string{"1.1", "1.2", "2.0"} {
		for _, method := range []string{"get", "post"} {
			out := run("sru "+method+" "+ver, `find dc.creator="nguyen du"`, "show 1")
			m := hits.FindStringSubmatch(out)
			if m == nil || m[1] != "2" {
				t.Errorf("SRU %s %s: want 2 hits for nguyen du:\n%s", method, ver, out)
				continue
			}
			// The record shown is MARCXML with the Vietnamese text intact.
			if !strings.Contains(out, "Nguyễn Du") || !strings.Contains(out, "http://www.loc.gov/MARC21/slim") {
				t.Errorf("SRU %s %s: record not shown as MARCXML:\n%s", method, ver, out)
			}
		}
	}
	// A diagnostic reaches the client as one.
	out := run("sru get 1.2", "find dc.nosuch=x")
	if !strings.Contains(out, "info:srw/diagnostic/1/16") && !strings.Contains(out, "Unsupported index") {
		t.Errorf("diagnostic not reported:\n%s", out)
	}
	// Scan.
	out = run("sru get 1.2", "scan dc.creator=nguyen")
	if !strings.Contains(out, "nguyen") {
		t.Errorf("scan:\n%s", out)
	}
}

package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
)

// TestServeZ3950 runs the demo service and asks it what a cataloguer's
// client asks, with yaz-client: the union records of the demo libraries,
// with each holding library in the OPAC record, and the same hit counts
// as its SRU server.
func TestServeZ3950(t *testing.T) {
	yaz := testpeer.Need(t, "yaz-client")
	cfg := demoConfig(t)
	if _, e, code := runUnicat(t, "import", "--config", cfg, "--all"); code != 0 {
		t.Fatal(e)
	}
	cmd := unicatCmd("serve", "--config", cfg, "--http", "127.0.0.1:0", "--z3950", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	zRe := regexp.MustCompile(`z3950 serving"? addr=(127\.0\.0\.1:\d+)`)
	hRe := regexp.MustCompile(`http=http://(127\.0\.0\.1:\d+)`)
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var zaddr, haddr string
	timeout := time.After(60 * time.Second)
	for zaddr == "" || haddr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("serve ended before reporting its addresses")
			}
			if m := zRe.FindStringSubmatch(l); m != nil {
				zaddr = m[1]
			}
			if m := hRe.FindStringSubmatch(l); m != nil {
				haddr = m[1]
			}
		case <-timeout:
			t.Fatal("serve did not report its addresses")
		}
	}
	go func() {
		for range lines {
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	yc := exec.CommandContext(ctx, yaz)
	yc.Stdin = strings.NewReader(strings.Join([]string{
		"open tcp:" + zaddr + "/unicat",
		`find @attr 1=1003 "nguyen du"`,
		`find @attr 1=4 "truyện kiều"`,
		"format opac", "show 1",
		"quit"}, "\n") + "\n")
	out, err := yc.CombinedOutput()
	if err != nil {
		t.Fatalf("yaz-client: %v\n%s", err, out)
	}
	hits := regexp.MustCompile(`Number of hits: (\d+)`).FindAllStringSubmatch(string(out), -1)
	if len(hits) != 2 {
		t.Fatalf("transcript:\n%s", out)
	}
	n, _ := strconv.Atoi(hits[0][1])
	resp, err := http.Get("http://" + haddr + "/sru?version=1.2&operation=searchRetrieve&maximumRecords=0&query=" +
		url.QueryEscape(`dc.creator = "nguyen du"`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`numberOfRecords>(\d+)<`).FindSubmatch(body)
	if n == 0 || m == nil || string(m[1]) != hits[0][1] {
		t.Errorf("Z39.50 finds %d for Nguyễn Du, SRU %s", n, m)
	}
	// Truyện Kiều is held by several demo libraries: one union record,
	// one holding per library.
	if got := strings.Count(string(out), "nucCode: "); got < 2 || !strings.Contains(string(out), "Record type: OPAC") {
		t.Errorf("OPAC record with %d holdings:\n%s", got, out)
	}
}

package main

import (
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
	_, addrs := startServe(t, cfg, z3950AddrRe, httpAddrRe)
	zaddr, haddr := addrs[0], addrs[1]

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

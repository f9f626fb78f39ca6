package z3950

import (
	"bufio"
	"context"
	"net"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/unicat/unicat/internal/testpeer"
)

// closeOf reads what the server sends a connection until it closes it,
// within timeout, and returns the Close PDU's reason and diagnostic
// (reason -1: none came).
func closeOf(t *testing.T, cn net.Conn, timeout time.Duration) (int, string) {
	t.Helper()
	cn.SetReadDeadline(time.Now().Add(timeout))
	br := bufio.NewReader(cn)
	for {
		frame, err := readFrame(br, 1<<20)
		if err != nil {
			return -1, err.Error()
		}
		p, err := DecodePDU(frame)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := p.(*Close); ok {
			return c.Reason, c.Diagnostic
		}
	}
}

func initPDU(t *testing.T) []byte {
	t.Helper()
	b, err := EncodePDU(&InitRequest{ProtocolVersion: Version2 | Version3, Options: OptSearch | OptPresent,
		PreferredMessageSize: 1 << 20, ExceptionalRecordSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dialFrom opens a connection from a loopback address of its own, so that
// the per-address limit can be tested on one machine.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	cn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cn.Close() })
	return cn
}

// A flood of connections that never send their Init keeps nobody out:
// each new client displaces the oldest of them, and a cataloguer's
// yaz-client searches at once.
func TestFloodDisplaced(t *testing.T) {
	const max = 50
	c := newTestCatalog(t, testRecords(t), Config{MaxConnections: max, MaxPerClient: 1000})
	flood := make([]net.Conn, max)
	for i := range flood {
		flood[i] = dialFrom(t, "127.0.0.1", c.addr)
	}
	for deadline := time.Now().Add(5 * time.Second); c.srv.OpenConnections() < max; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d flood connections open", c.srv.OpenConnections(), max)
		}
	}
	yaz := testpeer.Need(t, "yaz-client")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, yaz)
	cmd.Stdin = strings.NewReader("open tcp:" + c.addr + "/unicat\nfind @attr 1=4 computer\nquit\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Number of hits:") {
		t.Fatalf("yaz-client through a flood: %v\n%s", err, out)
	}
	t.Logf("yaz-client searched through %d idle connections in %v", max, time.Since(start).Round(time.Millisecond))
	// The oldest flood connection gave way, and was told why.
	if reason, why := closeOf(t, flood[0], 5*time.Second); reason != CloseResources || !strings.Contains(why, "displaced") {
		t.Errorf("the oldest idle connection: Close %d %q", reason, why)
	}
	if n := c.srv.OpenConnections(); n > max {
		t.Errorf("%d connections open, at most %d", n, max)
	}
}

// When every connection has completed its Init, a new one is refused.
func TestAllInitializedRefuses(t *testing.T) {
	const max = 5
	c := newTestCatalog(t, testRecords(t), Config{MaxConnections: max, MaxPerClient: 1000})
	init := initPDU(t)
	for range max {
		cn := dialFrom(t, "127.0.0.1", c.addr)
		if _, err := cn.Write(init); err != nil {
			t.Fatal(err)
		}
		cn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := readFrame(bufio.NewReader(cn), 1<<20); err != nil {
			t.Fatal(err)
		}
	}
	late := dialFrom(t, "127.0.0.1", c.addr)
	if reason, why := closeOf(t, late, 5*time.Second); reason != CloseResources || why != "too many connections" {
		t.Errorf("a connection over the limit: Close %d %q", reason, why)
	}
}

// One client address holds at most MaxPerClient connections; another
// address is not held back by it.
func TestPerClientLimit(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{MaxPerClient: 3})
	for range 3 {
		dialFrom(t, "127.0.0.1", c.addr)
	}
	for deadline := time.Now().Add(5 * time.Second); c.srv.OpenConnections() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open", c.srv.OpenConnections())
		}
	}
	fourth := dialFrom(t, "127.0.0.1", c.addr)
	if reason, why := closeOf(t, fourth, 5*time.Second); reason != CloseResources || why != "too many connections from this address" {
		t.Errorf("a fourth connection from one address: Close %d %q", reason, why)
	}
	other := dialFrom(t, "127.0.0.2", c.addr)
	if _, err := other.Write(initPDU(t)); err != nil {
		t.Fatal(err)
	}
	other.SetReadDeadline(time.Now().Add(5 * time.Second))
	frame, err := readFrame(bufio.NewReader(other), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := DecodePDU(frame); p == nil || p.Tag() != TagInitResponse {
		t.Errorf("another address: %v", p)
	}
}

// A connection that has not completed its Init is closed InitTimeout
// after it opened, even one trickling its bytes in.
func TestInitTimeout(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{InitTimeout: 300 * time.Millisecond})
	silent := dialFrom(t, "127.0.0.1", c.addr)
	trickle := dialFrom(t, "127.0.0.1", c.addr)
	init := initPDU(t)
	go func() {
		for _, b := range init {
			if _, err := trickle.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	for _, cn := range []net.Conn{silent, trickle} {
		start := time.Now()
		reason, why := closeOf(t, cn, 5*time.Second)
		if reason != CloseLackOfActivity || !strings.HasPrefix(why, "no Init within") {
			t.Errorf("Close %d %q", reason, why)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("closed after %v", d)
		}
	}
	// A client that sends its Init stays.
	cl := c.dial(t, ClientOptions{})
	time.Sleep(500 * time.Millisecond)
	if n := count(t, cl, "@attr 1=4 computer"); n == 0 {
		t.Error("an initialized connection was closed with the slow ones")
	}
}

// While Unavailable gives a reason, every new connection gets a Close
// (system problem) with it, Init or not; once it gives none, clients are
// served.
func TestUnavailable(t *testing.T) {
	var why atomic.Value
	why.Store("building the union catalog (dedup)")
	c := newTestCatalog(t, testRecords(t), Config{Unavailable: func() string { return why.Load().(string) }})
	cn := dialFrom(t, "127.0.0.1", c.addr)
	if _, err := cn.Write(initPDU(t)); err != nil {
		t.Fatal(err)
	}
	if reason, got := closeOf(t, cn, 5*time.Second); reason != CloseSystemProblem || got != "building the union catalog (dedup)" {
		t.Errorf("while unavailable: Close %d %q, want %d and the reason", reason, got, CloseSystemProblem)
	}
	why.Store("")
	if n := count(t, c.dial(t, ClientOptions{}), "@attr 1=4 computer"); n == 0 {
		t.Error("available again: a search found nothing")
	}
}

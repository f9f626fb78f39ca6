package z3950

import (
	"context"
	"net"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/unicat/unicat/marc"
)

// Tests of a connection's life: protocol errors, panics, timeouts and
// limits, shutdown, and the metrics it leaves.

// TestProtocolErrors checks that what is wrong on the wire ends that
// connection (with a Close saying why) and nothing else.
func TestProtocolErrors(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	bystander := c.dial(t, ClientOptions{})
	expectClose := func(name string, r *rawConn, reason int) {
		t.Helper()
		p := r.recv()
		cl, ok := p.(*Close)
		if !ok || cl.Reason != reason {
			t.Errorf("%s: got %#v, want Close reason %d", name, p, reason)
		}
		if !r.closed() {
			t.Errorf("%s: connection left open", name)
		}
	}
	// Search before init.
	r := dialRaw(t, c.addr)
	r.send(&SearchRequest{DatabaseNames: []string{"unicat"}, Query: Query{Type: QueryType1, RPN: mustPQF(t, "x")}})
	expectClose("search before init", r, CloseProtocolError)
	// Malformed BER: a length running past the end, then garbage.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xBF, 0x16, 0x82, 0x01})
	r.c.Write([]byte{0x00, 0xA0, 0x80, 0x04, 0x81, 0x00, 0x00, 0x00})
	// (0xA0 0x80 … is inside the announced 256 bytes; the stream never
	// completes it, so close the write side to end it.)
	r.c.(*net.TCPConn).CloseWrite()
	if !r.closed() {
		t.Errorf("truncated PDU: connection left open")
	}
	// Indefinite length on a primitive value: malformed at once.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0x9F, 0x16, 0x80, 0x00, 0x00})
	expectClose("malformed BER", r, CloseProtocolError)
	// A PDU larger than the cap.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xBF, 0x16, 0x84, 0x10, 0x00, 0x00, 0x00})
	expectClose("huge PDU", r, CloseResources)
	// Valid BER, not a valid search request.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xB6, 0x03, 0x02, 0x01, 0x05})
	expectClose("bad search request", r, CloseProtocolError)
	// An access control request: not supported, closed properly.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xBF, 0x1C, 0x04, 0x82, 0x02, 'x', 'y'})
	p := r.recv()
	if cl, ok := p.(*Close); !ok || cl.Reason != CloseProtocolError || string(cl.ReferenceID) != "xy" {
		t.Errorf("access control: %#v", p)
	}
	// Extended services: a failed response with diagnostic 221; the
	// association goes on.
	r = dialRaw(t, c.addr)
	r.init()
	r.c.Write([]byte{0xBF, 0x2E, 0x03, 0x83, 0x01, 0x01})
	if es, ok := r.recv().(*ExtendedServicesResponse); !ok || es.Status != 3 || es.Diagnostics[0].Condition != DiagESNotSupported {
		t.Errorf("extended services: %#v", es)
	}
	r.send(&Close{Reason: CloseFinished})
	expectClose("close", r, CloseFinished)
	// The bystander did not notice anything.
	if n := count(t, bystander, "@attr 1=4 computer"); n == 0 {
		t.Errorf("bystander: no hits")
	}
}

func TestPanicContained(t *testing.T) {
	recs := testRecords(t)
	c := newTestCatalog(t, recs, Config{})
	c.cat.Record = func(id string, stored *marc.Record) (*marc.Record, error) {
		if id == testID(0) {
			panic("fetch exploded")
		}
		return stored, nil
	}
	bystander := c.dial(t, ClientOptions{})
	r := dialRaw(t, c.addr)
	r.init()
	r.send(&SearchRequest{ReplaceIndicator: true, ResultSetName: "default", DatabaseNames: []string{"unicat"},
		Query: Query{Type: QueryType1, RPN: mustPQF(t, "@attr 1=12 "+recs[0].ControlNumber())}})
	if sr := r.recv().(*SearchResponse); sr.ResultCount != 1 {
		t.Fatalf("search: %d", sr.ResultCount)
	}
	r.send(&PresentRequest{ResultSetID: "default", Start: 1, Count: 1})
	if cl, ok := r.recv().(*Close); !ok || cl.Reason != CloseSystemProblem {
		t.Errorf("after the panic: %#v", cl)
	}
	if !r.closed() {
		t.Error("connection left open after a panic")
	}
	if n := count(t, bystander, "@attr 1=4 computer"); n == 0 {
		t.Error("bystander: no hits")
	}
	if got := c.srv.OpenConnections(); got != 1 {
		t.Errorf("%d connections open, want the bystander's", got)
	}
}

func TestIdleTimeoutAndLimits(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{IdleTimeout: 200 * time.Millisecond, MaxConnections: 2})
	r := dialRaw(t, c.addr)
	r.init()
	if cl, ok := r.recv().(*Close); !ok || cl.Reason != CloseLackOfActivity {
		t.Errorf("idle: %#v", cl)
	}
	if !r.closed() {
		t.Error("idle connection left open")
	}
	// Two connections fill the server; a third is told why it is dropped.
	a, b := dialRaw(t, c.addr), dialRaw(t, c.addr)
	a.init()
	b.init()
	x := dialRaw(t, c.addr)
	if cl, ok := x.recv().(*Close); !ok || cl.Reason != CloseResources {
		t.Errorf("over the limit: %#v", cl)
	}
	if !x.closed() {
		t.Error("refused connection left open")
	}
}

func TestShutdownClosesSessions(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	r := dialRaw(t, c.addr)
	r.init()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- c.srv.Shutdown(ctx)
	}()
	if cl, ok := r.recv().(*Close); !ok || cl.Reason != CloseShutdown {
		t.Errorf("shutdown: %#v", cl)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", c.addr, time.Second); err == nil {
		t.Error("still accepting after shutdown")
	}
}

func TestMetrics(t *testing.T) {
	c := newTestCatalog(t, testRecords(t), Config{})
	cl := c.dial(t, ClientOptions{})
	count(t, cl, "@attr 1=4 computer")
	diagOf(t, cl, "@attr 1=1032 x")
	diagOf(t, cl, "@attr 1=1032 y")
	fams, err := c.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string, labels ...string) float64 {
		for _, f := range fams {
			if f.GetName() != name {
				continue
			}
			for _, m := range f.Metric {
				if matchLabels(m, labels) {
					switch {
					case m.Counter != nil:
						return m.Counter.GetValue()
					case m.Gauge != nil:
						return m.Gauge.GetValue()
					case m.Histogram != nil:
						return float64(m.Histogram.GetSampleCount())
					}
				}
			}
		}
		return -1
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"unicat_z3950_pdus_total", []string{"direction", "in", "type", "searchRequest"}, 3},
		{"unicat_z3950_pdus_total", []string{"direction", "out", "type", "initResponse"}, 1},
		{"unicat_z3950_diagnostics_total", []string{"code", "114"}, 2},
		{"unicat_z3950_connections", []string{"state", "open"}, 1},
		{"unicat_z3950_connections_total", []string{"outcome", "accepted"}, 1},
		{"unicat_z3950_search_duration_seconds", nil, 3},
	} {
		if got := get(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func matchLabels(m *dto.Metric, labels []string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, l := range m.Label {
			if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}

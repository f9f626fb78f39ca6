package z3950

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/unicat/unicat/catalog"
)

// Config configures a Server.
type Config struct {
	// Catalog is what the server searches and serves records from.
	// USMARC records of element set F that it has as ISO 2709 in UTF-8
	// (Snapshot.RecordISO2709) are sent as stored, without decoding and
	// encoding them again.
	Catalog catalog.Reader

	// Database is the database name served; "" means "unicat". "Default"
	// (YAZ's and Zebra's default) is accepted too.
	Database string
	// MaxConnections bounds the connections open at once; 0 means 500.
	// When all are taken, a new connection displaces the oldest one that
	// has not completed its Init; when all have, it is answered with a
	// Close (resources) and dropped (admission.go).
	MaxConnections int
	// MaxPerClient bounds the connections of one client address; 0 means
	// 20.
	MaxPerClient int
	// InitTimeout closes a connection that has not completed its Init
	// that long after it opened (Close, lack of activity); 0 means 30
	// seconds.
	InitTimeout time.Duration
	// IdleTimeout closes a connection that sends nothing for that long
	// (Close, lack of activity); 0 means 10 minutes.
	IdleTimeout time.Duration
	// MaxMessageSize caps the preferredMessageSize and
	// exceptionalRecordSize a client may negotiate, and the size of a PDU
	// a client may send; 0 means 4 MiB.
	MaxMessageSize int
	// MaxResultSets bounds the named result sets of one connection; the
	// least recently used goes when another is made. 0 means 32.
	MaxResultSets int
	// MaxScanTerms caps numberOfTermsRequested; 0 means 200.
	MaxScanTerms int
	// Unavailable, when set, says why the server serves nobody now (""
	// when it does): a new connection is then answered with a Close
	// (system problem) carrying that reason, as `unicat serve` does while
	// it builds the catalog at its start.
	Unavailable func() string
	// Version is the implementationVersion sent in the Init response.
	Version string
	// Registerer receives the server's metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Log receives connection errors and system errors; nil logs nothing.
	Log *slog.Logger
}

// Defaults.
const (
	defaultMaxConnections = 500
	defaultMaxPerClient   = 20
	defaultInitTimeout    = 30 * time.Second
	defaultIdleTimeout    = 10 * time.Minute
	defaultMaxMessageSize = 4 << 20
	defaultMaxResultSets  = 32
	defaultMaxScanTerms   = 200
	// maxInitPDU bounds the first PDU, before a client has said anything.
	maxInitPDU   = 64 << 10
	writeTimeout = 30 * time.Second
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("z3950: server closed")

// Server is a Z39.50 target over the search index.
type Server struct {
	cfg Config
	m   *metrics

	mu         sync.Mutex
	listeners  map[net.Listener]struct{}
	sessions   map[*session]struct{}
	byClient   map[string]int // open connections by client address (under mu)
	displacing int            // displaced sessions not yet ended (under mu)
	open       atomic.Int64
	closing    atomic.Bool
	wg         sync.WaitGroup
}

// NewServer returns a Server; it fails only when the metrics cannot be
// registered.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("z3950: Config needs a Catalog")
	}
	if cfg.Database == "" {
		cfg.Database = "unicat"
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = defaultMaxConnections
	}
	if cfg.MaxPerClient <= 0 {
		cfg.MaxPerClient = defaultMaxPerClient
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = defaultInitTimeout
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = defaultMaxMessageSize
	}
	if cfg.MaxResultSets <= 0 {
		cfg.MaxResultSets = defaultMaxResultSets
	}
	if cfg.MaxScanTerms <= 0 {
		cfg.MaxScanTerms = defaultMaxScanTerms
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("z3950: register metrics: %w", err)
	}
	return &Server{cfg: cfg, m: m, listeners: map[net.Listener]struct{}{}, sessions: map[*session]struct{}{},
		byClient: map[string]int{}}, nil
}

// Serve accepts connections on ln, one goroutine each, until Shutdown
// (ErrServerClosed) or an accept error.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing.Load() {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				// Out of file descriptors and such: wait, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("z3950: accept: %w", err)
		}
		backoff = 0
		unavailable := s.unavailable() // the caller's function, outside mu
		// Registered under mu, where Shutdown sets closing, so that no
		// wg.Add races with Shutdown's wg.Wait.
		s.mu.Lock()
		if s.closing.Load() {
			s.mu.Unlock()
			c.Close()
			return ErrServerClosed
		}
		s.wg.Add(1)
		if unavailable != "" {
			s.mu.Unlock()
			s.m.accepted.WithLabelValues("unavailable").Inc()
			go s.refuse(c, CloseSystemProblem, unavailable)
			continue
		}
		client := clientOf(c)
		if why := s.admit(client); why != "" {
			s.mu.Unlock()
			s.m.accepted.WithLabelValues("refused").Inc()
			go s.refuse(c, CloseResources, why)
			continue
		}
		s.open.Add(1)
		ss := newSession(s, c)
		ss.client = client
		s.sessions[ss] = struct{}{}
		s.byClient[client]++
		s.mu.Unlock()
		s.m.accepted.WithLabelValues("accepted").Inc()
		s.m.connections.WithLabelValues("open").Inc()
		go ss.run()
	}
}

// unavailable is Config.Unavailable's answer, "" without one.
func (s *Server) unavailable() string {
	if s.cfg.Unavailable == nil {
		return ""
	}
	return s.cfg.Unavailable()
}

// refuse tells a client it is not served (a Close of reason), and why,
// and drops it.
func (s *Server) refuse(c net.Conn, reason int, why string) {
	defer s.wg.Done()
	defer c.Close()
	b, err := EncodePDU(&Close{Reason: reason, Diagnostic: why})
	if err == nil {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(b)
		s.m.pdu("out", TagClose)
	}
}

// Shutdown stops accepting connections, sends every open association a
// Close (shutdown) once its current request is answered, and waits for
// them to end or ctx to be done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing.Store(true)
	for ln := range s.listeners {
		ln.Close()
	}
	for ss := range s.sessions {
		ss.wake()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for ss := range s.sessions {
			ss.cancel()
			ss.conn.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// OpenConnections returns the number of connections being served.
func (s *Server) OpenConnections() int { return int(s.open.Load()) }

// run serves one connection. A panic ends this connection only.
func (ss *session) run() {
	s := ss.srv
	defer func() {
		if r := recover(); r != nil {
			s.cfg.Log.Error("z3950: panic serving connection", "remote", ss.remote, "panic", r,
				"stack", string(debug.Stack()))
			ss.sendClose(CloseSystemProblem, "internal error")
		}
		// Uncounted before the socket closes, so that a client that saw
		// it close finds the slot free.
		s.mu.Lock()
		delete(s.sessions, ss)
		if s.byClient[ss.client]--; s.byClient[ss.client] <= 0 {
			delete(s.byClient, ss.client)
		}
		if ss.displaced.Load() {
			s.displacing--
		}
		s.open.Add(-1)
		s.mu.Unlock()
		s.m.connections.WithLabelValues("open").Dec()
		ss.cancel()
		ss.conn.Close()
		s.wg.Done()
	}()
	br := bufio.NewReaderSize(ss.conn, 4096)
	for {
		limit := s.cfg.MaxMessageSize
		if !ss.ready.Load() {
			limit = min(limit, maxInitPDU)
		}
		deadline := time.Now().Add(s.cfg.IdleTimeout)
		if !ss.ready.Load() {
			// The Init is due that long after the connection opened,
			// however slowly its bytes come.
			deadline = ss.accepted.Add(min(s.cfg.IdleTimeout, s.cfg.InitTimeout))
		}
		ss.conn.SetReadDeadline(deadline)
		// Checked after the deadline is set: Shutdown sets closing (and
		// admit displaced) before it wakes the session, so one of the two
		// is always seen.
		if s.closing.Load() {
			ss.sendClose(CloseShutdown, "server shutting down")
			return
		}
		if ss.displaced.Load() {
			ss.sendClose(CloseResources, "displaced by another client: too many connections waiting for their Init")
			return
		}
		frame, err := readFrame(br, limit)
		if err != nil {
			ss.readFailed(err)
			return
		}
		pdu, err := DecodePDU(frame)
		if err != nil {
			s.cfg.Log.Info("z3950: bad PDU", "remote", ss.remote, "err", err)
			ss.sendClose(CloseProtocolError, truncate(err.Error(), 200))
			return
		}
		s.m.pdu("in", pdu.Tag())
		out, closeAfter := ss.handle(pdu)
		for _, p := range out {
			if err := ss.send(p); err != nil {
				s.cfg.Log.Info("z3950: write failed", "remote", ss.remote, "err", err)
				return
			}
		}
		if closeAfter {
			return
		}
	}
}

// readFailed ends a connection whose next PDU could not be read.
func (ss *session) readFailed(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		// The client went away.
	case errors.As(err, &ne) && ne.Timeout():
		switch {
		case ss.srv.closing.Load():
			ss.sendClose(CloseShutdown, "server shutting down")
		case ss.displaced.Load():
			ss.sendClose(CloseResources, "displaced by another client: too many connections waiting for their Init")
		case !ss.ready.Load():
			ss.sendClose(CloseLackOfActivity, "no Init within "+ss.srv.cfg.InitTimeout.String())
		default:
			ss.sendClose(CloseLackOfActivity, "idle too long")
		}
	case errors.Is(err, ErrFrameTooLarge):
		ss.sendClose(CloseResources, truncate(err.Error(), 200))
	case errors.Is(err, io.ErrUnexpectedEOF):
	default:
		var fe *frameError
		if errors.As(err, &fe) {
			ss.srv.cfg.Log.Info("z3950: malformed BER", "remote", ss.remote, "err", err)
			ss.sendClose(CloseProtocolError, truncate(err.Error(), 200))
		}
	}
}

func (ss *session) send(p PDU) error {
	b, err := EncodePDU(p)
	if err != nil {
		// A response the codec cannot encode is a bug; tell the client.
		ss.srv.cfg.Log.Error("z3950: encode response", "err", err)
		b, err = EncodePDU(&Close{Reason: CloseSystemProblem, Diagnostic: "internal error"})
		if err != nil {
			return err
		}
		p = &Close{}
	}
	ss.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := ss.conn.Write(b); err != nil {
		return err
	}
	ss.srv.m.pdu("out", p.Tag())
	return nil
}

func (ss *session) sendClose(reason int, info string) {
	ss.send(&Close{Reason: reason, Diagnostic: info})
}

// wake interrupts a read waiting for the next PDU, so that the session
// notices the shutdown; a request being handled finishes first.
func (ss *session) wake() { ss.conn.SetReadDeadline(time.Now()) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// acceptsDatabase reports whether name is the served database.
func (s *Server) acceptsDatabase(name string) bool {
	return strings.EqualFold(name, s.cfg.Database) || strings.EqualFold(name, "Default")
}

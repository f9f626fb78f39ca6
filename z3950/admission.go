package z3950

import "net"

// Admission: which connections the server serves.
//
// A cataloguer must get in however many connections others hold open.
// So a client address holds at most MaxPerClient connections; a
// connection that has not completed its Init within InitTimeout is
// closed; and when all MaxConnections are taken, a new connection
// displaces the oldest one still waiting to send its Init, so idle
// connections that never Init cannot keep anyone out. Only when every
// connection has completed Init (MaxConnections working associations) is
// a new one refused. A displaced connection is told so (Close,
// resources) and closes at once; until it has, the open count may exceed
// MaxConnections by it.

// clientOf returns the address a connection's limits count by: its IP.
func clientOf(c net.Conn) string {
	addr := c.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// admit decides, under s.mu, whether to serve a new connection from
// client: "" when it is served (after displacing the oldest connection
// waiting for its Init, if every one is taken), else why not.
func (s *Server) admit(client string) (refused string) {
	if s.byClient[client] >= s.cfg.MaxPerClient {
		return "too many connections from this address"
	}
	if int(s.open.Load())-s.displacing < s.cfg.MaxConnections {
		return ""
	}
	var oldest *session
	for ss := range s.sessions {
		if ss.ready.Load() || ss.displaced.Load() {
			continue
		}
		if oldest == nil || ss.accepted.Before(oldest.accepted) {
			oldest = ss
		}
	}
	if oldest == nil {
		return "too many connections"
	}
	oldest.displaced.Store(true)
	s.displacing++
	oldest.wake()
	s.m.accepted.WithLabelValues("displaced").Inc()
	return ""
}

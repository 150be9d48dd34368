package handlers

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// A proxy missing from web.trusted_proxies is a quiet failure: its
// X-Forwarded-For is ignored, every witness behind it shares the proxy's one
// rate-limit bucket, and a few dozen posts from anyone close the form for
// everyone. So a request that carries X-Forwarded-For (or Forwarded) from a
// peer that is not trusted is counted, and logged once and then at most every
// untrustedLogEvery, without any address.

// untrustedLogEvery bounds how often an untrusted X-Forwarded-For is logged.
const untrustedLogEvery = 10 * time.Minute

// UntrustedForwardedCounter is implemented by metrics that count requests
// whose X-Forwarded-For came from a peer that is not a trusted proxy.
type UntrustedForwardedCounter interface {
	UntrustedForwarded()
}

type forwardedWatch struct {
	mu     sync.Mutex
	logged time.Time
	since  int // requests since the last log line
}

// noteForwarded counts and logs a forwarded request from an untrusted peer.
// Only the web form uses client addresses: without it nothing is checked.
func (s *Server) noteForwarded(r *http.Request) {
	if s.opt.Web.Channel == nil {
		return
	}
	if r.Header.Get("X-Forwarded-For") == "" && r.Header.Get("Forwarded") == "" {
		return
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && inNets(ip, s.opt.Web.TrustedProxies) {
		return
	}
	if c, ok := s.opt.Metrics.(UntrustedForwardedCounter); ok {
		c.UntrustedForwarded()
	}
	w := &s.fwd
	w.mu.Lock()
	w.since++
	n := w.since
	now := time.Now()
	due := w.logged.IsZero() || now.Sub(w.logged) >= untrustedLogEvery
	if due {
		w.logged, w.since = now, 0
	}
	w.mu.Unlock()
	if due {
		s.opt.Logger.Warn("web: X-Forwarded-For from a peer that is not a trusted proxy; the header is ignored and every client behind that proxy shares one rate-limit bucket",
			"requests", n, "hint", "list the reverse proxy's address in web.trusted_proxies (deploy/README.md)")
	}
}

package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// PublicHandler is GET /metrics on the gateway's public listener. With open
// (metrics.on_main_listener) it answers everyone; otherwise only a client
// on this machine that is not behind a proxy (the contract's GET /metrics,
// for a local scraper), and 404 to anyone else: tip counts per agency tell
// an onlooker when tips arrive. viaOnion reports a request of the onion
// service's own listener, whose connections come from the local Tor daemon
// on behalf of anyone on Tor.
func (m *Metrics) PublicHandler(open bool, viaOnion func(*http.Request) bool) http.Handler {
	h := m.Handler()
	if open {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !directLoopback(r) || viaOnion(r) {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// directLoopback reports whether r comes from this machine and was not
// forwarded by a proxy.
func directLoopback(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Timeouts of the metrics listener: a scrape is one small GET.
const (
	listenerHeaderTimeout = 5 * time.Second
	listenerReadTimeout   = 15 * time.Second
	listenerWriteTimeout  = 20 * time.Second
	listenerIdleTimeout   = 60 * time.Second
	listenerMaxHeader     = 16 << 10
)

// Listener serves GET /metrics alone on an address of its own
// (metrics.listen), off the public listener.
type Listener struct {
	srv  *http.Server
	addr net.Addr
	done chan struct{}
}

// Listen starts serving the metrics on addr. If serving fails later, the
// error is logged at once: the gateway goes on taking tips without its
// metrics listener.
func (m *Metrics) Listen(addr string, log *slog.Logger) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	l := &Listener{addr: ln.Addr(), done: make(chan struct{}), srv: &http.Server{
		Handler: mux, ReadHeaderTimeout: listenerHeaderTimeout, ReadTimeout: listenerReadTimeout,
		WriteTimeout: listenerWriteTimeout, IdleTimeout: listenerIdleTimeout, MaxHeaderBytes: listenerMaxHeader,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	log.Info("metrics listening", "listen", l.addr.String())
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics: the listener stopped; metrics are not served", "err", err)
		}
	}()
	return l, nil
}

// Addr is the address the metrics are served on.
func (l *Listener) Addr() net.Addr { return l.addr }

// Shutdown stops the listener, waiting for scrapes in flight until ctx
// ends.
func (l *Listener) Shutdown(ctx context.Context) error {
	if err := l.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	<-l.done
	return nil
}

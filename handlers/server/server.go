// Package server runs the gateway's HTTP listeners. It protects the
// gateway against slow and oversized clients (slowloris, huge headers)
// with timeouts and limits on every connection, and the reporter against
// a lost tip at shutdown: requests in flight, a tip being sealed and
// queued, are finished before the listener returns.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hotline-org/hotline/handlers"
)

// Timeouts and limits of every connection: a slow client cannot hold a
// connection open for long; a webhook answer never takes more than a few
// seconds.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 15 * time.Second
	WriteTimeout      = 20 * time.Second
	IdleTimeout       = 60 * time.Second
	MaxHeaderBytes    = 16 << 10
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout = 20 * time.Second
)

// Serve runs h on addr until ctx ends, then shuts down gracefully. ready,
// if set, is told the address once the listener is open.
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger, ready func(string)) error {
	srv := newServer(h, log)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to listen on %s: %w", addr, err)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	log.Info("listening", "listen", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Listener serves one handler in the background, for a listener of its
// own such as the metrics' (metrics.listen).
type Listener struct {
	srv  *http.Server
	addr net.Addr
	done chan struct{}
}

// Start serves h on addr in the background, with the timeouts of Serve. If
// serving fails later, the error is logged at once: the gateway goes on
// taking tips without this listener.
func Start(addr string, h http.Handler, log *slog.Logger) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", addr, err)
	}
	l := &Listener{srv: newServer(h, log), addr: ln.Addr(), done: make(chan struct{})}
	log.Info("listening", "listen", l.addr.String())
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("listener stopped", "listen", l.addr.String(), "err", err)
		}
	}()
	return l, nil
}

// Addr is the address the listener serves on.
func (l *Listener) Addr() net.Addr { return l.addr }

// Shutdown stops the listener, waiting for requests in flight until ctx
// ends.
func (l *Listener) Shutdown(ctx context.Context) error {
	if err := l.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-l.done
	return nil
}

func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, MaxHeaderBytes: MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// ServeWithOnion runs h on addr and, when onionAddr is set, on the onion
// service's own listener, whose requests (and only those) count in the
// onion rate limits. When one stops, both do.
func ServeWithOnion(ctx context.Context, addr, onionAddr string, h http.Handler, log *slog.Logger) error {
	if onionAddr == "" {
		return Serve(ctx, addr, h, log, nil)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() { errc <- Serve(ctx, addr, h, log, nil) }()
	go func() { errc <- Serve(ctx, onionAddr, handlers.ViaOnion(h), log.With("listener", "onion"), nil) }()
	err := <-errc
	cancel()
	return errors.Join(err, <-errc)
}

package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/handlers/server"
)

// startServer runs Serve with h on a free port until the test ends.
func startServer(t *testing.T, h http.Handler) (addr string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- server.Serve(ctx, "127.0.0.1:0", h, slog.New(slog.DiscardHandler), func(a string) { ready <- a })
	}()
	t.Cleanup(cancel)
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("Serve: %v", err)
	}
	return addr, cancel, errc
}

func TestSlowHeaderClientIsCutOff(t *testing.T) {
	addr, _, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	// A slowloris: the request line and one header, then nothing.
	if _, err := io.WriteString(c, "POST /twilio/sms HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(server.ReadHeaderTimeout + 5*time.Second))
	_, err = io.ReadAll(c) // returns when the server closes the connection
	took := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v: no header timeout", took)
	}
	if took < server.ReadHeaderTimeout-time.Second || took > server.ReadHeaderTimeout+3*time.Second {
		t.Fatalf("connection closed after %v, want about %v", took, server.ReadHeaderTimeout)
	}
}

func TestHugeHeadersGet431(t *testing.T) {
	addr, _, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/twilio/sms", strings.NewReader("a=b"))
	req.Header.Set("X-Padding", strings.Repeat("a", 4*server.MaxHeaderBytes))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d, want 431", resp.StatusCode)
	}
	// Headers just under the limit are fine.
	req, _ = http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", server.MaxHeaderBytes/2))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d for headers under the limit", resp.StatusCode)
	}
}

// TestShutdownFinishesInFlight: a request being processed when the server is
// told to stop is answered in full; Serve returns only then, and new
// connections are refused meanwhile.
func TestShutdownFinishesInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	addr, cancel, done := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release // a tip being sealed and queued
		io.WriteString(w, "queued")
	}))
	type result struct {
		status int
		body   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/twilio/sms", "text/plain", nil)
		if err != nil {
			res <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		res <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-entered
	cancel()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	default:
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Error("new connections accepted during shutdown")
	}
	close(release)
	r := <-res
	if r.err != nil || r.status != 200 || r.body != "queued" {
		t.Fatalf("in-flight request: %d %q %v", r.status, r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

func TestStartAndShutdown(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	l, err := server.Start("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "metrics")
	}), log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := server.Start(l.Addr().String(), http.NotFoundHandler(), log); err == nil || !strings.Contains(err.Error(), "failed to listen") {
		t.Fatalf("a second listener on the same address: %v", err)
	}
	resp, err := http.Get("http://" + l.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "metrics" {
		t.Fatalf("answer %q", b)
	}
	if err := l.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + l.Addr().String() + "/"); err == nil {
		t.Fatal("still serving after Shutdown")
	}
}

package main

// Timeouts and limits of the server as wired in serveHTTP, and the order of
// cheap and expensive work on the intake path.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// startServer runs serveHTTP with h on a free port until the test ends.
func startServer(t *testing.T, h http.Handler) (addr string, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- serveHTTP(ctx, "127.0.0.1:0", h, slog.New(slog.DiscardHandler), func(a string) { ready <- a })
	}()
	t.Cleanup(cancel)
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatalf("serveHTTP: %v", err)
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
	c.SetReadDeadline(time.Now().Add(readHeaderTimeout + 5*time.Second))
	_, err = io.ReadAll(c) // returns when the server closes the connection
	took := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection still open after %v: no header timeout", took)
	}
	if took < readHeaderTimeout-time.Second || took > readHeaderTimeout+3*time.Second {
		t.Fatalf("connection closed after %v, want about %v", took, readHeaderTimeout)
	}
}

func TestHugeHeadersGet431(t *testing.T) {
	addr, _, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/twilio/sms", strings.NewReader("a=b"))
	req.Header.Set("X-Padding", strings.Repeat("a", 4*maxHeaderBytes))
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
	req.Header.Set("X-Padding", strings.Repeat("a", maxHeaderBytes/2))
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
// told to stop is answered in full; serveHTTP returns only then, and new
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
		t.Fatalf("serveHTTP returned with a request in flight: %v", err)
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
		t.Fatalf("serveHTTP: %v", err)
	}
}

// countingIntake records whether any expensive work was asked for.
type countingIntake struct{ calls atomic.Int32 }

func (c *countingIntake) Submit(ctx context.Context, t gateway.Tip) (gateway.Receipt, error) {
	c.calls.Add(1)
	return gateway.Receipt{Case: "ABCD-EFGH"}, nil
}

// Receive lets the counting intake stand in for the SMS channel.
func (c *countingIntake) Receive(ctx context.Context, m sms.Message) (sms.Result, error) {
	r, err := c.Submit(ctx, gateway.Tip{Text: m.Body})
	return sms.Result{Outcome: sms.Queued, Case: r.Case}, err
}

func (c *countingIntake) Reply(ctx context.Context, agency, caseRef, tipID, officer, text, override string) error {
	return nil
}

func (c *countingIntake) DeliveryStatus(ctx context.Context, sid, status, code string) error {
	return nil
}

// TestCheapRejectionsComeFirst: forged, unsigned, oversized and malformed
// webhooks are answered without reaching the intake (no dedupe call to
// Redis, no locating, no sealing).
func TestCheapRejectionsComeFirst(t *testing.T) {
	const public = "https://hotline.example.org"
	token := []byte("limits-test-auth-token")
	var in countingIntake
	h := handlers.New(handlers.Options{Intake: &in, SMS: &in, PublicURL: public, AuthToken: token, MaxBody: 64 << 10})
	addr, _, _ := startServer(t, h)
	form := url.Values{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "From": {"+51987654321"}, "To": {"+15005550006"}, "Body": {"ayuda"}}
	for _, c := range []struct {
		name   string
		body   string
		ctype  string
		sig    string
		status int
	}{
		{"forged", form.Encode(), "application/x-www-form-urlencoded", handlers.TwilioSignature([]byte("wrong"), public+"/twilio/sms", form), 403},
		{"unsigned", form.Encode(), "application/x-www-form-urlencoded", "", 403},
		{"oversized", form.Encode() + "&Body=" + strings.Repeat("a", 80<<10), "application/x-www-form-urlencoded", "x", 413},
		{"not a form", `{"Body":"ayuda"}`, "application/json", handlers.TwilioSignature(token, public+"/twilio/sms", form), 400},
	} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/twilio/sms", strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ctype)
		if c.sig != "" {
			req.Header.Set("X-Twilio-Signature", c.sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d", c.name, resp.StatusCode, c.status)
		}
	}
	if n := in.calls.Load(); n != 0 {
		t.Fatalf("rejected requests reached the intake %d times", n)
	}
	// The control: a correctly signed one does reach it.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", handlers.TwilioSignature(token, public+"/twilio/sms", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || in.calls.Load() != 1 {
		t.Fatalf("signed request: %d, intake calls %d", resp.StatusCode, in.calls.Load())
	}
}

// gateSealer blocks every seal until released and records how many run at
// once.
type gateSealer struct {
	release      chan struct{}
	running, max atomic.Int32
}

func (g *gateSealer) ToAgency(agency string, plaintext []byte) ([]byte, error) {
	n := g.running.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			break
		}
	}
	<-g.release
	g.running.Add(-1)
	return []byte("sealed"), nil
}

// TestSealingIsBounded: a flood of tips seals at most MaxSealing at a time;
// the rest wait their turn holding only their (bounded) text, and all get
// through once sealing proceeds.
func TestSealingIsBounded(t *testing.T) {
	queuetest.New(t) // a real Redis, or a failure under CI
	const maxSealing, flood = 4, 200
	g := &gateSealer{release: make(chan struct{})}
	s := gatewaytest.New(t, func(o *gateway.Options) {
		o.Sealer = g
		o.MaxSealing = maxSealing
	})
	text := strings.Repeat("x", 16<<10)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	errs := make(chan error, flood)
	for i := range flood {
		wg.Go(func() {
			_, err := s.Intake.Submit(t.Context(), gateway.Tip{Channel: gateway.ChannelSMS, ProviderID: fmt.Sprintf("SMflood%06d", i),
				From: "+51987654321", To: gatewaytest.NumberLima, Text: text})
			errs <- err
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for g.running.Load() < maxSealing && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // give the others every chance to pile in
	var during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&during)
	if n := g.max.Load(); n != maxSealing {
		t.Fatalf("%d seals ran at once, want %d", n, maxSealing)
	}
	perTip := (int64(during.HeapAlloc) - int64(before.HeapAlloc)) / flood
	t.Logf("heap held per waiting tip of %d bytes: %d bytes", len(text), perTip)
	if perTip > 8*int64(len(text)) {
		t.Errorf("a waiting tip holds %d bytes for a %d-byte text", perTip, len(text))
	}
	close(g.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
	}
}

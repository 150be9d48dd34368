package main

// The order of cheap and expensive work on the intake path.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
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

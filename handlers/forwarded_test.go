package handlers

import (
	"bytes"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/web"
)

type countingMetrics struct {
	mu        sync.Mutex
	untrusted int
}

func (m *countingMetrics) Rejected(metrics.Route, metrics.Reason) {}
func (m *countingMetrics) UntrustedForwarded() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.untrusted++
}

// TestUntrustedForwardedIsCountedAndLoggedOnce: X-Forwarded-For from a peer
// outside web.trusted_proxies is counted every time and logged once (not per
// request), and the log line names no address; from a trusted proxy, or
// without the header, nothing is counted.
func TestUntrustedForwardedIsCountedAndLoggedOnce(t *testing.T) {
	k, err := pseudonym.New(bytes.Repeat([]byte("pepper-for-tests!"), 2))
	if err != nil {
		t.Fatal(err)
	}
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	var logs bytes.Buffer
	m := &countingMetrics{}
	s := New(Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: m,
		Web: WebOptions{Channel: web.New(web.Options{Keyer: k}), TrustedProxies: []*net.IPNet{proxies}}})
	get := func(peer, xff string) {
		r := httptest.NewRequest("GET", "/healthz", nil)
		r.RemoteAddr = peer + ":40000"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		s.ServeHTTP(httptest.NewRecorder(), r)
	}
	get("10.1.2.3", "198.51.100.23")   // the trusted proxy
	get("192.0.2.77", "")              // a direct client
	get("192.0.2.77", "198.51.100.23") // an untrusted proxy
	get("192.0.2.77", "198.51.100.24")
	if m.untrusted != 2 {
		t.Errorf("counted %d untrusted forwarded requests, want 2", m.untrusted)
	}
	out := logs.String()
	if n := strings.Count(out, "not a trusted proxy"); n != 1 {
		t.Errorf("logged %d warnings, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "web.trusted_proxies") {
		t.Errorf("the warning does not say what to set:\n%s", out)
	}
	for _, addr := range []string{"192.0.2", "198.51.100", "10.1.2.3"} {
		if strings.Contains(out, addr) {
			t.Errorf("an address (%s) in the log:\n%s", addr, out)
		}
	}
}

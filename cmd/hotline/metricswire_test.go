package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/config"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/handlers/server"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// wireDurable wires the gateway as serve does and starts its durability
// (the spool drain and the metrics listener), stopped when the test ends.
func wireDurable(t *testing.T, c *config.Config, rdb redis.UniversalClient, log *slog.Logger) *gatewayParts {
	t.Helper()
	parts, err := wire(context.Background(), c, rdb, log)
	if err != nil {
		t.Fatal(err)
	}
	stop, err := parts.dur.start(log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return parts
}

// TestMetricsWhereConfigured: metrics are served on metrics.listen; the
// public router answers GET /metrics with 404 unless
// metrics.on_main_listener is set, because tip counts per agency tell an
// onlooker when tips arrive.
func TestMetricsWhereConfigured(t *testing.T) {
	r := queuetest.New(t)
	t.Setenv("HOTLINE_PEPPER", faultPepper)
	t.Setenv("TWILIO_AUTH_TOKEN", faultToken)
	for _, onMain := range []bool{false, true} {
		t.Run(fmt.Sprint("on_main_listener=", onMain), func(t *testing.T) {
			metricsPort := queuetest.FreePort(t)
			c := loadFaultConfig(t, queuetest.FreePort(t), metricsPort, r.URL, r.Prefix, "")
			c.Metrics.OnMainListener = onMain
			parts := wireDurable(t, c, r.Client, slog.New(slog.DiscardHandler))

			rec := httptest.NewRecorder()
			parts.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			want := http.StatusNotFound
			if onMain {
				want = http.StatusOK
			}
			if rec.Code != want || (onMain && !strings.Contains(rec.Body.String(), "hotline_spool_records")) {
				t.Fatalf("GET /metrics on the main router: %d, want %d", rec.Code, want)
			}
			// A scraper on this machine, not behind a proxy, is always served
			// (the contract's GET /metrics); a forwarded request is not.
			local := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			local.RemoteAddr = "127.0.0.1:40000"
			rec = httptest.NewRecorder()
			parts.handler.ServeHTTP(rec, local)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "hotline_tips_queued_total") {
				t.Fatalf("GET /metrics from loopback: %d", rec.Code)
			}
			// The onion listener's connections come from the local Tor
			// daemon, on behalf of anyone on Tor.
			rec = httptest.NewRecorder()
			handlers.ViaOnion(parts.handler).ServeHTTP(rec, local)
			if rec.Code != want {
				t.Fatalf("GET /metrics through the onion listener: %d, want %d", rec.Code, want)
			}
			local.Header.Set("X-Forwarded-For", "203.0.113.7")
			rec = httptest.NewRecorder()
			parts.handler.ServeHTTP(rec, local)
			if rec.Code != want {
				t.Fatalf("GET /metrics through a proxy on loopback: %d, want %d", rec.Code, want)
			}

			base := fmt.Sprintf("http://127.0.0.1:%d", metricsPort)
			for path, want := range map[string]int{"/metrics": 200, "/": 404, "/readyz": 404, "/twilio/sms": 404} {
				resp, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("metrics listener GET %s: %d, want %d", path, resp.StatusCode, want)
				}
				if path == "/metrics" && !strings.Contains(string(b), `hotline_queue_depth{agency="pe-lima",priority="normal"}`) {
					t.Errorf("metrics listener lacks the queue depth:\n%s", b)
				}
			}
		})
	}
}

// TestOnionListener: with web.onion_listen the gateway serves a second
// listener for the onion service; the onion address is advertised on the
// main one only, and both stop together.
func TestOnionListener(t *testing.T) {
	r := queuetest.New(t)
	t.Setenv("HOTLINE_PEPPER", faultPepper)
	t.Setenv("TWILIO_AUTH_TOKEN", faultToken)
	port, onionPort := queuetest.FreePort(t), queuetest.FreePort(t)
	c := loadFaultConfig(t, port, queuetest.FreePort(t), r.URL, r.Prefix, "")
	c.Web.OnionAddress = "http://" + strings.Repeat("a", 56) + ".onion"
	c.Web.OnionListen = fmt.Sprintf("127.0.0.1:%d", onionPort)
	log := slog.New(slog.DiscardHandler)
	parts, err := wire(context.Background(), c, r.Client, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.ServeWithOnion(ctx, c.Listen, c.Web.OnionListen, parts.handler, log) }()
	get := func(port int, path string) *http.Response {
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, path))
			if err == nil {
				resp.Body.Close()
				return resp
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s on port %d: %v", path, port, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if resp := get(port, "/report"); resp.StatusCode != 200 || resp.Header.Get("Onion-Location") == "" {
		t.Errorf("main listener: %d, Onion-Location %q", resp.StatusCode, resp.Header.Get("Onion-Location"))
	}
	if resp := get(onionPort, "/report"); resp.StatusCode != 200 || resp.Header.Get("Onion-Location") != "" {
		t.Errorf("onion listener: %d, Onion-Location %q", resp.StatusCode, resp.Header.Get("Onion-Location"))
	}
	if resp := get(onionPort, "/metrics"); resp.StatusCode != 404 {
		t.Errorf("GET /metrics on the onion listener: %d, want 404", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serveListeners: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("listeners still serving after the context ended")
	}
}

// TestEmergencyNumberWired: agencies[].emergency in the config reaches the
// answer page of an urgent report routed to that agency; an agency without
// one gets no number, only what happens next.
func TestEmergencyNumberWired(t *testing.T) {
	r := queuetest.New(t)
	t.Setenv("HOTLINE_PEPPER", faultPepper)
	t.Setenv("TWILIO_AUTH_TOKEN", faultToken)
	for number, link := range map[string]string{"105": `href="tel:105"`, "+51 1 431-3040": `href="tel:&#43;511431-3040"`, "": ""} {
		t.Run("emergency="+number, func(t *testing.T) {
			c := loadFaultConfig(t, queuetest.FreePort(t), queuetest.FreePort(t), r.URL, r.Prefix, "")
			c.Agencies[0].Emergency = number
			parts := wireDurable(t, c, r.Client, slog.New(slog.DiscardHandler))
			form := url.Values{"lang": {"en"}, "message": {"people locked in a workshop"}, "position": {"-12.0464, -77.0428"}, "urgent": {"1"}}
			req := httptest.NewRequest(http.MethodPost, "/report", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			parts.handler.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != http.StatusOK || !strings.Contains(body, `id="sent"`) || !strings.Contains(body, `id="next"`) {
				t.Fatalf("POST /report: %d, want the answer page with what happens next", rec.Code)
			}
			if got := strings.Contains(body, `href="tel:`); got != (number != "") || !strings.Contains(body, link) {
				t.Errorf("the number shown: %v, want %v with %s", got, number != "", link)
			}
		})
	}
}

package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/gateway/metrics"
)

func TestPublicHandlerServesOnlyALocalScraper(t *testing.T) {
	m := metrics.New(metrics.Options{Agencies: []string{"pe-lima"}})
	onion := func(r *http.Request) bool { return r.Header.Get("Test-Onion") != "" }
	for _, c := range []struct {
		name   string
		open   bool
		remote string
		header string
		want   int
	}{
		{"remote", false, "203.0.113.7:4000", "", 404},
		{"loopback", false, "127.0.0.1:4000", "", 200},
		{"loopback v6", false, "[::1]:4000", "", 200},
		{"through a proxy on loopback", false, "127.0.0.1:4000", "X-Forwarded-For", 404},
		{"forwarded", false, "127.0.0.1:4000", "Forwarded", 404},
		{"x-real-ip", false, "127.0.0.1:4000", "X-Real-Ip", 404},
		{"onion listener", false, "127.0.0.1:4000", "Test-Onion", 404},
		{"remote, open", true, "203.0.113.7:4000", "", 200},
	} {
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.RemoteAddr = c.remote
		if c.header != "" {
			r.Header.Set(c.header, "203.0.113.7")
		}
		rec := httptest.NewRecorder()
		m.PublicHandler(c.open, onion).ServeHTTP(rec, r)
		if rec.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, rec.Code, c.want)
		}
	}
}

func TestListenerHandlerServesOnlyMetrics(t *testing.T) {
	m := metrics.New(metrics.Options{Agencies: []string{"pe-lima"}})
	for path, want := range map[string]int{"/metrics": 200, "/": 404, "/readyz": 404} {
		rec := httptest.NewRecorder()
		m.ListenerHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want || (want == 200 && !strings.Contains(rec.Body.String(), "hotline_")) {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/photo/phototest"
	"github.com/hotline-org/hotline/gateway/web"
	"github.com/hotline-org/hotline/handlers"
	dto "github.com/prometheus/client_model/go"
)

// TestWebJunkKeepsWitnessBucket reproduces issue 11: forty empty posts from
// a network spent its whole bucket, and the real witness on that network
// then got 429. Refused posts now count in a bucket of their own.
func TestWebJunkKeepsWitnessBucket(t *testing.T) {
	t.Run("forty empty posts, then a report", func(t *testing.T) {
		h := newWebHarness(t) // the default buckets: 30 reports, 120 refused posts an hour
		for i := range 40 {
			if r := h.post(t, formOf("message", " ")); r.status != 400 {
				t.Fatalf("empty post %d: status %d, want 400", i, r.status)
			}
		}
		receipt(t, h.post(t, formOf("message", "Nos tienen encerrados en la fábrica")))
	})
	t.Run("junk over its own bucket", func(t *testing.T) {
		h := newWebHarness(t, func(o *webConfig) {
			o.Channel.InvalidRateLimit = web.Rate{Count: 5, Period: time.Hour}
			o.Channel.PoW, o.Channel.PoWWait = web.PoWOff, 0
		})
		for i := range 5 {
			if r := h.post(t, formOf("message", "")); r.status != 400 {
				t.Fatalf("empty post %d: status %d, want 400", i, r.status)
			}
		}
		for _, f := range []webForm{formOf("message", ""), formOf("message", "x", "lat", "999", "lon", "0")} {
			if r := h.post(t, f); r.status != 429 {
				t.Errorf("refused post over the junk bucket: status %d, want 429", r.status)
			}
		}
		receipt(t, h.post(t, formOf("message", "a real report")))
	})
	t.Run("failed proof of work", func(t *testing.T) {
		clock := &fakeClock{time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
		h := newWebHarness(t, func(o *webConfig) {
			o.Channel.RateLimit = web.Rate{Count: 1, Period: time.Hour}
			o.Channel.PoW, o.Channel.PoWWait, o.Channel.Now = web.PoWAlways, 30*time.Second, clock.now
		})
		for range 3 {
			if r := h.post(t, formOf("message", "no work", "pow_token", "forged")); r.status != 429 || !strings.Contains(r.body, "wait") {
				t.Fatalf("unsolved challenge: status %d", r.status)
			}
		}
		m := regexp.MustCompile(`name="pow_token" value="([A-Za-z0-9_-]+)"`).FindStringSubmatch(h.do(t, "GET", "/report", "", nil).body)
		if m == nil {
			t.Fatal("no challenge on the form")
		}
		clock.advance(31 * time.Second) // a witness without JavaScript waits it out
		receipt(t, h.post(t, formOf("message", "a real report", "pow_token", m[1])))
	})
}

// TestWebOnionBucket: the onion rate limit applies to the requests that
// arrive through the onion listener, never because of a Host header.
func TestWebOnionBucket(t *testing.T) {
	h := newWebHarness(t, func(o *webConfig) {
		o.Web.OnionAddress = onion
		o.Channel.RateLimit = web.Rate{Count: 1, Period: time.Hour}
		o.Channel.OnionRateLimit = web.Rate{Count: 3, Period: time.Hour}
	})
	onionSrv := httptest.NewServer(handlers.ViaOnion(h.handler))
	t.Cleanup(onionSrv.Close)
	onionHost := strings.TrimPrefix(onion, "http://")
	send := func(base string, hdr ...string) int {
		ct, b := formOf("message", "ayuda").multipart()
		return h.doAt(t, base, "POST", "/report", ct, b, hdr...).status
	}
	// The clearnet listener with the onion's Host: the clearnet bucket (1).
	if s := send(h.srv.URL, "Host", onionHost); s != 200 {
		t.Fatalf("first clearnet report: %d", s)
	}
	if s := send(h.srv.URL, "Host", onionHost); s != 429 {
		t.Errorf("clearnet report with Host %s over the clearnet bucket: %d, want 429", onionHost, s)
	}
	// The onion listener: the onion bucket (3), whatever the Host.
	for i, host := range []string{onionHost, "127.0.0.1:8081", "hotline.example.org"} {
		if s := send(onionSrv.URL, "Host", host); s != 200 {
			t.Errorf("onion report %d: %d, want 200 (the clearnet bucket is spent, the onion one is not)", i, s)
		}
	}
	if s := send(onionSrv.URL); s != 429 {
		t.Errorf("onion report over the onion bucket: %d, want 429", s)
	}
	// The onion listener never sends Onion-Location (it is the onion site).
	if r := h.doAt(t, onionSrv.URL, "GET", "/report", "", nil); r.header.Get("Onion-Location") != "" {
		t.Error("Onion-Location on the onion listener")
	}
	if r := h.do(t, "GET", "/report", "", nil); r.header.Get("Onion-Location") == "" {
		t.Error("no Onion-Location on the clearnet listener")
	}
}

// TestWebRejectionsCounted: every refused web request is counted in
// hotline_rejected_total by reason (the 400s and 413s were not), on the
// web's route.
func TestWebRejectionsCounted(t *testing.T) {
	m := metrics.New(metrics.Options{})
	h := newWebHarness(t, func(o *webConfig) {
		o.Metrics = m
		o.Channel.MaxPhoto = 256 << 10
		o.Channel.InvalidRateLimit = web.Rate{Count: 7, Period: time.Hour}
	})
	big := formOf("message", "ok")
	big.photo = make([]byte, 300<<10)
	for _, tc := range []struct {
		send   func() webResponse
		status int
		reason string
	}{
		{func() webResponse { return h.post(t, formOf("message", " ")) }, 400, "bad_request"},
		{func() webResponse { return h.do(t, "POST", "/report", "text/plain", []byte("message=x")) }, 400, "bad_request"},
		{func() webResponse { return h.post(t, formOf("message", "x", "lat", "1", "lon", "999")) }, 400, "bad_request"},
		{func() webResponse { return h.post(t, formOf("message", strings.Repeat("x", 70<<10))) }, 413, "too_large"},
		{func() webResponse { return h.post(t, big) }, 413, "too_large"},
		{func() webResponse { return h.post(t, formOf("message", "x", "website", "spam")) }, 400, "honeypot"},
		// A follow-up opening counts in the refused bucket too.
		{func() webResponse {
			return h.do(t, "POST", "/followup", "application/x-www-form-urlencoded", []byte("code=AAAA"))
		}, 400, "bad_request"},
		{func() webResponse { return h.post(t, formOf("message", " ")) }, 429, "rate_limited"},
	} {
		before := rejected(t, m, tc.reason)
		if r := tc.send(); r.status != tc.status {
			t.Fatalf("status %d, want %d", r.status, tc.status)
		}
		if got := rejected(t, m, tc.reason); got != before+1 {
			t.Errorf("%d (%s): hotline_rejected_total{reason=%q} went from %v to %v, want one more", tc.status, tc.reason, tc.reason, before, got)
		}
	}
}

func rejected(t *testing.T, m *metrics.Metrics, reason string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != "hotline_rejected_total" {
			continue
		}
		web := 0.0
		for _, s := range f.GetMetric() {
			if labelOf(s, "reason") != reason {
				continue
			}
			if r, n := labelOf(s, "route"), s.GetCounter().GetValue(); r == "web" {
				web = n
			} else if n != 0 {
				t.Errorf("hotline_rejected_total{reason=%q} counted %v on route %q", reason, n, r)
			}
		}
		return web
	}
	return 0
}

func labelOf(s *dto.Metric, name string) string {
	for _, l := range s.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestWebJunkNeverSpendsReports: requests that queue nothing spend the
// network's refused bucket, never its reports (they did: thirty follow-up
// pages with a code that is not one, which any site can make its visitors
// load as images, or thirty posts of a "photo" that is not one, and a
// witness on the network got 429). A post with photos over the allowance
// is refused before they are cleaned. Another site's page can neither post
// a report nor try a code through its visitors' browsers.
func TestWebJunkNeverSpendsReports(t *testing.T) {
	h := newWebHarness(t, func(o *webConfig) {
		o.Channel.RateLimit = web.Rate{Count: 2, Period: time.Hour}
		o.Channel.InvalidRateLimit = web.Rate{Count: 100, Period: time.Hour}
	})
	for range 30 {
		if r := h.do(t, "GET", "/followup?code=x", "", nil); r.status != http.StatusBadRequest {
			t.Fatalf("a code that is not one: %d", r.status)
		}
		f := formOf("lang", "en", "message", "x")
		f.photo = []byte("not a photo")
		if r := h.post(t, f); r.status != http.StatusBadRequest {
			t.Fatalf("a photo that is not one: %d", r.status)
		}
	}
	img := phototest.JPEG(32, 32, phototest.EXIF{})
	f := formOf("lang", "en", "message", "Nos tienen encerrados en la fábrica")
	f.photo = img
	receipt(t, h.post(t, f))
	receipt(t, h.post(t, formOf("lang", "en", "message", "a second report")))
	// The allowance spent: a report with a photo is refused before its
	// photo is cleaned, as one without.
	if r := h.post(t, f); r.status != http.StatusTooManyRequests {
		t.Fatalf("over the allowance, with a photo: %d", r.status)
	}
	// Cross-site: refused, nothing queued, nothing counted.
	other := newWebHarness(t, func(o *webConfig) { o.Channel.RateLimit = web.Rate{Count: 1, Period: time.Hour} })
	_, code := receipt(t, other.post(t, formOf("lang", "en", "message", "the first report")))
	for _, r := range []webResponse{
		other.post(t, formOf("lang", "en", "message", "junk from another site"), "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"),
		other.do(t, "GET", "/followup?code="+code, "", nil, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Dest", "image"),
	} {
		if r.status != http.StatusBadRequest || strings.Contains(r.body, "junk from another site") {
			t.Fatalf("a cross-site request: %d", r.status)
		}
	}
	if n := other.Redis.Client.HLen(context.Background(), other.Redis.Prefix+":{"+gatewaytest.Lima+"}:meta").Val(); n != 1 {
		t.Fatalf("%d tips queued, want the first alone", n)
	}
	// The witness's own page, same-origin, still opens the thread.
	if r := other.do(t, "GET", "/followup?code="+code, "", nil, "Sec-Fetch-Site", "same-origin"); r.status != http.StatusOK {
		t.Fatalf("the witness's follow-up: %d", r.status)
	}
}

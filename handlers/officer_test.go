package handlers_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/handlers"
)

func TestOfficerAPIFlow(t *testing.T) {
	h := newHarness(t)
	lima := h.officer(t, "pe-lima")
	lima2 := h.officer(t, "pe-lima")
	kl := h.officer(t, "my-kl")
	if s, b := h.postSMS(t, smsForm("SMapi", "+51987654321", "vimos algo raro"), addValidSignature); s != 200 {
		t.Fatalf("webhook: %d %s", s, b)
	}

	if s, _ := h.api(t, "POST", "/api/v1/tips/claim", kl, "{}"); s != http.StatusNoContent {
		t.Fatalf("other agency's claim: %d, want 204 (sees nothing)", s)
	}
	tip, body := h.claimTipBody(t, lima)
	if tip.Agency != "pe-lima" || tip.Channel != "sms" || tip.Priority != "normal" || tip.Case == "" || tip.LeaseUntil.IsZero() {
		t.Fatalf("claimed tip = %+v", tip)
	}
	if strings.Contains(body, "vimos algo raro") || strings.Contains(body, "987654321") {
		t.Fatalf("the API answered with clear content: %s", body)
	}
	plain, err := seal.Open(tip.Sealed, h.Identities["pe-lima"])
	if err != nil || !strings.Contains(string(plain), "vimos algo raro") {
		t.Fatalf("open: %v", err)
	}

	forbidden := []struct{ method, path, token string }{
		{"POST", "/api/v1/agencies/pe-lima/tips/claim", kl},
		{"POST", "/api/v1/agencies/pe-lima/tips/" + tip.ID + "/ack", kl},
		{"POST", "/api/v1/agencies/pe-lima/tips/" + tip.ID + "/release", kl},
		{"POST", "/api/v1/agencies/pe-lima/tips/" + tip.ID + "/renew", kl},
	}
	for _, f := range forbidden {
		if s, b := h.api(t, f.method, f.path, f.token, `{"disposition":"dispatched"}`); s != http.StatusForbidden {
			t.Errorf("%s %s with another agency's token: %d %s, want 403", f.method, f.path, s, b)
		}
	}
	if s, _ := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/ack", kl, `{"disposition":"dispatched"}`); s != http.StatusNotFound {
		t.Errorf("ack in own agency scope of a foreign tip: %d, want 404", s)
	}
	if s, _ := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/ack", lima2, `{"disposition":"dispatched"}`); s != http.StatusConflict {
		t.Errorf("ack by a colleague who does not hold it: %d, want 409", s)
	}
	if s, _ := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/ack", lima, `{"disposition":"lunch"}`); s != http.StatusBadRequest {
		t.Errorf("unknown disposition: %d, want 400", s)
	}
	if s, _ := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/ack", lima, `{"disposition":"dispatched","x":1}`); s != http.StatusBadRequest {
		t.Errorf("unknown field: %d, want 400", s)
	}
	if s, _ := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/renew", lima, `{}`); s != 200 {
		t.Errorf("renew: %d", s)
	}
	if s, b := h.api(t, "POST", "/api/v1/agencies/pe-lima/tips/"+tip.ID+"/release", lima, `{}`); s != 200 {
		t.Fatalf("release: %d %s", s, b)
	}
	s, body := h.api(t, "POST", "/api/v1/tips/claim", lima2, "{}")
	if s != 200 || !strings.Contains(body, tip.ID) {
		t.Fatalf("colleague's claim after release: %d %s", s, body)
	}
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/ack", lima2, `{"disposition":"dispatched"}`); s != 200 {
		t.Fatalf("ack: %d %s", s, b)
	}
	if s, _ := h.api(t, "POST", "/api/v1/tips/claim", lima, "{}"); s != http.StatusNoContent {
		t.Fatalf("claim after ack: %d, want 204", s)
	}
}

func TestOfficerAPIAuth(t *testing.T) {
	h := newHarness(t)
	good := h.officer(t, "pe-lima")
	revoked := h.revokedOfficer(t, "pe-lima")
	routes := []string{"/api/v1/me", "/api/v1/tips/claim", "/api/v1/tips/x/ack", "/api/v1/tips/x/release",
		"/api/v1/tips/x/renew", "/api/v1/agencies/pe-lima/tips/claim"}
	for _, r := range routes {
		method := "POST"
		if r == "/api/v1/me" {
			method = "GET"
		}
		for name, tok := range map[string]string{"none": "", "garbage": "hlo_nope", "revoked": revoked, "basic": ""} {
			req, _ := http.NewRequest(method, h.srv.URL+r, strings.NewReader(`{"disposition":"dispatched"}`))
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			if name == "basic" {
				req.SetBasicAuth("officer", good)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s with %s token: %d, want 401 with WWW-Authenticate", method, r, name, resp.StatusCode)
			}
		}
	}
	if s, b := h.api(t, "GET", "/api/v1/me", good, ""); s != 200 || !strings.Contains(b, `"agency":"pe-lima"`) {
		t.Fatalf("me: %d %s", s, b)
	}
}

func TestHeadersOnEveryResponse(t *testing.T) {
	h := newHarness(t)
	token := h.officer(t, "pe-lima")
	cases := []struct {
		method, path, token string
		form                url.Values
	}{
		{"GET", "/healthz", "", nil},
		{"GET", "/readyz", "", nil},
		{"GET", "/nope/../../etc/passwd", "", nil},
		{"DELETE", "/twilio/sms", "", nil},
		{"POST", "/twilio/sms", "", smsForm("SMh", "+51987654321", "x")},
		{"GET", "/api/v1/me", "", nil},
		{"GET", "/api/v1/me", token, nil},
		{"POST", "/api/v1/tips/claim", token, nil},
	}
	for _, c := range cases {
		var body string
		if c.form != nil {
			body = c.form.Encode()
		}
		req, _ := http.NewRequest(c.method, h.srv.URL+c.path, strings.NewReader(body))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		if c.form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for k, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
			"Cache-Control": "no-store",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("%s %s (%d): %s = %q, want %q", c.method, c.path, resp.StatusCode, k, got, want)
			}
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s %s: CSP = %q", c.method, c.path, resp.Header.Get("Content-Security-Policy"))
		}
		if len(resp.Cookies()) > 0 || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s %s sets a cookie", c.method, c.path)
		}
	}
}

func TestReadiness(t *testing.T) {
	h := newHarness(t)
	if s, _ := h.api(t, "GET", "/readyz", "", ""); s != 200 {
		t.Fatalf("readyz with Redis: %d", s)
	}
	h.Redis.Client.Close()
	if s, _ := h.api(t, "GET", "/readyz", "", ""); s != http.StatusServiceUnavailable {
		t.Fatalf("readyz without Redis: %d, want 503", s)
	}
	if s, _ := h.api(t, "GET", "/healthz", "", ""); s != 200 {
		t.Fatalf("healthz: %d", s)
	}
}

// TestEveryAPIRouteRefusesBadTokens walks the router: every officer-API
// route, with no token, a garbage one, a revoked one, and (on the routes
// that name an agency) another agency's, is refused as it should be, and
// nothing is written to Redis; openapi.yaml documents each answer. Every
// 401 is counted in hotline_rejected_total as unauthorized, so that token
// guessing shows.
func TestEveryAPIRouteRefusesBadTokens(t *testing.T) {
	rejects := &countRejects{m: map[metrics.Reason]int{}}
	h := newHarness(t, func(o *handlers.Options) { o.Metrics = rejects })
	revoked := h.revokedOfficer(t, "pe-lima")
	kl := h.officer(t, "my-kl")
	before := h.Redis.Keys(t)
	sort.Strings(before)
	type route struct{ method, path string }
	var routes []route
	handlers.RouterForTest(h.h).Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := r.GetPathTemplate()
		methods, merr := r.GetMethods()
		if err != nil || merr != nil || !strings.HasPrefix(tpl, "/api/v1/") || tpl == "/api/v1/openapi.yaml" {
			return nil
		}
		path := strings.NewReplacer("{agency}", "pe-lima", "{id}", "abcdefghijklmnopqrstuvwxyz").Replace(tpl)
		for _, m := range methods {
			if m != http.MethodHead {
				routes = append(routes, route{m, path})
			}
		}
		return nil
	})
	if len(routes) < 25 {
		t.Fatalf("only %d routes walked", len(routes))
	}
	body := `{"disposition":"dispatched","reason":"urgent","text":"x","agency":"my-kl","sealed":"eA=="}`
	unauthorized := 0
	for _, r := range routes {
		for name, tok := range map[string]string{"none": "", "garbage": "hlo_garbage_token", "revoked": revoked} {
			s, b := h.api(t, r.method, r.path, tok, body)
			if s != http.StatusUnauthorized || strings.Contains(b, "abcdefghij") {
				t.Errorf("%s %s with %s token: %d %q, want 401", r.method, r.path, name, s, b)
			}
			unauthorized++
			checkDocumented(t, h, r.method, r.path, s, b)
		}
		if strings.Contains(r.path, "/agencies/pe-lima/") {
			s, b := h.api(t, r.method, r.path, kl, body)
			if s != http.StatusForbidden {
				t.Errorf("%s %s with another agency's token: %d, want 403", r.method, r.path, s)
			}
			checkDocumented(t, h, r.method, r.path, s, b)
		}
	}
	after := h.Redis.Keys(t)
	sort.Strings(after)
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Fatalf("refused requests wrote to Redis:\nbefore %v\nafter  %v", before, after)
	}
	if got := rejects.get(metrics.Unauthorized); got != unauthorized {
		t.Errorf("%d refusals counted as unauthorized, want %d (one per 401)", got, unauthorized)
	}
}

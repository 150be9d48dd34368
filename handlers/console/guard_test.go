package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// stubAPI is a gateway with an empty queue, for the console's own checks.
type stubAPI struct {
	mu      sync.Mutex
	renewed []string
	claims  int
	role    string
	tip     *officerapi.Listed
	list    []officerapi.Listed
	// me, if set, is who the token belongs to, with the gateway's deadlines.
	me *officerapi.Officer
}

func (s *stubAPI) Me(context.Context) (officerapi.Officer, error) {
	if s.me != nil {
		return *s.me, nil
	}
	role := s.role
	if role == "" {
		role = "officer"
	}
	return officerapi.Officer{ID: "o1", Agency: "pe-lima", Name: "Demo", Role: role}, nil
}
func (s *stubAPI) List(context.Context) ([]officerapi.Listed, error)     { return s.list, nil }
func (s *stubAPI) Counts(context.Context) (officerapi.Counts, error)     { return officerapi.Counts{}, nil }
func (s *stubAPI) Agencies(context.Context) ([]officerapi.Agency, error) { return nil, nil }
func (s *stubAPI) Next(context.Context, *seal.Identities) (*officerapi.Claimed, *gateway.Report, error) {
	s.claims++
	return nil, nil, nil
}
func (s *stubAPI) Tip(_ context.Context, id string) (officerapi.Listed, error) {
	if s.tip != nil && s.tip.ID == id {
		return *s.tip, nil
	}
	return officerapi.Listed{}, &officerapi.Error{Status: 404, Message: "not found"}
}
func (s *stubAPI) OpenNotes(context.Context, string, *seal.Identities) ([]officerapi.OpenedNote, error) {
	return nil, nil
}
func (s *stubAPI) Note(context.Context, string, string, time.Time) (officerapi.Answer, officerapi.Agency, error) {
	return nil, officerapi.Agency{}, nil
}
func (s *stubAPI) Ack(context.Context, string, string) (officerapi.Answer, error) { return nil, nil }
func (s *stubAPI) Release(context.Context, string) (officerapi.Answer, error)     { return nil, nil }
func (s *stubAPI) Renew(_ context.Context, id string) (officerapi.Answer, error) {
	s.mu.Lock()
	s.renewed = append(s.renewed, id)
	s.mu.Unlock()
	return nil, nil
}
func (s *stubAPI) renewedIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.renewed)
}
func (s *stubAPI) Escalate(context.Context, string, string) (officerapi.Answer, error) {
	return nil, nil
}
func (s *stubAPI) TransferTo(context.Context, string, string, *seal.Identities) (officerapi.Transferred, error) {
	return officerapi.Transferred{}, nil
}
func (s *stubAPI) Reply(context.Context, string, officerapi.Reply) (officerapi.Answer, error) {
	return nil, nil
}
func (s *stubAPI) Audit(context.Context, string, int) ([]officerapi.AuditEntry, error) {
	return nil, nil
}
func (s *stubAPI) VerifyAudit(context.Context) (officerapi.AuditVerification, error) {
	return officerapi.AuditVerification{OK: true, Entries: 7}, nil
}
func (s *stubAPI) Officers(context.Context) ([]officerapi.OfficerInfo, error) {
	return []officerapi.OfficerInfo{{ID: "o1", Name: "<b>Demo</b>", Role: "supervisor", Agency: "pe-lima", Token: "active"},
		{ID: "o2", Name: "Other", Role: "officer", Agency: "pe-lima", Token: "revoked", LastUsed: time.Date(2026, 3, 2, 23, 59, 0, 0, time.UTC)}}, nil
}
func (s *stubAPI) Watch(ctx context.Context, fn func(officerapi.Event) bool) error {
	<-ctx.Done()
	return nil
}

const testHost = "127.0.0.1:40404"

func newTestConsole(t testing.TB) (*Console, *stubAPI) {
	t.Helper()
	return newTestConsoleWith(t, &stubAPI{}, nil)
}

func newTestConsoleWith(t testing.TB, api *stubAPI, ids *seal.Identities) (*Console, *stubAPI) {
	t.Helper()
	c, err := New(context.Background(), Options{API: api, Identities: ids})
	if err != nil {
		t.Fatal(err)
	}
	c.SetHost(testHost)
	return c, api
}

type req struct {
	method, path, host string
	cookie             string
	hdr                map[string]string
	form               url.Values
}

func (c *Console) serve(r req) *httptest.ResponseRecorder {
	var body *strings.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	} else {
		body = strings.NewReader("")
	}
	hr := httptest.NewRequest(r.method, "http://"+testHost+r.path, body)
	hr.Host = r.host
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.cookie != "" {
		hr.AddCookie(&http.Cookie{Name: cookieName, Value: r.cookie})
	}
	for k, v := range r.hdr {
		hr.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	c.Handler().ServeHTTP(w, hr)
	return w
}

// login exchanges the one-time URL and returns the session cookie and the
// form token.
func login(t *testing.T, c *Console) (cookie, form string) {
	t.Helper()
	u, _ := url.Parse(c.OneTimeURL())
	w := c.serve(req{method: "GET", path: "/?" + u.RawQuery, host: testHost})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Fatalf("one-time URL: %d %q", w.Code, w.Header().Get("Location"))
	}
	ck := w.Result().Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Path != "/" {
		t.Fatalf("cookie: %+v", ck)
	}
	for _, s := range c.sess {
		form = s.form
	}
	return ck[0].Value, form
}

// TestConsoleRefuses: every request without the session cookie, a reused
// one-time URL, a foreign Host (DNS rebinding) and a cross-origin POST are
// 403; every answer, refusals too, carries the strict headers.
func TestConsoleRefuses(t *testing.T) {
	c, api := newTestConsole(t)
	u, _ := url.Parse(c.OneTimeURL())
	if w := c.serve(req{method: "GET", path: "/?token=" + strings.Repeat("A", 43), host: testHost}); w.Code != http.StatusForbidden {
		t.Fatalf("wrong secret: %d", w.Code)
	}
	if w := c.serve(req{method: "GET", path: "/?" + u.RawQuery, host: "evil.example:40404"}); w.Code != http.StatusForbidden {
		t.Fatalf("one-time URL through a foreign Host: %d", w.Code)
	}
	cookie, form := login(t, c)
	origin := map[string]string{"Origin": "http://" + testHost}
	cases := []struct {
		name string
		r    req
		want int
	}{
		{"queue with the cookie", req{method: "GET", path: "/", host: testHost, cookie: cookie}, 200},
		{"its script", req{method: "GET", path: "/static/console.js", host: testHost, cookie: cookie}, 200},
		{"no listing of its files", req{method: "GET", path: "/static/", host: testHost, cookie: cookie}, 404},
		{"no such file (the file server's own error)", req{method: "GET", path: "/static/nope.js", host: testHost, cookie: cookie}, 404},
		{"a range past its script's end", req{method: "GET", path: "/static/console.js", host: testHost, cookie: cookie,
			hdr: map[string]string{"Range": "bytes=999999-"}}, 416},
		{"localhost is the console too", req{method: "GET", path: "/", host: "localhost:40404", cookie: cookie}, 200},
		{"no cookie", req{method: "GET", path: "/", host: testHost}, 403},
		{"no cookie, static file", req{method: "GET", path: "/static/console.js", host: testHost}, 403},
		{"no cookie, events", req{method: "GET", path: "/events", host: testHost}, 403},
		{"a case's events from a page on another port (it would renew the lease)", req{method: "GET", path: "/events?case=tip1",
			host: testHost, cookie: cookie, hdr: map[string]string{"Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-site"}}, 403},
		{"a case's events, same-site without Origin", req{method: "GET", path: "/events?case=tip1",
			host: testHost, cookie: cookie, hdr: map[string]string{"Sec-Fetch-Site": "same-site"}}, 403},
		{"a case's events, no Origin nor Sec-Fetch-Site", req{method: "GET", path: "/events?case=tip1",
			host: testHost, cookie: cookie}, 403},
		{"no cookie, media", req{method: "GET", path: "/media/x", host: testHost}, 403},
		{"wrong cookie", req{method: "GET", path: "/", host: testHost, cookie: cookie + "x"}, 403},
		{"reused one-time URL", req{method: "GET", path: "/?" + u.RawQuery, host: testHost}, 403},
		{"reused one-time URL with the cookie", req{method: "GET", path: "/?" + u.RawQuery, host: testHost, cookie: cookie}, 403},
		{"foreign Host", req{method: "GET", path: "/", host: "evil.example:40404", cookie: cookie}, 403},
		{"foreign Host, same IP, other port", req{method: "GET", path: "/", host: "127.0.0.1:1", cookie: cookie}, 403},
		{"no Host", req{method: "GET", path: "/", host: "", cookie: cookie}, 403},
		{"cross-origin POST", req{method: "POST", path: "/claim", host: testHost, cookie: cookie,
			hdr: map[string]string{"Origin": "http://evil.example"}, form: url.Values{"form": {form}}}, 403},
		{"cross-site POST without Origin", req{method: "POST", path: "/claim", host: testHost, cookie: cookie,
			hdr: map[string]string{"Sec-Fetch-Site": "cross-site"}, form: url.Values{"form": {form}}}, 403},
		{"POST from a foreign Referer", req{method: "POST", path: "/claim", host: testHost, cookie: cookie,
			hdr: map[string]string{"Referer": "http://127.0.0.1:404040/"}, form: url.Values{"form": {form}}}, 403},
		{"Origin null, cross-site", req{method: "POST", path: "/claim", host: testHost, cookie: cookie,
			hdr: map[string]string{"Origin": "null", "Sec-Fetch-Site": "cross-site"}, form: url.Values{"form": {form}}}, 403},
		{"Origin null, no Sec-Fetch-Site", req{method: "POST", path: "/claim", host: testHost, cookie: cookie,
			hdr: map[string]string{"Origin": "null"}, form: url.Values{"form": {form}}}, 403},
		{"POST without the form token", req{method: "POST", path: "/claim", host: testHost, cookie: cookie, hdr: origin, form: url.Values{}}, 403},
		{"POST without the cookie", req{method: "POST", path: "/claim", host: testHost, hdr: origin, form: url.Values{"form": {form}}}, 403},
		{"same-origin POST", req{method: "POST", path: "/claim", host: testHost, cookie: cookie, hdr: origin, form: url.Values{"form": {form}}}, 303},
		{"form post under no-referrer: Origin null, same-origin", req{method: "POST", path: "/claim", host: testHost, cookie: cookie,
			hdr: map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}, form: url.Values{"form": {form}}}, 303},
		{"same-origin POST, no Origin, Sec-Fetch-Site", req{method: "POST", path: "/claim", host: testHost, cookie: cookie,
			hdr: map[string]string{"Sec-Fetch-Site": "same-origin"}, form: url.Values{"form": {form}}}, 303},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := c.serve(tc.r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d", w.Code, tc.want)
			}
			h := w.Header()
			if h.Get("Content-Security-Policy") != CSP || h.Get("Cache-Control") != "no-store" ||
				h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
				t.Fatalf("headers: %v", h)
			}
		})
	}
	if api.claims != 3 {
		t.Fatalf("%d claims reached the gateway, want the 3 same-origin POSTs", api.claims)
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	for _, a := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.org:0", ":0"} {
		if l, err := Listen(a); err == nil {
			l.Close()
			t.Errorf("Listen(%q) accepted", a)
		}
	}
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

func TestCleanNeutralises(t *testing.T) {
	in := "call \u202e1234\u202c now\x00\x1b[31m\r\nok\u2028\xff"
	got := clean(in)
	want := "call \uFFFD1234\uFFFD now\uFFFD\uFFFD[31m\nok\n\uFFFD"
	if got != want {
		t.Fatalf("clean(%q) = %q, want %q", in, got, want)
	}
}

func TestTranslationsComplete(t *testing.T) {
	tr, err := loadTranslations()
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.pick("ms-MY,ms;q=0.9"); got != "ms" {
		t.Errorf("ms-MY: %s", got)
	}
	if got := tr.pick("es-PE"); got != "es" {
		t.Errorf("es-PE: %s", got)
	}
	if got := tr.pick("th"); got != "en" {
		t.Errorf("th: %s", got)
	}
}

// TestEveryTextTranslated: every message the templates and the code name
// is in the catalogs (which TestTranslationsComplete checks in every
// language), the choices of the forms included.
func TestEveryTextTranslated(t *testing.T) {
	tr, err := loadTranslations()
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	re := regexp.MustCompile(`\.T "([a-z_.]+)"|v\.T\("([a-z_.]+)"[,)]`)
	for _, dir := range []string{"templates", "."} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.*"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, _ := os.ReadFile(f)
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				used = append(used, m[1]+m[2])
			}
		}
	}
	for _, d := range dispositions {
		used = append(used, "disp."+d)
	}
	for _, r := range reasons {
		used = append(used, "reason."+r)
	}
	for _, o := range overrides {
		used = append(used, "override."+o)
	}
	if len(used) < 100 {
		t.Fatalf("found only %d uses", len(used))
	}
	for _, k := range used {
		if _, ok := tr.msgs["en"][k]; !ok {
			t.Errorf("%s is not in the catalogs", k)
		}
	}
}

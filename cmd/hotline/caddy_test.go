package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue/queuetest"
)

// Two witnesses' addresses on loopback, in different /24 networks: the form's
// rate limit is per network (the HMAC of the /24), so 127.0.0.2 and
// 127.0.0.3 would rightly share a bucket.
const (
	flooderAddr = "127.0.1.2"
	witnessAddr = "127.0.2.3"
)

// clientFrom is an HTTP client whose connections leave from the loopback
// address src.
func clientFrom(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 3 * time.Second}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestThroughShippedCaddy runs the gateway behind the real Caddy with the
// shipped deploy/Caddyfile (only the upstream, the site address and the ports
// set through its environment variables), and the gateway trusting exactly
// that proxy: the security headers arrive, /metrics and the health routes
// are not reachable through it, and a flood of form posts from one client
// address (each with a forged X-Forwarded-For) is limited and does not limit
// a witness at another address.
func TestThroughShippedCaddy(t *testing.T) {
	caddy := queuetest.NeedProgram(t, "caddy")
	r := queuetest.New(t)
	t.Setenv("HOTLINE_PEPPER", faultPepper)
	t.Setenv("TWILIO_AUTH_TOKEN", faultToken)
	gwPort, caddyPort := queuetest.FreePort(t), queuetest.FreePort(t)
	// The gateway trusts exactly the proxy (Caddy connects from 127.0.0.1);
	// a small bucket keeps the flood short.
	c := loadFaultConfig(t, gwPort, queuetest.FreePort(t), r.URL, r.Prefix,
		"web:\n  trusted_proxies: [127.0.0.1]\n  rate_limit: 3-H\n  pow: \"off\"\n")
	logs := &queuetest.SyncBuffer{}
	parts := wireDurable(t, c, r.Client, slog.New(slog.NewJSONHandler(logs, nil)))
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", gwPort))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: parts.handler, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	caddyDir := t.TempDir()
	cmd := exec.Command(caddy, "run", "--adapter", "caddyfile", "--config", "../../deploy/Caddyfile")
	cmd.Env = append(os.Environ(),
		"HOTLINE_DOMAIN="+fmt.Sprintf("http://127.0.0.1:%d", caddyPort),
		"HOTLINE_UPSTREAMS="+fmt.Sprintf("127.0.0.1:%d", gwPort),
		"HOTLINE_ONION_PORT="+fmt.Sprint(queuetest.FreePort(t)),
		// The onion site is not exercised here: its upstream is a closed port on loopback, so
		// Caddy resolves no compose name.
		"HOTLINE_ONION_UPSTREAMS="+fmt.Sprintf("127.0.0.1:%d", queuetest.FreePort(t)),
		"CADDY_ADMIN="+fmt.Sprintf("127.0.0.1:%d", queuetest.FreePort(t)),
		"HOME="+caddyDir, "XDG_DATA_HOME="+caddyDir, "XDG_CONFIG_HOME="+caddyDir)
	caddyLog := &queuetest.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = caddyLog, caddyLog
	if err := cmd.Start(); err != nil {
		t.Fatalf("start caddy: %v", err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("caddy:\n%s\ngateway:\n%s", tail(caddyLog.String(), 30), tail(logs.String(), 30))
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", caddyPort)
	witness, flooder := clientFrom(witnessAddr), clientFrom(flooderAddr)
	waitFor(t, 20*time.Second, "caddy to serve /report", func() bool {
		resp, err := witness.Get(base + "/report")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	// Headers, from Caddy and from the gateway.
	resp, err := witness.Get(base + "/report")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for h, want := range map[string]string{
		"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"X-Frame-Options":           "DENY",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("through Caddy, %s = %q, want %q", h, got, want)
		}
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("through Caddy, the gateway's Content-Security-Policy is missing")
	}
	if s := resp.Header.Get("Server"); s != "" {
		t.Errorf("through Caddy, Server = %q, want none", s)
	}

	// The operator's routes are not on the internet.
	for _, p := range []string{"/metrics", "/readyz", "/healthz"} {
		resp, err := witness.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "hotline_") {
			t.Errorf("GET %s through Caddy: %d, want 404", p, resp.StatusCode)
		}
	}

	post := func(c *http.Client, msg, forged string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, base+"/report", strings.NewReader(url.Values{"message": {msg}, "lang": {"en"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if forged != "" {
			req.Header.Set("X-Forwarded-For", forged)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The flood from one address meets the limit, though each post claims another address in
	// an X-Forwarded-For of its own...
	limited := false
	for i := range 10 {
		if code, _ := post(flooder, fmt.Sprintf("flood %d", i), fmt.Sprintf("203.0.%d.7", 113+i)); code == http.StatusTooManyRequests {
			limited = true
			break
		} else if code != http.StatusOK {
			t.Fatalf("flood post %d: %d", i, code)
		}
	}
	if !limited {
		t.Fatal("ten posts from one address were never limited: the test would show nothing")
	}
	// ...and a witness elsewhere is not limited by it.
	code, body := post(witness, "there are twelve people locked in a house", "")
	if code != http.StatusOK || !regexp.MustCompile(`id="case">[2-9A-Z]{4}-[2-9A-Z]{4}<`).MatchString(body) {
		t.Errorf("the witness at another address after the flood: %d, want 200 with a receipt", code)
	}
	if strings.Contains(logs.String(), "not a trusted proxy") {
		t.Error("the gateway does not trust the shipped proxy's X-Forwarded-For")
	}
}

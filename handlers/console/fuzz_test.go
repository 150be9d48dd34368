package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzGuard: whatever a page of the officer's browser (or a program of the
// machine) sends as one-time secret, cookie, Host, Origin and form, nothing
// but the console's own session gets past the guard, and nothing crashes.
func FuzzGuard(f *testing.F) {
	f.Add("", "", testHost, "", "", "GET")
	f.Add(strings.Repeat("A", 43), "x", testHost, "http://"+testHost, "form=x", "POST")
	f.Add("%zz", "\x00", "localhost:40404", "null", "form=%", "POST")
	f.Fuzz(func(t *testing.T, token, cookie, host, origin, body, method string) {
		c, _ := newTestConsole(t)
		if method != "GET" && method != "POST" {
			method = "GET"
		}
		r := req{method: method, path: "/", host: host, cookie: cookie, hdr: map[string]string{}}
		if token != "" {
			r.path = "/?token=" + url.QueryEscape(token)
		}
		if origin != "" {
			r.hdr["Origin"] = origin
		}
		if method == "POST" {
			r.path = "/claim"
			r.form, _ = url.ParseQuery(body)
			if r.form == nil {
				r.form = url.Values{}
			}
		}
		if !validHeader(host) || !validHeader(origin) || !validCookie(cookie) {
			return
		}
		w := c.serve(r)
		if w.Code != http.StatusForbidden && w.Code != http.StatusBadRequest {
			t.Fatalf("%s %s (Host %q, cookie %q, Origin %q): %d without a session", method, r.path, host, cookie, origin, w.Code)
		}
		if w.Header().Get("Content-Security-Policy") != CSP {
			t.Fatal("no CSP")
		}
	})
}

func validHeader(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, "\r\n\x00")
}

func validCookie(s string) bool {
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || r == ';' || r == '"' || r == '\\' || r == ',' {
			return false
		}
	}
	return true
}

// FuzzClean: what a reporter writes is shown without a control or
// bidirectional character, as valid UTF-8.
func FuzzClean(f *testing.F) {
	f.Add("call \u202e1234\u202c now\x00")
	f.Add("\xff\xfe\u2066x\u2069")
	f.Fuzz(func(t *testing.T, s string) {
		out := clean(s)
		if !utf8.ValidString(out) {
			t.Fatalf("clean(%q) is not UTF-8", s)
		}
		for _, r := range out {
			if r != '\n' && r != '\t' && (r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f ||
				r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c) {
				t.Fatalf("clean(%q) keeps %U", s, r)
			}
		}
	})
}

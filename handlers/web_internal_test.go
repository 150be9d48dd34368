package handlers

import (
	"net"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestLocalesComplete: every catalog has exactly the English keys, every
// message is non-empty, keeps the same placeholders, and differs from
// English (an untranslated message would pass the other checks).
func TestLocalesComplete(t *testing.T) {
	ls := mustLoadLocales()
	en := ls.get("en").m
	verbs := regexp.MustCompile(`%[a-z]`)
	if len(ls.order) < 8 {
		t.Fatalf("%d languages, want the eight of the SMS channel", len(ls.order))
	}
	for _, tag := range ls.order {
		c := ls.get(tag).m
		same := 0
		for k, v := range en {
			got, ok := c[k]
			switch {
			case !ok:
				t.Errorf("%s: missing %q", tag, k)
				continue
			case strings.TrimSpace(got) == "":
				t.Errorf("%s: %q is empty", tag, k)
			case strings.Join(verbs.FindAllString(got, -1), "") != strings.Join(verbs.FindAllString(v, -1), ""):
				t.Errorf("%s: %q has placeholders %v, English has %v", tag, k, verbs.FindAllString(got, -1), verbs.FindAllString(v, -1))
			case strings.ContainsAny(got, "<>"):
				t.Errorf("%s: %q holds markup; messages are plain text", tag, k)
			}
			if got == v {
				same++
			}
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("%s: %q is not an English key", tag, k)
			}
		}
		// No English left where a word exists: every message differs.
		if tag != "en" && same > 0 {
			t.Errorf("%s: %d of %d messages are the English text", tag, same, len(en))
		}
	}
	// Every key the templates use exists.
	for _, name := range []string{"layout", "report", "sent", "followup", "message"} {
		b, err := webFS.ReadFile("web/templates/" + name + ".html")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\.L\.[TF] "([a-z_]+)"`).FindAllSubmatch(b, -1) {
			if _, ok := en[string(m[1])]; !ok {
				t.Errorf("%s.html uses unknown key %q", name, m[1])
			}
		}
	}
}

func TestClientIP(t *testing.T) {
	trusted := []*net.IPNet{mustCIDR("10.0.0.0/8"), mustCIDR("127.0.0.1/32")}
	for _, tc := range []struct {
		name, remote, xff string
		trusted           []*net.IPNet
		want              string
	}{
		{"direct", "203.0.113.7:5555", "", trusted, "203.0.113.7"},
		{"direct, header ignored: anyone can send it", "203.0.113.7:5555", "198.51.100.1", trusted, "203.0.113.7"},
		{"no trusted proxies configured", "127.0.0.1:5555", "198.51.100.1", nil, "127.0.0.1"},
		{"behind a trusted proxy", "127.0.0.1:5555", "198.51.100.1", trusted, "198.51.100.1"},
		{"the client forged a first hop", "127.0.0.1:5555", "6.6.6.6, 198.51.100.1", trusted, "198.51.100.1"},
		{"two trusted proxies", "127.0.0.1:5555", "198.51.100.1, 10.1.2.3", trusted, "198.51.100.1"},
		{"garbage hop stops the walk", "127.0.0.1:5555", "198.51.100.1, nonsense", trusted, "127.0.0.1"},
		{"ipv6", "[2001:db8::1]:443", "", trusted, "2001:db8::1"},
	} {
		r := httptest.NewRequest("GET", "/report", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := clientIP(r, tc.trusted); got.String() != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, got, tc.want)
		}
	}
}

func mustCIDR(s string) *net.IPNet {
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	return n
}

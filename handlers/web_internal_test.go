package handlers

import (
	"net"
	"net/http/httptest"
	"testing"
)

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

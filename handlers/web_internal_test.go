package handlers

import (
	"bytes"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/crypto/pseudonym"
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

func TestNetworkKey(t *testing.T) {
	k, _ := pseudonym.New(bytes.Repeat([]byte("network-pepper!!"), 2))
	key := func(s string) string { return networkKey(k, net.ParseIP(s)) }
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"203.0.113.7", "203.0.113.250", true}, // one /24
		{"203.0.113.7", "203.0.114.7", false},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true}, // one /64
		{"2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"::ffff:203.0.113.7", "203.0.113.8", true}, // v4-mapped
	} {
		if (key(tc.a) == key(tc.b)) != tc.same {
			t.Errorf("%s and %s: same key %v, want %v", tc.a, tc.b, !tc.same, tc.same)
		}
	}
	if k2 := key("203.0.113.7"); strings.Contains(k2, "203") || strings.Contains(k2, "113") {
		t.Errorf("key %q shows the address", k2)
	}
}

func TestParseCoords(t *testing.T) {
	for _, tc := range []struct {
		lat, lon string
		ok       bool
	}{
		{"", "", true}, {"-12.0857", "-76.9397", true}, {"3,139", "101,6869", true}, {" 3.1 ", " 101.6 ", true},
		{"-12", "", false}, {"", "101", false}, {"91", "0", false}, {"0", "181", false}, {"NaN", "1", false},
		{"1e400", "1", false}, {"abc", "1", false},
	} {
		if _, _, err := parseCoords(tc.lat, tc.lon); (err == nil) != tc.ok {
			t.Errorf("parseCoords(%q, %q) error %v", tc.lat, tc.lon, err)
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

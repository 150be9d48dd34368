package web

import (
	"bytes"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// TestFloodCheckErrorMeansFlooded: when the flood counter cannot be read
// (Redis down, or refusing MGET as the shipped ACL once did), the form asks
// for proof of work as in a flood, and the failure is counted; with Redis
// answering and no flood, it does not.
func TestFloodCheckErrorMeansFlooded(t *testing.T) {
	k, err := pseudonym.New(bytes.Repeat([]byte("pepper-for-tests!"), 2))
	if err != nil {
		t.Fatal(err)
	}
	guardOn := func(rdb redis.UniversalClient, prefix string) (*guard, *[]string) {
		m := &failSafeCounts{}
		o := Options{Keyer: k, Redis: rdb, Prefix: prefix, PoW: PoWFlood, Metrics: m}
		o.defaults()
		return newGuard(o), &m.checks
	}
	ctx := context.Background()

	r := queuetest.New(t)
	calm, counted := guardOn(r.Client, r.Prefix)
	if calm.powRequired(ctx) || len(*counted) != 0 {
		t.Fatalf("no flood, Redis answering: proof of work required %v, failures counted %v", calm.powRequired(ctx), *counted)
	}

	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer down.Close()
	unknown, counted := guardOn(down, "hl")
	if !unknown.powRequired(ctx) {
		t.Error("flood counter unreadable: proof of work not required, want required (unknown is a flood)")
	}
	if !slices.Equal(*counted, []string{CheckFlood}) {
		t.Errorf("failures counted %v, want [%s]", *counted, CheckFlood)
	}
}

type failSafeCounts struct{ checks []string }

func (m *failSafeCounts) CheckFailedSafe(check string) { m.checks = append(m.checks, check) }

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

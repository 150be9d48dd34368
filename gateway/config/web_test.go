package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/config"
)

func TestWebDefaults(t *testing.T) {
	c, err := config.Parse(readFixture(t, "valid.yaml"), testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
	if err != nil {
		t.Fatal(err)
	}
	w := c.Web
	if w.ExitURL != config.DefaultExitURL || w.RateLimit != "30-H" || w.PoW != "flood" || w.PoWBits != 16 ||
		w.PoWWait != 30*time.Second || w.MaxPhoto != 10<<20 ||
		w.InvalidRateLimit != "120-H" || w.OnionInvalidRateLimit != "1200-H" || w.PhotoMemory != 160<<20 || w.OnionListen != "" || w.FollowupTTL != 90*24*time.Hour || len(w.TrustedProxies) != 0 {
		t.Errorf("defaults %+v", w)
	}
	if n, p, err := config.ParseRate(w.RateLimit); err != nil || n != 30 || p != time.Hour {
		t.Errorf("ParseRate = %d, %v, %v", n, p, err)
	}
}

func TestWebValidate(t *testing.T) {
	const onion = "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion"
	for _, tc := range []struct {
		name  string
		yaml  string
		field string // "" for no problem under web.
	}{
		{"onion address", "web: {onion_address: " + onion + ", onion_listen: '127.0.0.1:8081'}", ""},
		{"onion address with a slash", "web: {onion_address: " + onion + "/, onion_listen: '127.0.0.1:8081'}", ""},
		{"onion address without its listener", "web: {onion_address: " + onion + "}", "web.onion_listen"},
		{"onion listener", "web: {onion_listen: '127.0.0.1:8081'}", ""},
		{"onion listener without a port", "web: {onion_listen: localhost}", "web.onion_listen"},
		{"onion listener is the main one", "web: {onion_listen: '127.0.0.1:8181'}", "web.onion_listen"},
		{"bad invalid rate", "web: {invalid_rate_limit: lots}", "web.invalid_rate_limit"},
		{"bad onion invalid rate", "web: {onion_invalid_rate_limit: 5-W}", "web.onion_invalid_rate_limit"},
		{"photo memory", "web: {photo_memory: 1000}", "web.photo_memory"},
		{"not an onion", "web: {onion_address: https://hotline.example.org, onion_listen: '127.0.0.1:8081'}", "web.onion_address"},
		{"short onion (v2)", "web: {onion_address: http://abcdefghijklmnop.onion, onion_listen: '127.0.0.1:8081'}", "web.onion_address"},
		{"plain http exit", "web: {exit_url: 'http://weather.example'}", "web.exit_url"},
		{"trusted proxies", "web: {trusted_proxies: [127.0.0.1, 10.0.0.0/8, '::1']}", ""},
		{"bad proxy", "web: {trusted_proxies: [localhost]}", "web.trusted_proxies"},
		{"bad rate", "web: {rate_limit: 30/hour}", "web.rate_limit"},
		{"bad onion rate", "web: {onion_rate_limit: 0-H}", "web.onion_rate_limit"},
		{"pow mode", "web: {pow: sometimes}", "web.pow"},
		{"pow bits", "web: {pow_bits: 40}", "web.pow_bits"},
		{"pow wait", "web: {pow_wait: 1h}", "web.pow_wait"},
		{"photo limit", "web: {max_photo: 100}", "web.max_photo"},
		{"follow-up ttl", "web: {followup_ttl: 1m}", "web.followup_ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := string(readFixture(t, "valid.yaml")) + "\n" + tc.yaml + "\n"
			c, err := config.Parse([]byte(data), testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
			if err != nil {
				t.Fatal(err)
			}
			var web []string
			for _, p := range c.Validate() {
				if strings.HasPrefix(p.Field, "web.") {
					web = append(web, p.String())
					if p.Field == tc.field && !strings.Contains(p.String(), "hint: ") {
						t.Errorf("problem without a fix: %s", p)
					}
				}
			}
			switch {
			case tc.field == "" && len(web) > 0:
				t.Errorf("unexpected problems:\n%s", strings.Join(web, "\n"))
			case tc.field != "" && (len(web) != 1 || !strings.Contains(web[0], tc.field+":")):
				t.Errorf("want one problem on %s, got:\n%s", tc.field, strings.Join(web, "\n"))
			}
		})
	}
}

package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Defaults of the web form, with their reasons.
const (
	// DefaultExitURL is where the quick-exit button goes: a page that
	// anyone might have open, in any country.
	DefaultExitURL = "https://www.google.com/"
	// DefaultWebRateLimit is per network (/24 or /64), in the form
	// COUNT-PERIOD (S, M, H or D). Mobile carriers put many phones behind one
	// address (CGNAT), so it is generous: it stops a script, not a town.
	DefaultWebRateLimit = "30-H"
	// DefaultInvalidRateLimit is per network too, for the posts that are
	// refused (empty, malformed, over a limit, without the proof of work):
	// a bucket of their own, looser, so that junk from a network cannot
	// spend the bucket of the reports a witness there sends.
	DefaultInvalidRateLimit = "120-H"
	// DefaultOnionRateLimit is shared by every visitor of the onion
	// service, who all arrive from the local Tor daemon.
	DefaultOnionRateLimit = "300-H"
	// DefaultOnionInvalidRateLimit is the refused posts of all onion
	// visitors together.
	DefaultOnionInvalidRateLimit = "1200-H"
	// DefaultPhotoMemory is what all photo decoding may hold at once, in
	// bytes (gateway/photo.DefaultBudget): with the gateway's own working
	// set it keeps a gateway well under a 512 MiB memory limit.
	DefaultPhotoMemory = 160 << 20
	// DefaultPoW asks for proof of work only while the form is flooded.
	DefaultPoW = "flood"
	// DefaultPoWBits is the work asked: 2^16 SHA-256 hashes on average,
	// under a second of JavaScript on a cheap phone.
	DefaultPoWBits = 16
	// DefaultPoWFlood is the number of form submissions per minute, from
	// everyone together, above which the form is considered flooded.
	DefaultPoWFlood = 60
	// DefaultPoWWait lets a browser without JavaScript through a challenge
	// once the challenge is this old: a person writing a report takes
	// longer than that anyway, and a script has to wait as long.
	DefaultPoWWait = 30 * time.Second
	// DefaultMaxPhoto bounds one uploaded photo. Phone cameras write 2 to
	// 8 MB JPEGs.
	DefaultMaxPhoto = 10 << 20
	// DefaultFollowupTTL is how long a witness's follow-up thread lives
	// after its last message.
	DefaultFollowupTTL = 90 * 24 * time.Hour
)

// Web configures the witness form (/report) and follow-up page (/followup).
type Web struct {
	// OnionAddress is the form's onion service, e.g.
	// http://xxxxxxxx...xxxx.onion; Tor Browser offers it to visitors of
	// the clear site (Onion-Location). It chooses no rate limit: a Host
	// header is whatever the client writes.
	OnionAddress string `yaml:"onion_address" json:"onion_address,omitempty"`
	// OnionListen is the address of a second listener, for the onion
	// service only (the Tor daemon, or the proxy's onion site, forwards to
	// it; it must not be reachable otherwise). Requests that arrive there,
	// and only those, share the onion rate limits.
	OnionListen string `yaml:"onion_listen" json:"onion_listen,omitempty"`
	// ExitURL is the neutral page the quick-exit button opens.
	ExitURL string `yaml:"exit_url" json:"exit_url"`
	// TrustedProxies are the addresses or CIDR ranges of reverse proxies
	// whose X-Forwarded-For is believed. None by default: the connection's
	// own address is used.
	TrustedProxies []string `yaml:"trusted_proxies" json:"trusted_proxies,omitempty"`
	// RateLimit is per network (/24 for IPv4, /64 for IPv6), keyed by an
	// HMAC of the prefix; OnionRateLimit is for all onion visitors together.
	RateLimit      string `yaml:"rate_limit" json:"rate_limit"`
	OnionRateLimit string `yaml:"onion_rate_limit" json:"onion_rate_limit"`
	// InvalidRateLimit and OnionInvalidRateLimit count the refused posts
	// (invalid, empty, failed proof of work), apart from the accepted ones.
	InvalidRateLimit      string `yaml:"invalid_rate_limit" json:"invalid_rate_limit"`
	OnionInvalidRateLimit string `yaml:"onion_invalid_rate_limit" json:"onion_invalid_rate_limit"`
	// PoW is off, flood (only while flooded) or always.
	PoW      string        `yaml:"pow" json:"pow"`
	PoWBits  int           `yaml:"pow_bits" json:"pow_bits"`
	PoWFlood int           `yaml:"pow_flood" json:"pow_flood"`
	PoWWait  time.Duration `yaml:"pow_wait" json:"pow_wait"`
	// MaxPhoto bounds one uploaded photo, in bytes.
	MaxPhoto int64 `yaml:"max_photo" json:"max_photo"`
	// PhotoMemory is the memory all photo decoding may hold at once, in
	// bytes; uploads beyond it wait, and a photo that alone needs more is
	// not attached (the report is sent without it). The photos being read
	// share as much again (handlers.WebOptions.UploadMemory).
	PhotoMemory int64 `yaml:"photo_memory" json:"photo_memory"`
	// FollowupTTL is how long a follow-up thread lives after its last message.
	FollowupTTL time.Duration `yaml:"followup_ttl" json:"followup_ttl"`
}

func (w *Web) applyDefaults() {
	orDefault(&w.ExitURL, DefaultExitURL)
	orDefault(&w.FollowupTTL, DefaultFollowupTTL)
	orDefault(&w.MaxPhoto, DefaultMaxPhoto)
	orDefault(&w.PhotoMemory, DefaultPhotoMemory)
	w.applyFloodDefaults()
}

// applyFloodDefaults sets the defences against a flood of posts: the rate
// limits and the proof of work.
func (w *Web) applyFloodDefaults() {
	orDefault(&w.RateLimit, DefaultWebRateLimit)
	orDefault(&w.OnionRateLimit, DefaultOnionRateLimit)
	orDefault(&w.InvalidRateLimit, DefaultInvalidRateLimit)
	orDefault(&w.OnionInvalidRateLimit, DefaultOnionInvalidRateLimit)
	orDefault(&w.PoW, DefaultPoW)
	orDefault(&w.PoWBits, DefaultPoWBits)
	orDefault(&w.PoWFlood, DefaultPoWFlood)
	orDefault(&w.PoWWait, DefaultPoWWait)
}

var (
	ratePattern  = regexp.MustCompile(`^[1-9][0-9]{0,6}-[SMHD]$`)
	onionPattern = regexp.MustCompile(`^[a-z2-7]{56}\.onion$`)
)

// ParseRate reads a rate such as 30-H into a count and a period.
func ParseRate(s string) (int64, time.Duration, error) {
	if !ratePattern.MatchString(s) {
		return 0, 0, fmt.Errorf("rate %q is not COUNT-PERIOD", s)
	}
	count, unit, _ := strings.Cut(s, "-")
	var n int64
	fmt.Sscan(count, &n)
	period := map[string]time.Duration{"S": time.Second, "M": time.Minute, "H": time.Hour, "D": 24 * time.Hour}[unit]
	return n, period, nil
}

// ParseTrustedProxies returns the configured proxies as networks; a single
// address is a /32 or /128.
func ParseTrustedProxies(list []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, s := range list {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "/") {
			ip := net.ParseIP(s)
			if ip == nil {
				return nil, fmt.Errorf("%q is not an address or CIDR range", s)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR range", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func (w *Web) validate(add func(string, string, string)) {
	if w.OnionAddress != "" {
		u, err := url.Parse(w.OnionAddress)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !onionPattern.MatchString(u.Host) || (u.Path != "" && u.Path != "/") {
			add("web.onion_address", "not an onion service address", "write it as http://<56 letters and digits>.onion, as in the hostname file of the onion service")
		}
	}
	if u, err := url.Parse(w.ExitURL); err != nil || u.Scheme != "https" || u.Host == "" {
		add("web.exit_url", "not an absolute https URL", "use a neutral page such as https://www.google.com/")
	}
	if _, err := ParseTrustedProxies(w.TrustedProxies); err != nil {
		add("web.trusted_proxies", err.Error(), "list the reverse proxy's address or range, e.g. 127.0.0.1 or 10.0.0.0/8")
	}
	if w.OnionListen != "" {
		if _, port, err := net.SplitHostPort(w.OnionListen); err != nil || port == "" {
			add("web.onion_listen", "not a host:port address", "write it as 127.0.0.1:8081, the address the onion service forwards to")
		}
	}
	for _, r := range [][2]string{{"web.rate_limit", w.RateLimit}, {"web.onion_rate_limit", w.OnionRateLimit},
		{"web.invalid_rate_limit", w.InvalidRateLimit}, {"web.onion_invalid_rate_limit", w.OnionInvalidRateLimit}} {
		if _, _, err := ParseRate(r[1]); err != nil {
			add(r[0], err.Error(), "write it as a count and a period of S, M, H or D, e.g. 30-H")
		}
	}
	switch w.PoW {
	case "off", "flood", "always":
	default:
		add("web.pow", fmt.Sprintf("unknown mode %q", w.PoW), "use off, flood (only while the form is flooded) or always")
	}
	if w.PoWBits < 8 || w.PoWBits > 24 {
		add("web.pow_bits", "must be between 8 and 24", "leave it unset for 16 (under a second on a cheap phone)")
	}
	if w.PoWFlood < 1 {
		add("web.pow_flood", "must be at least 1", "leave it unset for 60 submissions a minute")
	}
	if w.PoWWait < 0 || w.PoWWait > 10*time.Minute {
		add("web.pow_wait", "must be between 0 and 10m", "leave it unset for 30s")
	}
	if w.MaxPhoto < 256<<10 || w.MaxPhoto > 32<<20 {
		add("web.max_photo", "must be between 256 KiB and 32 MiB", "leave it unset for 10 MiB")
	}
	if w.PhotoMemory < 32<<20 || w.PhotoMemory > 4<<30 {
		add("web.photo_memory", "must be between 32 MiB and 4 GiB", "leave it unset for 160 MiB (167772160)")
	}
	if w.FollowupTTL < time.Hour || w.FollowupTTL > 2*365*24*time.Hour {
		add("web.followup_ttl", "must be between 1h and two years", "leave it unset for 90 days (2160h)")
	}
}

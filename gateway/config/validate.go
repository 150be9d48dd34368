package config

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/crypto/seal"
)

// Problem is one thing wrong with a configuration, with how to fix it.
type Problem struct {
	Field   string
	Message string
	Fix     string
	Warning bool // the gateway runs, but probably not as intended
}

func (p Problem) String() string {
	kind := "error"
	if p.Warning {
		kind = "warning"
	}
	s := fmt.Sprintf("%s: %s: %s", kind, p.Field, p.Message)
	if p.Fix != "" {
		s += "\n  hint: " + p.Fix
	}
	return s
}

// Problems is the result of Validate.
type Problems []Problem

// Errors returns the problems that stop the gateway.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Err joins the errors into one, or returns nil.
func (ps Problems) Err() error {
	errs := ps.Errors()
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, p := range errs {
		msgs[i] = p.String()
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// idPattern keeps ids safe inside Redis keys (no hash-tag braces), metric
// labels and URLs.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// prefixPattern is a key prefix: ids joined by colons, such as hl or hl:t1 (tests
// under the shipped ACL, whose key pattern is ~hl:*). Never braces: a hash tag
// in the prefix would put every agency in one Cluster slot.
var prefixPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}(:[a-z0-9][a-z0-9_-]{0,39}){0,3}$`)

var sidPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)

// Validate checks the configuration and returns every problem found.
// Geometry is checked by the geo package when the regions are loaded.
func (c *Config) Validate() Problems {
	var ps Problems
	add := func(field, msg, fix string) { ps = append(ps, Problem{Field: field, Message: msg, Fix: fix}) }
	warn := func(field, msg, fix string) {
		ps = append(ps, Problem{Field: field, Message: msg, Fix: fix, Warning: true})
	}

	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("listen", "not a host:port address", "write it as 127.0.0.1:8080 (or :8080 behind a firewall)")
	}

	c.validatePublicURL(add)
	c.validateRedis(add)

	if c.Queue.Lease < 10e9 {
		add("queue.lease", fmt.Sprintf("%s is too short for an officer to read a tip", c.Queue.Lease), "use a duration such as 5m")
	}

	switch p := c.Secrets.Pepper; {
	case len(p.Value()) == 0:
		add("secrets.pepper", "missing: senders cannot be pseudonymised without it",
			"set HOTLINE_PEPPER or secrets.pepper: file:PATH to 32+ random bytes, e.g. `head -c 32 /dev/urandom | base64`; keep it as safe as the agency keys")
	case len(p.Value()) < pseudonym.MinPepperSize:
		add("secrets.pepper", fmt.Sprintf("only %d bytes; at least %d are needed", len(p.Value()), pseudonym.MinPepperSize),
			"generate one with `head -c 32 /dev/urandom | base64`")
	case p.IsLiteral():
		warn("secrets.pepper", "written in the config file itself", "use env:HOTLINE_PEPPER or file:PATH so the config can be shared without it")
	}

	c.validateTwilio(add, warn)
	c.validateTriage(add, warn)
	c.validateChannel(add, warn)
	regionIDs := c.validateRegions(add)
	covered := c.validateAgencies(add, regionIDs)

	switch {
	case c.DefaultAgency == "":
		add("default_agency", "missing: tips with no usable location would have nowhere to go", "name the agency that receives them")
	case c.Agency(c.DefaultAgency) == nil:
		add("default_agency", fmt.Sprintf("unknown agency %q", c.DefaultAgency), "use one of the ids under agencies")
	}
	for _, r := range c.Regions {
		if r.ID != "" && !covered[r.ID] {
			warn("regions."+r.ID, "no agency covers this region: tips located there go to the default agency",
				"add the region to an agency's regions, or remove it")
		}
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		add("log.format", fmt.Sprintf("unknown format %q", c.Log.Format), "use json or text")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", fmt.Sprintf("unknown level %q", c.Log.Level), "use debug, info, warn or error")
	}
	if c.Limits.MaxBody < 4<<10 || c.Limits.MaxBody > 32<<20 {
		add("limits.max_body", "must be between 4 KiB and 32 MiB", "leave it unset for the default of 64 KiB")
	}
	c.Web.validate(add)
	if c.Web.OnionListen != "" && c.Web.OnionListen == c.Listen {
		add("web.onion_listen", "is the same address as listen", "give the onion service a listener of its own, e.g. 127.0.0.1:8081")
	}
	if c.Web.OnionAddress != "" && c.Web.OnionListen == "" {
		warn("web.onion_listen", "not set while web.onion_address is: onion visitors share the rate limit of the network the onion service connects from",
			"set it to an address only the onion service forwards to, e.g. 127.0.0.1:8081")
	}
	c.validateDurability(add)
	return ps
}

func (c *Config) validatePublicURL(add func(string, string, string)) {
	u, err := url.Parse(c.PublicURL)
	switch {
	case c.PublicURL == "":
		add("public_url", "missing: Twilio signatures are checked against it", "set it to the base URL Twilio calls, e.g. https://hotline.example.org")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		add("public_url", "not an absolute http(s) URL", "write it as https://hotline.example.org")
	case u.RawQuery != "" || u.Fragment != "":
		add("public_url", "must not carry a query or fragment", "give only the scheme, host and optional path prefix")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		add("public_url", "plain http on a public host would expose tips and signatures in transit", "serve it behind TLS and use https://")
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validateRedis(add func(string, string, string)) {
	switch c.Redis.Mode {
	case "", "single":
		if c.Redis.URL == "" {
			add("redis.url", "missing", "set redis.url (e.g. redis://127.0.0.1:6379/0) or REDIS_URL")
		} else if _, err := url.Parse(c.Redis.URL); err != nil || !strings.HasPrefix(c.Redis.URL, "redis") && !strings.HasPrefix(c.Redis.URL, "unix") {
			add("redis.url", "not a redis:// or rediss:// URL", "write it as redis://HOST:6379/0")
		}
	case "cluster":
		if len(c.Redis.Addrs) == 0 {
			add("redis.addrs", "cluster mode needs the seed nodes", "list host:port of at least one master")
		}
	case "sentinel":
		if len(c.Redis.Addrs) == 0 {
			add("redis.addrs", "sentinel mode needs the sentinels", "list host:port of the sentinels")
		}
		if c.Redis.MasterName == "" {
			add("redis.master_name", "sentinel mode needs the master's name", "set it to the name in sentinel.conf, e.g. mymaster")
		}
	default:
		add("redis.mode", fmt.Sprintf("unknown mode %q", c.Redis.Mode), "use single, cluster or sentinel")
	}
	for i, a := range c.Redis.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			add(fmt.Sprintf("redis.addrs[%d]", i), "not a host:port address", "write it as 10.0.0.5:6379")
		}
	}
	if c.Redis.Prefix != "" && !prefixPattern.MatchString(c.Redis.Prefix) {
		add("redis.prefix", "must be lowercase letters, digits, - or _ (parts may be joined by :)", "use a short name such as hl")
	}
	if c.Redis.Timeout <= 0 {
		add("redis.timeout", "must be positive", "leave it unset for the default of 2s")
	}
	if n := c.Redis.MinReplicas; n != nil && (*n < 0 || *n > MaxMinReplicas) {
		add("redis.min_replicas", fmt.Sprintf("must be between 0 and %d", MaxMinReplicas),
			"leave it unset to wait for the replicas the master has, or set the number of replicas (0: never wait)")
	}
	switch {
	case c.Redis.ReplicaWait < time.Millisecond:
		add("redis.replica_wait", "must be at least 1ms", "leave it unset for the default of 500ms")
	case c.Redis.Timeout > 0 && c.Redis.ReplicaWait >= c.Redis.Timeout:
		add("redis.replica_wait", "must be shorter than redis.timeout", "leave it unset for the default of 500ms, or raise redis.timeout")
	}
}

func (c *Config) validateTwilio(add, warn func(string, string, string)) {
	if len(c.Twilio.AuthToken.Value()) == 0 {
		add("twilio.auth_token", "missing: webhooks could not be authenticated", "set TWILIO_AUTH_TOKEN or twilio.auth_token: env:NAME / file:PATH")
	} else if c.Twilio.AuthToken.IsLiteral() {
		warn("twilio.auth_token", "written in the config file itself", "use env:TWILIO_AUTH_TOKEN or file:PATH")
	}
	if c.Twilio.AccountSID != "" && !sidPattern.MatchString(c.Twilio.AccountSID) {
		add("twilio.account_sid", "not an account SID (AC followed by 32 hex digits)", "copy it from the Twilio console")
	}
	if u, err := url.Parse(c.Twilio.APIURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		add("twilio.api_url", "not an absolute URL", "leave it unset for https://api.twilio.com")
	}
	known := map[string]bool{}
	for _, r := range c.Regions {
		known[r.ID] = true
	}
	for num, n := range c.Twilio.Numbers {
		field := "twilio.numbers." + num
		if e, err := pseudonym.NormalizeE164(num); err != nil || e != num && "whatsapp:"+e != num {
			add(field, "not a number in E.164 form", "write it as +15005550006 (or whatsapp:+15005550006)")
		}
		if n.Region != "" && !known[n.Region] {
			add(field+".region", fmt.Sprintf("unknown region %q", n.Region), "use one of the ids under regions")
		}
	}
}

func (c *Config) validateRegions(add func(string, string, string)) map[string]bool {
	ids := map[string]bool{}
	for i, r := range c.Regions {
		field := fmt.Sprintf("regions[%d]", i)
		switch {
		case !idPattern.MatchString(r.ID):
			add(field+".id", "missing or not lowercase letters, digits, - or _", "use a short id such as lima")
		case ids[r.ID]:
			add(field+".id", fmt.Sprintf("duplicate region %q", r.ID), "give each region its own id")
		}
		ids[r.ID] = true
		r.validateAliases(field, add)
		switch {
		case r.GeoJSON == "" && len(r.Polygon) == 0:
			add(field, "has neither geojson nor polygon", "point geojson at a boundary file, or give an inline polygon of [lon, lat] points")
		case r.GeoJSON != "" && len(r.Polygon) > 0:
			add(field, "has both geojson and polygon", "keep one of them")
		case r.GeoJSON != "":
			if _, err := os.Stat(c.Path(r.GeoJSON)); err != nil {
				add(field+".geojson", fmt.Sprintf("cannot read %s", c.Path(r.GeoJSON)), "check the path; it is relative to the config file")
			}
			if r.Feature != "" && r.Feature != "*" && r.NameProperty == "" {
				add(field+".name_property", "a feature name is given but not the property to match it against", "set name_property, e.g. distrito or NAME_1")
			}
		}
	}
	return ids
}

func (c *Config) validateAgencies(add func(string, string, string), regionIDs map[string]bool) map[string]bool {
	covered := map[string]bool{}
	seen := map[string]bool{}
	for i, a := range c.Agencies {
		field := fmt.Sprintf("agencies[%d]", i)
		if a.ID != "" {
			field = "agencies." + a.ID
		}
		switch {
		case !idPattern.MatchString(a.ID):
			add(field+".id", "missing or not lowercase letters, digits, - or _", "use a short id such as pe-lima")
		case seen[a.ID]:
			add(field+".id", "duplicate agency id", "give each agency its own id")
		}
		seen[a.ID] = true
		lines, err := c.RecipientLines(a)
		if err != nil {
			add(field+".recipients_file", err.Error(), "check the path; it is relative to the config file")
		}
		if len(lines) == 0 {
			add(field+".recipients", "no recipients: nobody could read this agency's tips",
				"run `hotline keygen --out agency.key` on the agency's offline machine and paste the printed age1pq1... recipient here")
		} else if _, err := seal.ParseRecipients(lines); err != nil {
			add(field+".recipients", err.Error(), recipientFix(err))
		}
		if a.Emergency != "" && !emergencyPattern.MatchString(a.Emergency) {
			add(field+".emergency", "not a phone number", `write the number a witness dials, such as "105" or "+60 3-2266 2222"`)
		}
		for _, r := range a.Regions {
			if parent, _, ok := strings.Cut(r, "/"); ok && c.eachFeature(parent) {
				covered[parent] = true // checked against the loaded layer by check-config
				continue
			}
			if !regionIDs[r] {
				add(field+".regions", fmt.Sprintf("unknown region %q", r), "use one of the ids under regions")
			}
			covered[r] = true
		}
	}
	return covered
}

// emergencyPattern is a phone number as people write it: digits, with a
// leading + and spaces or hyphens between groups.
var emergencyPattern = regexp.MustCompile(`^\+?[0-9]+([ -]?[0-9]+)*$`)

func recipientFix(err error) string {
	switch {
	case errors.Is(err, seal.ErrIdentityNotRecipient):
		return "a private key was pasted here: remove it, treat it as compromised (generate a new one offline), and paste only its public recipient (age1...)"
	case errors.Is(err, seal.ErrMixedKinds):
		return "give the agency only post-quantum (age1pq1...) recipients, or only X25519 ones (needed for hardware plugins)"
	default:
		return "paste the recipient printed by `hotline keygen`, one per list item"
	}
}

func (c *Config) eachFeature(id string) bool {
	for _, r := range c.Regions {
		if r.ID == id && r.EachFeature {
			return true
		}
	}
	return false
}

// RecipientLines returns the agency's recipients, from the list and from
// recipients_file (one per line, # comments allowed).
func (c *Config) RecipientLines(a Agency) ([]string, error) {
	lines := append([]string(nil), a.Recipients...)
	if a.RecipientsFile == "" {
		return lines, nil
	}
	f, err := os.Open(c.Path(a.RecipientsFile))
	if err != nil {
		return lines, fmt.Errorf("cannot read %s", c.Path(a.RecipientsFile))
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return lines, fmt.Errorf("cannot read %s", c.Path(a.RecipientsFile))
	}
	return lines, nil
}

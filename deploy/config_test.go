package deploy_test

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// contractConfig mirrors the keys of the external contract in shared/DESIGN.md, plus the Redis
// user and password that sentinel and cluster modes need. Decoding is strict, like the gateway's.
type contractConfig struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
	Redis     struct {
		URL        string   `yaml:"url"`
		Mode       string   `yaml:"mode"`
		Addrs      []string `yaml:"addrs"`
		MasterName string   `yaml:"master_name"`
		Username   string   `yaml:"username"`
		Password   string   `yaml:"password"`
		TLS        bool     `yaml:"tls"`
	} `yaml:"redis"`
	Queue struct {
		Lease string `yaml:"lease"`
	} `yaml:"queue"`
	Secrets struct {
		Pepper string `yaml:"pepper"`
	} `yaml:"secrets"`
	Twilio struct {
		AccountSID string `yaml:"account_sid"`
		AuthToken  string `yaml:"auth_token"`
		APIURL     string `yaml:"api_url"`
		Numbers    map[string]struct {
			Region string `yaml:"region"`
		} `yaml:"numbers"`
	} `yaml:"twilio"`
	Regions []struct {
		ID           string `yaml:"id"`
		GeoJSON      string `yaml:"geojson"`
		Feature      string `yaml:"feature"`
		NameProperty string `yaml:"name_property"`
	} `yaml:"regions"`
	Agencies []struct {
		ID         string   `yaml:"id"`
		Name       string   `yaml:"name"`
		Recipients []string `yaml:"recipients"`
		Regions    []string `yaml:"regions"`
		Emergency  string   `yaml:"emergency"` // optional (DESIGN.md contract)
	} `yaml:"agencies"`
	DefaultAgency string `yaml:"default_agency"`
	Web           struct {
		TrustedProxies []string `yaml:"trusted_proxies"`
	} `yaml:"web"`
}

var urlWithPassword = regexp.MustCompile(`://[^/@]*:[^/@]*@`)

func isSecretRef(s string) bool { return strings.HasPrefix(s, "env:") || strings.HasPrefix(s, "file:") }

// decodeConfig decodes strictly and checks what is common to every shipped configuration.
func decodeConfig(b []byte, file string) (*contractConfig, []string) {
	var c contractConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, []string{fmt.Sprintf("%s: not a valid configuration: %v", file, err)}
	}
	var ps []string
	add := func(format string, a ...any) { ps = append(ps, file+": "+fmt.Sprintf(format, a...)) }
	regions := map[string]bool{}
	for _, r := range c.Regions {
		regions[r.ID] = true
	}
	agencies := map[string]bool{}
	for _, a := range c.Agencies {
		agencies[a.ID] = true
		if len(a.Recipients) == 0 {
			add("agency %s: no recipients", a.ID)
		}
		for _, r := range a.Recipients {
			if !strings.Contains(r, "REPLACE") {
				add("agency %s: recipient %q must be a REPLACE placeholder, or tips would be sealed to someone else's key", a.ID, r)
			}
			if !strings.HasPrefix(r, "age1") {
				add("agency %s: a recipient must look like age1... (never an identity)", a.ID)
			}
		}
		for _, r := range a.Regions {
			if !regions[r] {
				add("agency %s: unknown region %s", a.ID, r)
			}
		}
	}
	for n, v := range c.Twilio.Numbers {
		if v.Region != "" && !regions[v.Region] {
			add("number %s: unknown region %s", n, v.Region)
		}
	}
	_, err := time.ParseDuration(c.Queue.Lease)
	rules := []struct {
		what string
		ok   bool
	}{
		{"public_url on https", strings.HasPrefix(c.PublicURL, "https://")},
		{"secrets.pepper as env: or file:", isSecretRef(c.Secrets.Pepper)},
		{"twilio.auth_token as env: or file:", isSecretRef(c.Twilio.AuthToken)},
		{"redis.password, if any, as env: or file:", c.Redis.Password == "" || isSecretRef(c.Redis.Password)},
		{"no password in redis.url (use REDIS_URL)", !urlWithPassword.MatchString(c.Redis.URL)},
		{"queue.lease as a duration", err == nil},
		{"default_agency naming an agency", agencies[c.DefaultAgency]},
		{"listen set", c.Listen != ""},
	}
	for _, r := range rules {
		if !r.ok {
			add("want %s", r.what)
		}
	}
	return &c, ps
}

func checkExampleConfig(fsys files) []string {
	c, ps := decodeConfig(fsys["hotline.example.yaml"], "hotline.example.yaml")
	if c != nil && (c.Redis.Username != "" || c.Redis.Password != "" || c.Redis.TLS) {
		ps = append(ps, "hotline.example.yaml: keep to the contract's keys; redis.username and password only as comments")
	}
	// compose.yaml's gateways read this file: they must trust exactly the Caddy container.
	proxy := composeProxyAddress(fsys)
	if c != nil && (proxy == "" || !slices.Equal(c.Web.TrustedProxies, []string{proxy})) {
		ps = append(ps, fmt.Sprintf("hotline.example.yaml: web.trusted_proxies must be exactly the proxy's fixed address in compose.yaml (%q), got %v", proxy, c.Web.TrustedProxies))
	}
	return ps
}

// composeProxyAddress is the fixed address of the proxy service on the gateways' network.
func composeProxyAddress(fsys files) string {
	docs, err := yamlDocs(fsys["compose.yaml"])
	if err != nil || len(docs) == 0 {
		return ""
	}
	return str(get(docs[0], "services", "proxy", "networks", "app", "ipv4_address"))
}

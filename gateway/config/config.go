// Package config reads and checks the hotline's configuration: one YAML file,
// decoded strictly (an unknown key is an error), with secrets given by
// reference (env:NAME, file:PATH) and overridden by REDIS_URL,
// TWILIO_AUTH_TOKEN and HOTLINE_PEPPER (and HOTLINE_UPSTREAM_X25519=1, which
// turns crypto.fast_x25519 off).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults, with their reasons.
const (
	DefaultListen = "127.0.0.1:8080"
	// DefaultLease is how long a claimed tip stays with its officer without a
	// heartbeat: long enough to read and act, short enough that an officer
	// called away does not sit on an urgent tip.
	DefaultLease = 5 * time.Minute
	// DefaultDedupeTTL covers Twilio's retries and fallback by a wide margin.
	DefaultDedupeTTL = 48 * time.Hour
	// DefaultRedisTimeout is the deadline of one Redis call on the intake
	// path; past it the tip is answered with an error (and, with the spool,
	// kept locally).
	DefaultRedisTimeout = 2 * time.Second
	// DefaultReplicaWait bounds the wait for Redis replicas to confirm a
	// tip; one they do not confirm by then is also kept in the spool.
	DefaultReplicaWait = 500 * time.Millisecond
	// MaxMinReplicas bounds redis.min_replicas: no deployment has more.
	MaxMinReplicas = 16
	// DefaultMaxBody bounds a webhook body. Twilio's largest (an MMS with ten
	// media URLs and a 1600-character body) is far below it.
	DefaultMaxBody = 64 << 10
	DefaultAPIURL  = "https://api.twilio.com"
	DefaultPrefix  = "hl"
)

// Config is the whole configuration. Secret values are never serialised.
// Aliases is the older, global form of regions[].aliases (RegionAliases):
// a name to a region id or a feature name of any region; it still works
// and replaces a region's alias of the same name.
type Config struct {
	Listen        string            `yaml:"listen" json:"listen"`
	PublicURL     string            `yaml:"public_url" json:"public_url"`
	Redis         Redis             `yaml:"redis" json:"redis"`
	Queue         Queue             `yaml:"queue" json:"queue"`
	Secrets       Secrets           `yaml:"secrets" json:"secrets"`
	Twilio        Twilio            `yaml:"twilio" json:"twilio"`
	Regions       []Region          `yaml:"regions" json:"regions"`
	Agencies      []Agency          `yaml:"agencies" json:"agencies"`
	DefaultAgency string            `yaml:"default_agency" json:"default_agency"`
	Limits        Limits            `yaml:"limits" json:"limits"`
	Log           Log               `yaml:"log" json:"log"`
	Web           Web               `yaml:"web" json:"web"`
	Crypto        Crypto            `yaml:"crypto" json:"crypto"`
	Retention     Retention         `yaml:"retention" json:"retention"`
	Channel       Channel           `yaml:"channel" json:"channel"`
	Paging        Paging            `yaml:"paging" json:"paging"`
	Spool         Spool             `yaml:"spool" json:"spool"`
	Metrics       Metrics           `yaml:"metrics" json:"metrics"`
	Aliases       map[string]string `yaml:"aliases,omitempty" json:"aliases,omitempty"`

	// Dir is the directory of the config file; relative paths start there.
	Dir string `yaml:"-" json:"-"`
}

// Redis says where the queue lives.
type Redis struct {
	URL        string        `yaml:"url" json:"-"` // may carry a password: shown redacted
	Mode       string        `yaml:"mode" json:"mode,omitempty"`
	Addrs      []string      `yaml:"addrs" json:"addrs,omitempty"`
	MasterName string        `yaml:"master_name" json:"master_name,omitempty"`
	Username   string        `yaml:"username" json:"username,omitempty"`
	Password   Secret        `yaml:"password" json:"password"`
	Prefix     string        `yaml:"prefix" json:"prefix"`
	Timeout    time.Duration `yaml:"timeout" json:"timeout"`
	TLS        bool          `yaml:"tls" json:"tls"`
	// MinReplicas is how many replicas must confirm a tip before it counts
	// as in Redis. Unset: those the master reports connected (detected,
	// counted again every few seconds); 0: never wait.
	MinReplicas *int `yaml:"min_replicas" json:"min_replicas,omitempty"`
	// ReplicaWait bounds the wait for the replicas (default 500ms, or half
	// of Timeout if that is shorter).
	ReplicaWait time.Duration `yaml:"replica_wait" json:"replica_wait"`
}

// QueueReplicas is the queue's Options.Replicas for MinReplicas.
func (r Redis) QueueReplicas() int {
	switch {
	case r.MinReplicas == nil:
		return 0 // detect
	case *r.MinReplicas == 0:
		return -1 // queue.NoReplicas
	default:
		return *r.MinReplicas
	}
}

// RedactedURL returns the URL with any password replaced.
func (r Redis) RedactedURL() string {
	u, err := url.Parse(r.URL)
	if err != nil {
		return "[unparseable]"
	}
	return u.Redacted()
}

// String shows the connection without its password.
func (r Redis) String() string {
	return fmt.Sprintf("redis{mode=%q url=%q addrs=%v prefix=%q}", r.Mode, r.RedactedURL(), r.Addrs, r.Prefix)
}

// GoString keeps the password out of %#v.
func (r Redis) GoString() string { return "config." + r.String() }

// MarshalYAML writes the URL without its password.
func (r Redis) MarshalYAML() (any, error) {
	type plain Redis
	p := plain(r)
	p.URL = r.RedactedURL()
	return p, nil
}

// Queue tunes the triage queue.
type Queue struct {
	Lease     time.Duration `yaml:"lease" json:"lease"`
	DedupeTTL time.Duration `yaml:"dedupe_ttl" json:"dedupe_ttl"`
}

// Secrets holds the gateway's own secrets.
type Secrets struct {
	Pepper Secret `yaml:"pepper" json:"pepper"`
	// ReplyKey is the gateway's own age identity (X25519), which seals the
	// reply handles (the numbers to text back) and scrub jobs. Without it
	// officers cannot reply by SMS or WhatsApp.
	ReplyKey Secret `yaml:"reply_key" json:"reply_key"`
}

// Twilio configures the SMS and WhatsApp channel.
type Twilio struct {
	AccountSID string            `yaml:"account_sid" json:"account_sid"`
	AuthToken  Secret            `yaml:"auth_token" json:"auth_token"`
	APIURL     string            `yaml:"api_url" json:"api_url"`
	Numbers    map[string]Number `yaml:"numbers" json:"numbers"`
}

// Number is one of the hotline's own numbers.
type Number struct {
	// Region is used to route a tip whose text carries no location.
	Region string `yaml:"region" json:"region,omitempty"`
	// Reply is the automatic answer; empty means the neutral default.
	// "none" turns automatic replies off for this number.
	Reply string `yaml:"reply" json:"reply,omitempty"`
	// Replies is "auto" (default) or "none": no automatic reply at all.
	Replies string `yaml:"replies" json:"replies,omitempty"`
	// Language is the number's default language for replies when a
	// message's language is unknown (BCP 47, e.g. es, ms, zh-Hans).
	Language string `yaml:"language" json:"language,omitempty"`
	// Texts are acknowledgements by language, with {case}.
	Texts map[string]string `yaml:"texts" json:"texts,omitempty"`
	// Scrub redacts each message at Twilio once its tip is queued (default
	// on): Twilio keeps no copy of what the reporter wrote.
	Scrub *bool `yaml:"scrub" json:"scrub,omitempty"`
}

// Region is a named area, from a GeoJSON file or an inline polygon.
type Region struct {
	ID           string         `yaml:"id" json:"id"`
	GeoJSON      string         `yaml:"geojson" json:"geojson,omitempty"`
	Feature      string         `yaml:"feature" json:"feature,omitempty"`
	NameProperty string         `yaml:"name_property" json:"name_property,omitempty"`
	Polygon      [][][2]float64 `yaml:"polygon" json:"polygon,omitempty"` // rings of [lon, lat]
	// Aliases map names people use to a feature of this region, or to ""
	// for the whole region (RegionAliases; the list form still reads).
	Aliases RegionAliases `yaml:"aliases" json:"aliases,omitempty"`
	// EachFeature makes every feature its own region, with the id
	// ID/<value of IDProperty>, for layers such as districts.
	EachFeature bool   `yaml:"each_feature" json:"each_feature,omitempty"`
	IDProperty  string `yaml:"id_property" json:"id_property,omitempty"`
	// SkipUnlocated ignores features with no geometry instead of refusing
	// the file.
	SkipUnlocated bool `yaml:"skip_unlocated" json:"skip_unlocated,omitempty"`
}

// Agency is a responding unit and the keys that can read its tips.
type Agency struct {
	ID             string   `yaml:"id" json:"id"`
	Name           string   `yaml:"name" json:"name"`
	Recipients     []string `yaml:"recipients" json:"recipients"`
	RecipientsFile string   `yaml:"recipients_file" json:"recipients_file,omitempty"`
	Regions        []string `yaml:"regions" json:"regions"`
	// Emergency is the agency's emergency phone number (optional), shown on
	// the answer page to a witness whose urgent report the agency receives.
	Emergency string `yaml:"emergency" json:"emergency,omitempty"`
	// OnCall and Supervisor are paged when an urgent tip waits unclaimed.
	OnCall     PagingTarget `yaml:"oncall" json:"oncall"`
	Supervisor PagingTarget `yaml:"supervisor" json:"supervisor"`
}

// Limits bounds what one request may cost.
type Limits struct {
	MaxBody    int64 `yaml:"max_body" json:"max_body"`
	MaxSealing int   `yaml:"max_sealing" json:"max_sealing"`
}

// Log chooses the log format.
type Log struct {
	Format string `yaml:"format" json:"format"` // json (default) or text
	Level  string `yaml:"level" json:"level"`   // info (default), debug, warn, error
}

// Crypto chooses between implementations of the same cryptography.
type Crypto struct {
	// FastX25519 seals to X25519 recipients with crypto/x25519 (the same
	// age stanza and file as upstream age's, at about a fifth of its
	// CPU per recipient once a recipient has sealed a few tips); false uses
	// upstream age's. Unset means true. HOTLINE_UPSTREAM_X25519=1 forces
	// false, a switch back to upstream without editing the config.
	FastX25519 *bool `yaml:"fast_x25519" json:"fast_x25519"`
}

// UseFastX25519 reports whether crypto.fast_x25519 is on (the default).
func (c Crypto) UseFastX25519() bool { return c.FastX25519 == nil || *c.FastX25519 }

// maxConfigFile bounds the config file.
const maxConfigFile = 16 << 20

// Load reads, decodes and resolves the file at path. It does not validate:
// call Validate for the list of problems.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to open config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read config: %w", err)
	}
	if len(data) > maxConfigFile {
		// Never parse a prefix: cut at a line end it could be valid YAML
		// that silently lacks whatever came after.
		return nil, fmt.Errorf("config is larger than %d MiB; move large polygons into geojson files", maxConfigFile>>20)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("failed to resolve config directory: %w", err)
	}
	return Parse(data, abs, os.Getenv)
}

// Parse decodes data strictly, applies defaults and environment overrides,
// and resolves secrets. dir anchors relative paths.
func Parse(data []byte, dir string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("config is empty")
		}
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid config: more than one YAML document")
	}
	c.Dir = dir
	c.applyDefaults()
	if v := getenv("REDIS_URL"); v != "" {
		c.Redis.URL = v
	}
	if getenv("HOTLINE_UPSTREAM_X25519") == "1" {
		upstream := false
		c.Crypto.FastX25519 = &upstream
	}
	var errs []error
	if err := c.Secrets.Pepper.resolve(dir, getenv); err != nil {
		errs = append(errs, fmt.Errorf("secrets.pepper: %w", err))
	}
	if err := c.Twilio.AuthToken.resolve(dir, getenv); err != nil {
		errs = append(errs, fmt.Errorf("twilio.auth_token: %w", err))
	}
	if err := c.Secrets.ReplyKey.resolve(dir, getenv); err != nil {
		errs = append(errs, fmt.Errorf("secrets.reply_key: %w", err))
	}
	if err := c.Redis.Password.resolve(dir, getenv); err != nil {
		errs = append(errs, fmt.Errorf("redis.password: %w", err))
	}
	if v := getenv("HOTLINE_PEPPER"); v != "" {
		c.Secrets.Pepper.Set("env:HOTLINE_PEPPER", []byte(v))
		errs = dropPrefixed(errs, "secrets.pepper")
	}
	if v := getenv("TWILIO_AUTH_TOKEN"); v != "" {
		c.Twilio.AuthToken.Set("env:TWILIO_AUTH_TOKEN", []byte(v))
		errs = dropPrefixed(errs, "twilio.auth_token")
	}
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, nil
}

func dropPrefixed(errs []error, prefix string) []error {
	out := errs[:0]
	for _, e := range errs {
		if len(e.Error()) < len(prefix) || e.Error()[:len(prefix)] != prefix {
			out = append(out, e)
		}
	}
	return out
}

func (c *Config) applyDefaults() {
	c.applyDurabilityDefaults()
	c.applyTriageDefaults()
	c.applyChannelDefaults()
	c.Web.applyDefaults()
	if c.Crypto.FastX25519 == nil {
		fast := true
		c.Crypto.FastX25519 = &fast
	}
	orDefault(&c.Listen, DefaultListen)
	orDefault(&c.Queue.Lease, DefaultLease)
	orDefault(&c.Queue.DedupeTTL, DefaultDedupeTTL)
	orDefault(&c.Redis.Timeout, DefaultRedisTimeout)
	if c.Redis.ReplicaWait == 0 {
		// Never as long as a whole Redis call: a short redis.timeout
		// shortens the default too.
		c.Redis.ReplicaWait = DefaultReplicaWait
		if c.Redis.Timeout > 0 {
			c.Redis.ReplicaWait = min(DefaultReplicaWait, c.Redis.Timeout/2)
		}
	}
	orDefault(&c.Redis.Prefix, DefaultPrefix)
	orDefault(&c.Twilio.APIURL, DefaultAPIURL)
	orDefault(&c.Limits.MaxBody, DefaultMaxBody)
	orDefault(&c.Log.Format, "json")
	orDefault(&c.Log.Level, "info")
}

// Path resolves p against the config directory.
func (c *Config) Path(p string) string { return resolvePath(c.Dir, p) }

func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) || dir == "" {
		return p
	}
	return filepath.Join(dir, p)
}

// Agency returns the agency with id, or nil.
func (c *Config) Agency(id string) *Agency {
	for i := range c.Agencies {
		if c.Agencies[i].ID == id {
			return &c.Agencies[i]
		}
	}
	return nil
}

// orDefault sets *v to def when the file left it unset (the zero value).
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/config"
)

func problemsText(ps config.Problems) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteString("\n")
	}
	return b.String()
}

func TestValidate(t *testing.T) {
	var keys []seal.Generated
	for _, classic := range []bool{true, false} {
		g, err := seal.Generate(classic)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, g)
	}
	x25519, pq := keys[0], keys[1]
	// A recipients file that holds a secret key by mistake.
	leakedFile := writeFile(t, t.TempDir(), "leaked.recipients", "# officers\n"+x25519.Identity+"\n")
	secrets := []string{x25519.Identity, pq.Identity}

	tests := []struct {
		name    string
		mutate  func(c *config.Config)
		field   string // a problem on this field is expected
		warning bool   // and it is a warning, not an error
		also    []string
	}{
		{
			name:   "unknown region in an agency",
			mutate: func(c *config.Config) { c.Agencies[1].Regions = append(c.Agencies[1].Regions, "puno") },
			field:  "agencies.pe-callao.regions",
		},
		{
			name:   "emergency that is not a phone number",
			mutate: func(c *config.Config) { c.Agencies[1].Emergency = "call 105 <b>" },
			field:  "agencies.pe-callao.emergency",
		},
		{
			name: "urgency phrase that cannot be read",
			mutate: func(c *config.Config) {
				c.Channel.Urgency = map[string][]string{"es": {"[peligro] nos tienen encerrados"}}
			},
			field: "channel.urgency",
		},
		{
			name:   "voice recordings longer than Twilio records",
			mutate: func(c *config.Config) { c.Channel.Voice.MaxSeconds = config.MaxVoiceSeconds + 1 },
			field:  "channel.voice.max_seconds",
		},
		{
			name:   "voice recordings larger than a sealed tip may be",
			mutate: func(c *config.Config) { c.Channel.Voice.MaxBytes = config.MaxVoiceBytes + 1 },
			field:  "channel.voice.max_bytes",
		},
		{
			name:   "a caller limit that is not positive",
			mutate: func(c *config.Config) { c.Channel.Limits.CallerPerHour = -1 },
			field:  "channel.limits.caller_per_hour",
		},
		{
			name:   "unknown default_agency",
			mutate: func(c *config.Config) { c.DefaultAgency = "pe-puno" },
			field:  "default_agency",
		},
		{
			name:   "missing default_agency",
			mutate: func(c *config.Config) { c.DefaultAgency = "" },
			field:  "default_agency",
		},
		{
			name:   "negative min_replicas",
			mutate: func(c *config.Config) { n := -1; c.Redis.MinReplicas = &n },
			field:  "redis.min_replicas",
		},
		{
			name:   "min_replicas beyond any deployment",
			mutate: func(c *config.Config) { n := 100; c.Redis.MinReplicas = &n },
			field:  "redis.min_replicas",
		},
		{
			name:   "replica_wait as long as redis.timeout",
			mutate: func(c *config.Config) { c.Redis.ReplicaWait = c.Redis.Timeout },
			field:  "redis.replica_wait",
		},
		{
			name:   "replica_wait negative",
			mutate: func(c *config.Config) { c.Redis.ReplicaWait = -time.Second },
			field:  "redis.replica_wait",
		},
		{
			name:   "x25519 identity pasted as a recipient",
			mutate: func(c *config.Config) { c.Agencies[1].Recipients = []string{x25519.Identity} },
			field:  "agencies.pe-callao.recipients",
		},
		{
			name:   "pq identity pasted as a recipient",
			mutate: func(c *config.Config) { c.Agencies[0].Recipients = []string{pq.Identity} },
			field:  "agencies.pe-lima.recipients",
		},
		{
			name: "identity pasted with its recipient, age-keygen style",
			mutate: func(c *config.Config) {
				c.Agencies[0].Recipients = []string{pq.Recipient + "\n" + pq.Identity}
			},
			field: "agencies.pe-lima.recipients",
		},
		{
			name:   "identity in the recipients file",
			mutate: func(c *config.Config) { c.Agencies[1].RecipientsFile = leakedFile },
			field:  "agencies.pe-callao.recipients",
		},
		{
			name: "agency mixing pq and x25519",
			mutate: func(c *config.Config) {
				c.Agencies[0].Recipients = append(c.Agencies[0].Recipients, x25519.Recipient)
			},
			field: "agencies.pe-lima.recipients",
		},
		{
			name:   "agency mixing through its recipients file",
			mutate: func(c *config.Config) { c.Agencies[1].Recipients = []string{pq.Recipient} },
			field:  "agencies.pe-callao.recipients",
		},
		{
			name:   "agency with no recipients",
			mutate: func(c *config.Config) { c.Agencies[0].Recipients = nil },
			field:  "agencies.pe-lima.recipients",
		},
		{
			name:   "malformed recipient",
			mutate: func(c *config.Config) { c.Agencies[0].Recipients = []string{"age1notarecipient"} },
			field:  "agencies.pe-lima.recipients",
		},
		{
			name:   "ssh key as a recipient",
			mutate: func(c *config.Config) { c.Agencies[0].Recipients = []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA"} },
			field:  "agencies.pe-lima.recipients",
		},
		{
			name:   "missing recipients file",
			mutate: func(c *config.Config) { c.Agencies[1].RecipientsFile = "keys/missing.recipients" },
			field:  "agencies.pe-callao.recipients_file",
		},
		{
			name:   "missing pepper",
			mutate: func(c *config.Config) { c.Secrets.Pepper = config.Secret{} },
			field:  "secrets.pepper",
		},
		{
			name: "short pepper",
			mutate: func(c *config.Config) {
				c.Secrets.Pepper.Set("env:HOTLINE_PEPPER", []byte("0123456789abcdef0123456789abcde"))
			},
			field: "secrets.pepper",
		},
		{
			name:    "literal pepper",
			mutate:  func(c *config.Config) { c.Secrets.Pepper.Set(testPepper, []byte(testPepper)) },
			field:   "secrets.pepper",
			warning: true,
		},
		{
			name:   "missing auth token",
			mutate: func(c *config.Config) { c.Twilio.AuthToken = config.Secret{} },
			field:  "twilio.auth_token",
		},
		{
			name:    "literal auth token",
			mutate:  func(c *config.Config) { c.Twilio.AuthToken.Set("abc123", []byte("abc123")) },
			field:   "twilio.auth_token",
			warning: true,
		},
		{
			name:   "missing public_url",
			mutate: func(c *config.Config) { c.PublicURL = "" },
			field:  "public_url",
		},
		{
			name:   "public_url without scheme",
			mutate: func(c *config.Config) { c.PublicURL = "hotline.example.org" },
			field:  "public_url",
		},
		{
			name:   "public_url of another scheme",
			mutate: func(c *config.Config) { c.PublicURL = "ftp://hotline.example.org" },
			field:  "public_url",
		},
		{
			name:   "public_url unparsable",
			mutate: func(c *config.Config) { c.PublicURL = "https://[::1" },
			field:  "public_url",
		},
		{
			name:   "public_url with a query",
			mutate: func(c *config.Config) { c.PublicURL = "https://hotline.example.org/?a=b" },
			field:  "public_url",
		},
		{
			name:   "http public_url on a public host",
			mutate: func(c *config.Config) { c.PublicURL = "http://hotline.example.org" },
			field:  "public_url",
		},
		{
			name:   "http public_url on a public address",
			mutate: func(c *config.Config) { c.PublicURL = "http://203.0.113.7:8080" },
			field:  "public_url",
		},
		{
			name:   "bad listen",
			mutate: func(c *config.Config) { c.Listen = "8080" },
			field:  "listen",
		},
		{
			name:   "listen with a scheme",
			mutate: func(c *config.Config) { c.Listen = "http://127.0.0.1:8080" },
			field:  "listen",
		},
		{
			name:   "redis cluster without addrs",
			mutate: func(c *config.Config) { c.Redis.Mode = "cluster" },
			field:  "redis.addrs",
		},
		{
			name: "redis sentinel without master_name",
			mutate: func(c *config.Config) {
				c.Redis.Mode = "sentinel"
				c.Redis.Addrs = []string{"10.0.0.1:26379", "10.0.0.2:26379"}
			},
			field: "redis.master_name",
		},
		{
			name: "redis sentinel without addrs",
			mutate: func(c *config.Config) {
				c.Redis.Mode = "sentinel"
				c.Redis.MasterName = "mymaster"
			},
			field: "redis.addrs",
		},
		{
			name: "redis addr without port",
			mutate: func(c *config.Config) {
				c.Redis.Mode = "cluster"
				c.Redis.Addrs = []string{"10.0.0.1:7000", "10.0.0.2"}
			},
			field: "redis.addrs[1]",
		},
		{
			name:   "unknown redis mode",
			mutate: func(c *config.Config) { c.Redis.Mode = "replica" },
			field:  "redis.mode",
		},
		{
			name:   "missing redis url",
			mutate: func(c *config.Config) { c.Redis.URL = "" },
			field:  "redis.url",
		},
		{
			name:   "redis url of another scheme",
			mutate: func(c *config.Config) { c.Redis.URL = "http://127.0.0.1:6379" },
			field:  "redis.url",
		},
		{
			name:   "redis prefix with a hash tag",
			mutate: func(c *config.Config) { c.Redis.Prefix = "{hl}" },
			field:  "redis.prefix",
		},
		{
			name:   "lease too short",
			mutate: func(c *config.Config) { c.Queue.Lease = 5e9 },
			field:  "queue.lease",
		},
		{
			name:   "number with spaces",
			mutate: func(c *config.Config) { c.Twilio.Numbers["+1 500 555 0008"] = config.Number{} },
			field:  "twilio.numbers.+1 500 555 0008",
		},
		{
			name:   "number without +",
			mutate: func(c *config.Config) { c.Twilio.Numbers["15005550008"] = config.Number{} },
			field:  "twilio.numbers.15005550008",
		},
		{
			name:   "number with another channel prefix",
			mutate: func(c *config.Config) { c.Twilio.Numbers["sms:+15005550008"] = config.Number{} },
			field:  "twilio.numbers.sms:+15005550008",
		},
		{
			name:   "number with unknown region",
			mutate: func(c *config.Config) { c.Twilio.Numbers["+15005550006"] = config.Number{Region: "puno"} },
			field:  "twilio.numbers.+15005550006.region",
		},
		{
			name:   "bad account sid",
			mutate: func(c *config.Config) { c.Twilio.AccountSID = "ACxxxxxxxx" },
			field:  "twilio.account_sid",
		},
		{
			name:   "bad api_url",
			mutate: func(c *config.Config) { c.Twilio.APIURL = "api.twilio.com" },
			field:  "twilio.api_url",
		},
		{
			name:   "duplicate agency id",
			mutate: func(c *config.Config) { c.Agencies = append(c.Agencies, c.Agencies[1]) },
			field:  "agencies.pe-callao.id",
		},
		{
			name:   "agency id with capitals",
			mutate: func(c *config.Config) { c.Agencies[1].ID = "PE-Callao"; c.Agencies[1].Regions = nil },
			field:  "agencies.PE-Callao.id",
			also:   []string{"regions.callao"},
		},
		{
			name:   "agency without id",
			mutate: func(c *config.Config) { c.Agencies[1].ID = "" },
			field:  "agencies[1].id",
		},
		{
			name:   "duplicate region id",
			mutate: func(c *config.Config) { c.Regions = append(c.Regions, c.Regions[1]) },
			field:  "regions[2].id",
		},
		{
			name:   "region with neither geojson nor polygon",
			mutate: func(c *config.Config) { c.Regions[1].Polygon = nil },
			field:  "regions[1]",
		},
		{
			name:   "region with both geojson and polygon",
			mutate: func(c *config.Config) { c.Regions[1].GeoJSON = "geo/lima.geojson" },
			field:  "regions[1]",
		},
		{
			name:   "missing geojson file",
			mutate: func(c *config.Config) { c.Regions[0].GeoJSON = "geo/missing.geojson" },
			field:  "regions[0].geojson",
		},
		{
			name:   "feature name without name_property",
			mutate: func(c *config.Config) { c.Regions[0].Feature = "Miraflores"; c.Regions[0].NameProperty = "" },
			field:  "regions[0].name_property",
		},
		{
			name: "region not covered by any agency",
			mutate: func(c *config.Config) {
				c.Regions = append(c.Regions, config.Region{ID: "puno", Polygon: [][][2]float64{{{-70, -16}, {-69, -16}, {-69, -15}, {-70, -16}}}})
			},
			field:   "regions.puno",
			warning: true,
		},
		{
			name:   "unknown log format",
			mutate: func(c *config.Config) { c.Log.Format = "xml" },
			field:  "log.format",
		},
		{
			name:   "unknown log level",
			mutate: func(c *config.Config) { c.Log.Level = "trace" },
			field:  "log.level",
		},
		{
			name:   "alias without letters",
			mutate: func(c *config.Config) { c.Regions[0].Aliases = config.RegionAliases{"--": ""} },
			field:  "regions[0].aliases.--",
		},
		{
			name: "list-form alias on an each_feature region",
			mutate: func(c *config.Config) {
				c.Regions[0].EachFeature = true
				c.Regions[0].Aliases = config.RegionAliases{"Cercado": ""}
			},
			field: "regions[0].aliases.Cercado",
			also:  []string{"regions.lima"}, // each_feature makes lima/<feature>, so lima itself is no longer a region
		},
		{
			name:   "alias naming a feature of an inline polygon",
			mutate: func(c *config.Config) { c.Regions[1].Aliases = config.RegionAliases{"Chalaco": "CALLAO"} },
			field:  "regions[1].aliases.Chalaco",
		},
		{
			name:   "max_body too small",
			mutate: func(c *config.Config) { c.Limits.MaxBody = 100 },
			field:  "limits.max_body",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseValid(t)
			tt.mutate(c)
			ps := c.Validate()

			var found *config.Problem
			for i := range ps {
				if ps[i].Field == tt.field {
					found = &ps[i]
					break
				}
			}
			if found == nil {
				t.Fatalf("no problem on %s; got:\n%s", tt.field, problemsText(ps))
			}
			if found.Warning != tt.warning {
				t.Errorf("Warning = %v, want %v: %s", found.Warning, tt.warning, found)
			}
			if found.Message == "" || found.Fix == "" {
				t.Errorf("problem without a message or a fix: %#v", *found)
			}
			if !strings.Contains(found.String(), tt.field) || !strings.Contains(found.String(), "hint: "+found.Fix) {
				t.Errorf("String() = %q, want the field and the hint", found.String())
			}

			// One thing broken, one thing reported: nothing else cascades.
			allowed := map[string]bool{tt.field: true}
			for _, f := range tt.also {
				allowed[f] = true
			}
			for _, p := range ps {
				if !allowed[p.Field] {
					t.Errorf("unexpected problem: %s", p)
				}
			}
			if tt.warning {
				if errs := ps.Errors(); len(errs) != 0 {
					t.Errorf("a warning case gives errors:\n%s", problemsText(errs))
				}
				if err := ps.Err(); err != nil {
					t.Errorf("Err() = %v, want nil for warnings only", err)
				}
			} else if err := ps.Err(); err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Errorf("Err() = %v, want an error naming %s", err, tt.field)
			}

			// A pasted identity is named as such, never quoted.
			text := problemsText(ps)
			if err := ps.Err(); err != nil {
				text += err.Error()
			}
			for _, s := range secrets {
				if strings.Contains(strings.ToUpper(text), strings.ToUpper(s)) || strings.Contains(text, s[20:40]) {
					t.Fatalf("problems quote a secret key:\n%s", text)
				}
			}
		})
	}
}

func TestValidateIdentityProblemSaysCompromised(t *testing.T) {
	id, err := seal.Generate(false)
	if err != nil {
		t.Fatal(err)
	}
	c := parseValid(t)
	c.Agencies[0].Recipients = []string{id.Identity}
	ps := c.Validate()
	if len(ps) != 1 {
		t.Fatalf("got %d problems, want 1:\n%s", len(ps), problemsText(ps))
	}
	if !strings.Contains(ps[0].Message, "secret identity") || !strings.Contains(ps[0].Fix, "compromised") {
		t.Errorf("problem = %s", ps[0])
	}
}

func TestValidateLoopbackHTTPIsFine(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080", "https://hotline.example.org/prefix"} {
		c := parseValid(t)
		c.PublicURL = u
		if ps := c.Validate(); len(ps) != 0 {
			t.Errorf("public_url %s: %s", u, problemsText(ps))
		}
	}
}

func TestValidateRedisModes(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*config.Config)
	}{
		{"single", func(c *config.Config) { c.Redis.Mode = "single" }},
		{"unix socket", func(c *config.Config) { c.Redis.URL = "unix:///run/redis.sock" }},
		{"tls", func(c *config.Config) { c.Redis.URL = "rediss://redis.internal:6380/0" }},
		{"cluster", func(c *config.Config) {
			c.Redis.URL = ""
			c.Redis.Mode = "cluster"
			c.Redis.Addrs = []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"}
		}},
		{"sentinel", func(c *config.Config) {
			c.Redis.URL = ""
			c.Redis.Mode = "sentinel"
			c.Redis.Addrs = []string{"10.0.0.1:26379"}
			c.Redis.MasterName = "mymaster"
		}},
	}
	for _, tt := range tests {
		c := parseValid(t)
		tt.mutate(c)
		if ps := c.Validate(); len(ps) != 0 {
			t.Errorf("%s: %s", tt.name, problemsText(ps))
		}
	}
}

func TestRedisReplicaKeys(t *testing.T) {
	base := string(readFixture(t, "valid.yaml"))
	parse := func(extra string) *config.Config {
		t.Helper()
		data := strings.Replace(base, "redis:\n", "redis:\n"+extra, 1)
		if data == base && extra != "" {
			t.Fatal("fixture has no redis section")
		}
		c, err := config.Parse([]byte(data), testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
		if err != nil {
			t.Fatalf("parse %q: %v", extra, err)
		}
		return c
	}
	tests := []struct {
		extra    string
		replicas int // queue.Options.Replicas: 0 detect, -1 never
		wait     time.Duration
	}{
		{"", 0, config.DefaultReplicaWait},
		{"  min_replicas: 0\n", -1, config.DefaultReplicaWait},
		{"  min_replicas: 2\n  replica_wait: 250ms\n", 2, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		c := parse(tt.extra)
		if got := c.Redis.QueueReplicas(); got != tt.replicas || c.Redis.ReplicaWait != tt.wait {
			t.Errorf("%q: replicas %d wait %v, want %d %v", tt.extra, got, c.Redis.ReplicaWait, tt.replicas, tt.wait)
		}
		if ps := c.Validate().Errors(); len(ps) != 0 {
			t.Errorf("%q: %s", tt.extra, problemsText(ps))
		}
	}
	// Strict: a misspelt key is an error, not a silent default.
	data := strings.Replace(base, "redis:\n", "redis:\n  min_replica: 1\n", 1)
	if _, err := config.Parse([]byte(data), testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get); err == nil {
		t.Fatal("misspelt redis.min_replica accepted")
	}
}

// TestValidateReportsEverything: an operator fixes a config in one go, not
// one problem per run.
func TestValidateReportsEverything(t *testing.T) {
	c := parseValid(t)
	c.Listen = "nonsense"
	c.Secrets.Pepper = config.Secret{}
	c.DefaultAgency = "pe-nowhere"
	c.Agencies[1].Regions = []string{"atlantis"}
	c.Regions[0].GeoJSON = "geo/missing.geojson"

	errs := c.Validate().Errors()
	if len(errs) < 5 {
		t.Fatalf("got %d errors, want at least 5:\n%s", len(errs), problemsText(errs))
	}
	fields := map[string]bool{}
	for _, p := range errs {
		fields[p.Field] = true
	}
	for _, f := range []string{"listen", "secrets.pepper", "default_agency", "agencies.pe-callao.regions", "regions[0].geojson"} {
		if !fields[f] {
			t.Errorf("no error on %s", f)
		}
	}
	err := c.Validate().Err()
	if err == nil || strings.Count(err.Error(), "error: ") != len(errs) {
		t.Errorf("Err() does not list every error: %v", err)
	}
}

// TestValidateFromYAML runs the whole path an operator takes: a file with
// three independent mistakes, parsed and validated.
func TestValidateFromYAML(t *testing.T) {
	data := strings.NewReplacer(
		"public_url: https://hotline.example.org", "public_url: http://hotline.example.org",
		"default_agency: pe-lima", "default_agency: pe-cusco",
		"regions: [callao]", "regions: [callao, cusco]",
	).Replace(string(readFixture(t, "valid.yaml")))
	c, err := config.Parse([]byte(data), testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
	if err != nil {
		t.Fatal(err)
	}
	errs := c.Validate().Errors()
	if len(errs) != 3 {
		t.Fatalf("got %d errors, want 3:\n%s", len(errs), problemsText(errs))
	}
}

// TestLiteralSecretsWarn: secrets written into the file itself work (for a
// laptop), but Validate warns, without quoting them.
func TestLiteralSecretsWarn(t *testing.T) {
	const literalToken = "literal-twilio-token-4c9e2a7f"
	data := strings.NewReplacer(
		"pepper: env:HOTLINE_PEPPER", "pepper: "+testPepper,
		"auth_token: file:secrets/twilio_auth_token", "auth_token: "+literalToken,
	).Replace(string(readFixture(t, "valid.yaml")))
	c, err := config.Parse([]byte(data), testdataDir(t), env{}.get)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Secrets.Pepper.Value()) != testPepper || string(c.Twilio.AuthToken.Value()) != literalToken {
		t.Fatal("literal secrets not used as their value")
	}
	ps := c.Validate()
	if len(ps.Errors()) != 0 {
		t.Fatalf("errors:\n%s", problemsText(ps.Errors()))
	}
	warned := map[string]bool{}
	for _, p := range ps {
		if p.Warning && p.Fix != "" {
			warned[p.Field] = true
		}
	}
	if len(ps) != 2 || !warned["secrets.pepper"] || !warned["twilio.auth_token"] {
		t.Fatalf("want warnings on secrets.pepper and twilio.auth_token, got:\n%s", problemsText(ps))
	}
	if text := problemsText(ps); strings.Contains(text, testPepper) || strings.Contains(text, literalToken) {
		t.Fatalf("warnings quote the secret:\n%s", text)
	}
}

// TestValidateUrgencyPhrases: a configured urgency phrase that cannot be
// read is reported by its place, never quoted (it may be what a victim
// writes); one that can, with its class, is fine.
func TestValidateUrgencyPhrases(t *testing.T) {
	c := parseValid(t)
	c.Channel.Urgency = map[string][]string{"es": {"[confinement] nos tienen presos", "[peligro] secreto encerrados", "... solo"}}
	text := problemsText(c.Validate())
	if !strings.Contains(text, "phrase 2 of es") || !strings.Contains(text, "phrase 3 of es") || strings.Contains(text, "phrase 1 of es") {
		t.Errorf("problems:\n%s", text)
	}
	if strings.Contains(text, "secreto") || strings.Contains(text, "solo") {
		t.Errorf("problems quote a phrase:\n%s", text)
	}
}

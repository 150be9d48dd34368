package config_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/config"
)

// testPepper is a fake pepper of the right length; it protects nothing.
const testPepper = "test-pepper-0123456789abcdef-0123456789abcdef"

// The fixture's public recipients (testdata/valid.yaml and
// testdata/keys/callao.recipients). Their identities were never kept.
const (
	fixtureX25519A = "age1xnrmy86mfwae2dkrmd80py28r9xcqhx5d36gvqv2f7c80cr9zfxq4mj8hd"
	fixtureX25519B = "age1ggr2chhwl3yr9fdqvr5h8pyn7kyr6730j5tnavev57c48mw96dhqx2rra9"
)

// env is a fake environment for Parse.
type env map[string]string

func (e env) get(name string) string { return e[name] }

func testdataDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeFile writes content to a file name in dir, readable by its owner
// only, and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseValid parses testdata/valid.yaml with HOTLINE_PEPPER set.
func parseValid(t testing.TB) *config.Config {
	t.Helper()
	c, err := config.Parse(readFixture(t, "valid.yaml"), testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
	if err != nil {
		t.Fatalf("Parse(valid.yaml): %v", err)
	}
	return c
}

func TestParseValid(t *testing.T) {
	c := parseValid(t)
	dir := testdataDir(t)

	checks := []struct {
		name string
		got  any
		want any
	}{
		{"listen", c.Listen, "127.0.0.1:8181"},
		{"public_url", c.PublicURL, "https://hotline.example.org"},
		{"redis.url", c.Redis.URL, "redis://127.0.0.1:6379/7"},
		{"redis.prefix", c.Redis.Prefix, "hltest"},
		{"redis.timeout", c.Redis.Timeout, 3 * time.Second},
		{"redis.mode", c.Redis.Mode, ""},
		{"queue.lease", c.Queue.Lease, 4 * time.Minute},
		{"queue.dedupe_ttl (default)", c.Queue.DedupeTTL, config.DefaultDedupeTTL},
		{"secrets.pepper", string(c.Secrets.Pepper.Value()), testPepper},
		{"secrets.pepper reference", c.Secrets.Pepper.Reference(), "env:HOTLINE_PEPPER"},
		{"secrets.pepper literal", c.Secrets.Pepper.IsLiteral(), false},
		{"twilio.account_sid", c.Twilio.AccountSID, "AC0123456789abcdef0123456789abcdef"},
		{"twilio.auth_token (newline trimmed)", string(c.Twilio.AuthToken.Value()), "test-auth-token-not-a-real-secret"},
		{"twilio.auth_token reference", c.Twilio.AuthToken.Reference(), "file:secrets/twilio_auth_token"},
		{"twilio.api_url", c.Twilio.APIURL, "https://api.twilio.com"},
		{"twilio.numbers", len(c.Twilio.Numbers), 2},
		{"number region", c.Twilio.Numbers["+15005550006"].Region, "lima"},
		{"number reply", c.Twilio.Numbers["whatsapp:+15005550007"].Reply, "none"},
		{"redis.password unset", len(c.Redis.Password.Value()), 0},
		{"regions", len(c.Regions), 2},
		{"regions[0].geojson", c.Regions[0].GeoJSON, "geo/lima.geojson"},
		{"regions[0].feature", c.Regions[0].Feature, "*"},
		{"regions[0].name_property", c.Regions[0].NameProperty, "distrito"},
		{"regions[1].polygon rings", len(c.Regions[1].Polygon), 1},
		{"regions[1].polygon points", len(c.Regions[1].Polygon[0]), 5},
		{"regions[1].polygon[0][1]", c.Regions[1].Polygon[0][1], [2]float64{-77.05, -12.10}},
		{"agencies", len(c.Agencies), 2},
		{"agencies[0].id", c.Agencies[0].ID, "pe-lima"},
		{"agencies[0].name", c.Agencies[0].Name, "Lima trafficking unit"},
		{"agencies[0].emergency", c.Agencies[0].Emergency, "105"},
		{"agencies[1].emergency (optional)", c.Agencies[1].Emergency, ""},
		{"agencies[0] recipient kind", strings.HasPrefix(c.Agencies[0].Recipients[0], "age1pq1"), true},
		{"agencies[1].recipients_file", c.Agencies[1].RecipientsFile, "keys/callao.recipients"},
		{"agencies[1].regions", strings.Join(c.Agencies[1].Regions, ","), "callao"},
		{"default_agency", c.DefaultAgency, "pe-lima"},
		{"limits.max_body", c.Limits.MaxBody, int64(32768)},
		{"limits.max_sealing", c.Limits.MaxSealing, 8},
		{"log.format", c.Log.Format, "text"},
		{"log.level", c.Log.Level, "debug"},
		{"Dir", c.Dir, dir},
		{"Agency(pe-callao)", c.Agency("pe-callao").Name, "Callao port unit"},
		{"Agency(unknown)", c.Agency("pe-puno") == nil, true},
		{"Path(relative)", c.Path("geo/lima.geojson"), filepath.Join(dir, "geo", "lima.geojson")},
		{"Path(absolute)", c.Path("/etc/hotline/x"), "/etc/hotline/x"},
		{"Path(empty)", c.Path(""), ""},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}

	// recipients and recipients_file together; comments and blank lines
	// in the file are skipped.
	lines, err := c.RecipientLines(*c.Agency("pe-callao"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lines, ",") != fixtureX25519A+","+fixtureX25519B {
		t.Errorf("RecipientLines(pe-callao) = %q", lines)
	}

	if ps := c.Validate(); len(ps) != 0 {
		t.Errorf("the valid fixture has problems:\n%s", problemsText(ps))
	}
}

func TestRecipientLinesMissingFile(t *testing.T) {
	c := parseValid(t)
	a := *c.Agency("pe-callao")
	a.RecipientsFile = "keys/missing.recipients"
	lines, err := c.RecipientLines(a)
	if err == nil || !strings.Contains(err.Error(), "missing.recipients") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
	if len(lines) != 1 || lines[0] != fixtureX25519A {
		t.Fatalf("the inline recipients are lost: %q", lines)
	}
}

func TestLoad(t *testing.T) {
	t.Setenv("HOTLINE_PEPPER", testPepper)
	t.Setenv("REDIS_URL", "")
	t.Setenv("TWILIO_AUTH_TOKEN", "")
	c, err := config.Load(filepath.Join("testdata", "valid.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Dir != testdataDir(t) || !filepath.IsAbs(c.Dir) {
		t.Errorf("Dir = %q, want %q", c.Dir, testdataDir(t))
	}
	if string(c.Twilio.AuthToken.Value()) != "test-auth-token-not-a-real-secret" {
		t.Error("file: secret not read relative to the config file")
	}
	if ps := c.Validate(); len(ps) != 0 {
		t.Errorf("problems:\n%s", problemsText(ps))
	}

	_, err = config.Load(filepath.Join("testdata", "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: err = %v, want fs.ErrNotExist", err)
	}
}

func TestParseDefaults(t *testing.T) {
	c, err := config.Parse([]byte("public_url: https://h.example.org\n"), "", env{}.get)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Listen, config.DefaultListen},
		{"queue.lease", c.Queue.Lease, config.DefaultLease},
		{"queue.dedupe_ttl", c.Queue.DedupeTTL, config.DefaultDedupeTTL},
		{"redis.timeout", c.Redis.Timeout, config.DefaultRedisTimeout},
		{"redis.prefix", c.Redis.Prefix, config.DefaultPrefix},
		{"twilio.api_url", c.Twilio.APIURL, config.DefaultAPIURL},
		{"limits.max_body", c.Limits.MaxBody, int64(config.DefaultMaxBody)},
		{"log.format", c.Log.Format, "json"},
		{"log.level", c.Log.Level, "info"},
		{"pepper reference", c.Secrets.Pepper.Reference(), ""},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

func TestParseStrict(t *testing.T) {
	valid := string(readFixture(t, "valid.yaml"))
	tests := []struct {
		name string
		data string
		want []string // substrings of the error
	}{
		{"unknown top-level key", valid + "listne: 0.0.0.0:80\n", []string{"listne"}},
		{"unknown key in redis", "redis:\n  url: redis://x\n  pasword: hunter2\n", []string{"pasword"}},
		{"unknown key in an agency", "agencies:\n  - id: a\n    regionz: [lima]\n", []string{"regionz"}},
		{"unknown key in a number", "twilio:\n  numbers:\n    \"+15005550006\": { regoin: lima }\n", []string{"regoin"}},
		{"unknown key in a region", "regions:\n  - id: lima\n    geojsn: x.geojson\n", []string{"geojsn"}},
		{"two documents", valid + "---\nlisten: 127.0.0.1:9\n", []string{"more than one YAML document"}},
		{"two documents, first short", "listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n", []string{"more than one YAML document"}},
		{"empty", "", []string{"config is empty"}},
		{"only comments", "# nothing\n\n# here\n", []string{"config is empty"}},
		{"duplicate key", "listen: a:1\nlisten: b:2\n", []string{"listen"}},
		{"wrong type", "listen: [127.0.0.1, 8080]\n", []string{"invalid config"}},
		{"bad duration", "queue:\n  lease: five minutes\n", []string{"invalid config"}},
		{"secret as a mapping", "secrets:\n  pepper:\n    env: HOTLINE_PEPPER\n", []string{"a secret must be a string"}},
		{"secret as a list", "twilio:\n  auth_token: [a, b]\n", []string{"a secret must be a string"}},
		{"not a mapping", "- listen\n- public_url\n", []string{"invalid config"}},
		{"broken syntax", "listen: \"127.0.0.1\n", []string{"invalid config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tt.data), testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get)
			if err == nil {
				t.Fatal("Parse accepted the config")
			}
			if c != nil {
				t.Error("a config was returned with a decoding error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestParseSecrets(t *testing.T) {
	tmp := t.TempDir()
	writeFile(t, tmp, "pepper", testPepper+"\r\n")
	abs := writeFile(t, tmp, "abs-token", "absolute-token\n")
	writeFile(t, tmp, "big", strings.Repeat("x", 64<<10+1))
	writeFile(t, tmp, "at-limit", strings.Repeat("y", 64<<10))
	writeFile(t, tmp, "multiline", "line one\nline two\n\n")

	tests := []struct {
		name      string
		yaml      string
		env       env
		field     func(*config.Config) config.Secret
		want      string   // the resolved value
		wantErr   []string // substrings; the value must not be resolved
		wantNotIn []string // never in the error
		literal   bool
	}{
		{
			name: "env", yaml: "secrets: {pepper: env:MY_PEPPER}", env: env{"MY_PEPPER": testPepper},
			field: pepper, want: testPepper,
		},
		{
			name: "env unset", yaml: "secrets: {pepper: env:MY_PEPPER}", env: env{"OTHER": testPepper},
			field: pepper, wantErr: []string{"secrets.pepper", "MY_PEPPER", "empty or not set"}, wantNotIn: []string{testPepper},
		},
		{
			name: "file relative to the config dir", yaml: "secrets: {pepper: file:pepper}",
			field: pepper, want: testPepper,
		},
		{
			name: "file absolute", yaml: "twilio: {auth_token: \"file:" + abs + "\"}",
			field: authToken, want: "absolute-token",
		},
		{
			name: "file keeps inner newlines", yaml: "redis: {password: file:multiline}",
			field: password, want: "line one\nline two",
		},
		{
			name: "file at the size limit", yaml: "redis: {password: file:at-limit}",
			field: password, want: strings.Repeat("y", 64<<10),
		},
		{
			name: "file too big", yaml: "secrets: {pepper: file:big}",
			field: pepper, wantErr: []string{"secrets.pepper", "larger than"}, wantNotIn: []string{"xxxxxxxx"},
		},
		{
			name: "file missing", yaml: "twilio: {auth_token: file:nope}",
			field: authToken, wantErr: []string{"twilio.auth_token", filepath.Join(tmp, "nope")},
		},
		{
			name: "redis password env", yaml: "redis: {password: env:REDIS_PW}", env: env{"REDIS_PW": "pw"},
			field: password, want: "pw",
		},
		{
			name: "literal", yaml: "secrets: {pepper: " + testPepper + "}",
			field: pepper, want: testPepper, literal: true,
		},
		{
			name: "unset", yaml: "listen: 127.0.0.1:1",
			field: pepper, want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tt.yaml), tmp, tt.env.get)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("Parse succeeded")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("err = %q, want it to contain %q", err, w)
					}
				}
				for _, w := range tt.wantNotIn {
					if strings.Contains(err.Error(), w) {
						t.Errorf("err = %q quotes %q", err, w)
					}
				}
				if c == nil {
					t.Fatal("no config returned with a secret error")
				}
				if v := tt.field(c).Value(); len(v) != 0 {
					t.Errorf("value resolved despite the error: %d bytes", len(v))
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			s := tt.field(c)
			if string(s.Value()) != tt.want {
				t.Errorf("value = %q, want %q", s.Value(), tt.want)
			}
			if s.IsLiteral() != tt.literal {
				t.Errorf("IsLiteral() = %v, want %v", s.IsLiteral(), tt.literal)
			}
			if tt.literal && s.Reference() != "[literal, redacted]" {
				t.Errorf("Reference() of a literal = %q", s.Reference())
			}
		})
	}
}

func pepper(c *config.Config) config.Secret    { return c.Secrets.Pepper }
func authToken(c *config.Config) config.Secret { return c.Twilio.AuthToken }
func password(c *config.Config) config.Secret  { return c.Redis.Password }

func TestParseReportsEverySecretError(t *testing.T) {
	data := "secrets: {pepper: env:NO_PEPPER}\ntwilio: {auth_token: env:NO_TOKEN}\nredis: {password: file:no-password}\n"
	_, err := config.Parse([]byte(data), t.TempDir(), env{}.get)
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	for _, w := range []string{"secrets.pepper", "NO_PEPPER", "twilio.auth_token", "NO_TOKEN", "redis.password", "no-password"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %q, want it to contain %q", err, w)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	const (
		envPepper = "pepper-from-HOTLINE_PEPPER-0123456789abcdef"
		envToken  = "token-from-TWILIO_AUTH_TOKEN"
		envRedis  = "redis://10.0.0.9:6380/3"
	)
	tests := []struct {
		name        string
		yaml        string
		env         env
		wantPepper  string
		wantToken   string
		wantRedis   string
		wantErr     string // substring; "" for none
		wantNoErrOn string // a field the error must not name
	}{
		{
			name:       "HOTLINE_PEPPER wins over env:NAME",
			yaml:       "secrets: {pepper: env:OTHER_PEPPER}",
			env:        env{"OTHER_PEPPER": "from-other-variable-0123456789abcdef", "HOTLINE_PEPPER": envPepper},
			wantPepper: envPepper, wantRedis: "",
		},
		{
			name:       "HOTLINE_PEPPER wins over a missing file",
			yaml:       "secrets: {pepper: file:does-not-exist}",
			env:        env{"HOTLINE_PEPPER": envPepper},
			wantPepper: envPepper,
		},
		{
			name:       "HOTLINE_PEPPER wins over a literal",
			yaml:       "secrets: {pepper: literal-pepper-0123456789abcdef0123}",
			env:        env{"HOTLINE_PEPPER": envPepper},
			wantPepper: envPepper,
		},
		{
			name:       "HOTLINE_PEPPER without any pepper in the file",
			yaml:       "listen: 127.0.0.1:1",
			env:        env{"HOTLINE_PEPPER": envPepper},
			wantPepper: envPepper,
		},
		{
			name:      "TWILIO_AUTH_TOKEN wins over file:",
			yaml:      "twilio: {auth_token: file:secrets/twilio_auth_token}",
			env:       env{"TWILIO_AUTH_TOKEN": envToken},
			wantToken: envToken,
		},
		{
			name:      "TWILIO_AUTH_TOKEN rescues an unset variable",
			yaml:      "twilio: {auth_token: env:UNSET}",
			env:       env{"TWILIO_AUTH_TOKEN": envToken},
			wantToken: envToken,
		},
		{
			name:      "REDIS_URL wins",
			yaml:      "redis: {url: redis://127.0.0.1:6379/0}",
			env:       env{"REDIS_URL": envRedis},
			wantRedis: envRedis,
		},
		{
			name:      "no override",
			yaml:      "redis: {url: redis://127.0.0.1:6379/0}\ntwilio: {auth_token: file:secrets/twilio_auth_token}",
			env:       env{},
			wantRedis: "redis://127.0.0.1:6379/0", wantToken: "test-auth-token-not-a-real-secret",
		},
		{
			name:        "an override rescues only its own secret",
			yaml:        "secrets: {pepper: env:UNSET_PEPPER}\ntwilio: {auth_token: env:UNSET_TOKEN}",
			env:         env{"HOTLINE_PEPPER": envPepper},
			wantPepper:  envPepper,
			wantErr:     "twilio.auth_token",
			wantNoErrOn: "secrets.pepper",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tt.yaml), testdataDir(t), tt.env.get)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Parse: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			case tt.wantNoErrOn != "" && strings.Contains(err.Error(), tt.wantNoErrOn):
				t.Fatalf("err = %q names %s, which the environment set", err, tt.wantNoErrOn)
			}
			if tt.wantPepper != "" {
				if got := string(c.Secrets.Pepper.Value()); got != tt.wantPepper {
					t.Errorf("pepper = %q, want %q", got, tt.wantPepper)
				}
				if c.Secrets.Pepper.Reference() != "env:HOTLINE_PEPPER" || c.Secrets.Pepper.IsLiteral() {
					t.Errorf("pepper reference = %q", c.Secrets.Pepper.Reference())
				}
				for _, p := range c.Validate() {
					if p.Field == "secrets.pepper" {
						t.Errorf("problem with the overridden pepper: %s", p)
					}
				}
			}
			if tt.wantToken != "" {
				if got := string(c.Twilio.AuthToken.Value()); got != tt.wantToken {
					t.Errorf("auth token = %q, want %q", got, tt.wantToken)
				}
			}
			if c.Redis.URL != tt.wantRedis {
				t.Errorf("redis.url = %q, want %q", c.Redis.URL, tt.wantRedis)
			}
		})
	}
}

// TestLoadTooLarge: a config over the size limit is refused, not silently
// cut short (which could drop the agencies or the default at its end).
func TestLoadTooLarge(t *testing.T) {
	valid := readFixture(t, "valid.yaml")
	head := bytes.Replace(valid, []byte("default_agency: pe-lima\n"), nil, 1)
	var b bytes.Buffer
	b.Write(head)
	line := "# " + strings.Repeat("padding ", 100) + "\n"
	for b.Len() <= 16<<20 {
		b.WriteString(line)
	}
	b.WriteString("default_agency: pe-lima\n")
	path := writeFile(t, t.TempDir(), "big.yaml", b.String())
	t.Setenv("HOTLINE_PEPPER", testPepper)
	t.Setenv("REDIS_URL", "")
	t.Setenv("TWILIO_AUTH_TOKEN", "test-token") // the fixture's token file is not beside big.yaml
	c, err := config.Load(path)
	if err == nil {
		t.Fatalf("Load of a %d-byte config succeeded (default_agency = %q)", b.Len(), c.DefaultAgency)
	}
	if !strings.Contains(err.Error(), "larger than") {
		t.Errorf("err = %v, want a size error", err)
	}
}

// crypto.fast_x25519 is on unless the config says false or
// HOTLINE_UPSTREAM_X25519=1 forces upstream age.
func TestCryptoFastX25519(t *testing.T) {
	base := string(readFixture(t, "valid.yaml"))
	tests := []struct {
		name  string
		extra string
		env   env
		want  bool
	}{
		{"unset", "", env{}, true},
		{"true", "crypto: {fast_x25519: true}\n", env{}, true},
		{"false", "crypto: {fast_x25519: false}\n", env{}, false},
		{"env forces upstream", "crypto: {fast_x25519: true}\n", env{"HOTLINE_UPSTREAM_X25519": "1"}, false},
		{"env unset value", "", env{"HOTLINE_UPSTREAM_X25519": ""}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["HOTLINE_PEPPER"] = testPepper
			c, err := config.Parse([]byte(base+tc.extra), testdataDir(t), tc.env.get)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Crypto.UseFastX25519(); got != tc.want {
				t.Errorf("UseFastX25519() = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := config.Parse([]byte(base+"crypto: {fast_x25519: true, typo: 1}\n"), testdataDir(t), env{"HOTLINE_PEPPER": testPepper}.get); err == nil {
		t.Error("an unknown key under crypto was accepted")
	}
}

package config_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hotline-org/hotline/gateway/config"
)

// leaks reports how out reveals secret, if it does: as is, as Go syntax for
// bytes (%#v of a []byte), or in the encodings json and yaml use for bytes.
func leaks(out, secret string) (string, bool) {
	forms := map[string]string{
		"plain":     secret,
		"go bytes":  strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%#v", []byte(secret[:8])), "[]byte{"), "}"),
		"%v bytes":  strings.Trim(fmt.Sprint([]byte(secret[:8])), "[]"),
		"base64":    base64.StdEncoding.EncodeToString([]byte(secret))[:12],
		"hex":       hex.EncodeToString([]byte(secret[:8])),
		"middle":    secret[len(secret)/2-4 : len(secret)/2+4],
		"yaml bin":  base64.StdEncoding.EncodeToString([]byte(secret[:9])),
		"uppercase": strings.ToUpper(secret),
	}
	for name, f := range forms {
		if strings.Contains(out, f) {
			return name, true
		}
	}
	return "", false
}

func TestSecretsNeverPrinted(t *testing.T) {
	const (
		literalPepper = "LITERAL-pepper-value-5f3a9c1e7b2d4068aa"
		envToken      = "ENV-auth-token-value-8e7d6c5b4a39281706"
		filePassword  = "FILE-redis-password-value-0a1b2c3d4e5f"
	)
	dir := t.TempDir()
	writeFile(t, dir, "redis-password", filePassword+"\n")
	data := `
listen: 127.0.0.1:8080
public_url: https://hotline.example.org
redis:
  url: redis://127.0.0.1:6379/0
  password: file:redis-password
secrets:
  pepper: ` + literalPepper + `
twilio:
  auth_token: env:TEST_TWILIO_TOKEN
`
	c, err := config.Parse([]byte(data), dir, env{"TEST_TWILIO_TOKEN": envToken}.get)
	if err != nil {
		t.Fatal(err)
	}
	// The values are there, for the code that needs them.
	if string(c.Secrets.Pepper.Value()) != literalPepper || string(c.Twilio.AuthToken.Value()) != envToken ||
		string(c.Redis.Password.Value()) != filePassword {
		t.Fatal("secrets not resolved")
	}

	var jsonLog, textLog, attrLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("config", "config", c, "pepper", c.Secrets.Pepper)
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("config", "config", c, "token", c.Twilio.AuthToken)
	slog.New(slog.NewJSONHandler(&attrLog, nil)).Info("config", slog.Any("secrets", c.Secrets), slog.Any("redis", c.Redis))
	jsonOut, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	jsonIndent, err := json.MarshalIndent(*c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	yamlOut, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	yamlValue, err := yaml.Marshal(*c)
	if err != nil {
		t.Fatal(err)
	}
	yamlSecret, err := yaml.Marshal(c.Secrets)
	if err != nil {
		t.Fatal(err)
	}

	//lint:ignore S1025 the path through fmt is what is tested
	viaS := fmt.Sprintf("%s", c.Secrets.Pepper)
	outputs := map[string]string{
		"%v":                   fmt.Sprintf("%v", c),
		"%+v":                  fmt.Sprintf("%+v", c),
		"%v value":             fmt.Sprintf("%v", *c),
		"%+v value":            fmt.Sprintf("%+v", *c),
		"%#v":                  fmt.Sprintf("%#v", *c),
		"%s of a secret":       viaS,
		"%v of secrets":        fmt.Sprintf("%v", c.Secrets),
		"%#v of a secret":      fmt.Sprintf("%#v", c.Twilio.AuthToken),
		"%q of a secret":       fmt.Sprintf("%q", c.Redis.Password),
		"slog json":            jsonLog.String(),
		"slog text":            textLog.String(),
		"slog json of structs": attrLog.String(),
		"json.Marshal":         string(jsonOut),
		"json.MarshalIndent":   string(jsonIndent),
		"yaml.Marshal":         string(yamlOut),
		"yaml.Marshal value":   string(yamlValue),
		"yaml.Marshal secrets": string(yamlSecret),
		"problems":             problemsText(c.Validate()),
	}
	for how, out := range outputs {
		for _, secret := range []string{literalPepper, envToken, filePassword} {
			if form, ok := leaks(out, secret); ok {
				t.Errorf("%s shows the secret %.10s... (%s):\n%s", how, secret, form, out)
			}
		}
	}

	// What is shown instead is the reference, so a dump is still useful.
	for _, want := range []string{"env:TEST_TWILIO_TOKEN", "file:redis-password", "[literal, redacted]"} {
		if !strings.Contains(string(jsonOut), want) {
			t.Errorf("json dump lacks %q: %s", want, jsonOut)
		}
		if !strings.Contains(string(yamlOut), want) {
			t.Errorf("yaml dump lacks %q: %s", want, yamlOut)
		}
	}
	var decoded map[string]any
	if err := json.Unmarshal(jsonOut, &decoded); err != nil {
		t.Fatalf("json dump is not JSON: %v", err)
	}
	if got := decoded["secrets"].(map[string]any)["pepper"]; got != "[literal, redacted]" {
		t.Errorf("json secrets.pepper = %v", got)
	}
	// redis.url may carry a password: it stays out of the JSON dump.
	if _, ok := decoded["redis"].(map[string]any)["url"]; ok {
		t.Error("json dump carries redis.url")
	}
}

func TestSecretMethods(t *testing.T) {
	tests := []struct {
		ref     string
		literal bool
		shown   string
	}{
		{"", false, ""},
		{"env:HOTLINE_PEPPER", false, "env:HOTLINE_PEPPER"},
		{"file:/run/secrets/pepper", false, "file:/run/secrets/pepper"},
		{"hunter2-literal-value", true, "[literal, redacted]"},
		{"envHOTLINE", true, "[literal, redacted]"}, // no colon: a literal
	}
	for _, tt := range tests {
		var s config.Secret
		s.Set(tt.ref, []byte("the-value-itself"))
		if s.IsLiteral() != tt.literal {
			t.Errorf("%q: IsLiteral() = %v", tt.ref, s.IsLiteral())
		}
		if s.Reference() != tt.shown {
			t.Errorf("%q: Reference() = %q, want %q", tt.ref, s.Reference(), tt.shown)
		}
		if s.String() != "[redacted]" || s.LogValue().String() != "[redacted]" {
			t.Errorf("%q: String() = %q, LogValue() = %q", tt.ref, s.String(), s.LogValue())
		}
		j, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal(j, &back); err != nil || back != tt.shown {
			t.Errorf("%q: json = %s, want the reference %q", tt.ref, j, tt.shown)
		}
		if string(s.Value()) != "the-value-itself" {
			t.Errorf("%q: Value() = %q", tt.ref, s.Value())
		}
	}
}

package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/hotline-org/hotline/gateway/config"
)

// fuzzCanary is what every secret variable holds during FuzzParse: it must
// never come out of a dump, an error or a problem.
const fuzzCanary = "CANARY-secret-7d1e0c9b5a3f-0123456789"

// FuzzParse: any bytes as a config file. Parse and Validate never panic,
// and a secret from the environment never appears in their output or in a
// dump of the result.
func FuzzParse(f *testing.F) {
	f.Add(readFixture(f, "valid.yaml"))
	for _, s := range []string{
		"",
		"listen: 127.0.0.1:8080\n",
		"---\n---\n",
		"secrets: {pepper: env:X}\ntwilio: {auth_token: env:Y}\n",
		"secrets: {pepper: file:secrets/twilio_auth_token}\n",
		"secrets: {pepper: {a: b}}\n",
		"redis: {mode: sentinel, addrs: [a]}\n",
		"agencies: [{id: a, recipients: [AGE-SECRET-KEY-1QQQQ], regions: [x]}]\n",
		"regions: [{id: r, polygon: [[[1, 2], [3, 4]]]}]\n",
		"twilio: {numbers: {\"+15005550006\": {region: r}}}\n",
		"&a [*a]\n",
		"queue: {lease: -1h}\n",
		"listen: !!binary aGVsbG8=\n",
	} {
		f.Add([]byte(s))
	}
	dir := testdataDir(f)
	getenv := func(name string) string {
		if name == "REDIS_URL" {
			return ""
		}
		return fuzzCanary
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data, dir, getenv)
		canaryInInput := bytes.Contains(bytes.ToUpper(data), []byte(strings.ToUpper(fuzzCanary)))
		if err != nil {
			if !canaryInInput && strings.Contains(err.Error(), fuzzCanary) {
				t.Fatalf("error shows a secret: %v", err)
			}
			if c == nil {
				return
			}
		}
		if c == nil {
			t.Fatal("nil config without an error")
		}
		ps := c.Validate()
		jsonOut, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		yamlOut, err := yaml.Marshal(c)
		if err != nil {
			t.Fatalf("yaml.Marshal: %v", err)
		}
		if canaryInInput {
			return
		}
		for how, out := range map[string]string{
			"problems": problemsText(ps),
			"json":     string(jsonOut),
			"yaml":     string(yamlOut),
			"%+v":      fmt.Sprintf("%+v", c),
			"%#v":      fmt.Sprintf("%#v", c),
		} {
			if strings.Contains(out, fuzzCanary) {
				t.Fatalf("%s shows a secret:\n%s", how, out)
			}
		}
	})
}

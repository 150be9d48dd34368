// Package deploy_test checks the files in deploy/: every YAML file parses, every hardening
// setting that README.md and THREAT-MODEL.md promise is present, and no file carries a secret.
// One file per kind of deploy file (compose, k8s, systemd, redis, Caddyfile, tor, Dockerfile,
// example configuration, secrets), each with its checks and the mutations they must notice.
//
// Each check reads the files' bytes and returns the problems it finds, so that
// TestChecksCatchRemoval can delete a setting in memory and prove that the check notices.
// Where a real validator exists it is run too, and under CI=true it must be there:
// redis-server loads redis.conf and users.acl (TestRedisLoadsConfig), systemd-analyze verifies
// the unit, caddy adapts the Caddyfile, and the Kubernetes manifests decode strictly into the
// API's own types.
package deploy_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// files maps a slash path relative to deploy/ to its content.
type files map[string][]byte

// operatorLocal are created by an operator next to compose.yaml and never committed
// (.gitignore); they hold real secrets, so the checks leave them alone.
var operatorLocal = []string{".env", "hotline.yaml", "geo", "secrets"}

func loadFiles(t *testing.T) files {
	t.Helper()
	fsys := files{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != "." && slices.Contains(operatorLocal, filepath.ToSlash(path)) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fsys[filepath.ToSlash(path)] = b
		return nil
	})
	if err != nil {
		t.Fatalf("failed to read deploy/: %v", err)
	}
	return fsys
}

type check struct {
	name string
	run  func(files) []string
}

var checks = []check{
	{"Dockerfile", checkDockerfile},
	{"tor/Dockerfile", checkTorDockerfile},
	{"compose.yaml", checkCompose},
	{"redis/redis.conf", checkRedisConf},
	{"redis/users.acl", checkRedisACL},
	{"k8s", checkK8s},
	{"systemd", checkSystemd},
	{"hotline.example.yaml", checkExampleConfig},
	{"Caddyfile", checkCaddyfile},
	{"tor/torrc", checkTorrc},
	{"no secrets", checkNoSecrets},
}

func TestHardening(t *testing.T) {
	fsys := loadFiles(t)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, p := range c.run(fsys) {
				t.Error(p)
			}
		})
	}
}

func TestYAMLParses(t *testing.T) {
	fsys := loadFiles(t)
	n := 0
	for name, b := range fsys {
		if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
			continue
		}
		n++
		docs, err := yamlDocs(b)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if len(docs) == 0 {
			t.Errorf("%s: no YAML document", name)
		}
	}
	if n < 9 {
		t.Errorf("found %d YAML files in deploy/, expected at least 9", n)
	}
}

// mutation deletes or changes a setting (every occurrence of old); the named check must then
// report a problem.
type mutation struct {
	check    string
	file     string
	old, new string
}

const testdataCommands = "testdata/redis-commands.txt"

var mutations = []mutation{
	// Dockerfile (dockerfile_test.go)
	{"Dockerfile", "Dockerfile", "USER 65532:65532", ""},
	{"Dockerfile", "Dockerfile", "USER 65532:65532", "USER 0"},
	{"Dockerfile", "Dockerfile", "USER 65532:65532", "USER root"},
	{"Dockerfile", "Dockerfile", "FROM gcr.io/distroless/static-debian12:nonroot", "FROM debian:bookworm-slim"},
	{"Dockerfile", "Dockerfile", "ENTRYPOINT [", "RUN apt-get install -y curl\nENTRYPOINT ["},
	{"Dockerfile", "Dockerfile", "HEALTHCHECK NONE", "HEALTHCHECK CMD [\"/bin/sh\", \"-c\", \"true\"]"},
	{"Dockerfile", "Dockerfile", "go build -trimpath ", "go build "},
	{"Dockerfile", "Dockerfile", "CGO_ENABLED=0 ", ""},
	{"Dockerfile", "Dockerfile", `CMD ["serve", "--config", "/etc/hotline/hotline.yaml"]`, `CMD ["serve"]`},
	// tor (tor_test.go)
	{"tor/Dockerfile", "tor/Dockerfile", "USER debian-tor", "USER root"},
	{"tor/torrc", "tor/torrc", "SocksPort 0", "SocksPort 9050"},
	{"tor/torrc", "tor/torrc", "HiddenServicePort 80 proxy:8081", "HiddenServicePort 80 hotline-1:8080"},
	// compose.yaml (compose_test.go)
	{"compose.yaml", "compose.yaml", "  read_only: true\n  cap_drop", "  read_only: false\n  cap_drop"},
	{"compose.yaml", "compose.yaml", "  cap_drop: [ALL]\n  security_opt", "  cap_drop: [NET_RAW]\n  security_opt"},
	{"compose.yaml", "compose.yaml", "  security_opt: [\"no-new-privileges:true\"]\n  # hotline.yaml", "  # hotline.yaml"},
	{"compose.yaml", "compose.yaml", "  hotline-2:\n", "  hotline-b:\n"},
	{"compose.yaml", "compose.yaml", "    networks: [data]\n", "    networks: [data]\n    ports: [\"6379:6379\"]\n"},
	{"compose.yaml", "compose.yaml", "  data:\n    internal: true", "  data:\n    internal: false"},
	{"compose.yaml", "compose.yaml", "  user: \"65532:65532\"", "  user: \"0:0\""},
	{"compose.yaml", "compose.yaml", "    environment:\n      HOTLINE_DOMAIN", "    environment:\n      HOTLINE_PEPPER: hunter2hunter2\n      HOTLINE_DOMAIN"},
	{"compose.yaml", "compose.yaml", `command: ["redis-server", "/usr/local/etc/redis/redis.conf"]`, `command: ["redis-server", "/usr/local/etc/redis/redis.conf", "--appendfsync", "no"]`},
	{"compose.yaml", "compose.yaml", "    profiles: [tor]\n", ""},
	{"compose.yaml", "compose.yaml", "source: ./secrets/users.acl", "source: ./redis/users.acl"},
	{"compose.yaml", "redis/redis.conf", "\nappendfsync everysec", "\nappendfsync always\nappendfsync no"},
	// redis.conf and users.acl (redis_test.go)
	{"redis/redis.conf", "redis/redis.conf", "\nappendfsync everysec", "\nappendfsync everysec\nappendfsync no"},
	{"redis/redis.conf", "redis/redis.conf", "maxmemory-policy noeviction", "maxmemory-policy allkeys-lru"},
	{"redis/redis.conf", "redis/redis.conf", "protected-mode yes", "protected-mode no"},
	{"redis/redis.conf", "redis/redis.conf", "no-appendfsync-on-rewrite no", "no-appendfsync-on-rewrite yes"},
	{"redis/users.acl", "redis/users.acl", " ~hl:* ", " ~* "},
	{"redis/users.acl", "redis/users.acl", " +xadd ", " +@all "},
	{"redis/users.acl", "redis/users.acl", " +xack ", " "},
	{"redis/users.acl", "redis/users.acl", " +xadd ", " +xadd +flushall "},
	{"redis/users.acl", "redis/users.acl", " +cluster|slots ", " +cluster "},
	// The commands the ACL run saw: one missing from the ACL (the publish script's HSETNX once
	// was), one the run saw that the ACL lacks, one granted beyond what the run saw.
	{"redis/users.acl", "redis/users.acl", " +hsetnx ", " "},
	{"redis/users.acl", "redis/users.acl", " +mget ", " "},
	{"redis/users.acl", testdataCommands, "\nhscan\n", "\nhscan\nhrandfield\n"},
	{"redis/users.acl", "redis/users.acl", " +xgroup|create ", " +xgroup "},
	{"redis/users.acl", "redis/users.acl", " +asking", " +asking +hrandfield"},
	{"redis/users.acl", "redis/users.acl", "user default off", "user default on"},
	{"redis/users.acl", "redis/users.acl", "#REPLACE_WITH_SHA256_OF_THE_REDIS_PASSWORD", "nopass"},
	{"redis/users.acl", "redis/users.acl", " -@all +ping\n", " -@all +ping +get ~*\n"},
	// Kubernetes (k8s_test.go)
	// Only the API's schema notices these: an unknown field, a value of the wrong type, an
	// apiVersion that does not serve the kind.
	{"k8s", "k8s/deployment.yaml", "terminationGracePeriodSeconds: 60", "terminationGracePeriod: 60"},
	{"k8s", "k8s/deployment.yaml", "      enableServiceLinks: false", "      enableServiceLinks: \"no\""},
	{"k8s", "k8s/networkpolicy.yaml", "apiVersion: networking.k8s.io/v1", "apiVersion: networking.k8s.io/v1beta1"},
	{"k8s", "k8s/deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"},
	{"k8s", "k8s/deployment.yaml", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"},
	{"k8s", "k8s/deployment.yaml", "              drop: [ALL]\n", "              drop: [NET_RAW]\n"},
	{"k8s", "k8s/deployment.yaml", "runAsNonRoot: true\n", "runAsNonRoot: false\n"},
	{"k8s", "k8s/deployment.yaml", "  replicas: 2", "  replicas: 1"},
	{"k8s", "k8s/deployment.yaml", "      automountServiceAccountToken: false", "      automountServiceAccountToken: true"},
	{"k8s", "k8s/deployment.yaml", "path: /readyz", "path: /healthz"},
	{"k8s", "k8s/deployment.yaml", "          livenessProbe:\n", "          livenessProbeX:\n"},
	{"k8s", "k8s/deployment.yaml", "            limits:\n              cpu: \"1\"\n              memory: 512Mi\n", ""},
	{"k8s", "k8s/deployment.yaml", "type: RuntimeDefault", "type: Unconfined"},
	{"k8s", "k8s/deployment.yaml", "            - name: HOTLINE_PEPPER\n              valueFrom:\n                secretKeyRef:\n                  name: hotline\n                  key: pepper\n", "            - name: HOTLINE_PEPPER\n              value: hunter2hunter2hunter2\n"},
	{"k8s", "k8s/pdb.yaml", "kind: PodDisruptionBudget", "kind: Unknown"},
	{"k8s", "k8s/pdb.yaml", "minAvailable: 1", "minAvailable: 0"},
	{"k8s", "k8s/networkpolicy.yaml", "  podSelector: {}\n", "  podSelector: {matchLabels: {x: y}}\n"},
	{"k8s", "k8s/networkpolicy.yaml", "          port: 8080", "          port: 9090"},
	{"k8s", "k8s/networkpolicy.yaml", "          port: 443", "          port: 8443"},
	{"k8s", "k8s/secret.example.yaml", "REPLACE-with-the-twilio-auth-token", "0123456789abcdef"},
	{"k8s", "k8s/kustomization.yaml", "  - pdb.yaml\n", "  - pdb.yaml\n  - secret.example.yaml\n"},
	{"k8s", "k8s/configmap.yaml", "      mode: sentinel\n", ""},
	{"k8s", "k8s/configmap.yaml", "      trusted_proxies:\n        - 10.244.0.0/16", "      trusted_proxies: []"},
	{"k8s", "k8s/configmap.yaml", "        - 10.244.0.0/16", "        - 0.0.0.0/0"},
	// hotline.example.yaml (config_test.go)
	{"hotline.example.yaml", "hotline.example.yaml", "pepper: env:HOTLINE_PEPPER", "pepper: hunter2hunter2"},
	{"hotline.example.yaml", "hotline.example.yaml", "default_agency: pe-lima", "default_agency: nobody"},
	{"hotline.example.yaml", "hotline.example.yaml", "queue:\n", "queue:\n  unknown_key: 1\n"},
	{"hotline.example.yaml", "hotline.example.yaml", "age1pq1...REPLACE-with-the-duty-recipient", "AGE-SECRET-KEY-PQ-1X"},
	// The gateways must trust exactly the proxy: not missing, not another address, not everyone.
	{"hotline.example.yaml", "hotline.example.yaml", "  trusted_proxies: [172.30.80.2]", "  trusted_proxies: []"},
	{"hotline.example.yaml", "hotline.example.yaml", "  trusted_proxies: [172.30.80.2]", "  trusted_proxies: [0.0.0.0/0]"},
	{"hotline.example.yaml", "compose.yaml", "ipv4_address: 172.30.80.2", "ipv4_address: 172.30.80.3"},
	// Caddyfile (caddy_test.go)
	{"Caddyfile", "Caddyfile", "{$HOTLINE_DOMAIN} {\n", "{$HOTLINE_DOMAIN} {\n\tlog\n"},
	{"Caddyfile", "Caddyfile", "request>remote_ip delete", ""},
	{"Caddyfile", "Caddyfile", "max_size 1MB", ""},
	{"Caddyfile", "Caddyfile", "Strict-Transport-Security", "X-Removed"},
	{"Caddyfile", "Caddyfile", "max-age=63072000", "max-age=300"},
	{"Caddyfile", "Caddyfile", "\timport gateway\n}\n\n#", "\tencode gzip\n\timport gateway\n}\n\n#"},
	{"Caddyfile", "Caddyfile", "\t@internal path /metrics", "\turi strip_prefix /x\n\t@internal path /metrics"},
	{"Caddyfile", "Caddyfile", "\t@internal path /metrics /metrics/* /healthz /readyz", "\t@internal path /healthz /readyz"},
	{"Caddyfile", "Caddyfile", "read_header 10s", ""},
	{"Caddyfile", "Caddyfile", "{$HOTLINE_UPSTREAMS:hotline-1:8080 hotline-2:8080}", "{$HOTLINE_UPSTREAMS:hotline-1:8080}"},
	// no secrets (secrets_test.go)
	{"no secrets", "README.md", "## Files", "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS\n## Files"},
	{"no secrets", "hotline.example.yaml", "api_url:", "api_key: 0123456789abcdef0123456789abcdef\n  api_url:"},
	{"no secrets", "THREAT-MODEL.md", "## Out of scope", "redis://hotline:s3cretpassw0rd@redis:6379/0\n## Out of scope"},
	{"no secrets", "k8s/configmap.yaml", "# The gateway's", "# -----BEGIN OPENSSH PRIVATE KEY-----\n# The gateway's"},
	{"no secrets", "hotline.example.yaml", "age1pq1...REPLACE-with-the-backup-recipient", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"},
	{"no secrets", "redis/users.acl", "#REPLACE_WITH_SHA256_OF_THE_REDIS_PASSWORD", "#9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
}

// harmless edits touch only comments: a check that reports them reads comments as settings.
var harmless = []mutation{
	{"compose.yaml", "compose.yaml", "appendfsync everysec", "appendfsync no"},
	{"redis/redis.conf", "redis/redis.conf", "# appendfsync always would", "# appendfsync no would"},
	{"systemd", "systemd/hotline.service", "# Filesystem:", "# ProtectSystem=no\n# Filesystem:"},
	{"Caddyfile", "Caddyfile", "# Caddy writes no access log", "# log Caddy writes no access log"},
}

func TestChecksCatchRemoval(t *testing.T) {
	fsys := loadFiles(t)
	byName := map[string]check{}
	for _, c := range checks {
		byName[c.name] = c
	}
	all := slices.Clone(mutations)
	// Every required systemd directive and redis.conf directive, deleted one at a time.
	for _, w := range systemdWant {
		all = append(all, mutation{"systemd", "systemd/hotline.service", "\n" + w.key + "=", "\n#" + w.key + "="})
	}
	for _, w := range redisWant {
		all = append(all, mutation{"redis/redis.conf", "redis/redis.conf", "\n" + w.directive + " ", "\n# " + w.directive + " "})
	}
	run := func(m mutation, wantProblems bool) {
		t.Run(fmt.Sprintf("%s/%s/%.40q", m.check, m.file, m.old), func(t *testing.T) {
			c, ok := byName[m.check]
			if !ok {
				t.Fatalf("no check named %q", m.check)
			}
			orig, ok := fsys[m.file]
			if !ok {
				t.Fatalf("no file %s", m.file)
			}
			if !bytes.Contains(orig, []byte(m.old)) {
				t.Fatalf("%s no longer contains %q: update the mutation", m.file, m.old)
			}
			mutated := maps.Clone(fsys)
			mutated[m.file] = bytes.ReplaceAll(orig, []byte(m.old), []byte(m.new))
			problems := c.run(mutated)
			switch {
			case wantProblems && len(problems) == 0:
				t.Errorf("check %q did not notice the change", m.check)
			case !wantProblems && len(problems) > 0:
				t.Errorf("check %q reported a change to a comment: %v", m.check, problems)
			}
		})
	}
	for _, m := range all {
		run(m, true)
	}
	for _, m := range harmless {
		run(m, false)
	}
}

// ---- helpers

// yamlDocs decodes every document of a (possibly multi-document) YAML file.
func yamlDocs(b []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		if m != nil {
			docs = append(docs, m)
		}
	}
}

// get walks nested maps by key; nil when a step is missing.
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, str(x))
	}
	return out
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runTool runs a validator under a deadline, with env added to the test's environment, and
// returns what it printed.
func runTool(bin string, env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Package deploy_test checks the files in deploy/: every YAML file parses, every hardening
// setting that README.md and THREAT-MODEL.md promise is present, and no file carries a secret.
//
// Each check reads the files' bytes and returns the problems it finds, so that
// TestChecksCatchRemoval can delete a setting in memory and prove that the check notices.
// TestRedisLoadsConfig starts a real redis-server with redis/redis.conf and redis/users.acl.
package deploy_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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

var mutations = []mutation{
	{"Dockerfile", "Dockerfile", "USER 65532:65532", ""},
	{"Dockerfile", "Dockerfile", "USER 65532:65532", "USER 0"},
	{"Dockerfile", "Dockerfile", "USER 65532:65532", "USER root"},
	{"Dockerfile", "Dockerfile", "FROM gcr.io/distroless/static-debian12:nonroot", "FROM debian:bookworm-slim"},
	{"Dockerfile", "Dockerfile", "ENTRYPOINT [", "RUN apt-get install -y curl\nENTRYPOINT ["},
	{"Dockerfile", "Dockerfile", "HEALTHCHECK NONE", "HEALTHCHECK CMD [\"/bin/sh\", \"-c\", \"true\"]"},
	{"Dockerfile", "Dockerfile", "go build -trimpath ", "go build "},
	{"Dockerfile", "Dockerfile", "CGO_ENABLED=0 ", ""},
	{"Dockerfile", "Dockerfile", `CMD ["serve", "--config", "/etc/hotline/hotline.yaml"]`, `CMD ["serve"]`},
	{"tor/Dockerfile", "tor/Dockerfile", "USER debian-tor", "USER root"},
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
	{"redis/users.acl", testdataCommands, "\nhscan\n", "\nhscan\nhincrby\n"},
	{"redis/users.acl", "redis/users.acl", " +xgroup|create ", " +xgroup "},
	{"redis/users.acl", "redis/users.acl", " +asking", " +asking +hincrby"},
	{"redis/users.acl", "redis/users.acl", "user default off", "user default on"},
	{"redis/users.acl", "redis/users.acl", "#REPLACE_WITH_SHA256_OF_THE_REDIS_PASSWORD", "nopass"},
	{"redis/users.acl", "redis/users.acl", " -@all +ping\n", " -@all +ping +get ~*\n"},
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
	{"hotline.example.yaml", "hotline.example.yaml", "pepper: env:HOTLINE_PEPPER", "pepper: hunter2hunter2"},
	{"hotline.example.yaml", "hotline.example.yaml", "default_agency: pe-lima", "default_agency: nobody"},
	{"hotline.example.yaml", "hotline.example.yaml", "queue:\n", "queue:\n  unknown_key: 1\n"},
	{"hotline.example.yaml", "hotline.example.yaml", "age1pq1...REPLACE-with-the-duty-recipient", "AGE-SECRET-KEY-PQ-1X"},
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
	// The gateways must trust exactly the proxy: not missing, not another address, not everyone.
	{"hotline.example.yaml", "hotline.example.yaml", "  trusted_proxies: [172.30.80.2]", "  trusted_proxies: []"},
	{"hotline.example.yaml", "hotline.example.yaml", "  trusted_proxies: [172.30.80.2]", "  trusted_proxies: [0.0.0.0/0]"},
	{"hotline.example.yaml", "compose.yaml", "ipv4_address: 172.30.80.2", "ipv4_address: 172.30.80.3"},
	{"k8s", "k8s/configmap.yaml", "      trusted_proxies:\n        - 10.244.0.0/16", "      trusted_proxies: []"},
	{"tor/torrc", "tor/torrc", "SocksPort 0", "SocksPort 9050"},
	{"tor/torrc", "tor/torrc", "HiddenServicePort 80 proxy:8081", "HiddenServicePort 80 hotline-1:8080"},
	{"no secrets", "README.md", "## Files", "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS\n## Files"},
	{"no secrets", "hotline.example.yaml", "api_url:", "api_key: 0123456789abcdef0123456789abcdef\n  api_url:"},
	{"no secrets", "THREAT-MODEL.md", "## Out of scope", "redis://hotline:s3cretpassw0rd@redis:6379/0\n## Out of scope"},
	{"no secrets", "k8s/configmap.yaml", "# The gateway's", "# -----BEGIN OPENSSH PRIVATE KEY-----\n# The gateway's"},
	{"no secrets", "hotline.example.yaml", "age1pq1...REPLACE-with-the-backup-recipient", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"},
	{"no secrets", "redis/users.acl", "#REPLACE_WITH_SHA256_OF_THE_REDIS_PASSWORD", "#9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
}

const testdataCommands = "testdata/redis-commands.txt"

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

// ---- Dockerfile ---------------------------------------------------------------------------------

type instruction struct {
	cmd  string // upper case
	args string
}

type stage struct {
	from  string // the FROM line's arguments
	insts []instruction
}

// parseDockerfile splits a Dockerfile into stages, joining continued lines and dropping comments.
func parseDockerfile(b []byte) []stage {
	var stages []stage
	var logical strings.Builder
	flush := func() {
		line := strings.TrimSpace(logical.String())
		logical.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		cmd = strings.ToUpper(cmd)
		args = strings.TrimSpace(args)
		if cmd == "FROM" {
			stages = append(stages, stage{from: args})
			return
		}
		if len(stages) == 0 {
			return // ARG before FROM
		}
		s := &stages[len(stages)-1]
		s.insts = append(s.insts, instruction{cmd, args})
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			logical.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		logical.WriteString(trimmed)
		flush()
	}
	flush()
	return stages
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.insts {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

func (s stage) last(cmd string) (string, bool) {
	all := s.all(cmd)
	if len(all) == 0 {
		return "", false
	}
	return all[len(all)-1], true
}

// execForm decodes a JSON exec-form argument list; nil if it is shell form.
func execForm(args string) []string {
	var out []string
	if json.Unmarshal([]byte(args), &out) != nil {
		return nil
	}
	return out
}

var numericNonRootUser = regexp.MustCompile(`^([1-9][0-9]*)(:[0-9]+)?$`)

func checkDockerfile(fsys files) []string {
	stages := parseDockerfile(fsys["Dockerfile"])
	if len(stages) < 2 {
		return []string{"Dockerfile: want a multi-stage build (builder and final image)"}
	}
	build, final := stages[0], stages[len(stages)-1]
	var runs strings.Builder
	for _, r := range build.all("RUN") {
		runs.WriteString(r + "\n")
	}
	type rule struct {
		what string
		ok   bool
	}
	user, _ := final.last("USER")
	entry, _ := final.last("ENTRYPOINT")
	cmd, _ := final.last("CMD")
	health, hasHealth := final.last("HEALTHCHECK")
	rules := []rule{
		{"builder stage FROM golang:1.26", strings.HasPrefix(build.from, "golang:1.26")},
		{"builder builds with CGO_ENABLED=0", strings.Contains(runs.String(), "CGO_ENABLED=0 go build")},
		{"builder builds with -trimpath", strings.Contains(runs.String(), "-trimpath")},
		{`builder strips with -ldflags="-s -w"`, strings.Contains(runs.String(), `-ldflags="-s -w"`)},
		{"builder builds ./cmd/hotline", strings.Contains(runs.String(), "./cmd/hotline")},
		{"final stage FROM distroless static or scratch (no shell)",
			strings.HasPrefix(final.from, "gcr.io/distroless/static") || final.from == "scratch"},
		{"no RUN in the final stage (it would need a shell)", len(final.all("RUN")) == 0},
		{"no SHELL in the final stage", len(final.all("SHELL")) == 0},
		{"final USER is a numeric, non-root uid", numericNonRootUser.MatchString(user)},
		{`ENTRYPOINT ["/hotline"]`, slices.Equal(execForm(entry), []string{"/hotline"})},
		{`CMD ["serve", "--config", "/etc/hotline/hotline.yaml"]`,
			slices.Equal(execForm(cmd), []string{"serve", "--config", "/etc/hotline/hotline.yaml"})},
		{"no HEALTHCHECK command (the image has nothing to run it with)", !hasHealth || health == "NONE"},
	}
	var ps []string
	for _, r := range rules {
		if !r.ok {
			ps = append(ps, "Dockerfile: want "+r.what)
		}
	}
	return ps
}

func checkTorDockerfile(fsys files) []string {
	stages := parseDockerfile(fsys["tor/Dockerfile"])
	if len(stages) == 0 {
		return []string{"tor/Dockerfile: no FROM"}
	}
	user, ok := stages[len(stages)-1].last("USER")
	name, _, _ := strings.Cut(user, ":")
	if !ok || name == "root" || name == "0" {
		return []string{"tor/Dockerfile: want a non-root USER in the final stage"}
	}
	return nil
}

// ---- YAML helpers ---------------------------------------------------------------------------------

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

// ---- compose.yaml ---------------------------------------------------------------------------------

var gatewayServices = []string{"hotline-1", "hotline-2"}

// Environment variables that hold secrets: never a literal value in compose or Kubernetes.
var secretEnv = regexp.MustCompile(`(?i)(PEPPER|TOKEN|PASSWORD|SECRET|REDIS_URL|_KEY$)`)

func checkCompose(fsys files) []string {
	var ps []string
	add := func(format string, a ...any) { ps = append(ps, "compose.yaml: "+fmt.Sprintf(format, a...)) }
	docs, err := yamlDocs(fsys["compose.yaml"])
	if err != nil || len(docs) != 1 {
		return []string{fmt.Sprintf("compose.yaml: want one YAML document: %v", err)}
	}
	c := docs[0]
	services, _ := get(c, "services").(map[string]any)
	for _, g := range gatewayServices {
		if services[g] == nil {
			add("want gateway service %s (two gateways behind the proxy)", g)
		}
	}
	for name, s := range services {
		// Table of settings every service must carry.
		rules := []struct {
			what string
			ok   bool
		}{
			{"read_only: true", get(s, "read_only") == true},
			{"cap_drop: [ALL]", slices.Contains(strs(get(s, "cap_drop")), "ALL")},
			{"security_opt no-new-privileges:true", slices.Contains(strs(get(s, "security_opt")), "no-new-privileges:true")},
		}
		for _, r := range rules {
			if !r.ok {
				add("service %s: want %s", name, r.what)
			}
		}
		for _, capName := range strs(get(s, "cap_add")) {
			if capName != "NET_BIND_SERVICE" || get(s, "ports") == nil {
				add("service %s: cap_add %s: only the proxy may add NET_BIND_SERVICE", name, capName)
			}
		}
		if ports := list(get(s, "ports")); len(ports) > 0 && name != "proxy" {
			add("service %s publishes ports %v: only the proxy may", name, ports)
		}
		env := map[string]string{}
		switch e := get(s, "environment").(type) {
		case map[string]any:
			for k, v := range e {
				env[k] = str(v)
			}
		case []any:
			for _, kv := range e {
				k, v, _ := strings.Cut(str(kv), "=")
				env[k] = v
			}
		}
		for k, v := range env {
			if secretEnv.MatchString(k) && v != "" && !strings.HasPrefix(v, "${") {
				add("service %s: environment %s has a literal value: use docker secrets or env_file", name, k)
			}
		}
	}
	for _, g := range gatewayServices {
		s := services[g]
		if s == nil {
			continue
		}
		if !numericNonRootUser.MatchString(str(get(s, "user"))) {
			add("service %s: want a numeric non-root user", g)
		}
		if str(get(s, "build", "dockerfile")) != "deploy/Dockerfile" {
			add("service %s: want build.dockerfile deploy/Dockerfile", g)
		}
		sec := strs(get(s, "secrets"))
		for _, want := range []string{"hotline_pepper", "twilio_auth_token"} {
			if !slices.Contains(sec, want) {
				add("service %s: want docker secret %s", g, want)
			}
		}
	}
	for name, v := range asMap(get(c, "secrets")) {
		if str(get(v, "file")) == "" {
			add("secret %s: want a file: source", name)
		}
	}
	redis := services["redis"]
	if redis == nil {
		return append(ps, "compose.yaml: want a service redis")
	}
	if get(redis, "ports") != nil {
		add("redis must not publish a port")
	}
	if get(redis, "healthcheck") == nil {
		add("redis: want a healthcheck (the gateways wait for it)")
	}
	cmd := strs(get(redis, "command"))
	if len(cmd) != 2 || cmd[0] != "redis-server" {
		add("redis: want command [redis-server, CONFIG] with no overriding flags, got %v", cmd)
	}
	confTarget := ""
	if len(cmd) == 2 {
		confTarget = cmd[1]
	}
	mounted := map[string]string{} // target -> source
	for _, v := range list(get(redis, "volumes")) {
		mounted[str(get(v, "target"))] = str(get(v, "source"))
	}
	src := strings.TrimPrefix(mounted[confTarget], "./")
	if conf, ok := fsys[src]; !ok {
		add("redis: the config %s is not mounted from a file in deploy/", confTarget)
	} else {
		d := parseRedisConf(conf)
		if last(d["appendonly"]) != "yes" || last(d["appendfsync"]) != "everysec" {
			add("redis: the mounted %s must set appendonly yes and appendfsync everysec", src)
		}
		// The live ACL file carries a password hash, so it is made from the template in
		// redis/users.acl and kept under secrets/, which git ignores.
		if aclTarget := last(d["aclfile"]); mounted[aclTarget] != "./secrets/users.acl" {
			add("redis: mount the aclfile %s from ./secrets/users.acl (made from redis/users.acl)", aclTarget)
		}
	}
	networks := asMap(get(c, "networks"))
	for _, n := range strs(get(redis, "networks")) {
		if get(networks[n], "internal") != true {
			add("redis: network %s must be internal: true", n)
		}
	}
	if tor := services["tor"]; tor == nil || !slices.Contains(strs(get(tor, "profiles")), "tor") {
		add("want a service tor under the profile tor")
	}
	return ps
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// ---- redis.conf and users.acl -------------------------------------------------------------------------

// parseRedisConf returns the arguments of each directive, in order of appearance.
func parseRedisConf(b []byte) map[string][]string {
	d := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, args, _ := strings.Cut(line, " ")
		d[strings.ToLower(key)] = append(d[strings.ToLower(key)], strings.Trim(strings.TrimSpace(args), `"`))
	}
	return d
}

func last(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// redisWant: for each directive, the value that Redis will use (the last occurrence).
var redisWant = []struct{ directive, value, why string }{
	{"appendonly", "yes", "acknowledged tips must survive a restart"},
	{"appendfsync", "everysec", "the documented trade-off; see README.md"},
	{"no-appendfsync-on-rewrite", "no", "keep fsyncing during AOF rewrites"},
	{"maxmemory-policy", "noeviction", "evicting a key would delete queued tips"},
	{"protected-mode", "yes", "refuse outside clients if the ACL is ever missing"},
	{"aclfile", "/usr/local/etc/redis/users.acl", "the gateway's limited user"},
	{"enable-debug-command", "no", "DEBUG can crash or inspect the server"},
	{"enable-module-command", "no", "MODULE LOAD runs arbitrary code"},
	{"enable-protected-configs", "no", "no runtime change of dir and dbfilename"},
	{"dir", "/data", "the persistent volume"},
}

func checkRedisConf(fsys files) []string {
	d := parseRedisConf(fsys["redis/redis.conf"])
	var ps []string
	for _, w := range redisWant {
		if got := last(d[w.directive]); got != w.value {
			ps = append(ps, fmt.Sprintf("redis/redis.conf: want %s %s (%s), got %q", w.directive, w.value, w.why, got))
		}
	}
	if last(d["maxmemory"]) == "" || last(d["maxmemory"]) == "0" {
		ps = append(ps, "redis/redis.conf: want a maxmemory below the container's memory limit")
	}
	if _, ok := d["rename-command"]; ok {
		ps = append(ps, "redis/redis.conf: use the ACL, not rename-command (it breaks AOF replay)")
	}
	return ps
}

// hotlineCommands is exactly what the ACL user hotline may run: the commands the gateway and
// its CLI were seen to send (testdata/redis-commands.txt, written by TestRedisACLFromTheRun
// -update), plus what go-redis sends on connecting.
func hotlineCommands(fsys files) []string {
	return slices.Concat(parseCommandsFile(fsys[commandsFile]).all(), connectionBasics)
}

// Commands no user may ever be granted.
var forbiddenCommands = []string{
	"flushall", "flushdb", "config", "debug", "module", "keys", "shutdown", "acl", "replicaof",
	"slaveof", "migrate", "monitor", "save", "bgsave", "bgrewriteaof", "sync", "psync", "failover",
	"cluster", "client", "script", "script|flush", "client|kill", "cluster|reset", "restore", "sort",
}

func parseACL(b []byte) (map[string][]string, []string) {
	users := map[string][]string{}
	var ps []string
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "user" {
			ps = append(ps, fmt.Sprintf("redis/users.acl:%d: every line must be `user NAME RULES...` (Redis ACL files have no comments)", i+1))
			continue
		}
		users[f[1]] = f[2:]
	}
	return users, ps
}

func checkRedisACL(fsys files) []string {
	users, ps := parseACL(fsys["redis/users.acl"])
	add := func(format string, a ...any) { ps = append(ps, "redis/users.acl: "+fmt.Sprintf(format, a...)) }
	for name, rules := range users {
		for _, r := range rules {
			switch {
			case r == "allcommands" || strings.HasPrefix(r, "+@"):
				add("user %s: %s grants whole categories", name, r)
			case strings.HasPrefix(r, "+") && slices.Contains(forbiddenCommands, strings.TrimPrefix(r, "+")):
				add("user %s: %s must never be granted", name, r)
			case strings.HasPrefix(r, ">"):
				add("user %s: plaintext password; use #SHA256", name)
			}
		}
	}
	def, ok := users["default"]
	if !ok || !slices.Contains(def, "off") || slices.Contains(def, "on") {
		add("user default: want off")
	}
	h := users["hotline"]
	type rule struct {
		what string
		ok   bool
	}
	var keys, allowed []string
	minusAll := -1
	for i, r := range h {
		switch {
		case strings.HasPrefix(r, "~") || r == "allkeys" || strings.HasPrefix(r, "%"):
			keys = append(keys, r)
		case r == "-@all":
			minusAll = i
		case strings.HasPrefix(r, "+"):
			if minusAll < 0 {
				add("user hotline: %s comes before -@all and is undone by it", r)
			}
			allowed = append(allowed, strings.TrimPrefix(r, "+"))
		}
	}
	want := hotlineCommands(fsys)
	if len(want) == len(connectionBasics) {
		add("%s lists no command: run go test ./deploy -run TestRedisACLFromTheRun -update", commandsFile)
	}
	missing, extra := diff(want, allowed)
	rules := []rule{
		{"on", slices.Contains(h, "on")},
		{"a password hash (#...), not nopass", !slices.Contains(h, "nopass") && slices.ContainsFunc(h, func(r string) bool { return strings.HasPrefix(r, "#") })},
		{"keys ~hl:* only", slices.Equal(keys, []string{"~hl:*"})},
		{"resetchannels (no pub/sub)", slices.Contains(h, "resetchannels")},
		{"-@all before the allowed commands", minusAll >= 0},
		{fmt.Sprintf("the gateway's commands, missing %v", missing), len(missing) == 0},
		{fmt.Sprintf("no other commands, extra %v", extra), len(extra) == 0},
	}
	for _, r := range rules {
		if !r.ok {
			add("user hotline: want %s", r.what)
		}
	}
	if hc, ok := users["healthcheck"]; ok {
		var plus []string
		for _, r := range hc {
			if strings.HasPrefix(r, "+") || strings.HasPrefix(r, "~") || strings.HasPrefix(r, "&") || r == "allkeys" {
				plus = append(plus, r)
			}
		}
		if !slices.Equal(plus, []string{"+ping"}) {
			add("user healthcheck: want +ping and nothing else, got %v", plus)
		}
	}
	return ps
}

// diff returns what want has that got lacks, and what got has that want lacks.
func diff(want, got []string) (missing, extra []string) {
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	return missing, extra
}

// ---- Kubernetes ---------------------------------------------------------------------------------

type object struct {
	file string
	m    map[string]any
}

func (o object) kind() string { return str(o.m["kind"]) }
func (o object) name() string { return str(get(o.m, "metadata", "name")) }

func checkK8s(fsys files) []string {
	var ps []string
	add := func(format string, a ...any) { ps = append(ps, "k8s: "+fmt.Sprintf(format, a...)) }
	var objs []object
	for name, b := range fsys {
		if !strings.HasPrefix(name, "k8s/") || !strings.HasSuffix(name, ".yaml") {
			continue
		}
		docs, err := yamlDocs(b)
		if err != nil {
			add("%s: %v", name, err)
		}
		for _, d := range docs {
			objs = append(objs, object{name, d})
		}
	}
	byKind := map[string][]object{}
	for _, o := range objs {
		byKind[o.kind()] = append(byKind[o.kind()], o)
	}
	for _, k := range []string{"Namespace", "ConfigMap", "Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget", "Kustomization"} {
		if len(byKind[k]) == 0 {
			add("want a %s", k)
		}
	}
	for _, ns := range byKind["Namespace"] {
		if str(get(ns.m, "metadata", "labels", "pod-security.kubernetes.io/enforce")) != "restricted" {
			add("namespace %s: want pod-security.kubernetes.io/enforce: restricted", ns.name())
		}
	}
	for _, s := range byKind["Secret"] {
		if s.file != "k8s/secret.example.yaml" {
			add("%s: a Secret manifest outside secret.example.yaml; create Secrets from files, never from git", s.file)
			continue
		}
		for _, field := range []string{"stringData", "data"} {
			for k, v := range asMap(s.m[field]) {
				if !strings.Contains(str(v), "REPLACE") {
					add("secret.example.yaml: %s.%s must be a REPLACE placeholder", field, k)
				}
			}
		}
	}
	for _, k := range byKind["Kustomization"] {
		if slices.Contains(strs(k.m["resources"]), "secret.example.yaml") {
			add("kustomization.yaml must not apply secret.example.yaml")
		}
	}
	for _, sa := range byKind["ServiceAccount"] {
		if sa.m["automountServiceAccountToken"] != false {
			add("serviceaccount %s: want automountServiceAccountToken: false", sa.name())
		}
	}
	var podLabels map[string]any
	for _, d := range byKind["Deployment"] {
		ps = append(ps, checkDeployment(d)...)
		podLabels = asMap(get(d.m, "spec", "template", "metadata", "labels"))
	}
	selects := func(sel any) bool {
		ml := asMap(get(sel, "matchLabels"))
		if len(ml) == 0 {
			return false
		}
		for k, v := range ml {
			if podLabels[k] != v {
				return false
			}
		}
		return true
	}
	for _, pdb := range byKind["PodDisruptionBudget"] {
		if str(get(pdb.m, "spec", "minAvailable")) != "1" || !selects(get(pdb.m, "spec", "selector")) {
			add("pdb %s: want minAvailable: 1 selecting the gateway pods", pdb.name())
		}
	}
	for _, svc := range byKind["Service"] {
		if !selects(map[string]any{"matchLabels": get(svc.m, "spec", "selector")}) {
			add("service %s: must select the gateway pods", svc.name())
		}
		for _, p := range list(get(svc.m, "spec", "ports")) {
			if str(get(p, "targetPort")) != "8080" {
				add("service %s: want targetPort 8080", svc.name())
			}
		}
	}
	var defaultDeny, gatewayPolicy bool
	for _, np := range byKind["NetworkPolicy"] {
		spec := get(np.m, "spec")
		types := strs(get(spec, "policyTypes"))
		both := slices.Contains(types, "Ingress") && slices.Contains(types, "Egress")
		if len(asMap(get(spec, "podSelector"))) == 0 && both && get(spec, "ingress") == nil && get(spec, "egress") == nil {
			defaultDeny = true
		}
		if !selects(get(spec, "podSelector")) {
			continue
		}
		gatewayPolicy = true
		if !both {
			add("networkpolicy %s: want policyTypes Ingress and Egress", np.name())
		}
		ps = append(ps, checkGatewayPolicy(np)...)
	}
	if !defaultDeny {
		add("want a default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)")
	}
	if !gatewayPolicy {
		add("want a NetworkPolicy selecting the gateway pods")
	}
	for _, cm := range byKind["ConfigMap"] {
		raw, ok := asMap(cm.m["data"])["hotline.yaml"]
		if !ok {
			continue
		}
		c, errs := decodeConfig([]byte(str(raw)), "k8s/configmap.yaml")
		ps = append(ps, errs...)
		if c != nil {
			if c.Redis.Mode != "sentinel" && c.Redis.Mode != "cluster" {
				add("configmap: redis.mode must be sentinel or cluster on Kubernetes (a single Redis is a single point of failure)")
			}
			if len(c.Redis.Addrs) == 0 || (c.Redis.Mode == "sentinel" && c.Redis.MasterName == "") {
				add("configmap: redis.addrs (and master_name for sentinel) are required")
			}
			// Behind the ingress every witness would share one rate-limit bucket.
			if len(c.Web.TrustedProxies) == 0 {
				add("configmap: web.trusted_proxies must name the ingress controller's addresses")
			}
		}
	}
	return ps
}

func checkDeployment(d object) []string {
	var ps []string
	add := func(format string, a ...any) {
		ps = append(ps, fmt.Sprintf("k8s: deployment %s: ", d.name())+fmt.Sprintf(format, a...))
	}
	if str(get(d.m, "spec", "replicas")) != "2" {
		add("want replicas: 2")
	}
	pod := get(d.m, "spec", "template", "spec")
	if get(pod, "automountServiceAccountToken") != false {
		add("want automountServiceAccountToken: false")
	}
	podSC := get(pod, "securityContext")
	containers := list(get(pod, "containers"))
	if len(containers) == 0 {
		add("no containers")
	}
	for _, c := range containers {
		name := str(get(c, "name"))
		sc := get(c, "securityContext")
		either := func(key ...string) any {
			if v := get(sc, key...); v != nil {
				return v
			}
			return get(podSC, key...)
		}
		env := map[string]any{}
		for _, e := range list(get(c, "env")) {
			env[str(get(e, "name"))] = e
		}
		type rule struct {
			what string
			ok   bool
		}
		rules := []rule{
			{"runAsNonRoot: true", either("runAsNonRoot") == true},
			{"readOnlyRootFilesystem: true", get(sc, "readOnlyRootFilesystem") == true},
			{"allowPrivilegeEscalation: false", get(sc, "allowPrivilegeEscalation") == false},
			{"capabilities.drop: [ALL]", slices.Contains(strs(get(sc, "capabilities", "drop")), "ALL")},
			{"no capabilities.add", get(sc, "capabilities", "add") == nil},
			{"seccompProfile RuntimeDefault", str(either("seccompProfile", "type")) == "RuntimeDefault"},
			{"readinessProbe GET /readyz on 8080", str(get(c, "readinessProbe", "httpGet", "path")) == "/readyz" && str(get(c, "readinessProbe", "httpGet", "port")) == "8080"},
			{"livenessProbe GET /healthz on 8080", str(get(c, "livenessProbe", "httpGet", "path")) == "/healthz" && str(get(c, "livenessProbe", "httpGet", "port")) == "8080"},
			{"resources.requests cpu and memory", get(c, "resources", "requests", "cpu") != nil && get(c, "resources", "requests", "memory") != nil},
			{"resources.limits cpu and memory", get(c, "resources", "limits", "cpu") != nil && get(c, "resources", "limits", "memory") != nil},
			{"HOTLINE_PEPPER from a secretKeyRef", get(env["HOTLINE_PEPPER"], "valueFrom", "secretKeyRef") != nil},
			{"TWILIO_AUTH_TOKEN from a secretKeyRef", get(env["TWILIO_AUTH_TOKEN"], "valueFrom", "secretKeyRef") != nil},
		}
		for _, r := range rules {
			if !r.ok {
				add("container %s: want %s", name, r.what)
			}
		}
		for k, e := range env {
			if secretEnv.MatchString(k) && (get(e, "value") != nil || get(e, "valueFrom", "secretKeyRef") == nil) {
				add("container %s: env %s must come from a secretKeyRef, never a literal value", name, k)
			}
		}
	}
	return ps
}

func checkGatewayPolicy(np object) []string {
	var ps []string
	add := func(format string, a ...any) {
		ps = append(ps, fmt.Sprintf("k8s: networkpolicy %s: ", np.name())+fmt.Sprintf(format, a...))
	}
	ingress := list(get(np.m, "spec", "ingress"))
	if len(ingress) == 0 {
		add("want an ingress rule from the ingress controller's namespace")
	}
	for _, r := range ingress {
		for _, p := range list(get(r, "ports")) {
			if str(get(p, "port")) != "8080" {
				add("ingress may only reach port 8080, not %s", str(get(p, "port")))
			}
		}
		if len(list(get(r, "ports"))) == 0 {
			add("an ingress rule without ports opens every port")
		}
		from := list(get(r, "from"))
		if len(from) == 0 {
			add("an ingress rule without from admits everyone")
		}
		for _, f := range from {
			if get(f, "namespaceSelector", "matchLabels") == nil {
				add("ingress only from a namespace chosen by label (the ingress controller's)")
			}
		}
	}
	egressPorts := map[string]bool{}
	for _, r := range list(get(np.m, "spec", "egress")) {
		if len(list(get(r, "ports"))) == 0 {
			add("an egress rule without ports opens every port")
		}
		for _, p := range list(get(r, "ports")) {
			egressPorts[str(get(p, "protocol"))+"/"+str(get(p, "port"))] = true
		}
	}
	for _, want := range []string{"UDP/53", "TCP/443", "TCP/6379"} {
		if !egressPorts[want] {
			add("want egress to %s (DNS, Twilio, Redis)", want)
		}
	}
	for p := range egressPorts {
		if !slices.Contains([]string{"UDP/53", "TCP/53", "TCP/443", "TCP/6379", "TCP/26379"}, p) {
			add("unexpected egress port %s", p)
		}
	}
	return ps
}

// ---- configuration ---------------------------------------------------------------------------------

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

// ---- systemd ---------------------------------------------------------------------------------

// parseUnit reads an INI-style systemd unit: section -> key -> values (keys may repeat).
func parseUnit(b []byte) map[string]map[string][]string {
	u := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			if u[section] == nil {
				u[section] = map[string][]string{}
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if ok && section != "" {
				k = strings.TrimSpace(k)
				u[section][k] = append(u[section][k], strings.TrimSpace(v))
			}
		}
	}
	return u
}

func equals(want string) func([]string) bool {
	return func(v []string) bool { return len(v) > 0 && v[len(v)-1] == want }
}

func containsAll(want ...string) func([]string) bool {
	return func(v []string) bool {
		var all []string
		for _, x := range v {
			all = append(all, strings.Fields(x)...)
		}
		for _, w := range want {
			if !slices.Contains(all, w) {
				return false
			}
		}
		return true
	}
}

func atLeast(d time.Duration) func([]string) bool {
	return func(v []string) bool {
		got, err := time.ParseDuration(last(v))
		return err == nil && got >= d
	}
}

var systemdWant = []struct {
	section, key, want string
	ok                 func([]string) bool
}{
	{"Service", "DynamicUser", "yes", equals("yes")},
	{"Service", "StateDirectory", "hotline (the spool)", equals("hotline")},
	{"Service", "ProtectSystem", "strict", equals("strict")},
	{"Service", "ProtectHome", "yes", equals("yes")},
	{"Service", "PrivateTmp", "yes", equals("yes")},
	{"Service", "PrivateDevices", "yes", equals("yes")},
	{"Service", "NoNewPrivileges", "yes", equals("yes")},
	{"Service", "CapabilityBoundingSet", "empty (no capabilities)", equals("")},
	{"Service", "RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX", equals("AF_INET AF_INET6 AF_UNIX")},
	{"Service", "RestrictNamespaces", "yes", equals("yes")},
	{"Service", "LockPersonality", "yes", equals("yes")},
	{"Service", "MemoryDenyWriteExecute", "yes", equals("yes")},
	{"Service", "SystemCallFilter", "@system-service", containsAll("@system-service")},
	{"Service", "SystemCallArchitectures", "native", equals("native")},
	{"Service", "ProtectKernelTunables", "yes", equals("yes")},
	{"Service", "ProtectKernelModules", "yes", equals("yes")},
	{"Service", "ProtectKernelLogs", "yes", equals("yes")},
	{"Service", "ProtectControlGroups", "yes", equals("yes")},
	{"Service", "ProtectClock", "yes", equals("yes")},
	{"Service", "ProtectHostname", "yes", equals("yes")},
	{"Service", "RestrictRealtime", "yes", equals("yes")},
	{"Service", "RestrictSUIDSGID", "yes", equals("yes")},
	{"Service", "UMask", "0077", equals("0077")},
	{"Service", "LoadCredential", "pepper and twilio_auth_token", func(v []string) bool {
		return slices.ContainsFunc(v, func(s string) bool { return strings.HasPrefix(s, "pepper:") }) &&
			slices.ContainsFunc(v, func(s string) bool { return strings.HasPrefix(s, "twilio_auth_token:") })
	}},
	{"Service", "Restart", "on-failure", equals("on-failure")},
	{"Service", "TimeoutStopSec", "at least 30s for the drain", atLeast(30 * time.Second)},
	{"Service", "ExecStart", "hotline serve --config", func(v []string) bool {
		return strings.Contains(last(v), "hotline serve --config ")
	}},
}

func checkSystemd(fsys files) []string {
	u := parseUnit(fsys["systemd/hotline.service"])
	var ps []string
	for _, w := range systemdWant {
		v, present := u[w.section][w.key]
		if !present || !w.ok(v) {
			ps = append(ps, fmt.Sprintf("systemd/hotline.service: want [%s] %s=%s, got %q", w.section, w.key, w.want, v))
		}
	}
	for _, k := range []string{"User", "AmbientCapabilities"} {
		if v := last(u["Service"][k]); v != "" && (k != "User" || v == "root" || v == "0") {
			ps = append(ps, fmt.Sprintf("systemd/hotline.service: %s=%s grants too much", k, v))
		}
	}
	return ps
}

// ---- Caddyfile ---------------------------------------------------------------------------------

type caddyLine struct {
	site   string // header of the top-level block ("" for the global options block)
	tokens []string
}

// parseCaddyfile returns every directive line with the top-level block it belongs to.
func parseCaddyfile(b []byte) []caddyLine {
	var out []caddyLine
	depth, site := 0, ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "#"); i == 0 || (i > 0 && line[i-1] == ' ') {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		opens := strings.HasSuffix(line, "{")
		header := strings.TrimSpace(strings.TrimSuffix(line, "{"))
		if depth == 0 && opens {
			site = header
		}
		if header != "" && header != "}" {
			out = append(out, caddyLine{site, strings.Fields(header)})
		}
		if opens {
			depth++
		}
		if line == "}" {
			depth--
		}
	}
	return out
}

// envDefault is a Caddyfile environment placeholder with a default: {$NAME:default}.
var envDefault = regexp.MustCompile(`\{\$[A-Z0-9_]+:([^}]*)\}`)

func checkCaddyfile(fsys files) []string {
	lines := parseCaddyfile(fsys["Caddyfile"])
	var ps []string
	add := func(format string, a ...any) { ps = append(ps, "Caddyfile: "+fmt.Sprintf(format, a...)) }
	has := func(pred func(caddyLine) bool) bool { return slices.ContainsFunc(lines, pred) }
	filtered := map[string]bool{}
	for _, l := range lines {
		switch l.tokens[0] {
		case "log":
			if l.site != "" {
				add("%q has a log directive: access logs would record who reported", l.site)
			}
		case "rewrite", "uri", "handle_path", "encode":
			add("%s in %q: the URI must reach the gateway unchanged (Twilio signs it), and no compression (BREACH)", l.tokens[0], l.site)
		}
		if len(l.tokens) == 2 && l.tokens[1] == "delete" && l.site == "" {
			filtered[l.tokens[0]] = true
		}
	}
	for _, f := range []string{"request>remote_ip", "request>client_ip", "request>remote_port", "request>uri", "request>headers"} {
		if !filtered[f] {
			add("the global log must delete %s", f)
		}
	}
	hsts := regexp.MustCompile(`max-age=(\d+)`)
	type rule struct {
		what string
		ok   bool
	}
	rules := []rule{
		{"request_body max_size", has(func(l caddyLine) bool { return l.tokens[0] == "max_size" })},
		{"Strict-Transport-Security with max-age of a year or more", has(func(l caddyLine) bool {
			m := hsts.FindStringSubmatch(strings.Join(l.tokens, " "))
			if l.tokens[0] != "Strict-Transport-Security" || m == nil {
				return false
			}
			n, _ := strconv.Atoi(m[1])
			return n >= 31536000
		})},
		{"reverse_proxy to hotline-1:8080 and hotline-2:8080 (by default)", has(func(l caddyLine) bool {
			// {$HOTLINE_UPSTREAMS:a b}: Caddy puts the default's tokens in place when unset.
			tokens := strings.Fields(envDefault.ReplaceAllString(strings.Join(l.tokens, " "), "$1"))
			return tokens[0] == "reverse_proxy" && slices.Contains(tokens, "hotline-1:8080") && slices.Contains(tokens, "hotline-2:8080")
		})},
		{"health_uri /readyz", has(func(l caddyLine) bool { return slices.Equal(l.tokens, []string{"health_uri", "/readyz"}) })},
		{"/metrics kept off the internet", has(func(l caddyLine) bool {
			return l.tokens[0] == "@internal" && slices.Contains(l.tokens, "/metrics")
		}) && has(func(l caddyLine) bool { return slices.Equal(l.tokens, []string{"respond", "@internal", "404"}) })},
	}
	for _, t := range []string{"read_header", "read_body", "write", "idle", "dial_timeout", "response_header_timeout"} {
		rules = append(rules, rule{t + " timeout", has(func(l caddyLine) bool { return l.tokens[0] == t && len(l.tokens) == 2 })})
	}
	for _, r := range rules {
		if !r.ok {
			add("want %s", r.what)
		}
	}
	return ps
}

// ---- torrc ---------------------------------------------------------------------------------

func checkTorrc(fsys files) []string {
	d := parseRedisConf(fsys["tor/torrc"]) // same "Key value" shape
	var ps []string
	for _, w := range []struct{ key, value string }{
		{"socksport", "0"},
		{"controlport", "0"},
		{"hiddenservicedir", "/var/lib/tor/hotline"},
		{"hiddenserviceversion", "3"},
		{"hiddenserviceport", "80 proxy:8081"},
		{"safelogging", "1"},
	} {
		if got := d[w.key]; len(got) != 1 || got[0] != w.value {
			ps = append(ps, fmt.Sprintf("tor/torrc: want %s %s, got %q", w.key, w.value, got))
		}
	}
	return ps
}

// ---- secrets ---------------------------------------------------------------------------------

// secretPatterns look like real secrets. A match is allowed only if it is clearly a placeholder.
var secretPatterns = []struct {
	what string
	re   *regexp.Regexp
}{
	{"an age identity", regexp.MustCompile(`AGE-SECRET-KEY-[A-Z0-9-]*1[0-9A-Z]{20,}`)},
	{"an age plugin identity", regexp.MustCompile(`AGE-PLUGIN-[A-Z0-9-]+1[0-9A-Z]{20,}`)},
	{"a private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
	{"a complete age recipient (an example key left in would receive real tips)", regexp.MustCompile(`\bage1(pq1)?[02-9ac-hj-np-z]{58,}\b`)},
	{"a Twilio SID", regexp.MustCompile(`\b(AC|SK)[0-9a-f]{32}\b`)},
	{"a 32-hex token (Twilio auth token)", regexp.MustCompile(`\b[0-9a-fA-F]{32}\b`)},
	{"a 64-hex value (password hash, key)", regexp.MustCompile(`\b[0-9a-fA-F]{64}\b`)},
	{"a URL with a password", regexp.MustCompile(`[a-z]+://[^\s/:@]+:([^\s@/]+)@`)},
	{"an AWS key", regexp.MustCompile(`\bAKIA[0-9A-Z]{16}\b`)},
	{"a long base64 string", regexp.MustCompile(`[A-Za-z0-9+/]{40,}={0,2}`)},
}

// looksRandom: random base64 mixes digits, upper and lower case; paths and words do not.
func looksRandom(s string) bool {
	return strings.ContainsAny(s, "0123456789") &&
		strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
		strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz")
}

func isPlaceholder(s string) bool {
	for _, p := range []string{"REPLACE", "PASSWORD", "%s", "$", "<", "..."} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func checkNoSecrets(fsys files) []string {
	var ps []string
	for name, b := range fsys {
		for i, line := range strings.Split(string(b), "\n") {
			for _, p := range secretPatterns {
				for _, m := range p.re.FindAllString(line, -1) {
					if isPlaceholder(m) {
						continue
					}
					if p.what == "a long base64 string" && !looksRandom(m) {
						continue // a path or a word, not random data
					}
					ps = append(ps, fmt.Sprintf("%s:%d: looks like %s; use a REPLACE placeholder", name, i+1, p.what))
				}
			}
		}
	}
	return ps
}

// ---- a real Redis ---------------------------------------------------------------------------------

// TestRedisLoadsConfig starts redis-server with redis/redis.conf and redis/users.acl (a test
// password filled in, paths moved to a temporary directory) and checks what Redis itself says.
// Without redis-server on PATH it is skipped, except with CI=true.
func TestRedisLoadsConfig(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not on PATH, and CI=true requires it")
		}
		t.Skip("redis-server not on PATH")
	}
	dir := t.TempDir()
	const password = "test-password-for-deploy-test"
	const adminPassword = "test-admin-password"
	sum := sha256Hex(password)
	acl := strings.Replace(string(readFile(t, "redis/users.acl")), "#REPLACE_WITH_SHA256_OF_THE_REDIS_PASSWORD", "#"+sum, 1)
	// An administrator exists only in the test's copy, to read the effective configuration.
	acl += "user testadmin on >" + adminPassword + " ~* &* +@all\n"
	writeFile(t, filepath.Join(dir, "users.acl"), acl)

	port := freePort(t)
	var conf strings.Builder
	for _, line := range strings.Split(string(readFile(t, "redis/redis.conf")), "\n") {
		key, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch key {
		case "bind", "port", "dir", "aclfile", "maxmemory":
			continue
		}
		conf.WriteString(line + "\n")
	}
	fmt.Fprintf(&conf, "bind 127.0.0.1\nport %d\ndir %s\naclfile %s\nmaxmemory 64mb\n", port, dir, filepath.Join(dir, "users.acl"))
	writeFile(t, filepath.Join(dir, "redis.conf"), conf.String())

	var logBuf bytes.Buffer
	cmd := exec.Command(bin, filepath.Join(dir, "redis.conf"))
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Fatalf("failed to start redis-server: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("redis-server log:\n%s", logBuf.String())
		}
	})

	dial := func() *respConn {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
			if err == nil {
				c.SetDeadline(time.Now().Add(10 * time.Second))
				return &respConn{c, bufio.NewReader(c)}
			}
			if time.Now().After(deadline) {
				t.Fatalf("redis-server did not start with deploy/redis/redis.conf: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	anon := dial()
	defer anon.Close()
	admin := dial()
	defer admin.Close()
	gw := dial()
	defer gw.Close()
	hc := dial()
	defer hc.Close()

	type step struct {
		conn   *respConn
		who    string
		args   []string
		prefix string // the reply must start with this; "denied" for NOPERM or ERR
	}
	steps := []step{
		{anon, "anonymous", []string{"PING"}, "NOAUTH"},
		{anon, "anonymous", []string{"AUTH", "default", "anything"}, "WRONGPASS"},
		{admin, "admin", []string{"AUTH", "testadmin", adminPassword}, "OK"},
		{admin, "admin", []string{"CONFIG", "GET", "appendonly"}, "[appendonly yes]"},
		{admin, "admin", []string{"CONFIG", "GET", "appendfsync"}, "[appendfsync everysec]"},
		{admin, "admin", []string{"CONFIG", "GET", "maxmemory-policy"}, "[maxmemory-policy noeviction]"},
		{admin, "admin", []string{"CONFIG", "GET", "protected-mode"}, "[protected-mode yes]"},
		{gw, "hotline", []string{"AUTH", "hotline", "wrong"}, "WRONGPASS"},
		{gw, "hotline", []string{"AUTH", "hotline", password}, "OK"},
		{gw, "hotline", []string{"XADD", "hl:{pe-lima}:tips:urgent", "*", "tip", "sealed"}, ""},
		{gw, "hotline", []string{"XGROUP", "CREATE", "hl:{pe-lima}:tips:urgent", "officers", "0"}, "OK"},
		{gw, "hotline", []string{"XREADGROUP", "GROUP", "officers", "o1", "COUNT", "1", "STREAMS", "hl:{pe-lima}:tips:urgent", ">"}, "[["},
		{gw, "hotline", []string{"EVAL", "return redis.call('INCR', KEYS[1])", "1", "hl:counter"}, "1"},
		{gw, "hotline", []string{"SET", "other:key", "x"}, "NOPERM"},
		{gw, "hotline", []string{"EVAL", "return redis.call('SET', KEYS[1], 'x')", "1", "other:key"}, "denied"},
		{gw, "hotline", []string{"FLUSHALL"}, "NOPERM"},
		{gw, "hotline", []string{"KEYS", "*"}, "NOPERM"},
		{gw, "hotline", []string{"CONFIG", "SET", "appendfsync", "no"}, "NOPERM"},
		{gw, "hotline", []string{"SCRIPT", "FLUSH"}, "NOPERM"},
		{gw, "hotline", []string{"SUBSCRIBE", "hl:events"}, "NOPERM"},
		{hc, "healthcheck", []string{"AUTH", "healthcheck", "unused"}, "OK"},
		{hc, "healthcheck", []string{"PING"}, "PONG"},
		{hc, "healthcheck", []string{"GET", "hl:counter"}, "NOPERM"},
	}
	for _, s := range steps {
		got, err := s.conn.do(s.args...)
		if err != nil {
			t.Fatalf("%s %v: %v", s.who, s.args, err)
		}
		denied := strings.HasPrefix(got, "NOPERM") || strings.HasPrefix(got, "ERR")
		if s.prefix == "denied" && !denied || s.prefix != "denied" && !strings.HasPrefix(got, s.prefix) {
			t.Errorf("%s %v: got %q, want a reply starting with %q", s.who, s.args[:1], got, s.prefix)
		}
	}
	// Every command granted to hotline exists in this Redis and is allowed on an hl: key.
	// Container commands need a subcommand to be checked.
	dryrun := map[string][]string{
		"xgroup":  {"xgroup", "create", "hl:x", "g", "$"},
		"xinfo":   {"xinfo", "stream", "hl:x"},
		"command": {"command", "count"},
	}
	for _, c := range hotlineCommands(loadFiles(t)) {
		args := append(strings.Split(c, "|"), "hl:x")
		if a, ok := dryrun[c]; ok {
			args = a
		}
		got, err := admin.do(append([]string{"ACL", "DRYRUN", "hotline"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		if got != "OK" && !strings.Contains(got, "wrong number of arguments") {
			t.Errorf("ACL DRYRUN hotline %s: %s", c, got)
		}
	}
}

// respConn is the least of a Redis client: enough to send a command and read its reply.
type respConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *respConn) do(args ...string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		return "", err
	}
	return c.read()
}

// read returns a reply as text: errors and simple strings as they are, arrays as [a b].
func (c *respConn) read() (string, error) {
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', '-', ':':
		return line[1:], nil
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return "(nil)", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		parts := make([]string, 0, max(n, 0))
		for range n {
			p, err := c.read()
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return "[" + strings.Join(parts, " ") + "]", nil
	default:
		return "", fmt.Errorf("unexpected reply %q", line)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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

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

// mutations of every kind of file; each kind's file holds its own.
var mutations = slices.Concat(dockerfileMutations, torMutations, composeMutations, redisMutations,
	k8sMutations, configMutations, caddyMutations, secretsMutations)

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

// needTool returns the path of a program a validator runs. Without it the test fails under
// CI=true (.ci/run installs it) and is skipped elsewhere.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not on PATH, and CI=true requires it", name)
		}
		t.Skipf("%s not on PATH", name)
	}
	return p
}

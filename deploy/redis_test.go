package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

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

// TestRedisLoadsConfig starts redis-server with redis/redis.conf and redis/users.acl (a test
// password filled in, paths moved to a temporary directory) and checks what Redis itself says.
// Without redis-server on PATH it is skipped, except with CI=true.
func TestRedisLoadsConfig(t *testing.T) {
	s := startShippedRedis(t, "maxmemory 64mb")
	// One connection per user, as the users of a real deployment have: AUTH holds for it.
	conn := func(network, addr string) *redis.Conn {
		c := redis.NewClient(&redis.Options{Network: network, Addr: addr, Protocol: 2, DisableIdentity: true,
			MaxRetries: -1, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
		t.Cleanup(func() { c.Close() })
		cn := c.Conn()
		t.Cleanup(func() { cn.Close() })
		return cn
	}
	anon, admin, gw, hc := conn("tcp", s.Addr), conn("tcp", s.Addr), conn("tcp", s.Addr), conn("tcp", s.Addr)
	type step struct {
		conn   *redis.Conn
		who    string
		args   []string
		prefix string // the reply must start with this; "denied" for NOPERM or ERR
	}
	steps := []step{
		{anon, "anonymous", []string{"PING"}, "NOAUTH"},
		{anon, "anonymous", []string{"AUTH", "default", "anything"}, "WRONGPASS"},
		{admin, "admin", []string{"AUTH", "testadmin", s.AdminPassword}, "OK"},
		{admin, "admin", []string{"CONFIG", "GET", "appendonly"}, "[appendonly yes]"},
		{admin, "admin", []string{"CONFIG", "GET", "appendfsync"}, "[appendfsync everysec]"},
		{admin, "admin", []string{"CONFIG", "GET", "maxmemory-policy"}, "[maxmemory-policy noeviction]"},
		{admin, "admin", []string{"CONFIG", "GET", "protected-mode"}, "[protected-mode yes]"},
		{gw, "hotline", []string{"AUTH", "hotline", "wrong"}, "WRONGPASS"},
		{gw, "hotline", []string{"AUTH", "hotline", s.Password}, "OK"},
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
	for _, st := range steps {
		got, err := reply(st.conn, st.args...)
		if err != nil {
			t.Fatalf("%s %v: %v", st.who, st.args[:1], err)
		}
		denied := strings.HasPrefix(got, "NOPERM") || strings.HasPrefix(got, "ERR")
		if st.prefix == "denied" && !denied || st.prefix != "denied" && !strings.HasPrefix(got, st.prefix) {
			t.Errorf("%s %v: got %q, want a reply starting with %q", st.who, st.args[:1], got, st.prefix)
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
		got, err := reply(admin, append([]string{"ACL", "DRYRUN", "hotline"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		if got != "OK" && !strings.Contains(got, "wrong number of arguments") {
			t.Errorf("ACL DRYRUN hotline %s: %s", c, got)
		}
	}
}

// reply sends a command and returns Redis's answer as text: an error reply as its message,
// an array as [a b]. The error is for a failure to reach Redis.
func reply(c *redis.Conn, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	a := make([]any, len(args))
	for i, s := range args {
		a[i] = s
	}
	v, err := c.Do(ctx, a...).Result()
	var rerr redis.Error
	switch {
	case errors.As(err, &rerr):
		return rerr.Error(), nil
	case err != nil:
		return "", err
	}
	return fmt.Sprint(v), nil
}

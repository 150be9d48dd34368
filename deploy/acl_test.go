package deploy_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
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
	"unicode/utf8"

	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

var update = flag.Bool("update", false, "rewrite testdata/redis-commands.txt from what the ACL run saw the code send")

// commandsFile lists every Redis command the gateway and its CLI send, one a line, written
// by TestRedisACLFromTheRun -update. checkRedisACL holds redis/users.acl to exactly these
// plus connectionBasics.
const commandsFile = "testdata/redis-commands.txt"

// connectionBasics are sent by go-redis when it connects, in every mode; Redis does not show
// them in MONITOR (AUTH and HELLO carry the password), so the run cannot see them.
var connectionBasics = []string{"auth", "hello", "select", "ping"}

// The ACL run: the suites below run as the hotline user of the shipped users.acl.
// Between them they take tips over the signed SMS webhook and the web form, run the whole
// officer workflow (the CLI scenarios: officer add, list and revoke, claim, show, note, transfer,
// escalate, ack, watch, audit verify; and every /api/v1 route in handlers, reply, release and
// renew included), officer tokens, follow-up, retention, paging, conversation threads, rate limits,
// the intake pipeline, the SMS channel, scrubbing, the web form's abuse guard, the metrics'
// queue depth, and the spool's drain into Redis (publisher, held tips, side records).
var aclRunSuites = []struct {
	pkgs      []string
	run, skip string
}{
	{[]string{"./cmd/hotline"}, "^(TestScripts|TestMetricsWhereConfigured|TestThroughShippedCaddy)$", ""},
	// The browser tests need chromium and say nothing more about Redis than the form tests.
	{[]string{"./handlers", "./queue", "./queue/officer", "./gateway", "./gateway/sms", "./gateway/web", "./gateway/spool",
		"./gateway/scrub", "./gateway/metrics", "./gateway/followup", "./gateway/paging", "./gateway/conversation", "./gateway/ratelimit"}, "", "^TestBrowser"},
}

// aclClusterSuites run on a Redis Cluster (TestRedisACLCluster) and through Sentinel
// (TestRedisACLSentinel): the queue and officers, and the stores the gateway keeps beside them.
var aclClusterSuites = []string{"./queue/", "./queue/officer/", "./gateway/followup", "./gateway/conversation",
	"./gateway/ratelimit", "./gateway/paging", "./gateway/scrub", "./gateway/web"}

// shippedRedis is a redis-server started with redis/redis.conf and redis/users.acl, changed
// only where a test must: bind, port and dir (queuetest's), the aclfile's path, and a unix
// socket on which only the test's administrator (added to the test's copy of the ACL) connects.
type shippedRedis struct {
	*queuetest.Server
	Port          int
	Socket        string
	Password      string // the hotline user's
	AdminPassword string
}

// hotlineURL is REDIS_URL for the gateway's user over TCP.
func (s *shippedRedis) hotlineURL() string {
	return fmt.Sprintf("redis://hotline:%s@%s/0", s.Password, s.Addr)
}

// adminURL reaches the same server as the test's administrator, over the unix socket, so that
// MONITOR can tell the administrator's commands from the gateway's.
func (s *shippedRedis) adminURL() string {
	return fmt.Sprintf("unix://testadmin:%s@%s?db=0", s.AdminPassword, s.Socket)
}

func (s *shippedRedis) adminClient(t *testing.T) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: s.Socket, Username: "testadmin",
		Password: s.AdminPassword, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// startShippedRedis starts the shipped configuration; extra lines are appended to redis.conf.
func startShippedRedis(t *testing.T, extra ...string) *shippedRedis {
	t.Helper()
	conf := filepath.Join(t.TempDir(), "redis.conf")
	srv := queuetest.NewServer(t, conf)
	s := &shippedRedis{Server: srv, Socket: filepath.Join(srv.Dir, "redis.sock"),
		Password: "acl-run-" + randomHexT(t), AdminPassword: "admin-" + randomHexT(t)}
	_, port, _ := net.SplitHostPort(srv.Addr)
	s.Port, _ = strconv.Atoi(port)
	acl := strings.Replace(string(readFile(t, "redis/users.acl")), "#REPLACE_WITH_SHA256_OF_THE_REDIS_PASSWORD", "#"+sha256Hex(s.Password), 1)
	if strings.Contains(acl, "REPLACE_WITH") {
		t.Fatal("redis/users.acl: the password placeholder is not where the test expects it")
	}
	acl += "user testadmin on >" + s.AdminPassword + " ~* &* +@all\n"
	aclPath := filepath.Join(srv.Dir, "users.acl")
	writeFile(t, aclPath, acl)
	var b strings.Builder
	for _, line := range strings.Split(string(readFile(t, "redis/redis.conf")), "\n") {
		key, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch key {
		case "bind", "port", "dir", "aclfile":
			continue // queuetest gives bind, port and dir on the command line
		}
		b.WriteString(line + "\n")
	}
	fmt.Fprintf(&b, "aclfile %s\nunixsocket %s\nunixsocketperm 700\n", aclPath, s.Socket)
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	writeFile(t, conf, b.String())
	srv.Start()
	return s
}

// monitorLine is one MONITOR line: `+1700000000.123456 [0 127.0.0.1:5000] "xadd" "key" ...`,
// with `lua` as the client of a command a script ran.
var monitorLine = regexp.MustCompile(`^\+?[0-9.]+ \[\d+ ([^\]]+)\] "([^"]*)"(?: "([^"]*)")?`)

// containers are the commands whose ACL rules name a subcommand (xgroup|create).
var containers = []string{"xgroup", "xinfo", "client", "cluster", "script", "command", "object",
	"memory", "config", "acl", "function", "pubsub", "latency", "slowlog", "module"}

// aclName is how users.acl names a command: lowercase, with its subcommand for a container.
func aclName(name, sub string) string {
	name = strings.ToLower(name)
	if slices.Contains(containers, name) && sub != "" {
		return name + "|" + strings.ToLower(sub)
	}
	return name
}

// monitor records every command that did not come from the administrator's unix socket. It
// reads MONITOR through redis-cli: go-redis's MonitorCmd falls behind a whole suite's traffic
// and cannot be stopped while it waits for a line.
func monitor(t *testing.T, s *shippedRedis) (stop func() map[string]int) {
	t.Helper()
	cli := queuetest.NeedProgram(t, "redis-cli")
	cmd := exec.Command(cli, "-s", s.Socket, "--user", "testadmin", "--pass", s.AdminPassword, "--no-auth-warning", "monitor")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-cli monitor: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// The end marker: once MONITOR shows it, every command sent before it has been counted.
	end := "hl-monitor-end-" + randomHexT(t)
	seen := map[string]int{}
	ended := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, end) {
				close(ended)
				io.Copy(io.Discard, out)
				return
			}
			m := monitorLine.FindStringSubmatch(line)
			if m != nil && !strings.HasPrefix(m[1], "unix:") {
				seen[aclName(m[2], m[3])]++
			}
		}
	}()
	// redis-cli has sent MONITOR once the server counts a monitor client.
	admin := s.adminClient(t)
	queuetest.WaitUntil(t, 10*time.Second, "redis-cli to start MONITOR", func() error {
		list, err := admin.ClientList(context.Background()).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(list, "cmd=monitor") {
			return errors.New("no monitor client yet")
		}
		return nil
	})
	return func() map[string]int {
		deadline := time.Now().Add(time.Minute)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := admin.Echo(ctx, end).Err()
			cancel()
			if err != nil {
				t.Fatalf("ECHO to end MONITOR: %v", err)
			}
			select {
			case <-ended:
				return seen
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("MONITOR never showed its end marker")
			}
		}
	}
}

// aclLogEntries returns Redis's ACL LOG, each entry as its fields.
func aclLogEntries(t *testing.T, admin *redis.Client) []map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := admin.Do(ctx, "ACL", "LOG", "128").Slice()
	if err != nil {
		t.Fatalf("ACL LOG: %v", err)
	}
	var out []map[string]string
	for _, e := range v {
		kv, _ := e.([]any)
		f := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			f[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
		}
		out = append(out, f)
	}
	return out
}

// aclLog returns Redis's ACL LOG as readable lines.
func aclLog(t *testing.T, admin *redis.Client) []string {
	t.Helper()
	var out []string
	for _, f := range aclLogEntries(t, admin) {
		out = append(out, fmt.Sprintf("user %s refused %s (reason %s, context %s, %s times)",
			f["username"], f["object"], f["reason"], f["context"], f["count"]))
	}
	return out
}

// serverStats is what the server says of its clients and of the errors it answered (INFO
// clients, stats and errorstats): a suite that failed on a refused connection (maxclients) or
// a refused write (OOM) shows it there.
func serverStats(t *testing.T, admin *redis.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := admin.Info(ctx, "clients", "stats", "errorstats", "memory").Result()
	if err != nil {
		return "INFO: " + err.Error()
	}
	var out []string
	for _, l := range strings.Split(info, "\n") {
		l = strings.TrimSpace(l)
		k, _, _ := strings.Cut(l, ":")
		switch {
		case k == "connected_clients", k == "maxclients", k == "rejected_connections", k == "total_connections_received",
			k == "used_memory_peak_human", k == "total_error_replies", k == "expired_keys", strings.HasPrefix(k, "errorstat_"):
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}

// aclLogObjects returns the commands ACL LOG names as refused (reason command).
func aclLogObjects(t *testing.T, admin *redis.Client) []string {
	t.Helper()
	var out []string
	for _, f := range aclLogEntries(t, admin) {
		if f["reason"] == "command" {
			out = append(out, strings.ToLower(f["object"]))
		}
	}
	return out
}

func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go is not on PATH")
	}
	return p
}

// TestRedisACLFromTheRun runs the integration suites as the hotline user of the shipped
// redis/users.acl and fails on any entry in ACL LOG. Every command the run saw the code send
// (MONITOR, less the administrator's socket, plus whatever ACL LOG refused) must be in
// testdata/redis-commands.txt, which -update rewrites; checkRedisACL then holds users.acl to
// exactly that list.
func TestRedisACLFromTheRun(t *testing.T) {
	if testing.Short() {
		t.Skip("the ACL run starts the integration suites: not in -short")
	}
	fail := failLast(t)
	s := startShippedRedis(t)
	admin := s.adminClient(t)
	stop := monitor(t, s)

	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		"REDIS_URL="+s.hotlineURL(),
		"HOTLINE_TEST_REDIS_ADMIN_URL="+s.adminURL(),
		"HOTLINE_TEST_REDIS_MODE=", "HOTLINE_TEST_CLUSTER_ADDRS=",
	)
	for _, suite := range aclRunSuites {
		args := []string{"test", "-count=1", "-p=2"}
		if suite.run != "" {
			args = append(args, "-run", suite.run)
		}
		if suite.skip != "" {
			args = append(args, "-skip", suite.skip)
		}
		args = append(args, suite.pkgs...)
		cmd := exec.Command(goTool(t), args...)
		cmd.Dir, cmd.Env = root, env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		t.Logf("go %s: %v in %s", strings.Join(args, " "), errOrOK(err), time.Since(start).Round(time.Second))
		if err != nil {
			fail("%v fails as the hotline user of the shipped ACL:\n%s", suite.pkgs, failures(out, 20))
		}
	}
	seen := stop()
	stats := serverStats(t, admin)
	t.Logf("the server after the suites: %s", stats)
	for _, o := range aclLogObjects(t, admin) {
		seen[o]++
	}
	for _, e := range aclLog(t, admin) {
		fail("ACL LOG: %s", e)
	}
	if t.Failed() {
		fail("the server after the suites: %s", stats)
	}

	var names []string
	for n := range seen {
		if !slices.Contains(connectionBasics, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		t.Fatal("MONITOR saw no command from the suites")
	}
	if *update {
		var b strings.Builder
		b.WriteString(commandsHeader)
		for _, n := range names {
			b.WriteString(n + "\n")
		}
		b.WriteString(clusterSection(t))
		if err := os.WriteFile(commandsFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	listed := parseCommandsFile(readFile(t, commandsFile))
	var missing []string
	for _, n := range names {
		if !slices.Contains(listed.all(), n) {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		fail("the code sends %v, which %s lacks: run go test ./deploy -run TestRedisACLFromTheRun -update, then grant them in redis/users.acl", missing, commandsFile)
	}
	for _, n := range listed.run {
		if _, ok := seen[n]; !ok {
			t.Logf("%s lists %s, which this run did not see", commandsFile, n)
		}
	}
}

const commandsHeader = `# Redis commands the hotline gateway and its CLI send, as seen by TestRedisACLFromTheRun
# (MONITOR of the integration suites run as the hotline user, plus what ACL LOG refused).
# Written by: go test ./deploy -run TestRedisACLFromTheRun -update. Do not edit by hand above
# the cluster section. redis/users.acl grants exactly these, plus auth, hello, select, ping.
`

// clusterMarker starts the section of commands that go-redis sends in Cluster mode only.
const clusterMarker = "# cluster:"

// clusterSection keeps the Cluster and Sentinel section of the existing file when -update
// rewrites the single-node part (TestRedisACLCluster checks it against a real cluster).
func clusterSection(t *testing.T) string {
	b, err := os.ReadFile(commandsFile)
	if err != nil {
		return ""
	}
	if i := strings.Index(string(b), clusterMarker); i >= 0 {
		return string(b[i:])
	}
	return ""
}

type commandList struct{ run, cluster []string }

func (c commandList) all() []string { return slices.Concat(c.run, c.cluster) }

func parseCommandsFile(b []byte) commandList {
	var c commandList
	inCluster := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, clusterMarker) {
			inCluster = true
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if inCluster {
			c.cluster = append(c.cluster, line)
		} else {
			c.run = append(c.run, line)
		}
	}
	return c
}

// failLast returns what the test calls to fail: t.Error, and the message again, shortened to
// its failing tests and their lines, after every other cleanup's output. A failed run ends with
// the servers' logs (queuetest prints them), and a CI summary that shows only a run's last lines
// would show those alone. Call it first, so that its cleanup runs last.
func failLast(t *testing.T) func(format string, args ...any) {
	var said []string
	t.Cleanup(func() {
		if len(said) > 0 {
			t.Logf("%s failed, in short:\n%s", t.Name(), strings.Join(said, "\n"))
		}
	})
	return func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		t.Error(msg)
		said = append(said, inShort(msg, 8))
	}
}

// inShort is a failure's first line and the lines of go test output in it that name a failing
// test, a test's message, a panic (a timeout is one) or a failing package (a build that failed
// is one), at most n lines of at most 200 bytes.
func inShort(msg string, n int) string {
	lines := strings.Split(msg, "\n")
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		if len(out) == n {
			break
		}
		if strings.Contains(l, "--- FAIL") || testMessage.MatchString(l) || strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "FAIL\t") {
			out = append(out, l)
		}
	}
	for i, l := range out {
		if len(l) > 200 {
			out[i] = strings.ToValidUTF8(l[:200], "") + "..."
		}
	}
	return strings.Join(out, "\n")
}

// testMessage is a line of go test output that t.Error or t.Log wrote.
var testMessage = regexp.MustCompile(`_test\.go:\d+:`)

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// failures returns the lines of go test output that name a failing test and its messages,
// then the last n lines.
func failures(b []byte, n int) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "--- FAIL") || testMessage.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n") + "\n...\n" + tail(b, n)
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func randomHexT(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestRedisACLCluster runs aclClusterSuites on a three-master Redis Cluster whose nodes load the
// shipped redis.conf and users.acl, as the hotline user through go-redis's ClusterClient: ACL
// LOG must stay empty on every node, and every command seen must be in testdata/redis-commands.txt
// (the cluster section holds what the ClusterClient adds: CLUSTER SLOTS, COMMAND).
func TestRedisACLCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Redis Cluster and runs suites on it: not in -short")
	}
	fail := failLast(t)
	cli := queuetest.NeedProgram(t, "redis-cli")
	var nodes []*shippedRedis
	var addrs, sockets []string
	for range 3 {
		s := startShippedRedis(t, "cluster-enabled yes", "cluster-config-file nodes.conf",
			"cluster-node-timeout 2000", fmt.Sprintf("cluster-port %d", queuetest.FreePort(t)))
		nodes = append(nodes, s)
		addr := fmt.Sprintf("127.0.0.1:%d", s.Port)
		addrs = append(addrs, addr)
		sockets = append(sockets, addr+"="+s.Socket)
	}
	// Every node has the same users: one password for all (the test's copies differ only in it).
	for _, n := range nodes[1:] {
		admin := n.adminClient(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := admin.Do(ctx, "ACL", "SETUSER", "hotline", "resetpass", ">"+nodes[0].Password).Err()
		if err == nil {
			err = admin.Do(ctx, "ACL", "SETUSER", "testadmin", "resetpass", ">"+nodes[0].AdminPassword).Err()
		}
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		n.Password, n.AdminPassword = nodes[0].Password, nodes[0].AdminPassword
	}
	args := append([]string{"--user", "testadmin", "--pass", nodes[0].AdminPassword, "--no-auth-warning", "--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	var admins []*redis.Client
	for _, n := range nodes {
		admins = append(admins, n.adminClient(t))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := true
		for _, a := range admins {
			info, err := a.ClusterInfo(context.Background()).Result()
			ok = ok && err == nil && strings.Contains(info, "cluster_state:ok")
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cluster did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
	var stops []func() map[string]int
	for _, n := range nodes {
		stops = append(stops, monitor(t, n))
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goTool(t), append([]string{"test", "-count=1", "-p=2"}, aclClusterSuites...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"HOTLINE_TEST_REDIS_MODE=",
		"HOTLINE_TEST_CLUSTER_ADDRS="+strings.Join(addrs, ","),
		"HOTLINE_TEST_CLUSTER_USER=hotline",
		"HOTLINE_TEST_CLUSTER_PASSWORD="+nodes[0].Password,
		"HOTLINE_TEST_CLUSTER_ADMIN=testadmin:"+nodes[0].AdminPassword,
		"HOTLINE_TEST_CLUSTER_SOCKETS="+strings.Join(sockets, ","),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		fail("%v fail on the cluster as the hotline user of the shipped ACL: %v\n%s", aclClusterSuites, err, failures(out, 20))
	}
	seen := map[string]int{}
	for i, stop := range stops {
		for k, v := range stop() {
			seen[k] += v
		}
		for _, o := range aclLogObjects(t, admins[i]) {
			seen[o]++
		}
		for _, e := range aclLog(t, admins[i]) {
			fail("ACL LOG of node %d: %s", i, e)
		}
	}
	t.Logf("commands seen on the cluster: %v", slices.Sorted(maps.Keys(seen)))
	listed := parseCommandsFile(readFile(t, commandsFile)).all()
	var missing []string
	for n := range seen {
		if !slices.Contains(listed, n) && !slices.Contains(connectionBasics, n) {
			missing = append(missing, n)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		fail("on a cluster the code sends %v, which %s lacks: add them to its cluster section and to redis/users.acl", missing, commandsFile)
	}
	for _, c := range []string{"cluster|slots", "command"} {
		if seen[c] == 0 {
			fail("the cluster run never saw %s: is MONITOR watching the client?", c)
		}
	}
}

// TestRedisACLSentinel runs aclClusterSuites through go-redis's Sentinel client (as cmd/hotline
// builds it for mode: sentinel) against a master that loads the shipped redis.conf and
// users.acl, as the hotline user: ACL LOG must stay empty. The sentinel itself authenticates
// to the master as the test's administrator (a real deployment gives it a user of its own,
// deploy/README.md).
func TestRedisACLSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Redis with a sentinel and runs suites through it: not in -short")
	}
	fail := failLast(t)
	master := startShippedRedis(t)
	admin := master.adminClient(t)
	confPath := filepath.Join(t.TempDir(), "sentinel.conf")
	writeFile(t, confPath, fmt.Sprintf("sentinel monitor hotline 127.0.0.1 %d 1\n"+
		"sentinel auth-user hotline testadmin\nsentinel auth-pass hotline %s\n", master.Port, master.AdminPassword))
	sentinelServer := queuetest.NewServer(t, confPath, "--sentinel")
	sentinelServer.Start()
	sentinel := redis.NewSentinelClient(&redis.Options{Addr: sentinelServer.Addr, DisableIdentity: true})
	defer sentinel.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		addr, err := sentinel.GetMasterAddrByName(ctx, "hotline").Result()
		cancel()
		if err == nil && len(addr) == 2 && addr[1] == fmt.Sprint(master.Port) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sentinel does not know the master: %v %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	// The suite must reach the master through the sentinel: count the sentinel's connections.
	sentinelInfo := redis.NewClient(&redis.Options{Addr: sentinelServer.Addr, DisableIdentity: true})
	defer sentinelInfo.Close()
	connections := func() int {
		info, err := sentinelInfo.Info(context.Background(), "stats").Result()
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`total_connections_received:(\d+)`).FindStringSubmatch(info)
		if m == nil {
			t.Fatalf("no total_connections_received in the sentinel's INFO")
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	before := connections()
	run := exec.Command(goTool(t), append([]string{"test", "-count=1", "-p=2"}, aclClusterSuites...)...)
	run.Dir = root
	run.Env = append(os.Environ(),
		"HOTLINE_TEST_REDIS_MODE=", "HOTLINE_TEST_CLUSTER_ADDRS=",
		"REDIS_URL="+master.hotlineURL(),
		"HOTLINE_TEST_REDIS_ADMIN_URL="+master.adminURL(),
		"HOTLINE_TEST_SENTINEL_ADDRS="+sentinelServer.Addr,
		"HOTLINE_TEST_SENTINEL_MASTER=hotline",
	)
	out, err := run.CombinedOutput()
	if err != nil {
		fail("%v fail through Sentinel as the hotline user of the shipped ACL: %v\n%s", aclClusterSuites, err, failures(out, 20))
	}
	if n := connections() - before; n < 10 {
		fail("the sentinel saw %d connections during the suite: it did not go through Sentinel", n)
	}
	for _, e := range aclLog(t, admin) {
		fail("ACL LOG: %s", e)
	}
}

func TestInShort(t *testing.T) {
	out := "ok  \tgithub.com/x/a\t1.0s\n" +
		"--- FAIL: TestB (0.10s)\n" +
		"    b_test.go:12: want 3, got 4\n" +
		"        a continuation line\n" +
		"FAIL\tgithub.com/x/b\t2.0s\n" +
		"FAIL\tgithub.com/x/d [build failed]\n" +
		"panic: test timed out after 10m0s\n" +
		"    c_test.go:7: " + strings.Repeat("é", 150) + "\n"
	got := inShort("[./b] fails:\n"+out, 8)
	want := "[./b] fails:\n--- FAIL: TestB (0.10s)\n    b_test.go:12: want 3, got 4\nFAIL\tgithub.com/x/b\t2.0s\n" +
		"FAIL\tgithub.com/x/d [build failed]\npanic: test timed out after 10m0s\n    c_test.go:7: "
	if !strings.HasPrefix(got, want) {
		t.Fatalf("inShort kept:\n%s\nwant it to begin:\n%s", got, want)
	}
	last := got[strings.LastIndex(got, "\n")+1:]
	if !strings.HasSuffix(last, "...") || len(last) > 203 || !utf8.ValidString(last) {
		t.Errorf("a long line is kept as %q: want at most 200 bytes of valid UTF-8 and an ellipsis", last)
	}
	if got := inShort("one\n--- FAIL: A\n--- FAIL: B\n--- FAIL: C", 3); got != "one\n--- FAIL: A\n--- FAIL: B" {
		t.Errorf("inShort(..., 3) = %q: want the first line and two more", got)
	}
}

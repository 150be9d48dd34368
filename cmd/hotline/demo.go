package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/config"
	"github.com/redis/go-redis/v9"
)

// demoRegions are rough outlines of our own making, for the demo only.
//
//go:embed demo-regions.geojson
var demoRegions []byte

const demoConfig = `# hotline demo configuration: throwaway keys, example regions. Not for real tips.
listen: %[1]s
public_url: http://%[1]s
redis:
  url: %[2]s
  prefix: %[5]s
queue:
  lease: 5m
secrets:
  pepper: file:pepper
  reply_key: file:reply.key
twilio:
  account_sid: AC00000000000000000000000000000000
  auth_token: file:twilio-token
  numbers:
    # The demo reaches no real Twilio: scrubbing Twilio's copies is off.
    "+15005550006": { region: lima, scrub: false }
regions:
  - id: lima
    geojson: regions.geojson
    feature: "Lima Metropolitana (demo outline)"
    name_property: name
  - id: kuala-lumpur
    geojson: regions.geojson
    feature: "Kuala Lumpur (demo outline)"
    name_property: name
agencies:
  - id: pe-lima
    name: Lima unit (demo)
    recipients: [%[3]s]
    regions: [lima]
  - id: my-kl
    name: Kuala Lumpur unit (demo)
    recipients: [%[4]s]
    regions: [kuala-lumpur]
default_agency: pe-lima
spool:
  dir: spool
log:
  format: text
`

// cmdDemo runs a complete gateway on throwaway keys, for a first look.
func cmdDemo(e *env, args []string) error {
	fs := e.newFlags("demo", "demo [--listen ADDR]")
	listenAddr := fs.String("listen", "127.0.0.1:8080", "the `address` to serve on")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "hotline-demo-")
	if err != nil {
		return fmt.Errorf("failed to create the demo directory: %w", err)
	}
	defer os.RemoveAll(dir)

	redisURL, stopRedis, err := demoRedis(e)
	if err != nil {
		return err
	}
	defer stopRedis()

	// A prefix of its own, removed on exit: a demo keeps nothing, and never
	// meets an earlier demo's tips sealed to keys that no longer exist.
	prefix := "hldemo-" + strings.ToLower(hex.EncodeToString([]byte(randomSecret(3)))[:8])
	var recipients [2]string
	for i, agency := range []string{"pe-lima", "my-kl"} {
		g, err := seal.Generate(false)
		if err != nil {
			return err
		}
		if err := seal.WriteIdentityFile(filepath.Join(dir, agency+".key"), g, time.Now()); err != nil {
			return err
		}
		recipients[i] = g.Recipient
	}
	replyKey, err := seal.Generate(true)
	if err != nil {
		return err
	}
	if err := seal.WriteIdentityFile(filepath.Join(dir, "reply.key"), replyKey, time.Now()); err != nil {
		return err
	}
	files := map[string][]byte{
		"pepper":          []byte(randomSecret(32)),
		"twilio-token":    []byte(hex.EncodeToString([]byte(randomSecret(16)))[:32]),
		"regions.geojson": demoRegions,
		"hotline.yaml":    fmt.Appendf(nil, demoConfig, *listenAddr, redisURL, recipients[0], recipients[1], prefix),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return fmt.Errorf("failed to write the demo config: %w", err)
		}
	}
	cfgPath := filepath.Join(dir, "hotline.yaml")
	c, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, c.Log.Format, c.Log.Level)
	redis.SetLogger(redisLogger{log})
	rdb, err := newRedis(c)
	if err != nil {
		return err
	}
	defer rdb.Close()
	defer deleteKeys(rdb, prefix)
	parts, err := wire(e.ctx, c, rdb, log)
	if err != nil {
		return err
	}
	stop, err := parts.start(e.ctx, log)
	if err != nil {
		return err
	}
	defer stop()
	token, _, err := parts.queue.AddOfficer(e.ctx, "pe-lima", "Demo Officer", "officer")
	if err != nil {
		return fmt.Errorf("failed to create the demo officer: %w", err)
	}
	self := selfCommand()
	return serveHTTP(e.ctx, c.Listen, parts.handler, log, func(addr string) {
		fmt.Fprintf(e.stdout, `
hotline demo: serving on http://%[1]s (configuration and throwaway keys in %[2]s)

1. Text the hotline as a victim would (a request signed the way Twilio signs it):

   %[3]s simulate sms --config %[4]s --from +51987654321 \
     --body "Nos tienen encerrados en una casa en La Molina, -12.0857, -76.9397. Somos 40."

2. Claim the tip and decrypt it on the officer's side (the gateway cannot):

   %[3]s triage next --server http://%[1]s --token %[5]s --identity %[6]s

   A witness would use the web form instead: http://%[1]s/report

3. Close it:

   %[3]s triage ack TIP-ID --disposition dispatched --server http://%[1]s --token %[5]s

Press Ctrl-C to stop; the demo directory is deleted on exit.
`, addr, dir, self, cfgPath, token, filepath.Join(dir, "pe-lima.key"))
	})
}

// demoRedis picks REDIS_URL, else a local Redis on 6379, else a throwaway
// redis-server from PATH, else an in-process Redis (only in a binary built
// with -tags demo, as make run does).
func demoRedis(e *env) (string, func(), error) {
	if u := e.getenv("REDIS_URL"); u != "" {
		fmt.Fprintln(e.stderr, "hotline demo: using Redis at REDIS_URL (demo keys are removed on exit)")
		return u, func() {}, nil
	}
	if pingRedis(e.ctx, "127.0.0.1:6379", 300*time.Millisecond) {
		fmt.Fprintln(e.stderr, "hotline demo: using the local Redis at 127.0.0.1:6379 (demo keys are removed on exit)")
		return "redis://127.0.0.1:6379/0", func() {}, nil
	}
	if path, err := exec.LookPath("redis-server"); err == nil {
		return startRedisServer(e, path)
	}
	return inProcessRedis(e)
}

// pingRedis reports whether a Redis answers at addr within wait.
func pingRedis(ctx context.Context, addr string, wait time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: wait, MaxRetries: -1})
	defer rdb.Close()
	return rdb.Ping(ctx).Err() == nil
}

// startRedisServer runs a redis-server of the demo's own on a free port,
// keeping nothing on disk, and stops it on exit.
func startRedisServer(e *env, path string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("failed to find a free port for redis-server: %w", err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	cmd := exec.Command(path, "--bind", "127.0.0.1", "--port", strconv.Itoa(addr.Port), "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("failed to start redis-server: %w", err)
	}
	stop := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	for deadline := time.Now().Add(5 * time.Second); !pingRedis(e.ctx, addr.String(), 200*time.Millisecond); {
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("redis-server did not answer within 5s\nhint: set REDIS_URL to a running Redis")
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(e.stderr, "hotline demo: started redis-server on %s for the demo; it keeps nothing and stops on exit\n", addr)
	return "redis://" + addr.String() + "/0", stop, nil
}

// deleteKeys removes the demo's keys.
func deleteKeys(rdb redis.UniversalClient, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+":*", 500).Iterator()
	for iter.Next(ctx) {
		rdb.Del(ctx, iter.Val())
	}
}

func randomSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// selfCommand is how the printed commands should call this program.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil || strings.Contains(exe, "go-build") {
		return "go run ./cmd/hotline"
	}
	return exe
}

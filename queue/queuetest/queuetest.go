// Package queuetest gives tests a real Redis: REDIS_URL if set, else a
// redis-server started from PATH on a free port, else (on a laptop without
// Redis, never in CI) an in-process miniredis. With CI=true a missing Redis
// fails the test instead of skipping it.
package queuetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hotline-org/hotline/queue"
)

// AdminURLEnv, when set, is a Redis URL with every right: the helper
// cleans up and inspects through it, while Client (REDIS_URL) may be a user
// as restricted as the shipped deploy/redis/users.acl. deploy's ACL test runs
// the suites this way.
const AdminURLEnv = "HOTLINE_TEST_REDIS_ADMIN_URL"

// SentinelAddrsEnv (comma-separated sentinels) and SentinelMasterEnv, when
// set, make Client a Sentinel-managed client of the master, with REDIS_URL's
// user and password; cleanup goes through AdminURLEnv, on the master.
const (
	SentinelAddrsEnv  = "HOTLINE_TEST_SENTINEL_ADDRS"
	SentinelMasterEnv = "HOTLINE_TEST_SENTINEL_MASTER"
)

// KeyPrefix starts every test prefix, so that test keys match the shipped
// ACL's key pattern (~hl:*).
const KeyPrefix = "hl:t"

// Redis is a connection for one test, with a key prefix of its own.
type Redis struct {
	// Client is what product code gets: REDIS_URL's user.
	Client redis.UniversalClient
	// Admin is for the test's own cleanup and inspection: the admin URL's
	// user when AdminURLEnv is set, else Client.
	Admin  redis.UniversalClient
	URL    string
	Prefix string
	Kind   string // "url", "server", "miniredis", "cluster" or "sentinel"
	// Addrs are the seed nodes when Kind is "cluster".
	Addrs []string
}

// New returns a Redis for t and removes the test's keys when it ends.
func New(t testing.TB) *Redis {
	t.Helper()
	r := &Redis{Prefix: KeyPrefix + randomHex(6)}
	if addrs := os.Getenv(ClusterAddrsEnv); addrs != "" {
		r.Kind, r.Addrs = "cluster", strings.Split(addrs, ",")
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: r.Addrs, DisableIdentity: true, Protocol: queue.Protocol,
			Username: os.Getenv(ClusterUserEnv), Password: os.Getenv(ClusterPasswordEnv)})
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("redis cluster at %s does not answer: %v", addrs, err)
		}
		r.Client, r.Admin = c, c
		if a := clusterAdmin(); a != nil {
			r.Admin = a
		}
		t.Cleanup(r.close)
		return r
	}
	switch url := os.Getenv("REDIS_URL"); {
	case url != "":
		r.URL, r.Kind = url, "url"
	case hasRedisServer():
		r.URL, r.Kind = StartServer(t), "server"
	case os.Getenv("CI") == "true":
		t.Fatal("CI=true but no Redis: set REDIS_URL or put redis-server on PATH")
	default:
		m := miniredis.RunT(t)
		r.URL, r.Kind = "redis://"+m.Addr()+"/0", "miniredis"
	}
	opt, err := redis.ParseURL(r.URL)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	// Like cmd/hotline: no CLIENT SETINFO, which the shipped ACL does not
	// grant, and the same protocol.
	opt.DisableIdentity, opt.Protocol = true, queue.Protocol
	var c redis.UniversalClient = redis.NewClient(opt)
	if sentinels := os.Getenv(SentinelAddrsEnv); sentinels != "" {
		// As cmd/hotline builds it for mode: sentinel; REDIS_URL gives the user.
		c.Close()
		c = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: os.Getenv(SentinelMasterEnv),
			SentinelAddrs: strings.Split(sentinels, ","), Username: opt.Username, Password: opt.Password,
			DisableIdentity: true, Protocol: queue.Protocol})
		r.Kind = "sentinel"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("redis at %s does not answer: %v", opt.Addr, err)
	}
	r.Client, r.Admin = c, c
	if u := os.Getenv(AdminURLEnv); u != "" {
		aopt, err := redis.ParseURL(u)
		if err != nil {
			t.Fatalf("%s: %v", AdminURLEnv, err)
		}
		r.Admin = redis.NewClient(aopt)
		if err := r.Admin.Ping(ctx).Err(); err != nil {
			t.Fatalf("admin redis does not answer: %v", err)
		}
	}
	t.Cleanup(r.close)
	return r
}

// close removes the test's keys and closes the clients.
func (r *Redis) close() {
	r.DeleteKeys()
	r.Client.Close()
	if r.Admin != r.Client {
		r.Admin.Close()
	}
}

// Keys returns every key of the test's prefix, on every node.
func (r *Redis) Keys(t testing.TB) []string {
	t.Helper()
	keys, err := r.scan(context.Background())
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	return keys
}

func (r *Redis) scan(ctx context.Context) ([]string, error) {
	return queue.ScanKeys(ctx, r.Admin, r.Prefix+":*")
}

// DeleteKeys removes the test's keys.
func (r *Redis) DeleteKeys() {
	ctx := context.Background()
	keys, _ := r.scan(ctx)
	for _, k := range keys {
		r.Admin.Del(ctx, k)
	}
}

func hasRedisServer() bool {
	_, err := exec.LookPath("redis-server")
	return err == nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

package queuetest

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterAddrsEnv, when set (comma-separated host:port), makes New return
// clients of that Redis Cluster instead of a single node.
const ClusterAddrsEnv = "HOTLINE_TEST_CLUSTER_ADDRS"

// With a cluster under an ACL (deploy's ACL test), ClusterUserEnv and
// ClusterPasswordEnv are the user product code runs as, and
// ClusterAdminEnv is the administrator's "user:password" with, in
// ClusterSocketsEnv, each node's unix socket as host:port=path,...: the
// helper cleans up over the sockets, so that what reaches a node's TCP port
// is only what product code sends.
const (
	ClusterUserEnv     = "HOTLINE_TEST_CLUSTER_USER"
	ClusterPasswordEnv = "HOTLINE_TEST_CLUSTER_PASSWORD"
	ClusterAdminEnv    = "HOTLINE_TEST_CLUSTER_ADMIN"
	ClusterSocketsEnv  = "HOTLINE_TEST_CLUSTER_SOCKETS"
)

// clusterAdmin returns the administrator's client of an ACL'd cluster, or nil.
func clusterAdmin() *redis.ClusterClient {
	admin := os.Getenv(ClusterAdminEnv)
	if admin == "" {
		return nil
	}
	user, pass, _ := strings.Cut(admin, ":")
	sockets := map[string]string{}
	for _, kv := range strings.Split(os.Getenv(ClusterSocketsEnv), ",") {
		if addr, path, ok := strings.Cut(kv, "="); ok {
			sockets[addr] = path
		}
	}
	var d net.Dialer
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: strings.Split(os.Getenv(ClusterAddrsEnv), ","), Username: user, Password: pass, DisableIdentity: true,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if p, ok := sockets[addr]; ok {
				return d.DialContext(ctx, "unix", p)
			}
			return d.DialContext(ctx, network, addr)
		},
	})
}

// Cluster is a throwaway three-master Redis Cluster on loopback ports.
type Cluster struct {
	Addrs []string
	procs []*exec.Cmd
	dir   string
}

// Stop kills the nodes and removes their files.
func (c *Cluster) Stop() {
	for _, p := range c.procs {
		p.Process.Kill()
		p.Wait()
	}
	os.RemoveAll(c.dir)
}

// StartCluster starts three redis-server nodes with cluster mode on and
// joins them with `redis-cli --cluster create`. When redis-server or
// redis-cli is missing it fails under CI=true and skips elsewhere (a
// laptop with Go only still runs the rest of `make test`).
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	if err := ClusterTools(); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true but %v", err)
		}
		tb.Skipf("no Redis Cluster here: %v", err)
	}
	c, err := startCluster()
	if err != nil {
		tb.Fatalf("redis cluster: %v", err)
	}
	tb.Cleanup(c.Stop)
	return c
}

// ClusterModeEnv=cluster makes Main run a package's tests on a
// three-master Redis Cluster (make test does, in a second pass), so that
// every multi-key operation is shown to stay within one hash slot.
const ClusterModeEnv = "HOTLINE_TEST_REDIS_MODE"

// Main is the TestMain of the packages whose suites also run on a Redis
// Cluster. It runs the tests and exits.
func Main(m *testing.M) {
	if os.Getenv(ClusterModeEnv) != "cluster" {
		os.Exit(m.Run())
	}
	if err := ClusterTools(); err != nil && os.Getenv("CI") != "true" {
		fmt.Fprintln(os.Stderr, "tests on Redis Cluster skipped:", err)
		os.Exit(0)
	}
	c, err := startCluster()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests on Redis Cluster:", err)
		os.Exit(1)
	}
	os.Setenv(ClusterAddrsEnv, strings.Join(c.Addrs, ","))
	code := m.Run()
	c.Stop()
	os.Exit(code)
}

// ClusterTools reports whether redis-server and redis-cli are on PATH.
func ClusterTools() error {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s is not on PATH", bin)
		}
	}
	return nil
}

func startCluster() (*Cluster, error) {
	if err := ClusterTools(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hotline-cluster-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	used := map[int]bool{}
	for i := range 3 {
		port, err := clusterPort(used)
		if err != nil {
			c.Stop()
			return nil, err
		}
		nodeDir := filepath.Join(dir, strconv.Itoa(i))
		os.MkdirAll(nodeDir, 0o700)
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(nodeDir, "nodes.conf"),
			"--cluster-node-timeout", "2000", "--save", "", "--appendonly", "no",
			"--dir", nodeDir, "--logfile", filepath.Join(nodeDir, "redis.log"))
		if err := cmd.Start(); err != nil {
			c.Stop()
			return nil, fmt.Errorf("start redis-server: %w", err)
		}
		c.procs = append(c.procs, cmd)
		c.Addrs = append(c.Addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	for _, a := range c.Addrs {
		if err := waitTCP(a, 5*time.Second); err != nil {
			c.Stop()
			return nil, err
		}
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	defer client.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := client.ClusterInfo(ctx).Result()
		ok := err == nil && strings.Contains(info, "cluster_state:ok")
		if ok {
			// Every node must agree before keys are spread over them.
			ok = client.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
				i, err := n.ClusterInfo(ctx).Result()
				if err != nil || !strings.Contains(i, "cluster_state:ok") {
					return fmt.Errorf("node not ready")
				}
				return nil
			}) == nil
		}
		cancel()
		if ok {
			return c, nil
		}
		if time.Now().After(deadline) {
			c.Stop()
			return nil, fmt.Errorf("cluster did not become ready: %v %s", err, info)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// clusterBusOffset is where Redis puts a node's cluster bus: its port plus
// 10000.
const clusterBusOffset = 10000

// clusterPort picks a port for a cluster node whose bus port (port+10000)
// exists too (a port from the whole ephemeral range may be above 55535)
// and is free, both checked by binding them, and neither among the ports
// of the other nodes (used, updated).
func clusterPort(used map[int]bool) (int, error) {
	const lo, hi = 20000, 65535 - clusterBusOffset
	for range 200 {
		p := lo + mrand.IntN(hi-lo+1)
		if used[p] || used[p+clusterBusOffset] {
			continue
		}
		a, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		b, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+clusterBusOffset))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		used[p], used[p+clusterBusOffset] = true, true
		return p, nil
	}
	return 0, fmt.Errorf("no free port with a free cluster bus port (+%d) between %d and %d", clusterBusOffset, lo, hi)
}

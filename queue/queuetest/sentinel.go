package queuetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the name the sentinels of a Sentinel setup monitor.
const SentinelMaster = "mymaster"

// Replicated is a throwaway master and replica on loopback ports. The
// replica reaches the master through a Link, so that a test can make it fall
// behind (a slow or congested replication link) while every other
// connection, a sentinel's included, stays healthy.
type Replicated struct {
	MasterAddr  string
	ReplicaAddr string
	// Link carries the replication stream from the master to the replica.
	Link *Link

	master *Server
}

// Sentinel is a throwaway Redis Sentinel deployment, as the manifests
// recommend it: a master, one replica and three sentinels.
type Sentinel struct {
	*Replicated
	SentinelAddrs []string
}

// StartReplicated starts a master and a replica and waits until the
// replica is in sync. When redis-server is missing it fails under CI=true
// and skips elsewhere.
func StartReplicated(tb testing.TB) *Replicated {
	tb.Helper()
	// No delay before the replica's first full sync.
	ms := NewServer(tb, "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0")
	ms.Start()
	s := &Replicated{MasterAddr: ms.Addr, master: ms}
	link, err := NewLink(s.MasterAddr)
	if err != nil {
		tb.Fatalf("replication link: %v", err)
	}
	tb.Cleanup(link.Close)
	s.Link = link
	lhost, lport, _ := net.SplitHostPort(link.Addr())
	replicaServer := NewServer(tb, "--save", "", "--appendonly", "no", "--replicaof", lhost, lport)
	replicaServer.Start()
	s.ReplicaAddr = replicaServer.Addr

	replica := redis.NewClient(&redis.Options{Addr: s.ReplicaAddr})
	defer replica.Close()
	WaitUntil(tb, 20*time.Second, "the replica to be in sync", func() error {
		info, err := replica.Info(context.Background(), "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return errors.New("master link not up")
		}
		return nil
	})
	// Right after the first sync the replica may not confirm writes yet:
	// wait until it confirms one.
	master := redis.NewClient(&redis.Options{Addr: s.MasterAddr, PoolSize: 1})
	defer master.Close()
	WaitUntil(tb, 20*time.Second, "the replica to confirm a write", func() error {
		ctx := context.Background()
		pipe := master.Pipeline()
		pipe.Set(ctx, "queuetest:probe", "1", 0)
		wait := pipe.Do(ctx, "WAIT", 1, 100)
		pipe.Exec(ctx)
		n, err := wait.Int()
		if err == nil && n != 1 {
			err = errors.New("the replica did not confirm a write")
		}
		return err
	})
	return s
}

// StartSentinel starts a master, a replica and three sentinels, and waits
// until every sentinel knows the replica and the other sentinels.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	s := &Sentinel{Replicated: StartReplicated(tb)}
	_, mport, _ := net.SplitHostPort(s.MasterAddr)
	_, rport, _ := net.SplitHostPort(s.ReplicaAddr)
	for range 3 {
		// failover-timeout also bounds how long a sentinel leaves a replica
		// replicating from another address (the Link) before it points it
		// at the master directly: longer than any test.
		sentinel := NewServer(tb)
		conf := filepath.Join(sentinel.Dir, "sentinel.conf")
		text := fmt.Sprintf("sentinel monitor %s 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds %s 1000\n"+
			"sentinel failover-timeout %s 60000\n"+
			"sentinel parallel-syncs %s 1\n",
			SentinelMaster, mport, SentinelMaster, SentinelMaster, SentinelMaster)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
		sentinel.args = []string{conf, "--sentinel"}
		sentinel.Start()
		s.SentinelAddrs = append(s.SentinelAddrs, sentinel.Addr)
	}
	ctx := context.Background()
	for _, a := range s.SentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		WaitUntil(tb, 30*time.Second, "sentinel "+a+" to know the replica and the other sentinels", func() error {
			reps, err := sc.Replicas(ctx, SentinelMaster).Result()
			if err != nil {
				return err
			}
			if len(reps) != 1 || reps[0]["port"] != rport || strings.Contains(reps[0]["flags"], "down") {
				return fmt.Errorf("replicas %v", reps)
			}
			others, err := sc.Sentinels(ctx, SentinelMaster).Result()
			if err != nil {
				return err
			}
			if len(others) != 2 {
				return fmt.Errorf("%d other sentinels", len(others))
			}
			return nil
		})
		sc.Close()
	}
	return s
}

// KillMaster kills the master (SIGKILL) and cuts the replication link: what
// the replica had not yet received is gone with the master.
func (s *Replicated) KillMaster() {
	s.master.Kill()
	s.Link.Cut()
}

// WaitFailover waits until a majority of the sentinels name the replica as
// the master and the replica has taken the role.
func (s *Sentinel) WaitFailover(tb testing.TB, d time.Duration) {
	tb.Helper()
	ctx := context.Background()
	replica := redis.NewClient(&redis.Options{Addr: s.ReplicaAddr})
	defer replica.Close()
	WaitUntil(tb, d, "the sentinels to promote the replica", func() error {
		agree := 0
		for _, a := range s.SentinelAddrs {
			sc := redis.NewSentinelClient(&redis.Options{Addr: a})
			addr, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
			sc.Close()
			if err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == s.ReplicaAddr {
				agree++
			}
		}
		if agree < 2 {
			return fmt.Errorf("%d sentinels name the replica", agree)
		}
		role, err := replica.Do(ctx, "ROLE").Slice()
		if err != nil {
			return err
		}
		if len(role) == 0 || role[0] != "master" {
			return fmt.Errorf("replica role %v", role)
		}
		return nil
	})
}

// Link is a TCP relay in front of a Redis master for its replica's
// replication connection. Stall holds back what the master sends (the
// replica falls behind, as over a slow or congested network, while every
// other connection stays healthy); Resume delivers it; Cut drops it.
type Link struct {
	target string
	ln     net.Listener

	mu      sync.Mutex
	stalled bool
	held    map[net.Conn][]byte // per replica connection: what the master sent while stalled
	conns   []net.Conn
}

// NewLink listens on a free loopback port and relays to target.
func NewLink(target string) (*Link, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &Link{target: target, ln: ln, held: map[net.Conn][]byte{}}
	go l.accept()
	return l, nil
}

// Addr is where the replica connects.
func (l *Link) Addr() string { return l.ln.Addr().String() }

// Stall holds back the master's stream from now on.
func (l *Link) Stall() {
	l.mu.Lock()
	l.stalled = true
	l.mu.Unlock()
}

// Resume delivers what was held back and relays again.
func (l *Link) Resume() {
	l.mu.Lock()
	l.stalled = false
	for c, b := range l.held {
		c.Write(b)
		delete(l.held, c)
	}
	l.mu.Unlock()
}

// Cut closes every relayed connection, dropping what was held back.
func (l *Link) Cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
	l.conns = nil
	clear(l.held)
}

// Close stops the relay.
func (l *Link) Close() {
	l.ln.Close()
	l.Cut()
}

func (l *Link) accept() {
	for {
		down, err := l.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", l.target, time.Second)
		if err != nil {
			down.Close()
			continue
		}
		l.mu.Lock()
		l.conns = append(l.conns, down, up)
		l.mu.Unlock()
		// Replica to master (REPLCONF ACK and the handshake) always flows.
		go func() {
			io.Copy(up, down)
			up.Close()
			down.Close()
		}()
		go l.relay(up, down)
	}
}

func (l *Link) relay(from, to net.Conn) {
	defer to.Close()
	defer from.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			l.mu.Lock()
			if l.stalled {
				l.held[to] = append(l.held[to], buf[:n]...)
				l.mu.Unlock()
			} else {
				_, werr := to.Write(buf[:n])
				l.mu.Unlock()
				if werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

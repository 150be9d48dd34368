package queue_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// cmdLog records the name of every command a client sends.
type cmdLog struct {
	mu    sync.Mutex
	names []string
}

func (h *cmdLog) add(cmds ...redis.Cmder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cmds {
		h.names = append(h.names, c.Name())
	}
}

func (h *cmdLog) sent(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, s := range h.names {
		if s == name {
			n++
		}
	}
	return n
}

func (h *cmdLog) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *cmdLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.add(cmd); return next(ctx, cmd) }
}
func (h *cmdLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.add(cmds...); return next(ctx, cmds) }
}

func client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// tipsIn returns the tip ids in an agency's normal stream on one server.
func tipsIn(t *testing.T, c *redis.Client, prefix, agency string) []string {
	t.Helper()
	msgs, err := c.XRange(t.Context(), prefix+":{"+agency+"}:tips:normal", "-", "+").Result()
	if err != nil {
		t.Fatalf("xrange: %v", err)
	}
	var ids []string
	for _, m := range msgs {
		id, _ := m.Values["tip"].(string)
		ids = append(ids, id)
	}
	return ids
}

const replicaWait = 300 * time.Millisecond

func TestPublishReturnsOnceTheReplicaHasTheTip(t *testing.T) {
	r := queuetest.StartReplicated(t)
	master, replica := client(t, r.MasterAddr), client(t, r.ReplicaAddr)
	var log cmdLog
	master.AddHook(&log)
	q := queue.New(master, queue.Options{Prefix: "hl", ReplicaWait: replicaWait})
	for _, id := range []string{"a", "b", "c"} {
		if err := q.Publish(t.Context(), entry("pe-lima", id, queue.Normal)); err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
		// Read at once, with no wait: the replica has it when Publish returns.
		if got := tipsIn(t, replica, "hl", "pe-lima"); !slices.Contains(got, id) {
			t.Fatalf("replica holds %v right after publish of %s", got, id)
		}
	}
	// One more where the first EVALSHA met an empty script cache.
	if n := log.sent("wait"); n < 3 || n > 4 {
		t.Fatalf("%d WAITs for 3 publishes", n)
	}
	// The replicas were counted once, not once per publish.
	if n := log.sent("info"); n != 1 {
		t.Fatalf("%d INFO calls for 3 publishes", n)
	}
}

func TestPublishReportsATipTheReplicaDidNotConfirm(t *testing.T) {
	r := queuetest.StartReplicated(t)
	master, replica := client(t, r.MasterAddr), client(t, r.ReplicaAddr)
	q := queue.New(master, queue.Options{Prefix: "hl", ReplicaWait: replicaWait})
	if err := q.Publish(t.Context(), entry("pe-lima", "before", queue.Normal)); err != nil {
		t.Fatalf("publish with the replica in step: %v", err)
	}
	r.Link.Stall()
	start := time.Now()
	err := q.Publish(t.Context(), entry("pe-lima", "lagging", queue.Normal))
	took := time.Since(start)
	var nr *queue.NotReplicatedError
	if !errors.Is(err, queue.ErrNotReplicated) || !errors.As(err, &nr) || nr.Acked != 0 || nr.Wants != 1 {
		t.Fatalf("publish with the replica behind: %v", err)
	}
	if errors.Is(err, queue.ErrUnavailable) {
		t.Fatal("an unconfirmed tip reported as Redis unavailable: the gateway would stop using Redis")
	}
	// It waited for the replica, within a bound: not a benchmark (Redis
	// times WAIT on its own clock, at a millisecond's resolution, so the
	// wait seen here may be a little shorter than replicaWait).
	if took < replicaWait/2 || took > replicaWait+2*time.Second {
		t.Fatalf("unconfirmed publish took %v, want about %v", took, replicaWait)
	}
	if got := tipsIn(t, master, "hl", "pe-lima"); !slices.Equal(got, []string{"before", "lagging"}) {
		t.Fatalf("master holds %v", got)
	}

	// Another gateway (a fresh connection, which never wrote) publishes
	// the same tip again, as the spool drain does: it must not be told the
	// tip is confirmed while the replica still lacks it.
	other := queue.New(client(t, r.MasterAddr), queue.Options{Prefix: "hl", ReplicaWait: replicaWait})
	if err := other.Publish(t.Context(), entry("pe-lima", "lagging", queue.Normal)); !errors.Is(err, queue.ErrNotReplicated) {
		t.Fatalf("republish from another connection with the replica behind: %v", err)
	}

	r.Link.Resume()
	queuetest.WaitUntil(t, 5*time.Second, "the republished tip to be confirmed", func() error {
		return other.Publish(t.Context(), entry("pe-lima", "lagging", queue.Normal))
	})
	if got := tipsIn(t, replica, "hl", "pe-lima"); !slices.Equal(got, []string{"before", "lagging"}) {
		t.Fatalf("replica holds %v after the republish was confirmed", got)
	}
	if got := tipsIn(t, master, "hl", "pe-lima"); !slices.Equal(got, []string{"before", "lagging"}) {
		t.Fatalf("master holds %v after republishing: queued twice?", got)
	}
}

func TestPublishWaitsForTheConfiguredReplicas(t *testing.T) {
	r := queuetest.StartReplicated(t)
	q := queue.New(client(t, r.MasterAddr), queue.Options{Prefix: "hl", Replicas: 2, ReplicaWait: replicaWait})
	err := q.Publish(t.Context(), entry("pe-lima", "a", queue.Normal))
	var nr *queue.NotReplicatedError
	if !errors.As(err, &nr) || nr.Acked != 1 || nr.Wants != 2 {
		t.Fatalf("publish wanting 2 replicas with 1: %v", err)
	}

	// NoReplicas: no WAIT at all, even with a replica far behind.
	var log cmdLog
	c := client(t, r.MasterAddr)
	c.AddHook(&log)
	r.Link.Stall()
	q = queue.New(c, queue.Options{Prefix: "hl", Replicas: queue.NoReplicas, ReplicaWait: replicaWait})
	if err := q.Publish(t.Context(), entry("pe-lima", "b", queue.Normal)); err != nil {
		t.Fatalf("publish with NoReplicas: %v", err)
	}
	if log.sent("wait")+log.sent("info") != 0 {
		t.Fatalf("NoReplicas sent %v", log.names)
	}
}

// With no replica (a single Redis, the CI default) publishing costs what it
// did before: no WAIT round trip.
func TestPublishWithoutReplicasSendsNoWait(t *testing.T) {
	r := queuetest.New(t)
	var log cmdLog
	r.Client.AddHook(&log)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix})
	for _, id := range []string{"a", "b", "c"} {
		if err := q.Publish(t.Context(), entry("pe-lima", id, queue.Normal)); err != nil {
			t.Fatalf("publish %s: %v", id, err)
		}
	}
	if n := log.sent("wait"); n != 0 {
		t.Fatalf("%d WAITs with no replica", n)
	}
	c, err := q.Claim(t.Context(), "pe-lima", "officer-a")
	if err != nil || c.TipID != "a" {
		t.Fatalf("claim after publishing: %v %v", c, err)
	}
}

// On Redis Cluster the publish and its WAIT go to the master of the
// agency's slot, in one pipeline, with no redirection error; this cluster
// has no replicas, so a wanted replica is reported unconfirmed, and the
// detected count (none) costs no wait.
func TestPublishWaitOnCluster(t *testing.T) {
	cl := queuetest.StartCluster(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	agencies := []string{"pe-lima", "pe-callao", "my-kl", "my-johor", "pe-cusco"}
	strict := queue.New(c, queue.Options{Prefix: "hl", Replicas: 1, ReplicaWait: 50 * time.Millisecond})
	detect := queue.New(c, queue.Options{Prefix: "hl", ReplicaWait: time.Second})
	for _, a := range agencies {
		err := strict.Publish(t.Context(), entry(a, "w-"+a, queue.Normal))
		var nr *queue.NotReplicatedError
		if !errors.As(err, &nr) || nr.Acked != 0 || errors.Is(err, queue.ErrUnavailable) {
			t.Fatalf("agency %s, one replica wanted, none there: %v", a, err)
		}
		start := time.Now()
		if err := detect.Publish(t.Context(), entry(a, "d-"+a, queue.Normal)); err != nil {
			t.Fatalf("agency %s, detected replicas: %v", a, err)
		}
		if took := time.Since(start); took > 500*time.Millisecond {
			t.Fatalf("agency %s: publish with no replica took %v: it waited", a, took)
		}
		n, err := c.XLen(t.Context(), "hl:{"+a+"}:tips:normal").Result()
		if err != nil || n != 2 {
			t.Fatalf("agency %s: stream holds %d (%v), want 2", a, n, err)
		}
	}
}

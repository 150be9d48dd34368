package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Replication: Redis replicates asynchronously, so an entry the master took
// is lost in a failover if the replica had not received it yet. Publish
// therefore follows its write with WAIT, on the same connection, for the
// replicas the master has (or Options.Replicas), and reports
// ErrNotReplicated when they do not confirm in time; the caller then keeps
// a copy of its own (the gateway's spool) until a later Publish of the same
// tip is confirmed.

// Defaults of the replica check.
const (
	// DefaultReplicaWait bounds how long Publish waits for the replicas: a
	// healthy replica on the same network confirms within a millisecond or
	// two; a tip not confirmed by then is also spooled.
	DefaultReplicaWait = 500 * time.Millisecond
	// DefaultReplicaRefresh is how often the replicas a master has are
	// counted again (INFO replication). A failed or unconfirmed publish
	// counts them again at once.
	DefaultReplicaRefresh = 2 * time.Second
)

// NoReplicas as Options.Replicas never waits for replicas.
const NoReplicas = -1

// ErrNotReplicated means the master took the entry but fewer replicas than
// wanted confirmed it in time: a failover now could lose it.
var ErrNotReplicated = errors.New("not confirmed by the replicas")

// NotReplicatedError says how many replicas confirmed an entry.
type NotReplicatedError struct {
	TipID        string
	Acked, Wants int
}

func (e *NotReplicatedError) Error() string {
	return fmt.Sprintf("tip %s: %d of %d replicas confirmed in time", e.TipID, e.Acked, e.Wants)
}

// Is makes errors.Is(err, ErrNotReplicated) true.
func (e *NotReplicatedError) Is(target error) bool { return target == ErrNotReplicated }

// replicaCounts caches how many replicas each master has, by address ("" for
// the one master of a single or Sentinel-managed client).
type replicaCounts struct {
	mu    sync.Mutex
	nodes map[string]*replicaCount
}

type replicaCount struct {
	n  int
	at time.Time // zero: count again before the next publish
}

// wanted returns how many replicas must confirm a write to node (through
// c): Options.Replicas, or the replicas the master reports. Only one caller
// counts again when the figure is stale; the others use the last one.
func (q *Queue) wanted(ctx context.Context, c redis.Cmdable, node string) int {
	if q.opt.Replicas != 0 {
		return max(q.opt.Replicas, 0)
	}
	rc := &q.replicas
	rc.mu.Lock()
	if rc.nodes == nil {
		rc.nodes = map[string]*replicaCount{}
	}
	cur, known := rc.nodes[node]
	if known && time.Since(cur.at) < q.opt.ReplicaRefresh {
		n := cur.n
		rc.mu.Unlock()
		return n
	}
	if !known {
		cur = &replicaCount{}
		rc.nodes[node] = cur
	}
	last := cur.n
	cur.at = time.Now() // claimed: the others use the last figure meanwhile
	rc.mu.Unlock()
	n, err := countReplicas(ctx, c)
	if err != nil {
		// Counted again after ReplicaRefresh; meanwhile the last figure is
		// the best known. (A Redis that refuses INFO is shown in the
		// deployment notes: detection needs it, or set the count.)
		return last
	}
	rc.mu.Lock()
	cur.n = n
	rc.mu.Unlock()
	return n
}

// forget makes the next publish to node count its replicas again: after a
// failover the client's master is another server.
func (q *Queue) forget(node string) {
	q.replicas.mu.Lock()
	if cur, ok := q.replicas.nodes[node]; ok {
		cur.at = time.Time{}
	}
	q.replicas.mu.Unlock()
}

// countReplicas reads connected_slaves from the master's INFO replication.
// A replica still syncing counts: until it is in sync it cannot confirm, and
// a tip is spooled rather than acknowledged on one copy.
func countReplicas(ctx context.Context, c redis.Cmdable) (int, error) {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return 0, fmt.Errorf("failed to count replicas: %w", err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("failed to count replicas: %w", err)
			}
			return n, nil
		}
	}
	return 0, nil
}

// masterFor returns the client whose connection the publish of key and its
// WAIT must share, and the node's address for the replica cache. A Cluster
// client would send a keyless WAIT to any master, so the key's master is
// addressed directly.
func (q *Queue) masterFor(ctx context.Context, key string) (redis.Cmdable, string, error) {
	cc, ok := q.rdb.(*redis.ClusterClient)
	if !ok {
		return q.rdb, "", nil
	}
	node, err := cc.MasterForKey(ctx, key)
	if err != nil {
		return nil, "", err
	}
	return node, node.Options().Addr, nil
}

// ReplicaCount counts the replicas of the master (on a Cluster, the fewest
// any master has), as Publish detects them. It is for a startup check: a
// Redis that refuses INFO has its replicas taken as none.
func (q *Queue) ReplicaCount(ctx context.Context) (int, error) {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	cc, ok := q.rdb.(*redis.ClusterClient)
	if !ok {
		return countReplicas(ctx, q.rdb)
	}
	var mu sync.Mutex
	fewest := -1
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		n, err := countReplicas(ctx, c)
		if err != nil {
			return err
		}
		mu.Lock()
		if fewest < 0 || n < fewest {
			fewest = n
		}
		mu.Unlock()
		return nil
	})
	return max(fewest, 0), err
}

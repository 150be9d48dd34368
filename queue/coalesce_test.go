package queue_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// gateHook holds every pipeline until the gate opens, and counts them.
type gateHook struct {
	gate      chan struct{}
	pipelines atomic.Int32
	commands  atomic.Int32
}

func (h *gateHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *gateHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *gateHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.pipelines.Add(1)
		h.commands.Add(int32(len(cmds)))
		select {
		case <-h.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		return next(ctx, cmds)
	}
}

// TestCoalescerBatchesConcurrentCalls: calls made while batches are on their
// way go together, each gets its own answers, and a command Redis refuses
// fails its call only.
func TestCoalescerBatchesConcurrentCalls(t *testing.T) {
	r := queuetest.New(t)
	h := &gateHook{gate: make(chan struct{})}
	r.Client.AddHook(h)
	co := queue.NewCoalescer(5 * time.Second)
	ctx := context.Background()
	if err := r.Client.HSet(ctx, r.Prefix+":{co}:hash", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	const n = 50
	var started atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("%s:{co}:%d", r.Prefix, i)
			var incr *redis.IntCmd
			var get *redis.StringCmd
			var wrong *redis.StringCmd
			started.Add(1)
			_, err := co.Do(ctx, r.Client, 0, 0, func(p redis.Pipeliner) {
				incr = p.IncrBy(ctx, key, int64(i))
				get = p.Get(ctx, key)
				if i == 7 {
					wrong = p.Get(ctx, r.Prefix+":{co}:hash") // WRONGTYPE
				}
			})
			switch {
			case err != nil:
				errs <- fmt.Errorf("call %d: %w", i, err)
			case incr.Val() != int64(i) || get.Val() != fmt.Sprint(i):
				errs <- fmt.Errorf("call %d: INCRBY %d, GET %q", i, incr.Val(), get.Val())
			case i == 7 && wrong.Err() == nil:
				errs <- errors.New("the refused command of call 7 has no error")
			}
		})
	}
	// Hold the first batches until every call has come.
	deadline := time.Now().Add(5 * time.Second)
	for started.Load() < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(h.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := h.pipelines.Load(); p > n/2 {
		t.Errorf("%d calls made %d pipelines: they were not sent together", n, p)
	}
	if c := h.commands.Load(); c != 2*n+1 {
		t.Errorf("%d commands reached Redis, want %d", c, 2*n+1)
	}
}

// TestCoalescerFailures: a Redis that does not answer fails every call of a
// batch; a call whose context ends returns at once.
func TestCoalescerFailures(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dead := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer dead.Close()
	co := queue.NewCoalescer(time.Second)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 10 {
		wg.Go(func() {
			var cmd *redis.StringCmd
			_, err := co.Do(context.Background(), dead, 0, 0, func(p redis.Pipeliner) { cmd = p.Get(context.Background(), "k") })
			if err != nil || cmd.Err() != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 10 {
		t.Fatalf("%d of 10 calls to a dead Redis failed", failed.Load())
	}

	// Batches held (as many as may run at once, and more): another call
	// waits, and returns when its context ends; the held batches end with
	// the coalescer's timeout.
	r := queuetest.New(t)
	h := &gateHook{gate: make(chan struct{})}
	r.Client.AddHook(h)
	for range 2 {
		wg.Go(func() {
			if _, err := co.Do(context.Background(), r.Client, 0, 0, func(p redis.Pipeliner) { p.Ping(context.Background()) }); err == nil {
				t.Error("a batch held past the coalescer's timeout succeeded")
			}
		})
	}
	for h.pipelines.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = co.Do(ctx, r.Client, 0, 0, func(p redis.Pipeliner) { p.Ping(ctx) })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("a waiting call whose context ended: %v after %v", err, time.Since(start))
	}
	wg.Wait()
	close(h.gate)
}

// TestCoalescerWait: a batch that asks for replicas ends with one WAIT on
// the node that took its writes, whose answer every call of it gets: what
// a WAIT of its own on that node answers right after (0 without replicas).
func TestCoalescerWait(t *testing.T) {
	r := queuetest.New(t)
	if r.Kind == "miniredis" {
		t.Skip("miniredis has no WAIT")
	}
	ctx := context.Background()
	key := r.Prefix + ":{co}:w"
	var c redis.UniversalClient = r.Client
	if cc, ok := r.Client.(*redis.ClusterClient); ok {
		// The queue WAITs on the master of the stream's slot.
		node, err := cc.MasterForKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		c = node
	}
	co := queue.NewCoalescer(5 * time.Second)
	var set *redis.StatusCmd
	acked, err := co.Do(ctx, c, 1, 20*time.Millisecond, func(p redis.Pipeliner) {
		set = p.Set(ctx, key, "1", time.Minute)
	})
	if err != nil || set.Err() != nil {
		t.Fatalf("Do with WAIT: %v, %v", err, set.Err())
	}
	want, err := c.Do(ctx, "wait", 1, 20).Int()
	if err != nil || acked != want {
		t.Fatalf("the batch's WAIT answered %d, a WAIT of its own %d (%v)", acked, want, err)
	}
	if v, err := c.Get(ctx, key).Result(); err != nil || v != "1" {
		t.Fatalf("the batch's write: %q, %v", v, err)
	}
}

// TestCoalescerCallerDeadline: the call that sends a batch returns when its
// own context ends, as a call waiting behind one does, rather than when
// the batch ends (which the coalescer's timeout bounds); its commands
// still run when Redis answers, as a waiting call's may.
func TestCoalescerCallerDeadline(t *testing.T) {
	r := queuetest.New(t)
	h := &gateHook{gate: make(chan struct{})}
	r.Client.AddHook(h)
	co := queue.NewCoalescer(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	key := r.Prefix + ":{co}:late"
	done := make(chan error, 1)
	go func() {
		_, err := co.Do(ctx, r.Client, 0, 0, func(p redis.Pipeliner) { p.Set(ctx, key, "1", time.Minute) })
		done <- err
	}()
	for wait := time.Now().Add(10 * time.Second); h.pipelines.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(wait) { // until the batch is held on its way
			t.Fatal("the batch never left")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Do after its context ended, its batch held: %v; want context.Canceled", err)
	}
	close(h.gate)
	deadline := time.Now().Add(10 * time.Second)
	for r.Admin.Get(context.Background(), key).Val() != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the batch's commands never ran")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

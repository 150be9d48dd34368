package spool_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/spool"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// slowScripts holds each pipeline that runs a script for a while before it
// goes to Redis, while on: Redis then runs it after the caller gave up.
type slowScripts struct {
	on    atomic.Bool
	delay time.Duration
}

func (s *slowScripts) DialHook(next redis.DialHook) redis.DialHook { return next }
func (s *slowScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (s *slowScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if name := strings.ToLower(c.Name()); s.on.Load() && (name == "evalsha" || name == "eval") {
				time.Sleep(s.delay)
				break
			}
		}
		return next(ctx, cmds)
	}
}

// caseEntry is entry(id) as the first tip of a case of its own.
func caseEntry(id string) queue.Entry {
	e := entry(id)
	e.Case = strings.ToUpper(id) + "-CASE"
	return e
}

// TestPublishLateLandsOnce: publishes that Redis is slow to take, past the
// publisher's deadline, are spooled (the reporter's answer does not wait),
// the one whose batch is on its way as the one waiting behind it in the
// queue's coalescer, and still reach Redis when their batches go; the
// drain then publishes them a second time. The queue holds each once, as
// the tip it is, and nothing is left in the spool.
func TestPublishLateLandsOnce(t *testing.T) {
	r := queuetest.New(t)
	slow := &slowScripts{delay: 400 * time.Millisecond}
	r.Client.AddHook(slow)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix})
	ctx := t.Context()
	if err := q.Publish(ctx, caseEntry("warm")); err != nil { // scripts loaded, connections open
		t.Fatal(err)
	}
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := &spool.Publisher{Primary: q, Spool: sp, Timeout: 150 * time.Millisecond, Interval: 20 * time.Millisecond}

	slow.on.Store(true)
	first := make(chan error, 1)
	go func() { first <- p.Publish(ctx, caseEntry("first")) }()
	time.Sleep(50 * time.Millisecond) // first's batch is on its way, held by the hook
	if err := p.Publish(ctx, caseEntry("late")); err != nil {
		t.Fatalf("the late publish: %v, want spooled", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("the first publish: %v, want spooled", err)
	}
	if n := sp.Stats().Records; n != 2 || !p.Down() {
		t.Fatalf("spooled %d, down %v: want both tips spooled", n, p.Down())
	}
	slow.on.Store(false)

	stream := r.Prefix + ":{pe-lima}:tips:normal"
	ids := func() map[string]int {
		out := map[string]int{}
		for _, m := range r.Admin.XRange(ctx, stream, "-", "+").Val() {
			id, _ := m.Values["tip"].(string)
			out[id]++
		}
		return out
	}
	// Their batches went after all: Redis has the tips the spool holds.
	waitFor(t, "the tips in Redis", func() bool { return ids()["late"] == 1 && ids()["first"] == 1 })

	stop := p.Start()
	waitFor(t, "the spool drained", func() bool { return sp.Empty() && !p.Down() })
	stop(ctx)
	got := ids()
	if got["late"] != 1 || got["first"] != 1 || got["warm"] != 1 || len(got) != 3 {
		t.Fatalf("stream entries by tip: %v; want each tip once", got)
	}
	if n := r.Admin.HLen(ctx, r.Prefix+":{pe-lima}:meta").Val(); n != 3 {
		t.Fatalf("%d tips in the meta, want 3", n)
	}
}

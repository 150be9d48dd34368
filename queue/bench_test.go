package queue_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// BenchmarkPublish is the cost of the replica check: a master with no
// replica (no WAIT, as before), one with a replica in step (publish and
// WAIT in one round trip), and the same master with the check off.
func BenchmarkPublish(b *testing.B) {
	bench := func(b *testing.B, addr string, opt queue.Options) {
		c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
		b.Cleanup(func() { c.Close() })
		opt.Prefix = "bench" + strconv.Itoa(b.N)
		q := queue.New(c, opt)
		if err := q.Publish(b.Context(), entry("pe-lima", "warm", queue.Normal)); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if err := q.Publish(b.Context(), entry("pe-lima", "t"+strconv.Itoa(i), queue.Normal)); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("no-replica", func(b *testing.B) {
		url := queuetest.StartServer(b)
		opt, _ := redis.ParseURL(url)
		bench(b, opt.Addr, queue.Options{})
	})
	r := queuetest.StartReplicated(b)
	b.Run("replica", func(b *testing.B) { bench(b, r.MasterAddr, queue.Options{}) })
	b.Run("replica-check-off", func(b *testing.B) {
		bench(b, r.MasterAddr, queue.Options{Replicas: queue.NoReplicas})
	})
}

// BenchmarkClaim compares a claim of the head of the queue with a chosen
// claim (triage next ID) of the head and of a tip 99 places back, whose
// script delivers the 99 and hands them back. Each claim is of a fresh
// agency's queue of 100 tips, made outside the timer.
func BenchmarkClaim(b *testing.B) {
	url := queuetest.StartServer(b)
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(&redis.Options{Addr: opt.Addr, DisableIdentity: true})
	b.Cleanup(func() { c.Close() })
	for _, bc := range []struct {
		name  string
		claim func(q *queue.Queue, agency string) (*queue.Claimed, error)
	}{
		{"head", func(q *queue.Queue, agency string) (*queue.Claimed, error) { return q.Claim(b.Context(), agency, "o1") }},
		{"chosen-head", func(q *queue.Queue, agency string) (*queue.Claimed, error) {
			return q.ClaimTip(b.Context(), agency, "o1", "t0")
		}},
		{"chosen-99-back", func(q *queue.Queue, agency string) (*queue.Claimed, error) {
			return q.ClaimTip(b.Context(), agency, "o1", "t99")
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := queue.New(c, queue.Options{Prefix: "benchclaim-" + bc.name + strconv.Itoa(b.N)})
			b.ReportAllocs()
			for i := range b.N {
				b.StopTimer()
				agency := "a" + strconv.Itoa(i)
				if err := q.Ensure(b.Context(), agency); err != nil {
					b.Fatal(err)
				}
				for j := range 100 {
					if err := q.Publish(b.Context(), entry(agency, "t"+strconv.Itoa(j), queue.Normal)); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if _, err := bc.claim(q, agency); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPurgeBesideAFlood is retention's cost per closed tip purged
// (with the reply handle's hook, WhenCaseClosed) while 5000 tips are open.
func BenchmarkPurgeBesideAFlood(b *testing.B) {
	q := flooded(b, 5000)
	ctx := b.Context()
	hook := q.WhenCaseClosed(func(context.Context, string, string) error { return nil })
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		id := "closed" + strconv.Itoa(i)
		// Urgent: claimed before the flood's tips.
		if err := q.Publish(ctx, entry("pe-lima", id, queue.Urgent)); err != nil {
			b.Fatal(err)
		}
		if c, err := q.Claim(ctx, "pe-lima", "alice"); err != nil || c.TipID != id {
			b.Fatalf("claim: %+v, %v", c, err)
		}
		if err := q.Ack(ctx, "pe-lima", id, "alice", queue.Dispatched); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if n, err := q.Purge(ctx, "pe-lima", time.Now().Add(time.Second), hook); n != 1 || err != nil {
			b.Fatalf("purge: %d, %v", n, err)
		}
	}
}

// BenchmarkListBesideAFlood is a list's worth (1000) of 5000 open tips.
func BenchmarkListBesideAFlood(b *testing.B) {
	q := flooded(b, 5000)
	b.ReportAllocs()
	for b.Loop() {
		if l, err := q.List(b.Context(), "pe-lima", 0); len(l) != 1000 || err != nil {
			b.Fatalf("list: %d, %v", len(l), err)
		}
	}
}

// BenchmarkCountBesideAFlood is a count of 5000 open tips (the pager's,
// and each open console's event stream's).
func BenchmarkCountBesideAFlood(b *testing.B) {
	q := flooded(b, 5000)
	b.ReportAllocs()
	for b.Loop() {
		if c, err := q.Count(b.Context(), "pe-lima"); c.Waiting[queue.Normal] != 5000 || err != nil {
			b.Fatalf("count: %+v, %v", c, err)
		}
	}
}

// flooded is a queue with n tips open in pe-lima.
func flooded(b *testing.B, n int) *queue.Queue {
	r := queuetest.New(b)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix, Lease: time.Minute})
	for i := range n {
		if err := q.Publish(b.Context(), entry("pe-lima", "open"+strconv.Itoa(i), queue.Normal)); err != nil {
			b.Fatal(err)
		}
	}
	return q
}

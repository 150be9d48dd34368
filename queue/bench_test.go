package queue_test

import (
	"strconv"
	"testing"

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

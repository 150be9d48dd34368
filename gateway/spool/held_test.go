package spool_test

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/spool"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

type countingMetrics struct{ unconfirmed atomic.Int64 }

func (m *countingMetrics) ObserveRedis(metrics.RedisOp, time.Duration, error) {}
func (m *countingMetrics) ReplicaUnconfirmed()                                { m.unconfirmed.Add(1) }

// count is how many times msg appears in logs.
func count(logs *queuetest.SyncBuffer, msg string) int {
	return strings.Count(logs.String(), msg)
}

func newHeldPublisher(t *testing.T, f *fakePrimary, heldOpt spool.Options) (*spool.Publisher, *spool.Spool, *spool.Spool, *countingMetrics, *queuetest.SyncBuffer) {
	t.Helper()
	p, sp := newPublisher(t, f, spool.Options{})
	held, err := spool.Open(t.TempDir(), heldOpt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { held.Close() })
	m, logs := &countingMetrics{}, &queuetest.SyncBuffer{}
	p.Held, p.Metrics, p.Logger = held, m, slog.New(slog.NewJSONHandler(logs, nil))
	return p, sp, held, m, logs
}

const (
	lagMsg     = "redis replicas do not confirm tips in time"
	confirmMsg = "redis replicas confirm tips again"
)

func TestPublisherHoldsTipsTheReplicasDidNotConfirm(t *testing.T) {
	var f fakePrimary
	p, sp, held, m, logs := newHeldPublisher(t, &f, spool.Options{})
	ctx := t.Context()

	f.mode.Store(unconfirmed)
	for _, id := range []string{"a", "b", "c"} {
		if err := p.Publish(ctx, entry(id)); err != nil {
			t.Fatalf("publish %s with the replicas behind: %v", id, err)
		}
	}
	if held.Stats().Records != 3 || sp.Stats().Records != 0 {
		t.Fatalf("held %d, spooled %d: want every unconfirmed tip held", held.Stats().Records, sp.Stats().Records)
	}
	// Redis has them: the publisher is not down, officers see the tips.
	if p.Down() || !slices.Equal(f.queued(), []string{"a", "b", "c"}) {
		t.Fatalf("down %v, queued %v", p.Down(), f.queued())
	}
	if m.unconfirmed.Load() != 3 || count(logs, lagMsg) != 1 {
		t.Fatalf("counted %d, logged %d times: want 3 and once", m.unconfirmed.Load(), count(logs, lagMsg))
	}

	// While the replicas lag, the held tips stay.
	p.Flush(ctx)
	p.Flush(ctx)
	if held.Stats().Records != 3 {
		t.Fatalf("held %d after draining unconfirmed: a tip was dropped before its replicas confirmed it", held.Stats().Records)
	}

	f.mode.Store(up)
	if left := p.Flush(ctx); left != 0 {
		t.Fatalf("%d tips left once the replicas confirm", left)
	}
	if !slices.Equal(f.queued(), []string{"a", "b", "c"}) {
		t.Fatalf("queued %v: republished tips queued twice?", f.queued())
	}
	if count(logs, confirmMsg) != 1 || count(logs, lagMsg) != 1 {
		t.Fatalf("transitions logged %d/%d times, want once each", count(logs, lagMsg), count(logs, confirmMsg))
	}
	// Nothing but ids in the log.
	if out := logs.String(); strings.Contains(out, "age-encryption") || strings.Contains(out, "ABCD-EFGH") {
		t.Fatalf("log holds more than ids: %s", out)
	}
}

// After an outage the spooled tips reach Redis even though its replicas
// lag: they move to the held spool, the publisher comes back up and new
// tips go to Redis at once instead of waiting behind unconfirmed ones.
func TestPublisherOutageThenLaggingReplicasDoesNotStall(t *testing.T) {
	var f fakePrimary
	p, sp, held, _, _ := newHeldPublisher(t, &f, spool.Options{})
	ctx := t.Context()
	f.mode.Store(down)
	for _, id := range []string{"a", "b"} {
		if err := p.Publish(ctx, entry(id)); err != nil {
			t.Fatal(err)
		}
	}
	if !p.Down() || sp.Stats().Records != 2 {
		t.Fatalf("down %v, spooled %d", p.Down(), sp.Stats().Records)
	}
	f.mode.Store(unconfirmed)
	p.Flush(ctx)
	if p.Down() || sp.Stats().Records != 0 || held.Stats().Records != 2 {
		t.Fatalf("after the drain: down %v, spooled %d, held %d", p.Down(), sp.Stats().Records, held.Stats().Records)
	}
	if err := p.Publish(ctx, entry("c")); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.queued(), []string{"a", "b", "c"}) {
		t.Fatalf("queued %v", f.queued())
	}
	f.mode.Store(up)
	if left := p.Flush(ctx); left != 0 {
		t.Fatalf("%d left", left)
	}
}

// An unconfirmed tip the spool cannot take is not acknowledged: only the
// master holds it, and a failover could lose it.
func TestPublisherUnconfirmedAndSpoolFull(t *testing.T) {
	var f fakePrimary
	p, _, _, _, _ := newHeldPublisher(t, &f, spool.Options{MaxBytes: 1})
	f.mode.Store(unconfirmed)
	err := p.Publish(t.Context(), entry("a"))
	if !errors.Is(err, queue.ErrUnavailable) || !errors.Is(err, spool.ErrFull) {
		t.Fatalf("publish unconfirmed with a full spool: %v", err)
	}
	if p.Down() {
		t.Fatal("down, though Redis answers")
	}
}

package queue_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
)

// TestRetainPurgesThenStops: one pass purges the closed tips of every
// agency and runs the hooks; Retain returns when its context ends.
func TestRetainPurgesThenStops(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	for _, a := range []string{"pe-lima", "my-kl"} {
		if err := q.Publish(ctx, entry(a, "t-"+a, queue.Normal)); err != nil {
			t.Fatal(err)
		}
		if _, err := q.Claim(ctx, a, "alice"); err != nil {
			t.Fatal(err)
		}
		if err := q.Ack(ctx, a, "t-"+a, "alice", queue.Dispatched); err != nil {
			t.Fatal(err)
		}
	}
	purged := make(chan string, 2)
	rctx, cancel := context.WithCancel(ctx)
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		q.Retain(rctx, []string{"pe-lima", "my-kl"}, -time.Second, time.Hour, slog.New(slog.DiscardHandler),
			func(ctx context.Context, agency, tip, caseRef string) error {
				purged <- tip
				return nil
			})
	}()
	for range 2 {
		select {
		case <-purged:
		case <-time.After(10 * time.Second):
			t.Fatal("a closed tip was not purged")
		}
	}
	cancel()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Retain still running after its context ended")
	}
	if _, err := q.Meta(ctx, "pe-lima", "t-pe-lima"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("closed tip kept: %v", err)
	}
}

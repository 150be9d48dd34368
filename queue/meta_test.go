package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
)

// TestEnsureBackfillsMetadata: tips queued before the clear metadata was
// kept apart (no meta or open entries) are listed and counted after Ensure,
// and closed ones are not.
func TestEnsureBackfillsMetadata(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := q.Publish(ctx, entry("pe-lima", id, queue.Normal)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Claim(ctx, "pe-lima", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, "pe-lima", "a", "alice", queue.NoAction); err != nil {
		t.Fatal(err)
	}
	// What an older gateway left behind.
	r.Client.Del(ctx, r.Prefix+":{pe-lima}:meta", r.Prefix+":{pe-lima}:open")
	if list, err := q.List(ctx, "pe-lima", 0); err != nil || len(list) != 0 {
		t.Fatalf("before the backfill: %+v, %v", list, err)
	}
	if err := q.Ensure(ctx, "pe-lima"); err != nil {
		t.Fatal(err)
	}
	list, err := q.List(ctx, "pe-lima", 0)
	if err != nil || len(list) != 1 || list[0].TipID != "b" || list[0].Case != "CASE-b" || list[0].State != queue.StateWaiting {
		t.Fatalf("after the backfill: %+v, %v", list, err)
	}
	if l, err := q.Meta(ctx, "pe-lima", "a"); err != nil || l.State != queue.StateClosed || l.Case != "CASE-a" {
		t.Fatalf("closed tip after the backfill: %+v, %v", l, err)
	}
}

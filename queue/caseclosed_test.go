package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
)

// TestWhenCaseClosed: the cleanups run when the last open tip of a case is
// purged, not while another tip of the case is open; a failing cleanup
// does not stop the others.
func TestWhenCaseClosed(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		e := entry("pe-lima", id, queue.Normal)
		e.Case = "CASE-shared"
		if err := q.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var ran []string
	hook := q.WhenCaseClosed(
		func(ctx context.Context, agency, caseRef string) error {
			ran = append(ran, "handle "+agency+" "+caseRef)
			return errors.New("redis away")
		},
		func(ctx context.Context, agency, caseRef string) error {
			ran = append(ran, "thread "+caseRef)
			return nil
		})
	if _, err := q.Claim(ctx, "pe-lima", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, "pe-lima", "a", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	if n, err := q.Purge(ctx, "pe-lima", time.Now().Add(time.Second), hook); n != 1 || err != nil || len(ran) != 0 {
		t.Fatalf("purge with tip b still open: %d, %v, cleanups %v", n, err, ran)
	}
	if _, err := q.Claim(ctx, "pe-lima", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, "pe-lima", "b", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	_, err := q.Purge(ctx, "pe-lima", time.Now().Add(time.Second), hook)
	if err == nil || len(ran) != 2 || ran[0] != "handle pe-lima CASE-shared" || ran[1] != "thread CASE-shared" {
		t.Fatalf("purge of the last tip: %v, cleanups %v", err, ran)
	}
}

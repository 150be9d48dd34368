package queue_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
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

func TestNewClient(t *testing.T) {
	r := queuetest.New(t)
	rdb, err := queue.NewClient(queue.ClientOptions{URL: r.URL, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := queue.NewClient(queue.ClientOptions{URL: "http://x"}); err == nil {
		t.Fatal("a URL that is not redis:// accepted")
	}
	cl, err := queue.NewClient(queue.ClientOptions{Mode: "cluster", Addrs: []string{"127.0.0.1:1"}, TLS: true, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping of a cluster that is not there")
	}
}

package sms_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/ratelimit"
	"github.com/hotline-org/hotline/gateway/sms"
)

// TestReceiveBatched drives the channel over the real intake, queue and
// limiter, where a message is read in one round trip and written with its
// tip (queue.Batch): a retry is answered as the first time and counts
// nothing; a message over the sender's limit is still queued, without a
// reply; a thread keeps its case and moves its handle's last message; a
// handle gone meanwhile is saved again; state written by the code before
// (one call per key) is honoured: a STOP silences, a dedupe mark answers
// the retry, an in-progress mark refuses it for now.
func TestReceiveBatched(t *testing.T) {
	ctx := context.Background()
	stack := gatewaytest.New(t)
	tw := &fakeTwilio{}
	limit := ratelimit.New(stack.Redis.Client, stack.Redis.Prefix, "sender", 2, time.Hour)
	ch, store := stack.Channel(t, tw, nil, func(o *sms.Options) { o.Sender = limit })
	queued := func() int64 {
		return stack.Redis.Client.XLen(ctx, stack.Redis.Prefix+":{"+gatewaytest.Lima+"}:tips:normal").Val() +
			stack.Redis.Client.XLen(ctx, stack.Redis.Prefix+":{"+gatewaytest.Lima+"}:tips:urgent").Val()
	}
	receive := func(sid, from, body string) sms.Result {
		t.Helper()
		res, err := ch.Receive(ctx, sms1(sid, from, body))
		if err != nil {
			t.Fatalf("%s: %v", sid, err)
		}
		return res
	}
	sender := stack.Keyer.Sender(reporter)
	count := func() string { return stack.Redis.Client.Get(ctx, limit.Key(sender)).Val() }

	first := receive("SMb1", reporter, "somos muchos en una casa")
	if first.Outcome != sms.Queued || first.Reply == "" || queued() != 1 || count() != "1" {
		t.Fatalf("first message: %+v, %d queued, count %q", first, queued(), count())
	}
	h, last, err := store.Handle(ctx, gatewaytest.Lima, first.Case)
	if err != nil || h.From != reporter || h.Sender != sender {
		t.Fatalf("handle after the first message: %+v %v", h, err)
	}
	if n, err := store.Scrubs().Pending(ctx); err != nil || n != 1 {
		t.Errorf("scrub jobs = %d, %v; want 1", n, err)
	}

	retry := receive("SMb1", reporter, "somos muchos en una casa")
	if retry.Outcome != sms.Duplicate || retry.Case != first.Case || retry.Reply != first.Reply || queued() != 1 || count() != "1" {
		t.Fatalf("retry: %+v, %d queued, count %q; want the first answer, nothing queued or counted", retry, queued(), count())
	}

	time.Sleep(5 * time.Millisecond) // the handle's last message moves
	second := receive("SMb2", reporter, "ahora mismo")
	if second.Outcome != sms.Queued || second.Case != first.Case || queued() != 2 || count() != "2" {
		t.Fatalf("second message: %+v, %d queued, count %q", second, queued(), count())
	}
	if _, last2, err := store.Handle(ctx, gatewaytest.Lima, first.Case); err != nil || !last2.After(last) {
		t.Errorf("handle's last message %v -> %v (%v); want it moved", last, last2, err)
	}
	thread, ok, err := store.Thread(ctx, sender)
	if err != nil || !ok || thread.Case != first.Case || thread.Seq != 2 {
		t.Errorf("thread = %+v %v %v", thread, ok, err)
	}

	// Over the limit: queued all the same, no reply.
	over := receive("SMb3", reporter, "por favor")
	if over.Outcome != sms.RateLimited || over.Reply != "" || queued() != 3 {
		t.Fatalf("over the limit: %+v, %d queued", over, queued())
	}

	// A handle gone while the thread is open is sealed and saved again.
	if err := store.DeleteHandle(ctx, gatewaytest.Lima, first.Case); err != nil {
		t.Fatal(err)
	}
	receive("SMb4", reporter, "sigo aqui")
	if h, _, err := store.Handle(ctx, gatewaytest.Lima, first.Case); err != nil || h.From != reporter {
		t.Errorf("handle after it was lost: %+v %v", h, err)
	}

	// State of the code before: a STOP recorded one call at a time.
	if err := store.SetOptOut(ctx, stack.Keyer.Sender(other), true); err != nil {
		t.Fatal(err)
	}
	if res := receive("SMb5", other, "ayuda"); res.Outcome != sms.Queued || res.Reply != "" {
		t.Errorf("after STOP: %+v; want queued without a reply", res)
	}
	if n := len(tw.sent); n != 0 {
		t.Errorf("%d messages sent", n)
	}
	// A dedupe mark left by the code before: done, and in progress.
	third := "+51955555555"
	done := stack.Keyer.Of(pseudonym.DomainProvider, "SMold1")
	if err := stack.Queue.FinishDedupe(ctx, done, "OLD1-CASE", time.Hour); err != nil {
		t.Fatal(err)
	}
	if res := receive("SMold1", third, "hola"); res.Outcome != sms.Duplicate || res.Case != "OLD1-CASE" {
		t.Errorf("retry of a message marked by the code before: %+v", res)
	}
	if _, err := stack.Queue.BeginDedupe(ctx, stack.Keyer.Of(pseudonym.DomainProvider, "SMold2")); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Receive(ctx, sms1("SMold2", third, "hola")); !errors.Is(err, gateway.ErrInFlight) {
		t.Errorf("a message in progress: %v, want ErrInFlight", err)
	}
	if queued() != 5 {
		t.Errorf("%d queued, want 5", queued())
	}
}

// TestReceiveBatchedConcurrentRetries: deliveries of one message racing
// each other (Twilio retrying on a second gateway while the first is
// still at work) queue one tip, count the sender once, and all answer
// with its case.
func TestReceiveBatchedConcurrentRetries(t *testing.T) {
	ctx := context.Background()
	stack := gatewaytest.New(t)
	limit := ratelimit.New(stack.Redis.Client, stack.Redis.Prefix, "sender", 10, time.Hour)
	ch, _ := stack.Channel(t, &fakeTwilio{}, nil, func(o *sms.Options) { o.Sender = limit })
	const n = 8
	results := make(chan sms.Result, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			res, err := ch.Receive(ctx, sms1("SMrace", reporter, "somos muchos en una casa"))
			results <- res
			errs <- err
		}()
	}
	cases := map[string]int{}
	for range n {
		if err := <-errs; err != nil && !errors.Is(err, gateway.ErrInFlight) {
			t.Errorf("a delivery failed: %v", err)
		}
		if res := <-results; res.Case != "" {
			cases[res.Case]++
		}
	}
	entries := len(stack.Redis.Client.XRange(ctx, stack.Redis.Prefix+":{"+gatewaytest.Lima+"}:tips:normal", "-", "+").Val())
	if entries != 1 || len(cases) != 1 {
		t.Fatalf("%d tips queued, cases %v; want one tip, one case", entries, cases)
	}
	if v := stack.Redis.Client.Get(ctx, limit.Key(stack.Keyer.Sender(reporter))).Val(); v != "1" {
		t.Errorf("sender counted %q times, want 1", v)
	}
}

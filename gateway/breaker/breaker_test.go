package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotline-org/hotline/gateway/breaker"
	"github.com/redis/go-redis/v9"
)

// TestBreaker runs on synctest's clock: the cooldown ends exactly when it should, not about
// when a sleep happens to wake.
func TestBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &breaker.Breaker{Cooldown: 50 * time.Millisecond}
		if b.Open() {
			t.Fatal("a new breaker is open")
		}
		b.Record(errors.New("down"))
		if !b.Open() {
			t.Fatal("not open after a failure")
		}
		time.Sleep(49 * time.Millisecond)
		if !b.Open() {
			t.Fatal("closed before the cooldown ended")
		}
		b.Record(errors.New("down again"))
		time.Sleep(49 * time.Millisecond)
		if !b.Open() {
			t.Fatal("a second failure did not restart the cooldown")
		}
		time.Sleep(time.Millisecond)
		if b.Open() {
			t.Fatal("still open after the cooldown")
		}
		b.Record(errors.New("down"))
		b.Record(nil)
		if b.Open() {
			t.Fatal("open after a success")
		}
	})
}

func TestCalls(t *testing.T) {
	errStore := errors.New("store unavailable")
	c := &breaker.Calls{Timeout: time.Minute, Unavailable: errStore, Breaker: &breaker.Breaker{Cooldown: time.Hour}}
	ctx, cancel := c.Context(context.Background())
	if _, ok := ctx.Deadline(); !ok || ctx.Err() != nil {
		t.Fatalf("closed breaker: deadline %v, err %v; want a live context with a deadline", ok, ctx.Err())
	}
	cancel()
	if err := c.Fail("", context.Canceled); !errors.Is(err, errStore) || !errors.Is(err, context.Canceled) || c.Open() {
		t.Fatalf("cancellation: %v, open %v; want it wrapped and the breaker closed", err, c.Open())
	}
	down := errors.New("connection refused")
	err := c.Fail("publish", down)
	if !errors.Is(err, errStore) || !errors.Is(err, down) || err.Error() != "store unavailable: failed to publish: connection refused" {
		t.Fatalf("Fail = %v", err)
	}
	if !c.Open() {
		t.Fatal("breaker closed after a failure")
	}
	ctx, cancel = c.Context(context.Background())
	defer cancel()
	if ctx.Err() == nil {
		t.Fatal("open breaker: the call's context is live")
	}
	c.Record(nil)
	if c.Open() {
		t.Fatal("open after a success")
	}
	// Answers of a Redis that serves do not open it; those of one that
	// cannot serve now do, as does a network error.
	for _, tc := range []struct {
		err  error
		down bool
	}{
		{replyError("WRONGTYPE Operation against a key holding the wrong kind of value"), false},
		{replyError("NOPERM User hotline has no permissions to run the 'unwatch' command"), false},
		{fmt.Errorf("publish: %w", replyError("ERR Error running script")), false},
		{redis.TxFailedErr, false},
		{replyError("LOADING Redis is loading the dataset in memory"), true},
		{replyError("READONLY You can't write against a read only replica."), true},
		{fmt.Errorf("wrapped: %w", replyError("MASTERDOWN Link with MASTER is down")), true},
		{replyError("OOM command not allowed when used memory > 'maxmemory'."), true},
		{context.DeadlineExceeded, true},
		{down, true},
	} {
		c.Record(nil)
		_ = c.Fail("", tc.err)
		if c.Open() != tc.down || breaker.Down(tc.err) != tc.down {
			t.Errorf("after %q: open %v, Down %v; want %v", tc.err, c.Open(), breaker.Down(tc.err), tc.down)
		}
	}
	none := &breaker.Calls{Timeout: time.Minute, Unavailable: errStore}
	none.Fail("", down)
	if none.Open() {
		t.Fatal("a store without a breaker fails calls")
	}
}

// replyError is an error answer of Redis, as go-redis returns one.
type replyError string

func (e replyError) Error() string { return string(e) }
func (replyError) RedisError()     {}

package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/ratelimit"
	"github.com/hotline-org/hotline/queue/queuetest"
)

func TestLimitIsSharedAndFailsOpen(t *testing.T) {
	r := queuetest.New(t)
	ctx := context.Background()
	a := ratelimit.New(r.Client, r.Prefix, "sender", 3, time.Hour)
	b := ratelimit.New(r.Client, r.Prefix, "sender", 3, time.Hour) // another gateway
	got := []bool{a.Allow(ctx, "p1"), b.Allow(ctx, "p1"), a.Allow(ctx, "p1"), b.Allow(ctx, "p1"), a.Allow(ctx, "p2")}
	want := []bool{true, true, true, false, true}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allow #%d = %v, want %v (%v)", i, got[i], want[i], got)
		}
	}
	for _, k := range r.Keys(t) {
		if len(k) < len(r.Prefix+":rate:sender") {
			t.Fatalf("unexpected key %s", k)
		}
	}
	failed := 0
	a.FailedOpen = func() { failed++ }
	r.Client.Close()
	if !a.Allow(ctx, "p1") {
		t.Fatal("Redis down: the limiter refused instead of failing open to memory")
	}
	if failed != 1 {
		t.Fatalf("fail-open counted %d times, want 1", failed)
	}
	for range 3 {
		a.Allow(ctx, "p3")
	}
	if a.Allow(ctx, "p3") {
		t.Fatal("the in-memory fallback does not limit")
	}
}

func TestOverPeeksWithoutCounting(t *testing.T) {
	r := queuetest.New(t)
	ctx := context.Background()
	a := ratelimit.New(r.Client, r.Prefix, "sender", 2, time.Hour)
	b := ratelimit.New(r.Client, r.Prefix, "sender", 2, time.Hour) // another gateway
	for i := range 5 {
		if a.Over(ctx, "p1") {
			t.Fatalf("peek #%d: over before any event", i)
		}
	}
	a.Allow(ctx, "p1")
	a.Allow(ctx, "p1")
	if b.Over(ctx, "p1") {
		t.Fatal("at the limit, not past it: Over said yes")
	}
	if a.Allow(ctx, "p1") {
		t.Fatal("the third event was allowed: the peeks were counted")
	}
	if !b.Over(ctx, "p1") {
		t.Fatal("past the limit, another gateway's Over said no")
	}
	r.Client.Close()
	for i := range 2 {
		if !a.Over(ctx, "p2") {
			t.Fatalf("Redis down, peek #%d: Over must answer yes (stay silent), not no", i)
		}
	}
}

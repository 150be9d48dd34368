package breaker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/breaker"
)

func TestBreaker(t *testing.T) {
	b := &breaker.Breaker{Cooldown: 50 * time.Millisecond}
	if b.Open() {
		t.Fatal("a new breaker is open")
	}
	b.Record(errors.New("down"))
	if !b.Open() {
		t.Fatal("not open after a failure")
	}
	time.Sleep(60 * time.Millisecond)
	if b.Open() {
		t.Fatal("still open after the cooldown")
	}
	b.Record(errors.New("down"))
	b.Record(nil)
	if b.Open() {
		t.Fatal("open after a success")
	}
}

func TestContextAndFail(t *testing.T) {
	b := &breaker.Breaker{Cooldown: time.Hour}
	unavailable := errors.New("store unavailable")
	ctx, cancel := b.Context(context.Background(), time.Minute)
	if _, ok := ctx.Deadline(); !ok || ctx.Err() != nil {
		t.Fatal("a closed breaker gave no deadline, or a done context")
	}
	cancel()
	if err := b.Fail(unavailable, context.Canceled); !errors.Is(err, unavailable) || !errors.Is(err, context.Canceled) || b.Open() {
		t.Fatalf("Fail(canceled) = %v, open %v; want it wrapped and the breaker closed", err, b.Open())
	}
	down := errors.New("connection refused")
	if err := b.Fail(unavailable, down); !errors.Is(err, unavailable) || !errors.Is(err, down) || !b.Open() {
		t.Fatalf("Fail = %v, open %v; want it wrapped and the breaker open", err, b.Open())
	}
	ctx, cancel = b.Context(context.Background(), time.Minute)
	defer cancel()
	if ctx.Err() == nil {
		t.Fatal("an open breaker gave a live context")
	}
}

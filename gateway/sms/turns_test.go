package sms

import (
	"context"
	"testing"
	"time"
)

// TestTurns: a sender's messages take turns; one that waits longer than
// it may goes on without its turn (never refused, never held past the
// request), other senders never wait, and no turn is kept once its
// messages are done.
func TestTurns(t *testing.T) {
	var ts turns
	done := ts.take(context.Background(), "a")
	// Another sender goes at once (it would wait turnWait otherwise, and
	// the test's deadline below would end it).
	other := make(chan struct{})
	go func() { ts.take(context.Background(), "b")(); close(other) }()
	select {
	case <-other:
	case <-time.After(turnWait / 2):
		t.Fatal("a sender waited for another's turn")
	}
	// The same sender waits, for a third of what is left of its request
	// at most, then goes on: while the first message still holds the turn.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	late := make(chan func())
	go func() { late <- ts.take(ctx, "a") }()
	var lateDone func()
	select {
	case lateDone = <-late:
	case <-ctx.Done():
		t.Fatal("a message waited for its turn past its request's end")
	}
	// The next one waits for the turn, and has it once the first is done.
	next := make(chan func())
	go func() { next <- ts.take(context.Background(), "a") }()
	select {
	case <-next:
		t.Fatal("two messages of a sender held the turn at once")
	case <-time.After(100 * time.Millisecond):
	}
	done()
	(<-next)()
	lateDone()
	if len(ts.m) != 0 {
		t.Fatalf("turns kept after their messages: %d", len(ts.m))
	}
}

package sms

import (
	"context"
	"sync"
	"time"
)

// turns lets one message of a sender through at a time, within this
// gateway: a message reads the sender's record (the thread, the limiter's
// count) before its tip is written, so that two messages of a new sender
// at once (a photo, then at once the location pin, while the photo is
// downloaded) would each open a case. In turn, the second reads the
// thread the first opened and joins its case.
//
// A turn is waited for a while at most (turnWait, or a third of what is
// left of the request): a message is never held back long, nor refused, by
// the messages before it; past the wait it goes on beside them, as every
// message did before turns. Gateways that share a Redis do not share
// turns: a message with media opens its case before the download
// (conversation.Store.Announce) for the others' sake; two quick ones
// that reach two gateways at once may still open a case each, and the
// sender's record lists both.
type turns struct {
	mu sync.Mutex
	m  map[string]*turn
}

// turn is a sender's: its token is held by the message under way, and
// waiting counts the messages that hold or wait for it.
type turn struct {
	token   chan struct{}
	waiting int
}

// turnWait bounds the wait for a sender's turn: longer than a message
// takes (a media download included) in all but a flood, shorter than
// Twilio's 15 s for a webhook's answer.
const turnWait = 5 * time.Second

// take waits for sender's turn and returns the function that ends it. If
// the turn does not come in time, the message goes on without it.
func (ts *turns) take(ctx context.Context, sender string) (done func()) {
	ts.mu.Lock()
	if ts.m == nil {
		ts.m = map[string]*turn{}
	}
	t := ts.m[sender]
	if t == nil {
		t = &turn{token: make(chan struct{}, 1)}
		ts.m[sender] = t
	}
	t.waiting++
	ts.mu.Unlock()
	leave := func(held bool) {
		if held {
			<-t.token
		}
		ts.mu.Lock()
		if t.waiting--; t.waiting == 0 {
			delete(ts.m, sender)
		}
		ts.mu.Unlock()
	}
	wait := turnWait
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl)/3)
	}
	select {
	case t.token <- struct{}{}:
		return func() { leave(true) }
	default:
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case t.token <- struct{}{}:
		return func() { leave(true) }
	case <-timer.C:
	case <-ctx.Done():
	}
	leave(false)
	return func() {}
}

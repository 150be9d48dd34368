package breaker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Calls is what every store on Redis does around a call: a deadline, the
// breaker (when the store has one: state that only helps) failing calls at
// once while open, and a failure wrapped in the store's own unavailable
// error, which callers match on. It is safe for concurrent use.
type Calls struct {
	// Timeout is the deadline of one call.
	Timeout time.Duration
	// Unavailable is the store's error for "Redis failed, try again".
	Unavailable error
	// Breaker, if set, fails the calls of its cooldown after a failure.
	Breaker *Breaker
}

// Open reports whether the breaker fails calls now.
func (c *Calls) Open() bool { return c.Breaker != nil && c.Breaker.Open() }

// Context returns the context of one call: ctx with the deadline, or
// already cancelled while the breaker is open, so that the call fails at
// once.
func (c *Calls) Context(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.Open() {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return ctx, cancel
	}
	return context.WithTimeout(ctx, c.Timeout)
}

// Record tells the breaker how a call went. A caller's cancellation says
// nothing of Redis and is not counted, nor is an answer that shows Redis
// up and serving (see Down): a key of another type under one sender must
// not fail every other sender's calls for the cooldown.
func (c *Calls) Record(err error) {
	if c.Breaker == nil || errors.Is(err, context.Canceled) {
		return
	}
	if err != nil && !Down(err) {
		err = nil
	}
	c.Breaker.Record(err)
}

// Down reports whether err says Redis cannot serve now: a network error,
// a deadline, or one of the answers of a Redis that is starting, failing
// over, out of memory or busy. Any other answer (WRONGTYPE, NOPERM, a
// script's own error) came from a Redis that serves.
func Down(err error) bool {
	var reply redis.Error
	if !errors.As(err, &reply) {
		return true
	}
	for _, p := range unavailableReplies {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// unavailableReplies are the error answers of a Redis that is up but
// cannot serve the call now.
var unavailableReplies = []string{"LOADING", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "TRYAGAIN", "BUSY", "NOREPLICAS", "OOM", "MISCONF"}

// Fail records err and returns it wrapped in Unavailable, with what failed
// (op, "" for nothing more) in the message.
func (c *Calls) Fail(op string, err error) error {
	c.Record(err)
	if op == "" {
		return fmt.Errorf("%w: %w", c.Unavailable, err)
	}
	return fmt.Errorf("%w: failed to %s: %w", c.Unavailable, op, err)
}

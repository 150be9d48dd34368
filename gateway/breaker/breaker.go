// Package breaker lets auxiliary Redis calls fail fast while Redis is
// known to be down, so that a tip on its way to the spool does not wait
// out one deadline after another for state that only helps (threads,
// rate limits, reply handles).
package breaker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Breaker is open for Cooldown after a failure. The zero value is closed
// with no cooldown; it is safe for concurrent use.
type Breaker struct {
	Cooldown time.Duration
	openAt   atomic.Int64 // unix nanoseconds of the last failure
}

// Open reports whether calls should be skipped now.
func (b *Breaker) Open() bool {
	t := b.openAt.Load()
	return t != 0 && time.Since(time.Unix(0, t)) < b.Cooldown
}

// Record notes the outcome of a call.
func (b *Breaker) Record(err error) {
	if err != nil {
		b.openAt.Store(time.Now().UnixNano())
	} else if b.openAt.Load() != 0 {
		b.openAt.Store(0)
	}
}

// Context returns the context of one call with its timeout or, while the
// breaker is open, one already cancelled: the call fails at once.
func (b *Breaker) Context(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if b.Open() {
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		return ctx, cancel
	}
	return context.WithTimeout(ctx, timeout)
}

// Fail records a failed call and wraps err in kind (a store's
// ErrUnavailable). A cancellation is the caller's doing and opens nothing.
func (b *Breaker) Fail(kind, err error) error {
	if !errors.Is(err, context.Canceled) {
		b.Record(err)
	}
	return fmt.Errorf("%w: %w", kind, err)
}

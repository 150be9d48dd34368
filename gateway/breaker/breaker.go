// Package breaker lets auxiliary Redis calls fail fast while Redis is
// known to be down, so that a tip on its way to the spool does not wait
// out one deadline after another for state that only helps (threads,
// rate limits, reply handles). Calls is the rest of what every store on
// Redis does around a call: a deadline and one error to match on.
package breaker

import (
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

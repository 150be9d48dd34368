// Package periodic runs a background job at once and then every interval
// until its context ends: the loop of the gateway's pager, scrubber and
// spool drainer.
//
// It protects against a job that never stops: the loop returns as soon as
// the context is done, and the ticker is always released.
package periodic

import (
	"context"
	"time"
)

// Run calls job at once, then every interval, until ctx ends. A job that
// takes longer than interval is not run twice at once: the ticks it misses
// are dropped. interval must be positive.
func Run(ctx context.Context, interval time.Duration, job func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		job(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

package queue

import (
	"context"
	"log/slog"
	"time"
)

// Retain deletes the agencies' tips closed longer than closed ago, now and
// every interval until ctx ends, running hooks for each (see PurgeHook). A
// failed purge is logged and tried again at the next interval.
func (q *Queue) Retain(ctx context.Context, agencies []string, closed, interval time.Duration, log *slog.Logger, hooks ...PurgeHook) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, a := range agencies {
			n, err := q.Purge(ctx, a, time.Now().Add(-closed), hooks...)
			if err != nil {
				log.Warn("retention: purge failed", "agency", a, "err", err)
			} else if n > 0 {
				log.Info("retention: closed tips deleted", "agency", a, "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

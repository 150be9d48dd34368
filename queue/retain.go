package queue

import (
	"context"
	"errors"
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

// CaseCleanup deletes what a case keeps outside the queue: the reporter's
// sealed reply handle, the witness's follow-up thread.
type CaseCleanup func(ctx context.Context, agency, caseRef string) error

// WhenCaseClosed is a purge hook that runs the cleanups once no tip of the
// case is open any more in the agency: the tip purged may be one of several
// of a case, and the reporter must stay reachable while one is open. Every
// cleanup runs even if another fails; the purge is told of each failure.
func (q *Queue) WhenCaseClosed(cleanups ...CaseCleanup) PurgeHook {
	return func(ctx context.Context, agency, tipID, caseRef string) error {
		// Not a list's worth of open items (with more open than maxList,
		// the case's other tip could be past the first page), nor every
		// open item (a purge after a flood would be quadratic): the
		// case's own. A tip whose case is unknown ("") is looked for in
		// every open item.
		var open bool
		var err error
		if caseRef != "" {
			open, err = q.caseOpen(ctx, agency, caseRef)
		} else {
			err = q.eachOpen(ctx, agency, func(l Listed) { open = open || l.Case == caseRef })
		}
		if err != nil || open {
			return err
		}
		var errs []error
		for _, c := range cleanups {
			errs = append(errs, c(ctx, agency, caseRef))
		}
		return errors.Join(errs...)
	}
}

package spool

import (
	"context"

	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/queue"
)

// peeker is a primary that can tell what deduplication knows of a message
// without marking it.
type peeker interface {
	PeekDedupe(ctx context.Context, pseudonym string) (queue.Seen, error)
}

// PeekDedupe reports what the primary knows of a provider message without
// marking it. While down, or if the primary cannot tell, the message is new:
// BeginDedupe and Publish's idempotence by tip id still stand behind it.
func (p *Publisher) PeekDedupe(ctx context.Context, pseudonym string) (queue.Seen, error) {
	pk, ok := p.Primary.(peeker)
	if !ok || p.isDown() {
		return queue.Seen{}, nil
	}
	var seen queue.Seen
	err := p.call(ctx, metrics.RedisDedupe, func(ctx context.Context) error {
		var err error
		seen, err = pk.PeekDedupe(ctx, pseudonym)
		return err
	})
	if err != nil && unavailable(err) {
		p.markDown(err)
		return queue.Seen{}, nil
	}
	return seen, err
}

// withSide seals e's side record for the spool, where the drain will need
// it. A side record that cannot be sealed is logged: the tip itself is
// still spooled, without its reply handle and scrub job.
func (p *Publisher) withSide(e queue.Entry) queue.Entry {
	if e.Side != nil || e.SealSide == nil {
		return e
	}
	side, err := e.SealSide()
	if err != nil {
		p.logger().Warn("spool: side record not sealed: the spooled tip loses its reply handle and scrub job", "tip", e.TipID, "err", err)
		return e
	}
	e.Side = side
	return e
}

// drainEntry hands one spooled tip to the primary (holding it, as
// drainPublish does, when the replicas do not confirm it), then applies what it
// carries besides itself (Apply: its reply handle, scrub job, thread).
// Both are idempotent, so a record drained twice after a crash does no
// harm. An Apply that Redis did not take keeps the record for the next
// drain; one that can never be applied is logged and dropped, the tip
// itself being queued.
func (p *Publisher) drainEntry(ctx context.Context, e queue.Entry) error {
	if err := p.drainPublish(ctx, e); err != nil {
		return err
	}
	if p.Apply == nil || len(e.Side) == 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout())
	defer cancel()
	err := p.Apply(cctx, e)
	switch {
	case err == nil:
		return nil
	case unavailable(err):
		return err
	default:
		p.logger().Warn("spool: a drained tip's reply handle and scrub job were dropped", "tip", e.TipID, "agency", e.Agency, "err", err)
		return nil
	}
}

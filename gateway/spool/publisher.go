package spool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/periodic"
	"github.com/hotline-org/hotline/queue"
)

// Primary is the queue tips go to while it answers: Redis.
type Primary interface {
	Publish(ctx context.Context, e queue.Entry) error
	BeginDedupe(ctx context.Context, pseudonym string) (queue.Seen, error)
	FinishDedupe(ctx context.Context, pseudonym, caseRef string, ttl time.Duration) error
	AbortDedupe(ctx context.Context, pseudonym string) error
	Ping(ctx context.Context) error
}

// Metrics observes the calls to the primary.
type Metrics interface {
	ObserveRedis(op metrics.RedisOp, d time.Duration, err error)
	ReplicaUnconfirmed()
}

// Defaults of a Publisher.
const (
	// DefaultTimeout is the deadline of one call to the primary: past it the
	// tip goes to the spool. Twilio waits 15 s for an answer.
	DefaultTimeout = 2 * time.Second
	// DefaultInterval is how often a spool with tips in it tries Redis again.
	DefaultInterval = 500 * time.Millisecond
)

// Publisher queues sealed tips in the primary when it answers within its
// deadline, and in the spool when it does not. It satisfies the gateway's
// Publisher interface, and Run moves spooled tips to the primary.
//
// Once a call to the primary fails, the publisher is "down": tips go straight
// to the spool (no caller waits for a dead Redis) until Run has drained the
// spool, so that spooled tips reach Redis before the tips that came after
// them.
//
// Deduplication while down: BeginDedupe answers "new" without asking Redis,
// and FinishDedupe and AbortDedupe do nothing. A retry of a provider message
// during an outage is then spooled a second time, under the same tip id
// (derived from the MessageSid), and Publish is idempotent by tip id: the
// retry is not queued twice. The reporter is never refused because the
// dedupe store is unreachable.
//
// Replicas: a tip Redis took but whose replicas did not confirm it in time
// (queue.ErrNotReplicated) would be lost if the master died now, so it is
// also appended to Held before the reporter is answered. Such a tip is in
// Redis already: the publisher stays up, and new tips keep going to Redis.
// Run publishes the held tips again, oldest first, and removes each only
// once its replicas confirm it (or, after a failover, once the new master
// has it and its own replicas, if any, confirm it); publishing is
// idempotent by tip id, so a tip the replica did receive is not queued
// twice. The first unconfirmed tip stops a drain of Held until the next
// interval: while a replica lags, that costs one wait per interval.
//
// Use it as a pointer; the zero values of the unexported fields are ready.
type Publisher struct {
	Primary Primary
	Spool   *Spool
	// Held keeps the tips the replicas have not confirmed (a second spool,
	// in its own directory). Nil keeps them in Spool, where the first one
	// stops a drain until the replicas confirm it.
	Held *Spool
	// Timeout is the deadline of one call to the primary.
	Timeout time.Duration
	// Interval is how often Run tries to drain a spool with tips in it.
	Interval time.Duration
	Logger   *slog.Logger
	Metrics  Metrics
	// Apply, if set, writes what a drained tip carries besides itself
	// (queue.Entry.Side: its reply handle, scrub job, thread) once the tip
	// is in the primary. See side.go.
	Apply func(ctx context.Context, e queue.Entry) error

	down  atomic.Bool
	once  sync.Once
	stuck stuckState // see stuck.go
	// lagging: the last publish was not confirmed by the replicas.
	lagging atomic.Bool
}

func (p *Publisher) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
}

func (p *Publisher) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// call runs f against the primary under the per-call deadline. The caller's
// cancellation is not passed on: a tip whose reporter went away is still
// queued rather than left half done.
func (p *Publisher) call(ctx context.Context, op metrics.RedisOp, f func(context.Context) error) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout())
	defer cancel()
	start := time.Now()
	err := f(cctx)
	if p.Metrics != nil {
		p.Metrics.ObserveRedis(op, time.Since(start), err)
	}
	return err
}

func (p *Publisher) publishPrimary(ctx context.Context, e queue.Entry) error {
	return p.call(ctx, metrics.RedisPublish, func(ctx context.Context) error { return p.Primary.Publish(ctx, e) })
}

// Down reports whether tips are being spooled.
func (p *Publisher) Down() bool { return p.isDown() }

// isDown reports whether tips go to the spool. A spool that still holds tips
// from an earlier run starts the publisher down, so that those tips reach
// Redis before new ones.
func (p *Publisher) isDown() bool {
	p.once.Do(func() {
		if !p.Spool.Empty() {
			p.down.Store(true)
		}
	})
	return p.down.Load()
}

func (p *Publisher) markDown(err error) {
	if p.down.CompareAndSwap(false, true) {
		p.logger().Warn("redis does not answer: spooling tips locally", "err", err)
	}
}

func (p *Publisher) markUp() {
	if p.down.CompareAndSwap(true, false) {
		p.logger().Info("redis answers again: spool drained, queueing tips directly")
	}
}

// unavailable reports whether err means the primary did not answer, as
// opposed to refusing the request.
func unavailable(err error) bool {
	return errors.Is(err, queue.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// Publish queues e in the primary or, if it does not answer in time, in the
// spool. A nil error means e is durable in one of them: in the spool, or in
// Redis and the replicas it has.
func (p *Publisher) Publish(ctx context.Context, e queue.Entry) error {
	tried := false
	if !p.isDown() {
		err := p.publishPrimary(ctx, e)
		switch {
		case err == nil:
			p.confirmed()
			return nil
		case errors.Is(err, queue.ErrNotReplicated):
			return p.hold(e, err)
		case !unavailable(err):
			return err
		}
		tried = true
		p.markDown(err)
	}
	serr := p.Spool.Append(p.withSide(e))
	if serr == nil {
		return nil
	}
	// The spool cannot take it (full, or its disk failed): Redis may be
	// back already, and is worth one more call before the reporter is told
	// the tip was not sent.
	if !tried {
		if err := p.publishPrimary(ctx, e); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: redis does not answer and the spool cannot take the tip: %w", queue.ErrUnavailable, serr)
}

func (p *Publisher) held() *Spool {
	if p.Held != nil {
		return p.Held
	}
	return p.Spool
}

// hold keeps e, which Redis took but its replicas did not confirm, in the
// spool until a publish of it is confirmed.
func (p *Publisher) hold(e queue.Entry, cause error) error {
	if p.Metrics != nil {
		p.Metrics.ReplicaUnconfirmed()
	}
	if p.lagging.CompareAndSwap(false, true) {
		p.logger().Warn("redis replicas do not confirm tips in time: tips are kept in the spool too, until they do",
			"tip", e.TipID, "agency", e.Agency, "err", cause)
	}
	if err := p.held().Append(e); err != nil {
		// Only the master holds it: a failover could lose it, so the
		// reporter is not told it arrived.
		return fmt.Errorf("%w: the replicas did not confirm tip %s and the spool cannot take it: %w", queue.ErrUnavailable, e.TipID, err)
	}
	return nil
}

// confirmed notes a publish the replicas (if any) confirmed.
func (p *Publisher) confirmed() {
	if p.lagging.CompareAndSwap(true, false) {
		p.logger().Info("redis replicas confirm tips again")
	}
}

// BeginDedupe marks a provider message in progress. If Redis does not
// answer, it reports the message as new: see the Publisher doc.
func (p *Publisher) BeginDedupe(ctx context.Context, pseudonym string) (queue.Seen, error) {
	if p.isDown() {
		return queue.Seen{}, nil
	}
	var seen queue.Seen
	err := p.call(ctx, metrics.RedisDedupe, func(ctx context.Context) error {
		var err error
		seen, err = p.Primary.BeginDedupe(ctx, pseudonym)
		return err
	})
	if err != nil && unavailable(err) {
		p.markDown(err)
		return queue.Seen{}, nil
	}
	return seen, err
}

// FinishDedupe records that the message is queued; while down it does
// nothing (the mark in progress, if any, expires on its own).
func (p *Publisher) FinishDedupe(ctx context.Context, pseudonym, caseRef string, ttl time.Duration) error {
	if p.isDown() {
		return nil
	}
	return p.call(ctx, metrics.RedisDedupe, func(ctx context.Context) error {
		return p.Primary.FinishDedupe(ctx, pseudonym, caseRef, ttl)
	})
}

// AbortDedupe forgets a failed intake; while down it does nothing.
func (p *Publisher) AbortDedupe(ctx context.Context, pseudonym string) error {
	if p.isDown() {
		return nil
	}
	return p.call(ctx, metrics.RedisDedupe, func(ctx context.Context) error {
		return p.Primary.AbortDedupe(ctx, pseudonym)
	})
}

func (p *Publisher) ping(ctx context.Context) error {
	return p.call(ctx, metrics.RedisPing, p.Primary.Ping)
}

// Ready reports whether a tip could be made durable now and will reach the
// officers: the spool has room, or Redis answers; and the spool is not stuck
// (Redis refusing the gateway's writes for good, see StuckError). It is what
// /readyz asks.
func (p *Publisher) Ready(ctx context.Context) error {
	if se := p.stuck.err.Load(); se != nil {
		return se
	}
	if p.Spool.CanTake() {
		return nil
	}
	if err := p.ping(ctx); err != nil {
		return fmt.Errorf("spool full and %w", err)
	}
	return nil
}

// Run moves spooled tips to the primary whenever it answers, until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	interval := p.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	p.isDown()
	periodic.Run(ctx, interval, p.drainOnce)
}

// Flush drains what it can before ctx ends (at shutdown) and returns how
// many tips are left in the spool (held ones included).
func (p *Publisher) Flush(ctx context.Context) int64 {
	p.drainOnce(ctx)
	n := p.Spool.Stats().Records
	if p.Held != nil {
		n += p.Held.Stats().Records
	}
	return n
}

func (p *Publisher) drainOnce(ctx context.Context) {
	p.drainSpool(ctx)
	p.drainHeld(ctx)
}

// drainPublish hands a spooled tip to Redis; one the replicas do not confirm
// moves to Held, since it is in Redis now and the tips behind it need not
// wait for it.
func (p *Publisher) drainPublish(ctx context.Context, e queue.Entry) error {
	err := p.publishNotingStuck(ctx, e)
	switch {
	case err == nil:
		p.confirmed()
	case errors.Is(err, queue.ErrNotReplicated) && p.Held != nil:
		return p.hold(e, err)
	}
	return err
}

// drainHeld publishes the held tips again and removes those the replicas
// confirm. It waits while Redis is known to be down: the spool goes first.
func (p *Publisher) drainHeld(ctx context.Context) {
	if p.Held == nil || p.Held.Empty() || ctx.Err() != nil || p.isDown() {
		return
	}
	n, err := p.Held.Drain(ctx, func(ctx context.Context, e queue.Entry) error {
		err := p.publishPrimary(ctx, e)
		if err == nil {
			p.confirmed()
		}
		return err
	})
	if n > 0 {
		p.logger().Info("spool: held tips confirmed by redis and its replicas", "tips", n)
	}
	if err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) && !errors.Is(err, queue.ErrNotReplicated) {
		p.logger().Warn("spool: held tips not confirmed", "err", err)
	}
}

func (p *Publisher) drainSpool(ctx context.Context) {
	if p.Spool.Empty() {
		p.notDrainStuck()
		if p.isDown() && p.ping(ctx) == nil {
			p.markUp()
		}
		return
	}
	if ctx.Err() != nil || p.ping(ctx) != nil {
		return
	}
	n, err := p.Spool.Drain(ctx, p.drainEntry)
	if n > 0 {
		p.logger().Info("spool: tips handed to redis", "tips", n)
	}
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, ErrClosed) && !errors.Is(err, queue.ErrNotReplicated) && Stuck(err) == nil {
			p.logger().Warn("spool: drain interrupted", "err", err)
		}
		return
	}
	if p.Spool.Empty() {
		// Nothing waits (drained, or only records set aside): not stuck.
		p.notDrainStuck()
		p.markUp()
	}
}

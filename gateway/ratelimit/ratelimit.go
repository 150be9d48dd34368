// Package ratelimit counts events per key with github.com/ulule/limiter on
// Redis, shared by every gateway, and falls back to an in-memory limiter
// when Redis fails instead of panicking or refusing: a hotline that is
// under attack and has lost Redis must still take tips. Keys are always
// pseudonyms, never a number or an address.
package ratelimit

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hotline-org/hotline/gateway/breaker"
	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/common"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	sredis "github.com/ulule/limiter/v3/drivers/store/redis"
)

// timeout bounds one limiter call: a slow Redis must not slow intake.
const timeout = 500 * time.Millisecond

// errDown stands for the answer of Redis while it is known to be down.
var errDown = errors.New("redis recently failed")

// Limiter allows Limit events per Period per key.
type Limiter struct {
	rdb      redis.UniversalClient
	rate     limiter.Rate
	opt      limiter.StoreOptions
	fallback *limiter.Limiter
	calls    breaker.Calls

	mu     sync.Mutex
	shared *limiter.Limiter // made on first use: Redis may be down at start

	// FailedOpen is called each time Redis failed and the in-memory
	// limiter answered instead (for a metric).
	FailedOpen func()
}

// New returns a limiter named name (a part of the key prefix). It makes no
// call to Redis.
func New(rdb redis.UniversalClient, prefix, name string, limit int64, period time.Duration) *Limiter {
	rate := limiter.Rate{Period: period, Limit: limit}
	opt := limiter.StoreOptions{Prefix: prefix + ":rate:" + name, CleanUpInterval: time.Minute}
	return &Limiter{rdb: rdb, rate: rate, opt: opt,
		fallback: limiter.New(memory.NewStoreWithOptions(opt), rate),
		calls:    breaker.Calls{Timeout: timeout, Unavailable: errDown, Breaker: &breaker.Breaker{Cooldown: 5 * time.Second}}}
}

func (l *Limiter) sharedLimiter() (*limiter.Limiter, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shared != nil {
		return l.shared, nil
	}
	s, err := sredis.NewStoreWithOptions(l.rdb, l.opt)
	if err != nil {
		return nil, err
	}
	l.shared = limiter.New(s, l.rate)
	return l.shared, nil
}

// Allow counts one event for key and reports whether it is within the limit.
func (l *Limiter) Allow(ctx context.Context, key string) bool {
	if l.rdb != nil {
		err := errDown
		var c limiter.Context
		if !l.calls.Open() {
			var shared *limiter.Limiter
			if shared, err = l.sharedLimiter(); err == nil {
				cctx, cancel := l.calls.Context(ctx)
				c, err = shared.Increment(cctx, key, 1)
				cancel()
			}
			l.calls.Record(err)
		}
		if err == nil {
			return !c.Reached
		}
		if l.FailedOpen != nil {
			l.FailedOpen()
		}
	}
	c, err := l.fallback.Increment(ctx, key, 1)
	return err != nil || !c.Reached
}

// Over reports whether key is past its limit now, without counting an
// event. When it cannot tell (Redis failing, or recently failed), it
// answers yes: callers use it to decide whether to stay silent, and
// silence is the safe answer. Without Redis it asks the in-memory limiter.
func (l *Limiter) Over(ctx context.Context, key string) bool {
	if l.rdb != nil {
		if l.calls.Open() {
			return true
		}
		shared, err := l.sharedLimiter()
		if err == nil {
			cctx, cancel := l.calls.Context(ctx)
			var c limiter.Context
			c, err = shared.Peek(cctx, key)
			cancel()
			l.calls.Record(err)
			if err == nil {
				return c.Reached
			}
		}
		return true
	}
	c, err := l.fallback.Peek(ctx, key)
	return err != nil || c.Reached
}

// Period is the limiter's window.
func (l *Limiter) Period() time.Duration { return l.rate.Period }

// Read is a count read beforehand (the caller keeps it, as the sender's
// record does): Count is the events of the current window, 0 for none,
// and Failed says the read failed.
type Read struct {
	Count  int64
	Failed bool
}

// AllowRead counts one event for key against the count r read beforehand
// and reports whether it is within the limit; the caller writes the new
// count itself. The decision is ulule/limiter's, over a store that holds
// the count read (snapshot). When the read failed, or the limiter has no
// Redis, the in-memory limiter answers, as Allow does.
func (l *Limiter) AllowRead(ctx context.Context, key string, r Read) bool {
	if l.rdb == nil || r.Failed {
		if l.rdb != nil && l.FailedOpen != nil {
			l.FailedOpen()
		}
		c, err := l.fallback.Increment(ctx, key, 1)
		return err != nil || !c.Reached
	}
	c, err := limiter.New(&snapshot{count: r.Count}, l.rate).Increment(ctx, key, 1)
	return err != nil || !c.Reached
}

// OverRead reports whether the count r read beforehand is past the limit,
// without counting (as Over). When the read failed it answers yes.
func (l *Limiter) OverRead(ctx context.Context, key string, r Read) bool {
	if l.rdb == nil {
		return l.Over(ctx, key)
	}
	if r.Failed {
		return true
	}
	c, err := limiter.New(&snapshot{count: r.Count}, l.rate).Peek(ctx, key)
	return err != nil || c.Reached
}

// snapshot is a limiter.Store over one key's count read beforehand: it
// answers as ulule/limiter's Redis store would have, had its script run
// at the moment of the read.
type snapshot struct{ count int64 }

func (s *snapshot) state(rate limiter.Rate, count int64) limiter.Context {
	now := time.Now()
	return common.GetContextFromState(now, rate, now.Add(rate.Period), count)
}

func (s *snapshot) Get(_ context.Context, _ string, rate limiter.Rate) (limiter.Context, error) {
	s.count++
	return s.state(rate, s.count), nil
}

func (s *snapshot) Peek(_ context.Context, _ string, rate limiter.Rate) (limiter.Context, error) {
	return s.state(rate, s.count), nil
}

func (s *snapshot) Reset(_ context.Context, _ string, rate limiter.Rate) (limiter.Context, error) {
	s.count = 0
	return s.state(rate, 0), nil
}

func (s *snapshot) Increment(_ context.Context, _ string, n int64, rate limiter.Rate) (limiter.Context, error) {
	s.count += n
	return s.state(rate, s.count), nil
}

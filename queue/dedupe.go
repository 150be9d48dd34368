package queue

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// pendingTTL bounds how long an intake in progress blocks a retry of the same
// message: if the gateway dies mid-intake, Twilio's next attempt is let
// through after it.
const pendingTTL = 2 * time.Minute

// Seen is what deduplication knows of a provider message.
type Seen struct {
	Done bool   // already queued
	Case string // its case reference, to answer the retry the same way
}

// BeginDedupe marks a provider message (by its pseudonym) as in progress. It
// returns Seen.Done for a message already queued, ErrInFlight for one that
// another request is queueing right now, and nil for a new one.
func (q *Queue) BeginDedupe(ctx context.Context, pseudonym string) (Seen, error) {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	key := q.dedupeKey(pseudonym)
	ok, err := q.rdb.SetNX(ctx, key, "pending", pendingTTL).Result()
	if err != nil {
		return Seen{}, q.calls.Fail("", err)
	}
	if ok {
		return Seen{}, nil
	}
	v, err := q.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return q.BeginDedupe(ctx, pseudonym) // expired in between
	}
	return q.seen(v, err)
}

// seen reads the value of a dedupe key that exists.
func (q *Queue) seen(v string, err error) (Seen, error) {
	if err != nil {
		return Seen{}, q.calls.Fail("", err)
	}
	return ParseSeen(v)
}

// ParseSeen reads the value of a dedupe mark: Seen.Done for a message
// already queued, ErrInFlight for one in progress.
func ParseSeen(v string) (Seen, error) {
	switch {
	case strings.HasPrefix(v, "done "):
		return Seen{Done: true, Case: strings.TrimPrefix(v, "done ")}, nil
	default:
		return Seen{}, ErrInFlight
	}
}

// FinishDedupe records that the message is queued, for ttl.
func (q *Queue) FinishDedupe(ctx context.Context, pseudonym, caseRef string, ttl time.Duration) error {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	if err := q.rdb.Set(ctx, q.dedupeKey(pseudonym), "done "+caseRef, ttl).Err(); err != nil {
		return q.calls.Fail("", err)
	}
	return nil
}

// AbortDedupe forgets an intake that failed, so that a retry is processed.
func (q *Queue) AbortDedupe(ctx context.Context, pseudonym string) error {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	if err := q.rdb.Del(ctx, q.dedupeKey(pseudonym)).Err(); err != nil {
		return q.calls.Fail("", err)
	}
	return nil
}

// PeekDedupe reports what BeginDedupe would, without marking the message:
// Seen.Done for a message already queued, ErrInFlight for one in progress.
func (q *Queue) PeekDedupe(ctx context.Context, pseudonym string) (Seen, error) {
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	v, err := q.rdb.Get(ctx, q.dedupeKey(pseudonym)).Result()
	if errors.Is(err, redis.Nil) {
		return Seen{}, nil
	}
	return q.seen(v, err)
}

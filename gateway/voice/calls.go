package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/redis/go-redis/v9"
)

// domainCall keys call records: a CallSid leads to the caller at Twilio,
// so it is never a Redis key in clear.
const domainCall = "voice_call"

// Errors of the call records.
var (
	// ErrNoCall: no record of the call (never made, expired, or already
	// queued as a tip).
	ErrNoCall = errors.New("no record of this call")
	// ErrCallsUnavailable wraps Redis failures.
	ErrCallsUnavailable = errors.New("call records unavailable")
	// ErrNoKey: without the gateway's reply key a call record cannot be
	// sealed, so none is kept.
	ErrNoKey = errors.New("no reply key: call records cannot be sealed")
)

// CallRecord is what the first webhook of a call knows and the recording
// callback does not: who called which number, and what they chose. It is
// kept sealed to the gateway's reply key, under a pseudonym of the CallSid,
// for as long as a recording of the call can arrive.
type CallRecord struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Language string `json:"lang,omitempty"`
	Urgent   bool   `json:"urgent,omitempty"`
	// Limited: the caller was over channel.limits.caller_per_hour.
	Limited bool      `json:"limited,omitempty"`
	At      time.Time `json:"at"`
}

// LogValue keeps a call record out of logs.
func (CallRecord) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Calls keeps call records in Redis, and a copy of each (sealed too) in
// the gateway's memory for when Redis does not answer: a call that began
// before an outage and ends during it still carries its caller's number,
// when the same gateway takes both webhooks.
type Calls struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
	key     *seal.ReplyKey
	keyer   *pseudonym.Keyer

	mu  sync.Mutex
	mem map[string]memRecord // by key
}

type memRecord struct {
	sealed []byte
	until  time.Time
}

// maxMemRecords bounds the copies in memory (a few hundred bytes each).
const maxMemRecords = 10000

func (c *Calls) remember(k string, sealed []byte, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if len(c.mem) >= maxMemRecords {
		for mk, r := range c.mem {
			if now.After(r.until) {
				delete(c.mem, mk)
			}
		}
		if len(c.mem) >= maxMemRecords {
			return
		}
	}
	until := now.Add(ttl)
	if r, ok := c.mem[k]; ok && ttl == 0 {
		until = r.until
	}
	c.mem[k] = memRecord{sealed: sealed, until: until}
}

func (c *Calls) recall(k string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.mem[k]
	if !ok || time.Now().After(r.until) {
		delete(c.mem, k)
		return nil, false
	}
	return r.sealed, true
}

func (c *Calls) forget(k string) {
	c.mu.Lock()
	delete(c.mem, k)
	c.mu.Unlock()
}

// NewCalls returns the call records on rdb under prefix. key may be nil:
// then nothing is kept, and a call's tip does not carry the caller's
// number.
func NewCalls(rdb redis.UniversalClient, prefix string, timeout time.Duration, key *seal.ReplyKey, keyer *pseudonym.Keyer) *Calls {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	return &Calls{rdb: rdb, prefix: prefix, timeout: timeout, key: key, keyer: keyer, mem: map[string]memRecord{}}
}

// placeCall is where a call's sealed record belongs (seal.ReplyKey): one
// call's record moved to another call does not open.
func placeCall(callSID string) string { return "call " + callSID }

func (c *Calls) keyOf(callSID string) string {
	return c.prefix + ":voice:call:" + c.keyer.Of(domainCall, callSID)
}

// Save stores rec for the call for ttl, replacing an earlier record.
func (c *Calls) Save(ctx context.Context, callSID string, rec CallRecord, ttl time.Duration) error {
	if c.key == nil {
		return ErrNoKey
	}
	sealed, err := c.key.SealJSON(placeCall(callSID), rec)
	if err != nil {
		return fmt.Errorf("failed to seal call record: %w", err)
	}
	k := c.keyOf(callSID)
	c.remember(k, sealed, ttl)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.Set(ctx, k, sealed, ttl).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrCallsUnavailable, err)
	}
	return nil
}

// MarkUrgent records the caller's urgent choice on the call's record,
// keeping its expiry.
func (c *Calls) MarkUrgent(ctx context.Context, callSID string) error {
	rec, err := c.Get(ctx, callSID)
	if err != nil {
		return err
	}
	rec.Urgent = true
	sealed, err := c.key.SealJSON(placeCall(callSID), rec)
	if err != nil {
		return fmt.Errorf("failed to seal call record: %w", err)
	}
	k := c.keyOf(callSID)
	c.remember(k, sealed, 0)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.SetArgs(ctx, k, sealed, redis.SetArgs{KeepTTL: true, Mode: "XX"}).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("%w: %w", ErrCallsUnavailable, err)
	}
	return nil
}

// Get returns the call's record: ErrNoCall when there is none or it cannot
// be opened (the reply key changed), ErrCallsUnavailable when Redis does not
// answer and this gateway has no copy.
func (c *Calls) Get(ctx context.Context, callSID string) (CallRecord, error) {
	if c.key == nil {
		return CallRecord{}, ErrNoKey
	}
	k := c.keyOf(callSID)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	b, err := c.rdb.Get(ctx, k).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return CallRecord{}, ErrNoCall
	case err != nil:
		mem, ok := c.recall(k)
		if !ok {
			return CallRecord{}, fmt.Errorf("%w: %w", ErrCallsUnavailable, err)
		}
		b = mem
	}
	var rec CallRecord
	if err := c.key.OpenJSON(placeCall(callSID), b, &rec); err != nil {
		return CallRecord{}, ErrNoCall
	}
	return rec, nil
}

// Delete removes the call's record once its tip is queued.
func (c *Calls) Delete(ctx context.Context, callSID string) error {
	k := c.keyOf(callSID)
	c.forget(k)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.Del(ctx, k).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrCallsUnavailable, err)
	}
	return nil
}

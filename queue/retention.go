package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// purgeScript deletes a closed case's item and everything kept with it,
// every message appended to it included (KEYS[10]), and records the
// deletion; the audit chain keeps the item's tip id only.
var purgeScript = redis.NewScript(auditPrelude + `
if redis.call('HEXISTS', KEYS[5], ARGV[12]) == 0 then return 'NOTCLOSED' end
local n = tonumber(redis.call('HGET', KEYS[10], ARGV[12] .. '#') or '0') or 0
for k = 1, n do
  local f = ARGV[12] .. '#' .. k
  local t = redis.call('HGET', KEYS[10], f)
  if t then
    redis.call('HDEL', KEYS[10], f, t)
    redis.call('HDEL', KEYS[8], t)
  end
end
redis.call('HDEL', KEYS[10], ARGV[12] .. '#', ARGV[12] .. '@', ARGV[12] .. '!')
if ARGV[11] ~= '' then redis.call('XDEL', KEYS[3], ARGV[11]) end
redis.call('HDEL', KEYS[4], ARGV[12])
redis.call('HDEL', KEYS[5], ARGV[12])
redis.call('DEL', KEYS[6])
redis.call('HDEL', KEYS[7], ARGV[12])
redis.call('HDEL', KEYS[8], ARGV[12])
redis.call('SREM', KEYS[9], ARGV[12])
audit()
return 'OK'
`)

// PurgeHook deletes per-tip data kept outside the queue (reply handles,
// follow-up messages) when a tip is purged: crypto-shredding what could
// still reach the reporter.
type PurgeHook func(ctx context.Context, agency, tipID, caseRef string) error

// Purge deletes the agency's tips closed before cutoff, with their notes,
// and runs hooks for each. It returns how many tips were deleted.
func (q *Queue) Purge(ctx context.Context, agency string, cutoff time.Time, hooks ...PurgeHook) (int, error) {
	var n int
	var cursor uint64
	for {
		cctx, cancel := q.calls.Context(ctx)
		kv, next, err := q.rdb.HScan(cctx, q.closed(agency), cursor, "*", 200).Result()
		cancel()
		if err != nil {
			return n, q.calls.Fail("", err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			tipID, c := kv[i], parseClosure(kv[i+1])
			if c == nil || !c.At.Before(cutoff) {
				continue
			}
			if err := q.purgeOne(ctx, agency, tipID, hooks); err != nil {
				return n, err
			}
			n++
		}
		if next == 0 {
			return n, nil
		}
		cursor = next
	}
}

func (q *Queue) purgeOne(ctx context.Context, agency, tipID string, hooks []PurgeHook) error {
	caseRef := ""
	if l, err := q.Meta(ctx, agency, tipID); err == nil {
		caseRef = l.Case
	}
	for _, h := range hooks {
		if err := h(ctx, agency, tipID, caseRef); err != nil {
			return fmt.Errorf("purge hook for tip %s: %w", tipID, err)
		}
	}
	ctx, cancel := q.calls.Context(ctx)
	defer cancel()
	stream, id, err := q.locate(ctx, agency, tipID)
	if err != nil && err != ErrNotFound {
		return err
	}
	if stream == "" {
		stream = q.stream(agency, Normal)
	}
	res, err := q.runAudited(ctx, purgeScript, agency, AuditRetention, "", tipID, "",
		[]string{stream, q.index(agency), q.closed(agency), q.notes(agency, tipID), q.escalated(agency),
			q.meta(agency), q.openSet(agency), q.msgs(agency)}, id, tipID)
	if err != nil {
		return err
	}
	if res != "OK" {
		return ErrNotClosed
	}
	return nil
}

// Package scrub is the queue of jobs that erase a reporter's messages at
// Twilio (the body, then each attachment) once their tip is queued.
//
// It protects the reporter against whoever can read Redis: a message SID
// leads to the message, and so to the number and text, at Twilio until it
// is redacted, so every job is sealed to the gateway's own reply key and
// queued under a random id or the tip's id. A claimed job is leased, not
// taken: a crashed worker, or a finish that did not reach Redis, delays a
// job and never loses it.
//
// A job lives inside its schedule: the sorted set's member is the job's id,
// a space and the sealed job. Jobs queued by earlier releases (the member a
// bare id, the sealed job under a key of its own) are still claimed,
// rescheduled and finished.
//
// A job queued with its tip costs no command of its own when the tip
// makes a stream entry: the entry carries it (field "scrub": its due time
// in ms, a space, the sealed job), and Move puts it into the schedule. The
// entry is as durable as the tip, so the job is: a tip appended to its
// case's item, which makes no entry, queues its job with one ZADD.
package scrub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/breaker"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
)

// Lease is how long a claimed job is left to its worker before another
// gateway may take it.
const Lease = 5 * time.Minute

// ErrUnavailable wraps Redis failures.
var ErrUnavailable = errors.New("scrub queue unavailable")

// ErrNoKey is returned when a job is queued without a reply key: it could
// not be sealed.
var ErrNoKey = errors.New("no reply key: scrub jobs cannot be sealed")

// Claimed is a job taken by Claim.
type Claimed struct {
	ID  string
	Job twilioapi.ScrubJob
	// Started is when the job was first queued, for giving up.
	Started time.Time
	// member is the job's member of the schedule, to take it out.
	member string
}

// record is what is sealed under a job's id.
type record struct {
	Job     twilioapi.ScrubJob `json:"job"`
	Started time.Time          `json:"started"`
}

// Queue is the scrub queue in Redis.
type Queue struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
	key     *seal.ReplyKey // nil: no jobs are queued
	calls   *breaker.Calls
	// src and agencies: where tips' entries carry jobs (FromEntries).
	src      Source
	agencies []string
}

// Field is the field of a tip's stream entry that carries its scrub job.
const Field = "scrub"

// Source is the queue whose tips' entries carry jobs (queue.Queue).
type Source interface {
	Carried(ctx context.Context, agency, field string, n int) (*queue.Carried, error)
	Advance(ctx context.Context, c *queue.Carried) error
}

// FromEntries lets the agencies' stream entries carry the jobs queued
// with their tips (BatchOps), which Move then puts into the schedule.
// Every gateway that writes batches must move them: call it before
// serving, and run Move (ScrubDue does) as long as it serves.
func (q *Queue) FromEntries(src Source, agencies []string) {
	q.src, q.agencies = src, slices.Clone(agencies)
}

// New returns a queue. key may be nil, and then nothing is queued. down is
// the breaker the queue shares with the caller's other auxiliary state
// (nil: one of its own): while Redis is known to be down, calls fail fast.
func New(rdb redis.UniversalClient, prefix string, timeout time.Duration, key *seal.ReplyKey, down *breaker.Breaker) *Queue {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if down == nil {
		down = &breaker.Breaker{Cooldown: 5 * time.Second}
	}
	return &Queue{rdb: rdb, prefix: prefix, timeout: timeout, key: key,
		calls: &breaker.Calls{Timeout: timeout, Unavailable: ErrUnavailable, Breaker: down}}
}

func (q *Queue) dueKey() string          { return q.prefix + ":{scrub}:due" }
func (q *Queue) jobKey(id string) string { return q.prefix + ":{scrub}:job:" + id }

// member is a job's member of the schedule: its id, a space, the sealed
// job (ids have no space: tip ids and hex).
func member(id string, sealed []byte) string { return id + " " + string(sealed) }

func (q *Queue) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return q.calls.Context(ctx)
}

// fail records a Redis failure and wraps it.
func (q *Queue) fail(err error) error { return q.calls.Fail("", err) }

// Enqueue schedules erasing a message at Twilio under a new random id.
func (q *Queue) Enqueue(ctx context.Context, job twilioapi.ScrubJob, due time.Time) error {
	b := make([]byte, 12)
	rand.Read(b)
	sealed, err := q.seal(record{Job: job, Started: time.Now().UTC()})
	if err != nil {
		return err
	}
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	z := redis.Z{Score: float64(due.UnixMilli()), Member: member(hex.EncodeToString(b), sealed)}
	if err := q.rdb.ZAdd(ctx, q.dueKey(), z).Err(); err != nil {
		return q.fail(err)
	}
	return nil
}

// EnqueueOnce is Enqueue under a job id of the caller's (the tip id):
// queued twice, by the channel and by the spool's drain, the job exists
// once and a job already under way is left as it is.
func (q *Queue) EnqueueOnce(ctx context.Context, id string, job twilioapi.ScrubJob, due time.Time) error {
	sealed, err := q.seal(record{Job: job, Started: time.Now().UTC()})
	if err != nil {
		return err
	}
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	err = enqueueOnceScript.Run(ctx, q.rdb, []string{q.dueKey(), q.jobKey(id)}, id, globEscape(id)+" *",
		due.UnixMilli(), member(id, sealed)).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return q.fail(err)
	}
	return nil
}

// enqueueOnceScript adds a job unless one with its id is queued, in either
// form (KEYS[2]: the key of an earlier release's job). It looks through
// the schedule, which holds the jobs not done yet: it runs when a spool
// drains, not per message (the channel's batch queues a job with its tip,
// OnceOps, which runs only for a tip not queued before).
var enqueueOnceScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local cursor = '0'
repeat
  local r = redis.call('ZSCAN', KEYS[1], cursor, 'MATCH', ARGV[2], 'COUNT', 1000)
  if #r[2] > 0 then return 0 end
  cursor = r[1]
until cursor == '0'
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
return 1
`)

// globEscape escapes what MATCH reads as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// BatchOps queues the job of tip id with its tip (queue.Batch), as
// EnqueueOnce does: the batch writes it only for a tip not queued before,
// so the job is queued once. With FromEntries, the tip's entry carries it,
// and a ZADD queues it only if the tip makes no entry; without, it is
// that ZADD.
func (q *Queue) BatchOps(b *queue.Batch, id string, job twilioapi.ScrubJob, due time.Time) error {
	sealed, err := q.seal(record{Job: job, Started: time.Now().UTC()})
	if err != nil {
		return err
	}
	op := queue.Op{Cmd: []any{"zadd", q.dueKey(), "nx", due.UnixMilli(), member(id, sealed)}}
	if q.src != nil {
		b.Carry = append(b.Carry, Field, strconv.FormatInt(due.UnixMilli(), 10)+" "+string(sealed))
		op.UnlessEntry = true
	}
	b.Ops = append(b.Ops, op)
	return nil
}

// movePage is how many entries of each stream Move reads at a time (a
// page of entries holding attachments is cut shorter by the queue): one
// script that holds Redis about 9 ms for 512 text tips (17 µs each,
// measured), and costs about 0.03 commands a tip; 1024 took 18 ms. And
// moveFor how long Move goes on with one agency in one call: a backlog (a
// flood, the first run after an upgrade) waits for the next.
const (
	movePage = 512
	moveFor  = 2 * time.Second
)

// Move puts the jobs that the agencies' stream entries carry into the
// schedule (FromEntries), and reports how many it found. A job is moved
// before its entry's cursor moves past it: a failure half way moves it
// again on the next call, and the schedule keeps it once (ZADD NX of the
// same member). An entry moved to the urgent stream carries its job
// along, which may then be put back into the schedule after it ran, and
// runs again: a message Twilio no longer holds counts as erased.
func (q *Queue) Move(ctx context.Context) (int, error) {
	if q.src == nil || q.key == nil {
		return 0, nil
	}
	n := 0
	var errs []error
	for _, a := range q.agencies {
		m, err := q.moveAgency(ctx, a, moveFor)
		n += m
		if err != nil {
			errs = append(errs, fmt.Errorf("agency %s: %w", a, err))
		}
	}
	return n, errors.Join(errs...)
}

// MoveAgency is Move for one agency, through every entry added so far
// however long it takes (until ctx ends): before its tips are purged,
// so that no job goes with its entry.
func (q *Queue) MoveAgency(ctx context.Context, agency string) error {
	if q.src == nil || q.key == nil {
		return nil
	}
	if _, err := q.moveAgency(ctx, agency, 0); err != nil {
		return err
	}
	// Stopped before the end: the purge must not go on.
	return ctx.Err()
}

// moveAgency moves the agency's jobs for up to budget (0: until its
// entries are all read).
func (q *Queue) moveAgency(ctx context.Context, agency string, budget time.Duration) (int, error) {
	n := 0
	for start := time.Now(); (budget == 0 || time.Since(start) < budget) && ctx.Err() == nil; {
		page, err := q.src.Carried(ctx, agency, Field, movePage)
		if err != nil {
			return n, err
		}
		var zs []redis.Z
		for _, it := range page.Items {
			due, sealed, ok := strings.Cut(it.Value, " ")
			ms, err := strconv.ParseInt(due, 10, 64)
			if !ok || err != nil || it.TipID == "" || strings.Contains(it.TipID, " ") {
				// Not a job this package wrote: nothing to erase with it.
				continue
			}
			zs = append(zs, redis.Z{Score: float64(ms), Member: member(it.TipID, []byte(sealed))})
		}
		if len(zs) > 0 {
			cctx, cancel := q.ctx(ctx)
			err := q.rdb.ZAddNX(cctx, q.dueKey(), zs...).Err()
			cancel()
			if err != nil {
				return n, q.fail(err)
			}
		}
		n += len(zs)
		if err := q.src.Advance(ctx, page); err != nil {
			return n, err
		}
		if !page.More() {
			break
		}
	}
	return n, nil
}

// Reschedule stores what is left of a claimed job and when to try again.
func (q *Queue) Reschedule(ctx context.Context, c Claimed, due time.Time) error {
	sealed, err := q.seal(record{Job: c.Job, Started: c.Started})
	if err != nil {
		return err
	}
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	_, err = q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		q.remove(ctx, p, c)
		p.ZAdd(ctx, q.dueKey(), redis.Z{Score: float64(due.UnixMilli()), Member: member(c.ID, sealed)})
		return nil
	})
	if err != nil {
		return q.fail(err)
	}
	return nil
}

// remove takes a claimed job out of the schedule, in either form.
func (q *Queue) remove(ctx context.Context, p redis.Pipeliner, c Claimed) {
	m := c.member
	if m == "" {
		m = c.ID
	}
	p.ZRem(ctx, q.dueKey(), m)
	p.Del(ctx, q.jobKey(c.ID))
}

// placeScrub is where a scrub job's sealed record belongs (seal.ReplyKey):
// with the scrub jobs, wherever they are carried.
const placeScrub = "scrub"

func (q *Queue) seal(rec record) ([]byte, error) {
	if q.key == nil {
		return nil, ErrNoKey
	}
	sealed, err := q.key.SealJSON(placeScrub, rec)
	if err != nil {
		return nil, fmt.Errorf("failed to seal scrub job: %w", err)
	}
	return sealed, nil
}

// claimScript takes up to ARGV[2] due jobs, pushing each one's due time a
// lease ahead so that no other gateway takes it meanwhile. It returns each
// job's member and sealed job; a member with no space is an earlier
// release's job, sealed under its own key (ARGV[4] and the id).
var claimScript = redis.NewScript(`
local ms = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, m in ipairs(ms) do
  local sp = string.find(m, ' ', 1, true)
  local v
  if sp then v = string.sub(m, sp + 1) else v = redis.call('GET', ARGV[4] .. m) end
  if v then
    redis.call('ZADD', KEYS[1], ARGV[3], m)
    table.insert(out, m)
    table.insert(out, v)
  else
    redis.call('ZREM', KEYS[1], m)
  end
end
return out
`)

// Claim takes up to n jobs that are due, each for a Lease. A job that
// cannot be opened (sealed to another reply key) is left where it is.
func (q *Queue) Claim(ctx context.Context, now time.Time, n int) ([]Claimed, error) {
	if q.key == nil {
		return nil, nil
	}
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	res, err := claimScript.Run(ctx, q.rdb, []string{q.dueKey()},
		strconv.FormatInt(now.UnixMilli(), 10), n, strconv.FormatInt(now.Add(Lease).UnixMilli(), 10),
		q.jobKey("")).Slice()
	if err != nil {
		return nil, q.fail(err)
	}
	var out []Claimed
	unreadable := 0
	for i := 0; i+1 < len(res); i += 2 {
		m, _ := res[i].(string)
		sealed, _ := res[i+1].(string)
		var rec record
		if q.key.OpenJSON(placeScrub, []byte(sealed), &rec) != nil {
			unreadable++
			continue
		}
		id, _, embedded := strings.Cut(m, " ")
		c := Claimed{ID: id, Job: rec.Job, Started: rec.Started}
		if embedded {
			c.member = m
		}
		out = append(out, c)
	}
	if unreadable > 0 {
		return out, fmt.Errorf("%w: %d", ErrUnreadable, unreadable)
	}
	return out, nil
}

// ErrUnreadable comes with the jobs Claim could open when some due jobs
// cannot be opened with the reply key (it was changed, or a record is
// damaged). Those stay queued and come back each lease, until the key that
// sealed them is configured again: the provider still holds their messages.
var ErrUnreadable = errors.New("scrub jobs the reply key cannot open")

// Finish removes a job that is done or given up. If it fails, the job
// comes back after its lease.
func (q *Queue) Finish(ctx context.Context, c Claimed) error {
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		q.remove(ctx, p, c)
		return nil
	})
	if err != nil {
		return q.fail(err)
	}
	return nil
}

// Pending counts the jobs not done yet, those that entries carry
// included: it moves them into the schedule first (Move).
func (q *Queue) Pending(ctx context.Context) (int64, error) {
	if _, err := q.Move(ctx); err != nil {
		return 0, err
	}
	ctx, cancel := q.ctx(ctx)
	defer cancel()
	n, err := q.rdb.ZCard(ctx, q.dueKey()).Result()
	if err != nil {
		return 0, q.fail(err)
	}
	return n, nil
}

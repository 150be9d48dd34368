package conversation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"filippo.io/age"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/redis/go-redis/v9"
)

// scrubLease is how long a claimed scrub job is left to its worker before
// another gateway may take it: a crashed worker delays a job, never loses it.
const scrubLease = 5 * time.Minute

func (s *Store) scrubDue() string          { return s.prefix + ":{scrub}:due" }
func (s *Store) scrubJob(id string) string { return s.prefix + ":{scrub}:job:" + id }

// ScheduledScrub is a claimed job.
type ScheduledScrub struct {
	ID  string
	Job twilioapi.ScrubJob
	// Started is when the job was first queued, for giving up.
	Started time.Time
}

type scrubRecord struct {
	Job     twilioapi.ScrubJob `json:"job"`
	Started time.Time          `json:"started"`
}

// EnqueueScrub schedules erasing a message at Twilio. The job is sealed to
// the reply key: a message SID leads to the message at Twilio until it is
// redacted.
func (s *Store) EnqueueScrub(ctx context.Context, job twilioapi.ScrubJob, due time.Time) error {
	if s.key == nil {
		return errors.New("no reply key: scrub jobs cannot be sealed")
	}
	b := make([]byte, 12)
	rand.Read(b)
	return s.saveScrub(ctx, hex.EncodeToString(b), scrubRecord{Job: job, Started: time.Now().UTC()}, due, false)
}

// EnqueueScrubOnce is EnqueueScrub under a job id of the caller's (the
// tip id): queued twice, by the channel and by the spool's drain, the job
// exists once and a job already under way is left as it is.
func (s *Store) EnqueueScrubOnce(ctx context.Context, id string, job twilioapi.ScrubJob, due time.Time) error {
	if s.key == nil {
		return errors.New("no reply key: scrub jobs cannot be sealed")
	}
	return s.saveScrub(ctx, id, scrubRecord{Job: job, Started: time.Now().UTC()}, due, true)
}

func (s *Store) saveScrub(ctx context.Context, id string, rec scrubRecord, due time.Time, once bool) error {
	sealed, err := s.sealJSON(rec)
	if err != nil {
		return fmt.Errorf("failed to seal scrub job: %w", err)
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		z := redis.Z{Score: float64(due.UnixMilli()), Member: id}
		if once {
			p.SetNX(ctx, s.scrubJob(id), sealed, 0)
			p.ZAddNX(ctx, s.scrubDue(), z)
			return nil
		}
		p.Set(ctx, s.scrubJob(id), sealed, 0)
		p.ZAdd(ctx, s.scrubDue(), z)
		return nil
	})
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// claimScript takes up to ARGV[2] due jobs, pushing each one's due time a
// lease ahead so that no other gateway takes it meanwhile.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZADD', KEYS[1], ARGV[3], id)
  local v = redis.call('GET', ARGV[4] .. id)
  if v then
    table.insert(out, id)
    table.insert(out, v)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`)

// ClaimScrubs takes up to n jobs that are due.
func (s *Store) ClaimScrubs(ctx context.Context, now time.Time, n int) ([]ScheduledScrub, error) {
	if s.key == nil {
		return nil, nil
	}
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	res, err := claimScript.Run(ctx, s.rdb, []string{s.scrubDue()},
		strconv.FormatInt(now.UnixMilli(), 10), n, strconv.FormatInt(now.Add(scrubLease).UnixMilli(), 10),
		s.scrubJob("")).Slice()
	if err != nil {
		return nil, s.fail(err)
	}
	var out []ScheduledScrub
	for i := 0; i+1 < len(res); i += 2 {
		id, _ := res[i].(string)
		sealed, _ := res[i+1].(string)
		r, err := age.Decrypt(bytes.NewReader([]byte(sealed)), s.key)
		if err != nil {
			continue
		}
		plain, err := io.ReadAll(io.LimitReader(r, 64<<10))
		if err != nil {
			continue
		}
		var rec scrubRecord
		if json.Unmarshal(plain, &rec) == nil {
			out = append(out, ScheduledScrub{ID: id, Job: rec.Job, Started: rec.Started})
		}
	}
	return out, nil
}

// FinishScrub removes a job that is done or given up.
func (s *Store) FinishScrub(ctx context.Context, id string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, s.scrubDue(), id)
		p.Del(ctx, s.scrubJob(id))
		return nil
	})
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// RescheduleScrub stores what is left of a job and when to try again.
func (s *Store) RescheduleScrub(ctx context.Context, sc ScheduledScrub, due time.Time) error {
	return s.saveScrub(ctx, sc.ID, scrubRecord{Job: sc.Job, Started: sc.Started}, due, false)
}

// PendingScrubs counts the jobs not done yet.
func (s *Store) PendingScrubs(ctx context.Context) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	n, err := s.rdb.ZCard(ctx, s.scrubDue()).Result()
	if err != nil {
		return 0, s.fail(err)
	}
	return n, nil
}

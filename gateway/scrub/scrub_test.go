package scrub_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/scrub"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// newQueue is a queue with a new reply key on a fresh key prefix.
func newQueue(t *testing.T) (*scrub.Queue, *queuetest.Redis) {
	t.Helper()
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	r := queuetest.New(t)
	return scrub.New(r.Client, r.Prefix, time.Second, key, nil), r
}

func TestScrubJobs(t *testing.T) {
	q, r := newQueue(t)
	ctx := context.Background()
	now := time.Now()
	job := twilioapi.ScrubJob{MessageSID: "SM00000000000000000000000000000001", MediaSIDs: []string{"ME00000000000000000000000000000001"}}
	if err := q.Enqueue(ctx, job, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := q.Claim(ctx, now, 10); len(jobs) != 0 {
		t.Fatalf("claimed a job before it was due: %v", jobs)
	}
	jobs, err := q.Claim(ctx, now.Add(2*time.Minute), 10)
	if err != nil || len(jobs) != 1 || jobs[0].Job.MessageSID != job.MessageSID {
		t.Fatalf("claim = %+v, %v", jobs, err)
	}
	if again, _ := q.Claim(ctx, now.Add(2*time.Minute), 10); len(again) != 0 {
		t.Fatal("a claimed job was handed out twice within its lease")
	}
	if again, _ := q.Claim(ctx, now.Add(10*time.Minute), 10); len(again) != 1 {
		t.Fatal("a job whose worker vanished did not come back after the lease")
	}
	for _, k := range r.Keys(t) {
		if v := r.Admin.Dump(ctx, k).Val(); strings.Contains(v, "SM0000") || strings.Contains(v, "ME0000") {
			t.Fatalf("a SID is in clear in %s", k)
		}
	}
	if err := q.Finish(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	if n, _ := q.Pending(ctx); n != 0 {
		t.Fatalf("%d jobs pending after finish", n)
	}
}

// TestEnqueueOnceAndReschedule: a job queued twice under the tip's id
// exists once and keeps its first due time; a rescheduled job keeps when
// it started and carries what is left of it.
func TestEnqueueOnceAndReschedule(t *testing.T) {
	q, _ := newQueue(t)
	ctx := context.Background()
	now := time.Now()
	job := twilioapi.ScrubJob{MessageSID: "SM00000000000000000000000000000002", MediaSIDs: []string{"ME1", "ME2"}}
	for _, due := range []time.Time{now, now.Add(time.Hour)} {
		if err := q.EnqueueOnce(ctx, "tip1", job, due); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := q.Pending(ctx); n != 1 || err != nil {
		t.Fatalf("pending = %d, %v; want one job", n, err)
	}
	jobs, err := q.Claim(ctx, now.Add(time.Second), 10)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "tip1" {
		t.Fatalf("claim = %+v, %v", jobs, err)
	}
	c := jobs[0]
	c.Job.Redacted, c.Job.MediaSIDs, c.Job.Attempt = true, []string{"ME2"}, 3
	if err := q.Reschedule(ctx, c, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	jobs, err = q.Claim(ctx, now.Add(2*time.Minute), 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim after reschedule = %+v, %v", jobs, err)
	}
	got := jobs[0]
	if !got.Job.Redacted || len(got.Job.MediaSIDs) != 1 || got.Job.Attempt != 3 || !got.Started.Equal(c.Started) {
		t.Fatalf("rescheduled job = %+v, want %+v", got, c)
	}
}

func TestNoKey(t *testing.T) {
	r := queuetest.New(t)
	q := scrub.New(r.Client, r.Prefix, time.Second, nil, nil)
	ctx := context.Background()
	if err := q.Enqueue(ctx, twilioapi.ScrubJob{MessageSID: "SM1"}, time.Now()); !errors.Is(err, scrub.ErrNoKey) {
		t.Fatalf("Enqueue without a key = %v, want ErrNoKey", err)
	}
	if jobs, err := q.Claim(ctx, time.Now(), 10); len(jobs) != 0 || err != nil {
		t.Fatalf("Claim without a key = %v, %v", jobs, err)
	}
}

// TestOpensJobsOfEarlierReleases: a job sealed by the scrub queue as it
// was in gateway/conversation (testdata, made with its reply key) is still
// claimed, with what it held.
func TestOpensJobsOfEarlierReleases(t *testing.T) {
	keyFile, err := os.ReadFile("testdata/reply.key")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := os.ReadFile("testdata/job.age")
	if err != nil {
		t.Fatal(err)
	}
	key, err := seal.ParseReplyKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	r := queuetest.New(t)
	q := scrub.New(r.Client, r.Prefix, time.Second, key, nil)
	ctx := context.Background()
	r.Client.Set(ctx, r.Prefix+":{scrub}:job:tip-old", sealed, 0)
	r.Client.ZAdd(ctx, r.Prefix+":{scrub}:due", redis.Z{Score: 0, Member: "tip-old"})
	jobs, err := q.Claim(ctx, time.Now(), 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim of an earlier job = %+v, %v", jobs, err)
	}
	want := twilioapi.ScrubJob{MessageSID: "SM0123456789abcdef0123456789abcdef", MediaSIDs: []string{"ME0123456789abcdef0123456789abcdef"}}
	if got := jobs[0]; got.ID != "tip-old" || got.Job.MessageSID != want.MessageSID || len(got.Job.MediaSIDs) != 1 ||
		got.Job.MediaSIDs[0] != want.MediaSIDs[0] || got.Started.IsZero() {
		t.Fatalf("earlier job = %+v, want %+v", got, want)
	}
	// Queued again by a drain, it is not doubled; rescheduled, it moves
	// into the schedule; finished, nothing of it is left.
	if err := q.EnqueueOnce(ctx, "tip-old", want, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, _ := q.Pending(ctx); n != 1 {
		t.Fatalf("%d jobs pending; want the earlier job alone", n)
	}
	if err := q.Reschedule(ctx, jobs[0], time.Now()); err != nil {
		t.Fatal(err)
	}
	if keys := r.Keys(t); len(keys) != 1 {
		t.Fatalf("keys after reschedule = %v; want the schedule alone", keys)
	}
	again, err := q.Claim(ctx, time.Now().Add(time.Second), 10)
	if err != nil || len(again) != 1 || again[0].ID != "tip-old" {
		t.Fatalf("claim after reschedule = %+v, %v", again, err)
	}
	if err := q.Finish(ctx, again[0]); err != nil {
		t.Fatal(err)
	}
	if keys := r.Keys(t); len(keys) != 0 {
		t.Fatalf("keys after finish = %v; want none", keys)
	}
}

// TestClaimUnreadableAfterKeyChange: jobs sealed to a reply key that is no
// longer configured are not handed out, nor dropped: Claim says how many it
// could not open, with the jobs it could, and they stay queued for the key.
func TestClaimUnreadableAfterKeyChange(t *testing.T) {
	old, r := newQueue(t)
	ctx := context.Background()
	now := time.Now()
	if err := old.Enqueue(ctx, twilioapi.ScrubJob{MessageSID: "SM00000000000000000000000000000002"}, now); err != nil {
		t.Fatal(err)
	}
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	rotated := scrub.New(r.Client, r.Prefix, time.Second, key, nil)
	if err := rotated.Enqueue(ctx, twilioapi.ScrubJob{MessageSID: "SM00000000000000000000000000000003"}, now); err != nil {
		t.Fatal(err)
	}
	jobs, err := rotated.Claim(ctx, now.Add(time.Second), 10)
	if !errors.Is(err, scrub.ErrUnreadable) || !strings.HasSuffix(err.Error(), ": 1") {
		t.Fatalf("claim with one job of the old key: %v; want ErrUnreadable for 1", err)
	}
	if len(jobs) != 1 || jobs[0].Job.MessageSID != "SM00000000000000000000000000000003" {
		t.Fatalf("jobs = %+v; want the one the new key opens", jobs)
	}
	if n, _ := rotated.Pending(ctx); n != 2 {
		t.Fatalf("%d jobs pending; want both (the unreadable one kept for its key)", n)
	}
	back, err := old.Claim(ctx, now.Add(scrub.Lease+time.Minute), 10)
	if err == nil || len(back) != 1 || back[0].Job.MessageSID != "SM00000000000000000000000000000002" {
		t.Fatalf("with the old key back: %+v, %v; want its job (and the other one unreadable)", back, err)
	}
}

// TestJobLivesInItsSchedule: a job queued with its tip (BatchOps) is one
// member of the schedule and no key of its own; it is claimed, rescheduled
// (the member replaced, not doubled) and finished; queued again under the
// same id by a spool's drain (EnqueueOnce), it is not doubled either, even
// with an id that MATCH would read as a pattern.
func TestJobLivesInItsSchedule(t *testing.T) {
	q, r := newQueue(t)
	ctx := context.Background()
	now := time.Now()
	job := twilioapi.ScrubJob{MessageSID: "SM00000000000000000000000000000004", MediaSIDs: []string{"ME1"}}
	for _, id := range []string{"tip-a", "t*p[1]?"} {
		var b queue.Batch
		if err := q.BatchOps(&b, id, job, now); err != nil || len(b.Ops) != 1 || len(b.Carry) != 0 {
			t.Fatalf("BatchOps = %+v, %v; want one op and nothing carried", b, err)
		}
		if err := r.Client.Do(ctx, b.Ops[0].Cmd...).Err(); err != nil {
			t.Fatal(err)
		}
		if err := q.EnqueueOnce(ctx, id, job, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// A pattern that would match the other job must not stop this one.
	if err := q.EnqueueOnce(ctx, "t", job, now); err != nil {
		t.Fatal(err)
	}
	if keys := r.Keys(t); len(keys) != 1 {
		t.Fatalf("keys = %v; want the schedule alone", keys)
	}
	if n, _ := q.Pending(ctx); n != 3 {
		t.Fatalf("%d jobs pending; want 3 (one per id)", n)
	}
	jobs, err := q.Claim(ctx, now.Add(time.Second), 10)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("claim = %+v, %v", jobs, err)
	}
	for _, c := range jobs {
		c.Job.Attempt = 2
		if err := q.Reschedule(ctx, c, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := q.Pending(ctx); n != 3 {
		t.Fatalf("%d jobs pending after reschedule; want 3", n)
	}
	jobs, err = q.Claim(ctx, now.Add(2*time.Minute), 10)
	if err != nil || len(jobs) != 3 || jobs[0].Job.Attempt != 2 {
		t.Fatalf("claim after reschedule = %+v, %v", jobs, err)
	}
	for _, c := range jobs {
		if err := q.Finish(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if keys := r.Keys(t); len(keys) != 0 {
		t.Fatalf("keys after finish = %v; want none", keys)
	}
}

// carrying is a reply key, a fresh prefix and the queue of the tips whose
// entries carry their jobs.
func carrying(t *testing.T) (*seal.ReplyKey, *queuetest.Redis, *queue.Queue) {
	t.Helper()
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	r := queuetest.New(t)
	return key, r, queue.New(r.Client, queue.Options{Prefix: r.Prefix})
}

// publishWithJob publishes tip (case caseRef, pe-lima) with the job of
// message sid, due at due, queued by q (BatchOps).
func publishWithJob(t *testing.T, q *scrub.Queue, tips *queue.Queue, tip, caseRef, sid string, due time.Time) *queue.Batch {
	t.Helper()
	b := &queue.Batch{}
	if err := q.BatchOps(b, tip, twilioapi.ScrubJob{MessageSID: sid}, due); err != nil {
		t.Fatal(err)
	}
	err := tips.Publish(context.Background(), queue.Entry{TipID: tip, Case: caseRef, Agency: "pe-lima", Channel: "sms",
		Priority: queue.Normal, ReceivedAt: time.Now(), Sealed: []byte("sealed " + tip), Batch: b})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJobCarriedByItsEntry: a job queued with a tip that makes a stream
// entry costs no command of its own (the entry carries it, sealed); Move
// puts it into the schedule with its due time, once, whichever of two
// gateways moves it and however often; a tip appended to its case makes no
// entry, and its job is the ZADD. MoveAgency, before a purge, leaves no job
// in an entry: the entry may go, the job stays.
func TestJobCarriedByItsEntry(t *testing.T) {
	key, r, tips := carrying(t)
	ctx := context.Background()
	gateways := []*scrub.Queue{scrub.New(r.Client, r.Prefix, time.Second, key, nil), scrub.New(r.Client, r.Prefix, time.Second, key, nil)}
	for _, g := range gateways {
		g.FromEntries(tips, []string{"pe-lima", "my-kl"})
	}
	now := time.Now()
	publish := func(tip, caseRef, sid string, due time.Time) *queue.Batch {
		t.Helper()
		return publishWithJob(t, gateways[0], tips, tip, caseRef, sid, due)
	}
	sids := map[string]string{"first": "SM00000000000000000000000000000011", "second": "SM00000000000000000000000000000012",
		"appended": "SM00000000000000000000000000000013"}
	if b := publish("first", "CASE-1", sids["first"], now.Add(time.Minute)); !b.Entered || len(b.Carry) != 2 {
		t.Fatalf("first tip: %+v; want its entry to carry the job", b)
	}
	publish("second", "CASE-2", sids["second"], now.Add(2*time.Minute))
	if b := publish("appended", "CASE-1", sids["appended"], now.Add(time.Minute)); b.Entered {
		t.Fatalf("appended tip: %+v; want no entry", b)
	}
	// Before any move only the appended tip's job is in the schedule.
	if n := r.Client.ZCard(ctx, r.Prefix+":{scrub}:due").Val(); n != 1 {
		t.Fatalf("%d jobs in the schedule before a move, want 1 (the appended tip's)", n)
	}
	for _, k := range r.Keys(t) {
		if v := r.Admin.Dump(ctx, k).Val(); strings.Contains(v, "SM0000") {
			t.Fatalf("a SID is in clear in %s", k)
		}
	}
	// Both gateways move, twice: each job once.
	for range 2 {
		for _, g := range gateways {
			if _, err := g.Move(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n, err := gateways[1].Pending(ctx); n != 3 || err != nil {
		t.Fatalf("%d jobs pending, %v; want 3", n, err)
	}
	// Each at its own due time.
	jobs, err := gateways[1].Claim(ctx, now.Add(90*time.Second), 10)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("due after 90s: %+v, %v; want first and appended", jobs, err)
	}
	got := map[string]string{}
	for _, c := range jobs {
		got[c.ID] = c.Job.MessageSID
		if err := gateways[1].Finish(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if got["first"] != sids["first"] || got["appended"] != sids["appended"] {
		t.Fatalf("claimed %v", got)
	}
	// Finished jobs do not come back with another move.
	if _, err := gateways[0].Move(ctx); err != nil {
		t.Fatal(err)
	}
	if jobs, err := gateways[0].Claim(ctx, now.Add(3*time.Minute), 10); err != nil || len(jobs) != 1 || jobs[0].ID != "second" {
		t.Fatalf("due after 3m: %+v, %v; want second alone", jobs, err)
	}
	// A job whose entry is deleted right after MoveAgency stays queued.
	publish("third", "CASE-3", "SM00000000000000000000000000000014", now)
	if err := gateways[0].MoveAgency(ctx, "pe-lima"); err != nil {
		t.Fatal(err)
	}
	if err := r.Client.Del(ctx, r.Prefix+":{pe-lima}:tips:normal").Err(); err != nil {
		t.Fatal(err)
	}
	if jobs, err := gateways[0].Claim(ctx, now.Add(10*time.Minute), 10); err != nil || len(jobs) != 2 {
		t.Fatalf("after the entries went: %+v, %v; want second (its lease lapsed) and third", jobs, err)
	}
}

// failAdvance is a Source whose first Advance fails: Redis went away
// between the move and the cursor.
type failAdvance struct {
	scrub.Source
	failed bool
}

func (f *failAdvance) Advance(ctx context.Context, c *queue.Carried) error {
	if !f.failed {
		f.failed = true
		return errors.New("redis went away")
	}
	return f.Source.Advance(ctx, c)
}

// TestMoveFailsHalfWay: a move whose cursor was not saved says so, and the
// next one moves the same jobs again: each is in the schedule once.
func TestMoveFailsHalfWay(t *testing.T) {
	key, r, tips := carrying(t)
	ctx := context.Background()
	q := scrub.New(r.Client, r.Prefix, time.Second, key, nil)
	q.FromEntries(&failAdvance{Source: tips}, []string{"pe-lima"})
	for i := range 3 {
		publishWithJob(t, q, tips, fmt.Sprint("tip-", i), fmt.Sprint("CASE-", i), fmt.Sprintf("SM%032d", i), time.Now())
	}
	if _, err := q.Move(ctx); err == nil {
		t.Fatal("a move whose cursor was not saved reported no error")
	}
	if n, err := q.Pending(ctx); n != 3 || err != nil {
		t.Fatalf("%d jobs pending after the move again, %v; want 3, once each", n, err)
	}
	if err := q.MoveAgency(ctx, "pe-lima"); err != nil {
		t.Fatal(err)
	}
	if n := r.Client.ZCard(ctx, r.Prefix+":{scrub}:due").Val(); n != 3 {
		t.Fatalf("%d jobs in the schedule, want 3", n)
	}
}

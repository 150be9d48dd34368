package queue_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

func newQueue(t *testing.T, lease time.Duration) (*queue.Queue, *queuetest.Redis) {
	t.Helper()
	r := queuetest.New(t)
	return queue.New(r.Client, queue.Options{Prefix: r.Prefix, Lease: lease}), r
}

func entry(agency, tip string, p queue.Priority) queue.Entry {
	return queue.Entry{
		TipID: tip, Case: "CASE-" + tip, Agency: agency, Region: "lima", Channel: "sms",
		Priority: p, ReceivedAt: time.UnixMilli(1_700_000_000_000).UTC(), ReplyCapable: true,
		Sealed: []byte("age-encryption.org/v1\n-> X25519 sealed-" + tip),
	}
}

// newQueueHeld is newQueue with e published and claimed by officer.
func newQueueHeld(t *testing.T, lease time.Duration, e queue.Entry, officer string) (*queue.Queue, *queuetest.Redis) {
	t.Helper()
	q, r := newQueue(t, lease)
	publish(t, q, e)
	if c := claim(t, q, e.Agency, officer); c.TipID != e.TipID {
		t.Fatalf("%s claimed %s, want %s", officer, c.TipID, e.TipID)
	}
	return q, r
}

// publish queues es in order; the test stops at the first error.
func publish(t *testing.T, q *queue.Queue, es ...queue.Entry) {
	t.Helper()
	for _, e := range es {
		if err := q.Publish(context.Background(), e); err != nil {
			t.Fatalf("publish %s: %v", e.TipID, err)
		}
	}
}

// claim hands officer the next tip of agency; the test stops on an error,
// ErrEmpty included.
func claim(t *testing.T, q *queue.Queue, agency, officer string) *queue.Claimed {
	t.Helper()
	c, err := q.Claim(context.Background(), agency, officer)
	if err != nil {
		t.Fatalf("claim for %s at %s: %v", officer, agency, err)
	}
	return c
}

func TestClaimOrderUrgentFirstThenOldest(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q,
		entry("pe-lima", "n1", queue.Normal),
		entry("pe-lima", "n2", queue.Normal),
		entry("pe-lima", "u1", queue.Urgent),
		entry("pe-lima", "u2", queue.Urgent),
	)
	var got []string
	for range 4 {
		c, err := q.Claim(ctx, "pe-lima", "officer-a")
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		got = append(got, c.TipID)
	}
	want := []string{"u1", "u2", "n1", "n2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claim order = %v, want %v", got, want)
	}
	if _, err := q.Claim(ctx, "pe-lima", "officer-a"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("claim on empty queue: err = %v, want ErrEmpty", err)
	}
}

func TestClaimedEntryRoundTrips(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	want := entry("pe-lima", "tip1", queue.Urgent)
	if err := q.Publish(ctx, want); err != nil {
		t.Fatal(err)
	}
	c, err := q.Claim(ctx, "pe-lima", "officer-a")
	if err != nil {
		t.Fatal(err)
	}
	if c.TipID != want.TipID || c.Case != want.Case || c.Agency != want.Agency || c.Region != want.Region ||
		c.Channel != want.Channel || c.Priority != want.Priority || !c.ReceivedAt.Equal(want.ReceivedAt) ||
		c.ReplyCapable != want.ReplyCapable || string(c.Sealed) != string(want.Sealed) {
		t.Fatalf("claimed %+v, want %+v", c.Entry, want)
	}
	if c.Deliveries != 1 {
		t.Errorf("deliveries = %d, want 1", c.Deliveries)
	}
	if until := time.Until(c.LeaseUntil); until < 50*time.Second || until > time.Minute+time.Second {
		t.Errorf("lease until in %v, want about a minute", until)
	}
}

func TestPublishIsIdempotentByTipID(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	for range 3 {
		publish(t, q, entry("pe-lima", "same", queue.Normal))
	}
	claim(t, q, "pe-lima", "a")
	if _, err := q.Claim(ctx, "pe-lima", "a"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("second claim: err = %v, want ErrEmpty (one entry for three publishes)", err)
	}
}

func TestPublishRejectsIncompleteEntries(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	for name, e := range map[string]queue.Entry{
		"no tip id":    {Agency: "a", Priority: queue.Normal, Sealed: []byte("x")},
		"no agency":    {TipID: "t", Priority: queue.Normal, Sealed: []byte("x")},
		"bad priority": {TipID: "t", Agency: "a", Priority: "whenever", Sealed: []byte("x")},
		"not sealed":   {TipID: "t", Agency: "a", Priority: queue.Normal},
	} {
		if err := q.Publish(context.Background(), e); !errors.Is(err, queue.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestAckOnlyByHolder(t *testing.T) {
	q, r := newQueueHeld(t, time.Minute, entry("pe-lima", "t1", queue.Normal), "alice")
	ctx := context.Background()
	if err := q.Ack(ctx, "pe-lima", "t1", "bob", queue.Dispatched); !errors.Is(err, queue.ErrNotHeld) {
		t.Fatalf("ack by another officer: err = %v, want ErrNotHeld", err)
	}
	if err := q.Ack(ctx, "pe-lima", "t1", "alice", "lunch"); !errors.Is(err, queue.ErrInvalid) {
		t.Fatalf("ack with unknown disposition: err = %v, want ErrInvalid", err)
	}
	if err := q.Ack(ctx, "pe-lima", "nope", "alice", queue.Dispatched); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("ack of unknown tip: err = %v, want ErrNotFound", err)
	}
	if err := q.Ack(ctx, "pe-lima", "t1", "alice", queue.Dispatched); err != nil {
		t.Fatalf("ack by holder: %v", err)
	}
	if err := q.Ack(ctx, "pe-lima", "t1", "alice", queue.Dispatched); !errors.Is(err, queue.ErrNotHeld) {
		t.Fatalf("second ack: err = %v, want ErrNotHeld", err)
	}
	rec, err := r.Admin.HGet(ctx, r.Prefix+":{pe-lima}:closed", "t1").Result()
	if err != nil || len(rec) < len("dispatched alice 1") || rec[:len("dispatched alice")] != "dispatched alice" {
		t.Fatalf("closed record = %q, %v; want the disposition and the officer", rec, err)
	}
	if _, err := q.Claim(ctx, "pe-lima", "bob"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("claim after ack: err = %v, want ErrEmpty", err)
	}
}

func TestReleaseHandsTipToNextOfficer(t *testing.T) {
	q, _ := newQueueHeld(t, time.Hour, entry("pe-lima", "t1", queue.Normal), "alice")
	ctx := context.Background()
	if _, err := q.Claim(ctx, "pe-lima", "bob"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("bob claimed a held tip: err = %v", err)
	}
	if err := q.Release(ctx, "pe-lima", "t1", "bob"); !errors.Is(err, queue.ErrNotHeld) {
		t.Fatalf("release by non-holder: err = %v, want ErrNotHeld", err)
	}
	if err := q.Release(ctx, "pe-lima", "t1", "alice"); err != nil {
		t.Fatalf("release: %v", err)
	}
	c, err := q.Claim(ctx, "pe-lima", "bob")
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}
	if c.TipID != "t1" || c.Deliveries < 2 {
		t.Fatalf("claimed %s with %d deliveries, want t1 delivered again", c.TipID, c.Deliveries)
	}
	if err := q.Ack(ctx, "pe-lima", "t1", "alice", queue.Dispatched); !errors.Is(err, queue.ErrNotHeld) {
		t.Fatalf("ack by former holder: err = %v, want ErrNotHeld", err)
	}
}

func TestLapsedLeaseIsReclaimed(t *testing.T) {
	const lease = 300 * time.Millisecond
	q, _ := newQueue(t, lease)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "t1", queue.Urgent))
	claimed := time.Now()
	claim(t, q, "pe-lima", "alice")
	if _, err := q.Claim(ctx, "pe-lima", "bob"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("claim within the lease: err = %v, want ErrEmpty", err)
	}
	// Redis measures the lease (the entry's idle time): wait for it, not for a fixed sleep.
	c := claimWhenLapsed(t, q, "bob")
	if held := time.Since(claimed); held < lease {
		t.Fatalf("reclaimed after %v, within the lease of %v", held, lease)
	}
	if c.TipID != "t1" || c.Deliveries != 2 {
		t.Fatalf("reclaimed %s with %d deliveries, want t1 with 2", c.TipID, c.Deliveries)
	}
	if err := q.Ack(ctx, "pe-lima", "t1", "alice", queue.Dispatched); !errors.Is(err, queue.ErrNotHeld) {
		t.Fatalf("ack by the officer whose lease lapsed: err = %v, want ErrNotHeld", err)
	}
	if err := q.Ack(ctx, "pe-lima", "t1", "bob", queue.Dispatched); err != nil {
		t.Fatalf("ack by new holder: %v", err)
	}
}

func TestRenewKeepsTheLease(t *testing.T) {
	// Renewed every quarter lease, for longer than a lease: the slack keeps
	// a loaded machine from letting a lease lapse between two renewals
	// (a lapsed lease is not renewed).
	const lease = time.Second
	q, _ := newQueueHeld(t, lease, entry("pe-lima", "t1", queue.Normal), "alice")
	ctx := context.Background()
	for range 5 {
		time.Sleep(lease / 4)
		if _, err := q.Renew(ctx, "pe-lima", "t1", "alice"); err != nil {
			t.Fatalf("renew: %v", err)
		}
	}
	if _, err := q.Claim(ctx, "pe-lima", "bob"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("a renewed tip was taken over: err = %v", err)
	}
	if _, err := q.Renew(ctx, "pe-lima", "t1", "bob"); !errors.Is(err, queue.ErrNotHeld) {
		t.Fatalf("renew by non-holder: err = %v, want ErrNotHeld", err)
	}
}

func TestAgenciesAreSeparate(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "t1", queue.Normal))
	if _, err := q.Claim(ctx, "my-kl", "officer"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("other agency claimed: err = %v", err)
	}
	if err := q.Ack(ctx, "my-kl", "t1", "officer", queue.Dispatched); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("other agency ack: err = %v, want ErrNotFound", err)
	}
	tagged := regexp.MustCompile(`^` + r.Prefix + `:\{[a-z0-9_-]+\}:`)
	for _, k := range r.Keys(t) {
		if !tagged.MatchString(k) {
			t.Errorf("key %q does not carry an agency hash tag", k)
		}
	}
}

func TestConcurrentClaimsNeverOverlap(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	const n = 40
	publishMixed(t, q, n, 3)
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			officer := fmt.Sprintf("officer-%d", w)
			claimUntilEmpty(t, q, officer, func(c *queue.Claimed) {
				mu.Lock()
				defer mu.Unlock()
				if prev, dup := seen[c.TipID]; dup {
					t.Errorf("tip %s claimed by %s and %s", c.TipID, prev, officer)
				}
				seen[c.TipID] = officer
			})
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct tips, want %d", len(seen), n)
	}
}

func TestDepth(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	if err := q.Ensure(ctx, "pe-lima"); err != nil {
		t.Fatal(err)
	}
	for i, p := range []queue.Priority{queue.Urgent, queue.Normal, queue.Normal} {
		publish(t, q, entry("pe-lima", fmt.Sprint(i), p))
	}
	d, err := q.Depth(ctx, "pe-lima")
	if err != nil {
		t.Fatal(err)
	}
	if d[queue.Urgent] != 1 || d[queue.Normal] != 2 {
		t.Fatalf("depth = %v, want urgent 1 normal 2", d)
	}
}

func TestDedupe(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	seen, err := q.BeginDedupe(ctx, "p1")
	if err != nil || seen.Done {
		t.Fatalf("first begin = %+v, %v; want new", seen, err)
	}
	if _, err := q.BeginDedupe(ctx, "p1"); !errors.Is(err, queue.ErrInFlight) {
		t.Fatalf("begin while in flight: err = %v, want ErrInFlight", err)
	}
	if err := q.AbortDedupe(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if seen, err := q.BeginDedupe(ctx, "p1"); err != nil || seen.Done {
		t.Fatalf("begin after abort = %+v, %v; want new", seen, err)
	}
	if err := q.FinishDedupe(ctx, "p1", "ABCD-EFGH", time.Hour); err != nil {
		t.Fatal(err)
	}
	seen, err = q.BeginDedupe(ctx, "p1")
	if err != nil || !seen.Done || seen.Case != "ABCD-EFGH" {
		t.Fatalf("begin after finish = %+v, %v; want done with the case", seen, err)
	}
	ttl := r.Admin.TTL(ctx, r.Prefix+":dedupe:{p1}").Val()
	if ttl <= 0 || ttl > time.Hour {
		t.Fatalf("dedupe TTL = %v, want at most an hour", ttl)
	}
}

func TestUnavailableRedis(t *testing.T) {
	r := queuetest.New(t)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix, Timeout: 200 * time.Millisecond})
	r.Client.Close()
	ctx := context.Background()
	if err := q.Publish(ctx, entry("pe-lima", "t", queue.Normal)); !errors.Is(err, queue.ErrUnavailable) {
		t.Errorf("publish: err = %v, want ErrUnavailable", err)
	}
	if _, err := q.Claim(ctx, "pe-lima", "a"); !errors.Is(err, queue.ErrUnavailable) {
		t.Errorf("claim: err = %v, want ErrUnavailable", err)
	}
	if err := q.Ping(ctx); !errors.Is(err, queue.ErrUnavailable) {
		t.Errorf("ping: err = %v, want ErrUnavailable", err)
	}
}

// publishMixed queues n tips t00, t01..., every urgentEvery-th one
// urgent, the others normal.
func publishMixed(t *testing.T, q *queue.Queue, n, urgentEvery int) {
	t.Helper()
	for i := range n {
		p := queue.Normal
		if i%urgentEvery == 0 {
			p = queue.Urgent
		}
		publish(t, q, entry("pe-lima", fmt.Sprintf("t%02d", i), p))
	}
}

// claimUntilEmpty claims for officer until no tip is waiting, giving each
// claim to got; another error fails the test (from any goroutine).
func claimUntilEmpty(t *testing.T, q *queue.Queue, officer string, got func(*queue.Claimed)) {
	for {
		c, err := q.Claim(context.Background(), "pe-lima", officer)
		if errors.Is(err, queue.ErrEmpty) {
			return
		}
		if err != nil {
			t.Error(err)
			return
		}
		got(c)
	}
}

// claimWhenLapsed claims for officer as soon as a lease lapses (Redis says when: the entry's
// idle time), failing after a few seconds.
func claimWhenLapsed(t *testing.T, q *queue.Queue, officer string) *queue.Claimed {
	t.Helper()
	var c *queue.Claimed
	queuetest.WaitUntil(t, q.Lease()+5*time.Second, "a lapsed lease to be claimed", func() error {
		var err error
		c, err = q.Claim(context.Background(), "pe-lima", officer)
		return err
	})
	return c
}

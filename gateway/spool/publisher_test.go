package spool_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/spool"
	"github.com/hotline-org/hotline/queue"
)

// fakePrimary is a Redis that can be up, down (refusing at once) or hung
// (answering only when the deadline passes). It is idempotent by tip id,
// as queue.Publish is.
type fakePrimary struct {
	mode   atomic.Int32 // 0 up, 1 down, 2 hung
	mu     sync.Mutex
	tips   []string
	byID   map[string]bool
	dedupe atomic.Int32 // BeginDedupe calls that reached it
}

const (
	up = iota
	down
	hung
	// unconfirmed: Redis takes tips but its replicas do not confirm them.
	unconfirmed
)

func (f *fakePrimary) fail(ctx context.Context) error {
	switch f.mode.Load() {
	case down:
		return fmt.Errorf("%w: connection refused", queue.ErrUnavailable)
	case hung:
		<-ctx.Done()
		return fmt.Errorf("%w: %w", queue.ErrUnavailable, ctx.Err())
	}
	return nil
}

func (f *fakePrimary) Publish(ctx context.Context, e queue.Entry) error {
	if e.TipID == "" {
		return queue.ErrInvalid
	}
	if err := f.fail(ctx); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byID == nil {
		f.byID = map[string]bool{}
	}
	if !f.byID[e.TipID] {
		f.byID[e.TipID] = true
		f.tips = append(f.tips, e.TipID)
	}
	if f.mode.Load() == unconfirmed {
		return &queue.NotReplicatedError{TipID: e.TipID, Acked: 0, Wants: 1}
	}
	return nil
}

func (f *fakePrimary) BeginDedupe(ctx context.Context, p string) (queue.Seen, error) {
	f.dedupe.Add(1)
	return queue.Seen{}, f.fail(ctx)
}
func (f *fakePrimary) FinishDedupe(ctx context.Context, p, c string, ttl time.Duration) error {
	return f.fail(ctx)
}
func (f *fakePrimary) AbortDedupe(ctx context.Context, p string) error { return f.fail(ctx) }
func (f *fakePrimary) Ping(ctx context.Context) error                  { return f.fail(ctx) }

func (f *fakePrimary) queued() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tips)
}

func newPublisher(t *testing.T, f *fakePrimary, opt spool.Options) (*spool.Publisher, *spool.Spool) {
	t.Helper()
	sp, err := spool.Open(t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return &spool.Publisher{Primary: f, Spool: sp, Timeout: 200 * time.Millisecond, Interval: 20 * time.Millisecond}, sp
}

func entry(id string) queue.Entry {
	return queue.Entry{TipID: id, Case: "ABCD-EFGH", Agency: "pe-lima", Channel: "sms", Priority: queue.Normal,
		ReceivedAt: time.Now(), Sealed: []byte("age-encryption.org/v1 ...")}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPublisherFallsBackAndDrainsInOrder runs on synctest's clock: "while Redis is down" is
// five drain intervals exactly, not a sleep that a loaded machine stretches or shortens.
func TestPublisherFallsBackAndDrainsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var f fakePrimary
		p, sp := newPublisher(t, &f, spool.Options{})
		ctx := t.Context()

		if err := p.Publish(ctx, entry("a")); err != nil || sp.Stats().Appended != 0 {
			t.Fatalf("publish while up: %v, spooled %d", err, sp.Stats().Appended)
		}

		f.mode.Store(down)
		for _, id := range []string{"b", "c", "d"} {
			if err := p.Publish(ctx, entry(id)); err != nil {
				t.Fatalf("publish while down: %v", err)
			}
		}
		if !p.Down() || sp.Stats().Records != 3 {
			t.Fatalf("down %v, spooled %d", p.Down(), sp.Stats().Records)
		}
		// While down, dedupe does not ask Redis and lets the tip through.
		before := f.dedupe.Load()
		if seen, err := p.BeginDedupe(ctx, "pseudonym"); err != nil || seen.Done {
			t.Fatalf("dedupe while down: %+v %v", seen, err)
		}
		if f.dedupe.Load() != before {
			t.Fatal("dedupe asked a Redis known to be down")
		}
		if err := p.Ready(ctx); err != nil {
			t.Fatalf("not ready with room in the spool: %v", err)
		}

		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go p.Run(rctx)
		time.Sleep(5 * p.Interval) // five drain attempts, each refused
		synctest.Wait()
		if len(f.queued()) != 1 {
			t.Fatal("drained while Redis was down")
		}
		f.mode.Store(up)
		waitFor(t, "the spool to drain", func() bool { return sp.Empty() && !p.Down() })
		if got := f.queued(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
			t.Fatalf("queued %v", got)
		}
		if err := p.Publish(ctx, entry("e")); err != nil || sp.Stats().Appended != 3 {
			t.Fatalf("publish after recovery: %v, spooled %d", err, sp.Stats().Appended)
		}
	})
}

func TestPublisherHungRedisMeetsDeadline(t *testing.T) {
	var f fakePrimary
	f.mode.Store(hung)
	p, sp := newPublisher(t, &f, spool.Options{})
	start := time.Now()
	if err := p.Publish(t.Context(), entry("a")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("publish to a hung Redis took %v", took)
	}
	if sp.Stats().Records != 1 {
		t.Fatal("not spooled")
	}
	// The next tip does not wait for the hung Redis at all.
	start = time.Now()
	if err := p.Publish(t.Context(), entry("b")); err != nil || time.Since(start) > 150*time.Millisecond {
		t.Fatalf("second publish: %v after %v", err, time.Since(start))
	}
}

func TestPublisherFullSpool(t *testing.T) {
	var f fakePrimary
	f.mode.Store(down)
	p, sp := newPublisher(t, &f, spool.Options{MaxBytes: 1})
	err := p.Publish(t.Context(), entry("a"))
	if !errors.Is(err, queue.ErrUnavailable) || !errors.Is(err, spool.ErrFull) {
		t.Fatalf("publish with a full spool and Redis down: %v", err)
	}
	if err := p.Ready(t.Context()); err == nil {
		t.Fatal("ready with neither Redis nor the spool")
	}
	// Redis back: the full spool is no reason to refuse, even before the
	// drainer noticed.
	f.mode.Store(up)
	if err := p.Ready(t.Context()); err != nil {
		t.Fatalf("not ready with Redis up: %v", err)
	}
	if err := p.Publish(t.Context(), entry("b")); err != nil {
		t.Fatalf("publish with Redis back and the spool full: %v", err)
	}
	_ = sp
}

func TestPublisherInvalidIsNotSpooled(t *testing.T) {
	var f fakePrimary
	p, sp := newPublisher(t, &f, spool.Options{})
	if err := p.Publish(t.Context(), entry("")); !errors.Is(err, queue.ErrInvalid) {
		t.Fatalf("invalid entry: %v", err)
	}
	if sp.Stats().Appended != 0 || p.Down() {
		t.Fatal("an invalid entry was spooled or marked Redis down")
	}
}

func TestPublisherStartsDownWithALeftoverSpool(t *testing.T) {
	dir := t.TempDir()
	sp, err := spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp.Append(entry("old"))
	sp.Close()
	sp, err = spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var f fakePrimary
	p := &spool.Publisher{Primary: &f, Spool: sp, Interval: 10 * time.Millisecond}
	// A tip that comes before the drainer ran queues after the old one.
	if err := p.Publish(t.Context(), entry("new")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go p.Run(ctx)
	waitFor(t, "the spool to drain", func() bool { return sp.Empty() && !p.Down() })
	if got := f.queued(); !slices.Equal(got, []string{"old", "new"}) {
		t.Fatalf("queued %v", got)
	}
}

// switchable wraps the real queue with a switch that makes it unreachable.
type switchable struct {
	*queue.Queue
	off atomic.Bool
}

var errOff = fmt.Errorf("%w: switched off", queue.ErrUnavailable)

func (s *switchable) Publish(ctx context.Context, e queue.Entry) error {
	if s.off.Load() {
		return errOff
	}
	return s.Queue.Publish(ctx, e)
}
func (s *switchable) BeginDedupe(ctx context.Context, p string) (queue.Seen, error) {
	if s.off.Load() {
		return queue.Seen{}, errOff
	}
	return s.Queue.BeginDedupe(ctx, p)
}
func (s *switchable) Ping(ctx context.Context) error {
	if s.off.Load() {
		return errOff
	}
	return s.Queue.Ping(ctx)
}

// TestTwilioRetryDuringOutageQueuedOnce drives the real intake and queue:
// a message and its retry arrive while Redis is away, both are acknowledged
// from the spool, and once drained the tip is in the queue once.
func TestTwilioRetryDuringOutageQueuedOnce(t *testing.T) {
	var sw switchable
	var pub *spool.Publisher
	s := gatewaytest.New(t, func(o *gateway.Options) {
		sw.Queue = o.Publisher.(*queue.Queue)
		sp, err := spool.Open(t.TempDir(), spool.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sp.Close() })
		pub = &spool.Publisher{Primary: &sw, Spool: sp, Interval: 10 * time.Millisecond}
		o.Publisher = pub
	})
	tip := gateway.Tip{Channel: gateway.ChannelSMS, ProviderID: "SMretry0000000000000000000000001",
		From: "+51987654321", To: gatewaytest.NumberLima, Text: "ayuda"}
	if err := s.Queue.Ensure(t.Context(), gatewaytest.Lima); err != nil {
		t.Fatal(err)
	}
	sw.off.Store(true)
	r1, err := s.Intake.Submit(t.Context(), tip)
	if err != nil {
		t.Fatalf("submit during outage: %v", err)
	}
	r2, err := s.Intake.Submit(t.Context(), tip)
	if err != nil || r2.Case != r1.Case {
		t.Fatalf("retry during outage: %v, case %q vs %q", err, r2.Case, r1.Case)
	}
	sw.off.Store(false)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go pub.Run(ctx)
	waitFor(t, "the spool to drain", func() bool { return pub.Spool.Empty() && !pub.Down() })
	// A retry after the outage is recognised too.
	if _, err := s.Intake.Submit(t.Context(), tip); err != nil {
		t.Fatal(err)
	}
	depth, err := s.Queue.Depth(t.Context(), gatewaytest.Lima)
	if err != nil {
		t.Fatal(err)
	}
	if n := depth[queue.Normal] + depth[queue.Urgent]; n != 1 {
		t.Fatalf("the tip is in the queue %d times, want once", n)
	}
	c, err := s.Queue.Claim(t.Context(), gatewaytest.Lima, "officer")
	if err != nil || c.TipID != r1.TipID {
		t.Fatalf("claim: %v", err)
	}
	if rep := s.Open(t, c); rep.Text != "ayuda" {
		t.Fatalf("report text %q", rep.Text)
	}
}

// TestStuckTellsRefusalsFromOutages: Redis refusing a write for good (also
// from inside a script) makes a spool stuck; an outage does not.
func TestStuckTellsRefusalsFromOutages(t *testing.T) {
	for _, c := range []struct {
		err    error
		reason string
	}{
		{fmt.Errorf("%w: failed to publish: %w", queue.ErrUnavailable, errors.New("NOPERM this user has no permissions to run the 'hsetnx' command")), "noperm"},
		{errors.New("ERR The user executing the script can't run this command or subcommand script: e27f00c1, on @user_script:2."), "noperm"},
		{errors.New("NOSCRIPT No matching script. Please use EVAL."), "noscript"},
		{errors.New("WRONGTYPE Operation against a key holding the wrong kind of value"), "wrongtype"},
		{errors.New("OOM command not allowed when used memory > 'maxmemory'."), "oom"},
		{errors.New("READONLY You can't write against a read only replica."), "readonly"},
		{errors.New("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk"), "misconf"},
		{fmt.Errorf("%w: dial tcp 127.0.0.1:6379: connect: connection refused", queue.ErrUnavailable), ""},
		{context.DeadlineExceeded, ""},
		{errors.New("LOADING Redis is loading the dataset in memory"), ""},
		{nil, ""},
	} {
		se := spool.Stuck(c.err)
		got := ""
		if se != nil {
			got = se.Reason
			if se.Hint == "" || !errors.Is(se, c.err) {
				t.Errorf("Stuck(%v): no hint, or does not wrap the error", c.err)
			}
		}
		if got != c.reason {
			t.Errorf("Stuck(%v) = %q, want %q", c.err, got, c.reason)
		}
	}
	if !slices.Equal(spool.StuckReasons, metrics.StuckReasons) {
		t.Errorf("spool.StuckReasons %v and metrics.StuckReasons %v differ", spool.StuckReasons, metrics.StuckReasons)
	}
}

// refusingPrimary answers pings but refuses publishes, as Redis does when the
// ACL lacks a command of the publish script.
type refusingPrimary struct {
	*fakePrimary
	refuse atomic.Bool
}

func (r *refusingPrimary) Publish(ctx context.Context, e queue.Entry) error {
	if r.refuse.Load() {
		return fmt.Errorf("%w: failed to publish: NOPERM this user has no permissions to run the 'hsetnx' command", queue.ErrUnavailable)
	}
	return r.fakePrimary.Publish(ctx, e)
}

// TestStuckSpoolFailsReadyAndRecovers: a tip Redis refuses is spooled (the
// reporter is answered), the publisher reports not ready and why, the spool
// knows its oldest tip; when Redis accepts again, it drains and is ready.
func TestStuckSpoolFailsReadyAndRecovers(t *testing.T) {
	r := &refusingPrimary{fakePrimary: &fakePrimary{}}
	r.refuse.Store(true)
	sp, err := spool.Open(t.TempDir(), spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	p := &spool.Publisher{Primary: r, Spool: sp, Timeout: 200 * time.Millisecond, Interval: 20 * time.Millisecond}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if err := p.Publish(ctx, entry("a")); err != nil {
		t.Fatalf("publish while refused: %v, want spooled", err)
	}
	if err := p.Ready(ctx); err != nil {
		t.Fatalf("ready before any drain: %v", err)
	}
	go p.Run(ctx)
	waitFor(t, "not ready", func() bool { return p.Ready(ctx) != nil })
	var se *spool.StuckError
	if err := p.Ready(ctx); !errors.As(err, &se) || se.Reason != "noperm" || p.StuckReason() != "noperm" {
		t.Fatalf("Ready = %v, StuckReason %q; want a noperm StuckError", err, p.StuckReason())
	}
	if sp.Oldest().IsZero() || time.Since(sp.Oldest()) > time.Minute {
		t.Errorf("oldest spooled tip at %v, want the tip's receive time", sp.Oldest())
	}
	r.refuse.Store(false)
	waitFor(t, "ready again", func() bool { return p.Ready(ctx) == nil })
	waitFor(t, "the tip queued", func() bool { return slices.Equal(r.queued(), []string{"a"}) })
	if p.StuckReason() != "" || !sp.Oldest().IsZero() {
		t.Errorf("after the drain: StuckReason %q, oldest %v; want none", p.StuckReason(), sp.Oldest())
	}
}

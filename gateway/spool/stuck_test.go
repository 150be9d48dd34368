package spool_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/spool"
	"github.com/hotline-org/hotline/queue"
)

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

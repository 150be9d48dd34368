package spool_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

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

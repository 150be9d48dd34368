package periodic_test

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hotline-org/hotline/gateway/periodic"
)

// TestRunEndedContextRunsOnce: a context already done still gets its first
// run, then Run returns without waiting for a tick.
func TestRunEndedContextRunsOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	n := 0
	periodic.Run(ctx, time.Hour, func(context.Context) { n++ })
	if n != 1 {
		t.Fatalf("job ran %d times, want 1", n)
	}
}

// TestRunAtOnceThenEveryIntervalUntilDone runs on synctest's clock: the job
// runs before the first tick, once a tick, and Run returns when the context
// ends.
func TestRunAtOnceThenEveryIntervalUntilDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute+30*time.Second)
		defer cancel()
		var at []time.Duration
		start := time.Now()
		periodic.Run(ctx, time.Minute, func(context.Context) { at = append(at, time.Since(start)) })
		if want := []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute}; !slices.Equal(at, want) {
			t.Fatalf("job ran at %v, want %v", at, want)
		}
	})
}

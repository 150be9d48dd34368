package sms_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// refuseExit fails every Redis command that touches a sender's exit mark
// while on is set, as a Redis (or the Cluster node holding that key) that
// stops answering between the tip's write and the exit word's would.
type refuseExit struct{ on *atomic.Bool }

func (h refuseExit) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h refuseExit) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.on.Load() {
			for _, a := range cmd.Args() {
				if s, ok := a.(string); ok && strings.Contains(s, ":exit:{") {
					err := errors.New("i/o timeout")
					cmd.SetErr(err)
					return err
				}
			}
		}
		return next(ctx, cmd)
	}
}
func (h refuseExit) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestExitWordNotAppliedIsRetried (issue 11): an exit word whose tip Redis
// took but whose closing of the conversations it refused is not answered
// as done: the webhook fails, Twilio sends it again, and the retry, a
// duplicate, closes them. Before, the failure was only logged and the
// officer could still reach the phone.
func TestExitWordNotAppliedIsRetried(t *testing.T) {
	e := newEnv(t)
	var on atomic.Bool
	e.stack.Redis.Client.AddHook(refuseExit{&on})
	ctx := context.Background()
	first := e.receive(t, sms1("SM001", reporter, englishTip))
	if err := e.ch.Reply(ctx, gatewaytest.Lima, first.Case, "tip-1", "officer-1", "Are you safe?", ""); err != nil {
		t.Fatalf("the test proves nothing: no reply before the exit word (%v)", err)
	}

	on.Store(true)
	_, err := e.ch.Receive(ctx, sms1("SM002", reporter, "salir"))
	if !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("exit word not applied: err = %v, want unavailable (Twilio retries)", err)
	}

	// Twilio's retry: still refused while the mark cannot be written.
	if _, err := e.ch.Receive(ctx, sms1("SM002", reporter, "salir")); !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("retry with the exit still refused: err = %v, want unavailable", err)
	}
	on.Store(false)
	// Twilio retries until the store's breaker lets calls through again.
	var res sms.Result
	queuetest.WaitUntil(t, 15*time.Second, "a retry to be taken", func() error {
		res, err = e.ch.Receive(ctx, sms1("SM002", reporter, "salir"))
		if errors.Is(err, gateway.ErrUnavailable) {
			return err
		}
		return nil
	})
	if err != nil || res.Outcome != sms.Duplicate {
		t.Fatalf("retry = %+v, %v; want Duplicate", res, err)
	}
	if n := len(e.intake.submitted()); n != 2 {
		t.Errorf("%d tips queued, want 2 (the exit word once)", n)
	}
	err = e.ch.Reply(ctx, gatewaytest.Lima, first.Case, "tip-1", "officer-1", "Are you safe?", "life_at_risk")
	if !errors.Is(err, sms.ErrNoHandle) {
		t.Fatalf("officer's override reply after the retried exit word: %v, want ErrNoHandle", err)
	}
	if _, ok, err := e.store.Thread(ctx, e.sender(reporter)); ok || err != nil {
		t.Errorf("thread still open (%v, %v)", ok, err)
	}
}

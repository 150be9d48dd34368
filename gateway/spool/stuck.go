package spool

import (
	"context"
	"errors"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/hotline-org/hotline/queue"
)

// StuckError says that the spool cannot drain for a reason that will not pass
// by itself: Redis answers, but refuses the gateway's writes. Tips keep being
// taken (the spool holds them, and they drain once Redis accepts them), but
// no officer sees them, so the gateway reports itself not ready: /readyz
// fails, a load balancer sends reporters to a gateway that works, and the
// operator is told how to fix it.
type StuckError struct {
	// Reason is one of StuckReasons: the metric label.
	Reason string
	// Hint says how to fix it.
	Hint string
	Err  error
}

func (e *StuckError) Error() string {
	return "spool cannot drain: redis refuses the gateway's writes (" + e.Reason + ")"
}

func (e *StuckError) Unwrap() error { return e.Err }

// StuckReasons are the reasons a spool can be stuck, in the order they are
// checked.
var StuckReasons = []string{"noperm", "noscript", "wrongtype", "oom", "readonly", "misconf"}

var stuckHints = map[string]string{
	"noperm":    "the gateway's Redis user lacks a command or key it needs: load deploy/redis/users.acl as shipped (ACL LOAD), and read ACL LOG for what was refused",
	"noscript":  "Redis refuses the gateway's scripts: grant eval, evalsha and script|load to the gateway's user (deploy/redis/users.acl)",
	"wrongtype": "a key under redis.prefix holds a value of another type: give the gateway a Redis database or prefix of its own",
	"oom":       "Redis reached maxmemory and refuses writes (maxmemory-policy noeviction): raise maxmemory or free memory; the spool drains once Redis accepts writes",
	"readonly":  "the gateway writes to a read-only replica: point redis.url at the master, or use mode: sentinel",
	"misconf":   "Redis cannot save to disk and refuses writes (stop-writes-on-bgsave-error): fix the Redis host's disk",
}

// redisRefusal matches the error codes Redis answers with when it refuses a
// command for good, also inside a script's error.
// A command a script runs that the ACL refuses comes back as "ERR The user
// executing the script can't run this command or subcommand".
var redisRefusal = regexp.MustCompile(`\b(NOPERM|NOSCRIPT|WRONGTYPE|OOM|READONLY|MISCONF)\b|(executing the script can't run this command)`)

// Stuck returns the StuckError for err if Redis refused the call for a
// reason that will not pass by itself, else nil.
func Stuck(err error) *StuckError {
	if err == nil {
		return nil
	}
	var se *StuckError
	if errors.As(err, &se) {
		return se
	}
	m := redisRefusal.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	if m[1] == "" {
		m[1] = "NOPERM"
	}
	reason := map[string]string{"NOPERM": "noperm", "NOSCRIPT": "noscript", "WRONGTYPE": "wrongtype",
		"OOM": "oom", "READONLY": "readonly", "MISCONF": "misconf"}[m[1]]
	return &StuckError{Reason: reason, Hint: stuckHints[reason], Err: err}
}

// stuckState is what the drainer knows of a stuck spool.
type stuckState struct {
	err      atomic.Pointer[StuckError]
	loggedAt atomic.Int64 // unix nanos of the last error logged
}

// stuckLogEvery bounds how often a stuck spool is logged again.
const stuckLogEvery = time.Minute

// StuckReason returns why the spool cannot drain, or "" when it can.
func (p *Publisher) StuckReason() string {
	if e := p.stuck.err.Load(); e != nil {
		return e.Reason
	}
	return ""
}

// publishNotingStuck is the drain's publish: it notes where and why a drain
// stops. A tip Redis took but its replicas did not confirm is not a stop:
// drainPublish holds it.
func (p *Publisher) publishNotingStuck(ctx context.Context, e queue.Entry) error {
	err := p.publishPrimary(ctx, e)
	if err == nil || errors.Is(err, queue.ErrNotReplicated) {
		p.notDrainStuck()
		return err
	}
	p.Spool.noteWaiting(e.ReceivedAt)
	if se := Stuck(err); se != nil {
		prev := p.stuck.err.Swap(se)
		now := time.Now().UnixNano()
		if last := p.stuck.loggedAt.Load(); prev == nil || prev.Reason != se.Reason || time.Duration(now-last) >= stuckLogEvery {
			p.stuck.loggedAt.Store(now)
			p.logger().Error("spool: redis refuses the gateway's writes; tips wait in the spool and the gateway reports not ready",
				"reason", se.Reason, "tips", p.Spool.Stats().Records, "err", err, "hint", se.Hint)
		}
		return se
	}
	return err
}

// notDrainStuck clears the stuck state once Redis takes a spooled tip again.
func (p *Publisher) notDrainStuck() {
	if prev := p.stuck.err.Swap(nil); prev != nil {
		p.logger().Info("spool: redis accepts the gateway's writes again; draining", "reason", prev.Reason)
	}
}

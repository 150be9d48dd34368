package queue_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
)

// TestPublishBatch: the ops of a batch are written with a new tip, in
// order, each op's condition honoured and its result reported; a tip
// already queued runs none of them and is not queued twice; a dedupe mark
// found by the guard (single Redis) stops the batch before the tip. On a
// Cluster (HOTLINE_TEST_REDIS_MODE=cluster) the ops of other slots follow
// the publish, and the guard is a plain op there: the tip id still keeps
// the tip from being queued twice.
func TestPublishBatch(t *testing.T) {
	ctx := context.Background()
	q, r := newQueue(t, time.Minute)
	counter := r.Prefix + ":rate:{sender-a}"
	mark := dedupeMark(r.Prefix, "msg-a", "CASE-a", time.Hour)
	b := &queue.Batch{Ops: []queue.Op{
		mark,
		{Cmd: []any{"set", counter, 1, "px", 60000, "nx"}},
		{Cmd: []any{"incrby", counter, 1}, If: 2, IfEq: 0},
		{Cmd: []any{"pexpire", r.Prefix + ":{pe-lima}:handle:none", 60000}},
		{Cmd: []any{"hset", r.Prefix + ":{pe-lima}:handle:none", "last", 1}, If: 4, IfEq: 1},
		{Cmd: []any{"sadd", r.Prefix + ":{scrub}:x", "a"}},
	}}
	e := entry("pe-lima", "tip-a", queue.Normal)
	e.Batch = b
	if err := q.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	// Results: the mark (a guard: 0 once passed), SET NX done, INCRBY not
	// run, the handle absent (PEXPIRE 0) and so not written, SADD 1.
	if !b.Ran || b.Seen != "" || b.Queued || !slices.Equal(b.Results[1:], []int64{1, -1, 0, -1, 1}) {
		t.Fatalf("batch = %+v", b)
	}
	if v := r.Client.Get(ctx, counter).Val(); v != "1" {
		t.Errorf("counter = %q, want 1", v)
	}
	if n := r.Client.Exists(ctx, r.Prefix+":{pe-lima}:handle:none").Val(); n != 0 {
		t.Error("an op whose condition failed ran")
	}
	if v := r.Client.Get(ctx, queue.DedupeKey(r.Prefix, "msg-a")).Val(); v != "done CASE-a" {
		t.Errorf("dedupe mark = %q", v)
	}

	// The same message again: a single Redis stops at the guard; a
	// Cluster publishes, finds the tip id, and runs nothing.
	again := &queue.Batch{Ops: slices.Clone(b.Ops)}
	e.Batch = again
	if err := q.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	if again.Ran || (again.Seen != "done CASE-a" && !again.Queued) {
		t.Fatalf("second batch = %+v", again)
	}
	if seen, err := queue.ParseSeen("done CASE-a"); err != nil || !seen.Done || seen.Case != "CASE-a" {
		t.Errorf("ParseSeen = %+v, %v", seen, err)
	}
	if v := r.Client.Get(ctx, counter).Val(); v != "1" {
		t.Errorf("counter = %q after a retry, want 1", v)
	}

	// A tip queued already (by tip id), its dedupe mark missing: not
	// queued twice, no op runs.
	other := &queue.Batch{Ops: []queue.Op{dedupeMark(r.Prefix, "msg-b", "CASE-a", time.Hour),
		{Cmd: []any{"incrby", counter, 1}}}}
	e.Batch = other
	if err := q.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	if other.Ran || !other.Queued {
		t.Fatalf("batch of a tip queued already = %+v", other)
	}
	if n := len(r.Client.XRange(ctx, r.Prefix+":{pe-lima}:tips:normal", "-", "+").Val()); n != 1 {
		t.Errorf("%d entries, want 1", n)
	}
	if c := claim(t, q, "pe-lima", "ana"); c.TipID != "tip-a" {
		t.Errorf("claimed %s", c.TipID)
	}
	if v := r.Client.Get(ctx, counter).Val(); v != "1" {
		t.Errorf("counter = %q, want 1", v)
	}

	// A tip Redis refuses (here its stream is of another type) leaves no
	// dedupe mark: its retry must be queued.
	// An op Redis refuses (a key of another type) leaves the tip queued
	// and the other ops done.
	wrong := entry("pe-lima", "tip-d", queue.Normal)
	r.Client.Set(ctx, r.Prefix+":{pe-lima}:wrongtype", "x", time.Minute)
	wrong.Batch = &queue.Batch{Ops: []queue.Op{
		{Cmd: []any{"sadd", r.Prefix + ":{pe-lima}:wrongtype", "a"}},
		{Cmd: []any{"set", r.Prefix + ":{pe-lima}:after", "1", "px", 60000}},
	}}
	if err := q.Publish(ctx, wrong); err != nil {
		t.Fatalf("an op refused failed the tip: %v", err)
	}
	if !wrong.Batch.Ran || wrong.Batch.Failed() != 1 || wrong.Batch.Results[0] != queue.OpFailed || r.Client.Get(ctx, r.Prefix+":{pe-lima}:after").Val() != "1" {
		t.Errorf("batch with a refused op = %+v", wrong.Batch)
	}

	broken := entry("pe-broken", "tip-c", queue.Normal)
	if err := r.Client.Set(ctx, r.Prefix+":{pe-broken}:tips:normal", "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	broken.Batch = &queue.Batch{Ops: []queue.Op{dedupeMark(r.Prefix, "msg-c", "CASE-c", time.Hour)}}
	if err := q.Publish(ctx, broken); err == nil {
		t.Fatal("published to a stream of another type")
	}
	if n := r.Client.Exists(ctx, queue.DedupeKey(r.Prefix, "msg-c")).Val(); n != 0 {
		t.Error("a tip not queued left its dedupe mark")
	}
}

// TestPublishBatchCheck: an op with Check reports whether it answered what
// was read beforehand (1), or what another writer left in between (0, and
// the value in Found), on a single Redis and on a Cluster alike.
func TestPublishBatchCheck(t *testing.T) {
	ctx := context.Background()
	q, r := newQueue(t, time.Minute)
	key := r.Prefix + ":thread:{sender-c}"
	for i, c := range []struct {
		want, found string
		result      int64
	}{
		{want: "", result: 1},                // nothing there, as read
		{want: "v0", found: "v0", result: 1}, // the value read
		{want: "v0", found: "v1", result: 0}, // another writer came in between
		{want: "", found: "v2", result: 0},   // read as absent, written meanwhile
		{want: "v3", found: "", result: 0},   // read, then gone
	} {
		r.Client.Del(ctx, key)
		if c.found != "" {
			r.Client.Set(ctx, key, c.found, time.Minute)
		}
		b := &queue.Batch{Ops: []queue.Op{{Cmd: []any{"set", key, "mine", "px", 60000, "get"}, Check: true, Want: c.want}}}
		e := entry("pe-lima", "tip-check-"+string(rune('a'+i)), queue.Normal)
		e.Batch = b
		if err := q.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
		if !b.Ran || b.Results[0] != c.result {
			t.Fatalf("case %d: batch = %+v, want result %d", i, b, c.result)
		}
		if got, ok := b.Found[0]; ok != (c.result == 0) || (ok && got != c.found) {
			t.Fatalf("case %d: found = %q, %v; want %q", i, got, ok, c.found)
		}
		if v := r.Client.Get(ctx, key).Val(); v != "mine" {
			t.Fatalf("case %d: value = %q, want the op's", i, v)
		}
	}
}

// TestPublishBatchRecordGuard: a record that carries the message's dedupe
// mark, written as a guard (Mark): written in place of the value read, the
// tip is published; in place of another value without the mark, too (the
// value is in Found); in place of a value whose marks hold the message
// (another delivery wrote it in between), the record is put back and the
// batch stops, answered as the first delivery (single Redis; on a Cluster
// the op follows the publish and is a plain Check). A tip that cannot be
// published puts the record back as well.
func TestPublishBatchRecordGuard(t *testing.T) {
	ctx := context.Background()
	q, r := newQueue(t, time.Minute)
	cluster := r.Kind == "cluster"
	key := r.Prefix + ":thread:{sender-g}"
	mine := `{"marks":{"sid-1":{"case":"CASE-1"}}}`
	op := func(want string) queue.Op {
		return queue.Op{Cmd: []any{"set", key, mine, "px", 60000, "get"}, Guard: true, Check: true, Want: want, Mark: "sid-1"}
	}
	publish := func(tip, want string) *queue.Batch {
		t.Helper()
		b := &queue.Batch{Ops: []queue.Op{op(want)}}
		e := entry("pe-lima", tip, queue.Normal)
		e.Batch = b
		if err := q.Publish(ctx, e); err != nil {
			t.Fatal(err)
		}
		return b
	}
	if b := publish("tip-g1", ""); !b.Ran || b.Results[0] != 1 {
		t.Fatalf("as read: %+v", b)
	}
	other := `{"case":"X","marks":{"sid-0":{"case":"CASE-0"}}}`
	r.Client.Set(ctx, key, other, time.Minute)
	if b := publish("tip-g2", ""); !b.Ran || b.Results[0] != 0 || b.Found[0] != other {
		t.Fatalf("another writer's record: %+v", b)
	}
	theirs := `{"case":"Y","marks":{"sid-1":{"case":"CASE-1"},"sid-0":{"case":"CASE-0"}}}`
	r.Client.Set(ctx, key, theirs, time.Minute)
	b := publish("tip-g3", "")
	if cluster {
		if !b.Ran || b.Found[0] != theirs {
			t.Fatalf("on a Cluster, a plain check: %+v", b)
		}
	} else {
		if b.Ran || b.Seen != "done CASE-1" {
			t.Fatalf("another delivery's record: %+v; want Seen done CASE-1", b)
		}
		if v := r.Client.Get(ctx, key).Val(); v != theirs {
			t.Fatalf("record after the guard stopped: %q; want it put back", v)
		}
		if n := r.Client.HExists(ctx, r.Prefix+":{pe-lima}:meta", "tip-g3").Val(); n {
			t.Fatal("the tip was published after the guard stopped")
		}
		// A stream key of another type: the publish fails, the record is
		// put back.
		r.Client.Set(ctx, key, other, time.Minute)
		r.Client.Set(ctx, r.Prefix+":{pe-lima}:tips:normal", "not a stream", 0)
		bad := &queue.Batch{Ops: []queue.Op{op(other)}}
		e := entry("pe-lima", "tip-g4", queue.Normal)
		e.Batch = bad
		if err := q.Publish(ctx, e); err == nil {
			t.Fatal("published to a key of another type")
		}
		if v := r.Client.Get(ctx, key).Val(); v != other {
			t.Fatalf("record after a failed publish: %q; want it put back", v)
		}
	}
}

// dedupeMark is a plain guard, as the SMS channel's dedupe mark was before
// it moved into the sender's record: it marks a provider message queued,
// as FinishDedupe does, and a message marked already (queued, or in
// progress on a gateway that marks it so) stops the batch, whose Seen then
// says which (ParseSeen).
func dedupeMark(prefix, pseudonym, caseRef string, ttl time.Duration) queue.Op {
	return queue.Op{Cmd: []any{"set", queue.DedupeKey(prefix, pseudonym), "done " + caseRef, "px", ttl.Milliseconds(), "nx", "get"}, Guard: true}
}

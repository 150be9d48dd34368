package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// metaOf reads a tip's clear metadata as publishScript wrote it.
func metaOf(t *testing.T, r *queuetest.Redis, tipID string) map[string]any {
	t.Helper()
	raw, err := r.Client.HGet(context.Background(), r.Prefix+":{pe-lima}:meta", tipID).Result()
	if err != nil {
		t.Fatalf("metadata of %s: %v", tipID, err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("metadata of %s: %v", tipID, err)
	}
	return m
}

// republish publishes e again n times, as a retry, and fails unless each
// is answered as queued already.
func republish(t *testing.T, q *queue.Queue, e queue.Entry, n int) {
	t.Helper()
	for range n {
		b := &queue.Batch{}
		e.Batch = b
		if err := q.Publish(context.Background(), e); err != nil || !b.Queued {
			t.Fatalf("retry of %s: %v, queued %v", e.TipID, err, b.Queued)
		}
	}
}

func indexed(t *testing.T, r *queuetest.Redis, tipID string) string {
	t.Helper()
	return r.Client.HGet(context.Background(), r.Prefix+":{pe-lima}:index", tipID).Val()
}

// TestItemRefInMetadata: a new item's ref is written in its metadata, not
// in the index (one command less per tip); a retry queues nothing and
// answers the same ref; an entry that moves (escalated) has its new ref in
// the index, which every reader takes over the metadata's.
func TestItemRefInMetadata(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	e := entry("pe-lima", "a", queue.Normal)
	publish(t, q, e)
	ref, _ := metaOf(t, r, "a")["ref"].(string)
	if !strings.HasPrefix(ref, "normal ") {
		t.Fatalf("ref in the metadata: %q", ref)
	}
	if v := indexed(t, r, "a"); v != "" {
		t.Fatalf("index holds %q for a new item", v)
	}
	republish(t, q, e, 2)
	if n := streamLen(t, r, queue.Normal); n != 1 {
		t.Fatalf("%d entries after two retries, want 1", n)
	}
	if got, _ := metaOf(t, r, "a")["ref"].(string); got != ref {
		t.Fatalf("ref after the retries: %q, want %q", got, ref)
	}
	if l, err := q.Meta(ctx, "pe-lima", "a"); err != nil || l.Priority != queue.Normal || "normal "+l.StreamID != ref {
		t.Fatalf("meta: %+v, %v", l, err)
	}
	c := claim(t, q, "pe-lima", "alice")
	if err := q.Escalate(ctx, "pe-lima", c.TipID, "alice", "urgent"); err != nil {
		t.Fatal(err)
	}
	moved := indexed(t, r, "a")
	if !strings.HasPrefix(moved, "urgent ") {
		t.Fatalf("index after the escalation: %q", moved)
	}
	if l, err := q.Meta(ctx, "pe-lima", "a"); err != nil || l.Priority != queue.Urgent || "urgent "+l.StreamID != moved {
		t.Fatalf("meta after the escalation: %+v, %v", l, err)
	}
	if list, err := q.List(ctx, "pe-lima", 0); err != nil || len(list) != 1 || list[0].Priority != queue.Urgent {
		t.Fatalf("list after the escalation: %+v, %v", list, err)
	}
	if got, err := q.ClaimTip(ctx, "pe-lima", "bob", "a"); err != nil || got.Priority != queue.Urgent {
		t.Fatalf("claim of the escalated tip: %+v, %v", got, err)
	}
}

// TestEarlierReleasesItems: items queued by a release that kept every ref
// in the index (and none in the metadata) are still found, claimed by any
// message's tip id, raised by an urgent message, listed, and a retry of
// one is not queued again.
func TestEarlierReleasesItems(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, caseEntry("pe-lima", "CASE-O", 1, queue.Normal), caseEntry("pe-lima", "CASE-O", 2, queue.Normal),
		entry("pe-lima", "single", queue.Normal))
	// The earlier layout: each item's ref in the index only.
	for _, id := range []string{"CASE-O-m1", "single"} {
		m := metaOf(t, r, id)
		ref, _ := m["ref"].(string)
		if ref == "" {
			t.Fatalf("no ref for %s", id)
		}
		delete(m, "ref")
		b, _ := json.Marshal(m)
		r.Client.HSet(ctx, r.Prefix+":{pe-lima}:meta", id, string(b))
		r.Client.HSet(ctx, r.Prefix+":{pe-lima}:index", id, ref)
	}
	if list, err := q.List(ctx, "pe-lima", 0); err != nil || len(list) != 2 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	republish(t, q, entry("pe-lima", "single", queue.Normal), 1)
	// An urgent message moves the case's waiting entry to the urgent
	// stream: the script found its ref in the index.
	publish(t, q, caseEntry("pe-lima", "CASE-O", 3, queue.Urgent))
	if n := streamLen(t, r, queue.Urgent); n != 1 {
		t.Fatalf("%d urgent entries after the urgent message, want 1", n)
	}
	got, err := q.ClaimTip(ctx, "pe-lima", "alice", "CASE-O-m2")
	if err != nil || got.TipID != "CASE-O-m1" || got.Priority != queue.Urgent || len(got.Messages) != 3 {
		t.Fatalf("claim by the second message: %+v, %v", got, err)
	}
	if l, err := q.Meta(ctx, "pe-lima", "single"); err != nil || l.Priority != queue.Normal || l.State != queue.StateWaiting {
		t.Fatalf("meta of the single item: %+v, %v", l, err)
	}
	if n := streamLen(t, r, queue.Normal); n != 1 {
		t.Fatalf("%d normal entries, want 1 (the single item, once)", n)
	}
}

// TestPublishMetadataWrongType: when the metadata key holds another type,
// the tip is refused and leaves nothing behind (no entry, no case filed),
// so that its retry, once the key is mended, queues it once.
func TestPublishMetadataWrongType(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	meta := r.Prefix + ":{pe-lima}:meta"
	r.Client.Set(ctx, meta, "not a hash", 0)
	e := entry("pe-lima", "w", queue.Normal)
	e.NewCase = true
	if err := q.Publish(ctx, e); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Fatalf("publish over a string: %v, want WRONGTYPE", err)
	}
	if n := streamLen(t, r, queue.Normal); n != 0 {
		t.Fatalf("%d entries left by the refused tip", n)
	}
	if v := r.Client.HGet(ctx, r.Prefix+":{pe-lima}:cases", e.Case).Val(); v != "" {
		t.Fatalf("case filed by the refused tip: %q", v)
	}
	r.Client.Del(ctx, meta)
	publish(t, q, e)
	if n := streamLen(t, r, queue.Normal); n != 1 {
		t.Fatalf("%d entries after the retry, want 1", n)
	}
	if _, err := q.Meta(ctx, "pe-lima", "w"); errors.Is(err, queue.ErrNotFound) || err != nil {
		t.Fatalf("meta after the retry: %v", err)
	}
}

// TestRetryAfterCaseClosed: a retry of a tip whose case was closed since
// finds no case filed, so the entry is added before the metadata says the
// tip is in; it is taken back without a trace: nothing is queued again,
// and the depth (from the group's lag, which Redis cannot count past a
// deleted entry nobody read) stays known and right.
func TestRetryAfterCaseClosed(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	e := entry("pe-lima", "closed-retry", queue.Normal)
	e.NewCase = true
	publish(t, q, e)
	c := claim(t, q, "pe-lima", "alice")
	if err := q.Ack(ctx, "pe-lima", c.TipID, "alice", queue.NoAction); err != nil {
		t.Fatal(err)
	}
	republish(t, q, e, 2)
	if n := streamLen(t, r, queue.Normal); n != 1 {
		t.Fatalf("%d entries, want the closed tip's only", n)
	}
	depth, err := q.Depth(ctx, "pe-lima")
	if err != nil || depth[queue.Normal] != 0 || depth[queue.Urgent] != 0 {
		t.Fatalf("depth after the retries: %v, %v; want 0", depth, err)
	}
	publish(t, q, entry("pe-lima", "next", queue.Normal))
	if depth, err = q.Depth(ctx, "pe-lima"); err != nil || depth[queue.Normal] != 1 {
		t.Fatalf("depth with a new tip: %v, %v; want 1", depth, err)
	}
	if c := claim(t, q, "pe-lima", "alice"); c.TipID != "next" {
		t.Fatalf("claimed %s, want next", c.TipID)
	}
}

// olderTip makes tipID look as a gateway older than the metadata left it:
// its ref in the index, no metadata.
func olderTip(t *testing.T, r *queuetest.Redis, tipID string) {
	t.Helper()
	ref, _ := metaOf(t, r, tipID)["ref"].(string)
	if ref == "" {
		t.Fatalf("no ref for %s", tipID)
	}
	ctx := context.Background()
	r.Client.HSet(ctx, r.Prefix+":{pe-lima}:index", tipID, ref)
	r.Client.HDel(ctx, r.Prefix+":{pe-lima}:meta", tipID)
}

// TestBackfillUnderNewTips: tips an older gateway queued without metadata
// are listed even when this release's tips, which keep no index entry,
// make the metadata outnumber the index; and one such tip queued after a
// list (a rolling upgrade) is listed by the next.
func TestBackfillUnderNewTips(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "old", queue.Normal))
	olderTip(t, r, "old")
	publish(t, q, entry("pe-lima", "new1", queue.Normal), entry("pe-lima", "new2", queue.Normal))
	ids := func() string {
		list, err := q.List(ctx, "pe-lima", 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range list {
			out = append(out, l.TipID)
		}
		return strings.Join(out, " ")
	}
	if got := ids(); got != "old new1 new2" {
		t.Fatalf("listed %q, want old new1 new2", got)
	}
	publish(t, q, entry("pe-lima", "old2", queue.Normal), entry("pe-lima", "new3", queue.Normal))
	olderTip(t, r, "old2")
	if got := ids(); got != "old new1 new2 old2 new3" {
		t.Fatalf("listed %q after another older tip, want old new1 new2 old2 new3", got)
	}
}

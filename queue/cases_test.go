package queue_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// caseEntry is message n of case ref, received n seconds after the first.
func caseEntry(agency, ref string, n int, p queue.Priority) queue.Entry {
	e := entry(agency, fmt.Sprintf("%s-m%d", ref, n), p)
	e.Case = ref
	e.ReceivedAt = e.ReceivedAt.Add(time.Duration(n) * time.Second)
	return e
}

func streamLen(t *testing.T, r *queuetest.Redis, p queue.Priority) int64 {
	t.Helper()
	// XRANGE, not XLEN: the tests also run as the shipped ACL's user, who
	// is granted only what the gateway sends (deploy/acl_test.go).
	all, err := r.Client.XRange(context.Background(), r.Prefix+":{pe-lima}:tips:"+string(p), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(all))
}

// publishCase publishes messages 1 to n of case ref at pe-lima, normal.
func publishCase(t *testing.T, q *queue.Queue, ref string, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		publish(t, q, caseEntry("pe-lima", ref, i, queue.Normal))
	}
}

func messageIDs(ms []queue.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.TipID)
	}
	return out
}

// TestCaseIsOneItem: three messages of one case make one queue item;
// claiming it gives all three, in order, with their sealed reports; the
// list shows one row with the count and the last message's time.
func TestCaseIsOneItem(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	publishCase(t, q, "CASE-A", 3)
	list, err := q.List(ctx, "pe-lima", 0)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v, %d rows, want 1", err, len(list))
	}
	if l := list[0]; l.TipID != "CASE-A-m1" || l.MessageCount != 3 || !l.LastAt.Equal(l.ReceivedAt.Add(2*time.Second)) {
		t.Fatalf("row: %s, %d messages, last %v", l.TipID, l.MessageCount, l.LastAt)
	}
	if n := streamLen(t, r, queue.Normal); n != 1 {
		t.Fatalf("stream entries: %d, want 1", n)
	}
	c := claim(t, q, "pe-lima", "alice")
	if got := strings.Join(messageIDs(c.Messages), " "); got != "CASE-A-m1 CASE-A-m2 CASE-A-m3" {
		t.Fatalf("messages %q", got)
	}
	for _, m := range c.Messages {
		if !strings.HasSuffix(string(m.Sealed), "sealed-"+m.TipID) || m.Channel != "sms" {
			t.Fatalf("message %s: sealed %q, channel %q", m.TipID, m.Sealed, m.Channel)
		}
	}
	if _, err := q.Claim(ctx, "pe-lima", "bob"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("second claim: %v, want empty", err)
	}
	// Any message's tip id and the case ref name the case.
	for _, id := range []string{"CASE-A-m1", "CASE-A-m3", "CASE-A"} {
		l, sealed, err := q.Open(ctx, "pe-lima", id, "alice", false)
		if err != nil || l.TipID != "CASE-A-m1" || len(l.Messages) != 3 || len(sealed) == 0 {
			t.Fatalf("open %s: %v", id, err)
		}
	}
	if _, _, err := q.Open(ctx, "pe-lima", "CASE-A-m2", "bob", false); !errors.Is(err, queue.ErrNotHolder) {
		t.Fatalf("bob opened alice's case: %v", err)
	}
}

// TestAppendToHeldCase: a message arriving on a held case stays with the
// holder (no new item), and shows in the case at once.
func TestAppendToHeldCase(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, caseEntry("pe-lima", "CASE-H", 1, queue.Normal))
	claim(t, q, "pe-lima", "alice")
	publish(t, q, caseEntry("pe-lima", "CASE-H", 2, queue.Normal))
	if _, err := q.Claim(ctx, "pe-lima", "bob"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("an appended message made a new item: %v", err)
	}
	l, _, err := q.Open(ctx, "pe-lima", "CASE-H-m2", "alice", false)
	if err != nil || len(l.Messages) != 2 || l.Holder != "alice" || string(l.Messages[1].Sealed) == "" {
		t.Fatalf("open: %v %+v", err, l)
	}
}

// TestUrgentMessageRaisesTheCase: an urgent follow-up moves a waiting
// normal case to urgent (claimed before an older normal case); on a held
// case it marks the listing urgent.
func TestUrgentMessageRaisesTheCase(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, caseEntry("pe-lima", "CASE-OLD", 1, queue.Normal))
	publish(t, q, caseEntry("pe-lima", "CASE-U", 2, queue.Normal))
	publish(t, q, caseEntry("pe-lima", "CASE-U", 3, queue.Urgent))
	if n, err := q.Count(ctx, "pe-lima"); err != nil || n.Waiting[queue.Urgent] != 1 || n.Waiting[queue.Normal] != 1 {
		t.Fatalf("counts after the raise (paging reads them): %+v %v", n, err)
	}
	c := claim(t, q, "pe-lima", "alice")
	if c.TipID != "CASE-U-m2" || c.Priority != queue.Urgent || len(c.Messages) != 2 ||
		c.Messages[0].Priority != queue.Normal || c.Messages[1].Priority != queue.Urgent {
		t.Fatalf("claimed %s (%s, %d messages), want the raised case", c.TipID, c.Priority, len(c.Messages))
	}
	// Held: marked urgent in its listing, still held.
	publish(t, q, caseEntry("pe-lima", "CASE-OLD", 4, queue.Normal))
	claim(t, q, "pe-lima", "bob")
	publish(t, q, caseEntry("pe-lima", "CASE-OLD", 5, queue.Urgent))
	l, err := q.Meta(ctx, "pe-lima", "CASE-OLD")
	if err != nil || l.Priority != queue.Urgent || l.Holder != "bob" || l.MessageCount != 3 {
		t.Fatalf("held case after an urgent message: %v %+v", err, l)
	}
	// A release hands it back as urgent, so that it is claimed first.
	publish(t, q, caseEntry("pe-lima", "CASE-N", 6, queue.Normal))
	if err := q.Release(ctx, "pe-lima", "CASE-OLD-m5", "bob"); err != nil {
		t.Fatal(err)
	}
	if c := claim(t, q, "pe-lima", "carol"); c.TipID != "CASE-OLD-m1" || c.Priority != queue.Urgent {
		t.Fatalf("after release: claimed %s (%s)", c.TipID, c.Priority)
	}
}

// TestAckClosesTheCase: ack closes every message of the case; a message
// after that opens a new item under the same case ref; retention then
// purges every message of the closed item, leaving no key behind.
func TestAckClosesTheCase(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	publishCase(t, q, "CASE-C", 3)
	claim(t, q, "pe-lima", "alice")
	if err := q.AddNote(ctx, "pe-lima", "CASE-C-m3", "alice", false, []byte("age-encryption.org/v1\nnote")); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, "pe-lima", "CASE-C-m2", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"CASE-C-m1", "CASE-C-m3"} {
		if l, err := q.Meta(ctx, "pe-lima", id); err != nil || l.State != queue.StateClosed {
			t.Fatalf("%s after ack: %v %+v", id, err, l)
		}
	}
	publish(t, q, caseEntry("pe-lima", "CASE-C", 4, queue.Normal))
	c := claim(t, q, "pe-lima", "bob")
	if c.TipID != "CASE-C-m4" || c.Case != "CASE-C" || len(c.Messages) != 1 {
		t.Fatalf("after close: claimed %s of %s with %d messages", c.TipID, c.Case, len(c.Messages))
	}
	if err := q.Ack(ctx, "pe-lima", "CASE-C", "bob", queue.NoAction); err != nil {
		t.Fatal(err)
	}
	if n, err := q.Purge(ctx, "pe-lima", time.Now().Add(time.Second)); n != 2 || err != nil {
		t.Fatalf("purged %d items: %v", n, err)
	}
	for _, k := range r.Keys(t) {
		if strings.HasSuffix(k, ":audit") || strings.HasSuffix(k, ":audit:head") || strings.Contains(k, ":tips:") {
			continue
		}
		t.Errorf("key left after the purge: %s", k)
	}
	for _, k := range []string{"index", "meta", "msgs", "cases", "closed", "open"} {
		if n, _ := r.Client.Exists(ctx, r.Prefix+":{pe-lima}:"+k).Result(); n != 0 {
			t.Errorf("%s left", k)
		}
	}
	for _, p := range queue.Priorities {
		if n := streamLen(t, r, p); n != 0 {
			t.Errorf("%d entries left in the %s stream", n, p)
		}
	}
}

// TestAppendIsIdempotent: the same appended message published again (a
// retry, a spool drain) is appended once.
func TestAppendIsIdempotent(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, caseEntry("pe-lima", "CASE-I", 1, queue.Normal))
	m2 := caseEntry("pe-lima", "CASE-I", 2, queue.Normal)
	for range 3 {
		b := &queue.Batch{}
		m2.Batch = b
		publish(t, q, m2)
		m2.Batch = nil
	}
	publish(t, q, caseEntry("pe-lima", "CASE-I", 1, queue.Normal))
	l, err := q.Meta(ctx, "pe-lima", "CASE-I")
	if err != nil || l.MessageCount != 2 {
		t.Fatalf("%v, %d messages, want 2", err, l.MessageCount)
	}
	c := claim(t, q, "pe-lima", "alice")
	if got := strings.Join(messageIDs(c.Messages), " "); got != "CASE-I-m1 CASE-I-m2" {
		t.Fatalf("messages %q", got)
	}
}

// TestNewCaseRace: messages of a new case published at once make one
// item, whether or not they are hinted as a new case (Entry.NewCase), and
// a republished hinted first message is not queued again.
func TestNewCaseRace(t *testing.T) {
	for _, hint := range []bool{false, true} {
		t.Run(fmt.Sprintf("NewCase=%v", hint), func(t *testing.T) { testNewCaseRace(t, hint) })
	}
}

func testNewCaseRace(t *testing.T, hint bool) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := caseEntry("pe-lima", "CASE-R", i, queue.Normal)
			e.NewCase = hint
			errs <- q.Publish(ctx, e)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		e := caseEntry("pe-lima", "CASE-R", 0, queue.Normal)
		e.NewCase = hint
		errs <- q.Publish(ctx, e)
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	list, err := q.List(ctx, "pe-lima", 0)
	if err != nil || len(list) != 1 || list[0].MessageCount != n {
		t.Fatalf("%v: %d items (%+v), want one of %d messages", err, len(list), list, n)
	}
	if n := streamLen(t, r, queue.Normal); n != 1 {
		t.Fatalf("stream entries: %d, want 1", n)
	}
}

// TestTransferCase: a case goes to another agency whole, every message
// re-sealed, in order; a transfer missing a message is refused.
func TestTransferCase(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publishCase(t, q, "CASE-T", 2)
	claim(t, q, "pe-lima", "alice")
	if err := q.Transfer(ctx, "pe-lima", "CASE-T", "alice", "my-kl", []byte("resealed 1"), nil); !errors.Is(err, queue.ErrCaseMessages) {
		t.Fatalf("transfer of one message of two: %v", err)
	}
	if err := q.TransferCase(ctx, "pe-lima", "CASE-T-m2", "alice", "my-kl", [][]byte{[]byte("resealed 1"), []byte("resealed 2")}, nil); err != nil {
		t.Fatal(err)
	}
	if l, err := q.Meta(ctx, "pe-lima", "CASE-T-m1"); err != nil || l.State != queue.StateClosed || l.Closed.Disposition != queue.Referred {
		t.Fatalf("source after the transfer: %v %+v", err, l)
	}
	c := claim(t, q, "my-kl", "bob")
	if len(c.Messages) != 2 || string(c.Messages[0].Sealed) != "resealed 1" || string(c.Messages[1].Sealed) != "resealed 2" || c.Messages[1].TipID != "CASE-T-m2" {
		t.Fatalf("target's case: %+v", c.Messages)
	}
}

// TestClaimTipByAnyMessage: `triage next ID` names a case by a later
// message's id or by its case ref; either claims the case's item, with
// every message in order, and the officer who holds it gets them again.
func TestClaimTipByAnyMessage(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publishCase(t, q, "CASE-A", 1)
	publishCase(t, q, "CASE-B", 3)
	c, err := q.ClaimTip(ctx, "pe-lima", "ana", "CASE-B-m3")
	if err != nil {
		t.Fatal(err)
	}
	want := "CASE-B-m1 CASE-B-m2 CASE-B-m3"
	if c.TipID != "CASE-B-m1" || strings.Join(messageIDs(c.Messages), " ") != want || len(c.Messages[2].Sealed) == 0 {
		t.Fatalf("claimed %s with %v, want CASE-B-m1 with %s, sealed", c.TipID, messageIDs(c.Messages), want)
	}
	again, err := q.ClaimTip(ctx, "pe-lima", "ana", "CASE-B")
	if err != nil || again.TipID != "CASE-B-m1" || strings.Join(messageIDs(again.Messages), " ") != want {
		t.Fatalf("the holder claiming by case ref: %v, %+v", err, again)
	}
	var held *queue.HeldError
	if _, err := q.ClaimTip(ctx, "pe-lima", "ben", "CASE-B-m2"); !errors.As(err, &held) || held.Holder != "ana" {
		t.Fatalf("another officer claiming by a later message: %v, want held by ana", err)
	}
	if next, err := q.Claim(ctx, "pe-lima", "ben"); err != nil || next.TipID != "CASE-A-m1" {
		t.Fatalf("next claim: %v %+v, want CASE-A-m1", err, next)
	}
}

// TestRaisedCaseLapsedClaimedAsUrgent: an urgent message raises a case
// while it is held; the holder's lease then lapses. The case is urgent, so
// the next claim takes it over before a younger urgent case, as a lapsed
// urgent tip is taken before new ones, though its entry is in the normal
// stream; the lapse is audited against the holder.
func TestRaisedCaseLapsedClaimedAsUrgent(t *testing.T) {
	const lease = 300 * time.Millisecond
	q, _ := newQueue(t, lease)
	ctx := context.Background()
	publish(t, q, caseEntry("pe-lima", "CASE-OLD", 1, queue.Normal))
	if c := claim(t, q, "pe-lima", "ana"); c.TipID != "CASE-OLD-m1" {
		t.Fatalf("ana claimed %s", c.TipID)
	}
	publish(t, q, caseEntry("pe-lima", "CASE-OLD", 2, queue.Urgent))
	publish(t, q, caseEntry("pe-lima", "CASE-U", 1, queue.Urgent))
	time.Sleep(lease + 100*time.Millisecond)
	c := claim(t, q, "pe-lima", "bob")
	if c.TipID != "CASE-OLD-m1" || c.Priority != queue.Urgent || len(c.Messages) != 2 {
		t.Fatalf("bob claimed %s (%s, %d messages), want the raised case CASE-OLD-m1, urgent, 2 messages", c.TipID, c.Priority, len(c.Messages))
	}
	if c := claim(t, q, "pe-lima", "cy"); c.TipID != "CASE-U-m1" {
		t.Fatalf("cy claimed %s, want CASE-U-m1", c.TipID)
	}
	log, err := q.AuditLog(ctx, "pe-lima", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	lapsed := false
	for _, e := range log {
		lapsed = lapsed || e.Action == queue.AuditLeaseLapsed && e.Officer == "ana" && e.Tip == "CASE-OLD-m1"
	}
	if !lapsed {
		t.Fatalf("ana's lapse is not in the trail: %+v", log)
	}
}

// TestWatchPastAChunk: Watch walks the open items as Count does (more than
// a chunk of them here, openChunk): its counts are Count's, and a message
// appended to a held case after the first call is told once, with its
// holder.
func TestWatchPastAChunk(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	held := entry("pe-lima", "held", queue.Urgent)
	publish(t, q, held)
	claim(t, q, "pe-lima", "alice")
	var es []queue.Entry
	for i := range 600 {
		es = append(es, entry("pe-lima", fmt.Sprintf("w%04d", i), queue.Normal))
	}
	publish(t, q, es...)
	seen := map[string]int{}
	c, told, err := q.Watch(ctx, "pe-lima", seen)
	if err != nil || len(told) != 0 || c.Held[queue.Urgent] != 1 || c.Waiting[queue.Normal] != 600 || len(seen) != 602 {
		t.Fatalf("first watch: %+v, told %v, %v; %d seen", c, told, err, len(seen))
	}
	if want, err := q.Count(ctx, "pe-lima"); err != nil || !reflect.DeepEqual(c, want) {
		t.Fatalf("watch counts %+v, count %+v (%v)", c, want, err)
	}
	more := entry("pe-lima", "held-2", queue.Normal)
	more.Case = held.Case
	publish(t, q, more)
	_, told, err = q.Watch(ctx, "pe-lima", seen)
	want := queue.Appended{Item: "held", Case: held.Case, Tip: "held-2", Holder: "alice", Priority: queue.Urgent}
	if err != nil || len(told) != 1 || told[0] != want {
		t.Fatalf("after an append: told %+v, %v; want %+v", told, err, want)
	}
	if _, told, err = q.Watch(ctx, "pe-lima", seen); err != nil || len(told) != 0 {
		t.Fatalf("told again: %+v, %v", told, err)
	}
}

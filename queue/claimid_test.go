package queue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// claimTip is ClaimTip that stops the test on an error.
func claimTip(t *testing.T, q *queue.Queue, officer, tip string) *queue.Claimed {
	t.Helper()
	c, err := q.ClaimTip(context.Background(), "pe-lima", officer, tip)
	if err != nil {
		t.Fatalf("%s claims %s: %v", officer, tip, err)
	}
	if c.TipID != tip {
		t.Fatalf("%s claimed %s, want %s", officer, c.TipID, tip)
	}
	return c
}

// claimsOf returns the tips of the audit trail's claim entries, in order,
// as officer:tip.
func claimsOf(t *testing.T, q *queue.Queue, actions ...string) []string {
	t.Helper()
	log, err := q.AuditLog(context.Background(), "pe-lima", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range log {
		if slices.Contains(actions, e.Action) {
			out = append(out, e.Action+" "+e.Officer+":"+e.Tip)
		}
	}
	return out
}

// TestClaimTipWaitingBehindOthers (issue 14: `triage next ID` ignored the
// id): a waiting tip third in line is claimed; the two it passed are not
// held by anyone and are claimed next, by another officer, in their order,
// after the urgent tip, before the newer one, each counted as delivered
// once.
func TestClaimTipWaitingBehindOthers(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q,
		entry("pe-lima", "n1", queue.Normal), entry("pe-lima", "n2", queue.Normal),
		entry("pe-lima", "n3", queue.Normal), entry("pe-lima", "n4", queue.Normal),
		entry("pe-lima", "u1", queue.Urgent))
	c := claimTip(t, q, "alice", "n3")
	if c.Deliveries != 1 || string(c.Sealed) != string(entry("pe-lima", "n3", queue.Normal).Sealed) ||
		time.Until(c.LeaseUntil) < 50*time.Second {
		t.Fatalf("claimed %+v, want n3 with its report, delivered once, leased for a minute", c)
	}
	list, err := q.List(ctx, "pe-lima", 0)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, l := range list {
		states = append(states, fmt.Sprintf("%s:%s:%s:%d", l.TipID, l.State, l.Holder, l.Deliveries))
	}
	if want := "[u1:waiting::0 n1:waiting::0 n2:waiting::0 n3:held:alice:1 n4:waiting::0]"; fmt.Sprint(states) != want {
		t.Fatalf("list after the chosen claim = %v, want %s", states, want)
	}
	var got []string
	for range 4 {
		c := claim(t, q, "pe-lima", "bob")
		if c.Deliveries != 1 {
			t.Errorf("%s handed out with %d deliveries, want 1 (passing it over is no delivery)", c.TipID, c.Deliveries)
		}
		got = append(got, c.TipID)
	}
	if want := "[u1 n1 n2 n4]"; fmt.Sprint(got) != want {
		t.Fatalf("bob's claims = %v, want %s", got, want)
	}
	if _, err := q.Claim(ctx, "pe-lima", "bob"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("claim after all: %v, want ErrEmpty", err)
	}
	want := []string{"claim alice:n3", "claim bob:u1", "claim bob:n1", "claim bob:n2", "claim bob:n4"}
	if got := claimsOf(t, q, queue.AuditClaim, queue.AuditLeaseLapsed, queue.AuditRelease); !slices.Equal(got, want) {
		t.Fatalf("audit = %v, want %v (no lapse or release for the tips passed over)", got, want)
	}
	if n, err := q.VerifyAudit(ctx, "pe-lima"); err != nil || n != 5 {
		t.Fatalf("verify = %d, %v", n, err)
	}
}

// TestClaimTipRefusals: held by another officer, closed and unknown tips
// are refused with what the officer needs to know, and nothing changes.
func TestClaimTipRefusals(t *testing.T) {
	q, _ := newQueueHeld(t, time.Minute, entry("pe-lima", "t1", queue.Normal), "alice")
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "t2", queue.Normal))

	_, err := q.ClaimTip(ctx, "pe-lima", "bob", "t1")
	var held *queue.HeldError
	if !errors.As(err, &held) || held.Holder != "alice" || time.Until(held.Until) < 50*time.Second || time.Until(held.Until) > time.Minute+time.Second {
		t.Fatalf("claim of a tip alice holds: %v, want a HeldError naming alice until about a minute from now", err)
	}
	if k, msg := fault.Of(err); k != fault.Conflict || !strings.Contains(msg, "held by alice until ") || !strings.Contains(msg, "release") {
		t.Fatalf("public answer = %v %q", k, msg)
	}

	// The holder asking again gets it back, renewed, and no second claim
	// in the trail.
	if c := claimTip(t, q, "alice", "t1"); c.Deliveries != 1 {
		t.Fatalf("alice's own tip: %d deliveries, want 1", c.Deliveries)
	}
	if got := claimsOf(t, q, queue.AuditClaim); len(got) != 1 {
		t.Fatalf("claims in the trail = %v, want alice's first only", got)
	}

	if err := q.Ack(ctx, "pe-lima", "t1", "alice", queue.Duplicate); err != nil {
		t.Fatal(err)
	}
	_, err = q.ClaimTip(ctx, "pe-lima", "bob", "t1")
	var closed *queue.ClosedError
	if !errors.As(err, &closed) || closed.Closed == nil || closed.Closed.Disposition != queue.Duplicate || closed.Closed.Officer != "alice" {
		t.Fatalf("claim of a closed tip: %v, want a ClosedError with the disposition", err)
	}
	if k, msg := fault.Of(err); k != fault.Conflict || !strings.Contains(msg, "closed as duplicate") {
		t.Fatalf("public answer = %v %q", k, msg)
	}

	for _, id := range []string{"nope", "", "t2 x", "*"} {
		if _, err := q.ClaimTip(ctx, "pe-lima", "bob", id); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("claim of %q: %v, want ErrNotFound", id, err)
		}
	}
	if _, err := q.ClaimTip(ctx, "my-kl", "bob", "t2"); !errors.Is(err, queue.ErrNotFound) {
		t.Errorf("claim of another agency's tip: %v, want ErrNotFound", err)
	}
	// None of that claimed t2.
	if c := claim(t, q, "pe-lima", "bob"); c.TipID != "t2" || c.Deliveries != 1 {
		t.Fatalf("claimed %s (%d deliveries), want t2 untouched", c.TipID, c.Deliveries)
	}
}

// TestClaimTipTakesOverLapsedAndReleased: a lapsed lease is taken over
// with the lapse in the trail, naming the former holder; a released tip
// without one; the former holder may no longer act on it.
func TestClaimTipTakesOverLapsedAndReleased(t *testing.T) {
	const lease = 300 * time.Millisecond
	q, _ := newQueueHeld(t, lease, entry("pe-lima", "t1", queue.Normal), "alice")
	ctx := context.Background()
	var c *queue.Claimed
	queuetest.WaitUntil(t, lease+5*time.Second, "alice's lease to lapse", func() error {
		var err error
		c, err = q.ClaimTip(ctx, "pe-lima", "bob", "t1")
		return err
	})
	if c.TipID != "t1" || c.Deliveries != 2 {
		t.Fatalf("took over %s with %d deliveries, want t1 with 2", c.TipID, c.Deliveries)
	}
	if err := q.Ack(ctx, "pe-lima", "t1", "alice", queue.Dispatched); !errors.Is(err, queue.ErrNotHeld) {
		t.Fatalf("ack by the former holder: %v, want ErrNotHeld", err)
	}
	if err := q.Release(ctx, "pe-lima", "t1", "bob"); err != nil {
		t.Fatal(err)
	}
	claimTip(t, q, "carol", "t1")
	want := []string{"claim alice:t1", "lease_lapsed alice:t1", "claim bob:t1", "release bob:t1", "claim carol:t1"}
	if got := claimsOf(t, q, queue.AuditClaim, queue.AuditLeaseLapsed, queue.AuditRelease); !slices.Equal(got, want) {
		t.Fatalf("audit = %v, want %v", got, want)
	}
}

// TestClaimTipAcknowledgedWithoutRecord: an entry acknowledged with no
// closure record (no action of the queue leaves one) is refused, not
// handed out again.
func TestClaimTipAcknowledgedWithoutRecord(t *testing.T) {
	q, r := newQueueHeld(t, time.Minute, entry("pe-lima", "t1", queue.Normal), "alice")
	ctx := context.Background()
	stream := r.Prefix + ":{pe-lima}:tips:normal"
	ids, err := r.Client.XRange(ctx, stream, "-", "+").Result()
	if err != nil || len(ids) != 1 {
		t.Fatalf("stream: %v, %v", ids, err)
	}
	if err := r.Client.XAck(ctx, stream, "triage", ids[0].ID).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = q.ClaimTip(ctx, "pe-lima", "bob", "t1")
	var held *queue.HeldError
	if !errors.Is(err, fault.Conflict) || errors.As(err, &held) {
		t.Fatalf("claim of an entry acknowledged without a record: %v, want a Conflict", err)
	}
	if _, err := q.Claim(ctx, "pe-lima", "bob"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("claim after: %v, want ErrEmpty", err)
	}
}

// TestClaimTipTooFar: a tip with more waiting tips ahead of it than a
// chosen claim passes over is refused, and none of them is touched.
func TestClaimTipTooFar(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	for i := range 102 {
		publish(t, q, entry("pe-lima", fmt.Sprintf("t%03d", i), queue.Normal))
	}
	_, err := q.ClaimTip(ctx, "pe-lima", "alice", "t101")
	var far *queue.TooFarError
	if !errors.As(err, &far) || !errors.Is(err, fault.Conflict) {
		t.Fatalf("claim of the 102nd tip: %v, want a TooFarError", err)
	}
	if depth, err := q.Depth(ctx, "pe-lima"); err != nil || depth[queue.Normal] != 102 {
		t.Fatalf("depth = %v, %v", depth, err)
	}
	if c := claim(t, q, "pe-lima", "bob"); c.TipID != "t000" || c.Deliveries != 1 {
		t.Fatalf("after the refusal bob claimed %s (%d deliveries), want t000", c.TipID, c.Deliveries)
	}
	// Held tips count: t000 held and t001..t100 waiting are 101.
	if _, err := q.ClaimTip(ctx, "pe-lima", "alice", "t101"); !errors.As(err, &far) {
		t.Fatalf("claim of t101 behind a held tip and 100 waiting: %v, want a TooFarError", err)
	}
	claimTip(t, q, "alice", "t100") // t000 held and 99 waiting ahead of it
	if c := claim(t, q, "pe-lima", "bob"); c.TipID != "t001" {
		t.Fatalf("bob claimed %s, want t001", c.TipID)
	}
}

// TestClaimTipHandsBackWithinTheScan: however many chosen claims pass
// over tips, and however many tips officers hold meanwhile, every tip
// handed back is claimed again, before any newer one, in order.
func TestClaimTipHandsBackWithinTheScan(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	for i := range 400 {
		publish(t, q, entry("pe-lima", fmt.Sprintf("t%03d", i), queue.Normal))
	}
	// Each round an officer claims from the head, and another chooses a
	// tip 60 places further on than the last round's: passing over the
	// tips between would leave more than the scan finds, so all but the
	// first are refused. Without the window, the tips handed back beyond
	// the scan were never claimed again ("no tip waiting").
	var chosen, refused int
	for round := range 6 {
		claim(t, q, "pe-lima", fmt.Sprintf("head-%d", round))
		_, err := q.ClaimTip(ctx, "pe-lima", fmt.Sprintf("chooser-%d", round), fmt.Sprintf("t%03d", 60*(round+1)))
		var far *queue.TooFarError
		switch {
		case err == nil:
			chosen++
		case errors.As(err, &far):
			refused++
		default:
			t.Fatal(err)
		}
	}
	if chosen == 0 {
		t.Fatalf("no chosen claim went through (%d refused)", refused)
	}
	// From here on claims come in the stream's order, skipping only the
	// tips held.
	held := map[string]bool{}
	list, err := q.List(ctx, "pe-lima", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.State == queue.StateHeld {
			held[l.TipID] = true
		}
	}
	var want, got []string
	for _, l := range list {
		if !held[l.TipID] {
			want = append(want, l.TipID)
		}
	}
	for range want {
		got = append(got, claim(t, q, "pe-lima", "sweeper").TipID)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("claims after the chosen ones:\n got %v\nwant %v", got, want)
	}
}

// TestClaimTipConcurrent: officers choosing the same tip at once, and
// officers claiming the head of the queue meanwhile, never get one tip
// twice, and every tip is handed out once.
func TestClaimTipConcurrent(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	const n = 30
	publishMixed(t, q, n, 4)
	var mu sync.Mutex
	holder := map[string]string{}
	take := func(officer string, c *queue.Claimed) {
		mu.Lock()
		defer mu.Unlock()
		if prev, dup := holder[c.TipID]; dup {
			t.Errorf("tip %s handed to %s and %s", c.TipID, prev, officer)
		}
		holder[c.TipID] = officer
	}
	var wg sync.WaitGroup
	// Pairs of officers choose the same tips, from the back of the queue.
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			officer := fmt.Sprintf("chooser-%d", w)
			for i := n - 1; i >= n/2; i -= 1 + w%2 {
				c, err := q.ClaimTip(ctx, "pe-lima", officer, fmt.Sprintf("t%02d", i))
				var held *queue.HeldError
				switch {
				case err == nil:
					take(officer, c)
				case errors.As(err, &held):
					if held.Holder == officer {
						t.Errorf("%s refused a tip it holds itself", officer)
					}
				default:
					t.Error(err)
				}
			}
		}()
	}
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			officer := fmt.Sprintf("header-%d", w)
			claimUntilEmpty(t, q, officer, func(c *queue.Claimed) { take(officer, c) })
		}()
	}
	wg.Wait()
	// What the choosers passed over and nobody claimed yet is waiting.
	claimUntilEmpty(t, q, "sweeper", func(c *queue.Claimed) { take("sweeper", c) })
	if len(holder) != n {
		t.Fatalf("handed out %d distinct tips, want %d", len(holder), n)
	}
	if got := claimsOf(t, q, queue.AuditClaim); len(got) != n {
		t.Fatalf("%d claims in the trail, want %d", len(got), n)
	}
}

// TestClaimTipSameTipAtOnce: of officers choosing one waiting tip at the
// same moment, exactly one gets it; the others learn who holds it.
func TestClaimTipSameTipAtOnce(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	publish(t, q, entry("pe-lima", "t1", queue.Normal), entry("pe-lima", "t2", queue.Normal))
	const officers = 8
	errs := make([]error, officers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range officers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = q.ClaimTip(context.Background(), "pe-lima", fmt.Sprintf("o%d", i), "t2")
		}()
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, err := range errs {
		if err == nil {
			if winner != "" {
				t.Fatalf("t2 claimed by %s and o%d", winner, i)
			}
			winner = fmt.Sprintf("o%d", i)
		}
	}
	if winner == "" {
		t.Fatalf("nobody claimed t2: %v", errs)
	}
	for _, err := range errs {
		var held *queue.HeldError
		if err != nil && (!errors.As(err, &held) || held.Holder != winner) {
			t.Fatalf("loser's error %v, want held by %s", err, winner)
		}
	}
	if c := claim(t, q, "pe-lima", "bob"); c.TipID != "t1" || c.Deliveries != 1 {
		t.Fatalf("next claim %s (%d deliveries), want t1 once", c.TipID, c.Deliveries)
	}
}

// TestClaimTipNotAuditedIsHandedBack: as with Claim, a chosen claim whose
// audit entry cannot be written is refused and the tip handed back, and
// the tips it passed over are waiting too.
func TestClaimTipNotAuditedIsHandedBack(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "t1", queue.Normal), entry("pe-lima", "t2", queue.Normal))
	faults := r.InjectFaults()
	faults.FailMatching(":audit")
	if _, err := q.ClaimTip(ctx, "pe-lima", "alice", "t2"); err == nil {
		t.Fatal("a claim with no audit entry was given")
	}
	faults.FailWhen(nil)
	var got []string
	for range 2 {
		got = append(got, claim(t, q, "pe-lima", "bob").TipID)
	}
	if fmt.Sprint(got) != "[t1 t2]" {
		t.Fatalf("after the refused claim bob claimed %v, want [t1 t2]", got)
	}
}

package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

func TestListCountShow(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "n1", queue.Normal), entry("pe-lima", "u1", queue.Urgent), entry("pe-lima", "n2", queue.Normal))
	c, err := q.Claim(ctx, "pe-lima", "alice")
	if err != nil || c.TipID != "u1" {
		t.Fatalf("claim = %v, %v", c, err)
	}
	list, err := q.List(ctx, "pe-lima", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].TipID != "u1" || list[0].State != queue.StateHeld || list[0].Holder != "alice" ||
		list[1].TipID != "n1" || list[1].State != queue.StateWaiting || list[2].TipID != "n2" {
		t.Fatalf("list = %+v", list)
	}
	for _, l := range list {
		if l.Sealed != nil {
			t.Fatalf("list carries the sealed report of %s", l.TipID)
		}
	}
	counts, err := q.Count(ctx, "pe-lima")
	if err != nil || counts.Held[queue.Urgent] != 1 || counts.Waiting[queue.Normal] != 2 || counts.Waiting[queue.Urgent] != 0 {
		t.Fatalf("counts = %+v, %v", counts, err)
	}
	if err := q.Ack(ctx, "pe-lima", "u1", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	l, sealed, err := q.Open(ctx, "pe-lima", "u1", "carla", true)
	if err != nil || l.State != queue.StateClosed || l.Closed == nil || l.Closed.Disposition != queue.Dispatched ||
		l.Closed.Officer != "alice" || len(sealed) == 0 {
		t.Fatalf("show closed = %+v, %d bytes, %v", l, len(sealed), err)
	}
	if list, _ := q.List(ctx, "pe-lima", 0); len(list) != 2 {
		t.Fatalf("closed tip still listed: %+v", list)
	}
	if _, err := q.Meta(ctx, "my-kl", "u1"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("show from another agency: %v", err)
	}
}

func TestEscalate(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "n1", queue.Normal), entry("pe-lima", "n2", queue.Normal))
	claim(t, q, "pe-lima", "alice")
	if err := q.Escalate(ctx, "pe-lima", "n1", "bob", "urgent"); !errors.Is(err, queue.ErrNotHeld) {
		t.Fatalf("escalate by non-holder: %v", err)
	}
	if err := q.Escalate(ctx, "pe-lima", "n1", "alice", "because"); !errors.Is(err, queue.ErrInvalid) {
		t.Fatalf("free-text reason: %v", err)
	}
	if err := q.Escalate(ctx, "pe-lima", "n1", "alice", "supervisor"); err != nil {
		t.Fatal(err)
	}
	c, err := q.Claim(ctx, "pe-lima", "bob")
	if err != nil || c.TipID != "n1" || c.Priority != queue.Urgent {
		t.Fatalf("next claim after escalation = %+v, %v; want n1 as urgent", c, err)
	}
	l, sealed, err := q.Open(ctx, "pe-lima", "n1", "bob", false)
	if err != nil || !l.Escalated || l.Holder != "bob" || len(sealed) == 0 {
		t.Fatalf("show = %+v, %v", l, err)
	}
	if err := q.Ack(ctx, "pe-lima", "n1", "bob", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	if n, err := q.VerifyAudit(ctx, "pe-lima"); err != nil || n < 4 {
		t.Fatalf("audit after escalation: %d, %v", n, err)
	}
}

func TestTransfer(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "t1", queue.Urgent))
	if err := q.Transfer(ctx, "pe-lima", "t1", "alice", "my-kl", []byte("resealed"), nil); !errors.Is(err, queue.ErrNotHeld) {
		t.Fatalf("transfer of an unclaimed tip: %v", err)
	}
	claim(t, q, "pe-lima", "alice")
	if err := q.Transfer(ctx, "pe-lima", "t1", "alice", "my-kl", []byte("resealed for kl"), nil); err != nil {
		t.Fatal(err)
	}
	l, err := q.Meta(ctx, "pe-lima", "t1")
	if err != nil || l.State != queue.StateClosed || l.Closed.Disposition != queue.Referred {
		t.Fatalf("original after transfer = %+v, %v", l, err)
	}
	c, err := q.Claim(ctx, "my-kl", "siti")
	if err != nil || c.TipID != "t1" || string(c.Sealed) != "resealed for kl" || c.Priority != queue.Urgent || c.Case != "CASE-t1" {
		t.Fatalf("target's claim = %+v, %v", c, err)
	}
	for _, a := range []string{"pe-lima", "my-kl"} {
		if _, err := q.VerifyAudit(ctx, a); err != nil {
			t.Fatalf("audit of %s: %v", a, err)
		}
	}
}

func TestNotes(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "t1", queue.Normal))
	if err := q.AddNote(ctx, "pe-lima", "t1", "alice", false, []byte("x")); !errors.Is(err, queue.ErrNotHolder) {
		t.Fatalf("note on a tip nobody holds: %v", err)
	}
	claim(t, q, "pe-lima", "alice")
	if err := q.AddNote(ctx, "pe-lima", "t1", "bob", false, []byte("x")); !errors.Is(err, queue.ErrNotHolder) {
		t.Fatalf("note by a colleague: %v", err)
	}
	if _, err := q.Notes(ctx, "pe-lima", "t1", "bob", false); !errors.Is(err, queue.ErrNotHolder) {
		t.Fatalf("notes read by a colleague: %v", err)
	}
	for _, n := range []string{"first", "second"} {
		if err := q.AddNote(ctx, "pe-lima", "t1", "alice", false, []byte("sealed "+n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.AddNote(ctx, "pe-lima", "nope", "alice", false, []byte("x")); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("note on unknown tip: %v", err)
	}
	notes, err := q.Notes(ctx, "pe-lima", "t1", "alice", false)
	if err != nil || len(notes) != 2 || string(notes[0].Sealed) != "sealed first" || notes[1].Officer != "alice" {
		t.Fatalf("notes = %+v, %v", notes, err)
	}
}

func TestPurgeDeletesClosedTipsAndKeepsTheAuditChain(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "old", queue.Normal), entry("pe-lima", "open", queue.Normal))
	claim(t, q, "pe-lima", "alice")
	if err := q.AddNote(ctx, "pe-lima", "old", "alice", false, []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, "pe-lima", "old", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	var hooked []string
	hook := func(ctx context.Context, agency, tip, caseRef string) error {
		hooked = append(hooked, agency+"/"+tip+"/"+caseRef)
		return nil
	}
	if n, err := q.Purge(ctx, "pe-lima", time.Now().Add(-time.Hour), hook); err != nil || n != 0 {
		t.Fatalf("purge with a cutoff before the ack: %d, %v", n, err)
	}
	n, err := q.Purge(ctx, "pe-lima", time.Now().Add(time.Second), hook)
	if err != nil || n != 1 || len(hooked) != 1 || hooked[0] != "pe-lima/old/CASE-old" {
		t.Fatalf("purge = %d, %v, hooks %v", n, err, hooked)
	}
	if _, err := q.Meta(ctx, "pe-lima", "old"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("purged tip still shown: %v", err)
	}
	if _, err := q.Meta(ctx, "pe-lima", "open"); err != nil {
		t.Fatalf("open tip lost: %v", err)
	}
	for _, k := range r.Keys(t) {
		if k == r.Prefix+":{pe-lima}:notes:old" {
			t.Fatalf("notes survived the purge")
		}
	}
	log, _ := q.AuditLog(ctx, "pe-lima", "", 100)
	if last := log[len(log)-1]; last.Action != queue.AuditRetention || last.Tip != "old" {
		t.Fatalf("last audit entry = %+v", last)
	}
	if _, err := q.VerifyAudit(ctx, "pe-lima"); err != nil {
		t.Fatalf("audit after purge: %v", err)
	}
}

// TestRetainPurgesThenStops: one pass purges the closed tips of every
// agency and runs the hooks; Retain returns when its context ends.
func TestRetainPurgesThenStops(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	for _, a := range []string{"pe-lima", "my-kl"} {
		publish(t, q, entry(a, "t-"+a, queue.Normal))
		claim(t, q, a, "alice")
		if err := q.Ack(ctx, a, "t-"+a, "alice", queue.Dispatched); err != nil {
			t.Fatal(err)
		}
	}
	purged := make(chan string, 2)
	rctx, cancel := context.WithCancel(ctx)
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		q.Retain(rctx, []string{"pe-lima", "my-kl"}, -time.Second, time.Hour, slog.New(slog.DiscardHandler),
			func(ctx context.Context, agency, tip, caseRef string) error {
				purged <- tip
				return nil
			})
	}()
	for range 2 {
		select {
		case <-purged:
		case <-time.After(10 * time.Second):
			t.Fatal("a closed tip was not purged")
		}
	}
	cancel()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Retain still running after its context ended")
	}
	if _, err := q.Meta(ctx, "pe-lima", "t-pe-lima"); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("closed tip kept: %v", err)
	}
}

// TestWhenCaseClosed: the cleanups run when the last open item of a case
// is purged, not while another item of the case is open (a message that
// arrived after the case was closed opened a new item); a failing cleanup
// does not stop the others.
func TestWhenCaseClosed(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	var es []queue.Entry
	for _, id := range []string{"a", "b"} {
		e := entry("pe-lima", id, queue.Normal)
		e.Case = "CASE-shared"
		es = append(es, e)
	}
	publish(t, q, es[0])
	var ran []string
	hook := q.WhenCaseClosed(
		func(ctx context.Context, agency, caseRef string) error {
			ran = append(ran, "handle "+agency+" "+caseRef)
			return errors.New("redis away")
		},
		func(ctx context.Context, agency, caseRef string) error {
			ran = append(ran, "thread "+caseRef)
			return nil
		})
	claim(t, q, "pe-lima", "alice")
	if err := q.Ack(ctx, "pe-lima", "a", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	publish(t, q, es[1])
	if n, err := q.Purge(ctx, "pe-lima", time.Now().Add(time.Second), hook); n != 1 || err != nil || len(ran) != 0 {
		t.Fatalf("purge with tip b still open: %d, %v, cleanups %v", n, err, ran)
	}
	claim(t, q, "pe-lima", "alice")
	if err := q.Ack(ctx, "pe-lima", "b", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	_, err := q.Purge(ctx, "pe-lima", time.Now().Add(time.Second), hook)
	if err == nil || len(ran) != 2 || ran[0] != "handle pe-lima CASE-shared" || ran[1] != "thread CASE-shared" {
		t.Fatalf("purge of the last tip: %v, cleanups %v", err, ran)
	}
}

func TestNewClient(t *testing.T) {
	r := queuetest.New(t)
	// The client the suite runs on, built the way the gateway builds it.
	o := queue.ClientOptions{URL: r.URL, Timeout: time.Second}
	if r.Kind == "cluster" {
		o = queue.ClientOptions{Mode: "cluster", Addrs: r.Addrs, Timeout: time.Second,
			Username: os.Getenv(queuetest.ClusterUserEnv), Password: os.Getenv(queuetest.ClusterPasswordEnv)}
	}
	rdb, err := queue.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := queue.NewClient(queue.ClientOptions{URL: "http://x"}); err == nil {
		t.Fatal("a URL that is not redis:// accepted")
	}
	cl, err := queue.NewClient(queue.ClientOptions{Mode: "cluster", Addrs: []string{"127.0.0.1:1"}, TLS: true, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping of a cluster that is not there")
	}
}

// TestListBackfillsMetadata: tips queued without clear metadata (by an
// older gateway: no meta or open entries) are listed and counted, and
// closed ones are not.
func TestListBackfillsMetadata(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	publish(t, q, entry("pe-lima", "a", queue.Normal), entry("pe-lima", "b", queue.Normal))
	claim(t, q, "pe-lima", "alice")
	if err := q.Ack(ctx, "pe-lima", "a", "alice", queue.NoAction); err != nil {
		t.Fatal(err)
	}
	// What an older gateway left behind: the entries' refs in the index,
	// no metadata.
	for _, id := range []string{"a", "b"} {
		var m struct {
			Ref string `json:"ref"`
		}
		if err := json.Unmarshal([]byte(r.Client.HGet(ctx, r.Prefix+":{pe-lima}:meta", id).Val()), &m); err != nil || m.Ref == "" {
			t.Fatalf("tip %s: no ref in its metadata (%v)", id, err)
		}
		r.Client.HSet(ctx, r.Prefix+":{pe-lima}:index", id, m.Ref)
	}
	r.Client.Del(ctx, r.Prefix+":{pe-lima}:meta", r.Prefix+":{pe-lima}:open")
	list, err := q.List(ctx, "pe-lima", 0)
	if err != nil || len(list) != 1 || list[0].TipID != "b" || list[0].Case != "CASE-b" || list[0].State != queue.StateWaiting {
		t.Fatalf("after the backfill: %+v, %v", list, err)
	}
	if l, err := q.Meta(ctx, "pe-lima", "a"); err != nil || l.State != queue.StateClosed || l.Case != "CASE-a" {
		t.Fatalf("closed tip after the backfill: %+v, %v", l, err)
	}
}

// TestLapsedLeaseGivesNoAccess: once a lease lapsed, its former holder can
// neither renew it, nor read the tip, nor add a note; a supervisor can read
// and note it, and each read is audited.
func TestLapsedLeaseGivesNoAccess(t *testing.T) {
	const lease = 200 * time.Millisecond
	q, _ := newQueueHeld(t, lease, entry("pe-lima", "l1", queue.Urgent), "alice")
	ctx := context.Background()
	if _, sealed, err := q.Open(ctx, "pe-lima", "l1", "alice", false); err != nil || len(sealed) == 0 {
		t.Fatalf("holder's read: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := q.Meta(ctx, "pe-lima", "l1")
		if err != nil {
			t.Fatal(err)
		}
		if l.State == queue.StateWaiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease did not lapse")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := q.Renew(ctx, "pe-lima", "l1", "alice"); !errors.Is(err, queue.ErrLeaseLapsed) {
		t.Fatalf("renew after the lapse: %v", err)
	}
	if _, _, err := q.Open(ctx, "pe-lima", "l1", "alice", false); !errors.Is(err, queue.ErrNotHolder) {
		t.Fatalf("read after the lapse: %v", err)
	}
	if err := q.AddNote(ctx, "pe-lima", "l1", "alice", false, []byte("x")); !errors.Is(err, queue.ErrLeaseLapsed) {
		t.Fatalf("note after the lapse: %v", err)
	}
	if _, sealed, err := q.Open(ctx, "pe-lima", "l1", "carla", true); err != nil || len(sealed) == 0 {
		t.Fatalf("supervisor's read: %v", err)
	}
	if err := q.AddNote(ctx, "pe-lima", "l1", "carla", true, []byte("x")); err != nil {
		t.Fatalf("supervisor's note: %v", err)
	}
	log, _ := q.AuditLog(ctx, "pe-lima", "", 100)
	n := len(log)
	if n < 2 || log[n-2].Action != queue.AuditRead || log[n-2].Officer != "carla" || log[n-2].Detail != "report" || log[n-1].Action != queue.AuditNote {
		t.Fatalf("audit trail ends with %+v", log[max(0, n-2):])
	}
	if _, err := q.VerifyAudit(ctx, "pe-lima"); err != nil {
		t.Fatal(err)
	}
}

// TestLapsedHolderActsOnlyAfterTheLapseIsAudited: a holder whose lease
// lapsed, and whom nobody has taken the tip from yet, may still close,
// release or escalate it, but the trail first says that the lease lapsed:
// it never shows a holder acting under a lease they no longer had. Within
// the lease no lapse is written.
func TestLapsedHolderActsOnlyAfterTheLapseIsAudited(t *testing.T) {
	const lease = 200 * time.Millisecond
	ctx := context.Background()
	for _, tc := range []struct {
		action string
		do     func(q *queue.Queue, id string) error
	}{
		{queue.AuditAck, func(q *queue.Queue, id string) error { return q.Ack(ctx, "pe-lima", id, "alice", queue.Dispatched) }},
		{queue.AuditRelease, func(q *queue.Queue, id string) error { return q.Release(ctx, "pe-lima", id, "alice") }},
		{queue.AuditEscalate, func(q *queue.Queue, id string) error { return q.Escalate(ctx, "pe-lima", id, "alice", "urgent") }},
	} {
		t.Run(tc.action, func(t *testing.T) {
			id := "lapse-" + tc.action
			q, _ := newQueueHeld(t, lease, entry("pe-lima", id, queue.Normal), "alice")
			waitState(t, q, id, queue.StateWaiting)
			if err := tc.do(q, id); err != nil {
				t.Fatalf("%s after the lapse: %v", tc.action, err)
			}
			log, _ := q.AuditLog(ctx, "pe-lima", "", 100)
			n := len(log)
			if n < 2 || log[n-2].Action != queue.AuditLeaseLapsed || log[n-2].Officer != "alice" || log[n-2].Tip != id ||
				log[n-1].Action != tc.action || log[n-1].Officer != "alice" {
				t.Fatalf("audit trail ends with %+v, want lease_lapsed then %s", log[max(0, n-2):], tc.action)
			}
			if _, err := q.VerifyAudit(ctx, "pe-lima"); err != nil {
				t.Fatal(err)
			}

			// Within the lease: no lapse in the trail.
			id2 := id + "-in-time"
			q, _ = newQueueHeld(t, lease, entry("pe-lima", id2, queue.Normal), "alice")
			if err := tc.do(q, id2); err != nil {
				t.Fatalf("%s within the lease: %v", tc.action, err)
			}
			log, _ = q.AuditLog(ctx, "pe-lima", "", 100)
			if n := len(log); log[n-1].Action != tc.action || log[n-2].Action != queue.AuditClaim {
				t.Fatalf("within the lease the trail ends with %+v, want claim then %s", log[n-2:], tc.action)
			}
		})
	}
}

// waitState waits until the queue itself says tip id is in state.
func waitState(t *testing.T, q *queue.Queue, id, state string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := q.Meta(context.Background(), "pe-lima", id)
		if err != nil {
			t.Fatal(err)
		}
		if l.State == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("tip %s stays %s, want %s", id, l.State, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCountPastAChunk: a queue of more open tips than one chunk of
// eachOpen is counted whole, held, waiting and closed told apart, with the
// oldest waiting tip of each priority.
func TestCountPastAChunk(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	base := time.UnixMilli(1_700_000_000_000).UTC()
	var es []queue.Entry
	for i := range 1100 {
		p := queue.Normal
		if i%8 == 0 {
			p = queue.Urgent // 138 urgent
		}
		e := entry("pe-lima", fmt.Sprintf("t%04d", i), p)
		e.ReceivedAt = base.Add(time.Duration(i) * time.Second)
		es = append(es, e)
	}
	publish(t, q, es...)
	// Three urgent held (t0000, t0008, t0016), one of them closed; the
	// oldest waiting urgent is then t0024.
	for range 3 {
		claim(t, q, "pe-lima", "alice")
	}
	if err := q.Ack(ctx, "pe-lima", "t0000", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	c, err := q.Count(ctx, "pe-lima")
	if err != nil {
		t.Fatal(err)
	}
	if c.Held[queue.Urgent] != 2 || c.Waiting[queue.Urgent] != 135 || c.Waiting[queue.Normal] != 962 || c.Held[queue.Normal] != 0 {
		t.Fatalf("counts %+v; want 2 urgent held, 135 urgent and 962 normal waiting", c)
	}
	if got, want := c.OldestWaiting[queue.Urgent], base.Add(24*time.Second); !got.Equal(want) {
		t.Fatalf("oldest waiting urgent %v, want %v", got, want)
	}
	if got, want := c.OldestWaiting[queue.Normal], base.Add(time.Second); !got.Equal(want) {
		t.Fatalf("oldest waiting normal %v, want %v", got, want)
	}
	// A list's worth (maxList, 1000) of the 1099 open: the 137 urgent,
	// then the 863 oldest normal, each oldest first.
	list, err := q.List(ctx, "pe-lima", 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := 8; i < 1100; i += 8 {
		want = append(want, fmt.Sprintf("t%04d", i))
	}
	for i := 1; len(want) < 1000; i++ {
		if i%8 != 0 {
			want = append(want, fmt.Sprintf("t%04d", i))
		}
	}
	got := make([]string, len(list))
	for i, l := range list {
		got[i] = l.TipID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %d: %v ... %v; want %d: %v ... %v", len(got), got[:min(3, len(got))], got[max(0, len(got)-3):], len(want), want[:3], want[len(want)-3:])
	}
	if list, err := q.List(ctx, "pe-lima", 5); err != nil || len(list) != 5 || list[0].TipID != "t0008" || list[4].TipID != "t0040" {
		t.Fatalf("a list of 5: %+v, %v", list, err)
	}
}

// TestWhenCaseClosedPastAListPage: a case's other tip still open keeps its
// cleanups from running even when more tips are open than a list holds
// (maxList) and that tip comes after them.
func TestWhenCaseClosedPastAListPage(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	closeFirstOfCaseX(t, q)
	var fillers []queue.Entry
	for i := range 1000 {
		fillers = append(fillers, entry("pe-lima", fmt.Sprintf("f%04d", i), queue.Normal))
	}
	publish(t, q, fillers...)
	second := entry("pe-lima", "second", queue.Normal)
	second.Case = "CASE-x"
	publish(t, q, second)
	if purgeFirstOfCaseX(t, q) != 0 {
		t.Fatal("the case's cleanups ran while its second tip, the 1001st open, is open")
	}
}

// closeFirstOfCaseX queues tip "first" of case CASE-x and closes it.
func closeFirstOfCaseX(t *testing.T, q *queue.Queue) {
	t.Helper()
	first := entry("pe-lima", "first", queue.Normal)
	first.Case = "CASE-x"
	publish(t, q, first)
	claim(t, q, "pe-lima", "alice")
	if err := q.Ack(context.Background(), "pe-lima", "first", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
}

// purgeFirstOfCaseX purges the closed tip "first" with WhenCaseClosed and
// returns how many of its case's cleanups ran.
func purgeFirstOfCaseX(t *testing.T, q *queue.Queue) int {
	t.Helper()
	ran := 0
	hook := q.WhenCaseClosed(func(ctx context.Context, agency, caseRef string) error {
		ran++
		return nil
	})
	if n, err := q.Purge(context.Background(), "pe-lima", time.Now().Add(time.Second), hook); n != 1 || err != nil {
		t.Fatalf("purge: %d, %v", n, err)
	}
	return ran
}

// TestWhenCaseClosedCostsTheSameWhateverTheQueue: the hook looks up the
// purged tip's case, not the open queue. It read every open item, in
// chunks, for each tip purged: a retention run after a flood was
// quadratic. Purging a closed tip now costs the same commands beside 10
// open tips as beside 1100.
func TestWhenCaseClosedCostsTheSameWhateverTheQueue(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	h := &queuetest.Counter{}
	r.Client.AddHook(h)
	ctx := context.Background()
	closeOne := func(agency, id string) queue.Entry {
		e := entry(agency, id, queue.Normal)
		publish(t, q, e)
		claim(t, q, agency, "alice")
		if err := q.Ack(ctx, agency, id, "alice", queue.Dispatched); err != nil {
			t.Fatal(err)
		}
		return e
	}
	// purge purges the agency's one closed tip, checks that its case's
	// cleanups ran, and returns the commands it took.
	purge := func(agency string, e queue.Entry) int64 {
		var ran []string
		hook := q.WhenCaseClosed(func(ctx context.Context, _, caseRef string) error {
			ran = append(ran, caseRef)
			return nil
		})
		before := h.Commands.Load()
		if n, err := q.Purge(ctx, agency, time.Now().Add(time.Second), hook); n != 1 || err != nil {
			t.Fatalf("%s: purge: %d, %v", agency, n, err)
		}
		if len(ran) != 1 || ran[0] != e.Case {
			t.Fatalf("%s: cleanups of a closed case: %v", agency, ran)
		}
		return h.Commands.Load() - before
	}
	cost := func(agency string, open int) int64 {
		// Once per Redis node: the scripts loaded, say.
		purge(agency, closeOne(agency, agency+"-warm"))
		closed := closeOne(agency, agency+"-closed")
		var fillers []queue.Entry
		for i := range open {
			fillers = append(fillers, entry(agency, fmt.Sprintf("%s-%04d", agency, i), queue.Normal))
		}
		publish(t, q, fillers...)
		return purge(agency, closed)
	}
	small, large := cost("pe-cusco", 10), cost("pe-lima", 1100)
	if small != large {
		t.Fatalf("purging a closed tip took %d commands beside 10 open tips, %d beside 1100", small, large)
	}
}

// TestWhenCaseClosedFindsAnOlderGatewaysItem: an open item filed the way
// a gateway older than the cases hash filed it (in the open set only)
// keeps its case's reply handle and thread.
func TestWhenCaseClosedFindsAnOlderGatewaysItem(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	closeFirstOfCaseX(t, q)
	second := entry("pe-lima", "second", queue.Normal)
	second.Case = "CASE-x"
	publish(t, q, second)
	// As an older gateway left it: not in cases, in the open set.
	if n, err := r.Client.HDel(ctx, r.Prefix+":{pe-lima}:cases", "CASE-x").Result(); n != 1 || err != nil {
		t.Fatalf("the case was not filed in cases: %d, %v", n, err)
	}
	r.Client.SAdd(ctx, r.Prefix+":{pe-lima}:open", "second")
	if purgeFirstOfCaseX(t, q) != 0 {
		t.Fatal("the case's cleanups ran while an older gateway's item of it is open")
	}
}

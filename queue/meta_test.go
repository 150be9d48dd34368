package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
)

// TestEnsureBackfillsMetadata: tips queued without clear metadata (by an
// older gateway: no meta or open entries) are listed and counted, and
// closed ones are not.
func TestListBackfillsMetadata(t *testing.T) {
	q, r := newQueue(t, time.Minute)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		if err := q.Publish(ctx, entry("pe-lima", id, queue.Normal)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Claim(ctx, "pe-lima", "alice"); err != nil {
		t.Fatal(err)
	}
	if err := q.Ack(ctx, "pe-lima", "a", "alice", queue.NoAction); err != nil {
		t.Fatal(err)
	}
	// What an older gateway left behind.
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
	q, _ := newQueue(t, lease)
	ctx := context.Background()
	if err := q.Publish(ctx, entry("pe-lima", "l1", queue.Urgent)); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Claim(ctx, "pe-lima", "alice"); err != nil {
		t.Fatal(err)
	}
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

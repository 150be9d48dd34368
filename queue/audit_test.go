package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// shift runs a small shift: tokens, claims, a release, a lapse, acks.
func shift(t *testing.T, q *queue.Queue) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := officer.New(q).Add(ctx, "pe-lima", "Ana", officer.RoleOfficer); err != nil {
		t.Fatal(err)
	}
	publish(t, q, entry("pe-lima", "t1", queue.Normal), entry("pe-lima", "t2", queue.Normal))
	c := claim(t, q, "pe-lima", "alice")
	if err := q.Release(ctx, "pe-lima", c.TipID, "alice"); err != nil {
		t.Fatal(err)
	}
	c = claim(t, q, "pe-lima", "bob")
	if err := q.Ack(ctx, "pe-lima", c.TipID, "bob", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	claim(t, q, "pe-lima", "carol")
	c = claimWhenLapsed(t, q, "dave")
	if err := q.Ack(ctx, "pe-lima", c.TipID, "dave", queue.NoAction); err != nil {
		t.Fatal(err)
	}
}

func TestAuditRecordsEveryAction(t *testing.T) {
	q, _ := newQueue(t, 300*time.Millisecond)
	shift(t, q)
	log, err := q.AuditLog(context.Background(), "pe-lima", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log {
		got = append(got, e.Action+":"+e.Officer)
	}
	want := []string{"token_add:", "claim:alice", "release:alice", "claim:bob", "ack:bob",
		"claim:carol", "lease_lapsed:carol", "claim:dave", "ack:dave"}
	if len(got) != len(want) {
		t.Fatalf("audit = %v\nwant   %v", got, want)
	}
	for i := range want {
		if want[i] == "token_add:" {
			if got[i][:len("token_add:")] != "token_add:" {
				t.Errorf("entry %d = %s, want a token_add", i, got[i])
			}
			continue
		}
		if got[i] != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
	if log[4].Detail != "dispatched" || log[8].Detail != "no_action" {
		t.Errorf("ack details = %q, %q", log[4].Detail, log[8].Detail)
	}
	n, err := q.VerifyAudit(context.Background(), "pe-lima")
	if err != nil || n != int64(len(want)) {
		t.Fatalf("verify = %d, %v; want %d entries intact", n, err, len(want))
	}
}

func TestAuditVerifyNamesFirstBrokenEntry(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(t *testing.T, r redis.UniversalClient, stream, head string, ids []string)
		want   int // index of the first entry reported broken; -1 for the end
	}{
		{"altered detail", func(t *testing.T, r redis.UniversalClient, stream, head string, ids []string) {
			rewrite(t, r, stream, func(i int, v map[string]any) { // an officer hides an ack's disposition
				if i == 4 {
					v["detail"] = "false_report"
				}
			})
		}, 4},
		{"altered officer", func(t *testing.T, r redis.UniversalClient, stream, head string, ids []string) {
			rewrite(t, r, stream, func(i int, v map[string]any) {
				if i == 2 {
					v["officer"] = "mallory"
				}
			})
		}, 2},
		{"entry removed", func(t *testing.T, r redis.UniversalClient, stream, head string, ids []string) {
			r.XDel(context.Background(), stream, ids[3])
		}, 4},
		{"last entry removed", func(t *testing.T, r redis.UniversalClient, stream, head string, ids []string) {
			r.XDel(context.Background(), stream, ids[len(ids)-1])
		}, -1},
		{"forged entry appended without the key", func(t *testing.T, r redis.UniversalClient, stream, head string, ids []string) {
			r.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: map[string]any{
				"seq": 10, "at": 1, "action": "ack", "officer": "x", "tip": "t", "detail": "", "prev": "p", "mac": "00"}})
		}, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, r := newQueue(t, 300*time.Millisecond)
			shift(t, q)
			ctx := context.Background()
			stream := r.Prefix + ":{pe-lima}:audit"
			log, _ := q.AuditLog(ctx, "pe-lima", "", 100)
			var ids []string
			for _, e := range log {
				ids = append(ids, e.ID)
			}
			tt.tamper(t, r.Client, stream, stream+":head", ids)
			_, err := q.VerifyAudit(ctx, "pe-lima")
			var br *queue.AuditBreak
			if !errors.As(err, &br) || !errors.Is(err, queue.ErrAuditBroken) {
				t.Fatalf("verify after tampering: err = %v, want an AuditBreak", err)
			}
			switch {
			case tt.want == -1 && br.ID != "end":
				t.Fatalf("break at %s, want at the end", br.ID)
			case tt.want >= 0 && tt.want < len(ids) && br.ID != ids[tt.want]:
				t.Fatalf("break at %s (%s), want entry %d (%s)", br.ID, br.Reason, tt.want, ids[tt.want])
			}
		})
	}
}

// rewrite recreates the audit stream with f applied to each entry's fields,
// keeping the ids, as someone with Redis access could.
func rewrite(t *testing.T, r redis.UniversalClient, stream string, f func(int, map[string]any)) {
	t.Helper()
	ctx := context.Background()
	msgs := r.XRange(ctx, stream, "-", "+").Val()
	r.Del(ctx, stream)
	for i, m := range msgs {
		f(i, m.Values)
		if err := r.XAdd(ctx, &redis.XAddArgs{Stream: stream, ID: m.ID, Values: m.Values}).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditConcurrentWritersKeepOneChain(t *testing.T) {
	q, _ := newQueue(t, time.Minute)
	ctx := context.Background()
	errs := make(chan error, 40)
	for i := range 40 {
		go func() { errs <- q.Audit(ctx, "pe-lima", queue.AuditNote, "o", "t", string(rune('a'+i%26))) }()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	n, err := q.VerifyAudit(ctx, "pe-lima")
	if err != nil || n != 40 {
		t.Fatalf("verify = %d, %v; want 40 intact", n, err)
	}
}

// TestClaimNotAuditedIsHandedBack: a claim whose audit entry cannot be
// written is refused and handed back at once; when the hand-back fails
// too, the error says so, and the tip returns when its lease lapses.
func TestClaimNotAuditedIsHandedBack(t *testing.T) {
	const lease = 2 * time.Second
	q, r := newQueue(t, lease)
	ctx := context.Background()
	for _, id := range []string{"t1", "t2"} {
		if err := q.Publish(ctx, entry("pe-lima", id, queue.Normal)); err != nil {
			t.Fatal(err)
		}
	}
	faults := r.InjectFaults()
	faults.FailMatching(":audit")
	if _, err := q.Claim(ctx, "pe-lima", "alice"); err == nil {
		t.Fatal("a claim with no audit entry was given")
	}
	faults.FailWhen(nil)
	c, err := q.Claim(ctx, "pe-lima", "bob")
	if err != nil || c.Entry.TipID != "t1" {
		t.Fatalf("after the refused claim: %+v, %v; want t1 handed back to the queue", c, err)
	}

	faults.FailWhen(func(args string) bool { return strings.Contains(args, ":audit") || strings.Contains(args, "XCLAIM") })
	_, err = q.Claim(ctx, "pe-lima", "alice")
	if !errors.Is(err, queue.ErrUnavailable) || !strings.Contains(err.Error(), "not handed back") {
		t.Fatalf("claim with audit and hand-back failing: %v; want ErrUnavailable saying it was not handed back", err)
	}
	faults.FailWhen(nil)
	if _, err := q.Claim(ctx, "pe-lima", "carol"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("within the lease: %v; want the queue empty (t2 still claimed)", err)
	}
	queuetest.WaitUntil(t, 5*lease, "the unrecorded claim's lease to lapse", func() error {
		c, err := q.Claim(ctx, "pe-lima", "carol")
		if err != nil {
			return err
		}
		if c.Entry.TipID != "t2" {
			return fmt.Errorf("claimed %s, want t2", c.Entry.TipID)
		}
		return nil
	})
}

package conversation_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/queue"
)

// TestHandleKeptInSenderRecord: a handle written with its tip (Ops) is in
// the sender's record, sealed, with no key of its own, and the tip's
// sealed Reach leads to it. It is found through the case's open item, and
// through its tip once the case is closed; DeleteHandle, CloseThread and
// its TTL end it; a transfer's copy is listed for the new agency, whose
// copy of the tip carries the Reach, and UncopyHandle takes back the copy
// of a transfer that failed, found through the old agency.
func TestHandleKeptInSenderRecord(t *testing.T) {
	s, r := newStore(t)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix, Lease: time.Minute})
	ctx := context.Background()
	const number = "+51987650077"
	h := conversation.Handle{From: number, To: "+15005550006", Channel: "sms", Sender: "p7"}
	now := time.Now().Truncate(time.Millisecond)
	msg := func(caseRef string, ttl time.Duration) conversation.Message {
		return conversation.Message{Sender: "p7", Case: caseRef, Agencies: []string{"pe-lima"}, Seq: 1, Last: now,
			ThreadWindow: 30 * time.Minute, Handle: &h, HandleTTL: ttl, Read: s.ReadSender(ctx, "p7", "")}
	}
	noHandle := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, conversation.ErrNoHandle) {
			t.Fatalf("%s: %v, want ErrNoHandle", what, err)
		}
	}

	publishWith(t, s, q, "tip-a", msg("AAAA-0001", time.Hour))
	for _, k := range r.Keys(t) {
		if strings.Contains(k, ":handle:") {
			t.Fatalf("a handle key was written: %s", k)
		}
		if v := r.Admin.Dump(ctx, k).Val(); strings.Contains(v, number) || strings.Contains(v, `"p7"`) {
			t.Fatalf("the number or the sender's pseudonym is in clear in %s", k)
		}
	}
	if v := r.Client.Get(ctx, r.Prefix+":thread:{p7}").Val(); !strings.Contains(v, `"h":`) {
		t.Fatalf("the record holds no sealed handle: %s", v)
	}
	if got, last, err := s.Handle(ctx, "pe-lima", "AAAA-0001"); err != nil || got != h || !last.Equal(now) {
		t.Fatalf("handle through the open case: %+v %v %v", got, last, err)
	}
	noHandle("another agency", func() error { _, _, err := s.Handle(ctx, "my-kl", "AAAA-0001"); return err }())

	// Closed: the case leads nowhere, its tip still does.
	c, err := q.Claim(ctx, "pe-lima", "alice")
	if err != nil || c.TipID != "tip-a" {
		t.Fatalf("claim: %+v %v", c, err)
	}
	if err := q.Ack(ctx, "pe-lima", "tip-a", "alice", queue.Dispatched); err != nil {
		t.Fatal(err)
	}
	noHandle("the closed case", func() error { _, _, err := s.Handle(ctx, "pe-lima", "AAAA-0001"); return err }())
	if got, _, err := s.HandleOf(ctx, "pe-lima", "AAAA-0001", "tip-a"); err != nil || got != h {
		t.Fatalf("handle through the closed case's tip: %+v %v", got, err)
	}
	noHandle("a tip of another case", func() error { _, _, err := s.HandleOf(ctx, "pe-lima", "BBBB-0002", "tip-a"); return err }())
	if err := s.DeleteHandle(ctx, "pe-lima", "AAAA-0001", "tip-a"); err != nil {
		t.Fatal(err)
	}
	noHandle("after DeleteHandle", func() error { _, _, err := s.HandleOf(ctx, "pe-lima", "AAAA-0001", "tip-a"); return err }())

	// A transfer: the copy is listed for the new agency; the tip's copy
	// there carries the Reach (TransferCase publishes the tip's metadata).
	publishWith(t, s, q, "tip-b", msg("BBBB-0002", time.Hour))
	if ok, err := s.CopyHandle(ctx, "pe-lima", "my-kl", "BBBB-0002"); err != nil || !ok {
		t.Fatalf("copy: %v %v", ok, err)
	}
	// Again (a transfer tried again after a crash): the copy made is it.
	if ok, err := s.CopyHandle(ctx, "pe-lima", "my-kl", "BBBB-0002"); err != nil || !ok {
		t.Fatalf("a second copy: %v %v; want the first to stand for it", ok, err)
	}
	if err := s.UncopyHandle(ctx, "pe-lima", "my-kl", "BBBB-0002"); err != nil {
		t.Fatal(err)
	}
	if v := r.Client.Get(ctx, r.Prefix+":thread:{p7}").Val(); strings.Contains(v, "my-kl") {
		t.Fatalf("the copy outlived UncopyHandle: %s", v)
	}
	if ok, err := s.CopyHandle(ctx, "pe-lima", "my-kl", "BBBB-0002"); err != nil || !ok {
		t.Fatalf("a copy after the failed transfer: %v %v", ok, err)
	}
	l, err := q.Meta(ctx, "pe-lima", "tip-b")
	if err != nil || len(l.Reach) == 0 {
		t.Fatalf("meta of tip-b: %+v %v", l, err)
	}
	moved := l.Entry
	moved.Agency, moved.Sealed = "my-kl", []byte("age-encryption.org/v1\n-> X25519 moved")
	if err := q.Publish(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Handle(ctx, "my-kl", "BBBB-0002"); err != nil || got != h {
		t.Fatalf("the new agency's handle: %+v %v", got, err)
	}
	// The thread's case is BBBB-0002: closing the thread ends its handle.
	if err := s.CloseThread(ctx, "p7"); err != nil {
		t.Fatal(err)
	}
	noHandle("after CloseThread", func() error { _, _, err := s.Handle(ctx, "pe-lima", "BBBB-0002"); return err }())

	// The TTL: the record's entry ends, whatever key still lives.
	publishWith(t, s, q, "tip-c", msg("CCCC-0003", 50*time.Millisecond))
	time.Sleep(80 * time.Millisecond)
	noHandle("after the TTL", func() error { _, _, err := s.Handle(ctx, "pe-lima", "CCCC-0003"); return err }())
}

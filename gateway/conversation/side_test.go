package conversation_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

// TestExitAcrossGatewaysDestroysEveryHandle: an exit word taken by one
// gateway destroys the handles another gateway saved for the sender, of
// every case however old; a handle from before the exit that escaped the
// index is refused all the same; a message after the exit is reachable.
func TestExitAcrossGatewaysDestroysEveryHandle(t *testing.T) {
	r := queuetest.New(t)
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	a := conversation.New(r.Client, r.Prefix, time.Second, key)
	b := conversation.New(r.Client, r.Prefix, time.Second, key)
	ctx := context.Background()
	h := conversation.Handle{From: "+51987654321", To: "+15005550006", Channel: "sms", Sender: "p1"}
	t0 := time.Now().Add(-3 * time.Hour)
	for i, c := range []struct{ agency, caseRef string }{{"pe-lima", "AAAA-AAAA"}, {"my-kl", "BBBB-BBBB"}} {
		if err := a.SaveHandle(ctx, c.agency, c.caseRef, h, t0.Add(time.Duration(i)*time.Hour), 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Exit(ctx, "p1", t0.Add(2*time.Hour), 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ agency, caseRef string }{{"pe-lima", "AAAA-AAAA"}, {"my-kl", "BBBB-BBBB"}} {
		if _, _, err := a.Handle(ctx, c.agency, c.caseRef); !errors.Is(err, conversation.ErrNoHandle) {
			t.Errorf("%s %s: handle survived the exit word: %v", c.agency, c.caseRef, err)
		}
		if n, _ := r.Client.Exists(ctx, r.Prefix+":{"+c.agency+"}:handle:"+c.caseRef).Result(); n != 0 {
			t.Errorf("%s %s: the sealed handle is still in Redis", c.agency, c.caseRef)
		}
	}
	// Saved by a slow gateway for a message from before the exit.
	if err := a.SaveHandle(ctx, "pe-lima", "CCCC-CCCC", h, t0.Add(90*time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Handle(ctx, "pe-lima", "CCCC-CCCC"); !errors.Is(err, conversation.ErrNoHandle) {
		t.Errorf("a handle from before the exit word is usable: %v", err)
	}
	// A new message after the exit word opens a new conversation.
	if err := a.SaveHandle(ctx, "pe-lima", "DDDD-DDDD", h, t0.Add(150*time.Minute), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Handle(ctx, "pe-lima", "DDDD-DDDD"); err != nil {
		t.Errorf("a message after the exit word cannot be answered: %v", err)
	}
}

// TestApplySideIdempotent: the side record of a tip spooled for two
// agencies, applied for each and then again (a second drain), leaves one
// handle per agency, one thread with both agencies and one scrub job.
func TestApplySideIdempotent(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	now := time.Now()
	sd := conversation.Side{Sender: "sender-p2", Last: now, Seq: 1, ThreadWindow: time.Hour, HandleTTL: time.Hour,
		Handle: &conversation.Handle{From: "+51911111111", To: "+15005550006", Channel: "sms", Sender: "sender-p2"},
		Scrub:  &twilioapi.ScrubJob{MessageSID: "SM0123456789abcdef0123456789abcdef"}, ScrubDue: now}
	sealed, err := s.SealSide(sd)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		for _, agency := range []string{"pe-lima", "pe-east"} {
			e := queue.Entry{TipID: "tip1", Case: "EEEE-EEEE", Agency: agency, Side: sealed}
			if err := s.ApplySide(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, agency := range []string{"pe-lima", "pe-east"} {
		h, last, err := s.Handle(ctx, agency, "EEEE-EEEE")
		if err != nil || h.From != "+51911111111" || last.UnixMilli() != now.UnixMilli() {
			t.Errorf("%s: handle %+v at %v: %v", agency, h, last, err)
		}
	}
	th, ok, err := s.Thread(ctx, "sender-p2")
	if !ok || err != nil || th.Case != "EEEE-EEEE" || len(th.Agencies) != 2 {
		t.Errorf("thread = %+v %v %v", th, ok, err)
	}
	if n, _ := s.Scrubs().Pending(ctx); n != 1 {
		t.Errorf("%d scrub jobs, want 1", n)
	}
	if err := s.ApplySide(ctx, queue.Entry{TipID: "tip2", Case: "FFFF-FFFF", Agency: "pe-lima", Side: []byte("not sealed")}); !errors.Is(err, conversation.ErrSideUnreadable) {
		t.Errorf("unreadable side record: %v", err)
	}
	if sealed, _ := s.SealSide(sd); len(sealed) == 0 || bytes.Contains(sealed, []byte("51911111111")) ||
		bytes.Contains(sealed, []byte("sender-p2")) || bytes.Contains(sealed, []byte("0123456789abcdef")) {
		t.Error("the side record shows what it carries")
	}
}

// TestOpensRecordsOfEarlierReleases: a reply handle and a side record
// sealed before the sealing moved to crypto/seal (testdata, made with its
// reply key; the handle with crypto/x25519) still open.
func TestOpensRecordsOfEarlierReleases(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	key, err := seal.ParseReplyKey(read("reply.key"))
	if err != nil {
		t.Fatal(err)
	}
	r := queuetest.New(t)
	s := conversation.New(r.Client, r.Prefix, time.Second, key)
	ctx := context.Background()
	last := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	r.Client.HSet(ctx, r.Prefix+":{pe-lima}:handle:AAAA-AAAA", "sealed", read("handle.age"), "last", last.UnixMilli())
	want := conversation.Handle{From: "+51987654321", To: "+15005550006", Channel: "sms", Sender: "p-old"}
	if h, at, err := s.Handle(ctx, "pe-lima", "AAAA-AAAA"); err != nil || h != want || !at.Equal(last) {
		t.Fatalf("earlier handle = %+v at %v, %v; want %+v", h, at, err, want)
	}
	if err := s.ApplySide(ctx, queue.Entry{TipID: "tip-old", Case: "BBBB-BBBB", Agency: "my-kl", Side: read("side.age")}); err != nil {
		t.Fatalf("earlier side record: %v", err)
	}
	if h, _, err := s.Handle(ctx, "my-kl", "BBBB-BBBB"); err != nil || h != want {
		t.Fatalf("handle from the earlier side record = %+v, %v", h, err)
	}
	if n, err := s.Scrubs().Pending(ctx); n != 1 || err != nil {
		t.Fatalf("%d scrub jobs from the earlier side record (%v), want 1", n, err)
	}
}

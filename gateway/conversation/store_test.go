package conversation_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/queue/queuetest"
)

func newStore(t *testing.T) (*conversation.Store, *queuetest.Redis) {
	t.Helper()
	r := queuetest.New(t)
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	return conversation.NewWith(r.Client, r.Prefix, time.Second, key, true), r
}

func TestThreadsAndHandles(t *testing.T) {
	s, r := newStore(t)
	ctx := context.Background()
	if _, ok, err := s.Thread(ctx, "p1"); ok || err != nil {
		t.Fatalf("new sender has a thread: %v %v", ok, err)
	}
	th := conversation.Thread{Case: "ABCD-EFGH", Agencies: []string{"pe-lima", "my-kl"}, Seq: 1, Last: time.Now()}
	if err := s.SaveThread(ctx, "p1", th, time.Minute); err != nil {
		t.Fatal(err)
	}
	h := conversation.Handle{From: "whatsapp:+51987654321", To: "whatsapp:+15005550006", Channel: "whatsapp", Sender: "p1"}
	for _, a := range th.Agencies {
		if err := s.SaveHandle(ctx, a, th.Case, h, time.Now(), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	got, last, err := s.Handle(ctx, "pe-lima", th.Case)
	if err != nil || got != h || time.Since(last) > time.Minute {
		t.Fatalf("handle = %+v %v %v", got, last, err)
	}
	for _, k := range r.Keys(t) {
		if v := r.Admin.Dump(ctx, k).Val(); strings.Contains(v, "987654321") {
			t.Fatalf("the number is in clear in %s", k)
		}
		if ttl := r.Admin.TTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %s has no TTL", k)
		}
	}
	// A later message of the thread: the handle is touched, its last
	// message moves in the sender's record; an older time never moves it
	// back (a spooled message drained late).
	later := time.Now().Add(time.Minute)
	if ok, err := s.TouchHandle(ctx, "pe-lima", th.Case, later, time.Hour); !ok || err != nil {
		t.Fatalf("touch: %v %v", ok, err)
	}
	for _, at := range []time.Time{later, later.Add(-time.Hour)} {
		if err := s.KeepIndex(ctx, "p1", []string{"pe-lima"}, th.Case, at, time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, last, _ := s.Handle(ctx, "pe-lima", th.Case); last.UnixMilli() != later.UnixMilli() {
			t.Fatalf("last message after %v: %v; want %v", at, last, later)
		}
	}
	if ok, _ := s.TouchHandle(ctx, "pe-lima", "ZZZZ-ZZZZ", later, time.Hour); ok {
		t.Fatal("touched a handle that does not exist")
	}
	if err := s.CloseThread(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	for _, a := range th.Agencies {
		if _, _, err := s.Handle(ctx, a, th.Case); !errors.Is(err, conversation.ErrNoHandle) {
			t.Fatalf("handle of %s after closing: %v", a, err)
		}
	}
}

func TestOptOutFailsSafe(t *testing.T) {
	s, r := newStore(t)
	ctx := context.Background()
	if out, err := s.OptedOut(ctx, "p1"); out || err != nil {
		t.Fatalf("opted out before STOP: %v %v", out, err)
	}
	s.SetOptOut(ctx, "p1", true)
	if out, _ := s.OptedOut(ctx, "p1"); !out {
		t.Fatal("not opted out after STOP")
	}
	s.SetOptOut(ctx, "p1", false)
	if out, _ := s.OptedOut(ctx, "p1"); out {
		t.Fatal("still opted out after START")
	}
	r.Client.Close()
	if out, err := s.OptedOut(ctx, "p1"); !out || err == nil {
		t.Fatalf("Redis down: opted out = %v, err %v; want true (not texting is the safe failure)", out, err)
	}
	start := time.Now()
	for range 5 {
		s.Thread(ctx, "p1")
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("calls after a failure took %v: they should fail fast", d)
	}
}

func TestOutboundAndDeliveries(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, _, err := s.Outbound(ctx, "nope"); !errors.Is(err, conversation.ErrUnknownOutbound) {
		t.Fatalf("unknown outbound: %v", err)
	}
	if err := s.RememberOutbound(ctx, "sidpseud", "pe-lima", "ABCD-EFGH", time.Hour); err != nil {
		t.Fatal(err)
	}
	a, c, err := s.Outbound(ctx, "sidpseud")
	if err != nil || a != "pe-lima" || c != "ABCD-EFGH" {
		t.Fatalf("outbound = %s %s %v", a, c, err)
	}
	for _, st := range []string{"sent", "delivered"} {
		s.RecordDelivery(ctx, a, c, conversation.Delivery{Status: st, At: time.Now()}, time.Hour)
	}
	d, err := s.Deliveries(ctx, a, c)
	if err != nil || len(d) != 2 || d[1].Status != "delivered" {
		t.Fatalf("deliveries = %+v %v", d, err)
	}
}

// TestCopyHandleAndRetarget: a transfer copies the sealed handle with its
// expiry, never over a handle the receiving agency already has, and points
// the reporter's thread at the receiving agency.
func TestCopyHandleAndRetarget(t *testing.T) {
	s, r := newStore(t)
	ctx := context.Background()
	const c = "WXYZ-2345"
	th := conversation.Thread{Case: c, Agencies: []string{"pe-lima", "pe-east"}, Seq: 2, Last: time.Now()}
	if err := s.SaveThread(ctx, "p9", th, time.Minute); err != nil {
		t.Fatal(err)
	}
	h := conversation.Handle{From: "+51987650009", To: "+15005550006", Channel: "sms", Sender: "p9"}
	last := time.Now().Add(-2 * time.Minute).Truncate(time.Millisecond)
	if err := s.SaveHandle(ctx, "pe-lima", c, h, last, time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.CopyHandle(ctx, "pe-lima", "my-kl", "NOPE-NOPE"); ok || err != nil {
		t.Fatalf("copy of no handle: %v %v", ok, err)
	}
	if ok, err := s.CopyHandle(ctx, "pe-lima", "my-kl", c); !ok || err != nil {
		t.Fatalf("copy: %v %v", ok, err)
	}
	got, gotLast, err := s.Handle(ctx, "my-kl", c)
	if err != nil || got != h || !gotLast.Equal(last) {
		t.Fatalf("copied handle = %+v %v %v", got, gotLast, err)
	}
	if ttl := r.Client.PTTL(ctx, r.Prefix+":{my-kl}:handle:"+c).Val(); ttl <= 59*time.Minute {
		t.Fatalf("copied handle expires in %v", ttl)
	}
	if ok, err := s.CopyHandle(ctx, "pe-lima", "my-kl", c); ok || err != nil {
		t.Fatalf("second copy over an existing handle: %v %v", ok, err)
	}
	if err := s.Retarget(ctx, "pe-lima", "my-kl", c); err != nil {
		t.Fatal(err)
	}
	got2, ok, err := s.Thread(ctx, "p9")
	if err != nil || !ok || strings.Join(got2.Agencies, ",") != "my-kl,pe-east" || got2.Seq != 2 {
		t.Fatalf("thread after retarget = %+v %v %v", got2, ok, err)
	}
	// The thread still closes a minute after it was saved; the sender's
	// record lives on as long as the handles it lists, the copy included.
	var rec struct {
		Open    int64 `json:"open"`
		Handles map[string]struct {
			Last, Until int64
		} `json:"handles"`
	}
	if err := json.Unmarshal([]byte(r.Client.Get(ctx, r.Prefix+":thread:{p9}").Val()), &rec); err != nil {
		t.Fatal(err)
	}
	if left := time.Until(time.UnixMilli(rec.Open)); left <= 0 || left > time.Minute {
		t.Fatalf("thread open for %v after retarget; want at most its minute", left)
	}
	if cp, src := rec.Handles["my-kl "+c], rec.Handles["pe-lima "+c]; cp.Last != src.Last || cp.Last != last.UnixMilli() ||
		cp.Until < src.Until-1000 || cp.Until > src.Until+1000 {
		t.Fatalf("handles listed after retarget: %v; want the copy listed as its source", rec.Handles)
	}
	if ttl := r.Client.PTTL(ctx, r.Prefix+":thread:{p9}").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("sender record TTL after retarget: %v; want the handles' hour", ttl)
	}
}

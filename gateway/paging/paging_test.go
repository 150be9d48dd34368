package paging_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/paging"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
)

type fakeSMS struct {
	mu   sync.Mutex
	sent []string
}

func (f *fakeSMS) Send(ctx context.Context, from, to, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, from+">"+to+":"+body)
	return nil
}

func TestPagesOnceThenSupervisor(t *testing.T) {
	r := queuetest.New(t)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix})
	ctx := context.Background()
	received := time.Now().Add(-3 * time.Minute)
	e := queue.Entry{TipID: "u1", Case: "C", Agency: "pe-lima", Channel: "sms", Priority: queue.Urgent,
		ReceivedAt: received, Sealed: []byte("age-encryption.org/v1\nsecret text")}
	if err := q.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	var hooks []map[string]any
	var mu sync.Mutex
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		json.NewDecoder(r.Body).Decode(&v)
		mu.Lock()
		hooks = append(hooks, v)
		mu.Unlock()
	}))
	defer hook.Close()
	sms := &fakeSMS{}
	now := time.Now()
	p := paging.New(paging.Options{
		Queue: q, SMS: sms, From: "+15005550006",
		Agencies: []paging.Agency{{ID: "pe-lima", Name: "Lima unit",
			OnCall:     paging.Target{SMS: []string{"+51911111111", "+51922222222"}, Webhook: hook.URL},
			Supervisor: paging.Target{SMS: []string{"+51933333333"}}}},
		After: 2 * time.Minute, SupervisorAfter: 10 * time.Minute,
		Now: func() time.Time { return now },
	})
	p.Check(ctx)
	p.Check(ctx) // a second check, or a second gateway, does not page again
	if len(sms.sent) != 2 || len(hooks) != 1 {
		t.Fatalf("after 3 minutes: sms %v, hooks %v; want the two on-call phones and one webhook once", sms.sent, hooks)
	}
	for _, s := range sms.sent {
		if !strings.HasSuffix(s, ":"+paging.Message("Lima unit")) || strings.Contains(s, "secret") {
			t.Fatalf("page text %q", s)
		}
	}
	if hooks[0]["agency"] != "pe-lima" || hooks[0]["event"] != "urgent_tip_waiting" || len(hooks[0]) != 3 {
		t.Fatalf("webhook body %v", hooks[0])
	}
	now = now.Add(8 * time.Minute)
	p.Check(ctx)
	if len(sms.sent) != 3 || !strings.Contains(sms.sent[2], "+51933333333") {
		t.Fatalf("after 11 minutes: %v; want the supervisor paged", sms.sent)
	}
	if _, err := q.Claim(ctx, "pe-lima", "alice"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	p.Check(ctx)
	if len(sms.sent) != 3 {
		t.Fatalf("paged for a claimed tip: %v", sms.sent)
	}
	log, _ := q.AuditLog(ctx, "pe-lima", "", 100)
	pages := 0
	for _, e := range log {
		if e.Action == queue.AuditPage {
			pages++
		}
	}
	if pages != 2 {
		t.Fatalf("audit has %d page entries, want 2", pages)
	}
}

func TestNoPageBeforeTheDelay(t *testing.T) {
	r := queuetest.New(t)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix})
	ctx := context.Background()
	if err := q.Publish(ctx, queue.Entry{TipID: "u1", Agency: "pe-lima", Priority: queue.Urgent, ReceivedAt: time.Now(), Sealed: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := q.Publish(ctx, queue.Entry{TipID: "n1", Agency: "pe-lima", Priority: queue.Normal, ReceivedAt: time.Now().Add(-time.Hour), Sealed: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	sms := &fakeSMS{}
	p := paging.New(paging.Options{Queue: q, SMS: sms, Agencies: []paging.Agency{{ID: "pe-lima", OnCall: paging.Target{SMS: []string{"+51911111111"}}}},
		After: 2 * time.Minute})
	p.Check(ctx)
	if len(sms.sent) != 0 {
		t.Fatalf("paged too early or for a normal tip: %v", sms.sent)
	}
}

// flakySMS fails its first sends, then delivers.
type flakySMS struct {
	fakeSMS
	failures int
}

func (f *flakySMS) Send(ctx context.Context, from, to, body string) error {
	f.mu.Lock()
	if f.failures > 0 {
		f.failures--
		f.mu.Unlock()
		return errors.New("twilio: 503")
	}
	f.mu.Unlock()
	return f.fakeSMS.Send(ctx, from, to, body)
}

// TestFailedPageIsRetried: a page that reached nobody is not marked as
// done; the next check pages again, and once it got through, no more.
func TestFailedPageIsRetried(t *testing.T) {
	r := queuetest.New(t)
	q := queue.New(r.Client, queue.Options{Prefix: r.Prefix})
	ctx := context.Background()
	if err := q.Publish(ctx, queue.Entry{TipID: "u1", Agency: "pe-lima", Priority: queue.Urgent, ReceivedAt: time.Now().Add(-5 * time.Minute), Sealed: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	sms := &flakySMS{failures: 2}
	p := paging.New(paging.Options{Queue: q, SMS: sms, From: "+15005550006",
		Agencies: []paging.Agency{{ID: "pe-lima", OnCall: paging.Target{SMS: []string{"+51911111111"}}}},
		After:    2 * time.Minute})
	for i, want := range []int{0, 0, 1, 1} {
		p.Check(ctx)
		sms.mu.Lock()
		n := len(sms.sent)
		sms.mu.Unlock()
		if n != want {
			t.Fatalf("check %d: %d pages delivered, want %d", i+1, n, want)
		}
	}
}

func TestSender(t *testing.T) {
	for _, c := range []struct {
		from    string
		numbers []string
		want    string
	}{
		{"+1555", []string{"+1000"}, "+1555"},
		{"", []string{"+51999", "+15005550006", "+60123"}, "+15005550006"},
		{"", nil, ""},
	} {
		if got := paging.Sender(c.from, c.numbers); got != c.want {
			t.Errorf("Sender(%q, %v) = %q, want %q", c.from, c.numbers, got, c.want)
		}
	}
}

package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/paging"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

type twilioPager struct{ c *twilioapi.Client }

func (p twilioPager) Send(ctx context.Context, from, to, body string) error {
	_, err := p.c.Send(ctx, from, to, body)
	return err
}

// TestTriageShiftEndToEnd: two officers of one agency and one of another;
// claims never overlap; the other agency's token sees nothing and gets 403
// on this agency's tips; a lapsed lease comes back; an urgent tip left
// unclaimed pages a fake Twilio; the audit chain verifies, and fails after
// an entry is altered in Redis.
func TestTriageShiftEndToEnd(t *testing.T) {
	const lease = 600 * time.Millisecond
	h, shortQ := newHarnessLease(t, lease)
	ctx := context.Background()
	add := func(agency, name, role string) string {
		tok, _, err := officer.New(shortQ).Add(ctx, agency, name, role)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ana, beto := add("pe-lima", "Ana", officer.RoleOfficer), add("pe-lima", "Beto", officer.RoleOfficer)
	carla := add("pe-lima", "Carla", officer.RoleSupervisor)
	siti := add("my-kl", "Siti", officer.RoleOfficer)
	const n = 12
	for i := range n {
		if _, err := h.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: fmt.Sprintf("tip %d", i), Urgent: i%4 == 0}); err != nil {
			t.Fatal(err)
		}
	}

	// Two officers claim at once until the queue is empty: never the same tip.
	claims := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, tok := range []string{ana, beto} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s, body := h.api(t, "POST", "/api/v1/tips/claim", tok, "{}")
				if s == http.StatusNoContent {
					return
				}
				var tip handlers.TipJSON
				json.Unmarshal([]byte(body), &tip)
				mu.Lock()
				if prev, dup := claims[tip.ID]; dup {
					t.Errorf("tip %s claimed twice (%s, %s)", tip.ID, prev[:8], tok[:8])
				}
				claims[tip.ID] = tok
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(claims) != n {
		t.Fatalf("claimed %d tips, want %d", len(claims), n)
	}

	// The other agency sees nothing and is refused on this agency's tips.
	var some string
	for id := range claims {
		some = id
		break
	}
	if s, b := h.api(t, "GET", "/api/v1/tips", siti, ""); s != 200 || strings.Contains(b, some) || !strings.Contains(b, `"tips":[]`) {
		t.Fatalf("other agency's list: %d %s", s, b)
	}
	for _, p := range []string{"/api/v1/agencies/pe-lima/tips", "/api/v1/agencies/pe-lima/tips/" + some, "/api/v1/agencies/pe-lima/counts"} {
		if s, _ := h.api(t, "GET", p, siti, ""); s != http.StatusForbidden {
			t.Errorf("GET %s with another agency's token: %d, want 403", p, s)
		}
	}
	if s, _ := h.api(t, "POST", "/api/v1/agencies/pe-lima/tips/"+some+"/ack", siti, `{"disposition":"dispatched"}`); s != http.StatusForbidden {
		t.Errorf("ack with another agency's token: %d, want 403", s)
	}

	// Ana stops renewing one tip: its lease lapses and it comes back.
	var anaTip string
	for id, tok := range claims {
		if tok == ana {
			anaTip = id
			break
		}
	}
	for id, tok := range claims {
		if id != anaTip {
			if s, b := h.api(t, "POST", "/api/v1/tips/"+id+"/ack", tok, `{"disposition":"dispatched"}`); s != 200 {
				t.Fatalf("ack %s: %d %s", id, s, b)
			}
		}
	}
	time.Sleep(lease + 300*time.Millisecond)
	s, body := h.api(t, "POST", "/api/v1/tips/claim", beto, "{}")
	var back handlers.TipJSON
	json.Unmarshal([]byte(body), &back)
	if s != 200 || back.ID != anaTip || back.Deliveries != 2 {
		t.Fatalf("after the lapse Beto claimed %d %s (deliveries %d), want Ana's %s", s, back.ID, back.Deliveries, anaTip)
	}
	if s, _ := h.api(t, "POST", "/api/v1/tips/"+anaTip+"/ack", ana, `{"disposition":"dispatched"}`); s != http.StatusConflict {
		t.Fatalf("ack by the officer whose lease lapsed: %d, want 409", s)
	}
	if s, _ := h.api(t, "POST", "/api/v1/tips/"+anaTip+"/ack", beto, `{"disposition":"no_action"}`); s != 200 {
		t.Fatalf("ack by the new holder: %d", s)
	}

	// An urgent tip nobody claims pages the on-call officer through Twilio.
	fake := newFakeTwilioREST(t)
	tw, err := twilioapi.New(twilioapi.Options{AccountSID: fakeSID, AuthToken: fakeToken, APIURL: fake.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "nos van a mover esta noche", Urgent: true,
		ReceivedAt: time.Now().Add(-3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	p := paging.New(paging.Options{Queue: shortQ, SMS: twilioPager{tw}, From: gatewaytest.NumberLima,
		Agencies: []paging.Agency{{ID: "pe-lima", Name: "Lima unit", OnCall: paging.Target{SMS: []string{"+51900000001"}}}},
		After:    2 * time.Minute, SupervisorAfter: time.Hour})
	p.Check(ctx)
	_, _, sent := fake.snapshot()
	if len(sent) != 1 || sent[0].Get("To") != "+51900000001" || sent[0].Get("Body") != paging.Message("Lima unit") ||
		strings.Contains(sent[0].Get("Body"), "mover") {
		t.Fatalf("page sent = %v", sent)
	}

	// The audit trail: supervisors only, intact, and broken by an edit.
	if s, _ := h.api(t, "GET", "/api/v1/audit", ana, ""); s != http.StatusForbidden {
		t.Fatalf("audit view for an officer: %d, want 403", s)
	}
	s, body = h.api(t, "GET", "/api/v1/audit?count=1000", carla, "")
	if s != 200 || !strings.Contains(body, `"action":"lease_lapsed"`) || !strings.Contains(body, `"action":"page"`) {
		t.Fatalf("audit view: %d %s", s, body)
	}
	if _, err := shortQ.VerifyAudit(ctx, "pe-lima"); err != nil {
		t.Fatalf("audit chain: %v", err)
	}
	stream := h.Redis.Prefix + ":{pe-lima}:audit"
	msgs := h.Redis.Admin.XRange(ctx, stream, "-", "+").Val()
	h.Redis.Admin.Del(ctx, stream)
	var altered string
	for i, m := range msgs {
		if m.Values["action"] == "ack" && altered == "" && i > 0 {
			m.Values["detail"], altered = "false_report", m.ID
		}
		args := []any{"XADD", stream, m.ID}
		for f, v := range m.Values {
			args = append(args, f, v)
		}
		h.Redis.Admin.Do(ctx, args...)
	}
	_, err = shortQ.VerifyAudit(ctx, "pe-lima")
	var br *queue.AuditBreak
	if !errors.As(err, &br) || br.ID != altered {
		t.Fatalf("verify after altering %s: %v", altered, err)
	}
}

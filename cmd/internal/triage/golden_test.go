package triage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/cmd/internal/golden"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/handlers/officerapi"
)

// fakeGateway answers the officer API with fixed answers, so that every
// --json shape of triage can be compared byte for byte with its golden
// file. empty makes the claim answer 204 (no tip waiting).
type fakeGateway struct {
	recipient string
	sealed    []byte
	sealed2   []byte // the case's second message
	notes     []officerapi.Note
	empty     bool
}

// messages is the case's two messages, as the claim and the show carry them.
func (f *fakeGateway) messages() []map[string]any {
	return []map[string]any{
		{"id": "t1", "channel": "sms", "priority": "urgent", "received_at": goldenReceived, "sealed": f.sealed},
		{"id": "t1b", "channel": "sms", "priority": "normal", "received_at": goldenReceived.Add(time.Minute), "sealed": f.sealed2},
	}
}

var (
	goldenReceived = time.Date(2026, 3, 1, 4, 5, 6, 0, time.UTC)
	goldenLease    = goldenReceived.Add(15 * time.Minute)
)

func (f *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	send := func(v any) { json.NewEncoder(w).Encode(v) }
	meta := map[string]any{"id": "t1", "case": "C-1", "agency": "pe-lima", "region": "lima-centro", "channel": "sms",
		"priority": "urgent", "received_at": goldenReceived}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range meta {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	switch p := r.Method + " " + r.URL.Path; p {
	case "GET /api/v1/me":
		send(map[string]string{"id": "of1", "agency": "pe-lima", "name": "Ana", "role": "officer"})
	case "GET /api/v1/agencies":
		send(map[string]any{"agencies": []map[string]any{
			{"id": "pe-lima", "name": "Lima", "recipients": []string{f.recipient}},
			{"id": "pe-callao", "name": "Callao", "recipients": []string{f.recipient}}}})
	case "POST /api/v1/tips/claim":
		if f.empty {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		send(with(map[string]any{"reply_capable": true, "deliveries": 1, "lease_until": goldenLease, "sealed": f.sealed, "messages": f.messages()}))
	case "GET /api/v1/tips":
		send(map[string]any{"tips": []map[string]any{
			with(map[string]any{"state": "held", "holder": "of1", "lease_until": goldenLease, "deliveries": 1, "message_count": 2, "last_at": goldenReceived.Add(time.Minute)}),
			{"id": "t2", "case": "C-2", "agency": "pe-lima", "channel": "web", "priority": "normal", "received_at": goldenReceived,
				"state": "waiting", "deliveries": 0, "message_count": 1, "last_at": goldenReceived}}})
	case "GET /api/v1/tips/t1":
		send(with(map[string]any{"state": "held", "holder": "of1", "lease_until": goldenLease, "deliveries": 1, "sealed": f.sealed,
			"message_count": 2, "last_at": goldenReceived.Add(time.Minute), "messages": f.messages()}))
	case "GET /api/v1/tips/t1/notes":
		send(map[string]any{"notes": f.notes})
	case "POST /api/v1/tips/t1/notes":
		send(map[string]string{"id": "t1", "status": "noted"})
	case "POST /api/v1/tips/t1/ack":
		send(map[string]string{"id": "t1", "disposition": "dispatched"})
	case "POST /api/v1/tips/t1/release":
		send(map[string]string{"id": "t1", "status": "released"})
	case "POST /api/v1/tips/t1/renew":
		send(map[string]any{"id": "t1", "lease_until": goldenLease})
	case "POST /api/v1/tips/t1/escalate":
		send(map[string]string{"id": "t1", "status": "escalated"})
	case "POST /api/v1/tips/t1/transfer":
		send(map[string]string{"id": "t1", "status": "transferred", "agency": "pe-callao"})
	case "POST /api/v1/tips/t1/reply":
		send(map[string]string{"id": "t1", "status": "sent", "channel": "sms"})
	case "GET /api/v1/events":
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: counts\ndata: {\"waiting\":{\"urgent\":1,\"normal\":2},\"held\":{\"urgent\":0,\"normal\":1}}\n\n")
		fmt.Fprint(w, "event: urgent\ndata: {}\n\n")
		fmt.Fprint(w, "event: appended\ndata: {\"id\":\"t1\",\"case\":\"C-1\",\"tip\":\"t1b\",\"priority\":\"urgent\"}\n\n")
		fmt.Fprint(w, "event: error\ndata: {}\n\n")
	default:
		w.WriteHeader(http.StatusNotFound)
		send(map[string]string{"error": "no such route: " + p})
	}
}

// TestJSONGolden (issue 14): every --json shape of triage, compared with
// testdata/golden/*.json (go test -run TestJSONGolden -update rewrites
// them): snake_case fields only, watch as JSON lines, next on an empty
// queue {"claimed":false}, never null.
func TestJSONGolden(t *testing.T) {
	g, err := seal.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := seal.ParseRecipients([]string{g.Recipient})
	if err != nil {
		t.Fatal(err)
	}
	idPath := filepath.Join(t.TempDir(), "lima.key")
	if err := seal.WriteIdentityFile(idPath, g, goldenReceived); err != nil {
		t.Fatal(err)
	}
	sealJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		s, err := rs.Seal(b)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	report := gateway.Report{Version: 1, TipID: "t1", Case: "C-1", Channel: gateway.ChannelSMS, ReceivedAt: goldenReceived,
		Text: "they are moving the boxes tonight", From: "+51900000000", Language: "en", Urgent: true,
		Media:    []gateway.Media{{ContentType: "image/jpeg", Data: []byte("\xff\xd8\xff")}},
		Location: &gateway.ReportLocation{Source: "text", Region: "lima-centro", Match: "Lima"},
		Routing:  gateway.Routing{Reason: "named place", Regions: []string{"lima-centro"}, Agencies: []string{"pe-lima"}}}
	second := gateway.Report{Version: 1, TipID: "t1b", Case: "C-1", Channel: gateway.ChannelSMS, ReceivedAt: goldenReceived.Add(time.Minute),
		Text: "we are in the back room", From: "+51900000000", Language: "en",
		Routing: gateway.Routing{Reason: "thread", Agencies: []string{"pe-lima"}}}
	f := &fakeGateway{recipient: g.Recipient, sealed: sealJSON(report), sealed2: sealJSON(second),
		notes: []officerapi.Note{{Officer: "of1", At: goldenLease, Sealed: sealJSON(map[string]any{"text": "called back", "at": goldenLease})}}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	term := func(out *bytes.Buffer) *Terminal {
		return &Terminal{Ctx: context.Background(), Stdin: strings.NewReader(""), Stdout: out, Stderr: &bytes.Buffer{},
			Client: officerapi.New(srv.URL, "hlo_test", nil), IdentityPath: idPath, JSON: true,
			Now: func() time.Time { return goldenLease }}
	}
	verbs := []struct {
		name string
		run  func(*Terminal) error
	}{
		{"next", (*Terminal).Next},
		{"next_empty", func(t *Terminal) error { f.empty = true; defer func() { f.empty = false }(); return t.Next() }},
		{"list", (*Terminal).List},
		{"show", func(t *Terminal) error { return t.Show("t1") }},
		{"show_no_notes", func(t *Terminal) error {
			saved := f.notes
			f.notes = nil
			defer func() { f.notes = saved }()
			return t.Show("t1")
		}},
		{"ack", func(t *Terminal) error { return t.Lease("ack", "t1", "dispatched") }},
		{"release", func(t *Terminal) error { return t.Lease("release", "t1", "") }},
		{"renew", func(t *Terminal) error { return t.Lease("renew", "t1", "") }},
		{"escalate", func(t *Terminal) error { return t.Escalate("t1", "supervisor") }},
		{"transfer", func(t *Terminal) error { return t.Transfer("t1", "pe-callao") }},
		{"note", func(t *Terminal) error { return t.Note("t1", "called back") }},
		{"reply", func(t *Terminal) error { return t.Reply("t1", "we are on it", "") }},
		{"watch", func(t *Terminal) error { return t.Watch(4) }},
	}
	for _, v := range verbs {
		t.Run(v.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := v.run(term(&out)); err != nil {
				t.Fatalf("triage %s --json: %v", v.name, err)
			}
			golden.Check(t, v.name, out.Bytes())
		})
	}
}

// TestExplainSaysWhatNext (issue 14): a reply refused outside the window
// names --override and its reasons; an unknown tip points to the list.
func TestExplainSaysWhatNext(t *testing.T) {
	tr := &Terminal{}
	for _, c := range []struct {
		err  *officerapi.Error
		want []string
	}{
		{&officerapi.Error{Status: 409, Message: "the reporter's last message is too old to reply safely"},
			[]string{"nothing was sent", "--override life_at_risk|reporter_asked|supervisor_approved"}},
		{&officerapi.Error{Status: 404, Message: "no such tip"}, []string{"hotline triage list"}},
	} {
		got := tr.Explain(c.err).Error()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("Explain(%v) = %q, want it to say %q", c.err, got, w)
			}
		}
	}
}

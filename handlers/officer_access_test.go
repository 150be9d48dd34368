package handlers_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/followup"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
	"go.yaml.in/yaml/v3"
)

// sealNote seals a note body the way the CLI does.
func sealNote(t *testing.T, id seal.Identity, text string) []byte {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"text": text, "at": time.Now().UTC()})
	return sealTo(t, id, b)
}

// withAgencies lists the test stack's agencies for transfers.
func withAgencies(o *handlers.Options) {
	o.Agencies = []handlers.AgencyInfo{{ID: gatewaytest.Lima}, {ID: gatewaytest.KL}, {ID: gatewaytest.Overlap}}
}

func auditActions(t *testing.T, h *harness, agency string) []queue.AuditEntry {
	t.Helper()
	log, err := h.Queue.AuditLog(context.Background(), agency, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// TestTipContentNeedsHolder (issue 11, point 1): a colleague who does not
// hold a tip cannot read its sealed report or notes, nor add notes or
// reply; a supervisor may, and each read by a supervisor is audited.
func TestTipContentNeedsHolder(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ana, beto := h.officer(t, "pe-lima"), h.officer(t, "pe-lima")
	carla, carlaOf, err := officer.New(h.Queue).Add(ctx, "pe-lima", "Carla", officer.RoleSupervisor)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if s, b := h.postSMS(t, smsForm(fmt.Sprintf("SMacc%d", i), fmt.Sprintf("+5198765432%d", i), "nos tienen encerrados"), addValidSignature); s != 200 {
			t.Fatalf("webhook: %d %s", s, b)
		}
	}
	tip := h.claimTip(t, ana)
	noteBody := h.addNote(t, "pe-lima", ana, tip.ID, "llamé a la comisaría")
	// The other tip is waiting: nobody holds it.
	var list struct{ Tips []handlers.ListedJSON }
	_, lb := h.api(t, "GET", "/api/v1/tips", beto, "")
	json.Unmarshal([]byte(lb), &list)
	waiting := ""
	for _, l := range list.Tips {
		if l.ID != tip.ID {
			waiting = l.ID
		}
	}
	if waiting == "" {
		t.Fatalf("no waiting tip in %s", lb)
	}

	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/tips/" + tip.ID, ""},
		{"GET", "/api/v1/tips/" + waiting, ""},
		{"GET", "/api/v1/tips/" + tip.ID + "/notes", ""},
		{"POST", "/api/v1/tips/" + tip.ID + "/notes", noteBody},
		{"POST", "/api/v1/tips/" + tip.ID + "/reply", `{"text":"hola"}`},
	} {
		s, b := h.api(t, c.method, c.path, beto, c.body)
		if s != http.StatusForbidden || strings.Contains(b, "sealed") {
			t.Errorf("%s %s by a colleague who does not hold it: %d %s, want 403", c.method, c.path, s, b)
		}
	}
	if _, _, sent := h.fake.snapshot(); len(sent) != 0 {
		t.Fatalf("a colleague's reply was sent: %v", sent)
	}
	// The holder reads it, without an audit entry of its own (the claim is one).
	before := len(auditActions(t, h, "pe-lima"))
	s, b := h.api(t, "GET", "/api/v1/tips/"+tip.ID, ana, "")
	var shown handlers.ListedJSON
	json.Unmarshal([]byte(b), &shown)
	if s != 200 || len(shown.Sealed) == 0 {
		t.Fatalf("holder's read: %d %s", s, b)
	}
	if plain, err := seal.Open(shown.Sealed, h.Identities["pe-lima"]); err != nil || !bytes.Contains(plain, []byte("encerrados")) {
		t.Fatalf("holder's read does not open: %v", err)
	}
	// A supervisor reads both tips and the notes; each read is audited.
	for _, p := range []string{"/api/v1/tips/" + tip.ID, "/api/v1/tips/" + waiting, "/api/v1/tips/" + tip.ID + "/notes"} {
		if s, b := h.api(t, "GET", p, carla, ""); s != 200 || !strings.Contains(b, "sealed") {
			t.Fatalf("supervisor's read of %s: %d %s", p, s, b)
		}
	}
	after := auditActions(t, h, "pe-lima")[before:]
	var reads []string
	for _, e := range after {
		if e.Action == "read" && e.Officer == carlaOf.ID {
			reads = append(reads, e.Tip+" "+e.Detail)
		}
	}
	want := []string{tip.ID + " report", waiting + " report", tip.ID + " notes"}
	if fmt.Sprint(reads) != fmt.Sprint(want) {
		t.Fatalf("supervisor reads audited as %v, want %v (all new entries: %+v)", reads, want, after)
	}
	if _, err := h.Queue.VerifyAudit(ctx, "pe-lima"); err != nil {
		t.Fatal(err)
	}
}

// TestRenewLapsedLeaseRefused (issue 11, point 1): a lease that lapsed is
// not renewed in silence; the officer is told to claim it again.
func TestRenewLapsedLeaseRefused(t *testing.T) {
	const lease = 300 * time.Millisecond
	h, short := newHarnessLease(t, lease)
	tok, _, err := officer.New(short).Add(context.Background(), "pe-lima", "Ana", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Intake.Submit(context.Background(), gateway.Tip{Channel: gateway.ChannelWeb, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	tip := h.claimTip(t, tok)
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/renew", tok, "{}"); s != 200 {
		t.Fatalf("renew within the lease: %d %s", s, b)
	}
	// Wait until the queue itself says the lease lapsed.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, b := h.api(t, "GET", "/api/v1/tips", tok, "")
		if strings.Contains(b, `"state":"waiting"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease did not lapse: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/renew", tok, "{}")
	if s != http.StatusConflict || !strings.Contains(b, "lease lapsed: claim it again") {
		t.Fatalf("renew after the lapse: %d %s, want 409 lease lapsed", s, b)
	}
	checkDocumented(t, h, "POST", "/api/v1/tips/"+tip.ID+"/renew", s, b)
	note, _ := json.Marshal(map[string]any{"sealed": sealNote(t, h.Identities["pe-lima"], "n")})
	s, b = h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/notes", tok, string(note))
	if s != http.StatusConflict || !strings.Contains(b, "lease lapsed: claim it again") {
		t.Errorf("note after the lapse: %d %s, want 409 lease lapsed", s, b)
	}
	checkDocumented(t, h, "POST", "/api/v1/tips/"+tip.ID+"/notes", s, b)
	s, b = h.api(t, "GET", "/api/v1/tips/"+tip.ID, tok, "")
	if s != http.StatusForbidden {
		t.Fatalf("read after the lapse: %d, want 403", s)
	}
	checkDocumented(t, h, "GET", "/api/v1/tips/"+tip.ID, s, b)
	s, b = h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/reply", tok, `{"text":"x","followup":"x"}`)
	if s != http.StatusForbidden {
		t.Fatalf("reply after the lapse: %d %s, want 403", s, b)
	}
	checkDocumented(t, h, "POST", "/api/v1/tips/"+tip.ID+"/reply", s, b)
	// Nobody took the tip over: its former holder may still close it, but
	// the trail says first that the lease lapsed.
	s, b = h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/ack", tok, `{"disposition":"dispatched"}`)
	if s != http.StatusOK {
		t.Fatalf("ack after the lapse: %d %s, want 200", s, b)
	}
	log, err := h.Queue.AuditLog(context.Background(), "pe-lima", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := len(log)
	if n < 2 || log[n-2].Action != queue.AuditLeaseLapsed || log[n-2].Tip != tip.ID || log[n-1].Action != queue.AuditAck ||
		log[n-2].Officer != log[n-1].Officer {
		t.Fatalf("audit trail ends with %+v, want lease_lapsed then ack by the same officer", log[max(0, n-2):])
	}
}

// TestTransferCarriesReplyHandleAndNotes (issue 11, point 2): after a
// transfer the receiving agency can reply to the reporter and read the
// notes, re-sealed to it; the old agency's handle is gone.
func TestTransferCarriesReplyHandleAndNotes(t *testing.T) {
	h := newHarness(t, withAgencies)
	lima, kl := h.officer(t, "pe-lima"), h.officer(t, "my-kl")
	if s, b := h.postSMS(t, smsForm("SMtr1", "+51987650001", "estamos en un taller"), addValidSignature); s != 200 {
		t.Fatalf("webhook: %d %s", s, b)
	}
	tip := h.claimTip(t, lima)
	h.addNote(t, "pe-lima", lima, tip.ID, "no es de Lima")
	plain, err := seal.Open(tip.Sealed, h.Identities["pe-lima"])
	if err != nil {
		t.Fatal(err)
	}
	resealed := sealNote(t, h.Identities["my-kl"], string(plain))
	noteKL := sealNote(t, h.Identities["my-kl"], "no es de Lima")
	body, _ := json.Marshal(map[string]any{"agency": "my-kl", "sealed": resealed, "notes": [][]byte{noteKL}})
	// A transfer that drops the notes is refused.
	short, _ := json.Marshal(map[string]any{"agency": "my-kl", "sealed": resealed, "notes": [][]byte{}})
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/transfer", lima, string(short)); s != http.StatusConflict {
		t.Fatalf("transfer without the tip's notes: %d %s, want 409", s, b)
	}
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/transfer", lima, string(body)); s != 200 {
		t.Fatalf("transfer: %d %s", s, b)
	}
	got := h.claimTip(t, kl)
	if got.ID != tip.ID {
		t.Fatalf("KL claimed %s, want %s", got.ID, tip.ID)
	}
	s, b := h.api(t, "GET", "/api/v1/tips/"+tip.ID+"/notes", kl, "")
	var notes struct{ Notes []queue.Note }
	json.Unmarshal([]byte(b), &notes)
	if s != 200 || len(notes.Notes) != 1 {
		t.Fatalf("KL's notes: %d %s", s, b)
	}
	if p, err := seal.Open(notes.Notes[0].Sealed, h.Identities["my-kl"]); err != nil || !bytes.Contains(p, []byte("no es de Lima")) {
		t.Fatalf("KL cannot open the transferred note: %v", err)
	}
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/reply", kl, `{"text":"gracias, le escribimos pronto"}`); s != 200 {
		t.Fatalf("reply by the receiving agency: %d %s", s, b)
	}
	if _, _, sent := h.fake.snapshot(); len(sent) != 1 || sent[0].Get("To") != "+51987650001" {
		t.Fatalf("sent = %v", sent)
	}
	if _, _, err := h.store.Handle(context.Background(), "pe-lima", tip.Case); err == nil {
		t.Fatal("the old agency still holds the reply handle")
	}
	// The reporter writes again: the message joins the case at the
	// receiving agency, not at the one that handed it over.
	if s, b := h.postSMS(t, smsForm("SMtr2", "+51987650001", "seguimos aquí"), addValidSignature); s != 200 {
		t.Fatalf("webhook: %d %s", s, b)
	}
	if s, b := h.api(t, "POST", "/api/v1/tips/claim", lima, "{}"); s != http.StatusNoContent {
		t.Fatalf("the old agency got the follow-up: %d %s", s, b)
	}
	// KL holds the case: the message is appended to it, no new item.
	if s, b := h.api(t, "POST", "/api/v1/tips/claim", kl, "{}"); s != http.StatusNoContent {
		t.Fatalf("the follow-up made a new item at KL: %d %s", s, b)
	}
	s, b = h.api(t, "GET", "/api/v1/cases/"+tip.Case, kl, "")
	var shown handlers.ListedJSON
	if err := json.Unmarshal([]byte(b), &shown); s != 200 || err != nil || shown.ID != tip.ID || len(shown.Messages) != 2 || shown.MessageCount != 2 {
		t.Fatalf("the case at KL: %d %s", s, b)
	}
	if p, err := seal.Open(shown.Messages[1].Sealed, h.Identities["my-kl"]); err != nil || !bytes.Contains(p, []byte("seguimos aqu")) {
		t.Fatalf("KL cannot open the follow-up: %v", err)
	}
}

// countingConn counts the bytes Redis sends back.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestCountsAndListReadNoSealedBodies (issue 11, point 5): counts, the
// list and the live view come from clear metadata, never from the sealed
// reports: with 60 open tips of 64 KB each, a count and a list read a few
// kilobytes from Redis, not megabytes.
func TestCountsAndListReadNoSealedBodies(t *testing.T) {
	var read atomic.Int64
	var q *queue.Queue
	h := newHarnessWith(t, func(s *gatewaytest.Stack, o *handlers.Options) {
		d := &net.Dialer{Timeout: 2 * time.Second}
		rdb := s.Redis.ClientVia(t, func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{c, &read}, nil
		})
		q = queue.New(rdb, queue.Options{Prefix: s.Redis.Prefix})
		o.Triage = q
		o.EventInterval = 50 * time.Millisecond
	})
	ctx := context.Background()
	tok, _, err := officer.New(q).Add(ctx, "pe-lima", "Ana", officer.RoleOfficer)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 64<<10)
	rand.Read(body)
	for i := range 60 {
		p := queue.Normal
		if i%5 == 0 {
			p = queue.Urgent
		}
		if err := h.Queue.Publish(ctx, queue.Entry{TipID: fmt.Sprintf("big%02d", i), Case: fmt.Sprintf("c%02d", i), Agency: "pe-lima",
			Channel: "web", Priority: p, ReceivedAt: time.Now(), Sealed: append([]byte("age-encryption.org/v1\n"), body...)}); err != nil {
			t.Fatal(err)
		}
	}
	h.claimTip(t, tok)
	for _, p := range []string{"/api/v1/counts", "/api/v1/tips"} {
		read.Store(0)
		s, b := h.api(t, "GET", p, tok, "")
		n := read.Load()
		t.Logf("GET %s read %d bytes from Redis", p, n)
		if s != 200 {
			t.Fatalf("GET %s: %d %s", p, s, b)
		}
		if p == "/api/v1/counts" && !strings.Contains(b, `"waiting":{"normal":48,"urgent":11}`) {
			t.Errorf("counts = %s", b)
		}
		if p == "/api/v1/tips" && strings.Count(b, `"id":"big`) != 60 {
			t.Errorf("list has %d tips", strings.Count(b, `"id":"big`))
		}
		if n > 64<<10 {
			t.Errorf("GET %s read %d bytes from Redis: it reads sealed reports", p, n)
		}
	}
	// The live view: one update.
	read.Store(0)
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := h.openEvents(ectx, tok)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "data: {\"waiting\"") {
	}
	cancel()
	n := read.Load()
	t.Logf("one live-view update read %d bytes from Redis", n)
	if n == 0 || n > 64<<10 {
		t.Errorf("one live-view update read %d bytes from Redis", n)
	}
}

// TestRedisDownIs503 (issue 11, point 6): when Redis cannot answer, every
// officer route says so (503), never a domain answer such as 404, 409 or
// an empty list, and never 500.
func TestRedisDownIs503(t *testing.T) {
	h := newHarness(t, withAgencies)
	fail := h.Redis.InjectFaults() // a single node's client or a cluster's: both take hooks
	// Every call fails, but the officer lookup of authentication, so that
	// requests reach their handlers; or only calls naming match.
	failOn := func(match string) {
		fail.FailWhen(func(args string) bool {
			return !strings.Contains(args, ":officer:") && strings.Contains(args, match)
		})
	}
	tok := h.officer(t, "pe-lima")
	sup := h.supervisor(t, "pe-lima")
	if s, b := h.postSMS(t, smsForm("SMdown", "+51987650002", "ayuda"), addValidSignature); s != 200 {
		t.Fatalf("webhook: %d %s", s, b)
	}
	tip := h.claimTip(t, tok)
	note, _ := json.Marshal(map[string]any{"sealed": sealNote(t, h.Identities["pe-lima"], "n")})
	transfer, _ := json.Marshal(map[string]any{"agency": "my-kl", "sealed": sealNote(t, h.Identities["my-kl"], "x"), "notes": [][]byte{}})
	routes := []struct{ method, path, token, body string }{
		{"GET", "/api/v1/tips", tok, ""},
		{"GET", "/api/v1/counts", tok, ""},
		{"GET", "/api/v1/audit", sup, ""},
		{"POST", "/api/v1/tips/claim", tok, "{}"},
		{"GET", "/api/v1/tips/" + tip.ID, tok, ""},
		{"GET", "/api/v1/tips/" + tip.ID, sup, ""},
		{"POST", "/api/v1/tips/" + tip.ID + "/renew", tok, "{}"},
		{"POST", "/api/v1/tips/" + tip.ID + "/ack", tok, `{"disposition":"dispatched"}`},
		{"POST", "/api/v1/tips/" + tip.ID + "/release", tok, "{}"},
		{"POST", "/api/v1/tips/" + tip.ID + "/escalate", tok, `{"reason":"urgent"}`},
		{"GET", "/api/v1/tips/" + tip.ID + "/notes", tok, ""},
		{"POST", "/api/v1/tips/" + tip.ID + "/notes", tok, string(note)},
		{"POST", "/api/v1/tips/" + tip.ID + "/transfer", tok, string(transfer)},
		{"POST", "/api/v1/tips/" + tip.ID + "/reply", tok, `{"text":"hola"}`},
	}
	failOn("")
	for _, r := range routes {
		if s, b := h.api(t, r.method, r.path, r.token, r.body); s != http.StatusServiceUnavailable {
			t.Errorf("%s %s with Redis down: %d %s, want 503", r.method, r.path, s, b)
		} else {
			checkDocumented(t, h, r.method, r.path, s, b)
		}
	}
	// The answer says when to try again, as the document promises.
	req, _ := http.NewRequest("GET", h.srv.URL+"/api/v1/tips", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("GET /api/v1/tips with Redis down: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Only the conversation store is down: a reply says so too.
	failOn(":handle:")
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/reply", tok, `{"text":"hola"}`); s != http.StatusServiceUnavailable {
		t.Errorf("reply with the conversation store down: %d %s, want 503", s, b)
	}
	fail.FailWhen(nil)
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/ack", tok, `{"disposition":"dispatched"}`); s != 200 {
		t.Fatalf("ack once Redis is back: %d %s", s, b)
	}
}

// TestOpenAPIDocumentsAccessAnswers: the answers of issue 11 are in the
// document: 403 for a non-holder, 409 for a lapsed lease, 503 everywhere.
func TestOpenAPIDocumentsAccessAnswers(t *testing.T) {
	h := newHarness(t)
	_, body := h.api(t, "GET", "/api/v1/openapi.yaml", "", "")
	var doc struct {
		Components struct {
			Responses map[string]any `yaml:"responses"`
		} `yaml:"components"`
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"NotHolder", "LeaseLapsed", "Unavailable"} {
		if doc.Components.Responses[name] == nil {
			t.Errorf("components.responses.%s missing", name)
		}
	}
	want := map[string]string{"/tips/{id} get": "403", "/tips/{id}/notes get": "403", "/tips/{id}/notes post": "403",
		"/tips/{id}/reply post": "403", "/tips/{id}/renew post": "409"}
	responses := func(o any) map[string]any {
		m, _ := o.(map[string]any)
		r, _ := m["responses"].(map[string]any)
		return r
	}
	for k, status := range want {
		path, op, _ := strings.Cut(k, " ")
		if responses(doc.Paths[path][op])[status] == nil {
			t.Errorf("%s does not document %s", k, status)
		}
	}
	for path, ops := range doc.Paths {
		for op, o := range ops {
			if path != "/openapi.yaml" && op != "parameters" && responses(o)["503"] == nil {
				t.Errorf("%s %s does not document 503", op, path)
			}
		}
	}
}

// TestTransferCarriesFollowupPage (issue 11, point 2, web channel): after a
// transfer the receiving agency can post questions to the witness's
// follow-up page, and the agency that handed it over no longer can.
func TestTransferCarriesFollowupPage(t *testing.T) {
	var fu *followup.Store
	h := newHarnessWith(t, func(s *gatewaytest.Stack, o *handlers.Options) {
		fu = followup.New(s.Redis.Client, s.Keyer, followup.Options{Prefix: s.Redis.Prefix, WorkFactor: 10})
		o.Questions = fu
		withAgencies(o)
	})
	ctx := context.Background()
	lima, kl := h.officer(t, "pe-lima"), h.officer(t, "my-kl")
	handle := webTipWithFollowup(t, h, fu, "vi a niños trabajando de noche")
	tip := h.claimTip(t, lima)
	resealed := sealNote(t, h.Identities["my-kl"], "report")
	body, _ := json.Marshal(map[string]any{"agency": "my-kl", "sealed": resealed, "notes": [][]byte{}, "followup": handle})
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/transfer", lima, string(body)); s != 200 {
		t.Fatalf("transfer: %d %s", s, b)
	}
	h.claimTip(t, kl)
	q, _ := json.Marshal(map[string]string{"text": "¿Puede decirnos la calle?", "followup": handle})
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/reply", kl, string(q)); s != 200 {
		t.Fatalf("question by the receiving agency: %d %s", s, b)
	}
	info, err := fu.Info(ctx, handle)
	if err != nil || fmt.Sprint(info.Agencies) != "[my-kl]" {
		t.Fatalf("follow-up agencies after the transfer: %v, %v", info.Agencies, err)
	}
}

// TestLongestQuestionInAnyScript: an officer's question to a web witness as
// long as a follow-up message may be, in Thai and with every character
// escaped by the officer's JSON encoder (6 bytes each), is taken; one
// character more is refused as invalid, never as a body too large.
func TestLongestQuestionInAnyScript(t *testing.T) {
	var fu *followup.Store
	h := newHarnessWith(t, func(s *gatewaytest.Stack, o *handlers.Options) {
		fu = followup.New(s.Redis.Client, s.Keyer, followup.Options{Prefix: s.Redis.Prefix, WorkFactor: 10})
		o.Questions = fu
	})
	tok := h.officer(t, "pe-lima")
	handle := webTipWithFollowup(t, h, fu, "เห็นคนงานถูกขังไว้")
	tip := h.claimTip(t, tok)
	question := func(chars int) string {
		return `{"text":"` + strings.Repeat(`\u0e01`, chars) + `","override":"","followup":"` + handle + `"}`
	}
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/reply", tok, question(followup.MaxMessageChars)); s != 200 {
		t.Fatalf("the longest question (%d Thai characters, escaped): %d %.200s", followup.MaxMessageChars, s, b)
	}
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/reply", tok, question(followup.MaxMessageChars+1)); s != 400 {
		t.Fatalf("one character more: %d %.200s; want 400", s, b)
	}
}

// webTipWithFollowup submits a web tip with a follow-up page, as the form
// does, and returns the page's handle.
func webTipWithFollowup(t *testing.T, h *harness, fu *followup.Store, text string) string {
	t.Helper()
	ctx := context.Background()
	caseRef := gateway.NewCaseRef()
	handle, err := fu.Create(ctx, followup.NewCode(), caseRef)
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := h.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: text, Case: caseRef, Followup: handle})
	if err != nil {
		t.Fatal(err)
	}
	if err := fu.SetAgencies(ctx, handle, rcpt.Agencies); err != nil {
		t.Fatal(err)
	}
	return handle
}

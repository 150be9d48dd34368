package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
)

const (
	fakeSID   = "AC0123456789abcdef0123456789abcdef"
	fakeToken = "twilioAuthTokenForTests0123"
)

// fakeTwilioREST is an httptest fake of the Twilio REST calls the channel
// makes: media downloads (basic auth, then an unauthenticated CDN), message
// redaction, media deletion and sending.
type fakeTwilioREST struct {
	srv, cdn *httptest.Server
	mu       sync.Mutex
	redacted []string // message SIDs updated with an empty body
	deleted  []string // media SIDs
	sent     []url.Values
	fail     map[string]int // "redact SID" -> number of 20009 answers left
	badAuth  int
	cdnAuth  int
	// sendFail answers that many sends with a refusal (400, code 21617).
	sendFail int
	fetched  int        // media downloads
	voice    *fakeVoice // recordings and calls (voice_test.go)
}

func newFakeTwilioREST(t testing.TB) *fakeTwilioREST {
	f := &fakeTwilioREST{fail: map[string]int{}}
	f.cdn = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if r.Header.Get("Authorization") != "" {
			f.cdnAuth++
		}
		f.fetched++
		f.mu.Unlock()
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write([]byte("\xff\xd8\xff\xe0 a photo of a street sign"))
	}))
	mux := http.NewServeMux()
	base := "/2010-04-01/Accounts/" + fakeSID
	mux.HandleFunc("GET "+base+"/Messages/{mm}/Media/{me}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, f.cdn.URL+"/x/"+r.PathValue("me"), http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("POST "+base+"/Messages/{sid}", func(w http.ResponseWriter, r *http.Request) {
		sid := strings.TrimSuffix(r.PathValue("sid"), ".json")
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.fail["redact "+sid] > 0 {
			f.fail["redact "+sid]--
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"code":20009,"message":"Cannot delete this resource before it is complete","status":409}`))
			return
		}
		if _, ok := r.PostForm["Body"]; ok && r.PostForm.Get("Body") == "" {
			f.redacted = append(f.redacted, sid)
		}
		json.NewEncoder(w).Encode(map[string]any{"sid": sid, "body": ""})
	})
	mux.HandleFunc("DELETE "+base+"/Messages/{mm}/Media/{me}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.deleted = append(f.deleted, strings.TrimSuffix(r.PathValue("me"), ".json"))
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+base+"/Messages.json", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		if f.sendFail > 0 {
			f.sendFail--
			f.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"code":21617,"message":"The concatenated message body exceeds the 1600 character limit","status":400}`))
			return
		}
		f.sent = append(f.sent, r.PostForm)
		n := len(f.sent)
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"sid": fmt.Sprintf("SM%032d", n), "status": "queued"})
	})
	f.voiceRoutes(mux, base)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != fakeSID || p != fakeToken {
			f.mu.Lock()
			f.badAuth++
			f.mu.Unlock()
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { f.srv.Close(); f.cdn.Close() })
	return f
}

func (f *fakeTwilioREST) snapshot() (redacted, deleted []string, sent []url.Values) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.redacted...), append([]string(nil), f.deleted...), append([]url.Values(nil), f.sent...)
}

// claimAll empties an agency's queue and opens every message of every
// case, in order.
func (h *harness) claimAll(t *testing.T, agency string) []gateway.Report {
	t.Helper()
	var out []gateway.Report
	for {
		c, err := h.Queue.Claim(context.Background(), agency, "officer-"+agency)
		if errors.Is(err, queue.ErrEmpty) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.OpenAll(t, c)...)
		if err := h.Queue.Ack(context.Background(), agency, c.TipID, "officer-"+agency, queue.Dispatched); err != nil {
			t.Fatal(err)
		}
	}
}

func waForm(sid, from, body string) url.Values {
	f := smsForm(sid, "whatsapp:"+from, body)
	f.Set("To", "whatsapp:"+gatewaytest.NumberLima)
	f.Set("ProfileName", "Siti")
	return f
}

var refPattern = `[2-9A-Z]{4}-[2-9A-Z]{4}`

// TestChannelWebhookCases is the webhook table in the style of courier's
// handler tests: each step posts a request and expects a status and TwiML.
func TestChannelWebhookCases(t *testing.T) {
	mms := smsForm("SMmms1", "+51911111111", "esta es la calle")
	mms.Set("NumMedia", "1")
	mms.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+fakeSID+"/Messages/MM00000000000000000000000000000001/Media/ME00000000000000000000000000000001")
	mms.Set("MediaContentType0", "image/jpeg")
	pin := waForm("SMpin1", "+60123456789", "")
	pin.Set("Latitude", "3.1478")
	pin.Set("Longitude", "101.6953")
	big := smsForm("SMbig1", "+51911111111", strings.Repeat("x", 70<<10))
	type step struct {
		form   url.Values
		prep   func(*http.Request, url.Values)
		status int
		twiml  string // regexp the body must match
	}
	tests := []struct {
		name   string
		steps  []step
		queued map[string]int
		check  func(t *testing.T, h *harness, reps map[string][]gateway.Report)
	}{
		{name: "sms in Spanish, urgent", steps: []step{{smsForm("SMa1", "+51911111111", "Ayuda, estamos encerrados"), addValidSignature, 200,
			`^<\?xml[^>]*\?><Response><Message>Recibido\. Ref\. ` + refPattern + `</Message></Response>$`}},
			queued: map[string]int{"pe-lima": 1},
			check: func(t *testing.T, h *harness, reps map[string][]gateway.Report) {
				r := reps["pe-lima"][0]
				if !r.Urgent || r.UrgentPhrase == "" || r.Language != "es" {
					t.Errorf("report = urgent %v phrase %q language %q", r.Urgent, r.UrgentPhrase, r.Language)
				}
			}},
		{name: "mms: media fetched and sealed", steps: []step{{mms, addValidSignature, 200, `<Message>Recibido\. Ref\. `}},
			queued: map[string]int{"pe-lima": 1},
			check: func(t *testing.T, h *harness, reps map[string][]gateway.Report) {
				m := reps["pe-lima"][0].Media
				if len(m) != 1 || !strings.Contains(string(m[0].Data), "street sign") || m[0].Error != "" {
					t.Errorf("media = %+v", m)
				}
				if h.fake.badAuth != 0 || h.fake.cdnAuth != 0 {
					t.Errorf("credentials: %d bad API auth, %d sent to the CDN", h.fake.badAuth, h.fake.cdnAuth)
				}
			}},
		{name: "whatsapp text in Malay", steps: []step{{waForm("SMw1", "+60123456789", "tolong kami, kami dikurung dalam rumah"), addValidSignature, 200,
			`<Message>Mesej diterima\. No\. rujukan ` + refPattern + `</Message>`}},
			queued: map[string]int{"pe-lima": 1},
			check: func(t *testing.T, h *harness, reps map[string][]gateway.Report) {
				r := reps["pe-lima"][0]
				if r.Channel != gateway.ChannelWhatsApp || r.ProfileName != "Siti" || !r.Urgent {
					t.Errorf("report = %+v", r)
				}
			}},
		{name: "whatsapp pin routes to Kuala Lumpur", steps: []step{{pin, addValidSignature, 200, `<Message>.*` + refPattern}},
			queued: map[string]int{"my-kl": 1}},
		{name: "STOP: no reply, nothing queued, no message after", steps: []step{
			{smsForm("SMs1", "+51922222222", "STOP"), addValidSignature, 200, emptyTwiML},
			{smsForm("SMs2", "+51922222222", "ayuda por favor"), addValidSignature, 200, emptyTwiML},
		}, queued: map[string]int{"pe-lima": 1}},
		{name: "START after STOP: replies again from the next message", steps: []step{
			{smsForm("SMt1", "+51933333333", "stop"), addValidSignature, 200, emptyTwiML},
			{smsForm("SMt2", "+51933333333", "START"), addValidSignature, 200, emptyTwiML},
			{smsForm("SMt3", "+51933333333", "hola"), addValidSignature, 200, `<Message>Recibido`},
		}, queued: map[string]int{"pe-lima": 2}},
		{name: "exit word: queued, no reply, thread closed", steps: []step{
			{smsForm("SMx1", "+51944444444", "estamos en una casa"), addValidSignature, 200, `<Message>`},
			{smsForm("SMx2", "+51944444444", "SALIR"), addValidSignature, 200, emptyTwiML},
		}, queued: map[string]int{"pe-lima": 2},
			check: func(t *testing.T, h *harness, reps map[string][]gateway.Report) {
				if reps["pe-lima"][1].Kind != "exit" {
					t.Errorf("exit message kind = %q", reps["pe-lima"][1].Kind)
				}
				if _, ok, _ := h.store.Thread(context.Background(), h.Keyer.Sender("+51944444444")); ok {
					t.Error("the thread is still open after an exit word")
				}
				if _, _, err := h.store.Handle(context.Background(), "pe-lima", reps["pe-lima"][0].Case); !errors.Is(err, conversation.ErrNoHandle) {
					t.Errorf("reply handle survived the exit word: %v", err)
				}
			}},
		{name: "thread join: same case, follow-up stays with the thread's agency", steps: []step{
			{smsForm("SMj1", "+51955555555", "kami di 3.1478, 101.6953"), addValidSignature, 200, `<Message>`},
			{smsForm("SMj2", "+51955555555", "cepat, mereka datang"), addValidSignature, 200, `<Message>`},
		}, queued: map[string]int{"my-kl": 2},
			check: func(t *testing.T, h *harness, reps map[string][]gateway.Report) {
				a, b := reps["my-kl"][0], reps["my-kl"][1]
				if a.Case != b.Case || a.Seq != 1 || b.Seq != 2 || b.Routing.Reason != gateway.ReasonThread {
					t.Errorf("thread: %s#%d and %s#%d (%s)", a.Case, a.Seq, b.Case, b.Seq, b.Routing.Reason)
				}
			}},
		{name: "duplicate MessageSid: same answer, one entry", steps: []step{
			{smsForm("SMd1", "+51966666666", "hola"), addValidSignature, 200, `Recibido`},
			{smsForm("SMd1", "+51966666666", "hola"), addValidSignature, 200, `Recibido`},
		}, queued: map[string]int{"pe-lima": 1}},
		{name: "replies off for the number", steps: []step{{func() url.Values {
			f := smsForm("SMo1", "+51977777777", "hola")
			f.Set("To", gatewaytest.NumberNone)
			return f
		}(), addValidSignature, 200, emptyTwiML}}, queued: map[string]int{"pe-lima": 1}},
		{name: "bad signature", steps: []step{{smsForm("SMb1", "+51988888888", "hola"), addInvalidSignature, 403, `forbidden`}}},
		{name: "oversized", steps: []step{{big, addValidSignature, 413, `too large`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var bodies []string
			for i, s := range tt.steps {
				status, body := h.postSMS(t, s.form, s.prep)
				if status != s.status || !regexp.MustCompile(s.twiml).MatchString(body) {
					t.Fatalf("step %d: %d %q, want %d matching %q", i, status, body, s.status, s.twiml)
				}
				bodies = append(bodies, body)
			}
			if tt.name == "duplicate MessageSid: same answer, one entry" && bodies[0] != bodies[1] {
				t.Fatalf("the retry got another answer: %q vs %q", bodies[0], bodies[1])
			}
			reps := map[string][]gateway.Report{}
			for _, a := range []string{"pe-lima", "pe-east", "my-kl"} {
				reps[a] = h.claimAll(t, a)
				if len(reps[a]) != tt.queued[a] {
					t.Fatalf("agency %s: %d tips, want %d", a, len(reps[a]), tt.queued[a])
				}
			}
			if tt.check != nil {
				tt.check(t, h, reps)
			}
		})
	}
}

// TestChannelScrubsTwilioCopies: once queued, the message body is redacted
// and its media deleted at Twilio; "still in progress" (20009) is retried.
func TestChannelScrubsTwilioCopies(t *testing.T) {
	h := newHarness(t)
	form := smsForm("SM00000000000000000000000000000009", "+51911111111", "hola")
	form.Set("NumMedia", "1")
	form.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+fakeSID+"/Messages/SM00000000000000000000000000000009/Media/ME00000000000000000000000000000009")
	h.fake.fail["redact SM00000000000000000000000000000009"] = 2
	if s, b := h.postSMS(t, form, addValidSignature); s != 200 {
		t.Fatalf("%d %s", s, b)
	}
	ctx := context.Background()
	h.ch.ScrubDue(ctx)
	if r, _, _ := h.fake.snapshot(); len(r) != 0 {
		t.Fatal("scrubbed before the webhook was answered and the first delay passed")
	}
	for i := range 3 {
		h.clock.add(2 * time.Hour)
		h.ch.ScrubDue(ctx)
		if r, _, _ := h.fake.snapshot(); len(r) > 0 {
			if i != 2 {
				t.Fatalf("redacted at try %d, want the third (two 20009 answers first)", i+1)
			}
			break
		}
	}
	redacted, deleted, _ := h.fake.snapshot()
	if len(redacted) != 1 || redacted[0] != "SM00000000000000000000000000000009" || len(deleted) != 1 || deleted[0] != "ME00000000000000000000000000000009" {
		t.Fatalf("redacted %v, deleted %v", redacted, deleted)
	}
	if n, _ := h.store.Scrubs().Pending(ctx); n != 0 {
		t.Fatalf("%d scrub jobs left after success", n)
	}
}

// TestOfficerReplies: an officer's reply goes out through the sealed handle
// on the reporter's channel, only in the window (or with an audited
// override), never after STOP, and its delivery is recorded.
func TestOfficerReplies(t *testing.T) {
	h := newHarness(t)
	token := h.officer(t, "pe-lima")
	if s, _ := h.postSMS(t, waForm("SMr1", "+51911111111", "ayuda"), addValidSignature); s != 200 {
		t.Fatal(s)
	}
	_, body := h.api(t, "POST", "/api/v1/tips/claim", token, "{}")
	var tip handlers.TipJSON
	json.Unmarshal([]byte(body), &tip)
	replyTo := func(text, override string) (int, string) {
		b, _ := json.Marshal(map[string]string{"text": text, "override": override})
		return h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/reply", token, string(b))
	}
	if s, b := replyTo("¿Cuántas personas hay?", ""); s != 200 {
		t.Fatalf("reply: %d %s", s, b)
	}
	_, _, sent := h.fake.snapshot()
	if len(sent) != 1 || sent[0].Get("To") != "whatsapp:+51911111111" || sent[0].Get("From") != "whatsapp:"+gatewaytest.NumberLima ||
		sent[0].Get("Body") != "¿Cuántas personas hay?" || sent[0].Get("StatusCallback") != publicURL+"/twilio/status" {
		t.Fatalf("sent = %v", sent)
	}
	// Delivery status, signed as Twilio signs it.
	status := url.Values{"MessageSid": {fmt.Sprintf("SM%032d", 1)}, "MessageStatus": {"delivered"}}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/twilio/status", strings.NewReader(status.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	addValidSignature(req, status)
	if s, _ := do(t, req); s != http.StatusNoContent {
		t.Fatalf("status callback: %d", s)
	}
	req, _ = http.NewRequest(http.MethodPost, h.srv.URL+"/twilio/status", strings.NewReader(status.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s, _ := do(t, req); s != http.StatusForbidden {
		t.Fatalf("unsigned status callback: %d, want 403", s)
	}
	d, _ := h.store.Deliveries(context.Background(), "pe-lima", tip.Case)
	if len(d) != 1 || d[0].Status != "delivered" {
		t.Fatalf("deliveries = %+v", d)
	}

	h.clock.add(20 * time.Minute)
	if s, b := replyTo("¿Sigues ahí?", ""); s != http.StatusConflict || !strings.Contains(b, "too old") {
		t.Fatalf("reply outside the window: %d %s", s, b)
	}
	if s, _ := replyTo("¿Sigues ahí?", "because I say so"); s != http.StatusBadRequest {
		t.Fatalf("free-text override: %d", s)
	}
	if s, b := replyTo("¿Sigues ahí?", "life_at_risk"); s != 200 {
		t.Fatalf("override: %d %s", s, b)
	}
	log, _ := h.Queue.AuditLog(context.Background(), "pe-lima", "", 100)
	var details []string
	for _, e := range log {
		if e.Action == "reply" {
			details = append(details, e.Detail)
		}
	}
	if fmt.Sprint(details) != "[in_window override:life_at_risk]" {
		t.Fatalf("audited replies = %v", details)
	}

	// STOP: no message of any kind, not even an officer's.
	if s, _ := h.postSMS(t, waForm("SMr2", "+51911111111", "STOP"), addValidSignature); s != 200 {
		t.Fatal(s)
	}
	if s, b := replyTo("hola", "life_at_risk"); s != http.StatusConflict || !strings.Contains(b, "STOP") {
		t.Fatalf("reply after STOP: %d %s", s, b)
	}
	if _, _, sent := h.fake.snapshot(); len(sent) != 2 {
		t.Fatalf("Twilio was called after STOP: %d sends", len(sent))
	}
}

func TestOfficerReplyToWebOrUnknown(t *testing.T) {
	h := newHarness(t)
	token := h.officer(t, "pe-lima")
	if _, err := h.Intake.Submit(context.Background(), gateway.Tip{Channel: gateway.ChannelWeb, Text: "vi algo"}); err != nil {
		t.Fatal(err)
	}
	_, body := h.api(t, "POST", "/api/v1/tips/claim", token, "{}")
	var tip handlers.TipJSON
	json.Unmarshal([]byte(body), &tip)
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/reply", token, `{"text":"hola"}`); s != http.StatusConflict {
		t.Fatalf("reply to a web tip without follow-up: %d %s", s, b)
	}
	if _, _, sent := h.fake.snapshot(); len(sent) != 0 {
		t.Fatal("a web tip's reply went to Twilio")
	}
	_ = seal.Open
}

// emptyTwiML is an answer that sends nothing to the phone.
const emptyTwiML = `^<\?xml[^>]*\?><Response/>$`

// TestChannelCanary runs SMS, MMS, WhatsApp (name, pin), STOP, an exit
// word and an officer's reply with unique strings through the real channel,
// then searches every key and value in Redis and every log line.
func TestChannelCanary(t *testing.T) {
	h := newHarness(t)
	tag := fmt.Sprintf("%x", time.Now().UnixNano())[:10]
	number := "+5198" + fmt.Sprint(time.Now().UnixNano()%10000000)
	wa := "+6012" + fmt.Sprint(time.Now().UnixNano()%10000000)
	text, name, replyText := "canarysms"+tag, "CanaryName"+tag, "canaryreply"+tag
	mms := smsForm("SMc1"+tag, number, text+" mms")
	mms.Set("NumMedia", "1")
	mms.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+fakeSID+"/Messages/MM00000000000000000000000000000001/Media/ME00000000000000000000000000000001")
	pin := waForm("SMc2"+tag, wa, text+" whatsapp")
	pin.Set("ProfileName", name)
	digits := fmt.Sprintf("%08d", time.Now().UnixNano()%100000000)
	pin.Set("Latitude", "3.14"+digits[:4])
	pin.Set("Longitude", "101.69"+digits[4:])
	for _, f := range []url.Values{smsForm("SMc0"+tag, number, text), mms, pin, smsForm("SMc3"+tag, number, "SALIR")} {
		if s, b := h.postSMS(t, f, addValidSignature); s != 200 {
			t.Fatalf("%d %s", s, b)
		}
	}
	token := h.officer(t, "my-kl")
	_, body := h.api(t, "POST", "/api/v1/tips/claim", token, "{}")
	var tip handlers.TipJSON
	json.Unmarshal([]byte(body), &tip)
	if s, b := h.api(t, "POST", "/api/v1/tips/"+tip.ID+"/reply", token, `{"text":"`+replyText+`"}`); s != 200 {
		t.Fatalf("reply: %d %s", s, b)
	}
	if s, _ := h.postSMS(t, waForm("SMc4"+tag, wa, "STOP"), addValidSignature); s != 200 {
		t.Fatal(s)
	}
	dump, logs := dumpRedis(t, h.Redis), h.Log.Bytes()
	// Reply handles are sealed in the senders' records ("h"), scrub jobs
	// in the schedule (an appended message's) and carried by the cases'
	// entries (field scrub).
	for _, want := range []string{`"h":"`, ":{scrub}:", " scrub="} {
		if !strings.Contains(string(dump), want) {
			t.Fatalf("the dump lacks %q (reply handles or scrub jobs): the test is not seeing what the channel wrote", want)
		}
	}
	for _, c := range []string{number, number[1:], wa, wa[1:], text, name, replyText, "street sign", "3.14" + digits[:4], "101.69" + digits[4:], "SMc1" + tag} {
		if strings.Contains(string(dump), c) {
			t.Errorf("canary %q in Redis", c)
		}
		if strings.Contains(string(logs), c) {
			t.Errorf("canary %q in the logs", c)
		}
	}
}

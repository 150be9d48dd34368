package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/ratelimit"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/gateway/spool"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
)

// Tests of issue 11 on the SMS and WhatsApp path: every promise holds at
// the edges (limits, exit words, STOP, Redis outages, forged parameters).

// senderLimit gives the channel a sender limit of n messages an hour, on
// the test's Redis.
func senderLimit(n int64) func(*gatewaytest.Stack, *sms.Options) {
	return func(s *gatewaytest.Stack, o *sms.Options) {
		o.Sender = ratelimit.New(s.Redis.Client, s.Redis.Prefix, "sender", n, time.Hour)
	}
}

// claimTip claims the next tip through the officer API.
func (h *harness) claimTip(t *testing.T, token string) handlers.TipJSON {
	t.Helper()
	tip, _ := h.claimTipBody(t, token)
	return tip
}

// claimTipBody is claimTip that also returns the answer as sent, for the
// tests of what it must not carry.
func (h *harness) claimTipBody(t *testing.T, token string) (handlers.TipJSON, string) {
	t.Helper()
	s, body := h.api(t, "POST", "/api/v1/tips/claim", token, "{}")
	if s != 200 {
		t.Fatalf("claim: %d %s", s, body)
	}
	var tip handlers.TipJSON
	if err := json.Unmarshal([]byte(body), &tip); err != nil {
		t.Fatal(err)
	}
	return tip, body
}

func (h *harness) reply(t *testing.T, token, tipID, text, override string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"text": text, "override": override})
	return h.api(t, "POST", "/api/v1/tips/"+tipID+"/reply", token, string(b))
}

// TestChannelSenderOverLimitStillQueued (issue 11, point 1): a sender over
// sender_per_hour loses the automatic reply and the media download, never
// the message; Twilio's retry of a queued message is not counted.
func TestChannelSenderOverLimitStillQueued(t *testing.T) {
	h := newHarnessChannel(t, nil, senderLimit(2))
	const from = "+51915151515"
	withMedia := smsForm("SMlim4", from, "mira la foto")
	withMedia.Set("NumMedia", "1")
	withMedia.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/"+fakeSID+"/Messages/MM00000000000000000000000000000004/Media/ME00000000000000000000000000000004")
	withMedia.Set("MediaContentType0", "image/jpeg")
	steps := []struct {
		form  url.Values
		twiml string
	}{
		{smsForm("SMlim1", from, "estamos en una casa"), `<Message>Recibido`},
		{smsForm("SMlim1", from, "estamos en una casa"), `<Message>Recibido`}, // Twilio's retry: not counted
		{smsForm("SMlim2", from, "somos diez"), `<Message>Recibido`},
		{smsForm("SMlim3", from, "no nos dejan salir"), emptyTwiML}, // over the limit: no reply
		{smsForm("SMlim3", from, "no nos dejan salir"), emptyTwiML}, // its retry: the same answer, none
		{withMedia, emptyTwiML},
	}
	for i, st := range steps {
		status, body := h.postSMS(t, st.form, addValidSignature)
		if status != 200 || !regexpMatch(st.twiml, body) {
			t.Fatalf("step %d: %d %q, want 200 matching %q", i, status, body, st.twiml)
		}
	}
	reps := h.claimAll(t, gatewaytest.Lima)
	texts := map[string]gateway.Report{}
	for _, r := range reps {
		texts[r.Text] = r
	}
	if len(reps) != 4 || len(texts) != 4 {
		t.Fatalf("%d tips queued (%d distinct), want the 4 messages once each", len(reps), len(texts))
	}
	r := texts["mira la foto"]
	if len(r.Media) != 1 || r.Media[0].Data != nil || !strings.Contains(r.Media[0].Error, "not fetched") {
		t.Errorf("over the limit the media was fetched: %+v", r.Media)
	}
	if r.Case != texts["estamos en una casa"].Case {
		t.Errorf("a message over the limit left its thread: case %s, want %s", r.Case, texts["estamos en una casa"].Case)
	}
	h.fake.mu.Lock()
	fetched := h.fake.fetched
	h.fake.mu.Unlock()
	if fetched != 0 {
		t.Errorf("%d media downloads for a sender over the limit", fetched)
	}
}

// TestChannelStopAndExitOverLimit (issue 11, point 2): STOP, START and
// exit words take effect whatever the limits.
func TestChannelStopAndExitOverLimit(t *testing.T) {
	h := newHarnessChannel(t, nil, senderLimit(1))
	ctx := context.Background()
	const a, b = "+51916161616", "+51917171717"
	post := func(sid, from, body, twiml string) {
		t.Helper()
		if s, got := h.postSMS(t, smsForm(sid, from, body), addValidSignature); s != 200 || !regexpMatch(twiml, got) {
			t.Fatalf("%s: %d %q", body, s, got)
		}
	}
	post("SMo1", a, "hola", `<Message>Recibido`)
	post("SMo2", a, "STOP", emptyTwiML)
	if out, err := h.store.OptedOut(ctx, h.Keyer.Sender(a)); !out || err != nil {
		t.Fatalf("STOP over the limit not recorded: opted out %v, %v", out, err)
	}
	post("SMo3", a, "START", emptyTwiML)
	if out, err := h.store.OptedOut(ctx, h.Keyer.Sender(a)); out || err != nil {
		t.Fatalf("START over the limit not recorded: opted out %v, %v", out, err)
	}

	post("SMe1", b, "estamos aqui", `<Message>Recibido`)
	post("SMe2", b, "SALIR", emptyTwiML)
	var first string
	for _, r := range h.claimAll(t, gatewaytest.Lima) {
		if r.Text == "estamos aqui" {
			first = r.Case
		}
	}
	if first == "" {
		t.Fatal("the first message was not queued")
	}
	if _, _, err := h.store.Handle(ctx, gatewaytest.Lima, first); !errors.Is(err, conversation.ErrNoHandle) {
		t.Fatalf("an exit word over the limit left the reply handle alive: %v", err)
	}
	if _, ok, _ := h.store.Thread(ctx, h.Keyer.Sender(b)); ok {
		t.Fatal("an exit word over the limit left the thread open")
	}
}

// TestExitWordAfterThreadWindowDestroysEveryHandle (issue 11, point 3): an
// exit word sent after the thread window destroys the handles of older
// cases too; an officer's override reply then reaches nobody.
func TestExitWordAfterThreadWindowDestroysEveryHandle(t *testing.T) {
	h := newHarness(t)
	token := h.officer(t, gatewaytest.Lima)
	const from = "+51918181818"
	if s, b := h.postSMS(t, smsForm("SMw1", from, "ayuda, nos encerraron"), addValidSignature); s != 200 {
		t.Fatalf("%d %s", s, b)
	}
	tip := h.claimTip(t, token)
	h.clock.add(31 * time.Minute) // past the thread window (30 min)
	h.expireThread(t, from)
	if s, b := h.postSMS(t, smsForm("SMw2", from, "SALIR"), addValidSignature); s != 200 || !regexpMatch(emptyTwiML, b) {
		t.Fatalf("exit word: %d %s", s, b)
	}
	if s, b := h.reply(t, token, tip.ID, "¿Sigues ahí?", "life_at_risk"); s != http.StatusConflict || !strings.Contains(b, "cannot be reached") {
		t.Fatalf("override reply after the exit word: %d %s, want 409 cannot be reached", s, b)
	}
	if _, _, sent := h.fake.snapshot(); len(sent) != 0 {
		t.Fatalf("Twilio was asked to text a reporter who sent an exit word: %d sends", len(sent))
	}
	// Destroyed, not only refused: no sealed handle is left in Redis,
	// under a key of its own or in the sender's record.
	for _, k := range h.Redis.Keys(t) {
		if strings.Contains(k, ":handle:") {
			t.Fatalf("a reply handle outlived the exit word: %s", k)
		}
		if strings.Contains(k, ":thread:") && strings.Contains(h.Redis.Client.Get(context.Background(), k).Val(), `"h":`) {
			t.Fatalf("a sealed reply handle outlived the exit word in %s", k)
		}
	}
}

// expireThread does what the wall clock does to a sender's thread once the
// thread window has passed on the injected clock: the sender's record
// stays (it lists the reply handles, which live longer), its thread
// closed.
func (h *harness) expireThread(t *testing.T, from string) {
	t.Helper()
	ctx := context.Background()
	key := h.Redis.Prefix + ":thread:{" + h.Keyer.Sender(from) + "}"
	var rec map[string]any
	if err := json.Unmarshal([]byte(h.Redis.Client.Get(ctx, key).Val()), &rec); err != nil || rec["open"] == nil {
		t.Fatalf("no sender record with an open thread (%v): the test no longer sees the store's keys", err)
	}
	rec["open"] = time.Now().Add(-time.Second).UnixMilli()
	b, _ := json.Marshal(rec)
	if err := h.Redis.Client.SetArgs(ctx, key, b, redis.SetArgs{KeepTTL: true, Mode: "XX"}).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestWebhookParameterShiftReplay (issue 11, point 6): Twilio's signature
// concatenates sorted keys and values without separators, so a captured
// webhook re-split between parameters keeps its signature. Shaped SIDs and
// the account's own AccountSid make such a replay a 400, counted.
func TestWebhookParameterShiftReplay(t *testing.T) {
	rejects := &countRejects{m: map[metrics.Reason]int{}}
	h := newHarness(t, func(o *handlers.Options) { o.Metrics = rejects })
	orig := smsForm("SMshift", "+51919191919", "hola")
	sig := handlers.TwilioSignature([]byte(authToken), publicURL+"/twilio/sms", orig)
	if s, b := h.postSMS(t, orig, addValidSignature); s != 200 {
		t.Fatalf("original: %d %s", s, b)
	}
	// "MessageSid" SM... "NumMedia" 0 -> "MessageSid" SM...NumMedia0.
	shifted := url.Values{}
	for k, v := range orig {
		shifted[k] = v
	}
	shifted.Set("MessageSid", orig.Get("MessageSid")+"NumMedia"+orig.Get("NumMedia"))
	shifted.Del("NumMedia")
	if handlers.TwilioSignature([]byte(authToken), publicURL+"/twilio/sms", shifted) != sig {
		t.Fatal("the shifted form does not carry the captured signature: the test proves nothing")
	}
	replay := func(r *http.Request, _ url.Values) { r.Header.Set("X-Twilio-Signature", sig) }
	if s, b := h.postSMS(t, shifted, replay); s != http.StatusBadRequest || strings.Contains(b, "NumMedia") {
		t.Fatalf("shifted replay: %d %q, want 400", s, b)
	}
	other := smsForm("SMacct", "+51919191919", "hola")
	other.Set("AccountSid", "AC99999999999999999999999999999999")
	badSmsSid := smsForm("SMsmssid", "+51919191919", "hola")
	badSmsSid.Set("SmsSid", "SM1")
	twoIDs := smsForm("SMtwo", "+51919191919", "hola")
	twoIDs.Set("SmsSid", twilioSID("SMtwo-other"))
	for name, f := range map[string]url.Values{"another account": other, "SmsSid of another shape": badSmsSid, "two message ids": twoIDs} {
		if s, b := h.postSMS(t, f, addValidSignature); s != http.StatusBadRequest {
			t.Errorf("%s: %d %q, want 400", name, s, b)
		}
	}
	if n := len(h.claimAll(t, gatewaytest.Lima)); n != 1 {
		t.Fatalf("%d tips queued, want only the original", n)
	}
	if got := rejects.get(metrics.BadRequest); got != 4 {
		t.Errorf("bad requests counted: %d, want 4", got)
	}
}

type countRejects struct {
	mu     sync.Mutex
	m      map[metrics.Reason]int
	routes map[metrics.Route]int
}

func (c *countRejects) Rejected(route metrics.Route, r metrics.Reason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[r]++
	if c.routes == nil {
		c.routes = map[metrics.Route]int{}
	}
	c.routes[route]++
}

// byRoute is how many rejections each route had, by its label.
func (c *countRejects) byRoute() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for r, n := range c.routes {
		out[r.String()] += n
	}
	return out
}
func (c *countRejects) get(r metrics.Reason) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[r]
}

// TestOfficerReplyErrorsTellTheTruth (issue 11, points 4 and 8): a reply
// Twilio refuses is a 502 the officer may retry; when Redis cannot say
// whether the reporter said STOP, nothing is sent (no reply, no automatic
// answer) and the officer gets a 503, not "STOP".
func TestOfficerReplyErrorsTellTheTruth(t *testing.T) {
	h := newHarness(t)
	token := h.officer(t, gatewaytest.Lima)
	if s, b := h.postSMS(t, smsForm("SMtr1", "+51910101010", "ayuda"), addValidSignature); s != 200 {
		t.Fatalf("%d %s", s, b)
	}
	tip := h.claimTip(t, token)
	h.fake.mu.Lock()
	h.fake.sendFail = 1
	h.fake.mu.Unlock()
	if s, b := h.reply(t, token, tip.ID, "¿Cuántos son?", ""); s != http.StatusBadGateway || !strings.Contains(b, "not sent") {
		t.Fatalf("reply refused by Twilio: %d %s, want 502 not sent", s, b)
	}

	h.Redis.InjectFaults().FailMatching(":optout:")
	if s, b := h.reply(t, token, tip.ID, "¿Cuántos son?", ""); s != http.StatusServiceUnavailable || strings.Contains(b, "STOP") {
		t.Fatalf("reply while the opt-out state is unreadable: %d %s, want 503", s, b)
	}
	if s, b := h.postSMS(t, smsForm("SMtr2", "+51910101010", "seguimos aqui"), addValidSignature); s != 200 || !regexpMatch(emptyTwiML, b) {
		t.Fatalf("automatic answer while the opt-out state is unreadable: %d %q", s, b)
	}
	if _, _, sent := h.fake.snapshot(); len(sent) != 0 {
		t.Fatalf("%d messages sent while the opt-out state was unreadable or refused", len(sent))
	}
	// A STOP that cannot be recorded is not answered 200: Twilio retries it.
	if s, b := h.postSMS(t, smsForm("SMtr3", "+51910101010", "STOP"), addValidSignature); s != http.StatusServiceUnavailable {
		t.Fatalf("STOP while the opt-out state is unwritable: %d %q, want 503", s, b)
	}
}

// TestChannelSpoolKeepsReplyHandleAndScrub (issue 11, point 5): a tip that
// arrives while Redis does not answer is spooled with what it needs later
// (its reply handle, its scrub job, its thread), and the drain applies
// them: the officer's reply reaches the reporter and Twilio's copy is
// erased.
func TestChannelSpoolKeepsReplyHandleAndScrub(t *testing.T) {
	pub := &spool.Publisher{Timeout: 500 * time.Millisecond}
	var proxy *queuetest.Proxy
	var store *conversation.Store
	h := newHarnessChannel(t, nil, func(s *gatewaytest.Stack, o *sms.Options) {
		_, proxy, store = spoolStack(t, s, pub)
		o.Store = store
	}, func(o *gateway.Options) { o.Publisher = pub })
	ctx := context.Background()
	token := h.officer(t, gatewaytest.Lima)

	proxy.SetDown(true)
	form := smsForm("SMspool1", "+51912340000", "ayuda, nos tienen encerrados")
	if s, b := h.postSMS(t, form, addValidSignature); s != 200 {
		t.Fatalf("tip while Redis is down: %d %s", s, b)
	}
	if pub.Spool.Empty() {
		t.Fatal("the tip was not spooled")
	}
	spoolHasNoCanary(t, pub.Spool.Dir(), "51912340000", "encerrados", form.Get("MessageSid"), h.Keyer.Sender("+51912340000"))
	proxy.SetDown(false)
	drain(t, pub)
	if th, ok, err := store.Thread(ctx, h.Keyer.Sender("+51912340000")); !ok || err != nil || len(th.Agencies) != 1 {
		t.Fatalf("thread after the drain: %+v %v %v", th, ok, err)
	}
	tip := h.claimTip(t, token)
	if s, b := h.reply(t, token, tip.ID, "¿Dónde están?", ""); s != 200 {
		t.Fatalf("reply to a tip that went through the spool: %d %s", s, b)
	}
	if _, _, sent := h.fake.snapshot(); len(sent) != 1 || sent[0].Get("To") != "+51912340000" {
		t.Fatalf("sent = %v", sent)
	}
	if n, _ := store.Scrubs().Pending(ctx); n != 1 {
		t.Fatalf("%d scrub jobs after the drain, want 1", n)
	}
	h.clock.add(2 * time.Hour)
	h.ch.ScrubDue(ctx)
	if redacted, _, _ := h.fake.snapshot(); len(redacted) != 1 || redacted[0] != form.Get("MessageSid") {
		t.Fatalf("redacted = %v, want the spooled message", redacted)
	}

	// An exit word spooled in the next outage closes the conversation once
	// drained: even an override reply reaches nobody.
	proxy.SetDown(true)
	if s, b := h.postSMS(t, smsForm("SMspool2", "+51912340000", "SALIR"), addValidSignature); s != 200 {
		t.Fatalf("exit word while Redis is down: %d %s", s, b)
	}
	proxy.SetDown(false)
	drain(t, pub)
	if s, b := h.reply(t, token, tip.ID, "¿Hola?", "life_at_risk"); s != http.StatusConflict || !strings.Contains(b, "cannot be reached") {
		t.Fatalf("reply after a spooled exit word: %d %s, want 409 cannot be reached", s, b)
	}
	if _, _, sent := h.fake.snapshot(); len(sent) != 1 {
		t.Fatalf("%d sends, want only the reply before the exit word", len(sent))
	}
}

// spoolStack points pub at the stack's Redis through a proxy the test can
// take down, with a disk spool behind it, and returns the proxied client,
// the proxy, and a conversation store on that client whose side records
// the drain applies.
func spoolStack(t testing.TB, s *gatewaytest.Stack, pub *spool.Publisher) (redis.UniversalClient, *queuetest.Proxy, *conversation.Store) {
	t.Helper()
	rdb, proxy := s.Redis.ClientViaProxy(t)
	store := s.Store(t, rdb)
	sp, err := spool.Open(t.TempDir(), spool.Options{Logger: s.Logger})
	if err != nil {
		t.Fatal(err)
	}
	pub.Primary, pub.Spool, pub.Logger = queue.New(rdb, queue.Options{Prefix: s.Redis.Prefix}), sp, s.Logger
	pub.Apply = store.ApplySide
	return rdb, proxy, store
}

// drain empties the spool into Redis. The first calls may meet connections
// the outage broke, and breakers cool down: it tries until the spool is
// empty, with a deadline.
func drain(t *testing.T, pub *spool.Publisher) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for pub.Flush(context.Background()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d records left in the spool after draining", pub.Spool.Stats().Records)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// spoolHasNoCanary fails if any spool file holds one of the canaries.
func spoolHasNoCanary(t *testing.T, dir string, canaries ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	size := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		size += len(b)
		for _, c := range canaries {
			if bytes.Contains(b, []byte(c)) {
				t.Errorf("the spool holds %q in clear", c)
			}
		}
	}
	if size == 0 {
		t.Fatal("the spool is empty on disk: the test sees nothing")
	}
}

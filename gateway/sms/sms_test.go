package sms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/pseudonym"
	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/gateway/reply"
	"github.com/hotline-org/hotline/gateway/scrub"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/redis/go-redis/v9"
	"golang.org/x/text/language"
)

// Reporters of the tests: made-up Peruvian mobile numbers.
const (
	reporter = "+51987654321"
	other    = "+51912345678"
)

// fakeIntake queues nothing: it keeps what it was given and answers like
// gateway.Intake, one case per sender and a duplicate for a SID it has seen.
type fakeIntake struct {
	mu     sync.Mutex
	tips   []gateway.Tip
	seen   map[string]gateway.Receipt
	err    error
	agency string
}

func (f *fakeIntake) Submit(_ context.Context, t gateway.Tip) (gateway.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return gateway.Receipt{}, f.err
	}
	if r, ok := f.seen[t.ProviderID]; ok && t.ProviderID != "" {
		r.Duplicate = true
		return r, nil
	}
	// The channel clears media after Submit: keep copies.
	t.Media = slices.Clone(t.Media)
	for i := range t.Media {
		t.Media[i].Data = slices.Clone(t.Media[i].Data)
	}
	f.tips = append(f.tips, t)
	caseRef := t.Case
	if caseRef == "" {
		caseRef = fmt.Sprintf("HL-%04d", len(f.tips))
	}
	r := gateway.Receipt{TipID: fmt.Sprintf("tip-%d", len(f.tips)), Case: caseRef, Agencies: []string{f.agency}}
	f.seen[t.ProviderID] = r
	return r, nil
}

// Seen makes the fake a sms.Deduper, as the real intake is.
func (f *fakeIntake) Seen(_ context.Context, providerID string) (gateway.Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.seen[providerID]
	r.Duplicate = ok
	return r, nil
}

func (f *fakeIntake) submitted() []gateway.Tip {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tips)
}

type sent struct{ from, to, body string }

// fakeTwilio is Twilio's REST side: it records what it is asked.
type fakeTwilio struct {
	mu       sync.Mutex
	fetched  []string
	sent     []sent
	scrubbed []twilioapi.ScrubJob
	sendErr  error
	// scrub answers a scrub call; nil erases everything.
	scrub func(twilioapi.ScrubJob) (twilioapi.ScrubJob, error)
	// slow is how long a media download takes (set before use); fetching,
	// if set, is told when one begins.
	slow     time.Duration
	fetching chan struct{}
}

func (f *fakeTwilio) FetchMedia(_ context.Context, url string) ([]byte, string, error) {
	if f.fetching != nil {
		select {
		case f.fetching <- struct{}{}:
		default:
		}
	}
	time.Sleep(f.slow)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetched = append(f.fetched, url)
	return []byte("jpeg bytes of " + url[strings.LastIndex(url, "/")+1:]), "image/jpeg", nil
}

// ParseMediaURL takes .../Messages/{MessageSID}/Media/{MediaSID}.
func (f *fakeTwilio) ParseMediaURL(raw string) (twilioapi.MediaURL, error) {
	parts := strings.Split(raw, "/")
	if len(parts) < 4 || parts[len(parts)-2] != "Media" {
		return twilioapi.MediaURL{}, twilioapi.ErrMediaURL
	}
	return twilioapi.MediaURL{MessageSID: parts[len(parts)-3], MediaSID: parts[len(parts)-1]}, nil
}

func (f *fakeTwilio) Send(_ context.Context, from, to, body string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sent{from, to, body})
	if f.sendErr != nil {
		return "", f.sendErr
	}
	return fmt.Sprintf("SMreply%d", len(f.sent)), nil
}

func (f *fakeTwilio) Scrub(_ context.Context, job twilioapi.ScrubJob) (twilioapi.ScrubJob, error) {
	f.mu.Lock()
	f.scrubbed = append(f.scrubbed, job)
	scrub := f.scrub
	f.mu.Unlock()
	job.Attempt++
	// Outside the lock: the scrubber calls Twilio several at a time.
	if scrub != nil {
		return scrub(job)
	}
	job.Redacted, job.MediaSIDs = true, nil
	return job, nil
}

func (f *fakeTwilio) calls() (fetched []string, s []sent, scrubbed []twilioapi.ScrubJob) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.fetched), slices.Clone(f.sent), slices.Clone(f.scrubbed)
}

// fakeLimiter allows everything unless deny is set.
type fakeLimiter struct {
	mu   sync.Mutex
	deny bool
	keys []string
}

func (l *fakeLimiter) Allow(_ context.Context, key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, key)
	return !l.deny
}

// Over, as gateway/ratelimit's: past the limit now, counting nothing.
func (l *fakeLimiter) Over(_ context.Context, key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.deny
}

type fakeMetrics struct {
	mu          sync.Mutex
	replies     []string
	scrubs      []string
	rateLimited int
}

func (m *fakeMetrics) Reply(outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.replies = append(m.replies, outcome)
}

func (m *fakeMetrics) ScrubOutcome(outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.scrubs = append(m.scrubs, outcome)
}

func (m *fakeMetrics) RateLimited() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rateLimited++
}

type auditEntry struct{ agency, action, officer, tip, detail string }

type fakeAuditor struct {
	mu      sync.Mutex
	entries []auditEntry
	err     error
}

func (a *fakeAuditor) Audit(_ context.Context, agency, action, officer, tip, detail string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.entries = append(a.entries, auditEntry{agency, action, officer, tip, detail})
	return nil
}

// clock is the channel's injected clock. It starts at the real time
// because Redis keeps its own TTLs and the store stamps scrub jobs with it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one channel over fakes and a real conversation store.
type env struct {
	stack   *gatewaytest.Stack
	ch      *sms.Channel
	store   *conversation.Store
	intake  *fakeIntake
	tw      *fakeTwilio
	limit   *fakeLimiter
	metrics *fakeMetrics
	audit   *fakeAuditor
	clock   *clock
	catalog *reply.Catalog
}

func newEnv(t *testing.T, opts ...func(*env, *sms.Options)) *env {
	t.Helper()
	e := &env{
		stack:   gatewaytest.New(t),
		intake:  &fakeIntake{seen: map[string]gateway.Receipt{}, agency: gatewaytest.Lima},
		tw:      &fakeTwilio{},
		limit:   &fakeLimiter{},
		metrics: &fakeMetrics{},
		audit:   &fakeAuditor{},
		clock:   &clock{t: time.Now().UTC().Truncate(time.Second)},
	}
	e.ch, e.store = e.stack.Channel(t, e.tw, e.clock.now, func(o *sms.Options) {
		o.Intake, o.Sender, o.Metrics, o.Audit = e.intake, e.limit, e.metrics, e.audit
		e.catalog = o.Catalog
		for _, f := range opts {
			f(e, o)
		}
	})
	return e
}

func (e *env) sender(from string) string { return e.stack.Keyer.Sender(from) }

func sms1(sid, from, body string) sms.Message {
	return sms.Message{SID: sid, From: from, To: gatewaytest.NumberLima, Body: body}
}

// receive is a message that a case needs first; it must be queued.
func (e *env) receive(t *testing.T, m sms.Message) sms.Result {
	t.Helper()
	res, err := e.ch.Receive(context.Background(), m)
	if err != nil {
		t.Fatalf("receive %s: %v", m.SID, err)
	}
	return res
}

const englishTip = "There is a man selling stolen phones behind the market every evening after six"

func mediaURL(msg, media string) string {
	return "https://api.twilio.com/2010-04-01/Accounts/ACtest/Messages/" + msg + "/Media/" + media
}

func TestReceive(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// prep sets the scene: earlier messages, limits, a broken store.
		prep        func(t *testing.T, e *env)
		msg         sms.Message
		wantErr     error
		wantOutcome sms.Outcome
		// wantReply is the automatic answer expected for the case given.
		wantReply func(e *env, caseRef string) string
		// wantTips is how many tips Intake got in all.
		wantTips int
		check    func(t *testing.T, e *env, res sms.Result)
	}{
		{
			name:        "plain message queued with an ack in the sender's language",
			msg:         sms1("SM001", reporter, englishTip),
			wantOutcome: sms.Queued,
			wantReply:   func(e *env, c string) string { return e.catalog.Ack(language.English, c) },
			wantTips:    1,
			check: func(t *testing.T, e *env, res sms.Result) {
				tip := e.intake.submitted()[0]
				if tip.Channel != gateway.ChannelSMS || tip.Text != englishTip || tip.Language != "en" ||
					tip.Seq != 1 || tip.ProviderID != "SM001" || !tip.ReceivedAt.Equal(e.clock.now()) {
					t.Errorf("tip = %+v", tip)
				}
				if side, err := tip.SealSide(); len(side) == 0 || err != nil {
					t.Errorf("tip has no sealed side record (%v): a spooled tip would lose its reply handle", err)
				}
				if res.Reply == e.catalog.Ack(language.Spanish, res.Case) {
					t.Error("ack in the number's default language, not the sender's")
				}
				th, ok, err := e.store.Thread(ctx, e.sender(reporter))
				if err != nil || !ok || th.Case != res.Case || th.Seq != 1 || !slices.Equal(th.Agencies, []string{gatewaytest.Lima}) {
					t.Errorf("thread = %+v, %v, %v", th, ok, err)
				}
				h, last, err := e.store.Handle(ctx, gatewaytest.Lima, res.Case)
				if err != nil || h.From != reporter || h.To != gatewaytest.NumberLima || h.Sender != e.sender(reporter) || !last.Equal(e.clock.now()) {
					t.Errorf("handle = %+v, %v, %v", h, last, err)
				}
			},
		},
		{
			name: "a second message joins the sender's case",
			prep: func(t *testing.T, e *env) {
				e.receive(t, sms1("SM001", reporter, englishTip))
				e.clock.add(5 * time.Minute)
			},
			msg:         sms1("SM002", reporter, "He has a red motorbike and a blue helmet"),
			wantOutcome: sms.Queued,
			wantReply:   func(e *env, c string) string { return e.catalog.Ack(language.English, c) },
			wantTips:    2,
			check: func(t *testing.T, e *env, res sms.Result) {
				tips := e.intake.submitted()
				if tips[0].Case != "" || tips[1].Case != "HL-0001" || res.Case != "HL-0001" || tips[1].Seq != 2 ||
					!slices.Equal(tips[1].ThreadAgencies, []string{gatewaytest.Lima}) {
					t.Errorf("second tip: case %q seq %d agencies %v; result case %q", tips[1].Case, tips[1].Seq, tips[1].ThreadAgencies, res.Case)
				}
				if _, last, err := e.store.Handle(ctx, gatewaytest.Lima, res.Case); err != nil || !last.Equal(e.clock.now()) {
					t.Errorf("handle's last message = %v, %v; want the second message's time", last, err)
				}
			},
		},
		{
			name:        "duplicate answered without a second submit",
			prep:        func(t *testing.T, e *env) { e.receive(t, sms1("SM001", reporter, englishTip)) },
			msg:         sms1("SM001", reporter, englishTip),
			wantOutcome: sms.Duplicate,
			wantReply:   func(e *env, c string) string { return e.catalog.Ack(language.English, c) },
			wantTips:    1,
			check: func(t *testing.T, e *env, res sms.Result) {
				if res.Case != "HL-0001" {
					t.Errorf("case = %q, want the first answer's", res.Case)
				}
				if n := len(e.limit.keys); n != 1 {
					t.Errorf("sender limit counted %d times, want once (a retry is never counted)", n)
				}
			},
		},
		{
			name:        "STOP recorded and not queued",
			msg:         sms1("SM001", reporter, "stop"),
			wantOutcome: sms.OptedOut,
			check: func(t *testing.T, e *env, res sms.Result) {
				if out, err := e.store.OptedOut(ctx, e.sender(reporter)); !out || err != nil {
					t.Errorf("OptedOut = %v, %v; want true", out, err)
				}
				if out, _ := e.store.OptedOut(ctx, e.sender(other)); out {
					t.Error("another sender is opted out too")
				}
			},
		},
		{
			name: "STOP is taken even over the sender's limit",
			prep: func(t *testing.T, e *env) {
				e.limit.deny = true
			},
			msg:         sms1("SM001", reporter, "STOP"),
			wantOutcome: sms.OptedOut,
			check: func(t *testing.T, e *env, res sms.Result) {
				if out, err := e.store.OptedOut(ctx, e.sender(reporter)); !out || err != nil {
					t.Errorf("OptedOut = %v, %v; want true", out, err)
				}
			},
		},
		{
			name: "START lifts STOP and is queued without an ack",
			prep: func(t *testing.T, e *env) {
				e.receive(t, sms1("SM001", reporter, "STOP"))
			},
			msg:         sms1("SM002", reporter, "Start"),
			wantOutcome: sms.Queued,
			wantTips:    1,
			check: func(t *testing.T, e *env, res sms.Result) {
				if out, err := e.store.OptedOut(ctx, e.sender(reporter)); out || err != nil {
					t.Errorf("OptedOut = %v, %v; want false", out, err)
				}
				if k := e.intake.submitted()[0].Kind; k != "opt_in" {
					t.Errorf("tip kind = %q, want opt_in", k)
				}
			},
		},
		{
			name: "after STOP a message is queued without an ack",
			prep: func(t *testing.T, e *env) {
				e.receive(t, sms1("SM001", reporter, "STOP"))
			},
			msg:         sms1("SM002", reporter, englishTip),
			wantOutcome: sms.Queued,
			wantTips:    1,
		},
		{
			name: "exit word closes the thread and refuses later replies",
			prep: func(t *testing.T, e *env) {
				e.receive(t, sms1("SM001", reporter, englishTip))
				e.clock.add(time.Minute)
			},
			msg:         sms1("SM002", reporter, "salir"),
			wantOutcome: sms.Queued,
			wantTips:    2,
			check: func(t *testing.T, e *env, res sms.Result) {
				if k := e.intake.submitted()[1].Kind; k != "exit" {
					t.Errorf("tip kind = %q, want exit", k)
				}
				if _, ok, err := e.store.Thread(ctx, e.sender(reporter)); ok || err != nil {
					t.Errorf("thread still open (%v, %v)", ok, err)
				}
				err := e.ch.Reply(ctx, gatewaytest.Lima, "HL-0001", "tip-1", "officer-1", "Are you safe?", "")
				if !errors.Is(err, sms.ErrNoHandle) {
					t.Errorf("Reply after exit = %v, want ErrNoHandle", err)
				}
				if _, s, _ := e.tw.calls(); len(s) != 0 {
					t.Errorf("Twilio asked to send %d messages after the exit word", len(s))
				}
			},
		},
		{
			name: "over the sender limit: queued, no reply, no media fetch",
			prep: func(t *testing.T, e *env) { e.limit.deny = true },
			msg: sms.Message{SID: "MM001", From: reporter, To: gatewaytest.NumberLima, Body: englishTip,
				Media: []sms.MediaRef{{URL: mediaURL("MM001", "ME001"), ContentType: "image/jpeg"}}},
			wantOutcome: sms.RateLimited,
			wantTips:    1,
			check: func(t *testing.T, e *env, res sms.Result) {
				if f, _, _ := e.tw.calls(); len(f) != 0 {
					t.Errorf("media fetched over the limit: %d", len(f))
				}
				tip := e.intake.submitted()[0]
				if len(tip.Media) != 1 || tip.Media[0].Data != nil || !strings.Contains(tip.Media[0].Error, "not fetched") {
					t.Errorf("media = %+v, want one item not fetched", tip.Media)
				}
				if e.metrics.rateLimited != 1 {
					t.Errorf("rate limited counted %d times, want 1", e.metrics.rateLimited)
				}
				if !slices.Equal(e.limit.keys, []string{e.sender(reporter)}) {
					t.Error("sender limit not keyed on the sender's pseudonym")
				}
			},
		},
		{
			name:        "empty body",
			msg:         sms1("SM001", reporter, " \n\t "),
			wantOutcome: sms.Empty,
		},
		{
			name: "WhatsApp pin fills hints",
			msg: sms.Message{SID: "SM001", From: "whatsapp:" + reporter, To: "whatsapp:" + gatewaytest.NumberLima,
				ProfileName: "Ana", Latitude: "-12.0464", Longitude: "-77.0428", Address: "Plaza Mayor"},
			wantOutcome: sms.Queued,
			wantReply: func(e *env, c string) string {
				text, _ := e.catalog.AckFor(reply.Number{Default: language.Spanish}, language.Und, c)
				return text
			},
			wantTips: 1,
			check: func(t *testing.T, e *env, res sms.Result) {
				tip := e.intake.submitted()[0]
				want := geo.Hints{Latitude: "-12.0464", Longitude: "-77.0428", Source: geo.SourcePin}
				if tip.Channel != gateway.ChannelWhatsApp || tip.Hints != want || tip.ProfileName != "Ana" || tip.Text != "Plaza Mayor" {
					t.Errorf("tip: channel %q hints %+v profile %q text %q", tip.Channel, tip.Hints, tip.ProfileName, tip.Text)
				}
				h, _, err := e.store.Handle(ctx, gatewaytest.Lima, res.Case)
				if err != nil || h.Channel != "whatsapp" || h.From != "whatsapp:"+reporter {
					t.Errorf("handle = %+v, %v", h, err)
				}
			},
		},
		{
			name: "media fetched and its SIDs passed to the scrub job",
			msg: sms.Message{SID: "MM001", From: reporter, To: gatewaytest.NumberLima, Body: englishTip,
				Media: []sms.MediaRef{
					{URL: mediaURL("MM001", "ME001"), ContentType: "image/jpeg"},
					{URL: mediaURL("MM001", "ME002"), ContentType: "image/jpeg"},
				}},
			wantOutcome: sms.Queued,
			wantReply:   func(e *env, c string) string { return e.catalog.Ack(language.English, c) },
			wantTips:    1,
			check: func(t *testing.T, e *env, res sms.Result) {
				fetched, _, _ := e.tw.calls()
				if !slices.Equal(fetched, []string{mediaURL("MM001", "ME001"), mediaURL("MM001", "ME002")}) {
					t.Errorf("fetched %v", fetched)
				}
				tip := e.intake.submitted()[0]
				if len(tip.Media) != 2 || string(tip.Media[1].Data) != "jpeg bytes of ME002" || tip.Media[1].Error != "" {
					t.Errorf("media = %+v", tip.Media)
				}
				// Twilio is not asked before the webhook is answered.
				e.ch.ScrubDue(ctx)
				if _, _, s := e.tw.calls(); len(s) != 0 {
					t.Fatalf("scrubbed before the first delay: %+v", s)
				}
				e.clock.add(twilioapi.ScrubSchedule.Delay(0) + time.Second)
				e.ch.ScrubDue(ctx)
				_, _, scrubbed := e.tw.calls()
				if len(scrubbed) != 1 || scrubbed[0].MessageSID != "MM001" || !slices.Equal(scrubbed[0].MediaSIDs, []string{"ME001", "ME002"}) {
					t.Errorf("scrub jobs = %+v, want MM001 with ME001, ME002", scrubbed)
				}
			},
		},
		{
			name:        "number with replies off queues without an ack or a scrub job",
			msg:         sms.Message{SID: "SM001", From: reporter, To: gatewaytest.NumberNone, Body: englishTip},
			wantOutcome: sms.Queued,
			wantTips:    1,
			check: func(t *testing.T, e *env, res sms.Result) {
				if n, err := e.store.Scrubs().Pending(ctx); n != 0 || err != nil {
					t.Errorf("pending scrubs = %d, %v; want none", n, err)
				}
			},
		},
		{
			name: "intake failure is returned",
			prep: func(t *testing.T, e *env) {
				e.intake.err = fmt.Errorf("%w: redis down", gateway.ErrUnavailable)
			},
			msg:     sms1("SM001", reporter, englishTip),
			wantErr: gateway.ErrUnavailable,
			check: func(t *testing.T, e *env, res sms.Result) {
				if _, ok, _ := e.store.Thread(ctx, e.sender(reporter)); ok {
					t.Error("thread saved for a tip that was not queued")
				}
			},
		},
		{
			name: "STOP that cannot be recorded is an error",
			prep: func(t *testing.T, e *env) { closedStore(t, e) },
			msg:  sms1("SM001", reporter, "STOP"),
			// Twilio must send the STOP again: never answered as taken.
			wantErr: gateway.ErrUnavailable,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.prep != nil {
				tc.prep(t, e)
			}
			before := len(e.intake.submitted())
			res, err := e.ch.Receive(ctx, tc.msg)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Receive error = %v, want %v", err, tc.wantErr)
				}
				if res != (sms.Result{}) {
					t.Errorf("result %+v with an error", res)
				}
				if n := len(e.intake.submitted()); n != before {
					t.Errorf("intake got %d tips, want %d", n, before)
				}
			case err != nil:
				t.Fatalf("Receive: %v", err)
			default:
				if res.Outcome != tc.wantOutcome {
					t.Errorf("outcome = %v, want %v", res.Outcome, tc.wantOutcome)
				}
				want := ""
				if tc.wantReply != nil {
					want = tc.wantReply(e, res.Case)
					if res.Case == "" || want == "" || !strings.Contains(want, res.Case) {
						t.Errorf("case %q, expected ack %q: no reference to give", res.Case, want)
					}
				}
				if res.Reply != want {
					t.Errorf("reply = %q, want %q", res.Reply, want)
				}
				if n := len(e.intake.submitted()); n != tc.wantTips {
					t.Errorf("intake got %d tips, want %d", n, tc.wantTips)
				}
			}
			if tc.check != nil {
				tc.check(t, e, res)
			}
		})
	}
}

// closedStore swaps the channel's store for one on a closed Redis client.
func closedStore(t *testing.T, e *env) {
	t.Helper()
	opt, err := redis.ParseURL(e.stack.Redis.URL)
	if err != nil {
		t.Fatalf("redis URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	rdb.Close()
	broken := e.stack.Store(t, rdb)
	e.ch, _ = e.stack.Channel(t, e.tw, e.clock.now, func(o *sms.Options) {
		o.Intake, o.Sender, o.Metrics, o.Audit, o.Store = e.intake, e.limit, e.metrics, e.audit, broken
	})
}

func TestReply(t *testing.T) {
	ctx := context.Background()
	const text = "Thank you. Are you safe now?"
	tests := []struct {
		name     string
		prep     func(t *testing.T, e *env)
		after    time.Duration // since the reporter's last message
		text     string
		override string
		wantErr  error
		// wantSent: Twilio was asked to send the text to the reporter.
		wantSent    bool
		wantAudit   string // the audit entry's detail, "" for none
		wantOutcome string // counted
		check       func(t *testing.T, e *env)
	}{
		{
			name: "in window sent", after: 10 * time.Minute, text: text,
			wantSent: true, wantAudit: "in_window", wantOutcome: "sent",
			check: func(t *testing.T, e *env) {
				agency, caseRef, err := e.store.Outbound(ctx, e.stack.Keyer.Of(pseudonym.DomainProvider, "SMreply1"))
				if err != nil || agency != gatewaytest.Lima || caseRef != "HL-0001" {
					t.Errorf("outbound = %q %q %v; want the reply remembered for its delivery status", agency, caseRef, err)
				}
			},
		},
		{
			name: "outside window refused without override", after: 20 * time.Minute, text: text,
			wantErr: sms.ErrOutsideWindow, wantOutcome: "refused_window",
		},
		{
			name: "outside window sent with a valid override and audited", after: 20 * time.Minute, text: text,
			override: "life_at_risk", wantSent: true, wantAudit: "override:life_at_risk", wantOutcome: "sent",
		},
		{
			name: "bad override", after: 20 * time.Minute, text: text, override: "because",
			wantErr: sms.ErrBadOverride, wantOutcome: "error",
		},
		{
			name: "too long", text: strings.Repeat("é", sms.MaxReply+1),
			wantErr: sms.ErrBadReply, wantOutcome: "error",
		},
		{
			name: "longest allowed sent", text: strings.Repeat("é", sms.MaxReply),
			wantSent: true, wantAudit: "in_window", wantOutcome: "sent",
		},
		{
			name: "blank", text: " \n ",
			wantErr: sms.ErrBadReply, wantOutcome: "error",
		},
		{
			name: "opted-out sender refused with no Twilio call", text: text,
			prep: func(t *testing.T, e *env) {
				e.receive(t, sms1("SM009", reporter, "STOP"))
			},
			wantErr: sms.ErrOptedOut, wantOutcome: "refused_opted_out",
		},
		{
			name: "no handle for the case", text: text,
			prep: func(t *testing.T, e *env) {
				if err := e.store.DeleteHandle(ctx, gatewaytest.Lima, "HL-0001"); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: sms.ErrNoHandle, wantOutcome: "refused_no_handle",
		},
		{
			name: "audit failure: not sent", text: text,
			prep:    func(t *testing.T, e *env) { e.audit.err = errAuditDown },
			wantErr: errAuditDown, wantOutcome: "error",
		},
		{
			name: "Twilio failure is ErrNotSent", text: text,
			prep: func(t *testing.T, e *env) {
				e.tw.sendErr = &twilioapi.APIError{Op: "send", Status: 503}
			},
			wantErr: sms.ErrNotSent, wantSent: true, wantAudit: "in_window", wantOutcome: "not_sent",
		},
		{
			name: "Twilio opted-out error marks the sender opted out", text: text,
			prep: func(t *testing.T, e *env) {
				e.tw.sendErr = &twilioapi.APIError{Op: "send", Status: 400, Code: twilioapi.CodeOptedOut}
			},
			wantErr: sms.ErrOptedOut, wantSent: true, wantAudit: "in_window", wantOutcome: "refused_opted_out",
			check: func(t *testing.T, e *env) {
				if out, err := e.store.OptedOut(ctx, e.sender(reporter)); !out || err != nil {
					t.Errorf("OptedOut = %v, %v; want true", out, err)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if r := e.receive(t, sms1("SM001", reporter, englishTip)); r.Case != "HL-0001" {
				t.Fatalf("case = %q", r.Case)
			}
			if tc.prep != nil {
				tc.prep(t, e)
			}
			e.clock.add(tc.after)
			err := e.ch.Reply(ctx, gatewaytest.Lima, "HL-0001", "tip-1", "officer-7", tc.text, tc.override)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("Reply = %v, want %v", err, tc.wantErr)
			}
			_, s, _ := e.tw.calls()
			var want []sent
			if tc.wantSent {
				want = []sent{{from: gatewaytest.NumberLima, to: reporter, body: strings.TrimSpace(tc.text)}}
			}
			if !slices.Equal(s, want) {
				t.Errorf("Twilio sent %+v, want %+v", s, want)
			}
			var wantAudit []auditEntry
			if tc.wantAudit != "" {
				wantAudit = []auditEntry{{gatewaytest.Lima, "reply", "officer-7", "tip-1", tc.wantAudit}}
			}
			if !slices.Equal(e.audit.entries, wantAudit) {
				t.Errorf("audit = %+v, want %+v", e.audit.entries, wantAudit)
			}
			if !slices.Equal(e.metrics.replies, []string{tc.wantOutcome}) {
				t.Errorf("counted %v, want [%s]", e.metrics.replies, tc.wantOutcome)
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

var errAuditDown = errors.New("audit log down")

func TestReplyLimits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(e *env, o *sms.Options) { o.ReplyDestination = &fakeLimiter{deny: true} })
	e.receive(t, sms1("SM001", reporter, englishTip))
	err := e.ch.Reply(ctx, gatewaytest.Lima, "HL-0001", "tip-1", "officer-7", "Are you safe?", "")
	if !errors.Is(err, sms.ErrRateLimited) {
		t.Fatalf("Reply = %v, want ErrRateLimited", err)
	}
	if _, s, _ := e.tw.calls(); len(s) != 0 || len(e.audit.entries) != 0 {
		t.Errorf("sent %d, audited %d over the limit", len(s), len(e.audit.entries))
	}
}

func TestDeliveryStatus(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, sid, status, code string
		wantErr                 error
		want                    conversation.Delivery // At is the clock's
		wantScrub               bool                  // the reply queued for erasing
	}{
		{name: "delivered", sid: "SMreply1", status: "delivered",
			want: conversation.Delivery{Status: "delivered"}, wantScrub: true},
		{name: "sent is not final", sid: "SMreply1", status: "sent",
			want: conversation.Delivery{Status: "sent"}},
		{name: "undelivered with a code", sid: "SMreply1", status: "undelivered", code: "30003",
			want: conversation.Delivery{Status: "undelivered", Code: "30003"}, wantScrub: true},
		{name: "unknown status and a code that is not a number", sid: "SMreply1", status: "<b>odd</b>", code: "x1",
			want: conversation.Delivery{Status: "other"}},
		{name: "unknown message", sid: "SMnotours", status: "delivered", wantErr: conversation.ErrUnknownOutbound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.receive(t, sms1("SM001", reporter, englishTip))
			if err := e.ch.Reply(ctx, gatewaytest.Lima, "HL-0001", "tip-1", "officer-7", "Are you safe?", ""); err != nil {
				t.Fatal(err)
			}
			pending, err := e.store.Scrubs().Pending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			e.clock.add(time.Minute)
			err = e.ch.DeliveryStatus(ctx, tc.sid, tc.status, tc.code)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("DeliveryStatus = %v, want %v", err, tc.wantErr)
			}
			got, err := e.store.Deliveries(ctx, gatewaytest.Lima, "HL-0001")
			if err != nil {
				t.Fatal(err)
			}
			var want []conversation.Delivery
			if tc.wantErr == nil {
				tc.want.At = e.clock.now()
				want = []conversation.Delivery{tc.want}
			}
			if len(got) != len(want) || len(got) == 1 && (got[0].Status != want[0].Status || got[0].Code != want[0].Code || !got[0].At.Equal(want[0].At)) {
				t.Errorf("deliveries = %+v, want %+v", got, want)
			}
			after, err := e.store.Scrubs().Pending(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if queued := after > pending; queued != tc.wantScrub {
				t.Errorf("reply scrub queued = %v, want %v", queued, tc.wantScrub)
			}
		})
	}
}

func TestScrubDue(t *testing.T) {
	ctx := context.Background()
	inProgress := &twilioapi.APIError{Op: "redact", Status: 400, Code: twilioapi.CodeInProgress}
	// answer is Twilio's: the body redacted or not, the media item left,
	// and err.
	answer := func(redacted bool, err error) func(twilioapi.ScrubJob) (twilioapi.ScrubJob, error) {
		return func(j twilioapi.ScrubJob) (twilioapi.ScrubJob, error) {
			j.Redacted = redacted
			return j, err
		}
	}
	tests := []struct {
		name string
		// scrub is Twilio's answer; nil: everything erased.
		scrub func(twilioapi.ScrubJob) (twilioapi.ScrubJob, error)
		// later is how long after queueing the job is run.
		later       time.Duration
		wantOutcome string
		wantPending int64
	}{
		{name: "due job deleted", later: time.Minute, wantOutcome: "deleted"},
		{name: "retryable error rescheduled", scrub: answer(true, inProgress), later: time.Minute,
			wantOutcome: "retry", wantPending: 1},
		{name: "part done without error rescheduled", scrub: answer(false, nil), later: time.Minute,
			wantOutcome: "retry", wantPending: 1},
		{name: "given up after the schedule's limit", scrub: answer(false, inProgress),
			later: twilioapi.ScrubSchedule.GiveUpAfter + time.Hour, wantOutcome: "failed"},
		{name: "permanent error failed", scrub: answer(false, &twilioapi.APIError{Op: "redact", Status: 403, Code: 20003}),
			later: time.Minute, wantOutcome: "failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.tw.scrub = tc.scrub
			job := twilioapi.ScrubJob{MessageSID: "SM001", MediaSIDs: []string{"ME001"}}
			if err := e.store.Scrubs().Enqueue(ctx, job, e.clock.now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			e.ch.ScrubDue(ctx)
			if _, _, s := e.tw.calls(); len(s) != 0 {
				t.Fatalf("job run before it was due: %+v", s)
			}
			e.clock.add(tc.later)
			e.ch.ScrubDue(ctx)
			_, _, scrubbed := e.tw.calls()
			if len(scrubbed) != 1 || scrubbed[0].MessageSID != "SM001" || !slices.Equal(scrubbed[0].MediaSIDs, []string{"ME001"}) {
				t.Fatalf("Twilio asked to scrub %+v, want SM001 with ME001", scrubbed)
			}
			if !slices.Equal(e.metrics.scrubs, []string{tc.wantOutcome}) {
				t.Errorf("counted %v, want [%s]", e.metrics.scrubs, tc.wantOutcome)
			}
			if n, err := e.store.Scrubs().Pending(ctx); n != tc.wantPending || err != nil {
				t.Errorf("pending = %d, %v; want %d", n, err, tc.wantPending)
			}
			if tc.wantPending == 0 {
				return
			}
			// A rescheduled job waits for its next try, then comes back
			// with what is left and its attempt counted.
			e.ch.ScrubDue(ctx)
			if _, _, s := e.tw.calls(); len(s) != 1 {
				t.Fatalf("rescheduled job run again at once")
			}
			e.clock.add(2 * twilioapi.ScrubSchedule.Delay(1))
			e.ch.ScrubDue(ctx)
			_, _, scrubbed = e.tw.calls()
			if len(scrubbed) != 2 || scrubbed[1].Attempt != 1 || !slices.Equal(scrubbed[1].MediaSIDs, []string{"ME001"}) {
				t.Errorf("second try = %+v, want attempt 1 with ME001 left", scrubbed[1:])
			}
		})
	}
}

// TestScrubDueDrainsABacklog: a backlog of due jobs (a flood of messages)
// is erased in one run, not one batch a run, several Twilio calls at a
// time but never more than the workers; each job once.
func TestScrubDueDrainsABacklog(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var now, most atomic.Int32
	e.tw.scrub = func(j twilioapi.ScrubJob) (twilioapi.ScrubJob, error) {
		n := now.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		now.Add(-1)
		j.Redacted = true
		return j, nil
	}
	const backlog = 5*sms.ScrubBatch + 3
	for i := range backlog {
		job := twilioapi.ScrubJob{MessageSID: fmt.Sprintf("SM%03d", i)}
		if err := e.store.Scrubs().Enqueue(ctx, job, e.clock.now()); err != nil {
			t.Fatal(err)
		}
	}
	e.ch.ScrubDue(ctx)
	_, _, scrubbed := e.tw.calls()
	seen := map[string]bool{}
	for _, j := range scrubbed {
		seen[j.MessageSID] = true
	}
	if len(scrubbed) != backlog || len(seen) != backlog {
		t.Fatalf("one run scrubbed %d jobs (%d distinct), want all %d once", len(scrubbed), len(seen), backlog)
	}
	if n, err := e.store.Scrubs().Pending(ctx); n != 0 || err != nil {
		t.Fatalf("pending after the run: %d, %v", n, err)
	}
	if m := most.Load(); m < 2 || m > sms.ScrubWorkers {
		t.Fatalf("at most %d Twilio calls at once, want between 2 and %d", m, sms.ScrubWorkers)
	}
}

// TestScrubDueTwilioOutOfReach: when Twilio answers none of a batch (an
// outage: every call a retryable failure), the run stops after that batch
// and reschedules it; the rest of the backlog is not churned through each
// run, and is erased once Twilio answers again.
func TestScrubDueTwilioOutOfReach(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	down := &twilioapi.APIError{Op: "redact", Status: 503}
	e.tw.scrub = func(j twilioapi.ScrubJob) (twilioapi.ScrubJob, error) { return j, down }
	const backlog = 3 * sms.ScrubBatch
	for i := range backlog {
		if err := e.store.Scrubs().Enqueue(ctx, twilioapi.ScrubJob{MessageSID: fmt.Sprintf("SM%03d", i)}, e.clock.now()); err != nil {
			t.Fatal(err)
		}
	}
	e.ch.ScrubDue(ctx)
	if _, _, s := e.tw.calls(); len(s) != sms.ScrubBatch {
		t.Fatalf("Twilio down: one run called it %d times, want one batch (%d)", len(s), sms.ScrubBatch)
	}
	if n, err := e.store.Scrubs().Pending(ctx); n != backlog || err != nil {
		t.Fatalf("pending %d, %v; want all %d kept", n, err, backlog)
	}
	// Back up: the next runs erase everything, the rescheduled batch
	// once its delay is over.
	e.tw.mu.Lock()
	e.tw.scrub = nil
	e.tw.mu.Unlock()
	e.clock.add(2 * twilioapi.ScrubSchedule.Delay(1))
	e.ch.ScrubDue(ctx)
	if n, err := e.store.Scrubs().Pending(ctx); n != 0 || err != nil {
		t.Fatalf("pending %d, %v once Twilio answers; want none", n, err)
	}
}

func TestScrubDueUnavailable(t *testing.T) {
	e := newEnv(t)
	closedStore(t, e)
	e.ch.ScrubDue(context.Background())
	if _, _, s := e.tw.calls(); len(s) != 0 || len(e.metrics.scrubs) != 0 {
		t.Errorf("scrubbed %d, counted %v with the store down", len(s), e.metrics.scrubs)
	}
}

// TestScrubDueFinishFails: a job Twilio finished but Redis did not remove
// (the run was cancelled mid-way) is not lost: it is logged, without an
// id of the message, and comes back when its lease ends.
func TestScrubDueFinishFails(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	e.tw.scrub = func(j twilioapi.ScrubJob) (twilioapi.ScrubJob, error) {
		cancel() // the gateway shuts down while Twilio answers
		j.Redacted, j.MediaSIDs = true, nil
		return j, nil
	}
	if err := e.store.Scrubs().Enqueue(context.Background(), twilioapi.ScrubJob{MessageSID: "SM001"}, e.clock.now()); err != nil {
		t.Fatal(err)
	}
	e.ch.ScrubDue(ctx)
	if n, err := e.store.Scrubs().Pending(context.Background()); n != 1 || err != nil {
		t.Fatalf("pending = %d, %v after a finish that failed; want the job kept", n, err)
	}
	if log := e.stack.Log.Bytes(); !bytes.Contains(log, []byte("scrub job not finished")) || bytes.Contains(log, []byte("SM001")) {
		t.Errorf("log = %s; want the failed finish, without the message SID", log)
	}
	e.tw.scrub = nil
	e.clock.add(scrub.Lease + time.Second)
	e.ch.ScrubDue(context.Background())
	if _, _, s := e.tw.calls(); len(s) != 2 {
		t.Fatalf("Twilio asked %d times, want the job run again after its lease", len(s))
	}
	if n, err := e.store.Scrubs().Pending(context.Background()); n != 0 || err != nil {
		t.Fatalf("pending = %d, %v; want the job finished", n, err)
	}
}

// TestScrubDueUnreadable: a job sealed to a reply key no longer configured
// is counted and logged for the operator, and stays queued; the jobs the key
// opens still run.
func TestScrubDueUnreadable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	oldKey, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	old := scrub.New(e.stack.Redis.Client, e.stack.Redis.Prefix, time.Second, oldKey, nil)
	if err := old.Enqueue(ctx, twilioapi.ScrubJob{MessageSID: "SM002"}, e.clock.now()); err != nil {
		t.Fatal(err)
	}
	if err := e.store.Scrubs().Enqueue(ctx, twilioapi.ScrubJob{MessageSID: "SM003"}, e.clock.now()); err != nil {
		t.Fatal(err)
	}
	e.ch.ScrubDue(ctx)
	if _, _, s := e.tw.calls(); len(s) != 1 || s[0].MessageSID != "SM003" {
		t.Fatalf("Twilio asked for %+v; want only the job the key opens", s)
	}
	if !slices.Contains(e.metrics.scrubs, "unreadable") {
		t.Errorf("counted %v; want an unreadable job counted", e.metrics.scrubs)
	}
	if log := e.stack.Log.Bytes(); !bytes.Contains(log, []byte("reply key cannot open")) || bytes.Contains(log, []byte("SM002")) {
		t.Errorf("log = %s; want the unreadable job reported, without its message SID", log)
	}
	if n, err := e.store.Scrubs().Pending(ctx); n != 1 || err != nil {
		t.Fatalf("pending = %d, %v; want the unreadable job kept", n, err)
	}
}

// failingTwilio fails every media download with err.
type failingTwilio struct {
	*fakeTwilio
	err error
}

func (f failingTwilio) FetchMedia(ctx context.Context, url string) ([]byte, string, error) {
	f.fakeTwilio.FetchMedia(ctx, url)
	return nil, "", f.err
}

func TestReceiveMediaErrors(t *testing.T) {
	ctx := context.Background()
	refs := func(n int) []sms.MediaRef {
		var out []sms.MediaRef
		for i := range n {
			out = append(out, sms.MediaRef{URL: mediaURL("MM001", fmt.Sprintf("ME%03d", i+1)), ContentType: "image/jpeg"})
		}
		return out
	}
	tests := []struct {
		name      string
		twilio    func(*fakeTwilio) sms.Twilio
		media     int
		wantFetch int
		wantErrs  []string // each item's Error
		wantScrub []string // media SIDs in the scrub job
	}{
		{name: "more than MaxMedia", media: 4, wantFetch: 3,
			wantErrs:  []string{"", "", "", "not fetched: more attachments than channel.media.max_items"},
			wantScrub: []string{"ME001", "ME002", "ME003"}},
		{name: "too large", media: 1, wantFetch: 1,
			twilio:   func(f *fakeTwilio) sms.Twilio { return failingTwilio{f, twilioapi.ErrMediaTooLarge} },
			wantErrs: []string{"not fetched: too large"}},
		{name: "type not allowed", media: 1, wantFetch: 1,
			twilio:   func(f *fakeTwilio) sms.Twilio { return failingTwilio{f, twilioapi.ErrMediaType} },
			wantErrs: []string{"not fetched: type not allowed"}},
		{name: "not of this account", media: 1, wantFetch: 1,
			twilio:   func(f *fakeTwilio) sms.Twilio { return failingTwilio{f, twilioapi.ErrMediaURL} },
			wantErrs: []string{"not fetched: not a media item of this account"}},
		{name: "download failed", media: 1, wantFetch: 1,
			twilio: func(f *fakeTwilio) sms.Twilio {
				return failingTwilio{f, &twilioapi.APIError{Op: "fetch media", Status: 502}}
			},
			wantErrs: []string{"not fetched: download failed"}},
		{name: "no Twilio REST", media: 1,
			twilio:   func(*fakeTwilio) sms.Twilio { return nil },
			wantErrs: []string{"not fetched: Twilio REST is not configured"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(e *env, o *sms.Options) {
				if tc.twilio != nil {
					o.Twilio = tc.twilio(e.tw)
				}
			})
			res := e.receive(t, sms.Message{SID: "MM001", From: reporter, To: gatewaytest.NumberLima, Body: englishTip, Media: refs(tc.media)})
			if res.Outcome != sms.Queued {
				t.Errorf("outcome = %v, want Queued", res.Outcome)
			}
			if f, _, _ := e.tw.calls(); len(f) != tc.wantFetch {
				t.Errorf("fetched %d, want %d", len(f), tc.wantFetch)
			}
			tip := e.intake.submitted()[0]
			var errs []string
			for _, m := range tip.Media {
				errs = append(errs, m.Error)
				if (m.Error == "") != (m.Data != nil) {
					t.Errorf("media item %+v: data and error disagree", m)
				}
			}
			if !slices.Equal(errs, tc.wantErrs) {
				t.Errorf("media errors = %q, want %q", errs, tc.wantErrs)
			}
			e.clock.add(2 * time.Minute)
			e.ch.ScrubDue(ctx)
			_, _, scrubbed := e.tw.calls()
			if tc.twilio != nil && tc.twilio(e.tw) == nil {
				if len(scrubbed) != 0 {
					t.Errorf("scrubbed without Twilio REST: %+v", scrubbed)
				}
				return
			}
			if len(scrubbed) != 1 || !slices.Equal(scrubbed[0].MediaSIDs, tc.wantScrub) {
				t.Errorf("scrub jobs = %+v, want media %v (only items fetched)", scrubbed, tc.wantScrub)
			}
		})
	}
}

func TestReplyWithoutTwilio(t *testing.T) {
	e := newEnv(t, func(_ *env, o *sms.Options) { o.Twilio = nil })
	e.receive(t, sms1("SM001", reporter, englishTip))
	err := e.ch.Reply(context.Background(), gatewaytest.Lima, "HL-0001", "tip-1", "officer-7", "Are you safe?", "")
	if !errors.Is(err, sms.ErrNoTwilio) {
		t.Fatalf("Reply = %v, want ErrNoTwilio", err)
	}
	if len(e.audit.entries) != 0 {
		t.Errorf("audited a reply that cannot be sent: %+v", e.audit.entries)
	}
}

func TestRunScrubberStopsWithContext(t *testing.T) {
	e := newEnv(t)
	if err := e.store.Scrubs().Enqueue(context.Background(), twilioapi.ScrubJob{MessageSID: "SM001"}, e.clock.now()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Shutdown comes during the first pass: RunScrubber returns without
	// waiting for a tick of its hour-long ticker.
	e.tw.scrub = func(j twilioapi.ScrubJob) (twilioapi.ScrubJob, error) {
		cancel()
		j.Redacted = true
		return j, nil
	}
	e.ch.RunScrubber(ctx, time.Hour)
	if !slices.Equal(e.metrics.scrubs, []string{"deleted"}) {
		t.Errorf("counted %v, want [deleted]", e.metrics.scrubs)
	}
}

func TestMessageRedacted(t *testing.T) {
	var b strings.Builder
	logger := slog.New(slog.NewJSONHandler(&b, nil))
	logger.Info("inbound", "msg", sms1("SM001", reporter, englishTip))
	if strings.Contains(b.String(), reporter) || strings.Contains(b.String(), "stolen") || !strings.Contains(b.String(), "[redacted]") {
		t.Errorf("log line = %s", b.String())
	}
}

// The retry of a message queued over the sender's limit should get the
// same answer as the first time, none.
func TestDuplicateOverLimitGetsNoAck(t *testing.T) {
	// A retry of a message that was over the limit gets the first answer:
	// none (it used to get an ack).
	e := newEnv(t)
	e.limit.deny = true
	first := e.receive(t, sms1("SM001", reporter, englishTip))
	retry := e.receive(t, sms1("SM001", reporter, englishTip))
	if first.Outcome != sms.RateLimited || first.Reply != "" {
		t.Fatalf("first = %+v, want RateLimited without reply", first)
	}
	if retry.Outcome != sms.Duplicate || retry.Reply != "" {
		t.Errorf("retry = %+v, want Duplicate without reply, as the first answer", retry)
	}
}

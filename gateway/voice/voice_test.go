package voice_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/ratelimit"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/gateway/voice"
	"github.com/hotline-org/hotline/queue"
	"github.com/redis/go-redis/v9"
	"golang.org/x/text/language"
)

const (
	callSID = "CA0123456789abcdef0123456789abcdef"
	recSID  = "RE0123456789abcdef0123456789abcdef"
	recURL  = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/" + recSID
	caller  = "+51912223333"
)

// stubTwilio serves one recording, or an error, and counts downloads.
type stubTwilio struct {
	data    []byte
	err     error
	fetches int
}

func (s *stubTwilio) ParseRecordingURL(raw string) (string, error) {
	sid := raw[strings.LastIndex(raw, "/")+1:]
	if !strings.HasPrefix(raw, recURL[:len(recURL)-len(recSID)]) || !twilioapi.ValidRecordingSID(sid) {
		return "", twilioapi.ErrRecordingURL
	}
	return sid, nil
}

func (s *stubTwilio) FetchRecording(ctx context.Context, u string, maxBytes int64) ([]byte, string, error) {
	s.fetches++
	if s.err != nil {
		return nil, "", s.err
	}
	if int64(len(s.data)) > maxBytes {
		return nil, "", &twilioapi.APIError{Op: "fetch recording", Err: twilioapi.ErrMediaTooLarge}
	}
	return bytes.Clone(s.data), "audio/mpeg", nil
}

func newChannel(t *testing.T, tw voice.Twilio, mod func(*voice.Options)) (*voice.Channel, *gatewaytest.Stack, *voice.Calls) {
	t.Helper()
	s := gatewaytest.New(t)
	key, err := seal.GenerateReplyKey()
	if err != nil {
		t.Fatal(err)
	}
	calls := voice.NewCalls(s.Redis.Client, s.Redis.Prefix, time.Second, key, s.Keyer)
	o := voice.Options{Intake: s.Intake, Store: s.Store(t, s.Redis.Client), Calls: calls, Keyer: s.Keyer, Twilio: tw,
		Numbers:   map[string]voice.Number{gatewaytest.NumberLima: {Language: language.Spanish, Scrub: true}, gatewaytest.NumberNone: {}},
		PublicURL: "https://hotline.example.org/", MaxSeconds: 60, AskUrgent: false, Logger: s.Logger}
	if mod != nil {
		mod(&o)
	}
	ch, err := voice.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return ch, s, calls
}

// noScrubs fails the test if a scrub job is queued: a recording that was
// not fetched stays at Twilio.
func noScrubs(t *testing.T, s *gatewaytest.Stack) {
	t.Helper()
	if n, _ := s.Store(t, s.Redis.Client).Scrubs().Pending(context.Background()); n != 0 {
		t.Fatalf("%d scrub jobs for a recording left at Twilio", n)
	}
}

// deadRedis is a client of a Redis that never answers.
func deadRedis(t *testing.T) *redis.Client {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { dead.Close() })
	return dead
}

func claimOne(t *testing.T, s *gatewaytest.Stack, agency string) (*queue.Claimed, gateway.Report) {
	t.Helper()
	c, err := s.Queue.Claim(context.Background(), agency, "officer")
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return c, s.Open(t, c)
}

// TestRecordingLimits: a recording longer than the limit is not fetched,
// one over the size cap is refused by the download; either way the call
// is still a tip that says why (so an officer knows someone called), and
// nothing is deleted at Twilio. The urgent choice in the callback's URL
// counts even without a call record.
func TestRecordingLimits(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		duration int
		data     []byte
		wantErr  string
		fetches  int
	}{
		{"too long", 66, []byte("ID3 short"), "not fetched: longer than channel.voice.max_seconds", 0},
		{"too large", 30, bytes.Repeat([]byte{1}, 2<<20), "not fetched: larger than channel.voice.max_bytes", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tw := &stubTwilio{data: tc.data}
			ch, s, _ := newChannel(t, tw, func(o *voice.Options) { o.MaxBytes = 1 << 20 })
			out, err := ch.Recording(ctx, voice.Recording{CallSID: callSID, SID: recSID, URL: recURL, DurationS: tc.duration, Status: "completed", Urgent: true})
			if err != nil || out != voice.Queued || tw.fetches != tc.fetches {
				t.Fatalf("recording: %v %v, %d fetches", out, err, tw.fetches)
			}
			c, rep := claimOne(t, s, gatewaytest.Lima)
			if c.Priority != queue.Urgent || len(rep.Media) != 1 || rep.Media[0].Error != tc.wantErr || rep.Media[0].Data != nil || rep.From != "" {
				t.Fatalf("tip %s: media %+v from %q", c.Priority, rep.Media, rep.From)
			}
			if rep.Routing.Reason == "" || rep.Routing.Agencies[0] != gatewaytest.Lima {
				t.Fatalf("routing %+v: want the default agency without a call record", rep.Routing)
			}
			noScrubs(t, s)
		})
	}
}

// TestRecordingDedupeAndStatus: a retry of a recording already queued is
// answered without a download; a recording that is not completed queues
// nothing; a URL that is not the RecordingSid's is refused unfetched.
func TestRecordingDedupeAndStatus(t *testing.T) {
	ctx := context.Background()
	tw := &stubTwilio{data: []byte("ID3 words")}
	ch, s, calls := newChannel(t, tw, nil)
	if _, err := ch.Answer(ctx, voice.Call{SID: callSID, From: caller, To: gatewaytest.NumberNone}); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"absent", "failed", "in-progress"} {
		if out, err := ch.Recording(ctx, voice.Recording{CallSID: callSID, SID: recSID, URL: recURL, Status: st}); out != voice.Ignored || err != nil {
			t.Fatalf("%s: %v %v", st, out, err)
		}
	}
	bad := voice.Recording{CallSID: callSID, SID: "RE" + strings.Repeat("1", 32), URL: recURL, Status: "completed"}
	if _, err := ch.Recording(ctx, bad); !errors.Is(err, voice.ErrRecordingURL) {
		t.Fatalf("URL of another recording: %v", err)
	}
	r := voice.Recording{CallSID: callSID, SID: recSID, URL: recURL, DurationS: 5, Status: "completed"}
	for i, want := range []voice.Outcome{voice.Queued, voice.Duplicate} {
		if out, err := ch.Recording(ctx, r); out != want || err != nil {
			t.Fatalf("callback %d: %v %v, want %v", i, out, err, want)
		}
	}
	if tw.fetches != 1 {
		t.Fatalf("%d downloads, want one", tw.fetches)
	}
	_, rep := claimOne(t, s, gatewaytest.Lima)
	if rep.From != caller || rep.To != gatewaytest.NumberNone || rep.Language != "es" {
		t.Fatalf("report from %q to %q in %q: want the call record's, in the caller's language", rep.From, rep.To, rep.Language)
	}
	if _, err := calls.Get(ctx, callSID); !errors.Is(err, voice.ErrNoCall) {
		t.Fatalf("call record after its tip: %v", err)
	}
}

// TestAnswerWithoutUrgentKey: with ask_urgent off the call goes straight
// to the greeting and the recording.
func TestAnswerWithoutUrgentKey(t *testing.T) {
	ch, _, _ := newChannel(t, &stubTwilio{}, nil)
	doc, err := ch.Answer(context.Background(), voice.Call{SID: callSID, From: "+66812345678", To: gatewaytest.NumberNone})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<Say language="th-TH">`, `maxLength="60"`, `recordingStatusCallback="https://hotline.example.org/twilio/voice/recording"`, "<Hangup/>"} {
		if !strings.Contains(doc, want) {
			t.Errorf("TwiML lacks %s:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "<Gather") {
		t.Errorf("urgent key offered with ask_urgent off:\n%s", doc)
	}
}

// TestCallsWhenRedisIsDown: a call that begins while Redis does not answer
// is still answered with the recording, and its sealed record is kept in
// the gateway's memory, so the recording's tip carries the caller's number
// and urgent choice; the memory holds ciphertext only.
func TestCallsWhenRedisIsDown(t *testing.T) {
	ctx := context.Background()
	tw := &stubTwilio{data: []byte("ID3 words")}
	dead := deadRedis(t)
	var calls *voice.Calls
	ch, s, _ := newChannel(t, tw, func(o *voice.Options) {
		key, _ := seal.GenerateReplyKey()
		calls = voice.NewCalls(dead, "x", 200*time.Millisecond, key, o.Keyer)
		o.Calls, o.AskUrgent = calls, true
	})
	doc, err := ch.Answer(ctx, voice.Call{SID: callSID, From: caller, To: gatewaytest.NumberLima})
	if err != nil || !strings.Contains(doc, "<Gather") {
		t.Fatalf("answer with Redis down: %v\n%s", err, doc)
	}
	if doc, err := ch.Choice(ctx, voice.Call{SID: callSID, From: caller, To: gatewaytest.NumberLima}, "9"); err != nil || !strings.Contains(doc, "<Record") {
		t.Fatalf("choice with Redis down: %v\n%s", err, doc)
	}
	rec, err := calls.Get(ctx, callSID)
	if err != nil || rec.From != caller || !rec.Urgent {
		t.Fatalf("record from memory: %+v %v", rec, err)
	}
	if out, err := ch.Recording(ctx, voice.Recording{CallSID: callSID, SID: recSID, URL: recURL, DurationS: 3, Status: "completed"}); out != voice.Queued || err != nil {
		t.Fatalf("recording: %v %v", out, err)
	}
	c, rep := claimOne(t, s, gatewaytest.Lima)
	if rep.From != caller || c.Priority != queue.Urgent {
		t.Fatalf("tip from %q, %s: want the caller, urgent", rep.From, c.Priority)
	}
	if _, err := calls.Get(ctx, callSID); !errors.Is(err, voice.ErrCallsUnavailable) {
		t.Fatalf("the memory copy outlived its tip: %v", err)
	}
}

// TestSMSRepliesOnlyWhereAllowed: a caller gets no way back by default;
// on a number whose voice callers may get SMS replies, the tip is
// reply-capable and a sealed reply handle to the caller's phone is kept,
// from the number called.
func TestSMSRepliesOnlyWhereAllowed(t *testing.T) {
	ctx := context.Background()
	var store *conversation.Store
	ch, s, _ := newChannel(t, &stubTwilio{data: []byte("ID3 words")}, func(o *voice.Options) {
		o.Numbers[gatewaytest.NumberLima] = voice.Number{Language: language.Spanish, Scrub: true, SMSReplies: true}
		o.HandleTTL = time.Hour
		store = o.Store
	})
	for i, tc := range []struct {
		to      string
		replies bool
	}{{gatewaytest.NumberNone, false}, {gatewaytest.NumberLima, true}} {
		sid := callSID[:len(callSID)-1] + strconv.Itoa(i)
		rec := "RE" + strings.Repeat(strconv.Itoa(i), 32)
		if _, err := ch.Answer(ctx, voice.Call{SID: sid, From: caller, To: tc.to}); err != nil {
			t.Fatal(err)
		}
		u := recURL[:len(recURL)-len(recSID)] + rec
		if out, err := ch.Recording(ctx, voice.Recording{CallSID: sid, SID: rec, URL: u, DurationS: 2, Status: "completed"}); out != voice.Queued || err != nil {
			t.Fatalf("recording to %s: %v %v", tc.to, out, err)
		}
		c, rep := claimOne(t, s, gatewaytest.Lima)
		h, _, err := store.Handle(ctx, gatewaytest.Lima, c.Case)
		if c.ReplyCapable != tc.replies || (err == nil) != tc.replies {
			t.Fatalf("call to %s: reply-capable %v, handle %v; want %v", tc.to, c.ReplyCapable, err, tc.replies)
		}
		if tc.replies && (h.From != caller || h.To != tc.to || h.Channel != "sms" || rep.From != caller) {
			t.Fatalf("handle %+v", h)
		}
	}
}

// keyLimiter allows the first n events and records the keys it is given.
type keyLimiter struct {
	n    int
	keys []string
}

func (l *keyLimiter) Allow(_ context.Context, key string) bool {
	l.keys = append(l.keys, key)
	return len(l.keys) <= l.n
}

type countLimited struct{ n int }

func (c *countLimited) RateLimited() { c.n++ }

// TestCallerLimit: the limit is counted at the first webhook under the
// caller's sender pseudonym (the SMS sender's, never the number), once per
// call; over it the call is answered with the same recording, its callback
// marked, and the recording is not fetched. The mark in the callback's URL
// holds without a call record.
func TestCallerLimit(t *testing.T) {
	ctx := context.Background()
	tw := &stubTwilio{data: []byte("ID3 words")}
	lim, met := &keyLimiter{n: 1}, &countLimited{}
	ch, s, calls := newChannel(t, tw, func(o *voice.Options) { o.Caller, o.Metrics = lim, met })
	second := callSID[:len(callSID)-1] + "0"
	for _, sid := range []string{callSID, callSID, second} {
		doc, err := ch.Answer(ctx, voice.Call{SID: sid, From: caller, To: gatewaytest.NumberNone})
		if err != nil {
			t.Fatal(err)
		}
		limited := strings.Contains(doc, "/twilio/voice/recording?limited=1")
		if limited != (sid == second) || !strings.Contains(doc, "<Record") {
			t.Fatalf("call %s: limited %v:\n%s", sid, limited, doc)
		}
	}
	if len(lim.keys) != 2 || lim.keys[0] != s.Keyer.Sender(caller) || lim.keys[1] != lim.keys[0] || met.n != 1 {
		t.Fatalf("limiter keys %q, %d counted: want the caller's sender pseudonym, once per call, one over", lim.keys, met.n)
	}
	if rec, err := calls.Get(ctx, second); err != nil || !rec.Limited {
		t.Fatalf("call record over the limit: %+v %v", rec, err)
	}
	if err := calls.Delete(ctx, second); err != nil {
		t.Fatal(err)
	}
	out, err := ch.Recording(ctx, voice.Recording{CallSID: second, SID: recSID, URL: recURL, DurationS: 8, Status: "completed", Limited: true})
	if err != nil || out != voice.RateLimited || tw.fetches != 0 {
		t.Fatalf("recording over the limit: %v %v, %d fetches", out, err, tw.fetches)
	}
	_, rep := claimOne(t, s, gatewaytest.Lima)
	if len(rep.Media) != 1 || rep.Media[0].Error != voice.NotFetchedLimited || rep.Media[0].URL != recURL || rep.Media[0].Data != nil {
		t.Fatalf("media %+v", rep.Media)
	}
	noScrubs(t, s)
}

// TestCallerLimitWhenRedisIsDown: with Redis not answering, the caller
// limit falls back to the gateway's memory, as the SMS sender's does (and
// says so): calls are still answered, and the second call of a caller over
// a limit of one is not fetched.
func TestCallerLimitWhenRedisIsDown(t *testing.T) {
	ctx := context.Background()
	tw := &stubTwilio{data: []byte("ID3 words")}
	dead := deadRedis(t)
	fellBack := 0
	ch, s, _ := newChannel(t, tw, func(o *voice.Options) {
		key, _ := seal.GenerateReplyKey()
		o.Calls = voice.NewCalls(dead, "x", 200*time.Millisecond, key, o.Keyer)
		l := ratelimit.New(dead, "x", "caller", 1, time.Hour)
		l.FailedOpen = func() { fellBack++ }
		o.Caller = l
	})
	want := []voice.Outcome{voice.Queued, voice.RateLimited}
	for i, w := range want {
		sid := callSID[:len(callSID)-1] + strconv.Itoa(i)
		rec := "RE" + strings.Repeat(strconv.Itoa(i), 32)
		if doc, err := ch.Answer(ctx, voice.Call{SID: sid, From: caller, To: gatewaytest.NumberLima}); err != nil || !strings.Contains(doc, "<Record") {
			t.Fatalf("answer with Redis down: %v\n%s", err, doc)
		}
		u := recURL[:len(recURL)-len(recSID)] + rec
		if out, err := ch.Recording(ctx, voice.Recording{CallSID: sid, SID: rec, URL: u, DurationS: 2, Status: "completed"}); out != w || err != nil {
			t.Fatalf("call %d: %v %v, want %v", i, out, err, w)
		}
	}
	if tw.fetches != 1 || fellBack != 2 {
		t.Fatalf("%d fetches, %d falls back to memory: want 1 and 2", tw.fetches, fellBack)
	}
	for range want {
		claimOne(t, s, gatewaytest.Lima)
	}
}

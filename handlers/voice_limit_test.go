package handlers_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/ratelimit"
	"github.com/hotline-org/hotline/gateway/voice"
)

// voiceRejects counts the voice channel's metric as the gateway's wiring
// does: a call over the limit is a rate_limited rejection.
type voiceRejects struct{ *countRejects }

func (v voiceRejects) RateLimited() { v.Rejected(metrics.RouteVoice, metrics.RateLimited) }

// twimlAttrs returns the attributes of the first element named name in a
// TwiML document, and its text.
func twimlAttrs(t *testing.T, doc, name string) (map[string]string, string) {
	t.Helper()
	var root node
	if err := xml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatalf("not TwiML (%v): %s", err, doc)
	}
	var find func([]node) (node, bool)
	find = func(ns []node) (node, bool) {
		for _, n := range ns {
			if n.XMLName.Local == name {
				return n, true
			}
			if c, ok := find(n.Children); ok {
				return c, true
			}
		}
		return node{}, false
	}
	n, ok := find(root.Children)
	if !ok {
		t.Fatalf("no <%s> in %s", name, doc)
	}
	return n.attrs(), n.Text
}

// TestVoiceCallerOverLimit: calls are limited per caller, as SMS senders
// are, on the real Redis through the HTTP routes with Twilio faked. The
// first two calls of a caller (one of them sent twice by Twilio, counted
// once) have their recordings fetched; the third is still answered with
// the same greeting, urgent key and recording, and still queued as an
// urgent tip with the caller's number, but its recording is not fetched:
// it stays at Twilio (never scrubbed), and the tip says why; it is counted
// once in the metric, however often Twilio sends its callback. Another
// caller is not held back by the first. The caller's number and the SIDs
// are nowhere in clear, and the limit is kept under a pseudonym.
func TestVoiceCallerOverLimit(t *testing.T) {
	counts := &countRejects{m: map[metrics.Reason]int{}}
	h := newVoiceHarness(t, voiceWiring{voice: func(s *gatewaytest.Stack, o *voice.Options) {
		o.Caller = ratelimit.New(s.Redis.Client, s.Redis.Prefix, "caller", 2, time.Hour)
		o.Metrics = voiceRejects{counts}
	}})
	ctx := context.Background()
	const caller, other = "+51916160001", "+51916160002"
	var responses []string
	post := func(path string, form url.Values, want int) string {
		t.Helper()
		status, body, _ := h.post(t, path, form, addValidSignature)
		if status != want {
			t.Fatalf("%s: %d %s, want %d", path, status, body, want)
		}
		responses = append(responses, body)
		return body
	}
	type placed struct {
		ids      voiceSIDs
		from     string
		callback string
	}
	// call rings the number, takes the choice and posts the recording's
	// callback to the URL the TwiML gave, as Twilio would.
	call := func(from, digits string, answers int) placed {
		t.Helper()
		ids := newVoiceSIDs()
		h.fake.mu.Lock()
		h.fake.voice.recordings[ids.rec] = []byte("ID3 words of " + ids.rec[2:8])
		h.fake.voice.calls[ids.call] = "completed"
		h.fake.mu.Unlock()
		form := callForm(ids.call, from, gatewaytest.NumberLima)
		var docs []string
		for range answers {
			docs = append(docs, post("/twilio/voice", form, 200))
		}
		gather, _ := twimlAttrs(t, docs[0], "Gather")
		if answers > 1 {
			// TwiML's attributes come in any order: the choice URL is the answer.
			if again, _ := twimlAttrs(t, docs[1], "Gather"); again["action"] != gather["action"] {
				t.Fatalf("Twilio's second first webhook got another answer: %v, then %v", gather, again)
			}
		}
		if _, say := twimlAttrs(t, docs[0], "Say"); say == "" {
			t.Fatalf("no greeting: %s", docs[0])
		}
		choice, err := url.Parse(gather["action"])
		if err != nil {
			t.Fatal(err)
		}
		f := callForm(ids.call, from, gatewaytest.NumberLima)
		if digits != "" {
			f.Set("Digits", digits)
		}
		doc := post(choice.RequestURI(), f, 200)
		rec, _ := twimlAttrs(t, doc, "Record")
		if rec["maxLength"] != "300" || rec["transcribe"] != "false" {
			t.Fatalf("record %v", rec)
		}
		cb, err := url.Parse(rec["recordingStatusCallback"])
		if err != nil {
			t.Fatal(err)
		}
		post(cb.RequestURI(), recordingForm(ids, recordingURL(ids.rec), "9"), http.StatusNoContent)
		return placed{ids, from, cb.RequestURI()}
	}

	first := call(caller, "", 2) // Twilio sends the first webhook twice: counted once
	second := call(caller, "", 1)
	over := call(caller, "9", 1)
	// Twilio's retries of the callback: answered, not queued, fetched or counted again.
	for range 2 {
		post(over.callback, recordingForm(over.ids, recordingURL(over.ids.rec), "9"), http.StatusNoContent)
	}
	another := call(other, "", 1)

	if over.callback != "/twilio/voice/recording?urgent=1&limited=1" || first.callback != "/twilio/voice/recording" ||
		another.callback != "/twilio/voice/recording" {
		t.Fatalf("callbacks %q, %q, %q: want the third call of the caller, and only it, marked", first.callback, over.callback, another.callback)
	}
	fetched, _ := h.fake.voiceState()
	want := []string{first.ids.rec + ".mp3", second.ids.rec + ".mp3", another.ids.rec + ".mp3"}
	if !slices.Equal(fetched, want) {
		t.Fatalf("fetched %v, want %v: the recording over the limit is left at Twilio, the others fetched once", fetched, want)
	}
	if n := counts.get(metrics.RateLimited); n != 1 {
		t.Fatalf("rate_limited counted %d times, want once for the one call over the limit", n)
	}

	reps := h.claimAll(t, gatewaytest.Lima)
	if len(reps) != 4 {
		t.Fatalf("%d tips, want the 4 calls once each", len(reps))
	}
	limited := 0
	for _, r := range reps {
		if len(r.Media) != 1 {
			t.Fatalf("%d media items", len(r.Media))
		}
		m := r.Media[0]
		switch {
		case m.Error == voice.NotFetchedLimited:
			limited++
			if r.From != caller || !r.Urgent || m.Data != nil || m.URL != recordingURL(over.ids.rec) || m.DurationS != 9 {
				t.Errorf("tip over the limit: from %q urgent %v, %d bytes, URL %q, %d s; want the caller's urgent tip naming the recording left at Twilio",
					r.From, r.Urgent, len(m.Data), m.URL, m.DurationS)
			}
		case m.Error != "" || !bytes.HasPrefix(m.Data, []byte("ID3 words of ")):
			t.Errorf("tip under the limit: %q, %d bytes", m.Error, len(m.Data))
		}
	}
	if limited != 1 {
		t.Fatalf("%d tips over the limit, want 1", limited)
	}

	// Twilio's copies: those fetched are deleted; the one over the limit is
	// kept for an officer to hear there.
	h.clock.add(2 * time.Hour)
	h.ch.ScrubDue(ctx)
	_, deleted := h.fake.voiceState()
	if slices.Contains(deleted, over.ids.rec) || slices.Contains(deleted, over.ids.call) {
		t.Fatalf("deleted %v: the recording over the limit (and its call) must stay at Twilio", deleted)
	}
	for _, sid := range []string{first.ids.rec, second.ids.rec, another.ids.rec} {
		if !slices.Contains(deleted, sid) {
			t.Errorf("recording fetched but not deleted at Twilio; deleted %v", deleted)
		}
	}

	dump := dumpRedis(t, h.Redis)
	if !bytes.Contains(dump, []byte(h.Redis.Prefix+":rate:caller:")) {
		t.Fatal("no caller limit in Redis: the test is not reading the limiter's keys")
	}
	canaries := []string{caller, caller[1:], caller[4:], other, other[1:]}
	for _, p := range []placed{first, second, over, another} {
		canaries = append(canaries, p.ids.call, p.ids.rec, p.ids.call[2:], p.ids.rec[2:])
	}
	assertNoCanaries(t, dump, h.Log.Bytes(), responses, canaries...)
}

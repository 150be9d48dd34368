package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline-org/hotline/crypto/seal"
	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/conversation"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/metrics"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/gateway/spool"
	"github.com/hotline-org/hotline/gateway/voice"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/queuetest"
	"github.com/redis/go-redis/v9"
	"golang.org/x/text/language"
)

// fakeVoice is the fake Twilio's side of calls and recordings.
type fakeVoice struct {
	recordings map[string][]byte // RE -> MP3
	calls      map[string]string // CA -> status
	fetched    []string          // recordings downloaded (with the account's credentials: the fake refuses others)
	deleted    []string          // RE and CA deleted
}

func (f *fakeTwilioREST) voiceRoutes(mux *http.ServeMux, base string) {
	f.voice = &fakeVoice{recordings: map[string][]byte{}, calls: map[string]string{}}
	mux.HandleFunc("GET "+base+"/Recordings/{re}", func(w http.ResponseWriter, r *http.Request) {
		sid, ext, _ := strings.Cut(r.PathValue("re"), ".")
		f.mu.Lock()
		data, ok := f.voice.recordings[sid]
		f.voice.fetched = append(f.voice.fetched, r.PathValue("re"))
		f.mu.Unlock()
		if !ok || ext != "mp3" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write(data)
	})
	del := func(kind string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			sid := strings.TrimSuffix(r.PathValue("sid"), ".json")
			f.mu.Lock()
			defer f.mu.Unlock()
			if kind == "call" && f.voice.calls[sid] != "completed" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusConflict)
				w.Write([]byte(`{"code":20009,"message":"Cannot delete this resource before it is complete","status":409}`))
				return
			}
			delete(f.voice.recordings, sid)
			delete(f.voice.calls, sid)
			f.voice.deleted = append(f.voice.deleted, sid)
			w.WriteHeader(http.StatusNoContent)
		}
	}
	mux.HandleFunc("DELETE "+base+"/Recordings/{sid}", del("recording"))
	mux.HandleFunc("DELETE "+base+"/Calls/{sid}", del("call"))
	mux.HandleFunc("GET "+base+"/Calls/{sid}", func(w http.ResponseWriter, r *http.Request) {
		sid := strings.TrimSuffix(r.PathValue("sid"), ".json")
		f.mu.Lock()
		status, ok := f.voice.calls[sid]
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"sid": sid, "status": status})
	})
}

func (f *fakeTwilioREST) voiceState() (fetched, deleted []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.voice.fetched...), append([]string(nil), f.voice.deleted...)
}

// voiceWiring adjusts a voice harness: the SMS channel (returning the Redis
// client the call records use, nil for the stack's), the handlers' options
// and the voice channel's.
type voiceWiring struct {
	channel func(*gatewaytest.Stack, *sms.Options) redis.UniversalClient
	wire    func(*handlers.Options)
	voice   func(*gatewaytest.Stack, *voice.Options)
}

// newVoiceHarness is the harness with the voice channel, on the SMS
// channel's store (whose scrubber deletes the recordings) and fake Twilio.
func newVoiceHarness(t *testing.T, w voiceWiring, stack ...func(*gateway.Options)) *harness {
	t.Helper()
	var vc *voice.Channel
	return newHarnessChannel(t, func(_ *gatewaytest.Stack, o *handlers.Options) {
		o.Voice = vc
		if w.wire != nil {
			w.wire(o)
		}
	},
		func(s *gatewaytest.Stack, o *sms.Options) {
			var rdb redis.UniversalClient = s.Redis.Client
			if w.channel != nil {
				if r := w.channel(s, o); r != nil {
					rdb = r
				}
			}
			key, err := seal.GenerateReplyKey()
			if err != nil {
				t.Fatal(err)
			}
			vo := voice.Options{
				Intake: s.Intake, Store: o.Store, Calls: voice.NewCalls(rdb, s.Redis.Prefix, 500*time.Millisecond, key, s.Keyer),
				Keyer: s.Keyer, Twilio: o.Twilio.(voice.Twilio), PublicURL: publicURL, AskUrgent: true,
				Numbers: map[string]voice.Number{
					gatewaytest.NumberLima: {Language: language.Spanish, Scrub: true},
					gatewaytest.NumberNone: {Scrub: true},
				},
				HandleTTL: time.Hour, Logger: s.Logger, Now: o.Now,
			}
			if w.voice != nil {
				w.voice(s, &vo)
			}
			vc, err = voice.New(vo)
			if err != nil {
				t.Fatal(err)
			}
		}, stack...)
}

// voiceSIDs are a call's ids of Twilio's shape, unique to the test.
type voiceSIDs struct{ call, rec string }

func newVoiceSIDs() voiceSIDs {
	b := make([]byte, 32)
	rand.Read(b)
	return voiceSIDs{call: "CA" + hex.EncodeToString(b[:16]), rec: "RE" + hex.EncodeToString(b[16:])}
}

func callForm(sid, from, to string) url.Values {
	return url.Values{
		"CallSid": {sid}, "AccountSid": {fakeSID}, "From": {from}, "To": {to}, "Caller": {from}, "Called": {to},
		"CallStatus": {"ringing"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}, "FromCountry": {"PE"},
	}
}

func recordingForm(ids voiceSIDs, recordingURL, duration string) url.Values {
	return url.Values{
		"CallSid": {ids.call}, "AccountSid": {fakeSID}, "RecordingSid": {ids.rec}, "RecordingUrl": {recordingURL},
		"RecordingDuration": {duration}, "RecordingStatus": {"completed"}, "RecordingChannels": {"1"},
		"RecordingSource": {"RecordVerb"}, "RecordingStartTime": {"Fri, 04 Dec 2026 21:00:00 +0000"},
	}
}

func recordingURL(rec string) string {
	return "https://api.twilio.com/2010-04-01/Accounts/" + fakeSID + "/Recordings/" + rec
}

// post posts a signed (or not) Twilio webhook to path, which may carry a
// query.
func (h *harness) post(t testing.TB, path string, form url.Values, prep func(*http.Request, url.Values)) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	prep(req, form)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// node is a TwiML element: its name, attributes and children (or text).
type node struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Text     string     `xml:",chardata"`
	Children []node     `xml:",any"`
}

func (n node) attrs() map[string]string {
	m := map[string]string{}
	for _, a := range n.Attrs {
		m[a.Name.Local] = a.Value
	}
	return m
}

// want is an expected TwiML element: attributes exactly, text when set.
type want struct {
	name     string
	attrs    map[string]string
	text     string
	children []want
}

func checkTwiML(t *testing.T, step, doc string, verbs []want) {
	t.Helper()
	var root node
	if err := xml.Unmarshal([]byte(doc), &root); err != nil || root.XMLName.Local != "Response" {
		t.Fatalf("%s: not TwiML (%v): %s", step, err, doc)
	}
	var match func(path string, got []node, want []want)
	match = func(path string, got []node, want []want) {
		if len(got) != len(want) {
			t.Fatalf("%s: %s has %d elements, want %d: %s", step, path, len(got), len(want), doc)
		}
		for i, w := range want {
			g := got[i]
			p := path + "/" + w.name
			if g.XMLName.Local != w.name {
				t.Fatalf("%s: %s is <%s>: %s", step, p, g.XMLName.Local, doc)
			}
			if a := g.attrs(); fmt.Sprint(a) != fmt.Sprint(w.attrs) {
				t.Errorf("%s: %s attributes\n got %v\nwant %v", step, p, a, w.attrs)
			}
			if w.text != "" && strings.TrimSpace(g.Text) != w.text {
				t.Errorf("%s: %s says %q, want %q", step, p, g.Text, w.text)
			}
			match(p, g.Children, w.children)
		}
	}
	match("Response", root.Children, verbs)
}

// TestVoiceCallTwiML: a signed call is answered in the number's language
// with the greeting and the urgent key, then the recording whose status
// callback is the gateway's, with no transcription, then the goodbye.
func TestVoiceCallTwiML(t *testing.T) {
	h := newVoiceHarness(t, voiceWiring{})
	ids := newVoiceSIDs()
	call := callForm(ids.call, "+51911112222", gatewaytest.NumberLima)
	status, doc, hdr := h.post(t, "/twilio/voice", call, addValidSignature)
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/xml") {
		t.Fatalf("call: %d %s %q", status, doc, hdr.Get("Content-Type"))
	}
	es := map[string]string{"language": "es-MX"}
	choice := publicURL + "/twilio/voice?step=choice"
	checkTwiML(t, "call", doc, []want{
		{name: "Gather", attrs: map[string]string{"input": "dtmf", "numDigits": "1", "timeout": "4", "action": choice, "method": "POST"},
			children: []want{
				{name: "Say", attrs: es, text: "Hola. Deje su mensaje después del tono: diga qué está pasando y dónde."},
				{name: "Say", attrs: es, text: "Si alguien está en peligro ahora mismo, marque 9."},
			}},
		{name: "Redirect", attrs: map[string]string{"method": "POST"}, text: choice},
	})
	record := func(callback string) want {
		return want{name: "Record", attrs: map[string]string{
			"action": publicURL + "/twilio/voice?step=done", "method": "POST", "maxLength": "300", "playBeep": "true",
			"timeout": "10", "trim": "trim-silence", "transcribe": "false", "recordingStatusCallback": callback,
			"recordingStatusCallbackMethod": "POST", "recordingStatusCallbackEvent": "completed",
		}}
	}
	goodbye := []want{{name: "Say", attrs: es, text: "Gracias. Adiós."}, {name: "Hangup", attrs: map[string]string{}}}
	for _, c := range []struct {
		digits, callback string
	}{{"9", publicURL + "/twilio/voice/recording?urgent=1"}, {"", publicURL + "/twilio/voice/recording"}, {"1", publicURL + "/twilio/voice/recording"}} {
		f := callForm(ids.call, "+51911112222", gatewaytest.NumberLima)
		if c.digits != "" {
			f.Set("Digits", c.digits)
		}
		status, doc, _ := h.post(t, "/twilio/voice?step=choice", f, addValidSignature)
		if status != 200 {
			t.Fatalf("choice %q: %d %s", c.digits, status, doc)
		}
		checkTwiML(t, "choice "+c.digits, doc, append([]want{record(c.callback)}, goodbye...))
	}
	status, doc, _ = h.post(t, "/twilio/voice?step=done", call, addValidSignature)
	if status != 200 {
		t.Fatalf("done: %d %s", status, doc)
	}
	checkTwiML(t, "done", doc, goodbye)

	// A number with no language speaks the caller's, from the calling code.
	status, doc, _ = h.post(t, "/twilio/voice?step=done", callForm(ids.call, "+60123456789", gatewaytest.NumberNone), addValidSignature)
	if status != 200 {
		t.Fatalf("done: %d %s", status, doc)
	}
	checkTwiML(t, "done in Malay", doc, []want{{name: "Say", attrs: map[string]string{"language": "ms-MY"}, text: "Terima kasih. Selamat tinggal."},
		{name: "Hangup", attrs: map[string]string{}}})
}

// TestVoiceRecordingToOfficer is the whole call: TwiML, the urgent key,
// the recording fetched with the account's credentials and sealed into an
// urgent tip, claimed through the officer API and opened with the agency's
// key with the audio byte-identical; Twilio's retry queues nothing twice;
// the recording and then the call are deleted at Twilio; and the caller's
// number, the CallSid and the RecordingSid are nowhere in clear.
func TestVoiceRecordingToOfficer(t *testing.T) {
	h := newVoiceHarness(t, voiceWiring{})
	ctx := context.Background()
	ids := newVoiceSIDs()
	b := make([]byte, 3)
	rand.Read(b)
	caller := fmt.Sprintf("+5191%07d", int(b[0])<<16|int(b[1])<<8|int(b[2])%10000000)
	audio := make([]byte, 48<<10)
	rand.Read(audio)
	copy(audio, "ID3\x04\x00\x00")
	h.fake.mu.Lock()
	h.fake.voice.recordings[ids.rec] = audio
	h.fake.voice.calls[ids.call] = "in-progress"
	h.fake.mu.Unlock()

	call := callForm(ids.call, caller, gatewaytest.NumberLima)
	var responses []string
	for _, step := range []struct {
		path  string
		form  url.Values
		want  int
		extra string
	}{
		{"/twilio/voice", call, 200, ""},
		{"/twilio/voice?step=choice", call, 200, "9"},
		{"/twilio/voice/recording?urgent=1", recordingForm(ids, recordingURL(ids.rec), "42"), 204, ""},
		{"/twilio/voice?step=done", call, 200, ""},
		// Twilio's retry of the callback: answered, not queued twice.
		{"/twilio/voice/recording?urgent=1", recordingForm(ids, recordingURL(ids.rec), "42"), 204, ""},
	} {
		f := step.form
		if step.extra != "" {
			f = url.Values{}
			for k, v := range step.form {
				f[k] = v
			}
			f.Set("Digits", step.extra)
		}
		status, body, _ := h.post(t, step.path, f, addValidSignature)
		if status != step.want {
			t.Fatalf("%s: %d %s, want %d", step.path, status, body, step.want)
		}
		responses = append(responses, body)
	}
	if fetched, _ := h.fake.voiceState(); len(fetched) != 1 || fetched[0] != ids.rec+".mp3" || h.fake.badAuth != 0 {
		t.Fatalf("fetched %v (bad auth %d): want the recording once, as MP3, with the account's credentials", fetched, h.fake.badAuth)
	}

	token := h.officer(t, gatewaytest.Lima)
	tip, claimBody := h.claimTipBody(t, token)
	responses = append(responses, claimBody)
	if tip.Channel != "voice" || tip.Priority != "urgent" || tip.ReplyCapable {
		t.Fatalf("claimed %+v: want an urgent voice tip that cannot be replied to", tip.TipMeta)
	}
	rep := h.Open(t, &queue.Claimed{Entry: queue.Entry{TipID: tip.ID, Agency: tip.Agency, Sealed: tip.Sealed}})
	if rep.From != caller || rep.To != gatewaytest.NumberLima || !rep.Urgent || rep.Language != "es" || rep.Channel != gateway.ChannelVoice {
		t.Fatalf("report: from %q to %q urgent %v language %q channel %q", rep.From, rep.To, rep.Urgent, rep.Language, rep.Channel)
	}
	if len(rep.Media) != 1 || !bytes.Equal(rep.Media[0].Data, audio) || rep.Media[0].ContentType != "audio/mpeg" || rep.Media[0].DurationS != 42 {
		t.Fatalf("media: %d items; want the recording byte-identical, audio/mpeg, 42 s", len(rep.Media))
	}
	if rep.Routing.Agencies[0] != gatewaytest.Lima {
		t.Fatalf("routed to %v, want the number's region", rep.Routing.Agencies)
	}
	if s, body := h.api(t, "POST", "/api/v1/tips/claim", token, "{}"); s != http.StatusNoContent && s != http.StatusNotFound {
		t.Fatalf("a second tip was queued: %d %s", s, body)
	}

	// Twilio's copies: the recording at once, the call only once over.
	h.clock.add(2 * time.Minute)
	h.ch.ScrubDue(ctx)
	if _, deleted := h.fake.voiceState(); len(deleted) != 1 || deleted[0] != ids.rec {
		t.Fatalf("deleted %v, want the recording only while the call is in progress", deleted)
	}
	h.fake.mu.Lock()
	h.fake.voice.calls[ids.call] = "completed"
	h.fake.mu.Unlock()
	h.clock.add(time.Hour)
	h.ch.ScrubDue(ctx)
	if _, deleted := h.fake.voiceState(); len(deleted) != 2 || deleted[1] != ids.call {
		t.Fatalf("deleted %v, want the recording then the call", deleted)
	}
	if n, _ := h.store.Scrubs().Pending(ctx); n != 0 {
		t.Fatalf("%d scrub jobs left", n)
	}

	dump := dumpRedis(t, h.Redis)
	// Only this test's prefix: other tests on the same Redis (the ACL run
	// shares one) may hold call records of their own.
	if bytes.Contains(dump, []byte(h.Redis.Prefix+":voice:call:")) {
		t.Error("the call record outlived its tip")
	}
	logs := h.Log.Bytes()
	if !bytes.Contains(logs, []byte(`"channel":"voice"`)) {
		t.Fatal("no intake log line of the voice tip: the test is not reading the gateway's logs")
	}
	assertNoCanaries(t, dump, logs, responses, caller, caller[1:], caller[4:], ids.call, ids.rec, ids.call[2:], ids.rec[2:])
}

// TestVoiceForgedAndMisshapen: a voice webhook without Twilio's signature
// (none, another token, signed for the Host header) is refused with 403
// before anything is done; a signed one not of Twilio's shape gets 400; a
// recording URL on any other host than Twilio's API is never fetched.
func TestVoiceForgedAndMisshapen(t *testing.T) {
	var evilHits int
	var mu sync.Mutex
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		evilHits++
		mu.Unlock()
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Write([]byte("ID3 not a recording of ours"))
	}))
	defer evil.Close()
	counts := &countRejects{m: map[metrics.Reason]int{}}
	h := newVoiceHarness(t, voiceWiring{wire: func(o *handlers.Options) { o.Metrics = counts }})
	ids := newVoiceSIDs()
	h.fake.mu.Lock()
	h.fake.voice.recordings[ids.rec] = []byte("ID3 the real one")
	h.fake.mu.Unlock()
	call := callForm(ids.call, "+51911113333", gatewaytest.NumberLima)
	good := recordingForm(ids, recordingURL(ids.rec), "12")
	for _, path := range []string{"/twilio/voice", "/twilio/voice?step=choice", "/twilio/voice/recording"} {
		form := call
		if strings.HasPrefix(path, "/twilio/voice/recording") {
			form = good
		}
		for name, prep := range map[string]func(*http.Request, url.Values){
			"unsigned": noSignature, "wrong token": addInvalidSignature, "signed for the Host header": signedForHost,
		} {
			if status, body, _ := h.post(t, path, form, prep); status != http.StatusForbidden {
				t.Errorf("%s %s: %d %s, want 403", name, path, status, body)
			}
		}
	}
	with := func(f url.Values, k, v string) url.Values {
		out := url.Values{}
		for key, vals := range f {
			out[key] = vals
		}
		if v == "<none>" {
			out.Del(k)
		} else {
			out.Set(k, v)
		}
		return out
	}
	other := strings.Replace(recordingURL(ids.rec), "https://api.twilio.com", evil.URL, 1)
	for name, c := range map[string]struct {
		path string
		form url.Values
	}{
		"CallSid of another shape":     {"/twilio/voice", with(call, "CallSid", "CA123")},
		"CallSid missing":              {"/twilio/voice", with(call, "CallSid", "<none>")},
		"another account":              {"/twilio/voice", with(call, "AccountSid", "AC11111111111111111111111111111111")},
		"unknown step":                 {"/twilio/voice?step=other", call},
		"two digits":                   {"/twilio/voice?step=choice", with(call, "Digits", "99")},
		"a digit that is no key":       {"/twilio/voice?step=choice", with(call, "Digits", "x")},
		"RecordingSid of the call":     {"/twilio/voice/recording", with(good, "RecordingSid", ids.call)},
		"duration not a number":        {"/twilio/voice/recording", with(good, "RecordingDuration", "1e3")},
		"unknown status":               {"/twilio/voice/recording", with(good, "RecordingStatus", "done")},
		"urgent flag of another kind":  {"/twilio/voice/recording?urgent=yes", good},
		"limited flag of another kind": {"/twilio/voice/recording?limited=0", good},
		"limited flag twice":           {"/twilio/voice?step=choice&limited=1&limited=1", call},
		"recording on another host":    {"/twilio/voice/recording", with(good, "RecordingUrl", other)},
		"recording over http":          {"/twilio/voice/recording", with(good, "RecordingUrl", strings.Replace(recordingURL(ids.rec), "https", "http", 1))},
		"another recording's URL":      {"/twilio/voice/recording", with(good, "RecordingUrl", recordingURL("RE"+strings.Repeat("0", 32)))},
		"another account's recording": {"/twilio/voice/recording", with(good, "RecordingUrl",
			strings.Replace(recordingURL(ids.rec), fakeSID, "AC11111111111111111111111111111111", 1))},
	} {
		if status, body, _ := h.post(t, c.path, c.form, addValidSignature); status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, status, body)
		}
	}
	if f, b := counts.get(metrics.BadSignature), counts.get(metrics.BadRequest); f != 9 || b != 16 {
		t.Errorf("hotline_rejected_total: bad_signature %d, bad_request %d; want 9 and 16", f, b)
	}
	if r := counts.byRoute(); r["voice"] != 25 || len(r) != 1 {
		t.Errorf("hotline_rejected_total by route: %v; want voice 25", r)
	}
	mu.Lock()
	hits := evilHits
	mu.Unlock()
	if fetched, _ := h.fake.voiceState(); hits != 0 || len(fetched) != 0 {
		t.Fatalf("fetched %v from Twilio and %d from another host: refused webhooks fetch nothing", fetched, hits)
	}
	if n, err := h.Queue.Count(context.Background(), gatewaytest.Lima); err != nil || n.Waiting[queue.Normal]+n.Waiting[queue.Urgent] != 0 {
		t.Fatalf("%+v tips queued from refused webhooks (%v)", n, err)
	}
	// Statuses other than completed queue nothing and are not retried.
	if status, body, _ := h.post(t, "/twilio/voice/recording", with(good, "RecordingStatus", "absent"), addValidSignature); status != http.StatusNoContent {
		t.Fatalf("absent recording: %d %s", status, body)
	}
}

// TestVoiceSpoolKeepsScrub: a recording that arrives while Redis does not
// answer is spooled, with its scrub job sealed beside it, and with the
// caller's number from the gateway's own sealed copy of the call record;
// nothing identifying is in the spool; once drained, the officer gets the
// audio and Twilio's recording and call are deleted.
func TestVoiceSpoolKeepsScrub(t *testing.T) {
	pub := &spool.Publisher{Timeout: 500 * time.Millisecond}
	var proxy *queuetest.Proxy
	var store *conversation.Store
	h := newVoiceHarness(t, voiceWiring{channel: func(s *gatewaytest.Stack, o *sms.Options) redis.UniversalClient {
		var rdb redis.UniversalClient
		rdb, proxy, store = spoolStack(t, s, pub)
		o.Store = store
		return rdb
	}}, func(o *gateway.Options) { o.Publisher = pub })
	ctx := context.Background()
	ids := newVoiceSIDs()
	const caller = "+51917770001"
	audio := []byte("ID3\x04\x00\x00 the caller's words, as MP3 frames")
	h.fake.mu.Lock()
	h.fake.voice.recordings[ids.rec] = audio
	h.fake.voice.calls[ids.call] = "completed"
	h.fake.mu.Unlock()
	call := callForm(ids.call, caller, gatewaytest.NumberLima)
	if status, body, _ := h.post(t, "/twilio/voice", call, addValidSignature); status != 200 {
		t.Fatalf("call: %d %s", status, body)
	}
	proxy.SetDown(true)
	if status, body, _ := h.post(t, "/twilio/voice/recording", recordingForm(ids, recordingURL(ids.rec), "7"), addValidSignature); status != http.StatusNoContent {
		t.Fatalf("recording while Redis is down: %d %s", status, body)
	}
	if pub.Spool.Empty() {
		t.Fatal("the tip was not spooled")
	}
	spoolHasNoCanary(t, pub.Spool.Dir(), caller, caller[1:], ids.call, ids.rec, string(audio[10:]))
	assertNoCanaries(t, nil, h.Log.Bytes(), nil, caller, caller[1:], ids.call, ids.rec)
	proxy.SetDown(false)
	drain(t, pub)
	if n, _ := store.Scrubs().Pending(ctx); n != 1 {
		t.Fatalf("%d scrub jobs after the drain, want the spooled one", n)
	}
	token := h.officer(t, gatewaytest.Lima)
	tip := h.claimTip(t, token)
	rep := h.Open(t, &queue.Claimed{Entry: queue.Entry{TipID: tip.ID, Agency: tip.Agency, Sealed: tip.Sealed}})
	if rep.From != caller || len(rep.Media) != 1 || !bytes.Equal(rep.Media[0].Data, audio) {
		t.Fatalf("report from %q with %d media: want the caller and the audio", rep.From, len(rep.Media))
	}
	h.clock.add(2 * time.Hour)
	h.ch.ScrubDue(ctx)
	if _, deleted := h.fake.voiceState(); len(deleted) != 2 || deleted[0] != ids.rec || deleted[1] != ids.call {
		t.Fatalf("deleted %v, want the recording and the call", deleted)
	}
}

// TestVoiceSMSReply: where the operator allows SMS replies to callers, an
// officer answers a voice tip by SMS from the number called, to the
// caller's phone; elsewhere the tip cannot be replied to.
func TestVoiceSMSReply(t *testing.T) {
	h := newVoiceHarness(t, voiceWiring{voice: func(_ *gatewaytest.Stack, o *voice.Options) {
		o.Numbers[gatewaytest.NumberLima] = voice.Number{Language: language.Spanish, Scrub: true, SMSReplies: true}
	}})
	token := h.officer(t, gatewaytest.Lima)
	for i, to := range []string{gatewaytest.NumberLima, gatewaytest.NumberNone} {
		ids := newVoiceSIDs()
		caller := fmt.Sprintf("+5191777000%d", i)
		h.fake.mu.Lock()
		h.fake.voice.recordings[ids.rec] = []byte("ID3 words")
		h.fake.mu.Unlock()
		if s, b, _ := h.post(t, "/twilio/voice", callForm(ids.call, caller, to), addValidSignature); s != 200 {
			t.Fatalf("call: %d %s", s, b)
		}
		if s, b, _ := h.post(t, "/twilio/voice/recording", recordingForm(ids, recordingURL(ids.rec), "3"), addValidSignature); s != http.StatusNoContent {
			t.Fatalf("recording: %d %s", s, b)
		}
		tip := h.claimTip(t, token)
		s, b := h.reply(t, token, tip.ID, "¿Dónde están?", "")
		if to == gatewaytest.NumberNone {
			if tip.ReplyCapable || s != http.StatusConflict {
				t.Fatalf("reply to a caller of a number without SMS replies: capable %v, %d %s", tip.ReplyCapable, s, b)
			}
			continue
		}
		if !tip.ReplyCapable || s != 200 {
			t.Fatalf("reply to a caller: capable %v, %d %s", tip.ReplyCapable, s, b)
		}
		if _, _, sent := h.fake.snapshot(); len(sent) != 1 || sent[0].Get("To") != caller || sent[0].Get("From") != to {
			t.Fatalf("sent %v", sent)
		}
	}
}

package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/gateway/voice"
	"github.com/hotline-org/hotline/handlers"
)

// stubVoice answers every call and takes every recording, recording what
// it was given.
type stubVoice struct{ calls, recordings *[]string }

func (s stubVoice) Answer(ctx context.Context, c voice.Call) (string, error) {
	*s.calls = append(*s.calls, c.SID)
	return `<?xml version="1.0" encoding="UTF-8"?><Response/>`, nil
}
func (s stubVoice) Choice(ctx context.Context, c voice.Call, digits string) (string, error) {
	return s.Answer(ctx, c)
}
func (s stubVoice) Goodbye(ctx context.Context, c voice.Call) (string, error) {
	return s.Answer(ctx, c)
}
func (s stubVoice) Recording(ctx context.Context, r voice.Recording) (voice.Outcome, error) {
	*s.recordings = append(*s.recordings, r.SID)
	return voice.Queued, nil
}

var (
	callShape      = regexp.MustCompile(`^CA[0-9a-f]{32}$`)
	recordingShape = regexp.MustCompile(`^RE[0-9a-f]{32}$`)
)

// FuzzVoiceWebhook feeds arbitrary bodies and paths, signed and unsigned,
// to the voice webhooks: they never panic, answer only with the expected
// statuses, never echo the input, and take only webhooks of Twilio's shape
// (the CallSid, RecordingSid and the account's own AccountSid).
func FuzzVoiceWebhook(f *testing.F) {
	const call = "CA0123456789abcdef0123456789abcdef"
	const rec = "RE0123456789abcdef0123456789abcdef"
	base := "AccountSid=" + fakeSID + "&CallSid=" + call + "&From=%2B51911112222&To=%2B15005550006"
	f.Add("/twilio/voice", base, true)
	f.Add("/twilio/voice?step=choice", base+"&Digits=9", true)
	f.Add("/twilio/voice?step=choice&limited=1", base+"&Digits=9", true)
	f.Add("/twilio/voice/recording?urgent=1&limited=1&limited=1", base+"&RecordingSid=RE0123456789abcdef0123456789abcdef&RecordingUrl=u&RecordingStatus=completed", true)
	f.Add("/twilio/voice?step=done", base+"&Digits=hangup", true)
	f.Add("/twilio/voice/recording?urgent=1", base+"&RecordingSid="+rec+"&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2Fx&RecordingDuration=42&RecordingStatus=completed", true)
	f.Add("/twilio/voice/recording", base+"&RecordingSid="+rec+"RecordingDuration4&RecordingUrl=u&RecordingStatus=completed", true)
	f.Add("/twilio/voice", "CallSid="+call+"&CallSid="+call+"&AccountSid="+fakeSID, true)
	f.Add("/twilio/voice?step=choice&step=done", base, true)
	f.Add("/twilio/voice", "%", false)
	var calls, recordings []string
	h := handlers.New(handlers.Options{Intake: stubIntake{}, Triage: stubTriage{}, Officers: stubTriage{},
		Voice: stubVoice{&calls, &recordings}, PublicURL: publicURL, AuthToken: []byte(authToken), AccountSID: fakeSID, MaxBody: 64 << 10})
	f.Fuzz(func(t *testing.T, path, body string, sign bool) {
		if !strings.HasPrefix(path, "/twilio/voice") || strings.ContainsAny(path, " #\x00\r\n") {
			return
		}
		u, err := url.ParseRequestURI(path)
		if err != nil {
			return
		}
		req := httptest.NewRequest(http.MethodPost, u.RequestURI(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sign {
			if form, err := url.ParseQuery(body); err == nil {
				addValidSignature(req, form)
			}
		}
		calls, recordings = calls[:0], recordings[:0]
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case 200, 204, 301, 400, 403, 404, 413:
		default:
			t.Fatalf("status %d for %q %q", w.Code, path, body)
		}
		if w.Code >= 400 && len(body) >= 8 && strings.Contains(w.Body.String(), body) {
			t.Fatal("error response echoes the input")
		}
		if w.Code != 200 && w.Code != 204 {
			if len(calls)+len(recordings) != 0 {
				t.Fatalf("refused with %d after reaching the channel", w.Code)
			}
			return
		}
		form, _ := url.ParseQuery(body)
		if v := form["CallSid"]; len(v) != 1 || !callShape.MatchString(v[0]) {
			t.Fatalf("taken with CallSid %q", v)
		}
		if v := form["AccountSid"]; len(v) != 1 || v[0] != fakeSID {
			t.Fatalf("taken with AccountSid %q", v)
		}
		if len(recordings) > 0 {
			if v := form["RecordingSid"]; len(v) != 1 || !recordingShape.MatchString(v[0]) || recordings[0] != v[0] {
				t.Fatalf("taken with RecordingSid %q", v)
			}
		}
	})
}

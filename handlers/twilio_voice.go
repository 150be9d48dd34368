package handlers

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/twilioapi"
	"github.com/hotline-org/hotline/gateway/voice"
)

// VoiceChannel is the voice channel (gateway/voice).
type VoiceChannel interface {
	Answer(ctx context.Context, call voice.Call) (string, error)
	Choice(ctx context.Context, call voice.Call, digits string) (string, error)
	Goodbye(ctx context.Context, call voice.Call) (string, error)
	Recording(ctx context.Context, r voice.Recording) (voice.Outcome, error)
}

// maxAddress bounds a caller or called address: E.164 is 16 characters,
// a SIP or client address a few dozen.
const maxAddress = 256

// one returns the single value of key k, and whether there is exactly one.
func one(f url.Values, k string) (string, bool) {
	v, ok := f[k]
	if !ok || len(v) != 1 {
		return "", false
	}
	return v[0], true
}

// voiceShaped checks a signed Voice webhook for Twilio's own shape, for the
// reason twilioShaped gives: a CallSid of its exact shape and the account's
// own AccountSid leave no room for characters moved between parameters.
func voiceShaped(f url.Values, account string) (voice.Call, bool) {
	sid, ok := one(f, "CallSid")
	if !ok || !twilioapi.ValidCallSID(sid) {
		return voice.Call{}, false
	}
	if account != "" {
		if v, ok := one(f, "AccountSid"); !ok || v != account {
			return voice.Call{}, false
		}
	}
	from, to := f.Get("From"), f.Get("To")
	if len(f["From"]) > 1 || len(f["To"]) > 1 || len(from) > maxAddress || len(to) > maxAddress {
		return voice.Call{}, false
	}
	return voice.Call{SID: sid, From: from, To: to}, true
}

// twilioVoice is the Voice webhook of the hotline's numbers: the incoming
// call (no step), the keypad choice (step=choice) and the end of the
// recording (step=done). Each answer is TwiML.
func (s *Server) twilioVoice(w http.ResponseWriter, r *http.Request) error {
	if err := s.twilioForm(w, r); err != nil {
		return err
	}
	call, ok := voiceShaped(r.PostForm, s.opt.AccountSID)
	q := r.URL.Query()
	if !ok || len(q["step"]) > 1 {
		return errBadRequest
	}
	if s.opt.Voice == nil {
		return fault.New(fault.Unavailable, "not configured")
	}
	var doc string
	var err error
	switch q.Get("step") {
	case "":
		doc, err = s.opt.Voice.Answer(r.Context(), call)
	case voice.StepChoice:
		digits := r.PostForm.Get("Digits")
		limited, ok := queryFlag(q, voice.QueryLimited)
		if !ok || len(r.PostForm["Digits"]) > 1 || len(digits) > 1 || (digits != "" && !isKey(digits[0])) {
			return errBadRequest
		}
		call.Limited = limited
		doc, err = s.opt.Voice.Choice(r.Context(), call, digits)
	case voice.StepDone:
		doc, err = s.opt.Voice.Goodbye(r.Context(), call)
	default:
		return errBadRequest
	}
	if err != nil {
		return err
	}
	return writeXML(w, doc)
}

// queryFlag reads a flag of the channel's own URLs: absent, or once as 1.
func queryFlag(q url.Values, k string) (set, ok bool) {
	v, present := q[k]
	switch {
	case !present:
		return false, true
	case len(v) == 1 && v[0] == "1":
		return true, true
	}
	return false, false
}

func isKey(b byte) bool { return b >= '0' && b <= '9' || b == '*' || b == '#' }

// recordingStatuses are those Twilio reports.
var recordingStatuses = map[string]bool{"in-progress": true, "completed": true, "absent": true, "failed": true}

// twilioRecording is the recording status callback. It answers 204 once
// the recording's tip is durable (or there is nothing to queue), and 5xx
// otherwise.
func (s *Server) twilioRecording(w http.ResponseWriter, r *http.Request) error {
	if err := s.twilioForm(w, r); err != nil {
		return err
	}
	rec, ok := recordingShaped(r.PostForm, s.opt.AccountSID)
	q := r.URL.Query()
	urgent, ok1 := queryFlag(q, "urgent")
	limited, ok2 := queryFlag(q, voice.QueryLimited)
	if !ok || !ok1 || !ok2 {
		return errBadRequest
	}
	rec.Urgent, rec.Limited = urgent, limited
	if s.opt.Voice == nil {
		return fault.New(fault.Unavailable, "not configured")
	}
	if _, err := s.opt.Voice.Recording(r.Context(), rec); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// recordingShaped checks a recording status callback for Twilio's shape.
func recordingShaped(f url.Values, account string) (voice.Recording, bool) {
	call, ok := voiceShaped(f, account)
	if !ok {
		return voice.Recording{}, false
	}
	sid, ok1 := one(f, "RecordingSid")
	u, ok2 := one(f, "RecordingUrl")
	status, ok3 := one(f, "RecordingStatus")
	if !ok1 || !ok2 || !ok3 || !twilioapi.ValidRecordingSID(sid) || !recordingStatuses[status] || len(u) > 1024 {
		return voice.Recording{}, false
	}
	d := 0
	if v, ok := f["RecordingDuration"]; ok {
		n, err := strconv.Atoi(v[0])
		if len(v) != 1 || err != nil || n < 0 || n > 24*3600 || strconv.Itoa(n) != v[0] {
			return voice.Recording{}, false
		}
		d = n
	}
	return voice.Recording{CallSID: call.SID, SID: sid, URL: u, DurationS: d, Status: status}, true
}

func writeXML(w http.ResponseWriter, doc string) error {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write([]byte(doc))
	return err
}

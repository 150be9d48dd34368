package handlers

import (
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hotline-org/hotline/gateway/fault"
	"github.com/hotline-org/hotline/gateway/sms"
)

// SMSChannel is the SMS and WhatsApp channel (gateway/sms).
type SMSChannel interface {
	Receive(ctx context.Context, m sms.Message) (sms.Result, error)
	Reply(ctx context.Context, agency, caseRef, tipID, officer, text, override string) error
	DeliveryStatus(ctx context.Context, sid, status, code string) error
}

// numberGeography are Twilio's guesses about the sender's number. They go
// into the sealed report for the officer and are never used for routing.
var numberGeography = []string{"FromCity", "FromState", "FromZip", "FromCountry"}

// maxMedia is Twilio's own cap on media per message.
const maxMedia = 10

// twilioForm reads and authenticates a Twilio webhook. The signature is
// checked before anything else is done with the request, against the
// configured public URL: the Host header is the client's to choose.
func (s *Server) twilioForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBody)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return errBadRequest
	}
	// The body alone, into PostForm: what ParseForm does, without the URL's
	// query and the copy of both into r.Form, which nothing here reads.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return bodyError(err)
	}
	if r.PostForm, err = url.ParseQuery(string(body)); err != nil {
		return errBadRequest
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !s.validSignature(r, sig) {
		return errForbidden
	}
	return nil
}

// messageSID is the shape of Twilio's message ids.
var messageSID = regexp.MustCompile(`^(SM|MM)[0-9a-f]{32}$`)

// twilioShaped checks a signed Messaging webhook for Twilio's own shape.
// The signature covers the sorted keys and values run together without
// separators, so a captured webhook can be re-split between parameters
// ("MessageSid" SM… "NumMedia" 0 becomes "MessageSid" SM…NumMedia0) and
// keep its signature: a new message id would then make it a new tip. Ids
// of their exact shape, and the account's own AccountSid, leave no room
// for moved characters. account "" (not configured) is not compared.
func twilioShaped(f url.Values, account string) bool {
	id := ""
	for _, k := range []string{"MessageSid", "SmsSid", "SmsMessageSid"} {
		v, ok := f[k]
		if !ok {
			continue
		}
		// Twilio sends one id under each name: the same one.
		if len(v) != 1 || !messageSID.MatchString(v[0]) || id != "" && v[0] != id {
			return false
		}
		id = v[0]
	}
	if _, ok := f["MessageSid"]; !ok {
		if _, ok := f["SmsSid"]; !ok {
			return false
		}
	}
	if account != "" {
		if v, ok := f["AccountSid"]; !ok || len(v) != 1 || v[0] != account {
			return false
		}
	}
	return true
}

// twilioSMS is the Messaging webhook for SMS, MMS and WhatsApp.
func (s *Server) twilioSMS(w http.ResponseWriter, r *http.Request) error {
	if err := s.twilioForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
	if !twilioShaped(f, s.opt.AccountSID) {
		return errBadRequest
	}
	sid := f.Get("MessageSid")
	if sid == "" {
		sid = f.Get("SmsSid")
	}
	from := f.Get("From")
	if sid == "" || from == "" {
		return errBadRequest
	}
	m := sms.Message{SID: sid, From: from, To: f.Get("To"), Body: f.Get("Body")}
	if strings.HasPrefix(from, "whatsapp:") {
		m.ProfileName = f.Get("ProfileName")
		m.Latitude, m.Longitude = f.Get("Latitude"), f.Get("Longitude")
		m.Address = strings.TrimSpace(f.Get("Label") + " " + f.Get("Address"))
	}
	for _, k := range numberGeography {
		if v := f.Get(k); v != "" {
			if m.NumberGeography == nil {
				m.NumberGeography = map[string]string{}
			}
			m.NumberGeography[k] = v
		}
	}
	if n, err := strconv.Atoi(f.Get("NumMedia")); err == nil && n > 0 {
		for i := range min(n, maxMedia) {
			if u := f.Get("MediaUrl" + strconv.Itoa(i)); u != "" {
				m.Media = append(m.Media, sms.MediaRef{URL: u, ContentType: f.Get("MediaContentType" + strconv.Itoa(i))})
			}
		}
	}
	if s.opt.SMS == nil {
		return fault.New(fault.Unavailable, "not configured")
	}
	res, err := s.opt.SMS.Receive(r.Context(), m)
	if err != nil {
		return err
	}
	// Rate-limited and opted-out messages get an empty answer: 200, so
	// Twilio does not retry, and no message to the phone.
	return writeTwiML(w, res.Reply)
}

// twilioStatus records the delivery of an officer's reply. It answers 200
// even for a message it does not know, so that Twilio does not retry.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) error {
	if err := s.twilioForm(w, r); err != nil {
		return err
	}
	sid := r.PostForm.Get("MessageSid")
	if sid == "" {
		return errBadRequest
	}
	if s.opt.SMS != nil {
		if err := s.opt.SMS.DeliveryStatus(r.Context(), sid, r.PostForm.Get("MessageStatus"), r.PostForm.Get("ErrorCode")); err != nil {
			s.opt.Logger.Info("delivery status not recorded", "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) validSignature(r *http.Request, sig string) bool {
	return ValidTwilioSignature(s.opt.AuthToken, strings.TrimRight(s.opt.PublicURL, "/")+r.URL.RequestURI(), r.PostForm, sig)
}

// writeTwiML answers with the TwiML of twiml.Messages (one Message verb,
// or none), written straight rather than through its XML document, which
// costs a document tree and a 4 KiB buffer per answer; encoding/xml
// escapes the text (TestTwiMLAsTwilioGoWritesIt: the same XML).
func writeTwiML(w http.ResponseWriter, reply string) error {
	if reply == "" {
		return writeXML(w, twimlEmpty)
	}
	var b strings.Builder
	b.Grow(len(twimlHead) + len(reply) + len(twimlTail) + 32)
	b.WriteString(twimlHead)
	if strings.Contains(reply, "\r") {
		// What an XML reader makes of twiml.Messages' raw line ends.
		reply = strings.ReplaceAll(strings.ReplaceAll(reply, "\r\n", "\n"), "\r", "\n")
	}
	if err := xml.EscapeText(&b, []byte(reply)); err != nil {
		return err
	}
	b.WriteString(twimlTail)
	return writeXML(w, b.String())
}

const (
	twimlEmpty = `<?xml version="1.0" encoding="UTF-8"?><Response/>`
	twimlHead  = `<?xml version="1.0" encoding="UTF-8"?><Response><Message>`
	twimlTail  = `</Message></Response>`
)

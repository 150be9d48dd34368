package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/gateway/sms"
	twclient "github.com/twilio/twilio-go/client"
	"github.com/twilio/twilio-go/twiml"
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
	if err := r.ParseForm(); err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return err
		}
		return errBadRequest
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !s.validSignature(r, sig) {
		return errForbidden
	}
	return nil
}

// twilioSMS is the Messaging webhook for SMS, MMS and WhatsApp.
func (s *Server) twilioSMS(w http.ResponseWriter, r *http.Request) error {
	if err := s.twilioForm(w, r); err != nil {
		return err
	}
	f := r.PostForm
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
	if s.opt.SMS != nil {
		res, err := s.opt.SMS.Receive(r.Context(), m)
		if err != nil {
			return err
		}
		// Rate-limited and opted-out messages get an empty answer: 200, so
		// Twilio does not retry, and no message to the phone.
		return writeTwiML(w, res.Reply)
	}
	return s.intakeDirect(w, r, m)
}

// intakeDirect queues a message straight through the intake, for a gateway
// built without the SMS channel (tests of the intake path, tools).
func (s *Server) intakeDirect(w http.ResponseWriter, r *http.Request, m sms.Message) error {
	t := gateway.Tip{Channel: gateway.ChannelSMS, ProviderID: m.SID, From: m.From, To: m.To,
		Text: m.Body, NumberGeography: m.NumberGeography, ReceivedAt: time.Now()}
	if strings.HasPrefix(m.From, "whatsapp:") {
		t.Channel, t.ProfileName = gateway.ChannelWhatsApp, m.ProfileName
		t.Hints = geo.Hints{Latitude: m.Latitude, Longitude: m.Longitude, Source: geo.SourcePin}
		if m.Address != "" {
			t.Text = strings.TrimSpace(t.Text + "\n" + m.Address)
		}
	}
	for _, ref := range m.Media {
		t.Media = append(t.Media, gateway.Media{URL: ref.URL, ContentType: ref.ContentType})
	}
	if strings.TrimSpace(t.Text) == "" && t.Hints.Latitude == "" && len(t.Media) == 0 {
		return writeTwiML(w, "")
	}
	rcpt, err := s.opt.Intake.Submit(r.Context(), t)
	if err != nil {
		return err
	}
	return writeTwiML(w, s.replyText(strings.TrimPrefix(t.To, "whatsapp:"), rcpt.Case))
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
	params := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	v := twclient.NewRequestValidator(string(s.opt.AuthToken))
	return v.Validate(strings.TrimRight(s.opt.PublicURL, "/")+r.URL.RequestURI(), params, sig)
}

// DefaultReply is short and neutral: whoever holds the phone may read it,
// so it says nothing about what was reported or to whom.
const DefaultReply = "Received. Ref {case}"

func (s *Server) replyText(to, caseRef string) string {
	text := DefaultReply
	if nr, ok := s.opt.Replies[to]; ok && nr.Text != "" {
		text = nr.Text
	}
	if text == "none" || caseRef == "" {
		return ""
	}
	return strings.ReplaceAll(text, "{case}", caseRef)
}

func writeTwiML(w http.ResponseWriter, reply string) error {
	var verbs []twiml.Element
	if reply != "" {
		verbs = append(verbs, &twiml.MessagingMessage{Body: reply})
	}
	doc, err := twiml.Messages(verbs)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write([]byte(doc))
	return err
}

package handlers

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/geo"
	twclient "github.com/twilio/twilio-go/client"
	"github.com/twilio/twilio-go/twiml"
)

// numberGeography are Twilio's guesses about the sender's number. They go
// into the sealed report for the officer and are never used for routing.
var numberGeography = []string{"FromCity", "FromState", "FromZip", "FromCountry"}

// maxMedia is Twilio's own cap on media per message.
const maxMedia = 10

// twilioSMS is the Messaging webhook for SMS, MMS and WhatsApp.
func (s *Server) twilioSMS(w http.ResponseWriter, r *http.Request) error {
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
	// The signature is checked before anything else is done with the
	// request, against the configured public URL: the Host header is the
	// client's to choose.
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || !s.validSignature(r, sig) {
		return errForbidden
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
	t := gateway.Tip{
		Channel:    gateway.ChannelSMS,
		ProviderID: sid,
		From:       from,
		To:         f.Get("To"),
		Text:       f.Get("Body"),
		ReceivedAt: time.Now(),
	}
	if strings.HasPrefix(from, "whatsapp:") {
		t.Channel = gateway.ChannelWhatsApp
		t.ProfileName = f.Get("ProfileName")
		t.Hints = geo.Hints{Latitude: f.Get("Latitude"), Longitude: f.Get("Longitude"), Source: geo.SourcePin}
		if a := f.Get("Address"); a != "" {
			t.Text = strings.TrimSpace(t.Text + "\n" + a)
		}
	}
	for _, k := range numberGeography {
		if v := f.Get(k); v != "" {
			if t.NumberGeography == nil {
				t.NumberGeography = map[string]string{}
			}
			t.NumberGeography[k] = v
		}
	}
	if n, err := strconv.Atoi(f.Get("NumMedia")); err == nil && n > 0 {
		for i := range min(n, maxMedia) {
			if u := f.Get("MediaUrl" + strconv.Itoa(i)); u != "" {
				t.Media = append(t.Media, gateway.Media{URL: u, ContentType: f.Get("MediaContentType" + strconv.Itoa(i))})
			}
		}
	}
	if strings.TrimSpace(t.Text) == "" && t.Hints.Latitude == "" && len(t.Media) == 0 {
		// Nothing to queue (an empty message): answer without a reply.
		return writeTwiML(w, "")
	}
	rcpt, err := s.opt.Intake.Submit(r.Context(), t)
	if err != nil {
		return err
	}
	return writeTwiML(w, s.replyText(strings.TrimPrefix(t.To, "whatsapp:"), rcpt.Case))
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

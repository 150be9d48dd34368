package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/queue"
)

func TestTwilioWebhook(t *testing.T) {
	whatsappPin := smsForm("SMpin", "whatsapp:+51987654321", "")
	whatsappPin.Set("To", "whatsapp:"+gatewaytest.NumberLima)
	whatsappPin.Set("Latitude", "3.1478")
	whatsappPin.Set("Longitude", "101.6953")
	whatsappPin.Set("ProfileName", "Ana")
	mms := smsForm("SMmms", "+51987654321", "look")
	mms.Set("NumMedia", "1")
	mms.Set("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1")
	mms.Set("MediaContentType0", "image/jpeg")
	noReply := smsForm("SMquiet", "+51987654321", "help")
	noReply.Set("To", gatewaytest.NumberNone)
	withQuery := smsForm("SMq", "+51987654321", "help")

	tests := []struct {
		name       string
		form       url.Values
		prep       func(*http.Request, url.Values)
		path       string
		status     int
		bodyHas    []string
		bodyHasNot []string
		queued     map[string]int // agency -> entries
	}{
		{name: "sms", form: smsForm("SM1", "+51987654321", "help -12.0857, -76.9397"), prep: addValidSignature,
			status: 200, bodyHas: []string{"<Response><Message>Received. Ref "}, queued: map[string]int{"pe-lima": 1, "pe-east": 1}},
		{name: "whatsapp pin", form: whatsappPin, prep: addValidSignature,
			status: 200, bodyHas: []string{"<Message>Recibido. Ref. "}, queued: map[string]int{"my-kl": 1}},
		{name: "mms", form: mms, prep: addValidSignature, status: 200, bodyHas: []string{"<Message>"}, queued: map[string]int{"pe-lima": 1}},
		{name: "replies off for the number", form: noReply, prep: addValidSignature,
			status: 200, bodyHas: []string{"<Response"}, bodyHasNot: []string{"<Message"}, queued: map[string]int{"pe-lima": 1}},
		{name: "query string is signed too", form: withQuery, prep: addValidSignature, path: "/twilio/sms?channel=a",
			status: 200, queued: map[string]int{"pe-lima": 1}},
		{name: "unsigned", form: smsForm("SM2", "+51987654321", "help"), prep: noSignature,
			status: 403, bodyHas: []string{"forbidden"}, bodyHasNot: []string{"help"}},
		{name: "forged signature", form: smsForm("SM3", "+51987654321", "help"), prep: addInvalidSignature, status: 403},
		{name: "signed for the Host header, not public_url", form: smsForm("SM4", "+51987654321", "help"), prep: signedForHost, status: 403},
		{name: "missing MessageSid", form: url.Values{"From": {"+51987654321"}, "Body": {"x"}}, prep: addValidSignature, status: 400},
		{name: "missing From", form: url.Values{"MessageSid": {"SM5"}, "Body": {"x"}}, prep: addValidSignature, status: 400},
		{name: "empty message: no reply, nothing queued", form: smsForm("SM6", "+51987654321", ""), prep: addValidSignature,
			status: 200, bodyHasNot: []string{"<Message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			path := tt.path
			if path == "" {
				path = "/twilio/sms"
			}
			req, _ := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			tt.prep(req, tt.form)
			status, body := do(t, req)
			if status != tt.status {
				t.Fatalf("status = %d, want %d (body %q)", status, tt.status, body)
			}
			for _, s := range tt.bodyHas {
				if !strings.Contains(body, s) {
					t.Errorf("body %q lacks %q", body, s)
				}
			}
			for _, s := range tt.bodyHasNot {
				if strings.Contains(body, s) {
					t.Errorf("body %q contains %q", body, s)
				}
			}
			for _, a := range []string{"pe-lima", "pe-east", "my-kl"} {
				n := 0
				for {
					_, err := h.Queue.Claim(context.Background(), a, "o")
					if errors.Is(err, queue.ErrEmpty) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					n++
				}
				if n != tt.queued[a] {
					t.Errorf("agency %s: %d entries, want %d", a, n, tt.queued[a])
				}
			}
		})
	}
}

func TestTwilioRetryAnsweredWithoutSecondEntry(t *testing.T) {
	h := newHarness(t)
	form := smsForm("SMretry", "+51987654321", "help")
	s1, b1 := h.postSMS(t, form, addValidSignature)
	s2, b2 := h.postSMS(t, form, addValidSignature)
	if s1 != 200 || s2 != 200 || b1 != b2 {
		t.Fatalf("first %d %q, retry %d %q: want the same 200 answer", s1, b1, s2, b2)
	}
	if _, err := h.Queue.Claim(context.Background(), "pe-lima", "o"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Queue.Claim(context.Background(), "pe-lima", "o"); !errors.Is(err, queue.ErrEmpty) {
		t.Fatalf("a retry queued a second entry: %v", err)
	}
}

func TestTwilioOversizedBody(t *testing.T) {
	h := newHarness(t)
	form := smsForm("SMbig", "+51987654321", strings.Repeat("a", 70<<10))
	status, body := h.postSMS(t, form, addValidSignature)
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", status)
	}
	if strings.Contains(body, "aaaa") {
		t.Fatalf("413 body echoes the input")
	}
	if keys := h.Redis.Keys(t); len(keys) != 0 {
		t.Fatalf("an oversized request wrote %v", keys)
	}
}

func TestTwilioWrongContentType(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/twilio/sms", strings.NewReader(`{"Body":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	if status, _ := do(t, req); status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", status)
	}
}

func TestTwilioRedisDownIsAnError(t *testing.T) {
	h := newHarness(t)
	h.Redis.Client.Close()
	status, body := h.postSMS(t, smsForm("SMdown", "+51987654321", "help"), addValidSignature)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d (%q), want 503 so that Twilio uses its fallback URL", status, body)
	}
	if strings.Contains(body, "Message") {
		t.Fatalf("failure answered with a reply: %q", body)
	}
}

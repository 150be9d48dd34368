package handlers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkWebhookSMS measures a signed Twilio webhook end to end in
// process: signature check, intake, sealing, Redis.
func BenchmarkWebhookSMS(b *testing.B) {
	h := newHarness(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		form := smsForm(fmt.Sprintf("SMb%d", i), "+51987654321", "ayuda -12.0857, -76.9397 "+strings.Repeat("x", 200))
		benchWebhook(b, h, form.Encode(), func(r *http.Request) { addValidSignature(r, form) }, 200)
	}
}

// benchWebhook posts body to the SMS webhook, signed by sign, and fails
// unless it is answered want.
func benchWebhook(b *testing.B, h *harness, body string, sign func(*http.Request), want int) {
	req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sign(req)
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("status %d, want %d", rec.Code, want)
	}
}

// BenchmarkWebhookForged measures how cheaply a forged request is refused.
func BenchmarkWebhookForged(b *testing.B) {
	h := newHarness(b)
	form := smsForm("SMforged", "+51987654321", "x")
	body := form.Encode()
	b.ReportAllocs()
	forge := func(r *http.Request) { addInvalidSignature(r, url.Values{"a": {"b"}}) }
	for b.Loop() {
		benchWebhook(b, h, body, forge, 403)
	}
}

// BenchmarkClaimRoundTrip measures an officer's claim and release through
// the API (no decryption), against real Redis.
func BenchmarkClaimRoundTrip(b *testing.B) {
	h := newHarness(b)
	token := h.officer(b, "pe-lima")
	for i := range 50 {
		if s, _ := h.postSMS(b, smsForm(fmt.Sprintf("SMc%d", i), "+51987654321", "help"), addValidSignature); s != 200 {
			b.Fatal(s)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/tips/claim", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("claim status %d", rec.Code)
		}
		id := rec.Body.String()[strings.Index(rec.Body.String(), `"id":"`)+6:]
		id = id[:strings.IndexByte(id, '"')]
		req = httptest.NewRequest(http.MethodPost, "/api/v1/tips/"+id+"/release", strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer "+token)
		rec = httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("release status %d", rec.Code)
		}
	}
}

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
		req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		addValidSignature(req, form)
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkWebhookForged measures how cheaply a forged request is refused.
func BenchmarkWebhookForged(b *testing.B) {
	h := newHarness(b)
	form := smsForm("SMforged", "+51987654321", "x")
	body := form.Encode()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		addInvalidSignature(req, url.Values{"a": {"b"}})
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != 403 {
			b.Fatalf("status %d", rec.Code)
		}
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

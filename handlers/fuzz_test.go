package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/sms"
	"github.com/hotline-org/hotline/handlers"
	"github.com/hotline-org/hotline/queue"
	"github.com/hotline-org/hotline/queue/officer"
)

// stubIntake accepts every tip without Redis, so the fuzzer runs fast.
type stubIntake struct{}

func (stubIntake) Submit(ctx context.Context, t gateway.Tip) (gateway.Receipt, error) {
	if len(t.Text) > gateway.MaxTextBytes {
		return gateway.Receipt{}, gateway.ErrTooLong
	}
	return gateway.Receipt{TipID: "t", Case: "ABCD-EFGH"}, nil
}

// stubSMS queues every message through stubIntake, as the channel would,
// and acknowledges it.
type stubSMS struct{ handlers.SMSChannel }

func (stubSMS) Receive(ctx context.Context, m sms.Message) (sms.Result, error) {
	if m.Body == "" && m.Latitude == "" && len(m.Media) == 0 {
		return sms.Result{Outcome: sms.Empty}, nil
	}
	rcpt, err := stubIntake{}.Submit(ctx, gateway.Tip{Text: m.Body})
	if err != nil {
		return sms.Result{}, err
	}
	return sms.Result{Outcome: sms.Queued, Case: rcpt.Case, Reply: "Received. Ref " + rcpt.Case}, nil
}

type stubTriage struct{ handlers.Triage }

func (stubTriage) Authenticate(ctx context.Context, token string) (officer.Officer, error) {
	return officer.Officer{}, officer.ErrBadToken
}
func (stubTriage) Claim(ctx context.Context, agency, officer string) (*queue.Claimed, error) {
	return nil, queue.ErrEmpty
}
func (stubTriage) Ack(ctx context.Context, agency, tipID, officer string, d queue.Disposition) error {
	return nil
}
func (stubTriage) Release(ctx context.Context, agency, tipID, officer string) error { return nil }
func (stubTriage) Renew(ctx context.Context, agency, tipID, officer string) (time.Time, error) {
	return time.Time{}, nil
}

// FuzzTwilioWebhook feeds arbitrary bodies, signed and unsigned, to the
// webhook: it must never panic, answer only with the expected statuses, and
// never echo the input.
func FuzzTwilioWebhook(f *testing.F) {
	f.Add("MessageSid=SM1&From=%2B51987654321&To=%2B15005550006&Body=help", true)
	f.Add("MessageSid=SM1&From=whatsapp%3A%2B51987654321&Latitude=-12.08&Longitude=-76.93&NumMedia=1&MediaUrl0=x", true)
	f.Add("Body=%ff%fe&From=&MessageSid=", true)
	f.Add("a=1&a=2&a=3;b", false)
	f.Add("%", true)
	f.Add("NumMedia=99999999999999999999&MessageSid=S&From=F", true)
	f.Add("AccountSid="+fakeSID+"&MessageSid=SM0123456789abcdef0123456789abcdef&From=%2B51987654321&Body=help", true)
	f.Add("AccountSid="+fakeSID+"&MessageSid=SM0123456789abcdef0123456789abcdefNumMedia0&From=%2B51987654321&Body=help", true)
	f.Add("AccountSid="+fakeSID+"&SmsSid=MM0123456789abcdef0123456789abcdef&From=%2B51987654321&Body=help", true)
	h := handlers.New(handlers.Options{Intake: stubIntake{}, Triage: stubTriage{}, Officers: stubTriage{}, SMS: stubSMS{}, PublicURL: publicURL,
		AuthToken: []byte(authToken), AccountSID: fakeSID, MaxBody: 64 << 10})
	f.Fuzz(func(t *testing.T, body string, sign bool) {
		req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if sign {
			if form, err := url.ParseQuery(body); err == nil {
				addValidSignature(req, form)
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 403, 413:
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		out := rec.Body.String()
		if rec.Code != 200 && len(body) >= 8 && strings.Contains(out, body) {
			t.Fatalf("error response echoes the input")
		}
		if rec.Code == 200 && !strings.HasPrefix(out, "<?xml") {
			t.Fatalf("200 without TwiML: %q", out)
		}
		// Only a webhook of Twilio's shape is taken (parameter shifting).
		if rec.Code == 200 {
			form, _ := url.ParseQuery(body)
			ids := map[string]bool{}
			for _, k := range []string{"MessageSid", "SmsSid", "SmsMessageSid"} {
				if v, ok := form[k]; ok {
					if len(v) != 1 || !sidShape.MatchString(v[0]) {
						t.Fatalf("taken with %s not of Twilio's shape", k)
					}
					ids[v[0]] = true
				}
			}
			if len(ids) != 1 {
				t.Fatalf("taken with %d message ids", len(ids))
			}
			if form.Get("AccountSid") != fakeSID {
				t.Fatal("taken with another account's AccountSid")
			}
		}
	})
}

package gateway_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline-org/hotline/gateway"
	"github.com/hotline-org/hotline/gateway/gatewaytest"
	"github.com/hotline-org/hotline/gateway/geo"
	"github.com/hotline-org/hotline/queue"
)

func claimAll(t *testing.T, s *gatewaytest.Stack, agency string) []*queue.Claimed {
	t.Helper()
	var out []*queue.Claimed
	for {
		c, err := s.Queue.Claim(context.Background(), agency, "officer")
		if errors.Is(err, queue.ErrEmpty) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
}

func TestRouting(t *testing.T) {
	tests := []struct {
		name     string
		tip      gateway.Tip
		agencies []string
		reason   string
		region   map[string]string
	}{
		{"coordinates in Lima", gateway.Tip{Text: "estamos en -12.31, -77.12 ayuda", To: gatewaytest.NumberNone},
			[]string{gatewaytest.Lima}, gateway.ReasonLocation, map[string]string{gatewaytest.Lima: "lima"}},
		{"overlap gets a copy each", gateway.Tip{Text: "-12.0857, -76.9397", To: gatewaytest.NumberNone},
			[]string{gatewaytest.Lima, gatewaytest.Overlap}, gateway.ReasonLocation,
			map[string]string{gatewaytest.Lima: "lima", gatewaytest.Overlap: "lima-east"}},
		{"coordinates in KL beat the number's region", gateway.Tip{Text: "kami di 3.1478, 101.6953", To: gatewaytest.NumberLima},
			[]string{gatewaytest.KL}, gateway.ReasonLocation, map[string]string{gatewaytest.KL: "kuala-lumpur"}},
		{"WhatsApp pin", gateway.Tip{Channel: gateway.ChannelWhatsApp, Text: "here",
			Hints: geo.Hints{Latitude: "3.15", Longitude: "101.7", Source: geo.SourcePin}, To: gatewaytest.NumberLima},
			[]string{gatewaytest.KL}, gateway.ReasonLocation, nil},
		{"no location: the number's region", gateway.Tip{Text: "help us", To: gatewaytest.NumberLima},
			[]string{gatewaytest.Lima}, gateway.ReasonNumberRegion, map[string]string{gatewaytest.Lima: "lima"}},
		{"no location, by WhatsApp: the number's region", gateway.Tip{Text: "help us", To: "whatsapp:" + gatewaytest.NumberLima},
			[]string{gatewaytest.Lima}, gateway.ReasonNumberRegion, map[string]string{gatewaytest.Lima: "lima"}},
		{"no location, no number region: default", gateway.Tip{Text: "help us", To: gatewaytest.NumberNone},
			[]string{gatewaytest.Lima}, gateway.ReasonNoLocation, map[string]string{gatewaytest.Lima: ""}},
		{"location nobody covers: default", gateway.Tip{Text: "48.8566, 2.3522", To: gatewaytest.NumberLima},
			[]string{gatewaytest.Lima}, gateway.ReasonUncovered, map[string]string{gatewaytest.Lima: ""}},
		{"unresolvable short link: the number's region", gateway.Tip{Text: "aqui https://maps.app.goo.gl/AbCdEf123", To: gatewaytest.NumberLima},
			[]string{gatewaytest.Lima}, gateway.ReasonNumberRegion, map[string]string{gatewaytest.Lima: "lima"}},
		{"unresolvable short link, no number region: default", gateway.Tip{Text: "aqui https://maps.app.goo.gl/AbCdEf123", To: gatewaytest.NumberNone},
			[]string{gatewaytest.Lima}, gateway.ReasonUnusable, map[string]string{gatewaytest.Lima: ""}},
		{"Twilio's FromCity is never used", gateway.Tip{Text: "help", To: gatewaytest.NumberNone,
			NumberGeography: map[string]string{"FromCity": "KUALA LUMPUR", "FromCountry": "MY"}},
			[]string{gatewaytest.Lima}, gateway.ReasonNoLocation, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := gatewaytest.New(t)
			if tt.tip.Channel == "" {
				tt.tip.Channel = gateway.ChannelSMS
			}
			tt.tip.From = "+51987654321"
			rcpt, err := s.Intake.Submit(context.Background(), tt.tip)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sorted(rcpt.Agencies), sorted(tt.agencies)) {
				t.Fatalf("agencies = %v, want %v", rcpt.Agencies, tt.agencies)
			}
			for _, a := range []string{gatewaytest.Lima, gatewaytest.KL, gatewaytest.Overlap} {
				got := claimAll(t, s, a)
				want := slices.Contains(tt.agencies, a)
				if want != (len(got) == 1) || len(got) > 1 {
					t.Fatalf("agency %s got %d entries, want %v", a, len(got), want)
				}
				if len(got) == 0 {
					continue
				}
				c := got[0]
				if r, ok := tt.region[a]; ok && c.Region != r {
					t.Errorf("agency %s: clear region = %q, want %q", a, c.Region, r)
				}
				rep := s.Open(t, c)
				if rep.Text != tt.tip.Text || rep.From != "+51987654321" || rep.Case != rcpt.Case || rep.TipID != rcpt.TipID {
					t.Errorf("sealed report = %+v", rep)
				}
				if rep.Routing.Reason != tt.reason {
					t.Errorf("routing reason = %q, want %q", rep.Routing.Reason, tt.reason)
				}
				if c.Case != rcpt.Case || c.TipID != rcpt.TipID {
					t.Errorf("entry ids %s/%s, receipt %s/%s", c.TipID, c.Case, rcpt.TipID, rcpt.Case)
				}
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestSealedReportCarriesEverything(t *testing.T) {
	s := gatewaytest.New(t)
	tip := gateway.Tip{
		Channel: gateway.ChannelSMS, ProviderID: "SM0123", From: "+60123456789", To: gatewaytest.NumberLima,
		Text: "locked in, 3.1478, 101.6953", NumberGeography: map[string]string{"FromCountry": "MY"},
		Media: []gateway.Media{{URL: "https://api.twilio.com/x/Media/ME1", ContentType: "image/jpeg"}},
	}
	if _, err := s.Intake.Submit(context.Background(), tip); err != nil {
		t.Fatal(err)
	}
	got := claimAll(t, s, gatewaytest.KL)
	if len(got) != 1 {
		t.Fatalf("got %d entries", len(got))
	}
	rep := s.Open(t, got[0])
	if rep.From != tip.From || rep.To != tip.To || rep.NumberGeography["FromCountry"] != "MY" ||
		len(rep.Media) != 1 || rep.Media[0].URL != tip.Media[0].URL {
		t.Fatalf("report lost fields: %+v", rep)
	}
	if rep.Location == nil || rep.Location.Source != geo.SourceDecimal || rep.Location.Lat != 3.1478 ||
		!strings.Contains(rep.Location.Match, "3.1478") {
		t.Fatalf("location = %+v", rep.Location)
	}
	if got[0].Channel != "sms" || !got[0].ReplyCapable || got[0].Priority != queue.Normal {
		t.Fatalf("clear metadata = %+v", got[0].Entry)
	}
}

func TestDuplicateProviderMessageQueuedOnce(t *testing.T) {
	s := gatewaytest.New(t)
	tip := gateway.Tip{Channel: gateway.ChannelSMS, ProviderID: "SMdup", From: "+51987654321", Text: "help", To: gatewaytest.NumberLima}
	first, err := s.Intake.Submit(context.Background(), tip)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Intake.Submit(context.Background(), tip)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Duplicate || second.Case != first.Case {
		t.Fatalf("retry receipt = %+v, want duplicate of %s", second, first.Case)
	}
	if n := len(claimAll(t, s, gatewaytest.Lima)); n != 1 {
		t.Fatalf("queued %d entries for one message, want 1", n)
	}
}

func TestUrgentAndLimits(t *testing.T) {
	s := gatewaytest.New(t)
	ctx := context.Background()
	if _, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "   "}); !errors.Is(err, gateway.ErrEmpty) {
		t.Errorf("blank tip: err = %v, want ErrEmpty", err)
	}
	long := strings.Repeat("x", gateway.MaxTextBytes+1)
	if _, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: long}); !errors.Is(err, gateway.ErrTooLong) {
		t.Errorf("long tip: err = %v, want ErrTooLong", err)
	}
	if _, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "normal one"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "now!", Urgent: true}); err != nil {
		t.Fatal(err)
	}
	got := claimAll(t, s, gatewaytest.Lima)
	if len(got) != 2 || got[0].Priority != queue.Urgent || got[1].Priority != queue.Normal {
		t.Fatalf("claims = %d, first priority %v", len(got), got[0].Priority)
	}
	if got[0].ReplyCapable {
		t.Errorf("a web tip is marked reply-capable")
	}
}

// failingPublisher fails the n-th publish, to test partial failures.
type failingPublisher struct {
	gateway.Publisher
	failAt, calls int
}

func (f *failingPublisher) Publish(ctx context.Context, e queue.Entry) error {
	f.calls++
	if f.calls == f.failAt {
		return queue.ErrUnavailable
	}
	return f.Publisher.Publish(ctx, e)
}

func TestPartialFailureThenRetryQueuesEachCopyOnce(t *testing.T) {
	var fp *failingPublisher
	s := gatewaytest.New(t, func(o *gateway.Options) {
		fp = &failingPublisher{Publisher: o.Publisher, failAt: 2}
		o.Publisher = fp
	})
	tip := gateway.Tip{Channel: gateway.ChannelSMS, ProviderID: "SMpartial", From: "+51987654321",
		Text: "-12.0857, -76.9397", To: gatewaytest.NumberNone}
	if _, err := s.Intake.Submit(context.Background(), tip); !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("first attempt: err = %v, want ErrUnavailable", err)
	}
	rcpt, err := s.Intake.Submit(context.Background(), tip)
	if err != nil || rcpt.Duplicate {
		t.Fatalf("retry = %+v, %v; want a fresh success", rcpt, err)
	}
	for _, a := range []string{gatewaytest.Lima, gatewaytest.Overlap} {
		if n := len(claimAll(t, s, a)); n != 1 {
			t.Errorf("agency %s has %d entries after a failure and a retry, want 1", a, n)
		}
	}
}

func TestRedisDownAnswersUnavailable(t *testing.T) {
	s := gatewaytest.New(t)
	s.Redis.Client.Close()
	_, err := s.Intake.Submit(context.Background(), gateway.Tip{Channel: gateway.ChannelSMS, ProviderID: "SMx", Text: "help", From: "+51987654321"})
	if !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	_, err = s.Intake.Submit(context.Background(), gateway.Tip{Channel: gateway.ChannelWeb, Text: "help"})
	if !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("web: err = %v, want ErrUnavailable", err)
	}
}

func TestCaseReferencesAreReadable(t *testing.T) {
	s := gatewaytest.New(t)
	seen := map[string]bool{}
	for range 50 {
		r, err := s.Intake.Submit(context.Background(), gateway.Tip{Channel: gateway.ChannelWeb, Text: "x", ReceivedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Case) != 9 || r.Case[4] != '-' || strings.ContainsAny(r.Case, "01IO") {
			t.Fatalf("case %q is not XXXX-XXXX without 0, 1, I, O", r.Case)
		}
		if seen[r.Case] {
			t.Fatalf("case %q repeated", r.Case)
		}
		seen[r.Case] = true
	}
}

// TestTipOfAKnownCase: a tip may name its case (a witness's answer on
// /followup) and the agencies working it; it is then filed and routed so,
// whatever its text says.
func TestTipOfAKnownCase(t *testing.T) {
	s := gatewaytest.New(t)
	ctx := context.Background()
	ref := gateway.NewCaseRef()
	if !gateway.ValidCaseRef(ref) {
		t.Fatalf("NewCaseRef() = %q is not valid", ref)
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFG1", "abcd-efgh", "ABCD_EFGH", "ABCD-EFGHI"} {
		if gateway.ValidCaseRef(bad) {
			t.Errorf("ValidCaseRef(%q) = true", bad)
		}
	}
	rcpt, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "answer: twelve people, Lima -12.05 -77.04",
		Case: ref, Agencies: []string{gatewaytest.KL}, Followup: "abcdefghijklmnopqrstuvwxyz"})
	if err != nil || rcpt.Case != ref {
		t.Fatalf("Submit = %+v, %v", rcpt, err)
	}
	c, err := s.Queue.Claim(ctx, gatewaytest.KL, "o")
	if err != nil {
		t.Fatalf("the tip did not go to the case's agency: %v", err)
	}
	rep := s.Open(t, c)
	if rep.Case != ref || rep.Routing.Reason != gateway.ReasonCase || rep.Followup != "abcdefghijklmnopqrstuvwxyz" {
		t.Errorf("report %+v", rep)
	}
	if _, err := s.Intake.Submit(ctx, gateway.Tip{Channel: gateway.ChannelWeb, Text: "x", Case: "not-a-case"}); !errors.Is(err, gateway.ErrBadCase) {
		t.Errorf("malformed case: %v, want ErrBadCase", err)
	}
}
